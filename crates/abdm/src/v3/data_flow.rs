//! The data flow (`hiecm-consent-data-flow.yaml`): the consent manager asks our HIP for data and
//! our HIP pushes it, encrypted, to the HIU's `dataPushUrl`; our HIU asks for data and is told
//! the transfer's id; both sides report how a transfer went.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{DateRange, KeyMaterial, Reply, Timestamp};

/// `hiRequest` as the HIU sends it and the HIP receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HiRequest {
    pub consent: super::consent::IdRef,
    pub date_range: DateRange,
    pub data_push_url: String,
    /// NHA types the nonce a UUID; every real peer sends base64 of 32 bytes, as sent here.
    pub key_material: KeyMaterial,
}

/// `{transactionId, sessionStatus}` of an acknowledged data request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub transaction_id: Uuid,
    /// `ACKNOWLEDGED`, `REQUESTED` or `ERRORED`.
    pub session_status: String,
}

pub mod hip_request {
    //! `POST {bridge}/api/v3/hip/health-information/request` — `abdm-consent-management 3`.
    //! `transactionId` is at the top level (tolerated inside `hiRequest` too).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        pub hi_request: HiRequest,
    }

    crate::operation!(Post "/api/v3/hip/health-information/request", Bridge, Body,
        callback = super::hip_on_request::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::TO_HIP);
}

pub mod hip_on_request {
    //! `POST /api/hiecm/data-flow/v3/health-information/hip/on-request` —
    //! `abdm-consent-management 5`: acknowledged, or refused with `error`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub hi_request: Session,
    }

    crate::operation!(Post "/api/hiecm/data-flow/v3/health-information/hip/on-request", Gateway,
        Reply<Body>, spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::CALL);
}

pub mod transfer {
    //! `POST <dataPushUrl>` — `abdm-consent-management 6`: one page of encrypted bundles, from
    //! the HIP straight to the HIU (never through the gateway; no ABDM headers). The body is
    //! v0.5's: same fields, same Fidelius key material.
    pub use crate::v0_5::health_information::transfer::{Body, Entry};

    crate::operation!(Post "/health-information/transfer", Bridge, Body,
        spec = "v3/hiecm-consent-data-flow.yaml");
}

pub mod hiu_request {
    //! `POST /api/hiecm/data-flow/v3/health-information/request` — `abdm-data-flow 7`. A fresh
    //! key pair and nonce per request. (NHA's schema also requires a `hiRequest.nonce` it never
    //! defines: the nonce is in `keyMaterial`.)
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub hi_request: HiRequest,
    }

    crate::operation!(Post "/api/hiecm/data-flow/v3/health-information/request", Gateway, Body,
        callback = super::hiu_on_request::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::CALL_AS_HIU);
}

pub mod hiu_on_request {
    //! `POST {bridge}/api/v3/hiu/health-information/on-request` — `data-flow 8`: the transfer's
    //! id, which the pushed pages carry.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hi_request: Option<Session>,
    }

    crate::operation!(Post "/api/v3/hiu/health-information/on-request", Bridge, Reply<Body>,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::TO_HIU);
}

pub mod notify {
    //! `POST /api/hiecm/data-flow/v3/health-information/notify` — `abdm-data-flow 8`: how a
    //! transfer went, from the HIP (`TRANSFERRED`/`FAILED`, per context `DELIVERED`/`ERRORED`)
    //! or the HIU (`RECEIVED`/`FAILED`, per context `OK`/`ERRORED`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        pub consent_id: Uuid,
        pub transaction_id: Uuid,
        pub done_at: Timestamp,
        pub notifier: Notifier,
        pub status_notification: StatusNotification,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Notifier {
        /// `HIP` or `HIU`.
        #[serde(rename = "type")]
        pub kind: String,
        pub id: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct StatusNotification {
        pub session_status: String,
        pub hip_id: String,
        pub status_responses: Vec<StatusResponse>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct StatusResponse {
        pub care_context_reference: String,
        pub hi_status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
    }

    crate::operation!(Post "/api/hiecm/data-flow/v3/health-information/notify", Gateway, Body,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::CALL);
}

pub mod request_status {
    //! `GET /api/hiecm/data-flow/v3/health-information/request/status/{transaction-id}` —
    //! `abdm-data-flow 9`: where a transfer stands (no callback acknowledges `notify`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        pub transaction_id: Uuid,
        pub status: String,
    }

    crate::operation!(Get "/api/hiecm/data-flow/v3/health-information/request/status/{transaction-id}",
        Gateway, (), response = Response, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::CALL);
}
