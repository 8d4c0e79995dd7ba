//! What v3 does in kind differently: the link token for demographics in one call, with the
//! gateway's repeat guard (`ABDM-1092` within about six minutes of an accepted request for the
//! same ABHA address and HIP), the checks linking makes of the token, and context notifications.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use abdm::v0_5::ServiceKind;
use abdm::v3::{hip_linking, link_token as token};
use abdm::Operation;

use crate::app::{accepted, Shared};

/// How long the gateway refuses another token for the same patient and HIP (observed 362–374 s).
pub const GUARD: Duration = Duration::from_secs(368);

fn error_reply(app: &Shared, request_id: &str, code: &str, message: &str) -> Value {
    json!({"response": {"requestId": request_id},
        "error": {"code": app.code(code), "message": message}})
}

/// Sends a v3 callback as it is (already in v3's form) to `service`'s bridge.
fn send(app: &Shared, service: &str, path: &'static str, body: Value) {
    app.callback_v3(service, ServiceKind::Hip, path, body);
}

/// `POST /api/hiecm/v3/token/generate-token`.
pub async fn generate(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let client = match app.authorize(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (request_id, _) = match super::call_headers(&app, &headers) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let request: token::generate_token::Body = match app.parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    // A service this client does not own: accepted, and never answered (as ABDM does).
    let Some(service) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let path = token::on_generate_token::Endpoint::PATH;
    let key = (request.abha_address.clone(), service.clone());
    let now = Instant::now();
    let outcome = {
        let mut state = app.state();
        let account = state
            .account_by_id(&request.abha_address)
            .or_else(|| {
                request
                    .abha_number
                    .as_deref()
                    .and_then(|n| state.account_by_id(n))
            })
            .cloned();
        let recent = state
            .link_token_asks
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < app.config.link_token_guard);
        match account {
            _ if recent => Err(("ABDM-1092", "Duplicate Link token request")),
            None => Err(("ABDM-1114", "User not found")),
            Some(a) if a.gender != format!("{:?}", request.gender) => {
                Err(("ABDM-1112", "Gender does not match the ABHA"))
            }
            Some(a) if a.year_of_birth != request.year_of_birth => {
                Err(("ABDM-1207", "Year of birth does not match the ABHA"))
            }
            Some(a) if !same_name(&a.name, &request.name) => {
                Err(("ABDM-1207", "Name does not match the ABHA"))
            }
            Some(a) => {
                state.link_token_asks.insert(key, now);
                Ok(a.address)
            }
        }
    };
    let reply = match outcome {
        Ok(address) => json!({"abhaAddress": address,
            "linkToken": app.issuer.link_token(&service, &address, 15_768_000),
            "response": {"requestId": request_id}}),
        Err((code, message)) => error_reply(&app, &request_id, code, message),
    };
    send(&app, &service, path, reply);
    accepted()
}

/// Names compared word by word, case and spacing aside.
fn same_name(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}

/// Checks v3 linking makes before the contexts are linked: the token names this ABHA address
/// (`ABDM-1038`) and each group's count is its contexts' (`ABDM-1037`). A refusal is answered by
/// callback, as ABDM answers it.
pub fn refuse_linking(
    app: &Shared,
    client: &str,
    headers: &HeaderMap,
    v3: &Value,
    link_token: &str,
) -> Option<Response> {
    let service = app.acting_service(headers, client)?;
    let request_id = headers.get("request-id")?.to_str().ok()?.to_string();
    let refusal = match app.issuer.verify_link(link_token) {
        Ok(claims) if v3["abhaAddress"].as_str() != Some(claims.sub.as_str()) => {
            Some(("ABDM-1038", "ABHA address and Link token mismatch"))
        }
        _ if !super::calls::counts_agree(&v3["patient"]) => {
            Some(("ABDM-1037", "Counter and care context count mismatch"))
        }
        _ => None,
    }?;
    let body = error_reply(app, &request_id, refusal.0, refusal.1);
    send(
        app,
        &service,
        hip_linking::on_carecontext::Endpoint::PATH,
        body,
    );
    Some(accepted())
}

/// `POST /api/hiecm/hip/v3/link/context/notify`: acknowledged when the context is linked to this
/// patient at this HIP, refused otherwise.
pub async fn context_notify(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = match app.authorize(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (request_id, _) = match super::call_headers(&app, &headers) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let request: hip_linking::context_notify::Body = match app.parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(service) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let n = &request.notification;
    let linked = app
        .state()
        .account_by_id(&n.patient.id)
        .and_then(|a| a.links.get(&service).cloned())
        .is_some_and(|(_, contexts)| contexts.contains(&n.care_context.care_context_reference));
    let reply = if linked {
        json!({"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": request_id}})
    } else {
        let mut r = error_reply(&app, &request_id, "ABDM-1057", "Invalid care contexts");
        r["acknowledgement"] = json!({"status": "ERRORED"});
        r
    };
    send(
        &app,
        &service,
        hip_linking::on_context_notify::Endpoint::PATH,
        reply,
    );
    accepted()
}
