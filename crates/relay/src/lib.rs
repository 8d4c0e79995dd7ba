//! `abdm-relay`: the clinic's bridge URL.
//!
//! ABDM answers every call later by POSTing to a registered *bridge URL*; a desk app behind NAT,
//! online some of the time, cannot be one. The relay can:
//! * it accepts the gateway's calls at the bridge paths ABDM uses, under its base path, and only with
//!   the **gateway's own** bearer token — RS256 by a published signing key, the realm's issuer, the
//!   gateway's client (`abdm::jwt`): another ABDM client's valid token gets 401;
//! * it accepts HIP → HIU data pushes only at push paths a clinic opened for one request
//!   ([`relay_client::push`]), unguessable and closed after use;
//! * it files each message in its clinic's mailbox (by `X-HIP-ID`/`X-HIU-ID`, or the push path),
//!   **sealed to the clinic's public key** ([`relay_client::seal`]), makes it durable, and only then
//!   answers 202;
//! * it streams the mailbox to the clinic's desk, deleting a message only after the desk
//!   acknowledged it (protocol: `relay-client`).
//!
//! Costs are bounded before work is done: the token is checked before a body is read, connections
//! are capped, headers and bodies must arrive in time, bodies and request ids have size limits, each
//! clinic's mailbox has a message and a byte quota, stream reads are bounded in bytes. `/metrics` is
//! served only on a separate listener. What the relay accepts is exactly what the desk can read: a
//! body is parsed as JSON at ingest with the parser the desk uses, and carried as the bytes received.

mod ingest;
pub mod log;
mod metrics;
mod serve;
pub mod store;
mod stream;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use relay_client::{ClinicPublicKey, Sealer};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

pub use log::{LogConfig, LogStore};
pub use store::{Store, StoreError};

/// One clinic served by this relay.
#[derive(Clone)]
pub struct Clinic {
    /// The clinic's id at this relay.
    pub id: String,
    /// SHA-256 of the clinic's stream token (the token itself lives only in the desk's keyring).
    pub token_sha256: [u8; 32],
    /// The clinic's public key: everything stored for it is sealed to it.
    pub seal_key: ClinicPublicKey,
    /// The HIP/HIU service ids ABDM routes to this clinic.
    pub services: Vec<String>,
}

impl std::fmt::Debug for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clinic")
            .field("id", &self.id)
            .field("seal_key", &self.seal_key)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl Clinic {
    /// A clinic with its token (hashed here) and public key.
    pub fn new(
        id: impl Into<String>,
        token: &str,
        seal_key: ClinicPublicKey,
        services: Vec<String>,
    ) -> Self {
        Self {
            id: id.into(),
            token_sha256: sha256(token.as_bytes()),
            seal_key,
            services,
        }
    }

    /// Parses `ID:TOKEN_SHA256:PUBLIC_KEY:SERVICE[,SERVICE…]` (hashes and keys as 64 hex digits).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.splitn(4, ':').collect();
        let [id, hash, key, services] = parts[..] else {
            return Err(format!(
                "clinic {spec:?}: expected ID:TOKEN_SHA256:PUBLIC_KEY:SERVICE[,SERVICE]"
            ));
        };
        let token_sha256 = unhex(hash).ok_or_else(|| {
            format!(
                "clinic {id}: the token hash must be 64 hex digits (see `abdm-relay hash-token`)"
            )
        })?;
        let seal_key: ClinicPublicKey = key.parse().map_err(|e| {
            format!("clinic {id}: {e} (the desk shows its public key: `deskctl clinic-key`)")
        })?;
        let services: Vec<String> = services
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if id.is_empty() || services.is_empty() {
            return Err(format!(
                "clinic {spec:?}: an id and at least one service id are required"
            ));
        }
        Ok(Self {
            id: id.into(),
            token_sha256,
            seal_key,
            services,
        })
    }
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    (text.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .flatten()
        .and_then(|b| b.try_into().ok())
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Largest body limit: the desk's stream frames must hold the body plus its sealing and header.
pub const MAX_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The relay's settings.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where ABDM and the desks connect.
    pub listen: SocketAddr,
    /// Where `/metrics` is served (never on the public listener); `None`: not at all.
    pub metrics_listen: Option<SocketAddr>,
    /// Where the mailboxes are kept.
    pub data_dir: std::path::PathBuf,
    /// The gateway's JWKS (`…/gateway/v0.5/certs`, or v3's `…/api/hiecm/gateway/v3/certs`).
    pub jwks_url: String,
    /// For v3's JWKS, served only behind a session bearer: an ABDM client the relay gets one
    /// with (its host is the JWKS URL's origin).
    pub jwks_client: Option<JwksClient>,
    /// The issuer callback tokens must carry; by default the central-registry realm on the JWKS's
    /// origin.
    pub jwt_issuer: Option<String>,
    /// The client id callback tokens must name (`gateway`).
    pub gateway_client: String,
    /// How long past `exp` a gateway token is still accepted (ABDM redelivers ~16 min later with
    /// the original token).
    pub jwt_leeway: Duration,
    /// The path under which ABDM calls arrive (the bridge URL's path), e.g. `/` or `/abdm`.
    pub base_path: String,
    /// The bridge paths accepted (by default every v0.5 bridge path).
    pub callback_paths: Vec<String>,
    /// The clinics served.
    pub clinics: Vec<Clinic>,
    /// Largest request body, in bytes (at most [`MAX_BODY_LIMIT`]).
    pub body_limit: usize,
    /// Refuse new messages for a clinic whose mailbox holds this many (and log it loudly).
    pub max_mailbox: u64,
    /// … or this many bytes.
    pub max_mailbox_bytes: u64,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// A request's headers must arrive within this.
    pub header_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_timeout: Duration,
    /// How long a request id is remembered to recognise a redelivery (ABDM redelivers after ~16
    /// minutes); each costs the log store about 100 bytes of memory.
    pub dedupe_window: Duration,
    /// An acknowledged message is off the disk within this long.
    pub erase_within: Duration,
}

/// The ABDM client a relay fetches v3's JWKS with. `Debug` leaves the secret out.
#[derive(Clone)]
pub struct JwksClient {
    /// Its client id.
    pub client_id: String,
    /// Its secret (from the environment, never a flag or a file).
    pub client_secret: String,
    /// `sbx` or `abdm`.
    pub cm_id: String,
}

impl std::fmt::Debug for JwksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksClient")
            .field("client_id", &self.client_id)
            .field("cm_id", &self.cm_id)
            .finish_non_exhaustive()
    }
}

impl JwksClient {
    /// A v3 gateway client on the JWKS URL's host.
    fn gateway_client(&self, jwks_url: &str) -> Result<abdm::GatewayClient, String> {
        let url = url::Url::parse(jwks_url).map_err(|e| format!("{jwks_url}: {e}"))?;
        Ok(abdm::GatewayClient::new(abdm::GatewayConfig {
            gateway_url: url.origin().ascii_serialization(),
            healthid_url: String::new(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            cm_id: self.cm_id.clone(),
            timeout: Duration::from_secs(10),
            generation: abdm::Generation::V3,
        }))
    }
}

impl RelayConfig {
    /// Defaults for everything but where the data lives, the gateway's keys and the clinics.
    pub fn new(data_dir: std::path::PathBuf, jwks_url: String, clinics: Vec<Clinic>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_listen: None,
            data_dir,
            jwks_url,
            jwks_client: None,
            jwt_issuer: None,
            gateway_client: abdm::jwt::GATEWAY_CLIENT.into(),
            jwt_leeway: Duration::from_secs(20 * 60),
            base_path: "/".into(),
            // Both generations at once: a clinic may be on either, and moves without a restart.
            callback_paths: abdm::v0_5::bridge_paths()
                .into_iter()
                .chain(abdm::v3::bridge_paths())
                .map(String::from)
                .collect(),
            clinics,
            body_limit: 16 * 1024 * 1024,
            max_mailbox: 1_000_000,
            max_mailbox_bytes: 1 << 30,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            dedupe_window: Duration::from_secs(2 * 86_400),
            erase_within: Duration::from_secs(3600),
        }
    }

    fn policy(&self) -> Result<abdm::jwt::CallbackPolicy, String> {
        let mut policy = abdm::jwt::CallbackPolicy::for_jwks_url(&self.jwks_url, self.jwt_leeway)
            .map_err(|e| e.to_string())?;
        if let Some(issuer) = &self.jwt_issuer {
            policy.issuer = issuer.clone();
        }
        policy.gateway_client = self.gateway_client.clone();
        Ok(policy)
    }
}

#[derive(Default)]
pub(crate) struct Metrics {
    pub received: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub delivered: AtomicU64,
    pub rejected_auth: AtomicU64,
    pub rejected_input: AtomicU64,
    pub rejected_unknown: AtomicU64,
    pub rejected_full: AtomicU64,
    pub rejected_connections: AtomicU64,
}

/// What the relay keeps per clinic while it runs.
pub(crate) struct ClinicState {
    pub clinic: Clinic,
    pub sealer: Sealer,
    pub waker: Notify,
    /// The highest `seq` known durable: streams never run ahead of it, because a message lost in
    /// a crash frees its `seq` for the next one.
    pub durable: AtomicU64,
    /// Bumped by each new stream, so that an older stream of the same clinic stops.
    pub stream_generation: AtomicU64,
}

pub(crate) struct Relay {
    pub config: RelayConfig,
    pub store: Arc<dyn Store>,
    pub verifier: abdm::jwt::JwksVerifier,
    /// Verified tokens by hash, with their expiry: ABDM reuses one token for many callbacks.
    pub verified: Mutex<HashMap<[u8; 32], u64>>,
    pub by_service: HashMap<String, String>,
    pub clinics: HashMap<String, ClinicState>,
    pub callback_paths: HashSet<String>,
    /// Turns true when the server stops: streams end.
    pub closing: tokio::sync::watch::Sender<bool>,
    pub metrics: Metrics,
    /// Pages and bytes taken per push path (by the hash of its token).
    pub push_usage: Mutex<HashMap<String, (u32, u64)>>,
}

pub(crate) type Shared = Arc<Relay>;

pub(crate) fn reject(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": format!("RELAY-{}", status.as_u16()), "message": message}})),
    )
        .into_response()
}

/// A running relay.
pub struct RelayServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where `/metrics` is served, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    relay: Shared,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RelayServer {
    /// Opens the log store under `data_dir` and starts serving.
    pub async fn start(config: RelayConfig) -> Result<Self, String> {
        let dir = config.data_dir.join("log");
        let disk =
            log::FsDisk::open(&dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        let store = LogStore::open_on(
            Arc::new(disk),
            LogConfig {
                dedupe_window: config.dedupe_window,
                erase_within: config.erase_within,
                ..LogConfig::default()
            },
        )
        .map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        Self::start_with(config, store).await
    }

    /// Starts serving with a given store.
    pub async fn start_with(config: RelayConfig, store: Arc<dyn Store>) -> Result<Self, String> {
        if config.body_limit > MAX_BODY_LIMIT {
            return Err(format!(
                "the body limit may be at most {} MiB (a desk must be able to receive every message)",
                MAX_BODY_LIMIT >> 20
            ));
        }
        let mut by_service = HashMap::new();
        let mut clinics = HashMap::new();
        for clinic in &config.clinics {
            for service in &clinic.services {
                if let Some(other) = by_service.insert(service.clone(), clinic.id.clone()) {
                    return Err(format!(
                        "service {service} is configured for both {other} and {}",
                        clinic.id
                    ));
                }
            }
            let last = store.mailbox(&clinic.id).last;
            clinics.insert(
                clinic.id.clone(),
                ClinicState {
                    clinic: clinic.clone(),
                    sealer: Sealer::new(clinic.seal_key),
                    waker: Notify::new(),
                    durable: AtomicU64::new(last),
                    stream_generation: AtomicU64::new(0),
                },
            );
        }
        let mut verifier = abdm::jwt::JwksVerifier::new(config.jwks_url.clone(), config.policy()?)
            .map_err(|e| e.to_string())?
            .with_refetch_interval(Duration::from_secs(1));
        match &config.jwks_client {
            Some(client) => {
                verifier = verifier.with_session(client.gateway_client(&config.jwks_url)?);
            }
            None if config.jwks_url.contains("/api/hiecm/") => {
                return Err(format!(
                    "{} is ABDM v3's JWKS, served only behind a session: give the relay a client \
                     to fetch it with (--jwks-client-id and ABDM_RELAY_JWKS_CLIENT_SECRET)",
                    config.jwks_url
                ));
            }
            None => {}
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let metrics_listener = match config.metrics_listen {
            Some(at) => Some(
                tokio::net::TcpListener::bind(at)
                    .await
                    .map_err(|e| format!("cannot listen on {at}: {e}"))?,
            ),
            None => None,
        };
        let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
        let relay = Arc::new(Relay {
            closing: tokio::sync::watch::channel(false).0,
            verifier,
            verified: Mutex::new(HashMap::new()),
            callback_paths: config.callback_paths.iter().cloned().collect(),
            clinics,
            by_service,
            store,
            metrics: Metrics::default(),
            push_usage: Mutex::new(HashMap::new()),
            config,
        });
        let base = relay.config.base_path.trim_end_matches('/').to_string();
        let router = Router::new()
            .route(&format!("{base}/push/{{token}}"), post(ingest::push))
            .route(&format!("{base}/{{*rest}}"), post(ingest::callback))
            .route("/stream", get(stream::stream))
            .route(
                "/clinic/push-paths/{token}",
                put(stream::open_push_path).delete(stream::close_push_path),
            )
            .route("/healthz", get(|| async { "ok" }))
            .with_state(relay.clone());
        let mut tasks = vec![tokio::spawn(serve::serve(listener, router, relay.clone()))];
        if let Some(listener) = metrics_listener {
            let app = Router::new()
                .route("/metrics", get(metrics::metrics))
                .with_state(relay.clone());
            let mut closing = relay.closing.subscribe();
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = closing.changed().await;
                    })
                    .await;
            }));
        }
        let pruner = Arc::downgrade(&relay);
        let window = relay.config.dedupe_window;
        let every = (window / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(relay) = pruner.upgrade() else { break };
                let cutoff = store::now_unix().saturating_sub(window.as_secs());
                match relay.store.prune_dedupe(cutoff) {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "forgot old redelivery keys"),
                    Err(e) => tracing::error!(error = %e, "pruning redelivery keys failed"),
                    _ => {}
                }
                let mut cache = relay.verified.lock().expect("token cache");
                let now = store::now_unix();
                let leeway = relay.config.jwt_leeway.as_secs();
                cache.retain(|_, exp| *exp + leeway >= now);
            }
        }));
        tracing::info!(%addr, "relay listening");
        Ok(Self {
            addr,
            metrics_addr,
            relay,
            tasks,
        })
    }

    /// The relay's base URL (`http://ADDR`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://ADDR/metrics` of the metrics listener, if there is one.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr.map(|a| format!("http://{a}/metrics"))
    }

    /// A clinic's mailbox figures.
    pub fn mailbox(&self, clinic: &str) -> store::MailboxState {
        self.relay.store.mailbox(clinic)
    }

    /// Stops accepting, ends the streams, and closes the store (releasing its files).
    pub async fn stop(mut self) {
        self.relay.closing.send_replace(true);
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        for _ in 0..100 {
            if Arc::strong_count(&self.relay) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
