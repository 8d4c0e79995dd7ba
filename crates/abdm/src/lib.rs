//! The ABDM wire protocol, one module per endpoint.
//!
//! Each endpoint module holds the request or callback body beside its method and path (an
//! [`Operation`]) and a doc line naming the operation in NHA's OpenAPI
//! (`shared/abdm-openapi/`). Generations are separate modules: [`v0_5`] (the gateway and consent
//! manager v0.5, as the seed describes) and [`healthid_v1`] (ABHA registration and login); ABDM v3 will
//! be a third module behind the same flow interface in `desk-core`.
//!
//! Besides the types: [`GatewayClient`] (session tokens, request ids, headers, typed errors) and
//! [`jwt`] (verification of the gateway's bearer tokens against its JWKS).

pub mod client;
pub mod common;
pub mod error;
pub mod healthid_v1;
pub mod ids;
pub mod jwt;
pub mod v0_5;

pub use client::{GatewayClient, GatewayConfig};
pub use common::*;
pub use error::AbdmError;

/// HTTP methods ABDM uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// Who serves an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The gateway (consent manager behind it): we call it.
    Gateway,
    /// A HIP's or HIU's bridge: the gateway calls it (we serve these, through the relay).
    Bridge,
    /// The ABHA (health id) service.
    HealthId,
}

/// One ABDM API operation.
pub trait Operation {
    /// The whole JSON body.
    type Body: serde::Serialize + serde::de::DeserializeOwned;
    const METHOD: Method;
    /// Path below the server's base URL.
    const PATH: &'static str;
    const SERVER: Server;
    /// Path of the callback that answers this request, if one does.
    const CALLBACK: Option<&'static str> = None;
}

/// Implements [`Operation`] for an endpoint module's `Endpoint` marker.
macro_rules! operation {
    ($method:ident $path:literal, $server:ident, $body:ty $(, callback = $callback:literal)?) => {
        /// This endpoint's method, path and body.
        #[derive(Debug, Clone, Copy)]
        pub struct Endpoint;
        impl $crate::Operation for Endpoint {
            type Body = $body;
            const METHOD: $crate::Method = $crate::Method::$method;
            const PATH: &'static str = $path;
            const SERVER: $crate::Server = $crate::Server::$server;
            $(const CALLBACK: Option<&'static str> = Some($callback);)?
        }
    };
}
pub(crate) use operation;
