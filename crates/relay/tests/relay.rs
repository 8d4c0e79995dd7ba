//! The relay on loopback with the real sandbox as the gateway and the real stream client as the desk.

use std::time::Duration;

use abdm::client::Acting;
use abdm::v0_5::user_auth;
use abdm::{AuthPurpose, Callback, Operation, Request, Requester, ServiceKind};
use abdm_relay::{data_push_url, Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use relay_client::{ClientConfig, Connection, Consumer, ConsumerError, Delivery, MessageKind};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

const TOKEN: &str = "clinic-one-stream-token";

struct Collector {
    committed: u64,
    tx: mpsc::UnboundedSender<Delivery>,
}

impl Consumer for Collector {
    async fn committed(&mut self) -> u64 {
        self.committed
    }
    async fn apply(&mut self, d: Delivery) -> Result<(), ConsumerError> {
        self.committed = d.seq;
        self.tx.send(d).map_err(|e| ConsumerError(e.to_string()))
    }
}

/// A desk consuming the relay stream in the background.
struct Desk {
    rx: mpsc::UnboundedReceiver<Delivery>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<u64>,
    status: watch::Receiver<Connection>,
}

impl Desk {
    fn start(relay_url: &str, committed: u64) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let (status_tx, status) = watch::channel(Connection::Connecting);
        let mut config = ClientConfig::new(relay_url, TOKEN);
        config.backoff_min = Duration::from_millis(50);
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

    async fn next(&mut self, wait: Duration) -> Option<Delivery> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    async fn stop(self) -> u64 {
        self.stop.send_replace(true);
        self.task.await.unwrap()
    }
}

struct World {
    sandbox: Sandbox,
    relay: RelayServer,
    client: abdm::GatewayClient,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "relay-test-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

async fn world(name: &str, sandbox_config: SandboxConfig, leeway: Duration) -> World {
    world_with(name, sandbox_config, |c| RelayConfig {
        jwt_leeway: leeway,
        ..c
    })
    .await
}

async fn world_with(
    name: &str,
    sandbox_config: SandboxConfig,
    tweak: impl FnOnce(RelayConfig) -> RelayConfig,
) -> World {
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(10),
        ..sandbox_config
    })
    .await
    .unwrap();
    let dir = temp_dir(name);
    let config = tweak(RelayConfig {
        base_path: "/abdm".into(),
        body_limit: 256 * 1024,
        ..RelayConfig::new(
            dir.0.join("data"),
            format!("{}/v0.5/certs", sandbox.gateway_url()),
            vec![Clinic::new(
                "clinic-1",
                TOKEN,
                vec![DEFAULT_SERVICE_ID.into()],
            )],
        )
    });
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
        _dir: dir,
    }
}

fn fetch_modes() -> Request<user_auth::fetch_modes::Body> {
    Request::new(user_auth::fetch_modes::Body {
        query: user_auth::fetch_modes::Query {
            id: "asha.kumari@sbx".into(),
            purpose: AuthPurpose::KycAndLink,
            requester: Requester {
                kind: ServiceKind::Hip,
                id: DEFAULT_SERVICE_ID.into(),
            },
        },
    })
}

async fn depth(relay: &RelayServer) -> u64 {
    let text = reqwest::get(format!("{}/metrics", relay.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("relay_mailbox_depth{clinic=\"clinic-1\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn callbacks_reach_the_desk_in_order_exactly_once() {
    let w = world("order", SandboxConfig::default(), Duration::from_secs(60)).await;
    let hip = Acting::Hip(DEFAULT_SERVICE_ID.into());
    let mut sent = Vec::new();
    for _ in 0..20 {
        let r = fetch_modes();
        sent.push(r.request_id);
        w.client
            .send::<user_auth::fetch_modes::Endpoint>(&r, &hip)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    // All stored before the desk comes online.
    for _ in 0..100 {
        if depth(&w.relay).await == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(depth(&w.relay).await, 20);

    let mut desk = Desk::start(&w.relay.url(), 0);
    let mut seqs = Vec::new();
    let mut answered = Vec::new();
    for _ in 0..20 {
        let d = desk.next(Duration::from_secs(5)).await.expect("a delivery");
        assert_eq!(d.path, user_auth::on_fetch_modes::Endpoint::PATH);
        assert_eq!(d.service_id.as_deref(), Some(DEFAULT_SERVICE_ID));
        seqs.push(d.seq);
        let cb: Callback<user_auth::on_fetch_modes::Body> = serde_json::from_value(d.body).unwrap();
        answered.push(cb.resp.request_id);
    }
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "in order, no gaps");
    answered.sort();
    sent.sort();
    assert_eq!(answered, sent);
    assert!(matches!(*desk.status.borrow(), Connection::Online { .. }));
    assert!(
        desk.next(Duration::from_millis(300)).await.is_none(),
        "nothing twice"
    );

    // Acknowledged messages are gone; new ones stream live.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(depth(&w.relay).await, 0);
    w.client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes(), &hip)
        .await
        .unwrap();
    assert_eq!(desk.next(Duration::from_secs(5)).await.unwrap().seq, 21);
    let committed = desk.stop().await;
    assert_eq!(committed, 21);

    // A desk resuming from what it committed gets only what is new.
    w.client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes(), &hip)
        .await
        .unwrap();
    let mut desk = Desk::start(&w.relay.url(), committed);
    assert_eq!(desk.next(Duration::from_secs(5)).await.unwrap().seq, 22);
    assert!(desk.next(Duration::from_millis(300)).await.is_none());
    desk.stop().await;
    w.relay.stop().await;
    w.sandbox.stop().await;
}

#[tokio::test]
async fn only_the_gateway_gets_in_and_bad_input_is_refused() {
    let w = world(
        "auth",
        SandboxConfig {
            session_ttl: Duration::from_secs(3),
            ..SandboxConfig::default()
        },
        Duration::from_secs(1),
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/abdm/v0.5/users/auth/on-fetch-modes", w.relay.url());
    let body = json!({"requestId": uuid::Uuid::new_v4(), "timestamp": "2026-11-24T10:00:00.000Z", "resp": {"requestId": uuid::Uuid::new_v4()}});
    // A token from another gateway (its own key) — made first, so the valid token's short life
    // is spent only on the checks below.
    let other = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let forged = abdm::GatewayClient::new(other.client_config())
        .session_token()
        .await
        .unwrap();
    other.stop().await;
    let token = w.client.session_token().await.unwrap();
    let post = |token: Option<&str>, hip: &str, body: &Value| {
        let mut r = http.post(&url).header("X-HIP-ID", hip).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };

    // Valid: stored; the same message again (a redelivery): stored once.
    assert_eq!(
        post(Some(&token), DEFAULT_SERVICE_ID, &body)
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        post(Some(&token), DEFAULT_SERVICE_ID, &body)
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(depth(&w.relay).await, 1);

    // Missing and forged tokens (another gateway's key): 401, nothing stored.
    let mut fresh = body.clone();
    fresh["requestId"] = json!(uuid::Uuid::new_v4());
    assert_eq!(
        post(None, DEFAULT_SERVICE_ID, &fresh)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(Some(&forged), DEFAULT_SERVICE_ID, &fresh)
            .await
            .unwrap()
            .status(),
        401
    );

    // Unknown clinic, missing routing header.
    let r = post(Some(&token), "IN0000000000_9", &fresh).await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("no clinic at this relay serves"));
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .json(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Bad input: wrong content type, not JSON, not an object, too large.
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .json(&json!([1, 2]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let big = json!({"requestId": "x", "pad": "a".repeat(300 * 1024)});
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // Expired beyond the leeway (3 s life + 1 s leeway, in whole seconds): refused.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(
        post(Some(&token), DEFAULT_SERVICE_ID, &fresh)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(depth(&w.relay).await, 1, "nothing refused was stored");

    let metrics = reqwest::get(format!("{}/metrics", w.relay.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("relay_rejected_total{reason=\"auth\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("relay_duplicates_total 1"), "{metrics}");
    w.relay.stop().await;
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_token_expired_within_the_leeway_is_accepted() {
    let w = world(
        "leeway",
        SandboxConfig {
            session_ttl: Duration::from_secs(1),
            ..SandboxConfig::default()
        },
        Duration::from_secs(60),
    )
    .await;
    let token = w.client.session_token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = reqwest::Client::new()
        .post(format!("{}/abdm/v0.5/users/auth/on-init", w.relay.url()))
        .bearer_auth(token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .json(&json!({"requestId": "late-redelivery", "resp": {"requestId": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    w.relay.stop().await;
    w.sandbox.stop().await;
}

#[tokio::test]
async fn data_pushes_stay_ciphertext_and_reach_their_clinic() {
    let w = world("push", SandboxConfig::default(), Duration::from_secs(60)).await;
    let token = w.client.session_token().await.unwrap();
    let push = json!({"pageNumber": 1, "pageCount": 1, "transactionId": uuid::Uuid::new_v4(),
        "entries": [{"content": "c2VhbGVkIGJ5dGVz", "media": "application/fhir+json", "checksum": "x", "careContextReference": "OPD-1"}],
        "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519", "dhPublicKey": {"expiry": "2026-11-25T00:00:00.000Z", "parameters": "Curve25519/32byte random key", "keyValue": "k"}, "nonce": "n"}});
    let url = data_push_url(&w.relay.url(), "/abdm", "clinic-1");
    let http = reqwest::Client::new();
    assert_eq!(
        http.post(&url)
            .bearer_auth(&token)
            .json(&push)
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        http.post(&url)
            .bearer_auth(&token)
            .json(&push)
            .send()
            .await
            .unwrap()
            .status(),
        202,
        "the same page again"
    );
    let unknown = data_push_url(&w.relay.url(), "/abdm", "clinic-x");
    assert_eq!(
        http.post(&unknown)
            .bearer_auth(&token)
            .json(&push)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let mut desk = Desk::start(&w.relay.url(), 0);
    let d = desk.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(d.kind, MessageKind::Push);
    assert_eq!(d.body, push, "byte-for-byte what the HIP sent");
    assert!(
        desk.next(Duration::from_millis(300)).await.is_none(),
        "the repeated page once"
    );
    desk.stop().await;

    // A wrong clinic token cannot open the stream.
    let mut config = ClientConfig::new(w.relay.url(), "not-the-token");
    config.backoff_min = Duration::from_millis(50);
    let (status_tx, _) = watch::channel(Connection::Connecting);
    let (_stop, mut stop_rx) = watch::channel(false);
    let (tx, _rx) = mpsc::unbounded_channel();
    let err = relay_client::run_once(
        &config,
        &mut Collector { committed: 0, tx },
        &status_tx,
        &mut stop_rx,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, relay_client::StreamError::Unauthorized),
        "{err}"
    );
    w.relay.stop().await;
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_redelivery_is_recognised_within_the_dedupe_window_only() {
    let w = world_with("dedupe", SandboxConfig::default(), |c| RelayConfig {
        dedupe_window: Duration::from_secs(2),
        ..c
    })
    .await;
    let token = w.client.session_token().await.unwrap();
    let url = format!("{}/abdm/v0.5/users/auth/on-fetch-modes", w.relay.url());
    let body = json!({"requestId": uuid::Uuid::new_v4(), "timestamp": "2026-11-24T10:00:00.000Z", "resp": {"requestId": uuid::Uuid::new_v4()}});
    let post = || {
        reqwest::Client::new()
            .post(&url)
            .bearer_auth(&token)
            .header("X-HIP-ID", DEFAULT_SERVICE_ID)
            .json(&body)
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 202);
    assert_eq!(post().await.unwrap().status(), 202);
    assert_eq!(
        depth(&w.relay).await,
        1,
        "a redelivery inside the window is stored once"
    );
    // Past the window (and a pruning pass), the same id is a new message.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(post().await.unwrap().status(), 202);
    assert_eq!(depth(&w.relay).await, 2);
}
