//! Key material: public keys in both of Fidelius's wire forms, private keys (X25519 and Fidelius's
//! `BigInteger` form), and nonces.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use curve25519_dalek::Scalar;
use rand_core::{CryptoRngCore, OsRng};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use x25519_dalek::StaticSecret;
use zeroize::{Zeroize, Zeroizing};

use crate::curve::{PointError, WeierstrassPoint};
use crate::{decode_b64, Error};

/// BouncyCastle's X.509 SubjectPublicKeyInfo prefix with explicit Curve25519 (Weierstrass) parameters
/// (id-ecPublicKey; version 1; prime field p; a; b; generator G; order n; cofactor 8; then the BIT
/// STRING header); the 65-byte SEC1 point follows it. Fidelius emits this as `x509PublicKey`.
const X509_EXPLICIT_PREFIX: [u8; 244] = hex_array(concat!(
    "308201313081ea06072a8648ce3d02013081de020101",
    "302b06072a8648ce3d01010220",
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed",
    "30440420",
    "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa984914a144",
    "0420",
    "7b425ed097b425ed097b425ed097b425ed097b425ed097b4260b5e9c7710c864",
    "044104",
    "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad245a",
    "20ae19a1b8a086b4e01edd2c7748d14c923d4d7e6d7c61b229e9c5a27eced3d9",
    "0220",
    "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed",
    "020108",
    "034200",
));

/// The same structure naming the curve by BouncyCastle's OID (cryptlib 1.3.6.1.4.1.3029.1.5.1) instead
/// of spelling out its parameters. Fidelius never emits it, but other BouncyCastle users may; we accept it.
const X509_NAMED_PREFIX: [u8; 28] = hex_array(concat!(
    "305b3015",
    "06072a8648ce3d0201",
    "060a2b060104019755010501",
    "034200",
));

/// Decodes hex at compile time, for the constant DER prefixes above.
const fn hex_array<const N: usize>(hex: &str) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not hex"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * N, "hex length does not match the array");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// How a public key is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// base64 of the 65-byte SEC1 point `04 ‖ x ‖ y` (88 characters). ABDM HIUs send this.
    Raw,
    /// base64 of BouncyCastle's X.509 SubjectPublicKeyInfo with explicit curve parameters
    /// (412 characters). ABDM HIPs send this in a data push.
    X509,
}

/// A peer's (or our own) public key: a point on Curve25519, kept as the Weierstrass coordinates it
/// arrived with so that re-encoding it reproduces the sender's string.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    point: WeierstrassPoint,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64(KeyEncoding::Raw))
    }
}

impl PublicKey {
    /// Parses either wire form. Surrounding whitespace and base64 line breaks are tolerated (Fidelius
    /// itself does not); the form is recognised by the decoded bytes, not by string length.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bytes = decode_b64("public key", text)?;
        let point: &[u8] = match bytes.len() {
            65 => &bytes,
            n if n == X509_EXPLICIT_PREFIX.len() + 65 => {
                if bytes[..X509_EXPLICIT_PREFIX.len()] != X509_EXPLICIT_PREFIX {
                    return Err(Error::KeyFormat(
                        "a 309-byte X.509 key whose curve parameters are not Curve25519's",
                    ));
                }
                &bytes[X509_EXPLICIT_PREFIX.len()..]
            }
            n if n == X509_NAMED_PREFIX.len() + 65 => {
                if bytes[..X509_NAMED_PREFIX.len()] != X509_NAMED_PREFIX {
                    return Err(Error::KeyFormat(
                        "a 93-byte X.509 key that does not name Curve25519",
                    ));
                }
                &bytes[X509_NAMED_PREFIX.len()..]
            }
            33 => {
                return Err(Error::KeyFormat(
                    "a compressed point (33 bytes); Fidelius needs the uncompressed 65-byte form",
                ))
            }
            _ => {
                return Err(Error::KeyFormat(
                    "expected a 65-byte point (88 base64 characters) or a 309-byte X.509 key (412 characters)",
                ))
            }
        };
        Self::from_sec1(point)
    }

    /// Parses a 65-byte uncompressed SEC1 point.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != 65 {
            return Err(Error::Length {
                what: "public key point",
                expected: 65,
                actual: bytes.len(),
            });
        }
        if bytes[0] != 0x04 {
            return Err(Error::KeyFormat(
                "the point does not start with 0x04 (uncompressed)",
            ));
        }
        let x: [u8; 32] = bytes[1..33].try_into().expect("32 bytes");
        let y: [u8; 32] = bytes[33..].try_into().expect("32 bytes");
        WeierstrassPoint::from_coordinates(x, y)
            .map(|point| Self { point })
            .map_err(|e| match e {
                PointError::CoordinateOutOfRange => {
                    Error::NotOnCurve("a coordinate is not below p = 2^255 - 19")
                }
                PointError::NotOnCurve => Error::NotOnCurve("y² ≠ x³ + a·x + b"),
            })
    }

    /// The key for an X25519 public value (Montgomery u, little-endian), with the even y.
    pub fn from_x25519(u_le: [u8; 32]) -> Result<Self, Error> {
        WeierstrassPoint::from_montgomery_u(&u_le)
            .map(|point| Self { point })
            .ok_or(Error::NotOnCurve("u lies on the quadratic twist"))
    }

    /// The Montgomery u (little-endian), as `x25519_dalek::PublicKey` holds it.
    pub fn x25519_bytes(&self) -> [u8; 32] {
        self.point.montgomery_u()
    }

    pub(crate) fn x25519(&self) -> x25519_dalek::PublicKey {
        x25519_dalek::PublicKey::from(self.x25519_bytes())
    }

    /// The 65-byte SEC1 point.
    pub fn to_sec1(&self) -> [u8; 65] {
        self.point.to_sec1()
    }

    /// The key in the given wire form.
    pub fn to_base64(&self, encoding: KeyEncoding) -> String {
        match encoding {
            KeyEncoding::Raw => STANDARD.encode(self.to_sec1()),
            KeyEncoding::X509 => {
                let mut der = Vec::with_capacity(X509_EXPLICIT_PREFIX.len() + 65);
                der.extend_from_slice(&X509_EXPLICIT_PREFIX);
                der.extend_from_slice(&self.to_sec1());
                STANDARD.encode(der)
            }
        }
    }

    /// Same point up to sign: ECDH is x-only, so Q and −Q give the same shared secret.
    pub fn same_x(&self, other: &PublicKey) -> bool {
        self.point.x == other.point.x
    }
}

/// One party's Curve25519 secret. Zeroized on drop; `Debug` never shows it.
pub struct SecretKey {
    secret: StaticSecret,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self {
            secret: StaticSecret::from(self.secret.to_bytes()),
        }
    }
}

impl SecretKey {
    /// A fresh random secret from the operating system's generator.
    pub fn generate() -> Self {
        Self::generate_with(&mut OsRng)
    }

    /// A fresh random secret from the given generator (seeded ones make tests repeatable).
    pub fn generate_with(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            secret: StaticSecret::random_from_rng(rng),
        }
    }

    /// From 32 little-endian X25519 secret bytes (clamped on use, as X25519 always does).
    pub fn from_x25519_bytes(bytes: [u8; 32]) -> Self {
        Self {
            secret: StaticSecret::from(bytes),
        }
    }

    /// The clamped X25519 secret, little-endian.
    pub fn x25519_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(clamp(self.secret.to_bytes()))
    }

    /// Imports a Fidelius private key: base64 of Java `BigInteger.toByteArray()` of the Weierstrass
    /// scalar d. X25519 clamps every secret, so d itself cannot be used; we pick the clamped k = 8m with
    /// k ≡ ±d (mod n), which yields the same point up to sign and hence the same shared secrets.
    pub fn from_fidelius_base64(text: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(decode_b64("private key", text)?);
        Self::from_fidelius_bytes(&bytes)
    }

    fn from_fidelius_bytes(bytes: &[u8]) -> Result<Self, Error> {
        // Java BigInteger bytes: big-endian two's complement, so a set top bit means negative.
        if bytes[0] & 0x80 != 0 {
            return Err(Error::PrivateKey("the scalar is negative"));
        }
        let significant = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        if bytes.len() - significant > 32 {
            return Err(Error::PrivateKey("the scalar is longer than 32 bytes"));
        }
        let mut le = Zeroizing::new([0u8; 32]);
        for (i, &b) in bytes[significant..].iter().rev().enumerate() {
            le[i] = b;
        }
        let d = Zeroizing::new(Scalar::from_bytes_mod_order(*le));
        if bool::from(d.ct_eq(&Scalar::ZERO)) {
            return Err(Error::PrivateKey(
                "the scalar is zero modulo the group order",
            ));
        }
        // m = d/8 mod n; a clamped k = 8m needs m in [2^251, 2^252). Exactly one of m, n − m is there
        // (but for a ~2^-125 sliver near n/2, which we refuse rather than mis-convert).
        let m = Zeroizing::new(*d * Scalar::from(8u8).invert());
        let neg_m = Zeroizing::new(-*m);
        // Bits 251..=255 must read 00001, i.e. the top byte is in 0x08..=0x0f.
        let in_range = |s: &Scalar| (s.as_bytes()[31] & 0xf8).ct_eq(&0x08);
        let use_m = in_range(&m);
        if !bool::from(use_m | in_range(&neg_m)) {
            return Err(Error::PrivateKey(
                "the scalar has no clamped X25519 equivalent",
            ));
        }
        let chosen = Zeroizing::new(Scalar::conditional_select(&neg_m, &m, use_m));
        let mut k = Zeroizing::new(chosen.to_bytes());
        // k = 8m: shift the little-endian number left by three bits.
        let mut carry = 0u8;
        for byte in k.iter_mut() {
            let next = *byte >> 5;
            *byte = (*byte << 3) | carry;
            carry = next;
        }
        Ok(Self::from_x25519_bytes(*k))
    }

    /// The Fidelius form of this secret: base64 of `BigInteger.toByteArray()` of d = clamp(k) mod n.
    pub fn to_fidelius_base64(&self) -> String {
        let d = Zeroizing::new(Scalar::from_bytes_mod_order(*self.x25519_bytes()));
        let mut be = Zeroizing::new(d.to_bytes());
        be.reverse();
        let first = be.iter().position(|&b| b != 0).unwrap_or(31);
        // Minimal two's complement: keep one zero byte in front of a set top bit.
        let start = if be[first] & 0x80 != 0 {
            first - 1
        } else {
            first
        };
        STANDARD.encode(&be[start..])
    }

    /// Our public key, with the even y.
    pub fn public_key(&self) -> PublicKey {
        let u = x25519_dalek::PublicKey::from(&self.secret);
        PublicKey::from_x25519(*u.as_bytes()).expect("X25519 public keys are never on the twist")
    }

    pub(crate) fn diffie_hellman(&self, peer: &PublicKey) -> Result<Zeroizing<[u8; 32]>, Error> {
        let shared = self.secret.diffie_hellman(&peer.x25519());
        if !shared.was_contributory() {
            return Err(Error::NonContributory);
        }
        Ok(Zeroizing::new(*shared.as_bytes()))
    }
}

fn clamp(mut k: [u8; 32]) -> [u8; 32] {
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    k
}

/// A 32-byte random nonce, one per party per transfer.
#[derive(Clone, PartialEq, Eq, Zeroize)]
pub struct Nonce(pub(crate) [u8; 32]);

impl std::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nonce({})", self.to_base64())
    }
}

impl Nonce {
    /// A fresh random nonce from the operating system's generator.
    pub fn generate() -> Self {
        Self::generate_with(&mut OsRng)
    }

    /// A fresh random nonce from the given generator.
    pub fn generate_with(rng: &mut impl CryptoRngCore) -> Self {
        let mut n = [0u8; 32];
        rng.fill_bytes(&mut n);
        Self(n)
    }

    /// Wraps 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses base64 of exactly 32 bytes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_named("nonce", text)
    }

    pub(crate) fn parse_named(what: &'static str, text: &str) -> Result<Self, Error> {
        let bytes = decode_b64(what, text)?;
        let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| Error::Length {
            what,
            expected: 32,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// Standard padded base64 of the 32 bytes (44 characters), as the wire carries it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}
