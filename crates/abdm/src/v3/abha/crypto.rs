//! RSA-OAEP as ABHA v3 wants it on every identifier and OTP: SHA-1 digest, MGF1 with SHA-1, empty
//! label (Java's `RSA/ECB/OAEPWithSHA-1AndMGF1Padding`), standard base64 with padding. The key is
//! the service's certificate: base64 DER `SubjectPublicKeyInfo` (4096-bit), without PEM armour.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};

/// Why a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum OaepError {
    /// The certificate is not a base64 DER RSA public key.
    #[error("the ABHA service's certificate is not an RSA public key: {0}")]
    Certificate(String),
    /// The ciphertext is not base64, or does not open with this key and padding.
    #[error("the value does not decrypt with RSA-OAEP (SHA-1): {0}")]
    Open(String),
}

/// The ABHA service's public key, read once from `/v3/profile/public/certificate`.
#[derive(Clone, PartialEq, Eq)]
pub struct AbhaPublicKey(RsaPublicKey);

impl std::fmt::Debug for AbhaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use rsa::traits::PublicKeyParts;
        write!(f, "AbhaPublicKey({} bits)", self.0.size() * 8)
    }
}

impl AbhaPublicKey {
    /// Reads the certificate's `publicKey`: base64 DER, or PEM if a server armours it.
    pub fn from_certificate(text: &str) -> Result<Self, OaepError> {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
            .split_whitespace()
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|e| OaepError::Certificate(e.to_string()))?;
        let key = RsaPublicKey::from_public_key_der(&der)
            .map_err(|e| OaepError::Certificate(e.to_string()))?;
        use rsa::traits::PublicKeyParts;
        // ABDM's is 4096 bits; anything under 2048 is not a key to trust with an Aadhaar number.
        if key.size() * 8 < 2048 {
            return Err(OaepError::Certificate(format!(
                "a {}-bit key is too weak",
                key.size() * 8
            )));
        }
        Ok(Self(key))
    }

    /// The certificate as the service publishes it.
    pub fn to_certificate(&self) -> String {
        let der = self
            .0
            .to_public_key_der()
            .expect("an RSA public key encodes");
        STANDARD.encode(der.as_bytes())
    }

    /// Seals `plain` (an Aadhaar number, mobile, ABHA number or OTP) for the ABHA service.
    pub fn seal(&self, plain: &str) -> Result<String, OaepError> {
        let mut rng = rand_core::OsRng;
        let sealed = self
            .0
            .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), plain.as_bytes())
            .map_err(|e| OaepError::Certificate(e.to_string()))?;
        Ok(STANDARD.encode(sealed))
    }
}

/// The ABHA service's side: its private key (the sandbox's, or a test's).
pub struct AbhaPrivateKey(RsaPrivateKey);

impl std::fmt::Debug for AbhaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AbhaPrivateKey(..)")
    }
}

impl AbhaPrivateKey {
    /// A new key of `bits` (ABDM's is 4096).
    pub fn generate(bits: usize) -> Self {
        let mut rng = rand_core::OsRng;
        Self(RsaPrivateKey::new(&mut rng, bits).expect("RSA key generation"))
    }

    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, OaepError> {
        RsaPrivateKey::from_pkcs8_der(der)
            .map(Self)
            .map_err(|e| OaepError::Certificate(e.to_string()))
    }

    /// The key as PKCS#8 DER (for the party that holds it, e.g. a test's independent peer).
    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        use rsa::pkcs8::EncodePrivateKey;
        self.0
            .to_pkcs8_der()
            .expect("an RSA private key encodes")
            .as_bytes()
            .to_vec()
    }

    /// Its public half.
    pub fn public(&self) -> AbhaPublicKey {
        AbhaPublicKey(self.0.to_public_key())
    }

    /// Opens a base64 RSA-OAEP (SHA-1) ciphertext; any other padding fails.
    pub fn open(&self, sealed: &str) -> Result<String, OaepError> {
        let bytes = STANDARD
            .decode(sealed.trim())
            .map_err(|e| OaepError::Open(e.to_string()))?;
        let plain = self
            .0
            .decrypt(Oaep::new::<sha1::Sha1>(), &bytes)
            .map_err(|e| OaepError::Open(e.to_string()))?;
        String::from_utf8(plain).map_err(|e| OaepError::Open(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_oaep_sha1_and_the_right_key() {
        let weak = AbhaPrivateKey::generate(1024);
        assert!(AbhaPublicKey::from_certificate(&weak.public().to_certificate()).is_err());
        let key = AbhaPrivateKey::generate(2048);
        let public = AbhaPublicKey::from_certificate(&key.public().to_certificate()).unwrap();
        let sealed = public.seal("91-1234-5678-9012").unwrap();
        assert_eq!(key.open(&sealed).unwrap(), "91-1234-5678-9012");
        // Randomised padding: the same value never seals the same way twice.
        assert_ne!(
            public.seal("123456").unwrap(),
            public.seal("123456").unwrap()
        );
        // PKCS#1 v1.5 is what health id v1 used; ABHA v3 refuses it.
        let v15 = key
            .0
            .to_public_key()
            .encrypt(&mut rand_core::OsRng, rsa::Pkcs1v15Encrypt, b"123456")
            .unwrap();
        assert!(key.open(&STANDARD.encode(v15)).is_err());
        // OAEP with SHA-256 is refused too.
        let sha256 = key
            .0
            .to_public_key()
            .encrypt(
                &mut rand_core::OsRng,
                Oaep::new::<sha2::Sha256>(),
                b"123456",
            )
            .unwrap();
        assert!(key.open(&STANDARD.encode(sha256)).is_err());
        // Another key's ciphertext does not open.
        assert!(AbhaPrivateKey::generate(2048).open(&sealed).is_err());
        assert!(key.open("not base64!").is_err());
        assert!(AbhaPublicKey::from_certificate("bm90IGEga2V5").is_err());
    }
}
