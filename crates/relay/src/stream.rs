//! Relay → desk: the clinic's stream, and the clinic's own requests (push paths). Everything here
//! is authenticated with the clinic's token.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{FutureExt, SinkExt, StreamExt};
use relay_client::frame::{ClientFrame, Hello, Refusal};
use relay_client::push::OpenPushPath;
use relay_client::PushToken;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::{reject, sha256, store::now_unix, Shared};

/// Messages sent but not yet acknowledged, at most.
const WINDOW: u64 = 256;
/// Bytes read from the store for one round of sending, about.
const READ_BYTES: usize = 8 * 1024 * 1024;
/// The longest a push path may stay open.
const MAX_PUSH_PATH: u64 = 7 * 86_400;

/// The clinic a bearer token belongs to (compared in constant time).
fn clinic_of(relay: &Shared, headers: &HeaderMap) -> Option<String> {
    let token = abdm::jwt::bearer(headers.get("authorization").and_then(|v| v.to_str().ok()))
        .unwrap_or_default();
    let hash = sha256(token.as_bytes());
    relay
        .clinics
        .values()
        .find(|c| bool::from(c.clinic.token_sha256.ct_eq(&hash)))
        .map(|c| c.clinic.id.clone())
}

fn refuse_clinic() -> Response {
    tracing::warn!("refused a request with an unknown clinic token");
    reject(StatusCode::UNAUTHORIZED, "unknown clinic token")
}

#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    id: u64,
}

fn refusal(code: &str, message: String) -> Response {
    tracing::error!(code, %message, "refused a desk's stream");
    (
        StatusCode::CONFLICT,
        Json(Refusal {
            code: code.into(),
            message,
        }),
    )
        .into_response()
}

/// `GET /stream?after=N&id=X`: the clinic's mailbox from after message N (whose relay id is X).
pub(crate) async fn stream(
    State(relay): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(clinic) = clinic_of(&relay, &headers) else {
        return refuse_clinic();
    };
    // The desk's `after` is only acknowledged if the relay agrees about that message: otherwise
    // the relay lost or restored data (or the desk did), and deleting up to `after` would delete
    // callbacks the desk never saw.
    let m = relay.store.mailbox(&clinic);
    if q.after > m.last {
        return refusal(
            "desk-ahead",
            format!(
                "the desk has applied messages up to {} but this relay's mailbox ends at {}: the relay's \
                 data was lost or restored from an older copy. Nothing was deleted; ask the relay's \
                 operator to restore its latest data.",
                q.after, m.last
            ),
        );
    }
    if q.after > 0 {
        let known = if q.after < m.acked {
            None
        } else if q.after == m.acked {
            Some(m.acked_id)
        } else {
            relay.store.message_id(&clinic, q.after)
        };
        if known != Some(q.id) {
            return refusal(
                "desk-mismatch",
                format!(
                    "the desk and the relay disagree about message {} (acknowledged up to {}): one \
                     of them was restored from an older copy. Nothing was deleted; check the desk's \
                     database and the relay's data before going on.",
                    q.after, m.acked
                ),
            );
        }
    }
    ws.max_message_size(relay_client::MAX_FRAME)
        .max_frame_size(relay_client::MAX_FRAME)
        .on_upgrade(move |socket| async move {
            if let Err(e) = serve_stream(relay, clinic.clone(), q.after, socket).await {
                tracing::info!(clinic, reason = %e, "stream ended");
            }
        })
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
    let state = &relay.clinics[&clinic];
    let generation = state.stream_generation.fetch_add(1, Ordering::SeqCst) + 1;
    // What the desk says it has committed counts as acknowledged.
    if after > 0 {
        let removed = relay
            .store
            .ack(&clinic, after)
            .await
            .map_err(|e| e.to_string())?;
        relay
            .metrics
            .delivered
            .fetch_add(removed, Ordering::Relaxed);
    }
    let m = relay.store.mailbox(&clinic);
    let (mut sink, mut incoming) = socket.split();
    let hello = serde_json::to_string(&Hello {
        clinic: clinic.clone(),
        acked: m.acked,
        depth: m.depth,
    })
    .expect("serializes");
    sink.send(WsMessage::Text(hello.into()))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(clinic, acked = m.acked, depth = m.depth, "desk connected");

    let mut sent = m.acked.max(after);
    let mut confirmed = sent;
    let mut closing = relay.closing.subscribe();
    loop {
        if state.stream_generation.load(Ordering::SeqCst) != generation {
            return Err("replaced by a newer connection".into());
        }
        // Register for wake-ups before reading, so a message stored in between is not missed.
        let notified = state.waker.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let durable = state.durable.load(Ordering::SeqCst);
        if sent - confirmed < WINDOW && sent < durable {
            let limit = (WINDOW - (sent - confirmed)).min(durable - sent) as usize;
            let batch = relay
                .store
                .read_after(&clinic, sent, limit, READ_BYTES)
                .map_err(|e| e.to_string())?;
            let mut any = false;
            for (seq, frame) in batch.into_iter().filter(|(seq, _)| *seq <= durable) {
                sink.send(WsMessage::Binary(frame.into()))
                    .await
                    .map_err(|e| e.to_string())?;
                sent = seq;
                any = true;
            }
            if any {
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
                    let removed = relay.store.ack(&clinic, seq).await.map_err(|e| e.to_string())?;
                    relay.metrics.delivered.fetch_add(removed, Ordering::Relaxed);
                    confirmed = confirmed.max(seq);
                }
                Some(Ok(WsMessage::Close(_))) => return Err("desk closed the stream".into()),
                Some(Ok(_)) => {}
            },
        }
    }
}

/// `PUT /clinic/push-paths/{token}` `{"expiresAt"}`: opens a push path for the clinic.
pub(crate) async fn open_push_path(
    State(relay): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(clinic) = clinic_of(&relay, &headers) else {
        return refuse_clinic();
    };
    let Some(token) = PushToken::parse(&token) else {
        return relay.refuse_input(
            StatusCode::BAD_REQUEST,
            "a push token is 43 base64url characters",
        );
    };
    let Ok(OpenPushPath { expires_at }) = serde_json::from_slice(&body) else {
        return relay.refuse_input(
            StatusCode::BAD_REQUEST,
            "expected {\"expiresAt\": <seconds since 1970>}",
        );
    };
    let now = now_unix();
    if expires_at <= now || expires_at > now + MAX_PUSH_PATH {
        return relay.refuse_input(
            StatusCode::BAD_REQUEST,
            "a push path must expire in the future and within 7 days",
        );
    }
    let hash = sha256(token.as_str().as_bytes());
    if let Some((owner, _)) = relay.store.push_path(&hash) {
        if owner != clinic {
            return reject(
                StatusCode::CONFLICT,
                "that push path belongs to another clinic",
            );
        }
    }
    match relay.store.set_push_path(hash, &clinic, expires_at).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot store a push path");
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay cannot store this right now",
            )
        }
    }
}

/// `DELETE /clinic/push-paths/{token}`: closes it; later pushes get 404.
pub(crate) async fn close_push_path(
    State(relay): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(clinic) = clinic_of(&relay, &headers) else {
        return refuse_clinic();
    };
    let Some(token) = PushToken::parse(&token) else {
        return relay.refuse_input(
            StatusCode::BAD_REQUEST,
            "a push token is 43 base64url characters",
        );
    };
    let hash = sha256(token.as_str().as_bytes());
    match relay.store.push_path(&hash) {
        Some((owner, _)) if owner == clinic => {}
        _ => return reject(StatusCode::NOT_FOUND, "no such push path for this clinic"),
    }
    match relay.store.set_push_path(hash, &clinic, 0).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot store a push path");
            reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay cannot store this right now",
            )
        }
    }
}
