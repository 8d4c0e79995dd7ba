//! Property: any plaintext from 0 B to 1 MB round-trips between two freshly generated parties, in
//! both public-key encodings, and any single flipped bit is caught.

use fidelius::{decrypt, encrypt, Error, KeyEncoding, KeyMaterial, PublicKey};
use proptest::prelude::*;

/// Cheap deterministic filler, so proptest does not have to generate and shrink a megabyte of values.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip(len in prop_oneof![0usize..64, 0usize..=1 << 20], seed in any::<u64>(), x509 in any::<bool>()) {
        let plaintext = bytes(len, seed);
        let hiu = KeyMaterial::generate();
        let hip = KeyMaterial::generate();
        let encoding = if x509 { KeyEncoding::X509 } else { KeyEncoding::Raw };
        // Keys cross the wire as strings.
        let hiu_public = PublicKey::parse(&hiu.public_key().to_base64(encoding)).unwrap();
        let hip_public = PublicKey::parse(&hip.public_key().to_base64(encoding)).unwrap();

        let wire = encrypt(&plaintext, &hip, &hiu_public, &hiu.nonce).unwrap();
        prop_assert_eq!(decrypt(&wire, &hiu, &hip_public, &hip.nonce).unwrap(), plaintext.clone());

        // A third party with the wrong key gets an error, not data.
        let eve = KeyMaterial::generate();
        prop_assert_eq!(decrypt(&wire, &eve, &hip_public, &hip.nonce), Err(Error::Decrypt));
    }

    #[test]
    fn any_flipped_bit_is_refused(len in 0usize..2048, seed in any::<u64>(), flip in any::<prop::sample::Index>()) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let plaintext = bytes(len, seed);
        let hiu = KeyMaterial::generate();
        let hip = KeyMaterial::generate();
        let mut sealed = b64.decode(encrypt(&plaintext, &hip, &hiu.public_key(), &hiu.nonce).unwrap()).unwrap();
        let bit = flip.index(sealed.len() * 8);
        sealed[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(decrypt(&b64.encode(&sealed), &hiu, &hip.public_key(), &hip.nonce), Err(Error::Decrypt));
    }
}

/// Large pushes take the multi-core path; base64 wrapped at 76 columns (as some Java encoders emit)
/// must still decrypt there, and a flipped bit must still be caught.
#[test]
fn large_push_with_line_breaks() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let plaintext = bytes(3 << 20, 7);
    let hiu = KeyMaterial::generate();
    let hip = KeyMaterial::generate();
    let wire = encrypt(&plaintext, &hip, &hiu.public_key(), &hiu.nonce).unwrap();
    assert_eq!(
        decrypt(&wire, &hiu, &hip.public_key(), &hip.nonce).unwrap(),
        plaintext
    );

    let wrapped: String = wire
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    assert_eq!(
        decrypt(&wrapped, &hiu, &hip.public_key(), &hip.nonce).unwrap(),
        plaintext
    );

    let mut sealed = b64.decode(&wire).unwrap();
    let middle = sealed.len() / 2;
    sealed[middle] ^= 0x10;
    assert_eq!(
        decrypt(&b64.encode(&sealed), &hiu, &hip.public_key(), &hip.nonce),
        Err(Error::Decrypt)
    );
}
