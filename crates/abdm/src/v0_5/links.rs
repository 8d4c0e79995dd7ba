//! Care-context linking (gateway spec, *link*): HIP-initiated (`add-contexts` with a linking token)
//! and patient-initiated (`init` → OTP → `confirm`, after discovery).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{Callback, CareContextReference, CareContextRepresentation, Request};

/// A patient with the care contexts being linked (`patient` of add-contexts and on-confirm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedPatient {
    pub reference_number: String,
    pub display: String,
    pub care_contexts: Vec<CareContextRepresentation>,
}

pub mod add_contexts {
    //! `POST /v0.5/links/link/add-contexts` — "API for HIP initiated care-context linking for
    //! patient" (`PatientCareContextLinkRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub link: Link,
    }

    #[derive(Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Link {
        /// The linking token from `on-confirm`.
        pub access_token: String,
        pub patient: LinkedPatient,
    }

    crate::debug_showing!(Link { patient });

    crate::operation!(Post "/v0.5/links/link/add-contexts", Gateway, Request<Body>, callback = super::on_add_contexts::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_add_contexts {
    //! `POST /v0.5/links/link/on-add-contexts` — "callback API for HIP initiated patient linking"
    //! (`PatientCareContextLinkResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub acknowledgement: Option<Acknowledgement>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Acknowledgement {
        /// Always `SUCCESS` in the spec.
        pub status: String,
    }

    crate::operation!(Post "/v0.5/links/link/on-add-contexts", Bridge, Callback<Body>, spec = "hip-0.5.yaml");
}

pub mod init {
    //! `POST /v0.5/links/link/init` — "Link patient's care contexts" (`PatientLinkReferenceRequest`):
    //! the consent manager asks our HIP to start linking what the patient chose after discovery.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        pub patient: Patient,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Patient {
        /// The patient's ABHA address.
        pub id: String,
        pub reference_number: String,
        pub care_contexts: Vec<CareContextReference>,
    }

    crate::operation!(Post "/v0.5/links/link/init", Bridge, Request<Body>, callback = super::on_init::Endpoint, spec = "hip-0.5.yaml");
}

pub mod on_init {
    //! `POST /v0.5/links/link/on-init` — "Response to patient's care context link request"
    //! (`PatientLinkReferenceResult`): where we sent the OTP.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub link: Option<Link>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Link {
        pub reference_number: String,
        pub authentication_type: AuthenticationType,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub meta: Option<Meta>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum AuthenticationType {
        Direct,
        Mediated,
    }

    /// Where the OTP went. NHA's `Meta` schema also *requires* `mode` and `value`, which it never
    /// defines; [`Meta::new`] fills them with the medium and hint so strict validators accept the body,
    /// while consent managers read the `communication*` fields.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Meta {
        pub communication_medium: CommunicationMedium,
        pub communication_hint: String,
        pub communication_expiry: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mode: Option<CommunicationMedium>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub value: Option<String>,
    }

    impl Meta {
        pub fn new(medium: CommunicationMedium, hint: String, expiry: String) -> Self {
            Self {
                communication_medium: medium,
                mode: Some(medium),
                value: Some(hint.clone()),
                communication_hint: hint,
                communication_expiry: expiry,
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum CommunicationMedium {
        Mobile,
        Email,
    }

    crate::operation!(Post "/v0.5/links/link/on-init", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}

pub mod confirm {
    //! `POST /v0.5/links/link/confirm` — "Token submission by Consent Manager for link confirmation"
    //! (`LinkConfirmationRequest`): the OTP the patient received from us.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub confirmation: Confirmation,
    }

    #[derive(Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Confirmation {
        pub link_ref_number: String,
        pub token: String,
    }

    crate::debug_showing!(Confirmation { link_ref_number });

    crate::operation!(Post "/v0.5/links/link/confirm", Bridge, Request<Body>, callback = super::on_confirm::Endpoint, spec = "hip-0.5.yaml");
}

pub mod on_confirm {
    //! `POST /v0.5/links/link/on-confirm` — "Token authenticated by HIP, indicating completion of
    //! linkage of care-contexts" (`PatientLinkResult`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub patient: Option<LinkedPatient>,
    }

    crate::operation!(Post "/v0.5/links/link/on-confirm", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}
