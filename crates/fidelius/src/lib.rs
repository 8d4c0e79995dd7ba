//! ABDM's health-data encryption ("Fidelius"), in process and byte-compatible with the Java Fidelius.
//!
//! ABDM encrypts every record that moves between a Health Information Provider (the *sender*) and a
//! Health Information User (the *requester*) with:
//!
//! 1. ECDH on Curve25519, where keys travel as BouncyCastle's short-Weierstrass points
//!    ([`PublicKey`], raw SEC1 or X.509) while the arithmetic runs in X25519's Montgomery form;
//! 2. HKDF-SHA256 over the shared x-coordinate (32 bytes, big-endian), salted with the first 20 bytes
//!    of the XOR of the two parties' 32-byte nonces;
//! 3. AES-256-GCM with the last 12 bytes of that XOR as IV and no AAD; the wire value is
//!    `base64(ciphertext ‖ tag)`.
//!
//! ```
//! use fidelius::{KeyMaterial, KeyEncoding};
//! let hiu = KeyMaterial::generate();          // the requester, sends its public key and nonce
//! let hip = KeyMaterial::generate();          // the sender, fresh for each transfer
//! let wire = fidelius::encrypt(b"{\"resourceType\":\"Bundle\"}", &hip, &hiu.public_key(), &hiu.nonce)?;
//! let back = fidelius::decrypt(&wire, &hiu, &hip.public_key(), &hip.nonce)?;
//! assert_eq!(back, b"{\"resourceType\":\"Bundle\"}");
//! # Ok::<(), fidelius::Error>(())
//! ```
//!
//! Unlike the Java tool, a failed tag check is an error, never an empty plaintext.

mod bulk;
mod curve;
mod keys;
mod session;

pub use keys::{KeyEncoding, Nonce, PublicKey, SecretKey};
pub use session::Session;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Everything that can be wrong with Fidelius input. Messages name the offending argument and never
/// contain key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} is not valid base64 ({detail})")]
    Base64 { what: &'static str, detail: String },
    #[error("{what} must be {expected} bytes, but it is {actual}")]
    Length {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("public key is not in a form Fidelius uses: {0}")]
    KeyFormat(&'static str),
    #[error("public key is not a point on Curve25519: {0}")]
    NotOnCurve(&'static str),
    #[error("private key is not a valid Fidelius key: {0}")]
    PrivateKey(&'static str),
    #[error("the peer's public key has small order, so the shared secret would be all zeros")]
    NonContributory,
    #[error(
        "decryption failed: the authentication tag does not match (the data was altered, or the keys or nonces are not the ones it was encrypted with)"
    )]
    Decrypt,
}

/// One party's key material for one transfer: a secret and a nonce.
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    pub secret: SecretKey,
    pub nonce: Nonce,
}

impl KeyMaterial {
    pub fn generate() -> Self {
        Self {
            secret: SecretKey::generate(),
            nonce: Nonce::generate(),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }
}

/// Encrypts as the sender (HIP) for a requester (HIU); returns `base64(ciphertext ‖ tag)`.
pub fn encrypt(
    plaintext: &[u8],
    sender: &KeyMaterial,
    requester_public: &PublicKey,
    requester_nonce: &Nonce,
) -> Result<String, Error> {
    let session = Session::derive(
        &sender.secret,
        requester_public,
        &sender.nonce,
        requester_nonce,
    )?;
    Ok(session.seal_base64(plaintext))
}

/// Decrypts as the requester (HIU) what the sender (HIP) encrypted; fails on any tag mismatch.
pub fn decrypt(
    ciphertext_b64: &str,
    requester: &KeyMaterial,
    sender_public: &PublicKey,
    sender_nonce: &Nonce,
) -> Result<Vec<u8>, Error> {
    let session = Session::derive(
        &requester.secret,
        sender_public,
        &requester.nonce,
        sender_nonce,
    )?;
    session.open_base64(ciphertext_b64)
}

/// Standard base64 with padding, tolerant of surrounding whitespace and embedded line breaks.
pub(crate) fn decode_b64(what: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::Empty { what });
    }
    let result = if trimmed.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = trimmed
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        STANDARD.decode(compact)
    } else {
        STANDARD.decode(trimmed)
    };
    result.map_err(|e| Error::Base64 {
        what,
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod vector_tests;
