//! The relay on loopback with the real sandbox as the gateway and the real stream client as the desk.
#![allow(dead_code)]

use std::time::Duration;

use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{ClientSpec, Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use relay_client::{
    ClientConfig, ClinicKey, Committed, Connection, Consumer, ConsumerError, Delivery,
};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

pub const TOKEN: &str = "clinic-one-stream-token";
/// Another ABDM participant the sandbox issues session tokens to.
pub const OTHER_CLIENT: &str = "other-vendor";
pub const OTHER_SECRET: &str = "other-secret";
pub const OTHER_SERVICE: &str = "IN2710000099_1";

pub struct Collector {
    pub committed: Committed,
    pub tx: mpsc::UnboundedSender<Delivery>,
}

impl Consumer for Collector {
    async fn committed(&mut self) -> Committed {
        self.committed
    }
    async fn apply(&mut self, d: Delivery) -> Result<(), ConsumerError> {
        self.committed = Committed {
            seq: d.seq,
            id: d.id,
        };
        self.tx.send(d).map_err(|e| ConsumerError(e.to_string()))
    }
}

/// A desk consuming the relay stream in the background.
pub struct Desk {
    pub rx: mpsc::UnboundedReceiver<Delivery>,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<Committed>,
    pub status: watch::Receiver<Connection>,
}

impl Desk {
    pub fn start(relay_url: &str, key: &ClinicKey, committed: Committed) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let (status_tx, status) = watch::channel(Connection::Connecting);
        let mut config = ClientConfig::new(relay_url, TOKEN, key.clone());
        config.backoff_min = Duration::from_millis(50);
        config.backoff_max = Duration::from_millis(200);
        let task = tokio::spawn(async move {
            let mut collector = Collector { committed, tx };
            relay_client::run(config, &mut collector, status_tx, stop_rx).await;
            collector.committed
        });
        Self {
            rx,
            stop,
            task,
            status,
        }
    }

    pub async fn next(&mut self, wait: Duration) -> Option<Delivery> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    pub async fn stop(self) -> Committed {
        self.stop.send_replace(true);
        self.task.await.unwrap()
    }
}

pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "relay-test-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

pub struct World {
    pub sandbox: Sandbox,
    pub relay: RelayServer,
    /// The desk's own gateway client (its tokens must NOT open callback routes).
    pub client: abdm::GatewayClient,
    pub key: ClinicKey,
    pub dir: TempDir,
    pub http: reqwest::Client,
}

impl World {
    pub async fn start(name: &str, tweak: impl FnOnce(RelayConfig) -> RelayConfig) -> Self {
        Self::with_sandbox(name, SandboxConfig::default(), tweak).await
    }

    pub async fn with_sandbox(
        name: &str,
        sandbox_config: SandboxConfig,
        tweak: impl FnOnce(RelayConfig) -> RelayConfig,
    ) -> Self {
        Self::with_sandbox_and(name, sandbox_config, |_, c| tweak(c)).await
    }

    /// As [`World::with_sandbox`], with the sandbox at hand for the relay's settings.
    pub async fn with_sandbox_and(
        name: &str,
        sandbox_config: SandboxConfig,
        tweak: impl FnOnce(&Sandbox, RelayConfig) -> RelayConfig,
    ) -> Self {
        let sandbox = Sandbox::start(SandboxConfig {
            callback_delay: Duration::from_millis(10),
            clients: vec![
                ClientSpec::desk_default(),
                ClientSpec::parse(&format!("{OTHER_CLIENT}:{OTHER_SECRET}:{OTHER_SERVICE}"))
                    .unwrap(),
            ],
            ..sandbox_config
        })
        .await
        .unwrap();
        let dir = temp_dir(name);
        let key = ClinicKey::generate();
        let config = tweak(
            &sandbox,
            RelayConfig {
                base_path: "/abdm".into(),
                body_limit: 256 * 1024,
                metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
                ..RelayConfig::new(
                    dir.0.join("data"),
                    sandbox.jwks_url(),
                    vec![Clinic::new(
                        "clinic-1",
                        TOKEN,
                        key.public(),
                        vec![DEFAULT_SERVICE_ID.into()],
                    )],
                )
            },
        );
        let relay = RelayServer::start(config).await.unwrap();
        let client = abdm::GatewayClient::new(sandbox.client_config());
        client
            .register_bridge(&format!("{}/abdm", relay.url()))
            .await
            .unwrap();
        World {
            sandbox,
            relay,
            client,
            key,
            dir,
            http: reqwest::Client::new(),
        }
    }

    /// The token the gateway itself puts on callbacks (issued `ago` seconds back).
    pub async fn gateway_token_issued(&self, ago: u64) -> String {
        let v: Value = self
            .http
            .post(format!("{}/admin/gateway-token", self.sandbox.url()))
            .json(&serde_json::json!({"issuedSecondsAgo": ago}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["accessToken"].as_str().unwrap().to_string()
    }

    pub async fn gateway_token(&self) -> String {
        self.gateway_token_issued(0).await
    }

    /// A valid session token of another ABDM client.
    pub async fn other_clients_token(&self) -> String {
        let mut config = self.sandbox.client_config();
        config.client_id = OTHER_CLIENT.into();
        config.client_secret = OTHER_SECRET.into();
        abdm::GatewayClient::new(config)
            .session_token()
            .await
            .unwrap()
    }

    pub fn callback_url(&self, path: &str) -> String {
        format!("{}/abdm{path}", self.relay.url())
    }

    pub fn depth(&self) -> u64 {
        self.relay.mailbox("clinic-1").depth
    }

    pub async fn wait_depth(&self, n: u64) {
        for _ in 0..200 {
            if self.depth() == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(self.depth(), n);
    }

    pub async fn stop(self) {
        self.relay.stop().await;
        self.sandbox.stop().await;
    }
}
