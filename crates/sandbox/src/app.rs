//! The sandbox server: configuration, the shared application state, request authentication in ABDM's
//! manner, ABDM-style error replies, and asynchronous callback delivery with fault injection.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::Rng;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use abdm::v0_5::ServiceKind;

use crate::domain::state::{Client, ConsentPolicy, Faults, Service, State};
use crate::exchange_log::ExchangeLog;
use crate::tokens::Issuer;

/// A gateway client the sandbox knows, with the services it may act for.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// The client id.
    pub id: String,
    /// Its secret.
    pub secret: String,
    /// The services it acts for: id, name, HIP and/or HIU.
    pub services: Vec<(String, String, Vec<ServiceKind>)>,
    /// A bridge URL registered from the start (ABDM keeps registrations; a restarted simulator can too).
    pub bridge_url: Option<String>,
    /// The generation its bridge is sent until its own calls say otherwise.
    pub generation: abdm::Generation,
}

impl ClientSpec {
    /// The default client: our desk app, registered as one clinic that is both HIP and HIU.
    pub fn desk_default() -> Self {
        Self {
            id: crate::DEFAULT_CLIENT_ID.into(),
            secret: crate::DEFAULT_CLIENT_SECRET.into(),
            services: vec![(
                crate::DEFAULT_SERVICE_ID.into(),
                "Sandbox Clinic".into(),
                vec![ServiceKind::Hip, ServiceKind::Hiu],
            )],
            bridge_url: None,
            generation: abdm::Generation::V05,
        }
    }

    /// Another ABDM participant: `ID:SECRET[:SERVICE]` (`--client`). Its session tokens are as valid
    /// as the desk's, which is what tests need to show that only the gateway's own tokens open a
    /// bridge's callback routes.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut parts = spec.splitn(3, ':');
        let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
            return Err(format!("client {spec:?}: expected ID:SECRET[:SERVICE]"));
        };
        if id.is_empty() || secret.is_empty() {
            return Err(format!(
                "client {spec:?}: the id and the secret must not be empty"
            ));
        }
        let services = parts
            .next()
            .filter(|s| !s.is_empty())
            .map(|s| {
                vec![(
                    s.to_string(),
                    format!("{id}'s service"),
                    vec![ServiceKind::Hip, ServiceKind::Hiu],
                )]
            })
            .unwrap_or_default();
        Ok(Self {
            id: id.into(),
            secret: secret.into(),
            services,
            bridge_url: None,
            generation: abdm::Generation::V05,
        })
    }

    /// The default client with its bridge already registered.
    pub fn desk_with_bridge(url: impl Into<String>) -> Self {
        Self {
            bridge_url: Some(url.into()),
            ..Self::desk_default()
        }
    }
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where it listens (port 0: any free port).
    pub listen: SocketAddr,
    /// Delay before each callback (the real sandbox took about 1.9 s).
    pub callback_delay: Duration,
    /// When a bridge does not answer 2xx, deliver once more after this long (ABDM: ~16 min).
    pub redelivery_after: Option<Duration>,
    /// A fixed OTP instead of random ones (development only).
    pub dev_otp: Option<String>,
    /// How long an OTP is valid.
    pub otp_ttl: Duration,
    /// Wrong OTPs allowed before the transaction is blocked.
    pub otp_attempts: u32,
    /// OTPs sent per Aadhaar or mobile in 30 minutes.
    pub otp_sends: u32,
    /// How long a session token lives (ABDM: 1200 s).
    pub session_ttl: Duration,
    /// The consent manager's id (`X-CM-ID`).
    pub cm_id: String,
    /// The gateway's clients (the desk, and others for tests).
    pub clients: Vec<ClientSpec>,
    /// How patients answer consent requests.
    pub consent_policy: ConsentPolicy,
    /// How long a patient takes to answer one.
    pub consent_delay: Duration,
    /// Where to write the exchange log (JSONL), if anywhere.
    pub exchange_log: Option<PathBuf>,
    /// FHIR bundles the peer HIP serves (`*.json`); a built-in demo set when absent.
    pub records_dir: Option<PathBuf>,
    /// Faults to inject from the start.
    pub faults: Faults,
    /// v3: how long another link token for the same patient and HIP is refused (`ABDM-1092`).
    pub link_token_guard: Duration,
    /// The size of ABHA v3's RSA key: the real service's is 4096 bits; the default 2048 is made
    /// in a moment even on a busy machine.
    pub abha_key_bits: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            callback_delay: Duration::from_millis(1900),
            redelivery_after: Some(Duration::from_secs(16 * 60)),
            dev_otp: None,
            otp_ttl: Duration::from_secs(600),
            otp_attempts: 5,
            otp_sends: 5,
            session_ttl: Duration::from_secs(1200),
            cm_id: "sbx".into(),
            clients: vec![ClientSpec::desk_default()],
            consent_policy: ConsentPolicy::Grant,
            consent_delay: Duration::from_millis(500),
            exchange_log: None,
            records_dir: None,
            faults: Faults::default(),
            link_token_guard: crate::v3::LINK_TOKEN_GUARD,
            abha_key_bits: 2048,
        }
    }
}

pub struct App {
    pub config: SandboxConfig,
    pub issuer: Issuer,
    pub state: Mutex<State>,
    pub faults: Mutex<Faults>,
    pub log: ExchangeLog,
    pub http: reqwest::Client,
    /// Our own base URL (for the peer HIU's data-push URL).
    pub base_url: String,
}

pub type Shared = Arc<App>;

impl App {
    pub fn new(config: SandboxConfig, base_url: String) -> std::io::Result<Self> {
        let mut state = State::default();
        state.seed_demo();
        for client in &config.clients {
            state.clients.insert(
                client.id.clone(),
                Client {
                    secret: client.secret.clone(),
                    bridge_url: client.bridge_url.clone(),
                    speaks: client.generation,
                    generation: 0,
                },
            );
            for (id, name, types) in &client.services {
                state.services.insert(
                    id.clone(),
                    Service {
                        id: id.clone(),
                        name: name.clone(),
                        types: types.clone(),
                        active: true,
                        client_id: client.id.clone(),
                    },
                );
            }
        }
        Ok(Self {
            issuer: Issuer::new(config.session_ttl.as_secs(), &base_url),
            log: ExchangeLog::open(config.exchange_log.as_deref())?,
            faults: Mutex::new(config.faults.clone()),
            state: Mutex::new(state),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            config,
            base_url,
        })
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("sandbox state lock")
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().expect("faults lock")
    }

    /// A new 6-digit OTP (no leading zero, as the health id spec's pattern requires), or the fixed
    /// development OTP when one is configured.
    pub fn new_otp(&self) -> crate::domain::state::Otp {
        let code = self.config.dev_otp.clone().unwrap_or_else(|| {
            rand::thread_rng()
                .gen_range(100_000..=999_999u32)
                .to_string()
        });
        crate::domain::state::Otp {
            code,
            expires: std::time::Instant::now() + self.config.otp_ttl,
            attempts_left: self.config.otp_attempts,
        }
    }

    /// An error code as the gateway writes it (optionally with its trailing-colon quirk).
    pub fn code(&self, code: &str) -> String {
        if self.faults().quirky_error_codes {
            format!("{code}: ")
        } else {
            code.to_string()
        }
    }

    /// `{"error":{"code","message"}}` with the given status.
    pub fn error(&self, status: StatusCode, code: &str, message: &str) -> Response {
        (
            status,
            axum::Json(json!({"error": {"code": self.code(code), "message": message}})),
        )
            .into_response()
    }

    /// Authenticates a gateway or ABHA-service call the way ABDM's API manager does; returns the
    /// client id. `require_cm_id` for gateway calls.
    pub fn authorize(&self, headers: &HeaderMap, require_cm_id: bool) -> Result<String, Response> {
        {
            let mut faults = self.faults();
            if faults.fail_next_calls > 0 {
                faults.fail_next_calls -= 1;
                return Err((
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"error": {"code": "ABDM-1024", "message": "Dependent service unavailable (injected fault)"}})),
                )
                    .into_response());
            }
        }
        let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return Err(wso2(
                StatusCode::UNAUTHORIZED,
                "900902",
                "Missing Credentials",
            ));
        };
        let token = auth.trim().strip_prefix("Bearer ").unwrap_or(auth).trim();
        let revoked = |client: &str, generation: u64| {
            self.state()
                .clients
                .get(client)
                .is_some_and(|c| generation != c.generation)
        };
        let client = match self.issuer.verify_session(token) {
            Ok((client, generation)) if !revoked(&client, generation) => client,
            _ => {
                return Err(wso2(
                    StatusCode::UNAUTHORIZED,
                    "900901",
                    "Invalid Credentials",
                ))
            }
        };
        if require_cm_id && headers.get("x-cm-id").is_none() {
            // A missing mandatory header: an empty 401 with a Basic challenge (observed).
            let mut r = StatusCode::UNAUTHORIZED.into_response();
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Basic realm=\"Realm\""),
            );
            return Err(r);
        }
        Ok(client)
    }

    /// Parses a JSON body into the operation's type, or answers ABDM's 400.
    pub fn parse<T: DeserializeOwned>(&self, body: &Bytes) -> Result<T, Response> {
        serde_json::from_slice(body).map_err(|e| {
            self.error(
                StatusCode::BAD_REQUEST,
                "ABDM-1006",
                &format!("Bad Request, invalid request Body: {e}"),
            )
        })
    }

    /// [`App::authorize`], then [`App::parse`]: the start of every gateway handler.
    pub fn accept<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
        require_cm_id: bool,
    ) -> Result<(String, T), Response> {
        let client = self.authorize(headers, require_cm_id)?;
        Ok((client, self.parse(body)?))
    }

    /// The service named by `X-HIP-ID`/`X-HIU-ID`, when the caller owns it.
    pub fn acting_service(&self, headers: &HeaderMap, client: &str) -> Option<String> {
        let id = headers
            .get("x-hip-id")
            .or_else(|| headers.get("x-hiu-id"))
            .and_then(|v| v.to_str().ok())?
            .to_string();
        let state = self.state();
        state
            .services
            .get(&id)
            .filter(|s| s.client_id == client)
            .map(|s| s.id.clone())
    }

    /// Delivers a callback (written in v0.5's form) to the bridge of `service_id` after the
    /// configured delay, applying faults: in v3's form to a client that speaks v3. A service
    /// nobody registered is black-holed, as the real gateway does.
    pub fn callback(
        self: &Arc<Self>,
        service_id: &str,
        kind: ServiceKind,
        path: &'static str,
        mut body: Value,
    ) {
        if self.speaks(service_id) == abdm::Generation::V3 {
            let Some(out) = crate::v3::callbacks::to_v3(path, &body, service_id) else {
                tracing::warn!(path, "no v3 form of this callback: not sent");
                return;
            };
            return self.deliver(service_id, kind, out.path, out.request_id, out.body);
        }
        if path == <abdm::v0_5::consents::hip_notify::Endpoint as abdm::Operation>::PATH {
            // v0.5 tells a HIP nothing of the HIU.
            if let Some(detail) = body["notification"]["consentDetail"].as_object_mut() {
                detail.remove("hiu");
            }
        }
        let request_id = body["requestId"].as_str().unwrap_or_default().to_string();
        self.deliver(service_id, kind, path, request_id, body)
    }

    /// Delivers a callback already in v3's form, with a fresh `REQUEST-ID`.
    pub fn callback_v3(
        self: &Arc<Self>,
        service_id: &str,
        kind: ServiceKind,
        path: &'static str,
        body: Value,
    ) {
        let request_id = uuid::Uuid::new_v4().to_string();
        self.deliver(service_id, kind, path, request_id, body)
    }

    /// The generation the client owning `service_id` is sent.
    pub(crate) fn speaks(&self, service_id: &str) -> abdm::Generation {
        let state = self.state();
        state
            .services
            .get(service_id)
            .and_then(|s| state.clients.get(&s.client_id))
            .map(|c| c.speaks)
            .unwrap_or_default()
    }

    fn deliver(
        self: &Arc<Self>,
        service_id: &str,
        kind: ServiceKind,
        path: &'static str,
        request_id: String,
        body: Value,
    ) {
        let bridge = {
            let state = self.state();
            state
                .services
                .get(service_id)
                .and_then(|s| state.clients.get(&s.client_id))
                .and_then(|c| c.bridge_url.clone())
        };
        let Some(bridge) = bridge else {
            tracing::warn!(
                service = service_id,
                path,
                "no bridge registered for this service: callback black-holed"
            );
            return;
        };
        let (copies, jitter) = {
            let mut faults = self.faults();
            if faults.drop_next > 0 {
                faults.drop_next -= 1;
                tracing::warn!(path, "callback dropped (injected fault)");
                return;
            }
            let copies = if faults.duplicate_next > 0 {
                faults.duplicate_next -= 1;
                2
            } else {
                1
            };
            let jitter = if faults.reorder_jitter_ms > 0 {
                rand::thread_rng().gen_range(0..=faults.reorder_jitter_ms)
            } else {
                0
            };
            (copies, Duration::from_millis(jitter))
        };
        let url = format!("{}{}", bridge.trim_end_matches('/'), path);
        let header = match kind {
            ServiceKind::Hip => "X-HIP-ID",
            ServiceKind::Hiu => "X-HIU-ID",
        };
        let token = self.issuer.gateway_token();
        for copy in 0..copies {
            let app = self.clone();
            let (url, body, token, service, request_id) = (
                url.clone(),
                body.clone(),
                token.clone(),
                service_id.to_string(),
                request_id.clone(),
            );
            let delay = self.config.callback_delay + jitter + Duration::from_millis(copy * 50);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let to = Delivery {
                    url: &url,
                    operation: path,
                    header,
                    service: &service,
                    request_id: &request_id,
                };
                let delivered = app.post_callback(&to, &token, &body).await;
                if !delivered {
                    if let Some(after) = app.config.redelivery_after {
                        tokio::time::sleep(after).await;
                        // Same body, same (possibly expired) token: as ABDM redelivers.
                        app.post_callback(&to, &token, &body).await;
                    }
                }
            });
        }
    }

    async fn post_callback(&self, to: &Delivery<'_>, token: &str, body: &Value) -> bool {
        let Delivery {
            url,
            operation,
            header,
            service,
            request_id,
        } = *to;
        let path = url::Url::parse(url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| url.to_string());
        let timestamp = abdm::Timestamp::now().to_string();
        let bearer = format!("Bearer {token}");
        let sent = [
            ("authorization", bearer.as_str()),
            (header, service),
            ("request-id", request_id),
            ("timestamp", timestamp.as_str()),
            ("content-type", "application/json"),
        ];
        let logged = crate::exchange_log::headers_value(sent);
        let result = self
            .http
            .post(url)
            .bearer_auth(token)
            .header(header, service)
            .header("REQUEST-ID", request_id)
            .header("TIMESTAMP", &timestamp)
            .json(body)
            .send()
            .await;
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                self.log
                    .outbound("POST", &path, operation, Some(status), logged, body);
                if response.status().is_success() {
                    true
                } else {
                    tracing::warn!(url, status, "bridge refused a callback");
                    false
                }
            }
            Err(e) => {
                self.log
                    .outbound("POST", &path, operation, None, logged, body);
                tracing::warn!(url, error = %e, "bridge unreachable");
                false
            }
        }
    }
}

/// Where one callback goes.
#[derive(Clone, Copy)]
struct Delivery<'a> {
    url: &'a str,
    /// The spec path of the callback.
    operation: &'a str,
    /// `X-HIP-ID` or `X-HIU-ID`.
    header: &'a str,
    service: &'a str,
    request_id: &'a str,
}

/// WSO2's envelope for authentication failures.
pub fn wso2(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message, "description": message})),
    )
        .into_response()
}

pub fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// Logs every ABDM-facing exchange (not the admin or phone pages).
pub async fn log_exchange(
    AxumState(app): AxumState<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let logged = [
        "/gateway/",
        "/healthid/",
        "/peer-hiu/",
        "/api/",
        "/abha/",
        "/v4/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    if !logged || app.config.exchange_log.is_none() {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let (parts, body) = request.into_parts();
    let headers = crate::exchange_log::headers_value(
        parts
            .headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))),
    );
    let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .unwrap_or_default();
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    let (parts, body) = response.into_parts();
    let response_bytes = axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .unwrap_or_default();
    app.log.inbound(
        &method,
        &path,
        parts.status.as_u16(),
        headers,
        &bytes,
        &response_bytes,
    );
    Response::from_parts(parts, Body::from(response_bytes))
}

pub fn with_common_layers(router: Router<Shared>, app: Shared) -> Router {
    router
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            log_exchange,
        ))
        .layer(DefaultBodyLimit::max(crate::BODY_LIMIT))
        .with_state(app)
}
