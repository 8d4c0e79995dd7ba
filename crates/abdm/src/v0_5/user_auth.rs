//! Patient authentication for linking (gateway spec, *user auth*): fetch-modes → init → confirm,
//! each answered by its `on-*` callback. The confirm callback carries the linking token.

use serde::{Deserialize, Serialize};

use super::common::{
    AuthMode, AuthPurpose, Callback, Gender, Identifier, PatientAddress, Request, Requester,
    Timestamp,
};

pub mod fetch_modes {
    //! `POST /v0.5/users/auth/fetch-modes` — "Get a patient's authentication modes relevant to
    //! specified purpose" (`PatientAuthModeQueryRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub query: Query,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Query {
        /// ABHA address or number.
        pub id: String,
        pub purpose: AuthPurpose,
        pub requester: Requester,
    }

    crate::operation!(Post "/v0.5/users/auth/fetch-modes", Gateway, Request<Body>, callback = super::on_fetch_modes::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_fetch_modes {
    //! `POST /v0.5/users/auth/on-fetch-modes` — "Identification result for a consent-manager user-id"
    //! (`PatientAuthModeQueryResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auth: Option<Modes>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Modes {
        pub purpose: AuthPurpose,
        pub modes: Vec<AuthMode>,
    }

    crate::operation!(Post "/v0.5/users/auth/on-fetch-modes", Bridge, Callback<Body>, spec = "hip-0.5.yaml");
}

pub mod init {
    //! `POST /v0.5/users/auth/init` — "Initialize authentication from HIP" (`PatientAuthInitRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        pub query: Query,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Query {
        pub id: String,
        pub purpose: AuthPurpose,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auth_mode: Option<AuthMode>,
        pub requester: Requester,
    }

    crate::operation!(Post "/v0.5/users/auth/init", Gateway, Request<Body>, callback = super::on_init::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_init {
    //! `POST /v0.5/users/auth/on-init` — "Response to user authentication initialization from HIP"
    //! (`PatientAuthInitResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auth: Option<Auth>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Auth {
        pub transaction_id: String,
        pub mode: AuthMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub meta: Option<Meta>,
    }

    /// `AuthMeta`: where the OTP went and until when it is valid.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Meta {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hint: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expiry: Option<String>,
    }

    crate::operation!(Post "/v0.5/users/auth/on-init", Bridge, Callback<Body>, spec = "hip-0.5.yaml");
}

pub mod confirm {
    //! `POST /v0.5/users/auth/confirm` — "Confirmation request sending token, otp or other
    //! authentication details from HIP/HIU for confirmation" (`PatientAuthConfirmRequest`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub transaction_id: String,
        pub credential: Credential,
    }

    /// An OTP (`authCode`) or the patient's demographics.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Credential {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auth_code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub demographic: Option<Demographic>,
    }

    /// `PatientDemographic`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Demographic {
        pub name: String,
        pub gender: Gender,
        /// `YYYY-MM-DD` (or `YYYY`).
        pub date_of_birth: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub identifier: Option<crate::v0_5::Identifier>,
    }

    crate::operation!(Post "/v0.5/users/auth/confirm", Gateway, Request<Body>, callback = super::on_confirm::Endpoint, spec = "gateway-0.5.yaml");
}

pub mod on_confirm {
    //! `POST /v0.5/users/auth/on-confirm` — "callback API for /auth/confirm … to confirm user
    //! authentication or not" (`PatientAuthConfirmResponse`). `auth.accessToken` is the linking token.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auth: Option<Auth>,
    }

    #[derive(Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Auth {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub access_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub patient: Option<Patient>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub validity: Option<Validity>,
    }

    crate::debug_showing!(Auth { patient, validity });

    /// `PatientDemographicResponse`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Patient {
        pub id: String,
        pub name: String,
        pub gender: Gender,
        pub year_of_birth: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<PatientAddress>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub identifiers: Vec<Identifier>,
    }

    /// `AccessTokenValidity`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Validity {
        pub purpose: AuthPurpose,
        pub requester: Requester,
        pub expiry: Timestamp,
        pub limit: u32,
    }

    crate::operation!(Post "/v0.5/users/auth/on-confirm", Bridge, Callback<Body>, spec = "hip-0.5.yaml");
}
