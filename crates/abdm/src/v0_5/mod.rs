//! ABDM v0.5: the gateway, HIP, HIU and consent-manager APIs of NHA's v0.5 OpenAPI
//! (`gateway-0.5.yaml`, `hip-0.5.yaml`, `hiu-0.5.yaml`). Every write answers 202 at once; the result
//! arrives later as a callback to the bridge URL carrying `resp.requestId`.

pub mod consent_requests;
pub mod consents;
pub mod discovery;
pub mod health_information;
pub mod links;
pub mod profile;
pub mod sessions;
pub mod sms;
pub mod user_auth;
