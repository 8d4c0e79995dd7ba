//! ABDM v0.5 (gateway) with health id v1: the only module of the desk, besides `v3`, that names
//! `abdm`'s wire types. `prepare` writes calls, `read` reads messages, `abha` is the ABHA service.

mod abha;
pub(crate) mod hiu;
mod prepare;
mod read;

/// Mappings of the schemas v3 shares with v0.5.
pub(crate) use prepare::wire_frequency;
pub(crate) use read::{frequency, status};

use std::sync::Arc;

use abdm::client::Acting as WireActing;
use abdm::v0_5::{health_information as hi, KeyMaterial, ServiceKind};
use abdm::{AbdmError, GatewayClient};
use serde_json::Value;
use uuid::Uuid;

pub use abha::HealthIdV1;

use super::hip::DataPage;
use super::{Acting, AnyAbha, Call, Event, Gateway, Generation, Outgoing, Prepared};

/// ABDM v0.5 with health id v1.
pub struct V05 {
    client: Arc<GatewayClient>,
    /// Our HIP/HIU service id.
    service_id: String,
    abha: AnyAbha,
}

impl V05 {
    /// The gateway behind `client`, acting for `service_id`.
    pub fn new(client: GatewayClient, service_id: impl Into<String>) -> Self {
        let client = Arc::new(client);
        Self {
            abha: AnyAbha::V1(HealthIdV1::new(client.clone())),
            client,
            service_id: service_id.into(),
        }
    }

    pub(crate) fn abha_any(&self) -> &AnyAbha {
        &self.abha
    }
}

impl Gateway for V05 {
    type Abha = HealthIdV1;

    fn generation(&self) -> Generation {
        Generation::V05
    }

    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared {
        prepare::prepare(&self.service_id, call, request_id)
    }

    async fn send(&self, prepared: &Prepared, out: Outgoing) -> Result<(), AbdmError> {
        let acting = match &prepared.acting {
            Acting::Hip(id) => WireActing::Hip(id.clone()),
            Acting::Hiu(id) => WireActing::Hiu(id.clone()),
            Acting::None => WireActing::Bridge,
        };
        // v0.5 carries the request id and the time in the body: the id as prepared, the time now.
        let mut body = prepared.body.clone();
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "requestId".into(),
                Value::String(out.request_id.to_string()),
            );
            object.insert("timestamp".into(), Value::String(out.timestamp.to_string()));
        }
        self.client.send_json(&prepared.path, &body, &acting).await
    }

    fn read(&self, path: &str, _request_id: Option<&str>, body: &Value) -> Result<Event, String> {
        // v0.5 carries the request id in the body.
        read::read(path, body)
    }

    fn abha(&self) -> &HealthIdV1 {
        match &self.abha {
            AnyAbha::V1(h) => h,
            AnyAbha::V3(_) => unreachable!("a v0.5 gateway holds health id v1"),
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
        page_body(page)
    }
}

/// One page of a push as the HIU's `dataPushUrl` takes it (the same body in v0.5 and v3).
pub(crate) fn page_body(page: &DataPage) -> Value {
    let body = hi::transfer::Body {
        page_number: page.page_number,
        page_count: page.page_count,
        transaction_id: page.transaction_id,
        entries: page
            .entries
            .iter()
            .map(|e| hi::transfer::Entry {
                content: Some(e.content.clone()),
                link: None,
                media: "application/fhir+json".into(),
                checksum: e.checksum.clone(),
                care_context_reference: e.care_context.clone(),
            })
            .collect(),
        key_material: KeyMaterial::curve25519(
            page.sender_public_key.clone(),
            page.sender_nonce.clone(),
            abdm::Timestamp::from(page.expiry),
        ),
    };
    serde_json::to_value(body).expect("wire types serialize")
}
