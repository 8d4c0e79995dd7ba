//! Consent requests from our HIU (gateway spec, *consent flow*).

use serde::{Deserialize, Serialize};

use super::common::{
    Callback, CareContextDefinition, ConsentRequester, ConsentStatus, HiType, Organization,
    PatientId, Permission, Purpose, Request,
};
use crate::v0_5::consents::ArtefactReference;

pub mod init {
    //! `POST /v0.5/consent-requests/init` — "Create consent request" (`ConsentRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub consent: Consent,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Consent {
        pub purpose: Purpose,
        pub patient: PatientId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hip: Option<Organization>,
        pub hiu: Organization,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub care_contexts: Vec<CareContextDefinition>,
        pub requester: ConsentRequester,
        pub hi_types: Vec<HiType>,
        pub permission: Permission,
        /// Where the consent manager should notify us (our bridge URL); required by NHA's schema.
        pub consent_notification_url: String,
    }

    crate::operation!(Post "/v0.5/consent-requests/init", Gateway, Request<Body>, callback = super::on_init::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_init {
    //! `POST /v0.5/consent-requests/on-init` — "Response to consent request"
    //! (`ConsentRequestInitResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub consent_request: Option<ConsentRequestId>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ConsentRequestId {
        pub id: uuid::Uuid,
    }

    crate::operation!(Post "/v0.5/consent-requests/on-init", Bridge, Callback<Body>, spec = "hiu-0.5.yaml");
}

pub mod status {
    //! `POST /v0.5/consent-requests/status` — "Get consent request status"
    //! (`ConsentRequestStatusRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub consent_request_id: String,
    }

    crate::operation!(Post "/v0.5/consent-requests/status", Gateway, Request<Body>, callback = super::on_status::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_status {
    //! `POST /v0.5/consent-requests/on-status` — "Result of consent request status"
    //! (`HIUConsentRequestStatus`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub consent_request: Option<State>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct State {
        pub id: String,
        pub status: ConsentStatus,
        #[serde(default)]
        pub consent_artefacts: Vec<ArtefactReference>,
    }

    crate::operation!(Post "/v0.5/consent-requests/on-status", Bridge, Callback<Body>, spec = "hiu-0.5.yaml");
}
