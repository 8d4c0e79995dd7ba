//! HIP-initiated linking (`hiecm-hip-initiated-linking.yaml`): care contexts linked with the link
//! token (in `X-LINK-TOKEN`, bare), ABDM told when a context gains records, and the SMS that
//! tells a patient without an ABHA address where records are.

use serde::{Deserialize, Serialize};

use super::common::{
    abha_number, CareContext, CareContextDefinition, HiType, PatientContexts, PatientId, Reply,
    Timestamp,
};

pub mod carecontext {
    //! `POST /api/hiecm/hip/v3/link/carecontext` — `abdm-hip-initiated-linking-hip 1`. A context
    //! is linked when `on_carecontext` says so, not when the 202 arrives.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, with = "abha_number", skip_serializing_if = "Option::is_none")]
        pub abha_number: Option<String>,
        pub abha_address: String,
        pub patient: Vec<Group>,
    }

    /// A group of care contexts of one HI type. NHA's file names the type `hiTypes` (one
    /// string); ABDM's pages and the integrations that work name it `hiType`. Both are sent, the
    /// same value, so either reading finds it; either is read.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Group {
        pub reference_number: String,
        pub display: String,
        pub care_contexts: Vec<CareContext>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hi_type: Option<HiType>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hi_types: Option<HiType>,
        pub count: u32,
    }

    impl Group {
        /// `group` as this call sends it.
        pub fn new(group: PatientContexts) -> Self {
            Self {
                reference_number: group.reference_number,
                display: group.display.unwrap_or_default(),
                care_contexts: group.care_contexts,
                hi_type: Some(group.hi_type),
                hi_types: Some(group.hi_type),
                count: group.count,
            }
        }

        /// The group's HI type, under either name.
        pub fn hi_type(&self) -> Option<HiType> {
            self.hi_type.or(self.hi_types)
        }
    }

    crate::operation!(Post "/api/hiecm/hip/v3/link/carecontext", Gateway, Body,
        callback = super::on_carecontext::Endpoint, spec = "v3/hiecm-hip-initiated-linking.yaml",
        headers = &[crate::v3::headers::REQUEST_ID, crate::v3::headers::TIMESTAMP,
            crate::v3::headers::X_CM_ID, crate::v3::headers::X_HIP_ID,
            crate::v3::headers::X_LINK_TOKEN]);
}

pub mod on_carecontext {
    //! `POST {bridge}/api/v3/link/on_carecontext` — `hip-initiated-linking 2`. `ABDM-1056`
    //! ("already linked") means linked.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub abha_address: Option<String>,
        /// `Successfully Linked care context` on success.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<String>,
    }

    /// The status a success carries.
    pub const LINKED: &str = "Successfully Linked care context";

    crate::operation!(Post "/api/v3/link/on_carecontext", Bridge, Reply<Body>,
        spec = "v3/hiecm-hip-initiated-linking.yaml", headers = crate::v3::TO_HIP);
}

/// `acknowledgement` of the linking and SMS notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// `SUCCESS` or `ERRORED`.
    pub status: String,
}

pub mod context_notify {
    //! `POST /api/hiecm/hip/v3/link/context/notify` — `abdm-hip-initiated-linking-hip 3`: a linked
    //! care context has (new) records. NHA's schema requires `hip.name` and `hip.type` without
    //! defining them; only `id` is sent (its corrections say so too).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        pub patient: PatientId,
        pub care_context: CareContextDefinition,
        pub hi_types: Vec<HiType>,
        pub date: Timestamp,
        pub hip: PatientId,
    }

    crate::operation!(Post "/api/hiecm/hip/v3/link/context/notify", Gateway, Body,
        callback = super::on_context_notify::Endpoint,
        spec = "v3/hiecm-hip-initiated-linking.yaml", headers = crate::v3::CALL_AS_HIP);
}

pub mod on_context_notify {
    //! `POST {bridge}/api/v3/links/context/on-notify` — `hip-initiated-linking 3`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub acknowledgement: Acknowledgement,
    }

    crate::operation!(Post "/api/v3/links/context/on-notify", Bridge, Reply<Body>,
        spec = "v3/hiecm-hip-initiated-linking.yaml", headers = crate::v3::TO_HIP);
}

pub mod sms_notify {
    //! `POST /api/hiecm/hip/v3/link/patient/links/sms/notify2` —
    //! `abdm-hip-initiated-linking-hip 4`: a deep-link SMS to the patient's phone.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub notification: Notification,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Notification {
        /// `91` followed by the 10 digits.
        pub phone_no: String,
        pub hip: Hip,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Hip {
        pub id: String,
        pub name: String,
    }

    crate::operation!(Post "/api/hiecm/hip/v3/link/patient/links/sms/notify2", Gateway, Body,
        callback = super::on_sms_notify::Endpoint, spec = "v3/hiecm-hip-initiated-linking.yaml",
        headers = crate::v3::CALL);
}

pub mod on_sms_notify {
    //! `POST {bridge}/api/v3/patients/sms/on-notify` — `hip-initiated-linking 5`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub acknowledgement: Acknowledgement,
    }

    crate::operation!(Post "/api/v3/patients/sms/on-notify", Bridge, Reply<Body>,
        spec = "v3/hiecm-hip-initiated-linking.yaml", headers = crate::v3::TO_HIP);
}
