//! Sessions, certificates and bridge registration (gateway spec, *sessions* and *services*).

use serde::{Deserialize, Serialize};

#[allow(clippy::module_inception)] // the endpoint is `sessions`, in the sessions family
pub mod sessions {
    //! `POST /v0.5/sessions` — "Get access token" (gateway spec, *sessions*).
    use super::*;

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub client_id: String,
        pub client_secret: String,
        pub grant_type: GrantType,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub refresh_token: Option<String>,
    }

    crate::debug_showing!(Body {
        client_id,
        grant_type
    });

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum GrantType {
        ClientCredentials,
        RefreshToken,
    }

    /// `SessionResponse`.
    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        pub access_token: String,
        pub expires_in: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub refresh_expires_in: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub refresh_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub token_type: Option<String>,
    }

    crate::debug_showing!(Response {
        expires_in,
        token_type
    });

    crate::operation!(Post "/v0.5/sessions", Gateway, Body, response = Response, spec = "gateway-0.5.yaml");
}

pub mod certs {
    //! `GET /v0.5/certs` — "Get certs for JWT verification" (gateway spec, *sessions*): the JWKS.
    use super::*;

    /// `Certs`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Response {
        pub keys: Vec<Jwk>,
    }

    /// `CertificateOrKeyGetSchema`: an RSA public key.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Jwk {
        pub kid: String,
        pub kty: String,
        pub alg: String,
        #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
        pub key_use: Option<String>,
        pub n: String,
        pub e: String,
    }

    crate::operation!(Get "/v0.5/certs", Gateway, (), response = Response, spec = "gateway-0.5.yaml");
}

pub mod bridges {
    //! `PATCH /v1/bridges` — registers the bridge URL (ABDM's sandbox docs; not in NHA's v0.5 spec).
    //! Answers 202 with an empty body.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub url: String,
    }

    crate::operation!(Patch "/v1/bridges", Gateway, Body, spec = "ABDM's sandbox docs (not in NHA's v0.5 OpenAPI)");
}

pub mod get_services {
    //! `GET /v1/bridges/getServices` — the services (HIP/HIU ids) linked to this bridge (ABDM's
    //! sandbox docs; not in NHA's v0.5 spec).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Service {
        pub id: String,
        pub name: String,
        pub types: Vec<crate::v0_5::ServiceKind>,
        pub active: bool,
    }

    pub type Response = Vec<Service>;

    crate::operation!(Get "/v1/bridges/getServices", Gateway, (), response = Response, spec = "ABDM's sandbox docs (not in NHA's v0.5 OpenAPI)");
}
