//! Verification of the gateway's bearer tokens: every callback ABDM makes carries
//! `Authorization: Bearer <RS256 JWT>` signed with a key from the gateway's JWKS (`GET /v0.5/certs`).
//! The key is chosen by the token's `kid`; an unknown `kid` triggers one refetch (keys rotate); the
//! expiry check allows a configurable leeway because ABDM redelivers a failed callback once, about
//! 16 minutes later, with the same token.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::v0_5::sessions::certs;

/// What we read from a gateway token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub exp: u64,
    #[serde(default)]
    pub iat: Option<u64>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub sub: Option<String>,
    /// The client the token was issued to (`gateway` for the gateway's own callbacks).
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(rename = "clientId", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Why a token was refused. Messages never include the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token is signed with {0:?}; gateway tokens are RS256")]
    WrongAlgorithm(Algorithm),
    #[error("the token names a key the gateway does not publish (kid {0:?})")]
    UnknownKey(String),
    #[error("the token expired (beyond the allowed leeway)")]
    Expired,
    #[error("the token's signature or claims are invalid: {0}")]
    Invalid(String),
    #[error("the gateway's keys could not be fetched: {0}")]
    KeysUnavailable(String),
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

/// Decoding keys by `kid`, from a JWKS.
pub fn keys_from_jwks(jwks: &certs::Response) -> HashMap<String, DecodingKey> {
    jwks.keys
        .iter()
        .filter(|k| k.kty == "RSA")
        .filter_map(|k| {
            Some((
                k.kid.clone(),
                DecodingKey::from_rsa_components(&k.n, &k.e).ok()?,
            ))
        })
        .collect()
}

/// Verifies an RS256 token against known keys, allowing `leeway` past `exp`.
pub fn verify_with_keys(
    token: &str,
    keys: &HashMap<String, DecodingKey>,
    leeway: Duration,
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
    validation.leeway = leeway.as_secs();
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
            _ => JwtError::Invalid(e.to_string()),
        })
}

/// Verifies tokens against a gateway's JWKS, fetched on first use and again when a token names an
/// unknown key (at most once per `refetch_interval`, so a flood of forged `kid`s cannot make us
/// hammer the gateway).
pub struct JwksVerifier {
    http: reqwest::Client,
    jwks_url: String,
    leeway: Duration,
    refetch_interval: Duration,
    state: RwLock<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

impl JwksVerifier {
    pub fn new(jwks_url: impl Into<String>, leeway: Duration) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client builds"),
            jwks_url: jwks_url.into(),
            leeway,
            refetch_interval: Duration::from_secs(10),
            state: RwLock::new(KeyCache::default()),
        }
    }

    /// Shortens the minimum time between refetches (tests rotate keys quickly).
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        {
            let cache = self.state.read().await;
            if cache.fetched_at.is_some() {
                match verify_with_keys(token, &cache.keys, self.leeway) {
                    Err(JwtError::UnknownKey(_)) => {}
                    other => return other,
                }
            }
        }
        self.refresh().await?;
        let cache = self.state.read().await;
        verify_with_keys(token, &cache.keys, self.leeway)
    }

    async fn refresh(&self) -> Result<(), JwtError> {
        let mut cache = self.state.write().await;
        if let Some(at) = cache.fetched_at {
            if at.elapsed() < self.refetch_interval {
                return Ok(());
            }
        }
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|e| JwtError::KeysUnavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(JwtError::KeysUnavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        let jwks: certs::Response = response
            .json()
            .await
            .map_err(|e| JwtError::KeysUnavailable(e.to_string()))?;
        cache.keys = keys_from_jwks(&jwks);
        cache.fetched_at = Some(Instant::now());
        tracing::info!(keys = cache.keys.len(), url = %self.jwks_url, "fetched the gateway's signing keys");
        Ok(())
    }
}
