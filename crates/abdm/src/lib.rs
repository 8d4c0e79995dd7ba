//! The ABDM wire protocol, generation first, one module per endpoint.
//!
//! * [`v0_5`] — the gateway and consent manager v0.5 (as the seed describes), with its own
//!   envelopes and schemas ([`v0_5::common`]); [`healthid_v1`] — ABHA registration and login. ABDM
//!   [`v3`] — what live ABDM serves today: HIECM v3 (correlation and routing in headers) and ABHA
//!   v3 (RSA-OAEP on every identifier and OTP), a sibling behind the same port in `desk-core`.
//! * Each endpoint module holds the body beside an `Endpoint` marker implementing [`Operation`]:
//!   method, path, who serves it, the synchronous response type, the callback that answers it (as
//!   a type), and the spec file of NHA's OpenAPI (`shared/abdm-openapi/`) that defines it.
//! * Generation-neutral parts: [`Timestamp`], identifier checks ([`ids`]), the ABHA QR payload
//!   ([`qr`]), error envelopes ([`AbdmError`]), the gateway client ([`GatewayClient`]) and the
//!   verification of the gateway's callback tokens ([`jwt`]).

pub mod client;
pub mod error;
pub mod healthid_v1;
pub mod ids;
pub mod jwt;
pub mod qr;
mod time;
pub mod v0_5;
pub mod v3;

pub use client::{GatewayClient, GatewayConfig, Generation, V3Call};
pub use error::AbdmError;
pub use time::Timestamp;

/// HTTP methods ABDM uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PATCH.
    Patch,
}

impl Method {
    /// The method's name.
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

/// One ABDM API operation, tied to its response and its callback at the type level.
pub trait Operation {
    /// The whole JSON body.
    type Body: serde::Serialize + serde::de::DeserializeOwned;
    /// The synchronous answer (`()` for ABDM's 202-then-callback writes).
    type Response: serde::de::DeserializeOwned;
    /// The operation that answers this one later (`()` when none does).
    type Callback;
    /// The method.
    const METHOD: Method;
    /// Path below the server's base URL.
    const PATH: &'static str;
    /// Who serves it.
    const SERVER: Server;
    /// Path of the callback that answers this request, if one does.
    const CALLBACK: Option<&'static str> = None;
    /// Where NHA specifies it (a file of `shared/abdm-openapi/`, or where else it is documented).
    const SPEC: &'static str;
    /// The headers it carries besides `Authorization`: those NHA requires, and any the live
    /// gateway needs beyond them (v3 moved correlation and routing into headers).
    const HEADERS: &'static [&'static str] = &[];
}

/// `()` when the optional argument is absent.
/// `Debug` for a wire type that carries a secret: only the fields named are shown.
macro_rules! debug_showing {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use debug_showing;

macro_rules! or_unit {
    () => {
        ()
    };
    ($t:ty) => {
        $t
    };
}
pub(crate) use or_unit;

/// Implements [`Operation`] for an endpoint module's `Endpoint` marker.
macro_rules! operation {
    ($method:ident $path:literal, $server:ident, $body:ty
        $(, response = $response:ty)?
        $(, callback = $callback:ty)?
        , spec = $spec:expr
        $(, headers = $headers:expr)?) => {
        /// This endpoint's method, path, body, answer and callback.
        #[derive(Debug, Clone, Copy)]
        pub struct Endpoint;
        impl $crate::Operation for Endpoint {
            type Body = $body;
            type Response = $crate::or_unit!($($response)?);
            type Callback = $crate::or_unit!($($callback)?);
            const METHOD: $crate::Method = $crate::Method::$method;
            const PATH: &'static str = $path;
            const SERVER: $crate::Server = $crate::Server::$server;
            $(const CALLBACK: Option<&'static str> = Some(<$callback as $crate::Operation>::PATH);)?
            const SPEC: &'static str = $spec;
            $(const HEADERS: &'static [&'static str] = $headers;)?
        }
    };
}
pub(crate) use operation;
