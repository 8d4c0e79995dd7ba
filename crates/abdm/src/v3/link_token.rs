//! The HIP's link token (`hiecm-link-token.yaml`): one call with the patient's demographics, where
//! v0.5 needed fetch-modes, init and confirm. The token is an RS512 JWT valid about six months,
//! kept per patient; asking again within about six minutes is refused (`ABDM-1092`).

use serde::{Deserialize, Serialize};

use super::common::{abha_number, number_or_text, Gender, Reply};

pub mod generate_token {
    //! `POST /api/hiecm/v3/token/generate-token` — `abdm-link-token 1`. The demographics must
    //! match the ABHA, or the callback carries an error.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        /// 14 digits, as a JSON number; absent when the address has no number.
        #[serde(default, with = "abha_number", skip_serializing_if = "Option::is_none")]
        pub abha_number: Option<String>,
        /// `null` when the patient has no ABHA address (NHA requires the key, allows null).
        pub abha_address: Option<String>,
        /// Letters and `',. -` only.
        pub name: String,
        pub gender: Gender,
        #[serde(with = "number_or_text")]
        pub year_of_birth: u32,
    }

    crate::operation!(Post "/api/hiecm/v3/token/generate-token", Gateway, Body,
        callback = super::on_generate_token::Endpoint, spec = "v3/hiecm-link-token.yaml",
        headers = crate::v3::CALL_AS_HIP);
}

pub mod on_generate_token {
    //! `POST {bridge}/api/v3/hip/token/on-generate-token` — `link-token 1`: the token, or why not.
    use super::*;

    #[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub abha_address: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub link_token: Option<String>,
    }

    crate::debug_showing!(Body { abha_address });

    crate::operation!(Post "/api/v3/hip/token/on-generate-token", Bridge, Reply<Body>,
        spec = "v3/hiecm-link-token.yaml", headers = crate::v3::TO_HIP);
}
