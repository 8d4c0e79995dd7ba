//! `abdm-relay`: the clinic's bridge URL.
//!
//! ABDM answers every call later by POSTing to a registered *bridge URL*; a desk app behind NAT,
//! online some of the time, cannot be one. The relay can: it accepts ABDM's calls at their v0.5 paths
//! under its base path (and HIP → HIU data pushes at the `dataPushUrl` it hands each clinic), checks
//! the gateway's bearer token against the gateway's JWKS, files each message in its clinic's mailbox
//! (by `X-HIP-ID`/`X-HIU-ID`, or the clinic in the push URL), makes it durable and only then answers
//! 202, and streams the mailbox to the clinic's desk app, deleting a message only after the desk
//! acknowledged it (protocol: the `relay-client` crate). Data pushes stay Fidelius ciphertext: the
//! relay holds no key that could read them.

pub mod log;
pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{FutureExt, SinkExt, StreamExt};
use relay_client::{ClientFrame, Delivery, MessageKind, ServerFrame};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Notify;

pub use log::LogStore;
use store::now_unix;
pub use store::{SledStore, Store, StoreError};

/// One clinic served by this relay.
#[derive(Clone)]
pub struct Clinic {
    pub id: String,
    /// SHA-256 of the clinic's stream token (the token itself lives only in the desk's keyring).
    pub token_sha256: [u8; 32],
    /// The HIP/HIU service ids ABDM routes to this clinic.
    pub services: Vec<String>,
}

impl std::fmt::Debug for Clinic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clinic")
            .field("id", &self.id)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl Clinic {
    pub fn new(id: impl Into<String>, token: &str, services: Vec<String>) -> Self {
        Self {
            id: id.into(),
            token_sha256: sha256(token.as_bytes()),
            services,
        }
    }

    /// Parses `ID:TOKEN_SHA256_HEX:SERVICE[,SERVICE…]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut parts = spec.splitn(3, ':');
        let (Some(id), Some(hash), Some(services)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "clinic {spec:?}: expected ID:TOKEN_SHA256:SERVICE[,SERVICE]"
            ));
        };
        let bytes = (0..hash.len())
            .step_by(2)
            .map(|i| hash.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| format!("clinic {id}: the token hash must be 64 hex digits (see `abdm-relay hash-token`)"))?;
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
            token_sha256: bytes.try_into().expect("32 bytes"),
            services,
        })
    }
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub listen: SocketAddr,
    pub data_dir: std::path::PathBuf,
    /// The gateway's JWKS (`…/gateway/v0.5/certs`).
    pub jwks_url: String,
    /// How long past `exp` a gateway token is still accepted (ABDM redelivers ~16 min later with the
    /// original token).
    pub jwt_leeway: Duration,
    /// The path under which ABDM calls arrive (the bridge URL's path), e.g. `/` or `/abdm`.
    pub base_path: String,
    pub clinics: Vec<Clinic>,
    pub body_limit: usize,
    /// Refuse new messages for a clinic whose mailbox holds this many (and log it loudly).
    pub max_mailbox: u64,
    pub store: StoreKind,
    /// How long a request id is remembered to recognise a redelivery (ABDM redelivers after ~16
    /// minutes). The log store keeps these keys in memory, about 100 bytes each.
    pub dedupe_window: Duration,
}

/// Which [`Store`] keeps the mailboxes (both under `data_dir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreKind {
    /// The append-only log ([`LogStore`]): the default, about three times sled's durable ingest rate.
    #[default]
    Log,
    /// sled ([`SledStore`]).
    Sled,
}

impl std::str::FromStr for StoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "log" => Ok(StoreKind::Log),
            "sled" => Ok(StoreKind::Sled),
            other => Err(format!("unknown store {other:?}: use log or sled")),
        }
    }
}

impl RelayConfig {
    pub fn new(data_dir: std::path::PathBuf, jwks_url: String, clinics: Vec<Clinic>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            jwks_url,
            jwt_leeway: Duration::from_secs(20 * 60),
            base_path: "/".into(),
            clinics,
            body_limit: 16 * 1024 * 1024,
            max_mailbox: 1_000_000,
            store: StoreKind::default(),
            dedupe_window: Duration::from_secs(2 * 86_400),
        }
    }
}

#[derive(Default)]
struct Metrics {
    received: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    delivered: AtomicU64,
    rejected_auth: AtomicU64,
    rejected_input: AtomicU64,
    rejected_unknown: AtomicU64,
    rejected_full: AtomicU64,
}

struct Relay {
    config: RelayConfig,
    store: Arc<dyn Store>,
    verifier: abdm::jwt::JwksVerifier,
    /// Verified tokens by hash, with their expiry: ABDM reuses one token for many callbacks.
    verified: Mutex<HashMap<[u8; 32], u64>>,
    by_service: HashMap<String, String>,
    clinics: HashMap<String, Clinic>,
    wakers: HashMap<String, Arc<Notify>>,
    /// Per clinic, the highest `seq` known durable: streams never run ahead of it, because a message
    /// lost in a crash frees its `seq` for the next one.
    durable: HashMap<String, AtomicU64>,
    /// Turns true when the server stops: streams end.
    closing: tokio::sync::watch::Sender<bool>,
    /// Bumped by each new stream of a clinic, so an older stream of the same clinic stops.
    stream_generation: Mutex<HashMap<String, u64>>,
    metrics: Metrics,
}

type Shared = Arc<Relay>;

fn reject(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": format!("RELAY-{}", status.as_u16()), "message": message}})),
    )
        .into_response()
}

/// A running relay.
pub struct RelayServer {
    pub addr: SocketAddr,
    relay: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RelayServer {
    pub async fn start(config: RelayConfig) -> Result<Self, String> {
        let store: Arc<dyn Store> = match config.store {
            StoreKind::Log => LogStore::open(&config.data_dir.join("log"))
                .map_err(|e| format!("cannot open {}: {e}", config.data_dir.display()))?,
            StoreKind::Sled => SledStore::open(&config.data_dir.join("sled"))
                .map_err(|e| format!("cannot open {}: {e}", config.data_dir.display()))?,
        };
        Self::start_with(config, store).await
    }

    pub async fn start_with(config: RelayConfig, store: Arc<dyn Store>) -> Result<Self, String> {
        let mut by_service = HashMap::new();
        for clinic in &config.clinics {
            for service in &clinic.services {
                if let Some(other) = by_service.insert(service.clone(), clinic.id.clone()) {
                    return Err(format!(
                        "service {service} is configured for both {other} and {}",
                        clinic.id
                    ));
                }
            }
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let mut durable = HashMap::new();
        for clinic in &config.clinics {
            let last = store.last_seq(&clinic.id).map_err(|e| e.to_string())?;
            durable.insert(clinic.id.clone(), AtomicU64::new(last));
        }
        let relay = Arc::new(Relay {
            closing: tokio::sync::watch::channel(false).0,
            durable,
            verifier: abdm::jwt::JwksVerifier::new(config.jwks_url.clone(), config.jwt_leeway)
                .with_refetch_interval(Duration::from_secs(1)),
            verified: Mutex::new(HashMap::new()),
            clinics: config
                .clinics
                .iter()
                .map(|c| (c.id.clone(), c.clone()))
                .collect(),
            wakers: config
                .clinics
                .iter()
                .map(|c| (c.id.clone(), Arc::new(Notify::new())))
                .collect(),
            stream_generation: Mutex::new(HashMap::new()),
            by_service,
            store,
            metrics: Metrics::default(),
            config,
        });
        let base = relay.config.base_path.trim_end_matches('/').to_string();
        let router = Router::new()
            .route(&format!("{base}/v0.5/{{*rest}}"), post(ingest_gateway))
            .route(&format!("{base}/v1.0/{{*rest}}"), post(ingest_gateway))
            .route(
                &format!("{base}/push/{{clinic}}/v0.5/health-information/transfer"),
                post(ingest_push),
            )
            .route("/stream", get(stream))
            .route("/healthz", get(|| async { "ok" }))
            .route("/metrics", get(metrics))
            .layer(DefaultBodyLimit::max(relay.config.body_limit))
            .with_state(relay.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pruner = Arc::downgrade(&relay);
        let window = relay.config.dedupe_window;
        let every = (window / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(relay) = pruner.upgrade() else { break };
                match relay
                    .store
                    .prune_dedupe(now_unix().saturating_sub(window.as_secs()))
                {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "forgot old redelivery keys"),
                    Err(e) => tracing::error!(error = %e, "pruning redelivery keys failed"),
                    _ => {}
                }
            }
        });
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "relay stopped");
            }
        });
        tracing::info!(%addr, "relay listening");
        Ok(Self {
            addr,
            relay,
            shutdown: Some(tx),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, ends the streams, and closes the store (releasing its files).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.relay.closing.send_replace(true);
        let _ = (&mut self.task).await;
        for _ in 0..100 {
            if Arc::strong_count(&self.relay) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The URL a clinic gives as `dataPushUrl` in its health-information requests.
pub fn data_push_url(relay_public_url: &str, base_path: &str, clinic: &str) -> String {
    format!(
        "{}{}/push/{clinic}/v0.5/health-information/transfer",
        relay_public_url.trim_end_matches('/'),
        base_path.trim_end_matches('/')
    )
}

impl Relay {
    /// Checks the gateway's bearer token (cached by hash once verified).
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), Response> {
        let header = headers.get("authorization").and_then(|v| v.to_str().ok());
        let token = match abdm::jwt::bearer(header) {
            Ok(t) => t,
            Err(e) => return Err(self.refuse_auth(&e.to_string())),
        };
        let key = sha256(token.as_bytes());
        let leeway = self.config.jwt_leeway.as_secs();
        if let Some(exp) = self.verified.lock().expect("token cache").get(&key) {
            if exp + leeway >= now_unix() {
                return Ok(());
            }
        }
        match self.verifier.verify(token).await {
            Ok(claims) => {
                let mut cache = self.verified.lock().expect("token cache");
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(key, claims.exp);
                Ok(())
            }
            Err(e) => Err(self.refuse_auth(&e.to_string())),
        }
    }

    fn refuse_auth(&self, why: &str) -> Response {
        self.metrics.rejected_auth.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "refused a call without a valid gateway token");
        reject(
            StatusCode::UNAUTHORIZED,
            &format!("invalid gateway token: {why}"),
        )
    }

    fn refuse_input(&self, status: StatusCode, why: &str) -> Response {
        self.metrics.rejected_input.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "refused malformed input");
        reject(status, why)
    }

    /// Shared by both ingest routes: validate, authenticate, store durably, then 202.
    async fn ingest(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
        path: String,
        clinic: Option<String>,
        kind: MessageKind,
    ) -> Response {
        self.metrics.received.fetch_add(1, Ordering::Relaxed);
        let json_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase().starts_with("application/json"))
            .unwrap_or(false);
        if !json_type {
            return self.refuse_input(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            );
        }
        if let Err(r) = self.authenticate(headers).await {
            return r;
        }
        // Only the ids are read; the body is stored as received (it may be a ciphertext push).
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return self.refuse_input(StatusCode::BAD_REQUEST, "the body must be a JSON object");
        }
        let ids: Ids = match serde_json::from_slice(body) {
            Ok(ids) => ids,
            Err(e) => {
                return self.refuse_input(
                    StatusCode::BAD_REQUEST,
                    &format!("the body is not JSON: {e}"),
                )
            }
        };
        let service = ["x-hip-id", "x-hiu-id"]
            .iter()
            .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
            .map(str::to_string);
        let clinic = match (clinic, &service) {
            (Some(c), _) if self.clinics.contains_key(&c) => c,
            (Some(c), _) => return self.refuse_unknown(&format!("no clinic {c:?} at this relay")),
            (None, Some(s)) => match self.by_service.get(s) {
                Some(c) => c.clone(),
                None => {
                    return self.refuse_unknown(&format!("no clinic at this relay serves {s:?}"))
                }
            },
            (None, None) => {
                return self
                    .refuse_input(StatusCode::BAD_REQUEST, "X-HIP-ID or X-HIU-ID is required")
            }
        };
        let dedupe = match kind {
            MessageKind::Push => format!(
                "push:{}:{}",
                ids.transaction_id.as_deref().unwrap_or_default(),
                ids.page_number.unwrap_or(0)
            ),
            MessageKind::Gateway => ids
                .request_id
                .or_else(|| {
                    headers
                        .get("request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(String::from)
                })
                .unwrap_or_else(|| hex(&sha256(body))),
        };
        match self.store.depth(&clinic) {
            Ok(depth) if depth >= self.config.max_mailbox => {
                self.metrics.rejected_full.fetch_add(1, Ordering::Relaxed);
                tracing::error!(clinic, depth, limit = self.config.max_mailbox,
                    "mailbox full: the clinic's desk has not collected its messages; refusing new ones");
                return reject(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "this clinic's mailbox is full",
                );
            }
            Err(e) => return self.storage_failed(e),
            _ => {}
        }
        let received_at = abdm::Timestamp::now().to_string();
        let body = body.clone();
        let build = Box::new(move |seq: u64| {
            delivery_json(seq, &received_at, &path, service.as_deref(), kind, &body)
        });
        let appended = match self.store.append(&clinic, &dedupe, build).await {
            Ok(a) => a,
            Err(e) => return self.storage_failed(e),
        };
        // Every seq up to ours was written in our batch or an earlier one: all durable now.
        self.durable[&clinic].fetch_max(appended.seq, Ordering::SeqCst);
        if appended.new {
            self.metrics.stored.fetch_add(1, Ordering::Relaxed);
            if let Some(w) = self.wakers.get(&clinic) {
                w.notify_waiters();
            }
        } else {
            self.metrics.duplicates.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                clinic,
                seq = appended.seq,
                "redelivered message stored once"
            );
        }
        StatusCode::ACCEPTED.into_response()
    }

    fn refuse_unknown(&self, why: &str) -> Response {
        self.metrics
            .rejected_unknown
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "refused a message for an unknown clinic");
        reject(StatusCode::NOT_FOUND, why)
    }

    fn storage_failed(&self, e: StoreError) -> Response {
        tracing::error!(error = %e, "storage failed; ABDM will be told to retry");
        reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "the relay cannot store messages right now",
        )
    }
}

async fn ingest_gateway(
    State(relay): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = relay.config.base_path.trim_end_matches('/');
    let path = uri
        .path()
        .strip_prefix(base)
        .unwrap_or(uri.path())
        .to_string();
    relay
        .ingest(&headers, &body, path, None, MessageKind::Gateway)
        .await
}

async fn ingest_push(
    State(relay): State<Shared>,
    Path(clinic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    relay
        .ingest(
            &headers,
            &body,
            "/v0.5/health-information/transfer".into(),
            Some(clinic),
            MessageKind::Push,
        )
        .await
}

async fn metrics(State(relay): State<Shared>) -> Response {
    let m = &relay.metrics;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    };
    counter(
        "relay_received_total",
        "Calls received.",
        m.received.load(Ordering::Relaxed),
    );
    counter(
        "relay_stored_total",
        "Messages stored (durable).",
        m.stored.load(Ordering::Relaxed),
    );
    counter(
        "relay_duplicates_total",
        "Redeliveries recognised and stored once.",
        m.duplicates.load(Ordering::Relaxed),
    );
    counter(
        "relay_delivered_total",
        "Messages acknowledged by desks.",
        m.delivered.load(Ordering::Relaxed),
    );
    out.push_str("# HELP relay_rejected_total Calls refused, by reason.\n# TYPE relay_rejected_total counter\n");
    for (reason, v) in [
        ("auth", &m.rejected_auth),
        ("input", &m.rejected_input),
        ("unknown_clinic", &m.rejected_unknown),
        ("mailbox_full", &m.rejected_full),
    ] {
        out.push_str(&format!(
            "relay_rejected_total{{reason=\"{reason}\"}} {}\n",
            v.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP relay_mailbox_depth Messages waiting for each clinic.\n# TYPE relay_mailbox_depth gauge\n");
    let mut ids: Vec<&String> = relay.clinics.keys().collect();
    ids.sort();
    for id in ids {
        out.push_str(&format!(
            "relay_mailbox_depth{{clinic=\"{id}\"}} {}\n",
            relay.store.depth(id).unwrap_or(0)
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}

#[derive(Deserialize)]
struct StreamQuery {
    #[serde(default)]
    after: u64,
}

/// Messages sent but not yet acknowledged, at most.
const WINDOW: u64 = 256;

async fn stream(
    State(relay): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let token = abdm::jwt::bearer(headers.get("authorization").and_then(|v| v.to_str().ok()))
        .unwrap_or_default();
    let hash = sha256(token.as_bytes());
    let clinic = relay
        .clinics
        .values()
        .find(|c| bool::from(c.token_sha256.ct_eq(&hash)))
        .map(|c| c.id.clone());
    let Some(clinic) = clinic else {
        tracing::warn!("refused a stream with an unknown clinic token");
        return reject(StatusCode::UNAUTHORIZED, "unknown clinic token");
    };
    ws.on_upgrade(move |socket| async move {
        if let Err(e) = serve_stream(relay, clinic.clone(), q.after, socket).await {
            tracing::info!(clinic, reason = %e, "stream ended");
        }
    })
}

/// The ids of a body that deduplication needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ids {
    request_id: Option<String>,
    transaction_id: Option<String>,
    page_number: Option<u64>,
}

/// A stored [`Delivery`], written around the raw body without parsing it into a tree and back.
fn delivery_json(
    seq: u64,
    received_at: &str,
    path: &str,
    service: Option<&str>,
    kind: MessageKind,
    body: &[u8],
) -> Vec<u8> {
    // Written field by field: this runs once per message on the log writer's thread.
    let mut out = Vec::with_capacity(body.len() + 192);
    fn text<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
        serde_json::to_writer(out, value).expect("numbers, strings and enums serialize");
    }
    out.extend_from_slice(b"{\"seq\":");
    text(&mut out, &seq);
    out.extend_from_slice(b",\"receivedAt\":");
    text(&mut out, received_at);
    out.extend_from_slice(b",\"path\":");
    text(&mut out, path);
    out.extend_from_slice(b",\"serviceId\":");
    text(&mut out, &service);
    out.extend_from_slice(b",\"kind\":");
    text(&mut out, &kind);
    out.extend_from_slice(b",\"body\":");
    out.extend_from_slice(body);
    out.push(b'}');
    out
}

fn ack_of(text: &str) -> Result<u64, String> {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(ClientFrame::Ack { seq }) => Ok(seq),
        Err(e) => Err(format!("unreadable frame from the desk: {e}")),
    }
}

async fn serve_stream(
    relay: Shared,
    clinic: String,
    after: u64,
    socket: WebSocket,
) -> Result<(), String> {
    let generation = {
        let mut g = relay.stream_generation.lock().expect("generations");
        let n = g.entry(clinic.clone()).or_insert(0);
        *n += 1;
        *n
    };
    // What the desk says it has committed counts as acknowledged.
    if after > 0 {
        let removed = relay.store.ack(&clinic, after).map_err(|e| e.to_string())?;
        relay
            .metrics
            .delivered
            .fetch_add(removed, Ordering::Relaxed);
    }
    let acked = relay.store.acked(&clinic).map_err(|e| e.to_string())?;
    let depth = relay.store.depth(&clinic).map_err(|e| e.to_string())?;
    let (mut sink, mut incoming) = socket.split();
    let hello = serde_json::to_string(&ServerFrame::Hello {
        clinic: clinic.clone(),
        acked,
        depth,
    })
    .expect("serializes");
    sink.send(WsMessage::Text(hello.into()))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(clinic, acked, depth, "desk connected");

    let waker = relay
        .wakers
        .get(&clinic)
        .cloned()
        .expect("every clinic has a waker");
    let mut sent = acked.max(after);
    let mut confirmed = sent;
    let mut closing = relay.closing.subscribe();
    loop {
        if relay
            .stream_generation
            .lock()
            .expect("generations")
            .get(&clinic)
            != Some(&generation)
        {
            return Err("replaced by a newer connection".into());
        }
        // Register for wake-ups before reading, so a message stored in between is not missed.
        let notified = waker.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let durable = relay.durable[&clinic].load(Ordering::SeqCst);
        if sent - confirmed < WINDOW && sent < durable {
            let limit = (WINDOW - (sent - confirmed)).min(durable - sent) as usize;
            let batch = relay
                .store
                .read_after(&clinic, sent, limit)
                .map_err(|e| e.to_string())?;
            let batch: Vec<_> = batch
                .into_iter()
                .filter(|(seq, _)| *seq <= durable)
                .collect();
            if !batch.is_empty() {
                for (seq, bytes) in batch {
                    let delivery: Delivery =
                        serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                    let frame =
                        serde_json::to_string(&ServerFrame::Message(delivery)).expect("serializes");
                    sink.send(WsMessage::Text(frame.into()))
                        .await
                        .map_err(|e| e.to_string())?;
                    sent = seq;
                }
                continue;
            }
        }
        tokio::select! {
            _ = closing.changed() => return Err("the relay is stopping".into()),
            _ = &mut notified => {}
            _ = tokio::time::sleep(Duration::from_secs(15)) => {
                sink.send(WsMessage::Ping(Bytes::new())).await.map_err(|e| e.to_string())?;
            }
            frame = incoming.next() => match frame {
                None => return Err("desk disconnected".into()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(WsMessage::Text(text))) => {
                    // Acks are cumulative: take every one already waiting, apply the highest once.
                    let mut highest = ack_of(&text)?;
                    while let Some(Some(Ok(WsMessage::Text(more)))) = incoming.next().now_or_never() {
                        highest = highest.max(ack_of(&more)?);
                    }
                    let seq = highest.min(sent);
                    let removed = relay.store.ack(&clinic, seq).map_err(|e| e.to_string())?;
                    relay.metrics.delivered.fetch_add(removed, Ordering::Relaxed);
                    confirmed = confirmed.max(seq);
                }
                Some(Ok(WsMessage::Close(_))) => return Err("desk closed the stream".into()),
                Some(Ok(_)) => {}
            },
        }
    }
}
