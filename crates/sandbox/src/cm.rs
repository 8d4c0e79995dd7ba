//! The consent manager acting for patients, with the peer HIP and peer HIU behind it.
//!
//! Our clinic as **HIU** (M3): consent requests are granted, denied or left for the operator by
//! policy; artefacts carry `dataEraseAt` and expire then (or are revoked on demand); data requests are
//! checked against the artefact and answered by the peer HIP, which pushes Fidelius-encrypted FHIR to
//! the HIU's `dataPushUrl` (optionally in pages, optionally corrupted).
//!
//! Our clinic as **HIP** (M2): the operator (a test, or the demo) asks for a patient's records as the
//! peer HIU; the consent manager notifies our HIP of the artefact, sends it the data request with the
//! peer HIU's key material, and the peer HIU decrypts and checks what arrives (`GET
//! /admin/peer-hiu/reports/{transactionId}`). Patient-initiated discovery and linking are driven the
//! same way (`/admin/discover`, `/admin/link/init`, `/admin/link/confirm`).
//!
//! Layout: `v0_5::consent` (the endpoints), `domain::consent` (the decisions), `peers::{hip, hiu}`
//! (the other hospitals), `admin::peers` (the operator's side). This module joins them: their
//! routes and what they share.

use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use crate::app::Shared;

pub(crate) use crate::admin::peers::*;
pub(crate) use crate::domain::consent::*;
pub(crate) use crate::peers::hip::*;
pub(crate) use crate::peers::hiu::*;
pub(crate) use crate::v0_5::consent::*;

/// The peer HIP's service id.
pub const PEER_HIP_ID: &str = "SANDBOX-PEER-HIP";
/// The peer HIU's service id.
pub const PEER_HIU_ID: &str = "SANDBOX-PEER-HIU";

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

pub(crate) fn authorized(app: &Shared, headers: &HeaderMap) -> Result<String, Response> {
    app.authorize(headers, true)
}

/// Every route of the consent manager, its peers and their operator pages.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/gateway/v0.5/consent-requests/init",
            post(consent_request_init),
        )
        .route(
            "/gateway/v0.5/consent-requests/status",
            post(consent_request_status),
        )
        .route("/gateway/v0.5/consents/hiu/on-notify", post(acknowledge))
        .route("/gateway/v0.5/consents/hip/on-notify", post(acknowledge))
        .route("/gateway/v0.5/consents/fetch", post(consent_fetch))
        .route(
            "/gateway/v0.5/health-information/cm/request",
            post(hi_request),
        )
        .route(
            "/gateway/v0.5/health-information/hip/on-request",
            post(hip_on_request),
        )
        .route("/gateway/v0.5/health-information/notify", post(hi_notify))
        .route(
            "/gateway/v0.5/care-contexts/on-discover",
            post(bridge_answer),
        )
        .route("/gateway/v0.5/links/link/on-init", post(bridge_answer))
        .route("/gateway/v0.5/links/link/on-confirm", post(link_on_confirm))
        .route("/peer-hiu/transfer", post(peer_hiu_transfer))
        .route(
            "/admin/consent-requests/{id}/{decision}",
            post(admin_decide),
        )
        .route("/admin/consents/{id}/{action}", post(admin_consent_action))
        .route("/admin/peer-hiu/request", post(admin_peer_hiu_request))
        .route("/admin/peer-hiu/reports/{txn}", get(admin_report))
        .route("/admin/peer-hiu/bundles/{txn}", get(admin_bundles))
        .route("/sms/send", post(crate::admin::sms_send))
        .route("/admin/discover", post(admin_discover))
        .route("/admin/link/init", post(admin_link_init))
        .route("/admin/link/confirm", post(admin_link_confirm))
        .route("/admin/answers/{request_id}", get(admin_answer))
}
