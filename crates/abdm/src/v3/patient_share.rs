//! Scan and share (`hiecm-patient-share.yaml`): the patient's app shares their profile with our
//! counter; we answer within 30 seconds with a token number.

use serde::{Deserialize, Deserializer, Serialize};

use super::common::{number_or_text, Gender, Reply};

pub mod share {
    //! `POST {bridge}/api/v3/hip/patient/share` — `patient-share 1`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        /// `PROFILE_SHARE`, `RECORD_SHARE` or `PAYMENT_SHARE`.
        pub intent: String,
        pub meta_data: MetaData,
        pub profile: Profile,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MetaData {
        pub hip_id: String,
        /// The counter id (1–20 letters and digits).
        pub context: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hpr_id: Option<String>,
        /// A number in NHA's file, a string from some apps.
        #[serde(default, deserialize_with = "lenient_number")]
        pub latitude: Option<f64>,
        #[serde(default, deserialize_with = "lenient_number")]
        pub longitude: Option<f64>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Profile {
        pub patient: Patient,
    }

    /// Birth parts are strings in this file (numbers elsewhere): kept as numbers, read as either.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Patient {
        /// Dashed; `null` when the address has no number.
        #[serde(default)]
        pub abha_number: Option<String>,
        pub abha_address: String,
        pub name: String,
        pub gender: Gender,
        #[serde(
            default,
            with = "optional_text_number",
            skip_serializing_if = "Option::is_none"
        )]
        pub day_of_birth: Option<u32>,
        #[serde(
            default,
            with = "optional_text_number",
            skip_serializing_if = "Option::is_none"
        )]
        pub month_of_birth: Option<u32>,
        #[serde(with = "text_number")]
        pub year_of_birth: u32,
        pub address: Address,
        #[serde(default)]
        pub phone_number: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Address {
        #[serde(default)]
        pub line: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub district: Option<String>,
        #[serde(default)]
        pub state: String,
        #[serde(default, alias = "pinCode")]
        pub pincode: String,
    }

    fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(match Option::<serde_json::Value>::deserialize(d)? {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// A whole number written as a string, read from either.
    mod text_number {
        use super::*;
        pub fn serialize<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(v)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
            number_or_text::deserialize(d)
        }
    }

    mod optional_text_number {
        use super::*;
        pub fn serialize<S: serde::Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.collect_str(v),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
            match Option::<serde_json::Value>::deserialize(d)? {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => number_or_text::deserialize(v)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
            }
        }
    }

    crate::operation!(Post "/api/v3/hip/patient/share", Bridge, Body,
        callback = super::on_share::Endpoint, spec = "v3/hiecm-patient-share.yaml",
        headers = crate::v3::TO_HIP);
}

pub mod on_share {
    //! `POST /api/hiecm/patient-share/v3/on-share` — `patient-share 2`: the token number, or why
    //! not (`status` `FAILURE` with `error`). NHA's single branch requires `acknowledgement` and
    //! `error` together; one of them is sent.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub acknowledgement: Acknowledgement,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Acknowledgement {
        /// `SUCCESS` or `FAILURE`.
        pub status: String,
        pub abha_address: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub profile: Option<TokenProfile>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TokenProfile {
        pub context: String,
        pub token_number: String,
        /// Seconds the token is valid (a string in some pages).
        #[serde(with = "number_or_text")]
        pub expiry: u32,
    }

    crate::operation!(Post "/api/hiecm/patient-share/v3/on-share", Gateway, Reply<Body>,
        spec = "v3/hiecm-patient-share.yaml", headers = crate::v3::CALL);
}
