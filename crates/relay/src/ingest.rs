//! ABDM → clinic: the gateway's callbacks and the HIPs' data pushes, each checked, sealed, stored
//! durably, and only then answered 202.

// Checks return the refusal to send as their error so that `?`-like early returns read plainly; a
// response is large, and that is fine on this path.
#![allow(clippy::result_large_err)]

use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use relay_client::frame::{encode_message, MessageHeader};
use relay_client::{MessageKind, PushToken};
use serde_json::Value;

use crate::{reject, sha256, store::now_unix, Relay, Shared};

/// Longest request id kept as a dedupe key (ABDM's are UUIDs).
const MAX_REQUEST_ID: usize = 128;

/// How a message came: what the desk is told beside its sealed body.
struct Route {
    /// The path called, below the relay's base.
    path: String,
    /// `X-HIP-ID`/`X-HIU-ID`, or the push path's id.
    service: Option<String>,
    /// The `REQUEST-ID` header.
    request_id: Option<String>,
    kind: MessageKind,
}

/// `POST {base}/{path}`: a gateway callback or request for a clinic.
pub(crate) async fn callback(
    State(relay): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay.metrics.received.fetch_add(1, Ordering::Relaxed);
    let base = relay.config.base_path.trim_end_matches('/');
    let path = uri
        .path()
        .strip_prefix(base)
        .unwrap_or(uri.path())
        .to_string();
    if !relay.callback_paths.contains(&path) {
        return relay.refuse_unknown(&format!("{path} is not a bridge path ABDM calls"));
    }
    if let Err(r) = relay.check_json_type(&headers) {
        return r;
    }
    // The token before anything else: nothing is read for a caller who is not the gateway.
    if let Err(r) = relay.authenticate(&headers).await {
        return r;
    }
    let service = ["x-hip-id", "x-hiu-id"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .map(str::to_string);
    let Some(service) = service else {
        return relay.refuse_input(StatusCode::BAD_REQUEST, "X-HIP-ID or X-HIU-ID is required");
    };
    let Some(clinic) = relay.by_service.get(&service).cloned() else {
        return relay.refuse_unknown(&format!("no clinic at this relay serves {service:?}"));
    };
    if let Err(r) = relay.check_quota(&clinic) {
        return r;
    }
    let (bytes, json) = match relay.read_json(body).await {
        Ok(read) => read,
        Err(r) => return r,
    };
    // v3 sends the request id as a header only; v0.5 in the body (and sometimes both).
    let header_id = match headers.get("request-id").map(|v| v.to_str()) {
        None => None,
        Some(Ok(id)) if !id.is_empty() && id.len() <= MAX_REQUEST_ID => Some(id.to_string()),
        Some(_) => {
            return relay.refuse_input(StatusCode::BAD_REQUEST, "REQUEST-ID is not a request id")
        }
    };
    let dedupe = match json
        .get("requestId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .or(header_id.as_deref())
    {
        Some(id) if id.len() > MAX_REQUEST_ID => {
            return relay.refuse_input(StatusCode::BAD_REQUEST, "requestId is too long")
        }
        Some(id) if !id.is_empty() => id.to_string(),
        _ => crate::hex(&sha256(&bytes)),
    };
    let route = Route {
        path,
        service: Some(service),
        request_id: header_id,
        kind: MessageKind::Gateway,
    };
    relay.store_message(clinic, dedupe, route, bytes).await
}

/// `POST {base}/push/{token}`: a data push to one of a clinic's open push paths.
pub(crate) async fn push(
    State(relay): State<Shared>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    relay.metrics.received.fetch_add(1, Ordering::Relaxed);
    if let Err(r) = relay.check_json_type(&headers) {
        return r;
    }
    // Nothing is read for a path that is not open.
    let open = PushToken::parse(&token)
        .and_then(|t| relay.store.push_path(&sha256(t.as_str().as_bytes())))
        .filter(|(_, expires)| *expires > now_unix());
    let Some((clinic, _)) = open else {
        return relay.refuse_unknown("no open push path here");
    };
    if let Err(r) = relay.check_quota(&clinic) {
        return r;
    }
    let (bytes, json) = match relay.read_json(body).await {
        Ok(read) => read,
        Err(r) => return r,
    };
    let transaction = json.get("transactionId").and_then(Value::as_str);
    let page = json.get("pageNumber").and_then(Value::as_u64);
    let (Some(transaction), Some(page)) = (transaction, page) else {
        return relay.refuse_input(
            StatusCode::BAD_REQUEST,
            "a data push needs transactionId and pageNumber",
        );
    };
    if transaction.len() > MAX_REQUEST_ID {
        return relay.refuse_input(StatusCode::BAD_REQUEST, "transactionId is too long");
    }
    // The desk learns which of its push paths a page came by (the hash of its token), so a HIP
    // holding one path cannot push into another request; pages are deduplicated per path, so
    // neither can it get a page of another transaction stored first.
    let path_id = crate::hex(&sha256(token.as_bytes()));
    if let Err(r) = relay.charge_push_path(&path_id, bytes.len()) {
        return r;
    }
    let dedupe = format!("push:{path_id}:{transaction}:{page}");
    relay
        .store_message(
            clinic,
            dedupe,
            Route {
                path: "/v0.5/health-information/transfer".into(),
                service: Some(path_id),
                request_id: None,
                kind: MessageKind::Push,
            },
            bytes,
        )
        .await
}

/// The most pages and bytes one push path takes (a transfer's worth; the rest is refused so that
/// whoever holds a push URL cannot fill the clinic's mailbox).
const PUSH_PATH_PAGES: u32 = 10_000;
const PUSH_PATH_BYTES: u64 = 1 << 30;

impl Relay {
    /// Counts a push against its path's allowance.
    fn charge_push_path(&self, path_id: &str, bytes: usize) -> Result<(), Response> {
        let mut usage = self.push_usage.lock().expect("push usage");
        if usage.len() > 100_000 {
            usage.clear(); // Bounded: expired paths are forgotten wholesale.
        }
        let used = usage.entry(path_id.to_string()).or_insert((0, 0));
        if used.0 >= PUSH_PATH_PAGES || used.1 + bytes as u64 > PUSH_PATH_BYTES {
            return Err(crate::reject(
                StatusCode::INSUFFICIENT_STORAGE,
                "this push path has taken all it takes",
            ));
        }
        *used = (used.0 + 1, used.1 + bytes as u64);
        Ok(())
    }

    fn check_json_type(&self, headers: &HeaderMap) -> Result<(), Response> {
        let json_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase().starts_with("application/json"))
            .unwrap_or(false);
        if json_type {
            Ok(())
        } else {
            Err(self.refuse_input(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            ))
        }
    }

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
            // Why the keys could not be had (a session refused, a host down) is the operator's
            // to read in the log, not the caller's.
            Err(e @ abdm::jwt::JwtError::KeysUnavailable(_)) => {
                tracing::error!(error = %e, "the gateway's keys cannot be fetched");
                Err(reject(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the relay cannot check gateway tokens right now",
                ))
            }
            Err(e) => Err(self.refuse_auth(&e.to_string())),
        }
    }

    fn check_quota(&self, clinic: &str) -> Result<(), Response> {
        let m = self.store.mailbox(clinic);
        if m.depth >= self.config.max_mailbox || m.bytes >= self.config.max_mailbox_bytes {
            self.metrics.rejected_full.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                clinic,
                depth = m.depth,
                bytes = m.bytes,
                "mailbox full: the clinic's desk has not collected its messages; refusing new ones"
            );
            return Err(reject(
                StatusCode::INSUFFICIENT_STORAGE,
                "this clinic's mailbox is full",
            ));
        }
        Ok(())
    }

    /// Reads the body within the size limit and the time limit, and parses it as a JSON object
    /// with the parser the desk uses (so the desk can read whatever is accepted here).
    async fn read_json(&self, body: Body) -> Result<(Bytes, Value), Response> {
        let limited = http_body_util::Limited::new(body, self.config.body_limit);
        let read = tokio::time::timeout(self.config.body_timeout, limited.collect()).await;
        let bytes = match read {
            Err(_) => {
                return Err(self.refuse_input(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive in time",
                ))
            }
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(self.refuse_input(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the body is larger than {} bytes", self.config.body_limit),
                ))
            }
            Ok(Err(e)) => {
                return Err(self.refuse_input(
                    StatusCode::BAD_REQUEST,
                    &format!("the body could not be read: {e}"),
                ))
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(json @ Value::Object(_)) => Ok((bytes, json)),
            Ok(_) => {
                Err(self.refuse_input(StatusCode::BAD_REQUEST, "the body must be a JSON object"))
            }
            Err(e) => Err(self.refuse_input(
                StatusCode::BAD_REQUEST,
                &format!("the body is not valid JSON: {e}"),
            )),
        }
    }

    /// Seals, stores durably, then answers 202.
    async fn store_message(
        &self,
        clinic: String,
        dedupe: String,
        route: Route,
        bytes: Bytes,
    ) -> Response {
        let Route {
            path,
            service,
            request_id,
            kind,
        } = route;
        let state = &self.clinics[&clinic];
        let aad = MessageHeader::seal_aad(&clinic, &path, kind, request_id.as_deref());
        // AES-GCM runs at GB/s here: even a 16 MiB push seals in milliseconds on this task.
        let sealed = state.sealer.seal(&bytes, &aad);
        drop(bytes);
        let id = rand::random::<u64>() | 1;
        let received_at = abdm::Timestamp::now().to_string();
        let build = Box::new(move |seq: u64| {
            let header = MessageHeader {
                seq,
                id,
                received_at,
                path,
                service_id: service,
                kind,
                request_id,
            };
            encode_message(&header, &sealed)
        });
        let appended = match self.store.append(&clinic, &dedupe, id, build).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "storage failed; ABDM will be told to retry");
                return reject(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the relay cannot store messages right now",
                );
            }
        };
        // Every seq up to ours was written in our batch or an earlier one: all durable now.
        state.durable.fetch_max(appended.seq, Ordering::SeqCst);
        if appended.new {
            self.metrics.stored.fetch_add(1, Ordering::Relaxed);
            state.waker.notify_waiters();
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

    fn refuse_auth(&self, why: &str) -> Response {
        self.metrics.rejected_auth.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "refused a call without the gateway's token");
        reject(
            StatusCode::UNAUTHORIZED,
            &format!("invalid gateway token: {why}"),
        )
    }

    pub(crate) fn refuse_input(&self, status: StatusCode, why: &str) -> Response {
        self.metrics.rejected_input.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "refused malformed input");
        reject(status, why)
    }

    fn refuse_unknown(&self, why: &str) -> Response {
        self.metrics
            .rejected_unknown
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reason = why, "refused a message for no clinic here");
        reject(StatusCode::NOT_FOUND, why)
    }
}
