//! Consent notifications and artefacts (gateway spec, *consent flow*).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{Callback, ConsentDetail, ConsentStatus, Request};

/// `ConsentAcknowledgement`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Acknowledgement {
    pub consent_id: String,
    pub status: AckStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AckStatus {
    Ok,
    Unknown,
}

/// `ConsentArtefactReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtefactReference {
    pub id: String,
}

pub mod hip_notify {
    //! `POST /v0.5/consents/hip/notify` — "Consent notification" to the HIP
    //! (`HIPConsentNotification`): a granted artefact to serve, or its revocation or expiry.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        pub status: ConsentStatus,
        pub consent_id: Uuid,
        pub consent_detail: ConsentDetail,
        pub signature: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub grant_acknowledgement: Option<bool>,
    }

    crate::operation!(Post "/v0.5/consents/hip/notify", Bridge, Request<Body>, callback = super::hip_on_notify::Endpoint, spec = "hip-0.5.yaml");
}

pub mod hip_on_notify {
    //! `POST /v0.5/consents/hip/on-notify` — the HIP's acknowledgement
    //! (`HIPConsentNotificationResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub acknowledgement: Option<Acknowledgement>,
    }

    crate::operation!(Post "/v0.5/consents/hip/on-notify", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}

pub mod hiu_notify {
    //! `POST /v0.5/consents/hiu/notify` — "Consent notification" to the HIU
    //! (`HIUConsentNotificationEvent`): granted, denied, expired or revoked.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        /// Empty when artefacts are revoked without their request.
        pub consent_request_id: String,
        pub status: ConsentStatus,
        #[serde(default)]
        pub consent_artefacts: Vec<ArtefactReference>,
    }

    crate::operation!(Post "/v0.5/consents/hiu/notify", Bridge, Request<Body>, callback = super::hiu_on_notify::Endpoint, spec = "hiu-0.5.yaml");
}

pub mod hiu_on_notify {
    //! `POST /v0.5/consents/hiu/on-notify` — the HIU's acknowledgement
    //! (`HIUConsentNotificationResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub acknowledgement: Vec<Acknowledgement>,
    }

    crate::operation!(Post "/v0.5/consents/hiu/on-notify", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}

pub mod fetch {
    //! `POST /v0.5/consents/fetch` — "Get consent artefact" (`ConsentFetchRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub consent_id: String,
    }

    crate::operation!(Post "/v0.5/consents/fetch", Gateway, Request<Body>, callback = super::on_fetch::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_fetch {
    //! `POST /v0.5/consents/on-fetch` — "Result of fetch request for a consent artefact"
    //! (`ConsentArtefactResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub consent: Option<Artefact>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Artefact {
        pub status: ConsentStatus,
        pub consent_detail: ConsentDetail,
        pub signature: String,
    }

    crate::operation!(Post "/v0.5/consents/on-fetch", Bridge, Callback<Body>, spec = "hiu-0.5.yaml");
}
