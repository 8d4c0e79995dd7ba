//! The desk side of the relay (`abdm-relay`): the stream protocol and a client for it.
//!
//! The relay keeps every message ABDM sent a clinic, numbered per clinic (`seq`), until the clinic
//! acknowledges it. The client connects with the clinic's token and the last sequence number the
//! consumer *committed*, receives messages in order, hands each to the consumer, and acknowledges it
//! only after the consumer returns — so a crash anywhere means the message comes again, and a
//! consumer that stores `seq` with its effects applies each message exactly once.
//!
//! Wire protocol (WebSocket, JSON text frames), `GET {relay}/stream?after=<seq>` with
//! `Authorization: Bearer <clinic token>`:
//! * server → client: [`ServerFrame::Hello`] once, then [`ServerFrame::Message`]s in `seq` order;
//! * client → server: [`ClientFrame::Ack`] (cumulative: everything up to `seq`).
//!
//! Messages up to `after` count as acknowledged.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// One stored message, as delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub seq: u64,
    /// When the relay stored it (RFC 3339).
    pub received_at: String,
    /// The path ABDM called, below the relay's base (e.g. `/v0.5/users/auth/on-init`).
    pub path: String,
    /// `X-HIP-ID` or `X-HIU-ID` of the call, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    pub kind: MessageKind,
    /// The JSON body exactly as received (for data pushes: still Fidelius ciphertext).
    pub body: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// A gateway → HIP/HIU call.
    Gateway,
    /// A HIP → HIU data push to the clinic's `dataPushUrl`.
    Push,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerFrame {
    #[serde(rename_all = "camelCase")]
    Hello {
        clinic: String,
        acked: u64,
        depth: u64,
    },
    Message(Delivery),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientFrame {
    Ack { seq: u64 },
}

/// What the desk's UI shows about the relay connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Online { waiting: u64 },
    Offline { reason: String, retry_in: Duration },
}

/// Why a consumer could not take a message: it will be offered again after a reconnect.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConsumerError(pub String);

/// The desk's side: what it has committed, and applying one message (durably, with its `seq`).
#[allow(async_fn_in_trait)]
pub trait Consumer {
    /// The highest `seq` whose effects are committed (0 before the first).
    async fn committed(&mut self) -> u64;
    /// Applies one message and commits it with its `seq`. A message that is invalid for good should
    /// be recorded as failed and return `Ok`, or it would come back forever.
    async fn apply(&mut self, delivery: Delivery) -> Result<(), ConsumerError>;
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The relay's base URL (`http://…` or `https://…`).
    pub relay_url: String,
    pub clinic_token: String,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl ClientConfig {
    pub fn new(relay_url: impl Into<String>, clinic_token: impl Into<String>) -> Self {
        Self {
            relay_url: relay_url.into(),
            clinic_token: clinic_token.into(),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot connect to the relay: {0}")]
    Connect(String),
    #[error("the relay refused the clinic token")]
    Unauthorized,
    #[error("the relay connection broke: {0}")]
    Broken(String),
    #[error("the relay sent something unreadable: {0}")]
    Protocol(String),
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
}

fn stream_url(relay_url: &str, after: u64) -> String {
    let base = relay_url.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{ws}/stream?after={after}")
}

/// One connection: delivers until the connection ends or the consumer fails.
pub async fn run_once<C: Consumer>(
    config: &ClientConfig,
    consumer: &mut C,
    status: &watch::Sender<Connection>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), StreamError> {
    let after = consumer.committed().await;
    let mut request = stream_url(&config.relay_url, after)
        .into_client_request()
        .map_err(|e| StreamError::Connect(e.to_string()))?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", config.clinic_token)
            .parse()
            .map_err(|_| StreamError::Unauthorized)?,
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 401 => {
                StreamError::Unauthorized
            }
            other => StreamError::Connect(other.to_string()),
        })?;
    let (mut sink, mut stream) = socket.split();
    let mut committed = after;
    loop {
        let frame = tokio::select! {
            frame = stream.next() => frame,
            _ = stop.changed() => return Ok(()),
        };
        let text = match frame {
            None => return Err(StreamError::Broken("closed by the relay".into())),
            Some(Err(e)) => return Err(StreamError::Broken(e.to_string())),
            Some(Ok(WsMessage::Text(t))) => t,
            Some(Ok(WsMessage::Close(_))) => {
                return Err(StreamError::Broken("closed by the relay".into()))
            }
            Some(Ok(_)) => continue,
        };
        match serde_json::from_str::<ServerFrame>(&text)
            .map_err(|e| StreamError::Protocol(e.to_string()))?
        {
            ServerFrame::Hello { depth, .. } => {
                status.send_replace(Connection::Online { waiting: depth });
            }
            ServerFrame::Message(delivery) => {
                let seq = delivery.seq;
                if seq <= committed {
                    continue; // Already applied (a resend after a lost ack).
                }
                consumer.apply(delivery).await?;
                committed = seq;
                let ack = serde_json::to_string(&ClientFrame::Ack { seq }).expect("ack serializes");
                sink.send(WsMessage::Text(ack.into()))
                    .await
                    .map_err(|e| StreamError::Broken(e.to_string()))?;
            }
        }
    }
}

/// Runs until `stop` turns true: connects, delivers, and on any failure waits (exponential backoff
/// with jitter) and resumes from what the consumer committed.
pub async fn run<C: Consumer>(
    config: ClientConfig,
    consumer: &mut C,
    status: watch::Sender<Connection>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = config.backoff_min;
    while !*stop.borrow() {
        status.send_replace(Connection::Connecting);
        let started = tokio::time::Instant::now();
        let result = run_once(&config, consumer, &status, &mut stop).await;
        if *stop.borrow() {
            break;
        }
        // A connection that lived a while resets the backoff.
        if started.elapsed() > Duration::from_secs(10) {
            backoff = config.backoff_min;
        }
        let reason = match result {
            Ok(()) => "disconnected".to_string(),
            Err(e) => e.to_string(),
        };
        let jitter = rand::random::<f64>() * 0.3 + 0.85;
        let wait = backoff.mul_f64(jitter);
        tracing::warn!(%reason, retry_in = ?wait, "relay stream down");
        status.send_replace(Connection::Offline {
            reason,
            retry_in: wait,
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => break,
        }
        backoff = (backoff * 2).min(config.backoff_max);
    }
}
