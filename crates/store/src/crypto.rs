//! Encryption at rest and the database's integrity digest.
//!
//! * Every value is AES-256-GCM sealed with a fresh nonce and, as associated data, the database's
//!   id and the record's own key: a value copied to another key, or from another database, does not
//!   open.
//! * Lookups by an identifier (ABHA number or address) use a keyed hash of it as the key, so keys
//!   reveal no identity either.
//! * A digest of the whole database — the XOR of a keyed MAC of every (key, nonce, tag) — is kept
//!   in the same atomic batch as each change and checked when the database opens: replacing,
//!   removing or rolling back any record from an older copy of the files is noticed. (Rolling back
//!   the whole database at once needs a copy of all of it together; the OS keyring's key is what
//!   such a copy would also need.)

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The keys derived from the database's master key.
pub(crate) struct Keys {
    cipher: Aes256Gcm,
    index: Zeroizing<[u8; 32]>,
    digest: Zeroizing<[u8; 32]>,
    db_id: [u8; 16],
}

fn derive(master: &[u8], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// Nonce and tag lengths of a sealed value.
const NONCE: usize = 12;
const TAG: usize = 16;

impl Keys {
    pub fn new(master: &[u8], db_id: [u8; 16]) -> Self {
        Self {
            cipher: Aes256Gcm::new(derive(master, b"records").as_ref().into()),
            index: derive(master, b"index"),
            digest: derive(master, b"digest"),
            db_id,
        }
    }

    fn aad(&self, key: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(16 + key.len());
        aad.extend_from_slice(&self.db_id);
        aad.extend_from_slice(key);
        aad
    }

    /// Seals `plain` for `key`.
    pub fn seal(&self, key: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        OsRng.fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: plain,
                        aad: &self.aad(key),
                    },
                )
                .expect("AES-GCM encrypts"),
        );
        out
    }

    /// Opens a value sealed for `key`; `None` when it was sealed for another key or database, or
    /// is damaged.
    pub fn open(&self, key: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE + TAG {
            return None;
        }
        self.cipher
            .decrypt(
                Nonce::from_slice(&sealed[..NONCE]),
                Payload {
                    msg: &sealed[NONCE..],
                    aad: &self.aad(key),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// The keyed hash of an identifier (trimmed, lower case).
    pub fn blind(&self, id: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.index.as_ref()).expect("32-byte key");
        mac.update(id.trim().to_ascii_lowercase().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// One entry's share of the digest: a MAC of its key and its value's nonce and tag (which
    /// identify the sealed value without hashing all of it).
    pub fn entry_mac(&self, key: &[u8], value: &[u8]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.digest.as_ref()).expect("32-byte key");
        mac.update(&(key.len() as u32).to_be_bytes());
        mac.update(key);
        if value.len() >= NONCE + TAG {
            mac.update(&value[..NONCE]);
            mac.update(&value[value.len() - TAG..]);
        } else {
            mac.update(value);
        }
        mac.finalize().into_bytes().into()
    }
}

/// XORs `b` into `a`.
pub(crate) fn xor(a: &mut [u8; 32], b: &[u8; 32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}
