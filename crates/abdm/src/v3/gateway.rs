//! The gateway's own calls (`hiecm-gateway.yaml`): sessions, signing keys, the bridge URL and the
//! services registered under it.

use serde::{Deserialize, Serialize};

pub mod sessions {
    //! `POST /api/hiecm/gateway/v3/sessions` — `abdm-sessions 1`: a session token for the
    //! client id. No `Authorization`; NHA declares the success as 202 with the token in the body
    //! (the sandbox answers 200). There is no refresh: a new session is made before expiry.
    use super::*;

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub client_id: String,
        pub client_secret: String,
        /// Always `client_credentials`.
        pub grant_type: String,
    }

    crate::debug_showing!(Body {
        client_id,
        grant_type
    });

    impl Body {
        /// A client-credentials session request.
        pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
            Self {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                grant_type: "client_credentials".into(),
            }
        }
    }

    pub use crate::v0_5::sessions::sessions::Response;

    crate::operation!(Post "/api/hiecm/gateway/v3/sessions", Gateway, Body, response = Response,
        spec = "v3/hiecm-gateway.yaml", headers = crate::v3::CALL);
}

pub mod certs {
    //! `GET /api/hiecm/gateway/v3/certs` — `abdm-sessions 3`: the JWKS, behind the bearer. Two
    //! keys: RS256 signs session and callback tokens, RS512 signs link tokens; pick by `kid`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Response {
        pub keys: Vec<Jwk>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Jwk {
        pub kid: String,
        pub kty: String,
        pub alg: String,
        #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
        pub key_use: Option<String>,
        pub n: String,
        pub e: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub x5c: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub x5t: Option<String>,
    }

    crate::operation!(Get "/api/hiecm/gateway/v3/certs", Gateway, (), response = Response,
        spec = "v3/hiecm-gateway.yaml", headers = crate::v3::CALL);
}

pub mod openid_configuration {
    //! `GET /api/hiecm/gateway/v3/.well-known/openid-configuration` — `abdm-sessions 2`: where
    //! the JWKS is. (NHA's schema requires a `url` it does not define; the gateway sends
    //! `jwks_uri`.)
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Response {
        pub jwks_uri: String,
    }

    crate::operation!(Get "/api/hiecm/gateway/v3/.well-known/openid-configuration", Gateway, (),
        response = Response, spec = "v3/hiecm-gateway.yaml",
        headers = crate::v3::CALL);
}

pub mod bridge_url {
    //! `PATCH /api/hiecm/gateway/v3/bridge/url` — `abdm-gateway3`: the one callback URL of this
    //! client id. The gateway appends `/api/v3/...` to it. Answers 202 with an empty body.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub url: String,
    }

    crate::operation!(Patch "/api/hiecm/gateway/v3/bridge/url", Gateway, Body,
        spec = "v3/hiecm-gateway.yaml", headers = crate::v3::CALL);
}

pub mod bridge_services {
    //! `GET /api/hiecm/gateway/v3/bridge-services` — `abdm-gateway1`: this bridge and its
    //! services. A service's `id` (`<HFR id>_<n>`) is what `X-HIP-ID`/`X-HIU-ID` carry.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Response {
        pub bridge: Bridge,
        pub services: Vec<Service>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Bridge {
        pub id: String,
        pub name: String,
        pub url: String,
        pub active: bool,
        pub blocklisted: bool,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Service {
        pub id: String,
        pub name: String,
        pub types: Vec<String>,
        pub active: bool,
    }

    crate::operation!(Get "/api/hiecm/gateway/v3/bridge-services", Gateway, (), response = Response,
        spec = "v3/hiecm-gateway.yaml", headers = crate::v3::CALL);
}

pub mod bridge_service {
    //! `GET /api/hiecm/gateway/v3/bridge-service/serviceId/{service-id}` — `abdm-gateway2`: one
    //! service of this bridge.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        pub bridge_id: String,
        pub service_id: String,
        pub name: String,
        pub is_hip: bool,
        pub is_hiu: bool,
        pub active: bool,
    }

    crate::operation!(Get "/api/hiecm/gateway/v3/bridge-service/serviceId/{service-id}", Gateway,
        (), response = Response, spec = "v3/hiecm-gateway.yaml",
        headers = crate::v3::CALL);
}
