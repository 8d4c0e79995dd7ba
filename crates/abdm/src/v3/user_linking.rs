//! Patient-initiated linking, HIP side (`hiecm-user-initiated-linking.yaml`): the gateway asks our
//! HIP to discover the patient, to start linking what they chose (we send our own OTP), and to
//! confirm it; we answer each with its `on-*` call.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::common::{number_or_text, Gender, Identifier, IdentifierType, PatientContexts, Reply};
use super::Timestamp;

pub mod discover {
    //! `POST {bridge}/api/v3/hip/patient/care-context/discover` — `abdm-user-initiated-linking 1`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        pub patient: Patient,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Patient {
        /// The ABHA address.
        pub id: String,
        pub name: String,
        pub gender: Gender,
        #[serde(with = "number_or_text")]
        pub year_of_birth: u32,
        pub verified_identifiers: Vec<Identifier>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub unverified_identifiers: Vec<Identifier>,
    }

    crate::operation!(Post "/api/v3/hip/patient/care-context/discover", Bridge, Body,
        callback = super::on_discover::Endpoint,
        spec = "v3/hiecm-user-initiated-linking.yaml", headers = crate::v3::TO_HIP);
}

pub mod on_discover {
    //! `POST /api/hiecm/user-initiated-linking/v3/patient/care-context/on-discover` —
    //! `abdm-user-initiated-linking 2`. No match is an `error` (`ABDM-1012`) with no `patient`
    //! (NHA requires `patient` and `matchedBy` in every answer). Nothing clinical in `display`:
    //! whoever reads it is not yet proven to be the patient.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub patient: Vec<PatientContexts>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub matched_by: Vec<IdentifierType>,
    }

    crate::operation!(Post "/api/hiecm/user-initiated-linking/v3/patient/care-context/on-discover",
        Gateway, Reply<Body>, spec = "v3/hiecm-user-initiated-linking.yaml",
        headers = crate::v3::CALL);
}

pub mod init {
    //! `POST {bridge}/api/v3/hip/link/care-context/init` — `abdm-user-initiated-linking 3`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        pub abha_address: String,
        pub patient: Vec<PatientContexts>,
    }

    crate::operation!(Post "/api/v3/hip/link/care-context/init", Bridge, Body,
        callback = super::on_init::Endpoint, spec = "v3/hiecm-user-initiated-linking.yaml",
        headers = crate::v3::TO_HIP);
}

pub mod on_init {
    //! `POST /api/hiecm/user-initiated-linking/v3/link/care-context/on-init` —
    //! `abdm-user-initiated-linking 4`: the OTP went to the patient (we send it), or why not.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub link: Option<Link>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Link {
        pub reference_number: Uuid,
        /// `DIRECT` or `MEDIATED`.
        pub authentication_type: String,
        pub meta: Meta,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Meta {
        /// `MOBILE` or `EMAIL`.
        pub communication_medium: String,
        pub communication_hint: Option<String>,
        pub communication_expiry: Timestamp,
    }

    crate::operation!(Post "/api/hiecm/user-initiated-linking/v3/link/care-context/on-init",
        Gateway, Reply<Body>, spec = "v3/hiecm-user-initiated-linking.yaml",
        headers = crate::v3::CALL);
}

pub mod confirm {
    //! `POST {bridge}/api/v3/hip/link/care-context/confirm` — `abdm-user-initiated-linking 5`.
    use super::*;

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub confirmation: Confirmation,
    }

    crate::debug_showing!(Body {});

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Confirmation {
        pub link_ref_number: Uuid,
        /// The OTP: NHA types it an integer, so `012345` arrives as `12345`. Read as a number or
        /// a string and kept as six digits.
        #[serde(with = "otp_digits")]
        pub token: String,
    }

    crate::debug_showing!(Confirmation { link_ref_number });

    crate::operation!(Post "/api/v3/hip/link/care-context/confirm", Bridge, Body,
        callback = super::on_confirm::Endpoint, spec = "v3/hiecm-user-initiated-linking.yaml",
        headers = crate::v3::TO_HIP);

    mod otp_digits {
        use super::*;

        pub fn serialize<S: Serializer>(otp: &str, s: S) -> Result<S::Ok, S::Error> {
            let n: u32 = otp
                .parse()
                .map_err(|_| serde::ser::Error::custom("an OTP is digits"))?;
            s.serialize_u32(n)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
            let text = match serde_json::Value::deserialize(d)? {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s,
                _ => return Err(serde::de::Error::custom("an OTP is digits")),
            };
            if text.is_empty() || text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(serde::de::Error::custom("an OTP is up to six digits"));
            }
            Ok(format!("{text:0>6}"))
        }
    }
}

pub mod on_confirm {
    //! `POST /api/hiecm/user-initiated-linking/v3/link/care-context/on-confirm` —
    //! `abdm-user-initiated-linking 6`: the contexts now linked, grouped by HI type.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub patient: Vec<PatientContexts>,
    }

    crate::operation!(Post "/api/hiecm/user-initiated-linking/v3/link/care-context/on-confirm",
        Gateway, Reply<Body>, spec = "v3/hiecm-user-initiated-linking.yaml",
        headers = crate::v3::CALL);
}
