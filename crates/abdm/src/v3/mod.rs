//! ABDM v3: the HIECM v3 gateway (`shared/abdm-openapi/v3/`, NHA's files of September 2026) and
//! ABHA v3 ([`abha`]). What changed in kind from v0.5 (reference notes `abdm-v3.md` §4):
//!
//! * correlation and routing moved from the body into headers ([`headers`]): `REQUEST-ID`,
//!   `TIMESTAMP`, `X-CM-ID`, `X-HIP-ID`/`X-HIU-ID`; a callback names the call it answers in
//!   `response.requestId` ([`Reply`]);
//! * linking takes one token call with the patient's demographics ([`link_token`]) and groups care
//!   contexts by HI type with a count ([`PatientContexts`]);
//! * the gateway calls the bridge at `/api/v3/...` below the registered URL.
//!
//! Each operation names the headers NHA requires for it (`Operation::HEADERS`). Where NHA's file
//! is wrong or self-contradictory, the type says so and follows what the gateway sends.

// Wire types mirror NHA's schemas field for field (each module names its operation and file): the
// spec is their documentation, so fields carry docs only where our type says more than the spec.
#![allow(missing_docs)]

pub mod abha;
pub mod common;
pub mod consent;
pub mod data_flow;
pub mod gateway;
pub mod hip_linking;
pub mod link_token;
pub mod patient_share;
pub mod user_linking;

pub use common::*;

use crate::Operation;

/// The header names of v3 (HTTP header names are case-insensitive; these are NHA's spellings).
pub mod headers {
    /// A fresh UUID per call; a callback's answer carries it back as `response.requestId`.
    pub const REQUEST_ID: &str = "REQUEST-ID";
    /// `YYYY-MM-DDThh:mm:ss.sssZ`, UTC.
    pub const TIMESTAMP: &str = "TIMESTAMP";
    /// The consent manager: `sbx` or `abdm`.
    pub const X_CM_ID: &str = "X-CM-ID";
    /// The HIP's service id.
    pub const X_HIP_ID: &str = "X-HIP-ID";
    /// The HIU's service id.
    pub const X_HIU_ID: &str = "X-HIU-ID";
    /// The linking token, bare (not `Bearer`).
    pub const X_LINK_TOKEN: &str = "X-LINK-TOKEN";
    /// The ABHA user token on profile calls.
    pub const X_TOKEN: &str = "X-token";
    /// The token of a mobile login that still has to pick an account (`Bearer …`).
    pub const T_TOKEN: &str = "T-token";
    /// The enrolment transaction, for calls without a body.
    pub const TRANSACTION_ID: &str = "TRANSACTION_ID";
}

use headers::*;

/// The headers every gateway call carries.
pub(crate) const CALL: &[&str] = &[REQUEST_ID, TIMESTAMP, X_CM_ID];
/// A call made as the HIP.
pub(crate) const CALL_AS_HIP: &[&str] = &[REQUEST_ID, TIMESTAMP, X_CM_ID, X_HIP_ID];
/// A call made as the HIU.
pub(crate) const CALL_AS_HIU: &[&str] = &[REQUEST_ID, TIMESTAMP, X_CM_ID, X_HIU_ID];
/// What the gateway sends with a callback to our HIP.
pub(crate) const TO_HIP: &[&str] = &[REQUEST_ID, TIMESTAMP, X_HIP_ID];
/// What the gateway sends with a callback to our HIU.
pub(crate) const TO_HIU: &[&str] = &[REQUEST_ID, TIMESTAMP, X_HIU_ID];

/// Every path the gateway calls below a bridge URL, as a relay accepts them. The data push is not
/// among them: it goes to each request's own `dataPushUrl`.
pub fn bridge_paths() -> Vec<&'static str> {
    vec![
        link_token::on_generate_token::Endpoint::PATH,
        hip_linking::on_carecontext::Endpoint::PATH,
        hip_linking::on_context_notify::Endpoint::PATH,
        hip_linking::on_sms_notify::Endpoint::PATH,
        user_linking::discover::Endpoint::PATH,
        user_linking::init::Endpoint::PATH,
        user_linking::confirm::Endpoint::PATH,
        patient_share::share::Endpoint::PATH,
        consent::hip_notify::Endpoint::PATH,
        consent::on_init::Endpoint::PATH,
        consent::on_status::Endpoint::PATH,
        consent::hiu_notify::Endpoint::PATH,
        consent::on_fetch::Endpoint::PATH,
        data_flow::hip_request::Endpoint::PATH,
        data_flow::hiu_on_request::Endpoint::PATH,
    ]
}
