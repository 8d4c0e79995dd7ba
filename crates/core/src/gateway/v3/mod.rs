//! ABDM v3 (HIECM v3 with ABHA v3): the second generation behind the port, and with `v0_5` the
//! only module of the desk that names `abdm`'s wire types. The request id and time travel in
//! headers; routing by `X-HIP-ID`/`X-HIU-ID`; linking takes a token the HIP asks for once.

mod abha;
mod hiu;
mod journey;
mod login;
mod prepare;
mod read;

use std::sync::Arc;

use abdm::client::Acting as WireActing;
use abdm::v0_5::ServiceKind;
use abdm::{AbdmError, GatewayClient, V3Call};
use serde_json::Value;
use uuid::Uuid;

pub use abha::AbhaV3;

use super::hip::DataPage;
use super::{Acting, AnyAbha, Call, Event, Gateway, Generation, Outgoing, Prepared};

/// ABDM v3.
pub struct V3 {
    client: Arc<GatewayClient>,
    /// Our HIP/HIU service id.
    service_id: String,
    abha: AnyAbha,
}

impl V3 {
    /// The gateway behind `client` (configured for v3), acting for `service_id`.
    pub fn new(client: GatewayClient, service_id: impl Into<String>) -> Self {
        let client = Arc::new(client);
        Self {
            abha: AnyAbha::V3(AbhaV3::new(client.clone())),
            client,
            service_id: service_id.into(),
        }
    }

    pub(crate) fn abha_any(&self) -> &AnyAbha {
        &self.abha
    }
}

impl Gateway for V3 {
    type Abha = AbhaV3;

    fn generation(&self) -> Generation {
        Generation::V3
    }

    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared {
        Prepared {
            generation: Generation::V3,
            ..prepare::prepare(&self.service_id, call, request_id)
        }
    }

    async fn send(&self, prepared: &Prepared, out: Outgoing) -> Result<(), AbdmError> {
        let acting = match &prepared.acting {
            Acting::Hip(id) => WireActing::Hip(id.clone()),
            Acting::Hiu(id) => WireActing::Hiu(id.clone()),
            Acting::None => WireActing::Bridge,
        };
        let call = V3Call {
            request_id: out.request_id,
            timestamp: out.timestamp,
            acting: &acting,
            link_token: prepared.link_token.as_deref(),
        };
        self.client
            .send_v3(&prepared.path, &prepared.body, &call)
            .await
    }

    fn read(&self, path: &str, request_id: Option<&str>, body: &Value) -> Result<Event, String> {
        read::read(path, request_id, body)
    }

    fn abha(&self) -> &AbhaV3 {
        match &self.abha {
            AnyAbha::V3(a) => a,
            AnyAbha::V1(_) => unreachable!("a v3 gateway holds ABHA v3"),
        }
    }

    async fn check_credentials(&self) -> Result<(), AbdmError> {
        self.client.new_session_token().await.map(|_| ())
    }

    async fn register_facility(&self, hf_id: &str, name: &str) -> Result<(), AbdmError> {
        self.client
            .register_facility(hf_id, name, &[ServiceKind::Hip, ServiceKind::Hiu])
            .await
    }

    async fn register_bridge(&self, url: &str) -> Result<(), AbdmError> {
        self.client.register_bridge(url).await
    }

    fn page_body(&self, page: &DataPage) -> Value {
        super::v0_5::page_body(page)
    }
}
