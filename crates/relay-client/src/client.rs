//! The desk's side of the stream: connect with the clinic token and what the desk committed,
//! open each message, hand it to the consumer, acknowledge it only after the consumer returns.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::frame::{decode_message, ClientFrame, Hello, MessageKind, Refusal};
use crate::seal::ClinicKey;
use crate::MessageHeader;

/// Largest message frame the desk takes: above the relay's largest body limit (64 MiB) plus the
/// sealing and header overhead, so that nothing the relay accepted can block the stream.
pub const MAX_FRAME: usize = 72 * 1024 * 1024;

/// One message, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Per clinic, gapless.
    pub seq: u64,
    /// The relay's id of the message (see [`MessageHeader::id`]).
    pub id: u64,
    /// When the relay stored it (RFC 3339).
    pub received_at: String,
    /// The path ABDM called (e.g. `/v0.5/users/auth/on-init`).
    pub path: String,
    /// `X-HIP-ID` or `X-HIU-ID` of the call, if any.
    pub service_id: Option<String>,
    /// Which route it came in on.
    pub kind: MessageKind,
    /// The call's `REQUEST-ID` header, if it had one.
    pub request_id: Option<String>,
    /// The JSON body exactly as received (a data push is still Fidelius ciphertext), or why it
    /// could not be read: the consumer records such a message and moves on.
    pub body: Result<Value, String>,
}

impl Delivery {
    /// Opens a stored message frame with the clinic's key.
    pub fn open(frame: &[u8], clinic: &str, key: &ClinicKey) -> Result<Self, String> {
        let (header, sealed) = decode_message(frame)?;
        let aad = MessageHeader::seal_aad(
            clinic,
            &header.path,
            header.kind,
            header.request_id.as_deref(),
        );
        let body = key
            .open(sealed, &aad)
            .map_err(|e| e.to_string())
            .and_then(|plain| {
                serde_json::from_slice(&plain).map_err(|e| format!("the body is not JSON: {e}"))
            });
        Ok(Self {
            seq: header.seq,
            id: header.id,
            received_at: header.received_at,
            path: header.path,
            service_id: header.service_id,
            kind: header.kind,
            request_id: header.request_id,
            body,
        })
    }
}

/// The last message the desk committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Committed {
    /// Its `seq` (0 before the first).
    pub seq: u64,
    /// Its relay id (0 before the first).
    pub id: u64,
}

/// What the desk's UI shows about the relay connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    /// Trying.
    Connecting,
    /// Streaming; `waiting` messages were queued when it connected.
    Online {
        /// Messages waiting at the relay when the stream opened.
        waiting: u64,
    },
    /// Down for now; tried again after `retry_in`.
    Offline {
        /// Why, in plain words.
        reason: String,
        /// When the next try is.
        retry_in: Duration,
    },
    /// The relay refuses this desk and a person must act (wrong token, or the relay's and the
    /// desk's records disagree); still retried, slowly.
    Alarm {
        /// What is wrong and what to do.
        reason: String,
    },
}

/// Why a consumer could not take a message: it will be offered again after a reconnect.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConsumerError(pub String);

/// The desk's side: what it has committed, and applying one message (durably, with its `seq`).
#[allow(async_fn_in_trait)]
pub trait Consumer {
    /// The last message whose effects are committed.
    async fn committed(&mut self) -> Committed;
    /// Applies one message and commits it with its `seq` and `id`. A message that cannot be
    /// applied (unreadable, unknown) must be recorded and return `Ok`, or it would come back forever.
    async fn apply(&mut self, delivery: Delivery) -> Result<(), ConsumerError>;
}

/// Where the relay is and who the clinic is. `Debug` leaves the token and the key out.
#[derive(Clone)]
pub struct ClientConfig {
    /// The relay's base URL (`http://…` or `https://…`).
    pub relay_url: String,
    /// The clinic's stream token.
    pub clinic_token: String,
    /// The clinic's private key (opens what the relay sealed).
    pub clinic_key: ClinicKey,
    /// First wait after a failure.
    pub backoff_min: Duration,
    /// Longest wait between tries.
    pub backoff_max: Duration,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("relay_url", &self.relay_url)
            .field("clinic_key", &self.clinic_key)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration with the default backoff (0.2 s doubling to 30 s).
    pub fn new(
        relay_url: impl Into<String>,
        clinic_token: impl Into<String>,
        clinic_key: ClinicKey,
    ) -> Self {
        Self {
            relay_url: relay_url.into(),
            clinic_token: clinic_token.into(),
            clinic_key,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// Why a stream ended.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// No connection.
    #[error("cannot connect to the relay: {0}")]
    Connect(String),
    /// Wrong clinic token.
    #[error("the relay refused the clinic token; check the relay token in the clinic settings")]
    Unauthorized,
    /// The relay refused to stream (see [`Refusal`]).
    #[error("{0}")]
    Refused(String),
    /// The connection broke.
    #[error("the relay connection broke: {0}")]
    Broken(String),
    /// A frame we cannot read.
    #[error("the relay sent something unreadable: {0}")]
    Protocol(String),
    /// The consumer failed (it is offered the message again).
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
}

impl StreamError {
    /// Whether a person has to act before it can work.
    pub fn needs_a_person(&self) -> bool {
        matches!(self, StreamError::Unauthorized | StreamError::Refused(_))
    }
}

fn stream_url(relay_url: &str, after: Committed) -> String {
    let base = relay_url.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    format!("{ws}/stream?after={}&id={}", after.seq, after.id)
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
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(ws_config), false)
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 401 => {
                StreamError::Unauthorized
            }
            tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 409 => {
                let refusal = r
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice::<Refusal>(b).ok());
                StreamError::Refused(refusal.map(|r| r.message).unwrap_or_else(|| {
                    "the relay refuses to stream to this desk (HTTP 409)".into()
                }))
            }
            other => StreamError::Connect(other.to_string()),
        })?;
    let (mut sink, mut stream) = socket.split();
    let mut committed = after.seq;
    let mut clinic = String::new();
    loop {
        let frame = tokio::select! {
            frame = stream.next() => frame,
            _ = stop.changed() => return Ok(()),
        };
        let delivery = match frame {
            None => return Err(StreamError::Broken("closed by the relay".into())),
            Some(Err(e)) => return Err(StreamError::Broken(e.to_string())),
            Some(Ok(WsMessage::Text(text))) => {
                let hello: Hello = serde_json::from_str(&text)
                    .map_err(|e| StreamError::Protocol(e.to_string()))?;
                status.send_replace(Connection::Online {
                    waiting: hello.depth,
                });
                clinic = hello.clinic;
                continue;
            }
            Some(Ok(WsMessage::Binary(bytes))) => {
                Delivery::open(&bytes, &clinic, &config.clinic_key)
                    .map_err(StreamError::Protocol)?
            }
            Some(Ok(WsMessage::Close(_))) => {
                return Err(StreamError::Broken("closed by the relay".into()))
            }
            Some(Ok(_)) => continue,
        };
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

/// Runs until `stop` turns true: connects, delivers, and on any failure waits (exponential backoff
/// with jitter; a minute when a person must act) and resumes from what the consumer committed.
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
        let jitter = rand::random::<f64>() * 0.3 + 0.85;
        let wait = match &result {
            Err(e) if e.needs_a_person() => {
                tracing::error!(reason = %e, "the relay refuses this desk");
                status.send_replace(Connection::Alarm {
                    reason: e.to_string(),
                });
                config
                    .backoff_max
                    .max(Duration::from_secs(60))
                    .mul_f64(jitter)
            }
            other => {
                let reason = match other {
                    Ok(()) => "disconnected".to_string(),
                    Err(e) => e.to_string(),
                };
                let wait = backoff.mul_f64(jitter);
                tracing::warn!(%reason, retry_in = ?wait, "relay stream down");
                status.send_replace(Connection::Offline {
                    reason,
                    retry_in: wait,
                });
                backoff = (backoff * 2).min(config.backoff_max);
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => break,
        }
    }
}
