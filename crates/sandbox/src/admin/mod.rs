//! The operator's and the simulated patient's side: the patient's phone inbox, fault injection,
//! scan-and-share, and a look at the simulator's state.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::Shared;

pub(crate) mod peers;
use crate::domain::state::Faults;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/phone", get(phone))
        .route("/admin/faults", get(get_faults).put(put_faults))
        .route("/admin/accounts", get(accounts))
        .route("/admin/share", post(share))
        .route("/admin/shares/{id}", get(share_status))
        .route("/admin/gateway-token", post(gateway_token))
        .route("/admin/clients/{id}/secret", post(set_client_secret))
        .route(
            "/admin/hiu-notifications",
            get(|State(app): State<Shared>| async move {
                Json(json!(app.state().hiu_notifications))
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
}

#[derive(Deserialize)]
struct PhoneQuery {
    to: Option<String>,
}

/// `GET /phone[?to=<mobile>]`: every SMS the simulated patients received, newest last.
async fn phone(State(app): State<Shared>, Query(q): Query<PhoneQuery>) -> Json<Value> {
    let state = app.state();
    let wanted =
        q.to.as_deref()
            .and_then(|m| abdm::ids::Mobile::parse(m).ok());
    let messages: Vec<_> = state
        .phone
        .iter()
        .filter(|m| wanted.as_ref().map(|w| w.digits() == m.to).unwrap_or(true))
        .collect();
    Json(json!(messages))
}

#[derive(Deserialize)]
pub(crate) struct Sms {
    to: String,
    text: String,
}

/// `POST /sms/send {to, text}`: the SMS provider a clinic uses (for link OTPs); the message lands
/// on the simulated phone, with any six-digit code in it picked out for test harnesses.
pub(crate) async fn sms_send(State(app): State<Shared>, Json(sms): Json<Sms>) -> Response {
    let Ok(mobile) = abdm::ids::Mobile::parse(&sms.to) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "not a 10-digit Indian mobile number"})),
        )
            .into_response();
    };
    if sms.text.trim().is_empty() || sms.text.len() > 1000 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "a message of 1 to 1000 characters is needed"})),
        )
            .into_response();
    }
    let otp = sms
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(String::from);
    app.state().send_sms(mobile.digits(), sms.text, otp, None);
    (StatusCode::ACCEPTED, Json(json!({"status": "queued"}))).into_response()
}

async fn get_faults(State(app): State<Shared>) -> Json<Faults> {
    Json(app.faults().clone())
}

async fn put_faults(State(app): State<Shared>, Json(faults): Json<Faults>) -> Json<Faults> {
    tracing::info!(?faults, "fault injection changed");
    *app.faults() = faults.clone();
    Json(faults)
}

async fn accounts(State(app): State<Shared>) -> Json<Value> {
    let state = app.state();
    Json(json!(state.accounts.values().collect::<Vec<_>>()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShareRequest {
    abha: String,
    hip_id: String,
    counter_id: Option<String>,
}

/// `POST /admin/share {abha, hipId, counterId?}`: the patient scans the clinic's counter QR.
async fn share(State(app): State<Shared>, Json(request): Json<ShareRequest>) -> Response {
    match crate::v0_5::gateway::share_profile(
        &app,
        &request.abha,
        &request.hip_id,
        request.counter_id,
    ) {
        Ok(id) => (StatusCode::ACCEPTED, Json(json!({"requestId": id}))).into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response(),
    }
}

async fn share_status(State(app): State<Shared>, Path(id): Path<Uuid>) -> Response {
    match app.state().shares.get(&id) {
        Some(share) => Json(json!(share)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such share"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GatewayTokenRequest {
    /// Issue it this many seconds in the past (an expired token for tests).
    #[serde(default)]
    issued_seconds_ago: u64,
}

/// `POST /admin/gateway-token`: the token the gateway puts on its own callbacks, for an operator
/// who wants to call a bridge as the gateway would (tests of the relay).
async fn gateway_token(State(app): State<Shared>, body: axum::body::Bytes) -> Json<Value> {
    let ago = serde_json::from_slice::<GatewayTokenRequest>(&body)
        .unwrap_or_default()
        .issued_seconds_ago;
    let token =
        app.issuer
            .session_token_at("gateway", crate::tokens::now_secs().saturating_sub(ago), 0);
    Json(json!({"accessToken": token}))
}

#[derive(Deserialize)]
struct NewSecret {
    secret: String,
}

/// `POST /admin/clients/{id}/secret {"secret"}`: the operator changes a client's secret and
/// revokes the tokens issued with the old one (a clinic whose credentials were rotated).
async fn set_client_secret(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<NewSecret>,
) -> Response {
    let mut state = app.state();
    match state.clients.get_mut(&id) {
        Some(client) => {
            client.secret = body.secret;
            client.generation += 1;
            StatusCode::NO_CONTENT.into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such client"})),
        )
            .into_response(),
    }
}
