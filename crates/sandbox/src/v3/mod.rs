//! The v3 mode: HIECM v3's paths and headers over the same domain as v0.5. A v3 call is checked
//! for its headers, turned into the v0.5 body (`calls`), and handled by the v0.5 handler; what
//! the gateway then sends a client that speaks v3 goes out in v3's form (`callbacks`). Where v3
//! differs in kind it has its own handler: the link token in one call, with ABDM's repeat guard
//! (`link_token`), care-context notifications, and the registry lookups.

mod abha;
pub mod callbacks;
mod calls;
mod linking;

pub use linking::GUARD as LINK_TOKEN_GUARD;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use abdm::v3::{self as wire, consent, data_flow, gateway, hip_linking, patient_share};
use abdm::v3::{link_token as token, user_linking};
use abdm::{Generation, Operation};

use crate::app::{accepted, Shared};
use crate::v0_5::{consent as cm, gateway as v05};

pub fn routes() -> Router<Shared> {
    let calls = [
        hip_linking::sms_notify::Endpoint::PATH,
        patient_share::on_share::Endpoint::PATH,
        user_linking::on_discover::Endpoint::PATH,
        user_linking::on_init::Endpoint::PATH,
        user_linking::on_confirm::Endpoint::PATH,
        consent::hip_on_notify::Endpoint::PATH,
        consent::request_init::Endpoint::PATH,
        consent::request_status::Endpoint::PATH,
        consent::hiu_on_notify::Endpoint::PATH,
        consent::fetch::Endpoint::PATH,
        data_flow::hip_on_request::Endpoint::PATH,
        data_flow::hiu_request::Endpoint::PATH,
        data_flow::notify::Endpoint::PATH,
    ];
    let mut router = abha::routes()
        .route(gateway::sessions::Endpoint::PATH, post(session))
        .route(gateway::certs::Endpoint::PATH, get(certs))
        .route(gateway::openid_configuration::Endpoint::PATH, get(openid))
        .route(gateway::bridge_url::Endpoint::PATH, patch(bridge_url))
        .route(
            gateway::bridge_services::Endpoint::PATH,
            get(bridge_services),
        )
        .route(
            "/v4/int/v1/bridges/MutipleHRPAddUpdateServices",
            post(v05::add_update_services),
        )
        .route(
            token::generate_token::Endpoint::PATH,
            post(linking::generate),
        )
        .route(
            hip_linking::carecontext::Endpoint::PATH,
            post(linking::carecontext),
        )
        .route(
            hip_linking::context_notify::Endpoint::PATH,
            post(linking::context_notify),
        );
    for path in calls {
        router = router.route(path, post(call));
    }
    router
}

/// A missing mandatory header: ABDM's API manager answers an empty 401 with a Basic challenge.
pub(crate) fn missing_header() -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Basic realm=\"Realm\""),
    );
    r
}

/// `REQUEST-ID` and `TIMESTAMP`, checked as the gateway checks them.
pub(crate) fn call_headers(
    app: &Shared,
    headers: &HeaderMap,
) -> Result<(String, String), Response> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(id), Some(time), Some(_)) = (get("request-id"), get("timestamp"), get("x-cm-id"))
    else {
        return Err(missing_header());
    };
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(app.error(StatusCode::BAD_REQUEST, "ABDM-2404", "Invalid request id"));
    }
    let fresh = abdm::Timestamp::parse(&time)
        .filter(|_| time.ends_with('Z'))
        .is_some_and(|t| (chrono::Utc::now() - t.0).num_minutes().abs() < 10);
    if !fresh {
        return Err(app.error(StatusCode::BAD_REQUEST, "ABDM-1016", "Invalid Timestamp"));
    }
    Ok((id, time))
}

/// Marks the caller as speaking v3: what the gateway sends it from now on is in v3's form.
fn speaks_v3(app: &Shared, client: &str) {
    if let Some(c) = app.state().clients.get_mut(client) {
        c.speaks = Generation::V3;
    }
    // Its ABHA calls come next: the service's key is begun now, and only for v3 clients.
    abha::prepare_key(app.config.abha_key_bits);
}

async fn session(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = call_headers(&app, &headers) {
        return r;
    }
    let client = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["clientId"].as_str().map(String::from));
    let response = v05::session(State(app.clone()), body).await;
    if response.status().is_success() {
        if let Some(client) = client {
            speaks_v3(&app, &client);
        }
    }
    response
}

/// v3 keeps the keys behind the bearer.
async fn certs(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = app.authorize(&headers, true) {
        return r;
    }
    v05::certs(State(app)).await.into_response()
}

async fn openid(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = app.authorize(&headers, true) {
        return r;
    }
    Json(json!({"jwks_uri": format!("{}{}", app.base_url, gateway::certs::Endpoint::PATH)}))
        .into_response()
}

async fn bridge_url(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let client = match app.authorize(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = call_headers(&app, &headers) {
        return r;
    }
    let response = v05::register_bridge(State(app.clone()), headers, body).await;
    if response.status().is_success() {
        speaks_v3(&app, &client);
    }
    response
}

async fn bridge_services(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let client = match app.authorize(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(r) = call_headers(&app, &headers) {
        return r;
    }
    let state = app.state();
    let bridge = state
        .clients
        .get(&client)
        .expect("authorized client exists");
    let mut services: Vec<_> = state
        .services
        .values()
        .filter(|s| s.client_id == client)
        .map(|s| wire::gateway::bridge_services::Service {
            id: s.id.clone(),
            name: s.name.clone(),
            types: s
                .types
                .iter()
                .map(|t| format!("{t:?}").to_uppercase())
                .collect(),
            active: s.active,
        })
        .collect();
    services.sort_by(|a, b| a.id.cmp(&b.id));
    Json(wire::gateway::bridge_services::Response {
        bridge: wire::gateway::bridge_services::Bridge {
            id: client.clone(),
            name: client.clone(),
            url: bridge.bridge_url.clone().unwrap_or_default(),
            active: true,
            blocklisted: false,
        },
        services,
    })
    .into_response()
}

/// A v3 call the v0.5 handler serves once its body is in v0.5's form.
async fn call(
    State(app): State<Shared>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The API manager checks the token before anything else.
    let client = match app.authorize(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (request_id, timestamp) = match call_headers(&app, &headers) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let v3: Value = match app.parse(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let bad = |message: &str| app.error(StatusCode::BAD_REQUEST, "ABDM-1006", message);
    let path = uri.path();
    let v05 = match path {
        p if p == hip_linking::sms_notify::Endpoint::PATH => match calls::sms_notify(&v3) {
            Ok(b) => b,
            Err(e) => return bad(&e),
        },
        p if p == patient_share::on_share::Endpoint::PATH => calls::on_share(&v3),
        p if p == user_linking::on_discover::Endpoint::PATH => calls::on_discover(&v3),
        p if p == user_linking::on_init::Endpoint::PATH => calls::on_link_init(&v3),
        p if p == user_linking::on_confirm::Endpoint::PATH => calls::on_link_confirm(&v3),
        p if p == consent::hip_on_notify::Endpoint::PATH => calls::hip_on_notify(&v3),
        p if p == consent::hiu_on_notify::Endpoint::PATH => calls::hiu_on_notify(&v3),
        p if p == data_flow::hip_on_request::Endpoint::PATH => calls::hip_on_request(&v3),
        p if p == data_flow::notify::Endpoint::PATH => calls::hi_notify(&v3),
        p if p == consent::request_init::Endpoint::PATH => {
            let bridge = app
                .state()
                .clients
                .get(&client)
                .and_then(|c| c.bridge_url.clone())
                .unwrap_or_default();
            calls::consent_init(&v3, &bridge)
        }
        _ => v3.clone(),
    };
    let bytes = Bytes::from(
        serde_json::to_vec(&calls::envelope(v05, &request_id, &timestamp)).expect("JSON"),
    );
    let (state, h) = (State(app), headers);
    let answer = match path {
        p if p == hip_linking::sms_notify::Endpoint::PATH => v05::sms_notify(state, h, bytes).await,
        p if p == patient_share::on_share::Endpoint::PATH => v05::on_share(state, h, bytes).await,
        p if p == user_linking::on_confirm::Endpoint::PATH => {
            cm::link_on_confirm(state, h, bytes).await
        }
        p if p == user_linking::on_discover::Endpoint::PATH
            || p == user_linking::on_init::Endpoint::PATH =>
        {
            cm::bridge_answer(state, h, bytes).await
        }
        p if p == consent::hip_on_notify::Endpoint::PATH
            || p == consent::hiu_on_notify::Endpoint::PATH =>
        {
            cm::acknowledge(state, h, bytes).await
        }
        p if p == consent::request_init::Endpoint::PATH => {
            cm::consent_request_init(state, h, bytes).await
        }
        p if p == consent::request_status::Endpoint::PATH => {
            cm::consent_request_status(state, h, bytes).await
        }
        p if p == consent::fetch::Endpoint::PATH => cm::consent_fetch(state, h, bytes).await,
        p if p == data_flow::hip_on_request::Endpoint::PATH => {
            cm::hip_on_request(state, h, bytes).await
        }
        p if p == data_flow::hiu_request::Endpoint::PATH => cm::hi_request(state, h, bytes).await,
        p if p == data_flow::notify::Endpoint::PATH => cm::hi_notify(state, h, bytes).await,
        other => unreachable!("{other} is routed here only when listed"),
    };
    // v3 answers every accepted write with an empty 202.
    if answer.status().is_success() {
        accepted()
    } else {
        answer
    }
}
