//! Consent (`hiecm-consent-data-flow.yaml`): the consent manager notifies our HIP of artefacts;
//! our HIU asks for consent, follows it, is notified and fetches the artefacts.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    CareContextDefinition, ConsentDetail, ConsentStatus, HiType, PatientId, Permission, Purpose,
    Reply, Requester, Service,
};

/// `{status, consentId}` of an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentAck {
    /// `OK` or `ERROR`.
    pub status: String,
    pub consent_id: Uuid,
}

pub mod hip_notify {
    //! `POST {bridge}/api/v3/consent/request/hip/notify` — `consent-management 1`. Only
    //! `GRANTED`, `REVOKED` and `EXPIRED` reach a HIP; on the last two `consentDetail` may be thin
    //! or absent (NHA requires it always), so it is read leniently.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        pub status: ConsentStatus,
        pub consent_id: Uuid,
        /// Thin or absent on `REVOKED`/`EXPIRED`: a detail that does not read is `None` then,
        /// so the revocation itself still counts.
        #[serde(
            default,
            deserialize_with = "crate::v3::common::lenient::deserialize",
            skip_serializing_if = "Option::is_none"
        )]
        pub consent_detail: Option<ConsentDetail>,
        /// Base64; its algorithm is unpublished: kept, not verified.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub signature: Option<String>,
        #[serde(default)]
        pub grant_acknowledgement: bool,
    }

    crate::operation!(Post "/api/v3/consent/request/hip/notify", Bridge, Body,
        callback = super::hip_on_notify::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::TO_HIP);
}

pub mod hip_on_notify {
    //! `POST /api/hiecm/consent/v3/request/hip/on-notify` — `abdm-consent-management 2`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub acknowledgement: ConsentAck,
    }

    crate::operation!(Post "/api/hiecm/consent/v3/request/hip/on-notify", Gateway, Reply<Body>,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::CALL);
}

pub mod request_init {
    //! `POST /api/hiecm/consent/v3/request/init` — `abdm-consent-management 1`. The named page
    //! lists no `X-HIU-ID`; the sibling calls require it, and it is sent.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub consent: Consent,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Consent {
        pub purpose: Purpose,
        pub patient: PatientId,
        /// `None`: any HIP.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hip: Option<Service>,
        pub hiu: Service,
        /// `None`: every matching care context.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub care_contexts: Option<Vec<CareContextDefinition>>,
        pub requester: Requester,
        pub hi_types: Vec<HiType>,
        pub permission: Permission,
    }

    crate::operation!(Post "/api/hiecm/consent/v3/request/init", Gateway, Body,
        callback = super::on_init::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::CALL_AS_HIU);
}

/// `{id}` of a consent request or artefact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: Uuid,
}

pub mod on_init {
    //! `POST {bridge}/api/v3/hiu/consent/request/on-init` — `consent-management 2`: the consent
    //! manager's id of our request.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub consent_request: Option<IdRef>,
    }

    crate::operation!(Post "/api/v3/hiu/consent/request/on-init", Bridge, Reply<Body>,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::TO_HIU);
}

pub mod request_status {
    //! `POST /api/hiecm/consent/v3/request/status` — `abdm-consent-management 3 (2)`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub consent_request_id: Uuid,
    }

    crate::operation!(Post "/api/hiecm/consent/v3/request/status", Gateway, Body,
        callback = super::on_status::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::CALL_AS_HIU);
}

pub mod on_status {
    //! `POST {bridge}/api/v3/hiu/consent/request/on-status` — `consent-management 4`. NHA also
    //! requires a legacy `resp`, never read.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub consent_request: Option<Status>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Status {
        pub id: Uuid,
        pub status: ConsentStatus,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub consent_artefacts: Vec<IdRef>,
    }

    crate::operation!(Post "/api/v3/hiu/consent/request/on-status", Bridge, Reply<Body>,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::TO_HIU);
}

pub mod hiu_notify {
    //! `POST {bridge}/api/v3/hiu/consent/request/notify` — `consent-management 6`. On `REVOKED`
    //! the artefacts are listed and the request id may be empty.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        #[serde(default, deserialize_with = "empty_is_none")]
        pub consent_request_id: Option<Uuid>,
        pub status: ConsentStatus,
        #[serde(default)]
        pub reason: Option<String>,
        #[serde(default)]
        pub consent_artefacts: Vec<IdRef>,
    }

    fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Uuid::parse_str(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }

    crate::operation!(Post "/api/v3/hiu/consent/request/notify", Bridge, Body,
        callback = super::hiu_on_notify::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::TO_HIU);
}

pub mod hiu_on_notify {
    //! `POST /api/hiecm/consent/v3/request/hiu/on-notify` — `abdm-consent-management 3 (3)`:
    //! one acknowledgement per artefact (an array, unlike the HIP's).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub acknowledgement: Vec<ConsentAck>,
    }

    crate::operation!(Post "/api/hiecm/consent/v3/request/hiu/on-notify", Gateway, Reply<Body>,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::CALL);
}

pub mod fetch {
    //! `POST /api/hiecm/consent/v3/fetch` — `abdm-consent-management 5 (2)`: one per artefact.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub consent_id: Uuid,
    }

    crate::operation!(Post "/api/hiecm/consent/v3/fetch", Gateway, Body,
        callback = super::on_fetch::Endpoint, spec = "v3/hiecm-consent-data-flow.yaml",
        headers = crate::v3::CALL_AS_HIU);
}

pub mod on_fetch {
    //! `POST {bridge}/api/v3/hiu/consent/on-fetch` — `consent-management 6 (2)`: the artefact.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub consent: Option<Artefact>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Artefact {
        pub status: ConsentStatus,
        /// May be thin or absent on a denied, expired or revoked artefact.
        #[serde(
            default,
            deserialize_with = "crate::v3::common::lenient::deserialize",
            skip_serializing_if = "Option::is_none"
        )]
        pub consent_detail: Option<ConsentDetail>,
        #[serde(default)]
        pub signature: String,
    }

    crate::operation!(Post "/api/v3/hiu/consent/on-fetch", Bridge, Reply<Body>,
        spec = "v3/hiecm-consent-data-flow.yaml", headers = crate::v3::TO_HIU);
}
