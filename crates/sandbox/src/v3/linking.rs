//! Linking as v3 does it, differently in kind: the link token for demographics in one call, with
//! the gateway's repeat guard (`ABDM-1092` within about six minutes of an accepted request for the
//! same ABHA address and HIP), care contexts linked with the token in a header and grouped by HI
//! type, and context notifications.

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

/// Refused token requests for one ABHA address within [`REFUSALS_WINDOW`] before the gateway
/// says "too many" (`ABDM-1022`) and blocks the address (`ABDM-1027`) for [`BLOCK`]; observed
/// with about 5 token requests (20 links) in 25 minutes.
const REFUSALS_BEFORE_BLOCK: usize = 5;
const REFUSALS_WINDOW: Duration = Duration::from_secs(25 * 60);
const BLOCK: Duration = Duration::from_secs(24 * 3600);

/// Counts a refusal for `address`: the one that reaches the limit is `ABDM-1022`, and the address
/// is blocked from then on (other patients at the same HIP are not).
fn count_refusal(
    state: &mut crate::domain::state::State,
    address: &str,
    now: Instant,
    refusal: (&'static str, &'static str),
) -> (&'static str, &'static str) {
    let recent = state.link_refusals.entry(address.to_string()).or_default();
    recent.retain(|at| now.duration_since(*at) < REFUSALS_WINDOW);
    recent.push(now);
    if recent.len() >= REFUSALS_BEFORE_BLOCK {
        state.link_blocked.insert(address.to_string(), now + BLOCK);
        return ("ABDM-1022", "Too many requests");
    }
    refusal
}

/// Whether `address` is blocked from linking now.
fn blocked(state: &crate::domain::state::State, address: &str, now: Instant) -> bool {
    state
        .link_blocked
        .get(address)
        .is_some_and(|until| now < *until)
}

const BLOCKED: (&str, &str) = (
    "ABDM-1027",
    "You are blocked. Please try again after 24 hours.",
);

fn error_reply(app: &Shared, request_id: &str, code: &str, message: &str) -> Value {
    json!({"response": {"requestId": request_id},
        "error": {"code": app.code(code), "message": message}})
}

/// Sends a v3 callback as it is (already in v3's form) to `service`'s bridge.
fn send(app: &Shared, service: &str, path: &'static str, body: Value) {
    app.callback_v3(service, ServiceKind::Hip, path, body);
}

/// How every v3 HIP call starts: the caller's token, v3's headers, the body, and the service
/// acting (`None`: a service this client does not own, accepted and never answered, as ABDM does).
fn accept_hip_call<T: serde::de::DeserializeOwned>(
    app: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, T, Option<String>), Response> {
    let client = app.authorize(headers, true)?;
    let (request_id, _) = super::call_headers(app, headers)?;
    let request = app.parse(body)?;
    Ok((request_id, request, app.acting_service(headers, &client)))
}

/// `POST /api/hiecm/v3/token/generate-token`.
pub async fn generate(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (request_id, request, service) =
        match accept_hip_call::<token::generate_token::Body>(&app, &headers, &body) {
            Ok(call) => call,
            Err(r) => return r,
        };
    let Some(service) = service else {
        return accepted();
    };
    let path = token::on_generate_token::Endpoint::PATH;
    let now = Instant::now();
    let outcome = {
        let mut state = app.state();
        let account = request
            .abha_address
            .as_deref()
            .and_then(|a| state.account_by_id(a))
            .or_else(|| {
                request
                    .abha_number
                    .as_deref()
                    .and_then(|n| state.account_by_id(n))
            })
            .cloned();
        // The guard is per patient and HIP, whichever of the ABHA's ids named the patient.
        let key = (
            account
                .as_ref()
                .map(|a| a.address.clone())
                .unwrap_or_default(),
            service.clone(),
        );
        let recent = state
            .link_token_asks
            .get(&key)
            .is_some_and(|at| now.duration_since(*at) < app.config.link_token_guard);
        let asked = request.abha_address.clone().unwrap_or_default();
        let address = if key.0.is_empty() {
            asked
        } else {
            key.0.clone()
        };
        let outcome = match account {
            _ if blocked(&state, &address, now) => Err(BLOCKED),
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
        };
        match outcome {
            // Refusals count per ABHA address; a request naming none is not counted under "".
            Err(refusal) if refusal != BLOCKED && !address.is_empty() => {
                Err(count_refusal(&mut state, &address, now, refusal))
            }
            other => other,
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

/// `POST /api/hiecm/hip/v3/link/carecontext`: the token from `X-LINK-TOKEN` (bare), the care
/// contexts grouped by HI type with their counts; linked by the same domain as v0.5's
/// add-contexts, answered by `on_carecontext`.
pub async fn carecontext(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let client = match app.authorize(&headers, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (request_id, _) = match super::call_headers(&app, &headers) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let Some(link_token) = headers.get("x-link-token").and_then(|v| v.to_str().ok()) else {
        return super::missing_header();
    };
    let v3: Value = match app.parse(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let groups = v3["patient"].as_array().cloned().unwrap_or_default();
    if groups.is_empty() {
        return app.error(
            axum::http::StatusCode::BAD_REQUEST,
            "ABDM-9999",
            "patient attribute required in the payload",
        );
    }
    let Some(service) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let mut contexts: Vec<String> = Vec::new();
    for c in groups
        .iter()
        .flat_map(|g| g["careContexts"].as_array().cloned().unwrap_or_default())
    {
        if let Some(r) = c["referenceNumber"]
            .as_str()
            .filter(|r| !contexts.iter().any(|k| k == r))
        {
            contexts.push(r.to_string());
        }
    }
    let reference = groups[0]["referenceNumber"].as_str().unwrap_or_default();
    let named = app.issuer.verify_link(link_token).map(|c| c.sub);
    let address = v3["abhaAddress"].as_str().unwrap_or_default();
    let is_blocked = blocked(&app.state(), address, Instant::now());
    let outcome = match named {
        _ if is_blocked => Err((BLOCKED.0, BLOCKED.1.to_string())),
        Ok(sub) if v3["abhaAddress"].as_str() != Some(sub.as_str()) => Err((
            "ABDM-1038",
            "ABHA address and Link token mismatch".to_string(),
        )),
        _ if !super::calls::counts_agree(&v3["patient"]) => Err((
            "ABDM-1037",
            "Counter and care context count mismatch".to_string(),
        )),
        _ => crate::v0_5::gateway::link_contexts(&app, &service, link_token, reference, &contexts),
    };
    let reply = match outcome {
        Ok(address) => json!({"abhaAddress": address,
            "status": hip_linking::on_carecontext::LINKED,
            "response": {"requestId": request_id}}),
        // Already linked counts as linked; the domain adds nothing twice.
        Err((code, message)) => error_reply(&app, &request_id, code, &message),
    };
    send(
        &app,
        &service,
        hip_linking::on_carecontext::Endpoint::PATH,
        reply,
    );
    accepted()
}

/// `POST /api/hiecm/hip/v3/link/context/notify`: acknowledged when the context is linked to this
/// patient at this HIP, refused otherwise.
pub async fn context_notify(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request_id, request, service) =
        match accept_hip_call::<hip_linking::context_notify::Body>(&app, &headers, &body) {
            Ok(call) => call,
            Err(r) => return r,
        };
    let Some(service) = service else {
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
