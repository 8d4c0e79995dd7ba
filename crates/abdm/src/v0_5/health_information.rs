//! The data flow (gateway spec, *data flow*; HIP and HIU specs for `transfer`): the HIU asks, the
//! consent manager forwards to the HIP, the HIP pushes encrypted FHIR to the HIU's `dataPushUrl` and
//! both sides notify.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{Callback, DateRange, KeyMaterial, Request, Timestamp};

/// `hiRequest` of a data request: which consent, what period, where to push, and the requester's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HiRequest {
    pub consent: ConsentRef,
    pub date_range: DateRange,
    pub data_push_url: String,
    pub key_material: KeyMaterial,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRef {
    pub id: String,
}

/// The `hiRequest` of an acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    pub transaction_id: Uuid,
    pub session_status: SessionStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SessionStatus {
    Requested,
    Acknowledged,
}

pub mod cm_request {
    //! `POST /v0.5/health-information/cm/request` — "Health information data request" from the HIU
    //! (`HIRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub hi_request: HiRequest,
    }

    crate::operation!(Post "/v0.5/health-information/cm/request", Gateway, Request<Body>, callback = super::hiu_on_request::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod hiu_on_request {
    //! `POST /v0.5/health-information/hiu/on-request` — "Health information data request" answer to
    //! the HIU (`HIUHealthInformationRequestResponse`, HIU spec; the consent manager sends the same
    //! body to the gateway's `/v0.5/health-information/cm/on-request`).
    use super::*;

    /// The consent manager's path for the same body.
    pub const CM_PATH: &str = "/v0.5/health-information/cm/on-request";

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hi_request: Option<SessionState>,
    }

    crate::operation!(Post "/v0.5/health-information/hiu/on-request", Bridge, Callback<Body>, spec = "hiu-0.5.yaml");
}

pub mod hip_request {
    //! `POST /v0.5/health-information/hip/request` — "Health information data request" to the HIP
    //! (`HIPHIRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        pub hi_request: HiRequest,
    }

    crate::operation!(Post "/v0.5/health-information/hip/request", Bridge, Request<Body>, callback = super::hip_on_request::Endpoint, spec = "hip-0.5.yaml");
}

pub mod hip_on_request {
    //! `POST /v0.5/health-information/hip/on-request` — the HIP's acknowledgement
    //! (`HIPHealthInformationRequestAcknowledgement`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hi_request: Option<SessionState>,
    }

    crate::operation!(Post "/v0.5/health-information/hip/on-request", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}

pub mod notify {
    //! `POST /v0.5/health-information/notify` — "Notifications corresponding to events during data
    //! flow" (`HealthInformationNotification`), from the HIP after a push and from the HIU after
    //! receiving it.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        pub consent_id: Uuid,
        pub transaction_id: Uuid,
        pub done_at: Timestamp,
        pub notifier: Notifier,
        pub status_notification: StatusNotification,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Notifier {
        #[serde(rename = "type")]
        pub kind: crate::v0_5::ServiceKind,
        pub id: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct StatusNotification {
        pub session_status: TransferStatus,
        pub hip_id: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub status_responses: Vec<StatusResponse>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum TransferStatus {
        Transferred,
        Failed,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct StatusResponse {
        pub care_context_reference: String,
        pub hi_status: HiStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum HiStatus {
        Delivered,
        Ok,
        Errored,
    }

    crate::operation!(Post "/v0.5/health-information/notify", Gateway, Request<Body>, spec = "gateway-0.5.yaml");
}

pub mod transfer {
    //! `POST /v0.5/health-information/transfer` — "health information transfer API"
    //! (`DataNotification`, HIP and HIU specs): the HIP's push to the HIU's `dataPushUrl`, one page at
    //! a time. Not an envelope: no `requestId`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub page_number: u32,
        pub page_count: u32,
        pub transaction_id: Uuid,
        pub entries: Vec<Entry>,
        pub key_material: KeyMaterial,
    }

    /// `EntryContent` (inline ciphertext) or `EntryLink` (a URL to fetch it from).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Entry {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub content: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub link: Option<String>,
        /// Always `application/fhir+json`.
        pub media: String,
        /// MD5 of the plaintext, hex (CARE) or base64 (some HIPs).
        pub checksum: String,
        pub care_context_reference: String,
    }

    crate::operation!(Post "/v0.5/health-information/transfer", Bridge, Body, spec = "hip-0.5.yaml");
}
