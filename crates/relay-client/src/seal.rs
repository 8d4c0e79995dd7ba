//! Sealing a message to a clinic: what the relay keeps on disk and streams is readable only with
//! the clinic's private key, which stays in the desk's keyring.
//!
//! Construction (an ECIES "sealed box" from the crypto already in the workspace): the relay holds an
//! ephemeral X25519 key pair per clinic, renewed every few minutes; the shared secret with the
//! clinic's public key goes through HKDF-SHA256 (salt = ephemeral public ‖ clinic public) to an
//! AES-256-GCM key; every message gets a fresh random 96-bit nonce. A sealed message is
//! `0x01 ‖ ephemeral public (32) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, with the clinic id, the
//! path and the kind as associated data, so a message cannot be moved to another clinic or route.
//! The ephemeral secret lives only in the relay's memory: a copy of its disk reveals nothing.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const HEADER: usize = 1 + 32 + 12;
const INFO: &[u8] = b"abdm-relay seal v1";
/// How long one ephemeral key seals a clinic's messages.
const ROTATE_AFTER: Duration = Duration::from_secs(300);
/// At most this many messages per ephemeral key (random nonces stay far from collisions).
const ROTATE_USES: u64 = 1 << 24;

/// Why a sealed message could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Too short or an unknown version.
    #[error("the sealed message is malformed")]
    Malformed,
    /// Wrong key, wrong clinic or route, or damaged bytes.
    #[error("the sealed message does not open with this clinic's key (another clinic's key, or damaged)")]
    Tampered,
    /// A key in the wrong encoding.
    #[error("a clinic key must be 32 bytes (64 hex digits or base64): {0}")]
    BadKey(String),
}

/// The clinic's private key: it opens what the relay sealed. `Debug` never shows it.
#[derive(Clone)]
pub struct ClinicKey(StaticSecret);

impl std::fmt::Debug for ClinicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClinicKey")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

impl ClinicKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(StaticSecret::random_from_rng(OsRng))
    }

    /// From 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(StaticSecret::from(bytes))
    }

    /// The raw secret, for the keyring.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// Reads the base64 form kept in the keyring or an environment variable.
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| SealError::BadKey("not base64".into()))?,
        );
        let raw: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::BadKey(format!("{} bytes", bytes.len())))?;
        Ok(Self::from_bytes(raw))
    }

    /// The base64 form.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.to_bytes()))
    }

    /// The public half, which the relay is configured with.
    pub fn public(&self) -> ClinicPublicKey {
        ClinicPublicKey(PublicKey::from(&self.0).to_bytes())
    }

    /// Opens a message the relay sealed for this clinic.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < HEADER + 16 || sealed[0] != VERSION {
            return Err(SealError::Malformed);
        }
        let ephemeral: [u8; 32] = sealed[1..33].try_into().expect("32 bytes");
        let cipher = cipher(
            &self
                .0
                .diffie_hellman(&PublicKey::from(ephemeral))
                .to_bytes(),
            &ephemeral,
            &self.public().0,
        );
        cipher
            .decrypt(
                Nonce::from_slice(&sealed[33..HEADER]),
                Payload {
                    msg: &sealed[HEADER..],
                    aad,
                },
            )
            .map_err(|_| SealError::Tampered)
    }
}

/// A clinic's public key (X25519), written as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClinicPublicKey(pub [u8; 32]);

impl std::fmt::Debug for ClinicPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClinicPublicKey({self})")
    }
}

impl std::fmt::Display for ClinicPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ClinicPublicKey {
    type Err = SealError;
    fn from_str(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        let bytes: Vec<u8> = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digits"))
                .collect()
        } else {
            STANDARD
                .decode(text)
                .map_err(|_| SealError::BadKey("neither hex nor base64".into()))?
        };
        let raw: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| SealError::BadKey(format!("{} bytes", b.len())))?;
        // A low-order point would make every agreement with it predictable: sealed messages
        // would be readable by anyone.
        let probe = x25519_dalek::EphemeralSecret::random_from_rng(rand_core::OsRng)
            .diffie_hellman(&x25519_dalek::PublicKey::from(raw));
        if !probe.was_contributory() {
            return Err(SealError::BadKey("a weak (low-order) key".into()));
        }
        Ok(Self(raw))
    }
}

fn cipher(shared: &[u8; 32], ephemeral: &[u8; 32], clinic: &[u8; 32]) -> Aes256Gcm {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(clinic);
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&salt), shared)
        .expand(INFO, key.as_mut())
        .expect("32 bytes is a valid HKDF length");
    Aes256Gcm::new(key.as_ref().into())
}

struct Ephemeral {
    public: [u8; 32],
    cipher: Aes256Gcm,
    made: Instant,
    uses: u64,
}

/// Seals messages to one clinic (the relay keeps one per clinic).
pub struct Sealer {
    clinic: ClinicPublicKey,
    current: Mutex<Option<Ephemeral>>,
}

impl Sealer {
    /// A sealer for the clinic with this public key.
    pub fn new(clinic: ClinicPublicKey) -> Self {
        Self {
            clinic,
            current: Mutex::new(None),
        }
    }

    fn fresh(&self) -> Ephemeral {
        let secret = Zeroizing::new(StaticSecret::random_from_rng(OsRng));
        let public = PublicKey::from(&*secret).to_bytes();
        let shared = Zeroizing::new(
            secret
                .diffie_hellman(&PublicKey::from(self.clinic.0))
                .to_bytes(),
        );
        Ephemeral {
            public,
            cipher: cipher(&shared, &public, &self.clinic.0),
            made: Instant::now(),
            uses: 0,
        }
    }

    /// Seals `plain` with `aad` bound to it.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        // The AES work runs outside the lock: only the key choice is shared.
        let (public, cipher) = {
            let mut current = self.current.lock().expect("sealer lock");
            let stale = current
                .as_ref()
                .is_none_or(|e| e.made.elapsed() > ROTATE_AFTER || e.uses >= ROTATE_USES);
            if stale {
                *current = Some(self.fresh());
            }
            let e = current.as_mut().expect("just made");
            e.uses += 1;
            (e.public, e.cipher.clone())
        };
        let mut out = Vec::with_capacity(HEADER + plain.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&public);
        out.extend_from_slice(&nonce);
        out.extend(
            cipher
                .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
                .expect("AES-GCM seals any length we accept"),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_clinic_key_opens_and_only_for_its_route() {
        let clinic = ClinicKey::generate();
        let sealer = Sealer::new(clinic.public());
        let sealed = sealer.seal(b"{\"hello\":1}", b"clinic-1 /v0.5/x");
        assert_eq!(
            clinic.open(&sealed, b"clinic-1 /v0.5/x").unwrap(),
            b"{\"hello\":1}"
        );
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
        assert_eq!(
            clinic.open(&sealed, b"clinic-2 /v0.5/x"),
            Err(SealError::Tampered)
        );
        assert_eq!(
            ClinicKey::generate().open(&sealed, b"clinic-1 /v0.5/x"),
            Err(SealError::Tampered)
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            clinic.open(&flipped, b"clinic-1 /v0.5/x"),
            Err(SealError::Tampered)
        );
        assert_eq!(clinic.open(&sealed[..20], b""), Err(SealError::Malformed));
        // Two seals of the same text differ (fresh nonce).
        assert_ne!(sealer.seal(b"a", b""), sealer.seal(b"a", b""));
    }

    #[test]
    fn keys_round_trip_in_their_text_forms_and_debug_hides_the_secret() {
        let key = ClinicKey::generate();
        let again = ClinicKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.public(), again.public());
        let public: ClinicPublicKey = key.public().to_string().parse().unwrap();
        assert_eq!(public, key.public());
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.to_base64().as_str()));
        assert!("abcd".parse::<ClinicPublicKey>().is_err());
    }
}
