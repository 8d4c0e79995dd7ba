//! ABDM v0.5: the gateway, HIP, HIU and consent-manager APIs of NHA's v0.5 OpenAPI
//! (`gateway-0.5.yaml`, `hip-0.5.yaml`, `hiu-0.5.yaml`). Every write answers 202 at once; the result
//! arrives later as a callback to the bridge URL carrying `resp.requestId`.

// Wire types mirror NHA's OpenAPI schemas field for field (each module names its operation and
// spec file): the spec is their documentation, so fields and variants carry docs only where our
// type says something the spec does not.
#![allow(missing_docs)]

pub mod common;
pub mod consent_requests;
pub mod consents;
pub mod discovery;
pub mod health_information;
pub mod links;
pub mod profile;
pub mod sessions;
pub mod sms;
pub mod user_auth;

pub use common::*;

use crate::Operation;

/// Every path the gateway calls on a bridge (HIP and HIU callbacks and requests), as a relay
/// accepts them. Data pushes are not among them: they go to each request's own `dataPushUrl`.
pub fn bridge_paths() -> Vec<&'static str> {
    vec![
        user_auth::on_fetch_modes::Endpoint::PATH,
        user_auth::on_init::Endpoint::PATH,
        user_auth::on_confirm::Endpoint::PATH,
        links::on_add_contexts::Endpoint::PATH,
        links::init::Endpoint::PATH,
        links::confirm::Endpoint::PATH,
        discovery::discover::Endpoint::PATH,
        profile::share::Endpoint::PATH,
        profile::share::V1_PATH,
        sms::on_notify::Endpoint::PATH,
        consents::hip_notify::Endpoint::PATH,
        consents::hiu_notify::Endpoint::PATH,
        consents::on_fetch::Endpoint::PATH,
        consent_requests::on_init::Endpoint::PATH,
        consent_requests::on_status::Endpoint::PATH,
        health_information::hip_request::Endpoint::PATH,
        health_information::hiu_on_request::Endpoint::PATH,
    ]
}
