//! The port: what the desk's flows need from ABDM, in the flows' words. Only `gateway::v0_5` and
//! `gateway::v3` may name `abdm`'s wire types; flows speak [`Call`], [`Event`] and the
//! [`AbhaService`] journeys, so a new generation is a new module here, not new flows. Where v3
//! differs in kind (the link token in one call, `context/notify` after linking), the flows ask
//! [`Gateway::generation`] and follow it.
//!
//! * Asynchronous calls (answered later by a callback through the relay) are [`Prepared`] once,
//!   stored in the outbox with their request id, and sent by [`Gateway::send`] with a fresh
//!   [`Outgoing`] (request id kept, timestamp new): v0.5 writes both into the body, v3 into headers.
//! * What the relay delivers is read by [`Gateway::read`] into an [`Event`].
//! * The ABHA service is synchronous and patient-present: [`AbhaService`].
//! * [`AnyGateway`] chooses a generation at run time.

mod abha;
mod call;
mod event;
pub mod hip;
pub mod hiu;
pub mod v0_5;
pub mod v3;

use std::future::Future;

use abdm::AbdmError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

pub use abha::{
    AbhaAccount, AbhaService, AccountChoice, AnyAbha, EnrolStep, Found, LoginMethod, Txn,
};
pub use call::{AuthMode, Call, ContextRef};
pub use event::{Answer, Event, Incoming, SharedProfile};

pub use abdm::Generation;

/// The service a call acts for (`X-HIP-ID` / `X-HIU-ID`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acting {
    /// As the clinic's HIP.
    Hip(String),
    /// As the clinic's HIU.
    Hiu(String),
    /// Neither.
    None,
}

/// A call ready for the outbox: where it goes and what is sent. `Debug` leaves the body out: it
/// may hold an OTP or a linking token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Prepared {
    /// The operation's path.
    pub path: String,
    /// The body; v0.5 rewrites its `timestamp` at each send.
    pub body: Value,
    /// `X-HIP-ID`/`X-HIU-ID`.
    pub acting: Acting,
    /// v3's `X-LINK-TOKEN` (care-context linking only); scrubbed with the body once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_token: Option<String>,
    /// The generation it was written for: a clinic that moves to another sends it no more.
    #[serde(default)]
    pub generation: Generation,
}

impl Prepared {
    /// A call to `path` with `body`, acting as `acting`.
    pub fn new(path: impl Into<String>, body: Value, acting: Acting) -> Self {
        Self {
            path: path.into(),
            body,
            acting,
            link_token: None,
            generation: Generation::V05,
        }
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("path", &self.path)
            .field("acting", &self.acting)
            .finish_non_exhaustive()
    }
}

/// What changes with each send of the same call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Fixed for the life of the call: a retry is the same request.
    pub request_id: Uuid,
    /// The moment of this send.
    pub timestamp: abdm::Timestamp,
}

/// One protocol generation of the gateway (HIECM).
pub trait Gateway: Send + Sync + 'static {
    /// Its ABHA service.
    type Abha: AbhaService;
    /// Which generation this is.
    fn generation(&self) -> Generation;
    /// The wire form of a call, with its (stable) request id.
    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared;
    /// Sends a prepared call once.
    fn send(
        &self,
        prepared: &Prepared,
        out: Outgoing,
    ) -> impl Future<Output = Result<(), AbdmError>> + Send;
    /// Reads a message the relay delivered: its path, the call's `REQUEST-ID` header (v3 keeps
    /// the request id there) and its body.
    fn read(&self, path: &str, request_id: Option<&str>, body: &Value) -> Result<Event, String>;
    /// The ABHA service of this generation.
    fn abha(&self) -> &Self::Abha;
    /// Gets a new session token (not a cached one): proves ABDM answers and takes the client
    /// id and secret now.
    fn check_credentials(&self) -> impl Future<Output = Result<(), AbdmError>> + Send;
    /// Links the clinic's HFR id to our bridge as HIP and HIU.
    fn register_facility(
        &self,
        hf_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), AbdmError>> + Send;
    /// Registers the bridge URL (the relay's public address).
    fn register_bridge(&self, url: &str) -> impl Future<Output = Result<(), AbdmError>> + Send;
    /// The body of one page of health data for a HIU's `dataPushUrl` (the desk posts it itself:
    /// a push goes to a hospital, never with the clinic's ABDM session).
    fn page_body(&self, page: &hip::DataPage) -> Value;
}

/// A gateway chosen at run time (the clinic's setting).
pub enum AnyGateway {
    /// v0.5 with health id v1.
    V05(v0_5::V05),
    /// HIECM v3 with ABHA v3.
    V3(v3::V3),
}

impl AnyGateway {
    /// The generation `client` is configured for, acting for `service_id`.
    pub fn new(client: abdm::GatewayClient, service_id: impl Into<String>) -> Self {
        match client.config().generation {
            Generation::V05 => AnyGateway::V05(v0_5::V05::new(client, service_id)),
            Generation::V3 => AnyGateway::V3(v3::V3::new(client, service_id)),
        }
    }
}

/// Calls `$body` on whichever generation `$self` holds, as `$g`.
macro_rules! each {
    ($self:expr, $g:ident => $body:expr) => {
        match $self {
            AnyGateway::V05($g) => $body,
            AnyGateway::V3($g) => $body,
        }
    };
}

impl Gateway for AnyGateway {
    type Abha = AnyAbha;
    fn generation(&self) -> Generation {
        each!(self, g => g.generation())
    }
    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared {
        each!(self, g => g.prepare(call, request_id))
    }
    async fn send(&self, prepared: &Prepared, out: Outgoing) -> Result<(), AbdmError> {
        // A call queued before the clinic changed ABDM version has the other generation's form.
        if prepared.generation != self.generation() {
            return Err(AbdmError::Unexpected {
                what: "a step queued for another ABDM version".into(),
                detail: format!(
                    "it was written for ABDM {}, and the clinic now speaks {}: do this step again",
                    prepared.generation.as_str(),
                    self.generation().as_str()
                ),
            });
        }
        each!(self, g => g.send(prepared, out).await)
    }
    fn read(&self, path: &str, request_id: Option<&str>, body: &Value) -> Result<Event, String> {
        each!(self, g => g.read(path, request_id, body))
    }
    fn abha(&self) -> &AnyAbha {
        each!(self, g => g.abha_any())
    }
    async fn check_credentials(&self) -> Result<(), AbdmError> {
        each!(self, g => g.check_credentials().await)
    }
    async fn register_facility(&self, hf_id: &str, name: &str) -> Result<(), AbdmError> {
        each!(self, g => g.register_facility(hf_id, name).await)
    }
    async fn register_bridge(&self, url: &str) -> Result<(), AbdmError> {
        each!(self, g => g.register_bridge(url).await)
    }
    fn page_body(&self, page: &hip::DataPage) -> Value {
        each!(self, g => g.page_body(page))
    }
}
