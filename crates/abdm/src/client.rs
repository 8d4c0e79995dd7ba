//! The gateway client: one place that knows how to talk to ABDM (or our sandbox).
//!
//! It gets and caches the session token (refreshed before it expires, and once more when ABDM says a
//! cached token is no longer valid), sets `X-CM-ID` and `X-HIP-ID`/`X-HIU-ID`, and turns every error
//! envelope into an [`AbdmError`]. It never retries a write on its own: the desk's outbox does, with the
//! same request id.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;

use uuid::Uuid;

use crate::v0_5::sessions::{bridges, certs, get_services, sessions};
use crate::v3::headers as v3h;
use crate::{AbdmError, Method, Operation, Server, Timestamp};

/// An ABDM generation: which paths, bodies and headers the gateway and the ABHA service speak.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Generation {
    /// The v0.5 gateway with health id v1 (the seed's generation).
    #[default]
    #[serde(rename = "v0.5")]
    V05,
    /// HIECM v3 with ABHA v3: what live ABDM serves.
    #[serde(rename = "v3")]
    V3,
}

impl Generation {
    /// As the settings and the command line write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Generation::V05 => "v0.5",
            Generation::V3 => "v3",
        }
    }

    /// Reads `v0.5` or `v3`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "v0.5" | "0.5" => Some(Generation::V05),
            "v3" | "3" => Some(Generation::V3),
            _ => None,
        }
    }
}

/// Where ABDM is and who we are. `Debug` leaves the secret out.
#[derive(Clone)]
pub struct GatewayConfig {
    /// Base URL of the gateway, e.g. `https://dev.abdm.gov.in/gateway`.
    pub gateway_url: String,
    /// Base URL of the ABHA service, e.g. `https://healthidsbx.abdm.gov.in/api`.
    pub healthid_url: String,
    /// The clinic's client id (from ABDM's integration portal).
    pub client_id: String,
    /// The client secret (kept in the OS keyring by the desk; never logged).
    pub client_secret: String,
    /// `sbx` in the sandbox, `abdm` in production.
    pub cm_id: String,
    /// How long one HTTP call may take.
    pub timeout: Duration,
    /// Which generation the URLs above serve. For v3, `gateway_url` is the HIECM host (paths
    /// start `/api/hiecm/`) and `healthid_url` the ABHA v3 base (paths start `/v3/`).
    pub generation: Generation,
}

impl std::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("gateway_url", &self.gateway_url)
            .field("healthid_url", &self.healthid_url)
            .field("client_id", &self.client_id)
            .field("cm_id", &self.cm_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The service a gateway call is made for (`X-HIP-ID` / `X-HIU-ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acting {
    /// As a HIP: `X-HIP-ID`.
    Hip(String),
    /// As a HIU: `X-HIU-ID`.
    Hiu(String),
    /// Calls that need neither header.
    Bridge,
}

struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// A client of the gateway and the ABHA service, with its session token cached.
pub struct GatewayClient {
    http: reqwest::Client,
    config: GatewayConfig,
    token: Mutex<Option<CachedToken>>,
}

impl GatewayClient {
    /// A client with the given settings (no call is made yet).
    pub fn new(config: GatewayConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .build()
            .expect("HTTP client builds");
        Self {
            http,
            config,
            token: Mutex::new(None),
        }
    }

    /// Its settings.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    fn url(&self, server: Server, path: &str) -> String {
        let base = match server {
            Server::HealthId => &self.config.healthid_url,
            _ => &self.config.gateway_url,
        };
        format!("{}{}", base.trim_end_matches('/'), path)
    }

    fn unreachable(url: &str, e: reqwest::Error) -> AbdmError {
        // A request that cannot even be built (a header no HTTP allows) is not the network's
        // fault, and trying it again will not help.
        if e.is_builder() {
            return AbdmError::Unexpected {
                what: url.to_string(),
                detail: format!("the request cannot be sent as it is: {e}"),
            };
        }
        let detail = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "connection refused or no network".to_string()
        } else {
            e.to_string()
        };
        AbdmError::Unreachable {
            url: url.to_string(),
            detail,
        }
    }

    /// A session token fetched now, not the cached one: proves that ABDM answers and accepts
    /// the client id and secret at this moment.
    pub async fn new_session_token(&self) -> Result<String, AbdmError> {
        self.token.lock().await.take();
        self.session_token().await
    }

    /// A valid session token, fetched when there is none or the cached one is close to expiry.
    pub async fn session_token(&self) -> Result<String, AbdmError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            if Instant::now() < token.refresh_at {
                return Ok(token.value.clone());
            }
        }
        let request = match self.config.generation {
            Generation::V05 => self
                .http
                .post(self.url(Server::Gateway, sessions::Endpoint::PATH))
                .json(&sessions::Body {
                    client_id: self.config.client_id.clone(),
                    client_secret: self.config.client_secret.clone(),
                    grant_type: sessions::GrantType::ClientCredentials,
                    refresh_token: None,
                }),
            Generation::V3 => {
                use crate::v3::gateway::sessions as v3s;
                self.http
                    .post(self.url(Server::Gateway, <v3s::Endpoint as Operation>::PATH))
                    .header(v3h::REQUEST_ID, Uuid::new_v4().to_string())
                    .header(v3h::TIMESTAMP, Timestamp::now().to_string())
                    .json(&v3s::Body::new(
                        &self.config.client_id,
                        &self.config.client_secret,
                    ))
            }
        };
        let request = request
            .header("X-CM-ID", &self.config.cm_id)
            .build()
            .map_err(|e| AbdmError::Unexpected {
                what: "the session request".into(),
                detail: e.to_string(),
            })?;
        let url = request.url().to_string();
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| Self::unreachable(&url, e))?;
        let status = response.status().as_u16();
        if matches!(status, 400 | 401 | 403) {
            // The gateway refuses our client id or secret: nothing can be sent until a person fixes it.
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(match AbdmError::from_response(status, &bytes) {
                AbdmError::Rejected { message, code, .. } => AbdmError::Credentials {
                    message: match code {
                        Some(c) => format!("{message} ({c})"),
                        None => message,
                    },
                },
                other => other,
            });
        }
        let session: sessions::Response = Self::read_json(&url, response).await?;
        // Refresh a minute early (or at half-life for short tokens) so no call carries an expiring token.
        let lifetime = Duration::from_secs(session.expires_in);
        let margin = Duration::from_secs(60).min(lifetime / 2);
        *cached = Some(CachedToken {
            value: session.access_token.clone(),
            refresh_at: Instant::now() + lifetime - margin,
        });
        tracing::debug!(expires_in = session.expires_in, "new gateway session");
        Ok(session.access_token)
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    async fn read_json<T: DeserializeOwned>(
        url: &str,
        response: reqwest::Response,
    ) -> Result<T, AbdmError> {
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Self::unreachable(url, e))?;
        if !(200..300).contains(&status) {
            return Err(AbdmError::from_response(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| AbdmError::Unexpected {
            what: url.to_string(),
            detail: e.to_string(),
        })
    }

    /// Sends one request with the session token; on a 401 that says the token is no longer valid,
    /// gets a new token and tries once more.
    async fn send_raw<B: Serialize + ?Sized>(
        &self,
        method: Method,
        server: Server,
        path: &str,
        body: Option<&B>,
        acting: &Acting,
        extra: &[(&str, String)],
    ) -> Result<reqwest::Response, AbdmError> {
        let url = self.url(server, path);
        for attempt in 0..2 {
            let token = self.session_token().await?;
            let mut request = match method {
                Method::Get => self.http.get(&url),
                Method::Post => self.http.post(&url),
                Method::Patch => self.http.patch(&url),
            }
            .bearer_auth(&token)
            .header("X-CM-ID", &self.config.cm_id);
            request = match acting {
                Acting::Hip(id) => request.header("X-HIP-ID", id),
                Acting::Hiu(id) => request.header("X-HIU-ID", id),
                Acting::Bridge => request,
            };
            for (name, value) in extra {
                request = request.header(*name, value);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| Self::unreachable(&url, e))?;
            if response.status().as_u16() == 401 && attempt == 0 {
                // The cached token may have been revoked or expired in flight.
                self.forget_token().await;
                continue;
            }
            return Ok(response);
        }
        unreachable!("the loop returns on its second pass")
    }

    /// A gateway write (v0.5): succeeds on ABDM's 202; the answer comes later as a callback.
    pub async fn send<O: Operation>(
        &self,
        body: &O::Body,
        acting: &Acting,
    ) -> Result<(), AbdmError> {
        let response = self
            .send_raw(O::METHOD, O::SERVER, O::PATH, Some(body), acting, &[])
            .await?;
        Self::accepted(response).await
    }

    /// A v3 gateway write, with the call's own `REQUEST-ID` (the same on every retry), the
    /// time of this send, and the link token when the call needs it: succeeds on ABDM's 202.
    pub async fn send_v3(
        &self,
        path: &str,
        body: &serde_json::Value,
        call: &V3Call<'_>,
    ) -> Result<(), AbdmError> {
        let mut extra = vec![
            (v3h::REQUEST_ID, call.request_id.to_string()),
            (v3h::TIMESTAMP, call.timestamp.to_string()),
        ];
        if let Some(token) = call.link_token {
            extra.push((v3h::X_LINK_TOKEN, token.to_string()));
        }
        let response = self
            .send_raw(
                Method::Post,
                Server::Gateway,
                path,
                Some(body),
                call.acting,
                &extra,
            )
            .await?;
        Self::accepted(response).await
    }

    /// A gateway write of an already serialized body (the desk's outbox keeps bodies as sent, so a
    /// retry carries the same request id).
    pub async fn send_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        acting: &Acting,
    ) -> Result<(), AbdmError> {
        let response = self
            .send_raw(Method::Post, Server::Gateway, path, Some(body), acting, &[])
            .await?;
        Self::accepted(response).await
    }

    /// Links a health facility (HFR id) to our bridge as HIP and/or HIU
    /// (`POST /v1/bridges/MutipleHRPAddUpdateServices`, spelled as ABDM spells it). ABDM answers 200
    /// with a list whose first element has `servicesLinked`, or an `error` (code 2500 when the facility
    /// is already associated with this bridge, which counts as success).
    pub async fn register_facility(
        &self,
        hf_id: &str,
        name: &str,
        kinds: &[crate::v0_5::ServiceKind],
    ) -> Result<(), AbdmError> {
        let hrp: Vec<serde_json::Value> = kinds
            .iter()
            .map(|k| serde_json::json!({"bridgeId": self.config.client_id, "hipName": name, "type": k, "active": true, "alias": [name]}))
            .collect();
        let body = serde_json::json!({"facilityId": hf_id, "facilityName": name, "HRP": hrp});
        // v3: the registry's own path (ABDM serves it from the HSP host; the sandbox beside the
        // gateway).
        let path = match self.config.generation {
            Generation::V05 => "/v1/bridges/MutipleHRPAddUpdateServices",
            Generation::V3 => "/v4/int/v1/bridges/MutipleHRPAddUpdateServices",
        };
        let response = self
            .send_raw(
                Method::Post,
                Server::Gateway,
                path,
                Some(&body),
                &Acting::Bridge,
                &self.v3_headers(),
            )
            .await?;
        let answer: serde_json::Value = Self::read_json(path, response).await?;
        let first = &answer[0];
        if first.get("servicesLinked").is_some() {
            return Ok(());
        }
        let code = first["error"]["code"].as_str().map(String::from);
        let message = first["error"]["message"]
            .as_str()
            .unwrap_or("no reason given")
            .to_string();
        if code.as_deref() == Some("2500") && message.contains(&self.config.client_id) {
            return Ok(());
        }
        Err(AbdmError::Rejected {
            status: 200,
            code,
            message,
        })
    }

    async fn accepted(response: reqwest::Response) -> Result<(), AbdmError> {
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let bytes = response.bytes().await.unwrap_or_default();
        Err(AbdmError::from_response(status, &bytes))
    }

    /// `REQUEST-ID` and `TIMESTAMP` for a v3 call that is not kept in the outbox (nothing for
    /// v0.5).
    fn v3_headers(&self) -> Vec<(&'static str, String)> {
        match self.config.generation {
            Generation::V05 => Vec::new(),
            Generation::V3 => vec![
                (v3h::REQUEST_ID, Uuid::new_v4().to_string()),
                (v3h::TIMESTAMP, Timestamp::now().to_string()),
            ],
        }
    }

    /// A synchronous ABHA-service call with a JSON answer (health id v1: the user token as
    /// `X-Token: Bearer …`).
    pub async fn call<O: Operation>(
        &self,
        body: &O::Body,
        x_token: Option<&str>,
    ) -> Result<O::Response, AbdmError> {
        let extra: Vec<(&str, String)> = x_token
            .map(|t| vec![("X-Token", format!("Bearer {t}"))])
            .unwrap_or_default();
        let response = self.call_raw::<O>(body, &extra).await?;
        Self::read_json(O::PATH, response).await
    }

    /// A synchronous v3 call (ABHA v3, or a gateway lookup) with its `REQUEST-ID`, `TIMESTAMP`
    /// and the operation's own headers (`X-token` bare, `T-token`, `TRANSACTION_ID`).
    pub async fn call_v3<O: Operation>(
        &self,
        body: &O::Body,
        headers: &[(&'static str, String)],
    ) -> Result<O::Response, AbdmError> {
        let response = self.call_v3_raw::<O>(body, headers).await?;
        Self::read_json(O::PATH, response).await
    }

    /// [`GatewayClient::call_v3`] for an answer that is not JSON (an image): its bytes and type.
    pub async fn call_v3_bytes<O: Operation>(
        &self,
        body: &O::Body,
        headers: &[(&'static str, String)],
    ) -> Result<(Vec<u8>, Option<String>), AbdmError> {
        let response = self.call_v3_raw::<O>(body, headers).await?;
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Self::unreachable(O::PATH, e))?;
        if !(200..300).contains(&status) {
            return Err(AbdmError::from_response(status, &bytes));
        }
        Ok((bytes.to_vec(), kind))
    }

    async fn call_v3_raw<O: Operation>(
        &self,
        body: &O::Body,
        headers: &[(&'static str, String)],
    ) -> Result<reqwest::Response, AbdmError> {
        let mut extra = self.v3_headers();
        extra.extend(headers.iter().cloned());
        self.call_raw::<O>(body, &extra).await
    }

    async fn call_raw<O: Operation>(
        &self,
        body: &O::Body,
        extra: &[(&str, String)],
    ) -> Result<reqwest::Response, AbdmError> {
        let has_body = O::METHOD != Method::Get;
        self.send_raw(
            O::METHOD,
            O::SERVER,
            O::PATH,
            has_body.then_some(body),
            &Acting::Bridge,
            extra,
        )
        .await
    }

    /// The gateway's JWKS.
    pub async fn certs(&self) -> Result<certs::Response, AbdmError> {
        let url = self.url(Server::Gateway, certs::Endpoint::PATH);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| Self::unreachable(&url, e))?;
        Self::read_json(&url, response).await
    }

    /// Registers our bridge URL with the gateway (v0.5 `PATCH /v1/bridges`, v3
    /// `PATCH /api/hiecm/gateway/v3/bridge/url`).
    pub async fn register_bridge(&self, bridge_url: &str) -> Result<(), AbdmError> {
        match self.config.generation {
            Generation::V05 => {
                self.send::<bridges::Endpoint>(
                    &bridges::Body {
                        url: bridge_url.to_string(),
                    },
                    &Acting::Bridge,
                )
                .await
            }
            Generation::V3 => {
                use crate::v3::gateway::bridge_url as v3b;
                let body = v3b::Body {
                    url: bridge_url.to_string(),
                };
                let response = self.call_v3_raw::<v3b::Endpoint>(&body, &[]).await?;
                Self::accepted(response).await
            }
        }
    }

    /// The services (HIP/HIU ids) linked to our bridge.
    pub async fn services(&self) -> Result<get_services::Response, AbdmError> {
        if self.config.generation == Generation::V3 {
            use crate::v3::gateway::bridge_services as v3s;
            let answer = self.call_v3::<v3s::Endpoint>(&(), &[]).await?;
            return Ok(answer
                .services
                .into_iter()
                .map(|s| get_services::Service {
                    id: s.id,
                    name: s.name,
                    types: s
                        .types
                        .iter()
                        .filter_map(|t| serde_json::from_value(t.as_str().into()).ok())
                        .collect(),
                    active: s.active,
                })
                .collect());
        }
        let response = self
            .send_raw::<()>(
                Method::Get,
                Server::Gateway,
                get_services::Endpoint::PATH,
                None,
                &Acting::Bridge,
                &[],
            )
            .await?;
        Self::read_json(get_services::Endpoint::PATH, response).await
    }
}

/// What a v3 write carries in its headers besides the session. `Debug` leaves the token out.
#[derive(Clone, Copy)]
pub struct V3Call<'a> {
    /// Fixed for the life of the call (the outbox's id): a retry is the same request.
    pub request_id: Uuid,
    /// The moment of this send.
    pub timestamp: Timestamp,
    /// `X-HIP-ID`/`X-HIU-ID`.
    pub acting: &'a Acting,
    /// `X-LINK-TOKEN`, bare (only care-context linking).
    pub link_token: Option<&'a str>,
}

impl std::fmt::Debug for V3Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V3Call")
            .field("request_id", &self.request_id)
            .field("timestamp", &self.timestamp)
            .field("acting", &self.acting)
            .finish_non_exhaustive()
    }
}
