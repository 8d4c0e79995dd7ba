//! Care-context discovery (gateway spec, *discovery*): the consent manager asks our HIP which
//! records a patient has here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::common::{
    Callback, CareContextRepresentation, Gender, Identifier, IdentifierType, Request,
};

pub mod discover {
    //! `POST /v0.5/care-contexts/discover` — "Discover patient's accounts" (`PatientDiscoveryRequest`).
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
        pub id: String,
        pub name: String,
        pub gender: Gender,
        pub year_of_birth: i32,
        pub verified_identifiers: Vec<Identifier>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub unverified_identifiers: Vec<Identifier>,
    }

    crate::operation!(Post "/v0.5/care-contexts/discover", Bridge, Request<Body>, callback = super::on_discover::Endpoint, spec = "hip-0.5.yaml");
}

pub mod on_discover {
    //! `POST /v0.5/care-contexts/on-discover` — "Response to patient's account discovery request"
    //! (`PatientDiscoveryResult`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub patient: Option<Patient>,
    }

    /// `PatientRepresentation`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Patient {
        pub reference_number: String,
        pub display: String,
        #[serde(default)]
        pub care_contexts: Vec<CareContextRepresentation>,
        #[serde(default)]
        pub matched_by: Vec<IdentifierType>,
    }

    crate::operation!(Post "/v0.5/care-contexts/on-discover", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}
