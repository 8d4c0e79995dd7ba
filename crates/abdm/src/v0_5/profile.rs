//! Scan and share (gateway spec, *profile*): the patient scans the clinic's counter QR, ABDM pushes
//! the profile, the clinic answers with a token number.

use serde::{Deserialize, Serialize};

use super::common::{Callback, Gender, Identifier, PatientAddress, Request};

pub mod share {
    //! `POST /v0.5/patients/profile/share` — "Share patient profile details" (`ShareProfileRequest`).
    //! CARE and the live sandbox also use `/v1.0/patients/profile/share` ([`V1_PATH`]); a bridge must
    //! accept both.
    use super::*;

    /// The path the live gateway used for the same body.
    pub const V1_PATH: &str = "/v1.0/patients/profile/share";

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub patient: Patient,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Patient {
        /// The counter the patient scanned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hip_code: Option<String>,
        pub user_demographics: Demographics,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Demographics {
        /// ABHA address.
        pub health_id: String,
        /// ABHA number, dashed.
        pub health_id_number: String,
        pub name: String,
        pub gender: Gender,
        pub year_of_birth: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub month_of_birth: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub day_of_birth: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<PatientAddress>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub identifiers: Vec<Identifier>,
    }

    crate::operation!(Post "/v0.5/patients/profile/share", Bridge, Request<Body>, callback = super::on_share::Endpoint, spec = "hip-0.5.yaml");
}

pub mod on_share {
    //! `POST /v0.5/patients/profile/on-share` — "Response to patient's share profile request"
    //! (`ShareProfileResult`). `tokenNumber` is the queue token (not in the v0.5 schema, which allows
    //! extra fields; ABDM's PHR app shows it).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub acknowledgement: Acknowledgement,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Acknowledgement {
        pub status: ShareStatus,
        pub health_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub token_number: Option<String>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum ShareStatus {
        Success,
        Failure,
    }

    crate::operation!(Post "/v0.5/patients/profile/on-share", Gateway, Callback<Body>, spec = "gateway-0.5.yaml");
}
