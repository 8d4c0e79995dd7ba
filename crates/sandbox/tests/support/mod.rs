//! A small bridge server on loopback for the sandbox tests: it records every callback the sandbox
//! delivers (path, headers, body) and can refuse the first few with HTTP 500.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use serde_json::Value;
use tokio::sync::mpsc;

use abdm_sandbox::{Sandbox, SandboxConfig};

#[derive(Debug, Clone)]
pub struct Delivered {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

pub struct Bridge {
    pub url: String,
    pub refuse_next: Arc<AtomicU32>,
    rx: mpsc::UnboundedReceiver<Delivered>,
}

#[derive(Clone)]
struct BridgeState {
    tx: mpsc::UnboundedSender<Delivered>,
    refuse_next: Arc<AtomicU32>,
}

async fn receive(
    State(s): State<BridgeState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let refuse = s
        .refuse_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = s.tx.send(Delivered {
        path: uri.path().to_string(),
        headers,
        body,
    });
    if refuse {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::ACCEPTED
    }
}

impl Bridge {
    /// A bridge whose URL has a path of its own (as a relay's per-clinic URL does).
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let refuse_next = Arc::new(AtomicU32::new(0));
        let state = BridgeState {
            tx,
            refuse_next: refuse_next.clone(),
        };
        let router = Router::new().fallback(receive).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("http://{addr}/clinics/test-clinic"),
            refuse_next,
            rx,
        }
    }

    /// The next callback, or `None` after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Delivered> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    pub async fn expect(&mut self) -> Delivered {
        self.next(Duration::from_secs(10))
            .await
            .expect("a callback within 10 s")
    }
}

/// A sandbox with fast callbacks and a fixed seed of behaviour, for tests.
pub fn fast_config() -> SandboxConfig {
    SandboxConfig {
        callback_delay: Duration::from_millis(20),
        redelivery_after: Some(Duration::from_millis(300)),
        ..SandboxConfig::default()
    }
}

pub async fn start(config: SandboxConfig) -> (Sandbox, abdm::GatewayClient, Bridge) {
    let sandbox = Sandbox::start(config).await.unwrap();
    let client = abdm::GatewayClient::new(sandbox.client_config());
    let bridge = Bridge::start().await;
    client.register_bridge(&bridge.url).await.unwrap();
    (sandbox, client, bridge)
}

/// The OTP most recently sent for a transaction, read from the simulated phone.
pub async fn otp_for(sandbox: &Sandbox, txn: &str) -> String {
    let messages: Vec<Value> = reqwest::get(format!("{}/phone", sandbox.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    messages
        .iter()
        .rev()
        .find(|m| m["txnId"] == txn)
        .and_then(|m| m["otp"].as_str())
        .unwrap_or_else(|| panic!("no OTP on the phone for {txn}"))
        .to_string()
}

pub fn python() -> String {
    std::env::var("ABDM_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub fn shared_dir() -> std::path::PathBuf {
    std::env::var_os("ABDM_SHARED")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        })
}

/// Runs the independent OpenAPI validator over a JSONL file; returns its closing line.
pub fn validate_jsonl(file: &std::path::Path) -> String {
    let validator =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
            .join("../../tools/openapi_validate.py");
    let out = std::process::Command::new(python())
        .arg(validator)
        .arg(shared_dir().join("abdm-openapi"))
        .arg(file)
        .args(["--strip-prefix", "/gateway", "--strip-prefix", "/healthid"])
        .output()
        .expect("python runs (scripts/setup installs the validator)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "OpenAPI validation failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().last().unwrap_or_default().to_string()
}
