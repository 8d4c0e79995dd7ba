//! The symmetric half: nonce mixing, HKDF-SHA256 and AES-256-GCM.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce as GcmNonce, Tag};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::bulk;
use crate::curve::montgomery_u_to_weierstrass_x;
use crate::keys::{Nonce, PublicKey, SecretKey};
use crate::{decode_b64, Error};

const TAG_LEN: usize = 16;

/// The AES key and IV that one key pair and two nonces agree on. Both sides derive the same session:
/// the sender with its secret and the requester's public key, the requester the other way round.
///
/// One session encrypts every entry of one transfer, as ABDM's `keyMaterial` is shared by all entries
/// of a push. Reusing a session across transfers would reuse the GCM IV, so make a fresh sender key
/// and nonce for each transfer.
pub struct Session {
    cipher: Aes256Gcm,
    pub(crate) iv: [u8; 12],
    /// Kept for the multi-core path of large decryptions.
    pub(crate) key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// ECDH (as the big-endian Weierstrass x, leading zeros kept), then HKDF-SHA256 with
    /// salt = the first 20 bytes of `own_nonce XOR peer_nonce` and empty info; the IV is the last 12.
    pub fn derive(
        own_secret: &SecretKey,
        peer_public: &PublicKey,
        own_nonce: &Nonce,
        peer_nonce: &Nonce,
    ) -> Result<Self, Error> {
        let shared_u = own_secret.diffie_hellman(peer_public)?;
        let shared_x = Zeroizing::new(montgomery_u_to_weierstrass_x(&shared_u));
        Ok(Self::from_shared_secret(&shared_x, own_nonce, peer_nonce))
    }

    /// The session for a given 32-byte shared x (big-endian) and the two nonces.
    pub fn from_shared_secret(shared_x: &[u8; 32], a: &Nonce, b: &Nonce) -> Self {
        let mut mixed = Zeroizing::new([0u8; 32]);
        for (m, (x, y)) in mixed.iter_mut().zip(a.0.iter().zip(b.0.iter())) {
            *m = x ^ y;
        }
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(&mixed[..20]), shared_x)
            .expand(&[], key.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 length");
        let iv: [u8; 12] = mixed[20..].try_into().expect("12 bytes");
        Self {
            cipher: Aes256Gcm::new(key.as_ref().into()),
            iv,
            key,
        }
    }

    /// AES-256-GCM, no AAD: `ciphertext ‖ tag` in raw bytes.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_in_place_detached(GcmNonce::from_slice(&self.iv), &[], &mut buffer)
            .expect("AES-GCM accepts any message up to 64 GiB");
        buffer.extend_from_slice(&tag);
        buffer
    }

    /// `seal`, as the base64 wire value ABDM carries in `entries[].content`.
    pub fn seal_base64(&self, plaintext: &[u8]) -> String {
        STANDARD.encode(self.seal(plaintext))
    }

    /// Verifies the tag and decrypts raw `ciphertext ‖ tag`, in place.
    pub fn open_in_place(&self, mut sealed: Vec<u8>) -> Result<Vec<u8>, Error> {
        if sealed.len() < TAG_LEN {
            return Err(Error::Length {
                what: "ciphertext",
                expected: TAG_LEN,
                actual: sealed.len(),
            });
        }
        let tag = Tag::clone_from_slice(&sealed[sealed.len() - TAG_LEN..]);
        sealed.truncate(sealed.len() - TAG_LEN);
        self.cipher
            .decrypt_in_place_detached(GcmNonce::from_slice(&self.iv), &[], &mut sealed, &tag)
            .map_err(|_| Error::Decrypt)?;
        Ok(sealed)
    }

    /// Decodes the base64 wire value, verifies the tag and returns the plaintext bytes.
    pub fn open_base64(&self, ciphertext: &str) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.open_base64_into(ciphertext, &mut out)?;
        Ok(out)
    }

    /// As [`Session::open_base64`], writing into `out` (its contents are replaced) so that a caller
    /// decrypting many entries reuses one allocation. Large inputs are decrypted on every core.
    /// On error `out` is left empty.
    pub fn open_base64_into(&self, ciphertext: &str, out: &mut Vec<u8>) -> Result<(), Error> {
        let text = ciphertext.trim();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        if text.len() >= bulk::PARALLEL_THRESHOLD && threads > 1 {
            match bulk::open_base64_into(&self.key, &self.iv, text, threads, out) {
                // Line-wrapped base64 is rare; only then is the text scanned for whitespace.
                Err(Error::Base64 { .. }) if text.bytes().any(|b| b.is_ascii_whitespace()) => {}
                result => {
                    if result.is_err() {
                        // Parts that did decode may have left unverified plaintext in spare capacity.
                        out.zeroize();
                    }
                    return result;
                }
            }
        }
        out.clear();
        *out = self.open_in_place(decode_b64("ciphertext", ciphertext)?)?;
        Ok(())
    }
}
