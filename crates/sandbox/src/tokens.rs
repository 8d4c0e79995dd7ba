//! The sandbox's signing keys and the tokens it issues, shaped like ABDM's (reference notes §9.2):
//! RS256 session tokens (`aud: account`, `azp`, `exp = iat + 1200`), RS256 tokens on the gateway's own
//! callbacks, RS512 linking tokens, and a JWKS with both keys chosen by `kid`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};

use abdm::v0_5::sessions::certs;

pub const SESSION_KID: &str = "sandbox-rs256-1";
pub const LINK_KID: &str = "sandbox-rs512-1";

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

struct KeyPair {
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: certs::Jwk,
}

impl KeyPair {
    fn generate(kid: &str, alg: &str) -> Self {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation");
        let der = key.to_pkcs1_der().expect("PKCS#1 encoding");
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        Self {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_components(&n, &e).expect("RSA components"),
            jwk: certs::Jwk {
                kid: kid.into(),
                kty: "RSA".into(),
                alg: alg.into(),
                key_use: Some("sig".into()),
                n,
                e,
            },
        }
    }
}

/// Claims of a session or callback token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    pub iss: String,
    pub aud: String,
    pub azp: String,
    pub sub: String,
    #[serde(rename = "clientId")]
    pub client_id: String,
    pub iat: u64,
    pub exp: u64,
    /// The client's credential generation (a rotated secret revokes older tokens).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Claims of a linking token (what `users/auth/on-confirm` hands the HIP).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkClaims {
    #[serde(rename = "hipId")]
    pub hip_id: String,
    /// The patient's ABHA address.
    pub sub: String,
    pub purpose: String,
    pub iat: u64,
    pub exp: u64,
}

pub struct Issuer {
    session: KeyPair,
    link: KeyPair,
    pub session_ttl: u64,
    /// `iss` of every session token: the central-registry realm on the sandbox's own origin, as
    /// ABDM's are on its.
    pub issuer: String,
}

impl Issuer {
    pub fn new(session_ttl: u64, base_url: &str) -> Self {
        Self {
            session: KeyPair::generate(SESSION_KID, "RS256"),
            link: KeyPair::generate(LINK_KID, "RS512"),
            session_ttl,
            issuer: format!(
                "{}/auth/realms/central-registry",
                base_url.trim_end_matches('/')
            ),
        }
    }

    pub fn jwks(&self) -> certs::Response {
        certs::Response {
            keys: vec![self.session.jwk.clone(), self.link.jwk.clone()],
        }
    }

    fn sign<T: Serialize>(&self, claims: &T, alg: Algorithm) -> String {
        let (pair, kid) = match alg {
            Algorithm::RS512 => (&self.link, LINK_KID),
            _ => (&self.session, SESSION_KID),
        };
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, &pair.encoding).expect("signing with our own key")
    }

    /// A session token for a client, valid `session_ttl` seconds.
    pub fn session_token(&self, client_id: &str) -> String {
        self.session_token_at(client_id, now_secs(), 0)
    }

    /// A session token issued at `iat`, of the client's credential `generation`.
    pub fn session_token_at(&self, client_id: &str, iat: u64, generation: u64) -> String {
        self.sign(
            &SessionClaims {
                iss: self.issuer.clone(),
                aud: "account".into(),
                azp: client_id.into(),
                sub: client_id.into(),
                client_id: client_id.into(),
                iat,
                exp: iat + self.session_ttl,
                generation,
            },
            Algorithm::RS256,
        )
    }

    /// The token the gateway puts on its own callbacks.
    pub fn gateway_token(&self) -> String {
        self.session_token("gateway")
    }

    /// Verifies a bearer token the sandbox issued; returns the client id and its credential
    /// generation.
    pub fn verify_session(
        &self,
        token: &str,
    ) -> Result<(String, u64), jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["account"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<SessionClaims>(token, &self.session.decoding, &validation)
            .map(|data| (data.claims.client_id, data.claims.generation))
    }

    pub fn link_token(&self, hip_id: &str, abha_address: &str, ttl: u64) -> String {
        let iat = now_secs();
        self.sign(
            &LinkClaims {
                hip_id: hip_id.into(),
                sub: abha_address.into(),
                purpose: "LINK".into(),
                iat,
                exp: iat + ttl,
            },
            Algorithm::RS512,
        )
    }

    pub fn verify_link(&self, token: &str) -> Result<LinkClaims, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::RS512);
        validation.validate_aud = false;
        jsonwebtoken::decode::<LinkClaims>(token, &self.link.decoding, &validation)
            .map(|d| d.claims)
    }
}
