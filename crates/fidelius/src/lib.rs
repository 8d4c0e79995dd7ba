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
    /// A required input is empty or only whitespace.
    #[error("{what} is empty")]
    Empty {
        /// Which input, e.g. `nonce` or `public key`.
        what: &'static str,
    },
    /// An input is not valid base64.
    #[error("{what} is not valid base64 ({detail})")]
    Base64 {
        /// Which input, e.g. `nonce` or `ciphertext`.
        what: &'static str,
        /// The base64 decoder's explanation.
        detail: String,
    },
    /// An input decoded to the wrong number of bytes.
    #[error("{what} must be {expected} bytes, but it is {actual}")]
    Length {
        /// Which input, e.g. `nonce` or `ciphertext`.
        what: &'static str,
        /// Bytes it must have (for a ciphertext, the least it can have).
        expected: usize,
        /// Bytes it has.
        actual: usize,
    },
    /// A public key is neither a 65-byte SEC1 point nor a Curve25519 X.509 key; says why.
    #[error("public key is not in a form Fidelius uses: {0}")]
    KeyFormat(&'static str),
    /// A public key's coordinates are not a point on Curve25519; says which check failed.
    #[error("public key is not a point on Curve25519: {0}")]
    NotOnCurve(&'static str),
    /// A Fidelius private key cannot be imported; says why.
    #[error("private key is not a valid Fidelius key: {0}")]
    PrivateKey(&'static str),
    /// The peer's public key has small order, so ECDH would give an all-zero secret.
    #[error("the peer's public key has small order, so the shared secret would be all zeros")]
    NonContributory,
    /// The AES-GCM tag does not match: the data was altered, or the keys or nonces are wrong.
    #[error(
        "decryption failed: the authentication tag does not match (the data was altered, or the keys or nonces are not the ones it was encrypted with)"
    )]
    Decrypt,
}

/// One party's key material for one transfer: a secret and a nonce.
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    /// This party's Curve25519 secret; its public key goes to the peer.
    pub secret: SecretKey,
    /// This party's 32-byte nonce, sent to the peer with the public key.
    pub nonce: Nonce,
}

impl KeyMaterial {
    /// A fresh random secret and nonce from the operating system's generator.
    pub fn generate() -> Self {
        Self {
            secret: SecretKey::generate(),
            nonce: Nonce::generate(),
        }
    }

    /// The public key to send to the peer (the point with even y).
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
