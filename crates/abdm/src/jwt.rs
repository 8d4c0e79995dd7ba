//! Verification of the gateway's bearer tokens on callbacks.
//!
//! ABDM signs the session tokens of *every* participant with the same realm key it uses on its own
//! callbacks, so a valid signature proves only that some ABDM client holds the token. A callback is
//! the gateway's only when, besides an RS256 signature by a published key:
//! * the key (chosen by `kid`) is published as `alg: RS256`, `use: sig` — the RS512 link-token key
//!   never verifies a callback;
//! * `iss` is the realm's issuer and `azp` (or `clientId`) is the gateway's own client (`gateway`);
//! * `exp` has not passed, beyond a leeway: ABDM redelivers a refused callback once, about 16
//!   minutes later, with the same token.
//!
//! The JWKS is fetched on first use and again when a token names an unknown `kid` (keys rotate). A
//! fetch runs outside every lock readers take, one at a time, and at most once per refetch interval
//! whether it succeeded or failed: a flood of made-up `kid`s can neither stall the verification of
//! real tokens nor make us hammer the gateway.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::v0_5::sessions::certs;

/// The client id ABDM's gateway uses for its own callbacks (`azp`/`clientId` of their tokens).
pub const GATEWAY_CLIENT: &str = "gateway";

/// What we read from a gateway token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Expiry, in seconds since 1970.
    pub exp: u64,
    /// Issued at.
    #[serde(default)]
    pub iat: Option<u64>,
    /// The realm that issued the token.
    #[serde(default)]
    pub iss: Option<String>,
    /// The subject.
    #[serde(default)]
    pub sub: Option<String>,
    /// The client the token was issued to (`gateway` for the gateway's own callbacks).
    #[serde(default)]
    pub azp: Option<String>,
    /// ABDM's own copy of the client id.
    #[serde(rename = "clientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Why a token was refused. Messages never include the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// No `Authorization: Bearer …`.
    #[error("no bearer token")]
    Missing,
    /// Not three base64url parts with a JSON header.
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    /// Signed with something else than RS256.
    #[error("the token is signed with {0:?}; gateway tokens are RS256")]
    WrongAlgorithm(Algorithm),
    /// The `kid` is not among the gateway's RS256 signing keys.
    #[error(
        "the token names a key the gateway does not publish for signing callbacks (kid {0:?})"
    )]
    UnknownKey(String),
    /// Past `exp` and the leeway.
    #[error("the token expired (beyond the allowed leeway)")]
    Expired,
    /// Issued by another realm.
    #[error("the token was issued by {found:?}, not by the gateway's realm")]
    WrongIssuer {
        /// The `iss` the token carries.
        found: Option<String>,
    },
    /// A valid token of some other ABDM client: not the gateway's own callback.
    #[error("the token belongs to client {found:?}, not to the gateway")]
    NotTheGateway {
        /// The client the token names.
        found: Option<String>,
    },
    /// A bad signature or unreadable claims.
    #[error("the token's signature or claims are invalid: {0}")]
    Invalid(String),
    /// The JWKS could not be fetched.
    #[error("the gateway's keys could not be fetched: {0}")]
    KeysUnavailable(String),
    /// A JWKS URL we refuse to trust.
    #[error("the gateway's key URL must use https (plain http only on this computer): {0}")]
    InsecureKeysUrl(String),
}

/// Reads `Bearer <token>` from an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, JwtError> {
    let value = header.ok_or(JwtError::Missing)?.trim();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value)
        .trim();
    if token.is_empty() {
        return Err(JwtError::Missing);
    }
    Ok(token)
}

/// Whom a callback token must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// The realm's issuer, e.g. `https://dev.abdm.gov.in/auth/realms/central-registry`.
    pub issuer: String,
    /// The gateway's client id ([`GATEWAY_CLIENT`]).
    pub gateway_client: String,
    /// How long past `exp` a token is still accepted.
    pub leeway: Duration,
}

impl CallbackPolicy {
    /// The policy for a gateway whose JWKS is at `jwks_url`: the issuer is the central-registry
    /// realm on the same origin (as on ABDM and our sandbox), the client `gateway`.
    pub fn for_jwks_url(jwks_url: &str, leeway: Duration) -> Result<Self, JwtError> {
        let url = url::Url::parse(jwks_url)
            .map_err(|e| JwtError::InsecureKeysUrl(format!("{jwks_url}: {e}")))?;
        let origin = url.origin().ascii_serialization();
        Ok(Self {
            issuer: format!("{origin}/auth/realms/central-registry"),
            gateway_client: GATEWAY_CLIENT.into(),
            leeway,
        })
    }
}

/// Checks that a JWKS URL is `https`, or plain `http` on a loopback address.
pub fn check_keys_url(jwks_url: &str) -> Result<(), JwtError> {
    let url = url::Url::parse(jwks_url)
        .map_err(|e| JwtError::InsecureKeysUrl(format!("{jwks_url}: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(JwtError::InsecureKeysUrl(jwks_url.into())),
    }
}

/// The RS256 signing keys of a JWKS, by `kid`. Keys for other algorithms or uses (the RS512
/// link-token key, encryption keys) are left out, so they can never verify a callback.
pub fn keys_from_jwks(jwks: &certs::Response) -> HashMap<String, DecodingKey> {
    jwks.keys
        .iter()
        .filter(|k| k.kty == "RSA" && k.alg == "RS256" && k.key_use.as_deref() == Some("sig"))
        .filter_map(|k| {
            Some((
                k.kid.clone(),
                DecodingKey::from_rsa_components(&k.n, &k.e).ok()?,
            ))
        })
        .collect()
}

/// Verifies a callback token against known keys and the policy.
pub fn verify_with_keys(
    token: &str,
    keys: &HashMap<String, DecodingKey>,
    policy: &CallbackPolicy,
) -> Result<Claims, JwtError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| JwtError::Malformed(e.to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err(JwtError::WrongAlgorithm(header.alg));
    }
    let kid = header.kid.unwrap_or_default();
    let key = keys
        .get(&kid)
        .ok_or_else(|| JwtError::UnknownKey(kid.clone()))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = policy.leeway.as_secs();
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
            _ => JwtError::Invalid(e.to_string()),
        })?;
    if claims.iss.as_deref() != Some(policy.issuer.as_str()) {
        return Err(JwtError::WrongIssuer {
            found: claims.iss.clone(),
        });
    }
    // Every client claim present must name the gateway, and at least one must be present.
    let named: Vec<&str> = [claims.azp.as_deref(), claims.client_id.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if named.is_empty() || named.iter().any(|c| *c != policy.gateway_client) {
        return Err(JwtError::NotTheGateway {
            found: named
                .iter()
                .find(|c| **c != policy.gateway_client)
                .map(|c| c.to_string()),
        });
    }
    Ok(claims)
}

/// Verifies callback tokens against a gateway's JWKS (see the module documentation).
pub struct JwksVerifier {
    http: reqwest::Client,
    jwks_url: String,
    policy: CallbackPolicy,
    refetch_interval: Duration,
    /// The current keys; replaced whole by a fetch, so readers hold the lock for a pointer copy.
    keys: RwLock<Arc<HashMap<String, DecodingKey>>>,
    /// Held by the one fetch in flight; its value is when the last fetch was tried.
    fetch: tokio::sync::Mutex<Option<Instant>>,
    /// v3 serves its JWKS only behind a session bearer: the client that gets one.
    session: Option<Arc<crate::GatewayClient>>,
    /// When ABDM last refused that client's credentials: not asked again for a while, or
    /// anyone sending made-up key ids would have it post the secret every second.
    refused_at: std::sync::Mutex<Option<Instant>>,
}

/// How long a refused JWKS client is not tried again.
const REFUSED_CREDENTIALS_PAUSE: Duration = Duration::from_secs(300);

impl JwksVerifier {
    /// A verifier for the JWKS at `jwks_url` (https, or http on loopback) and a policy.
    pub fn new(jwks_url: impl Into<String>, policy: CallbackPolicy) -> Result<Self, JwtError> {
        let jwks_url = jwks_url.into();
        check_keys_url(&jwks_url)?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client builds"),
            jwks_url,
            policy,
            refetch_interval: Duration::from_secs(10),
            keys: RwLock::new(Arc::new(HashMap::new())),
            fetch: tokio::sync::Mutex::new(None),
            session: None,
            refused_at: std::sync::Mutex::new(None),
        })
    }

    /// Fetches the keys with `client`'s session bearer and v3's headers (ABDM v3 serves
    /// `/api/hiecm/gateway/v3/certs` to no one else).
    pub fn with_session(mut self, client: crate::GatewayClient) -> Self {
        self.session = Some(Arc::new(client));
        self
    }

    /// Changes the minimum time between fetches (tests rotate keys quickly).
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// The policy tokens are checked against.
    pub fn policy(&self) -> &CallbackPolicy {
        &self.policy
    }

    fn current(&self) -> Arc<HashMap<String, DecodingKey>> {
        self.keys.read().expect("keys lock").clone()
    }

    /// Verifies a callback token; fetches the keys when the token names an unknown one.
    pub async fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        match verify_with_keys(token, &self.current(), &self.policy) {
            Err(JwtError::UnknownKey(_)) => {}
            other => return other,
        }
        self.refresh().await?;
        verify_with_keys(token, &self.current(), &self.policy)
    }

    /// Fetches the JWKS unless another fetch is running (then waits for it) or one was tried
    /// within the refetch interval.
    async fn refresh(&self) -> Result<(), JwtError> {
        // Compared by address only (a raw pointer would make this future `!Send`).
        let keys_before = Arc::as_ptr(&self.current()) as usize;
        let mut last_try = self.fetch.lock().await;
        if Arc::as_ptr(&self.current()) as usize != keys_before {
            return Ok(()); // Someone fetched while we waited.
        }
        if last_try.is_some_and(|at| at.elapsed() < self.refetch_interval) {
            return Ok(());
        }
        *last_try = Some(Instant::now());
        let jwks = self.fetch_jwks().await?;
        let keys = keys_from_jwks(&jwks);
        tracing::info!(keys = keys.len(), url = %self.jwks_url, "fetched the gateway's signing keys");
        *self.keys.write().expect("keys lock") = Arc::new(keys);
        Ok(())
    }

    async fn fetch_jwks(&self) -> Result<certs::Response, JwtError> {
        let Some(client) = &self.session else {
            return self.fetch_jwks_with(None).await;
        };
        let paused = self
            .refused_at
            .lock()
            .expect("refusal lock")
            .is_some_and(|at| at.elapsed() < REFUSED_CREDENTIALS_PAUSE);
        if paused {
            return Err(JwtError::KeysUnavailable(
                "ABDM refused the relay's client for the keys; asking again in a few minutes"
                    .into(),
            ));
        }
        let mut fresh = false;
        loop {
            let token = match if fresh {
                client.new_session_token().await
            } else {
                client.session_token().await
            } {
                Ok(t) => t,
                Err(e) => {
                    if e.is_credentials() {
                        *self.refused_at.lock().expect("refusal lock") = Some(Instant::now());
                    }
                    return Err(JwtError::KeysUnavailable(e.to_string()));
                }
            };
            match self.fetch_jwks_with(Some((client, token))).await {
                // A session token the gateway no longer takes: one more try with a new one.
                Err(JwtError::KeysUnavailable(why)) if !fresh && why.starts_with("HTTP 40") => {
                    fresh = true;
                }
                other => return other,
            }
        }
    }

    async fn fetch_jwks_with(
        &self,
        session: Option<(&crate::GatewayClient, String)>,
    ) -> Result<certs::Response, JwtError> {
        let mut request = self.http.get(&self.jwks_url);
        if let Some((client, token)) = session {
            use crate::v3::headers::{REQUEST_ID, TIMESTAMP, X_CM_ID};
            request = request
                .bearer_auth(token)
                .header(REQUEST_ID, uuid::Uuid::new_v4().to_string())
                .header(TIMESTAMP, crate::Timestamp::now().to_string())
                .header(X_CM_ID, &client.config().cm_id);
        }
        let response = request
            .send()
            .await
            .map_err(|e| JwtError::KeysUnavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(JwtError::KeysUnavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| JwtError::KeysUnavailable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;

    struct Signer {
        encoding: EncodingKey,
        jwk: certs::Jwk,
    }

    fn signer(kid: &str, alg: &str) -> Signer {
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        Signer {
            encoding: EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
            jwk: certs::Jwk {
                kid: kid.into(),
                kty: "RSA".into(),
                alg: alg.into(),
                key_use: Some("sig".into()),
                n: b64(key.n().to_bytes_be()),
                e: b64(key.e().to_bytes_be()),
            },
        }
    }

    const ISSUER: &str = "https://dev.abdm.gov.in/auth/realms/central-registry";

    fn policy() -> CallbackPolicy {
        CallbackPolicy {
            issuer: ISSUER.into(),
            gateway_client: "gateway".into(),
            leeway: Duration::from_secs(60),
        }
    }

    fn token(signer: &Signer, claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signer.jwk.kid.clone());
        jsonwebtoken::encode(&header, &claims, &signer.encoding).unwrap()
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn only_the_gateways_own_token_from_the_realm_passes() {
        let session = signer("rs256", "RS256");
        let link = signer("rs512", "RS512");
        let keys = keys_from_jwks(&certs::Response {
            keys: vec![session.jwk.clone(), link.jwk.clone()],
        });
        assert_eq!(
            keys.len(),
            1,
            "the RS512 link-token key is not a callback key"
        );
        let exp = now() + 600;
        let good =
            serde_json::json!({"exp": exp, "iss": ISSUER, "azp": "gateway", "clientId": "gateway"});
        assert!(verify_with_keys(&token(&session, good.clone()), &keys, &policy()).is_ok());

        let mut other_client = good.clone();
        other_client["azp"] = "other-vendor".into();
        other_client["clientId"] = "other-vendor".into();
        assert!(matches!(
            verify_with_keys(&token(&session, other_client), &keys, &policy()),
            Err(JwtError::NotTheGateway { found: Some(c) }) if c == "other-vendor"
        ));
        let mut mixed = good.clone();
        mixed["clientId"] = "other-vendor".into();
        assert!(matches!(
            verify_with_keys(&token(&session, mixed), &keys, &policy()),
            Err(JwtError::NotTheGateway { .. })
        ));
        let mut anonymous = good.clone();
        anonymous.as_object_mut().unwrap().remove("azp");
        anonymous.as_object_mut().unwrap().remove("clientId");
        assert!(matches!(
            verify_with_keys(&token(&session, anonymous), &keys, &policy()),
            Err(JwtError::NotTheGateway { found: None })
        ));
        let mut wrong_realm = good.clone();
        wrong_realm["iss"] = "https://evil.example/auth/realms/central-registry".into();
        assert!(matches!(
            verify_with_keys(&token(&session, wrong_realm), &keys, &policy()),
            Err(JwtError::WrongIssuer { .. })
        ));
        // Signed (as RS256) with the link-token key: that key does not verify callbacks.
        assert!(matches!(
            verify_with_keys(&token(&link, good.clone()), &keys, &policy()),
            Err(JwtError::UnknownKey(k)) if k == "rs512"
        ));
        // Within the leeway, and past it.
        let mut late = good.clone();
        late["exp"] = (now() - 30).into();
        assert!(verify_with_keys(&token(&session, late), &keys, &policy()).is_ok());
        let mut too_late = good;
        too_late["exp"] = (now() - 120).into();
        assert_eq!(
            verify_with_keys(&token(&session, too_late), &keys, &policy()),
            Err(JwtError::Expired)
        );
    }

    #[tokio::test]
    async fn unknown_keys_fetch_once_however_many_ask_and_failures_are_rate_limited() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let app = axum::Router::new().route(
            "/certs",
            axum::routing::get(move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/certs", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let verifier = Arc::new(
            JwksVerifier::new(url, policy())
                .unwrap()
                .with_refetch_interval(Duration::from_secs(5)),
        );
        let session = signer("rs256", "RS256");
        let forged = token(&session, serde_json::json!({"exp": now() + 600}));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (v, t) = (verifier.clone(), forged.clone());
            tasks.push(tokio::spawn(async move { v.verify(&t).await }));
        }
        for t in tasks {
            assert!(t.await.unwrap().is_err());
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "one fetch for 50 callers"
        );
        // A failed fetch is not retried within the interval either.
        assert!(verifier.verify(&forged).await.is_err());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn only_https_or_loopback_key_urls_are_trusted() {
        assert!(check_keys_url("https://dev.abdm.gov.in/gateway/v0.5/certs").is_ok());
        assert!(check_keys_url("http://127.0.0.1:8090/gateway/v0.5/certs").is_ok());
        assert!(check_keys_url("http://[::1]:8090/certs").is_ok());
        assert!(check_keys_url("http://localhost:8090/certs").is_ok());
        assert!(check_keys_url("http://dev.abdm.gov.in/gateway/v0.5/certs").is_err());
        assert!(check_keys_url("http://10.0.0.5/certs").is_err());
        assert!(check_keys_url("ftp://127.0.0.1/certs").is_err());
    }

    #[test]
    fn the_issuer_is_the_realm_on_the_keys_origin() {
        let p = CallbackPolicy::for_jwks_url(
            "https://dev.abdm.gov.in/gateway/v0.5/certs",
            Duration::ZERO,
        )
        .unwrap();
        assert_eq!(
            p.issuer,
            "https://dev.abdm.gov.in/auth/realms/central-registry"
        );
        assert_eq!(p.gateway_client, "gateway");
    }
}
