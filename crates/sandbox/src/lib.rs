//! Our offline ABDM: a faithful simulator of the gateway, the ABHA service and the consent manager
//! acting for patients, in both generations at once (v0.5 with health id v1; HIECM v3 with ABHA v3,
//! in `v3`, over the same domain), and a peer HIP and HIU. It is the desk app's embedded default
//! (so a clinic can try every flow without credentials) and the peer every test talks to.
//!
//! Like ABDM, every gateway write answers 202 and the result arrives later as a callback to the
//! caller's registered bridge URL, with a gateway bearer token and `resp.requestId`. OTPs go to a
//! simulated patient phone (`GET /phone`). Faults (dropped, duplicated or reordered callbacks, 5xx,
//! black-holed services, redelivery) are injected by configuration or `PUT /admin/faults`, and every
//! exchange can be written to a JSONL exchange log.
//!
//! Layout of the URL space: `/gateway/…` (gateway v0.5), `/healthid/…` (ABHA service v1),
//! `/api/hiecm/…` (HIECM v3), `/abha/api/…` (ABHA v3), `/peer-hiu/…` (the peer HIU's data-push URL),
//! `/phone` and `/admin/…` (the simulated patient and the operator).

// Handlers return `Result<_, axum::Response>` so that an error reply short-circuits with `?`; the
// response is large, and that is fine on this path.
#![allow(clippy::result_large_err)]

mod admin;
mod app;
mod cm;
mod domain;
mod exchange_log;
mod operator;
mod peers;
mod tokens;
mod v0_5;
mod v3;

use domain::state;

use std::net::SocketAddr;
use std::sync::Arc;

pub use app::{ClientSpec, SandboxConfig};
pub use cm::{PEER_HIP_ID, PEER_HIU_ID};
pub use exchange_log::redact;
pub use operator::Operator;
pub use state::{aadhaar_with_check, ConsentPolicy, Faults, PushCorruption};

/// The desk app's default credentials against the sandbox (they only open the simulator).
pub const DEFAULT_CLIENT_ID: &str = "abdm-desk";
/// The default client's secret (opens only the simulator).
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";
/// The default clinic's service id (HIP and HIU).
pub const DEFAULT_SERVICE_ID: &str = "IN2710000001_1";
/// Largest request body accepted (a multi-page data push stays well below).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// A running sandbox.
pub struct Sandbox {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Binds and serves in the background of the current tokio runtime.
    pub async fn start(mut config: SandboxConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        config.listen = addr;
        let app = Arc::new(app::App::new(config, format!("http://{addr}"))?);
        let router = app::with_common_layers(
            v0_5::gateway::routes()
                .merge(v3::routes())
                .merge(v0_5::healthid::routes())
                .merge(cm::routes())
                .merge(admin::routes()),
            app.clone(),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        tracing::info!(%addr, "ABDM sandbox listening");
        Ok(Self {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Its base URL (`http://ADDR`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL of the gateway (`GatewayConfig::gateway_url`).
    pub fn gateway_url(&self) -> String {
        format!("{}/gateway", self.url())
    }

    /// Base URL of the ABHA service (`GatewayConfig::healthid_url`).
    pub fn healthid_url(&self) -> String {
        format!("{}/healthid", self.url())
    }

    /// A client of this sandbox's phone and operator pages.
    pub fn operator(&self) -> Operator {
        Operator::new(self.url())
    }

    /// The gateway's JWKS (what a relay verifies callbacks against).
    pub fn jwks_url(&self) -> String {
        format!("{}/v0.5/certs", self.gateway_url())
    }

    /// A gateway client configuration for the default desk client (v0.5).
    pub fn client_config(&self) -> abdm::GatewayConfig {
        self.client_config_for(abdm::Generation::V05)
    }

    /// A gateway client configuration for the default desk client, speaking `generation`: v0.5
    /// below `/gateway` and `/healthid`, v3 at the root (`/api/hiecm/…`) and below `/abha/api`.
    pub fn client_config_for(&self, generation: abdm::Generation) -> abdm::GatewayConfig {
        let (gateway_url, healthid_url) = match generation {
            abdm::Generation::V05 => (self.gateway_url(), self.healthid_url()),
            abdm::Generation::V3 => (self.url(), format!("{}/abha/api", self.url())),
        };
        abdm::GatewayConfig {
            gateway_url,
            healthid_url,
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            cm_id: "sbx".into(),
            timeout: std::time::Duration::from_secs(10),
            generation,
        }
    }

    /// Stops it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}
