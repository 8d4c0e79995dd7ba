//! Every case of the cross-implementation vectors made with the real Fidelius
//! (`shared/vectors/fidelius-vectors.json`), checked in every direction and key encoding, down to the
//! intermediate values.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use crate::*;

#[derive(Deserialize)]
struct VectorFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    plaintext_utf8: String,
    plaintext_utf8_b64: String,
    sender: Party,
    requester: Party,
    fidelius_cli_inputs: CliInputs,
    intermediate: Intermediate,
    ciphertext_b64: String,
}

#[derive(Deserialize)]
struct Party {
    origin: String,
    private_key_fidelius_b64: String,
    private_key_x25519_b64: String,
    public_key_uncompressed_b64: String,
    public_key_uncompressed_even_y_b64: String,
    public_key_x509_b64: String,
    public_key_x509_even_y_b64: String,
    public_key_x25519_b64: String,
    nonce_b64: String,
}

#[derive(Deserialize)]
struct CliInputs {
    encrypt_requester_public_key: String,
    decrypt_sender_public_key: String,
}

#[derive(Deserialize)]
struct Intermediate {
    hkdf_salt_hex: String,
    aes_gcm_iv_hex: String,
    shared_secret_hex: String,
    shared_secret_x25519_u_le_hex: String,
    aes_key_hex: String,
}

/// The vectors live in the shared folder beside the repository (`ABDM_SHARED` overrides it).
pub(crate) fn shared_dir() -> std::path::PathBuf {
    match std::env::var_os("ABDM_SHARED") {
        Some(dir) => dir.into(),
        None => {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        }
    }
}

fn cases() -> Vec<Case> {
    let path = shared_dir().join("vectors/fidelius-vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file: VectorFile = serde_json::from_str(&text).expect("vector file parses");
    assert_eq!(file.cases.len(), 9, "the development set has nine cases");
    file.cases
}

fn b64_32(text: &str) -> [u8; 32] {
    STANDARD.decode(text).unwrap().try_into().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_party(id: &str, role: &str, party: &Party) -> SecretKey {
    let from_x25519 = SecretKey::from_x25519_bytes(b64_32(&party.private_key_x25519_b64));
    let from_fidelius = SecretKey::from_fidelius_base64(&party.private_key_fidelius_b64)
        .unwrap_or_else(|e| panic!("{id} {role}: Fidelius private key: {e}"));
    assert_eq!(
        *from_fidelius.x25519_bytes(),
        b64_32(&party.private_key_x25519_b64),
        "{id} {role}: Fidelius → X25519 private key"
    );
    // d = clamp(k) mod n. For a key Fidelius generated, k ≡ ±d, so only the round trip must hold.
    let exported = from_x25519.to_fidelius_base64();
    if party.origin == "x25519" {
        assert_eq!(
            exported, party.private_key_fidelius_b64,
            "{id} {role}: X25519 → Fidelius private key"
        );
    }
    assert_eq!(
        *SecretKey::from_fidelius_base64(&exported)
            .unwrap()
            .x25519_bytes(),
        *from_x25519.x25519_bytes(),
        "{id} {role}: private key round trip"
    );

    let public = from_x25519.public_key();
    assert_eq!(
        public.x25519_bytes(),
        b64_32(&party.public_key_x25519_b64),
        "{id} {role}: u"
    );
    assert_eq!(
        public.to_base64(KeyEncoding::Raw),
        party.public_key_uncompressed_even_y_b64,
        "{id} {role}: raw even-y encoding"
    );
    assert_eq!(
        public.to_base64(KeyEncoding::X509),
        party.public_key_x509_even_y_b64,
        "{id} {role}: X.509 even-y encoding"
    );
    for text in [
        &party.public_key_uncompressed_b64,
        &party.public_key_uncompressed_even_y_b64,
        &party.public_key_x509_b64,
        &party.public_key_x509_even_y_b64,
    ] {
        let parsed = PublicKey::parse(text).unwrap_or_else(|e| panic!("{id} {role}: {e}"));
        assert!(
            parsed.same_x(&public),
            "{id} {role}: parsed key is another point"
        );
        assert_eq!(parsed.x25519_bytes(), public.x25519_bytes());
        let encoding = if text.len() == 88 {
            KeyEncoding::Raw
        } else {
            KeyEncoding::X509
        };
        assert_eq!(
            &parsed.to_base64(encoding),
            text,
            "{id} {role}: re-encoding"
        );
    }
    from_fidelius
}

#[test]
fn all_vectors_in_every_direction() {
    for case in cases() {
        let id = case.id.as_str();
        let sender_secret = check_party(id, "sender", &case.sender);
        let requester_secret = check_party(id, "requester", &case.requester);
        let sender_nonce = Nonce::parse(&case.sender.nonce_b64).unwrap();
        let requester_nonce = Nonce::parse(&case.requester.nonce_b64).unwrap();
        let plaintext = STANDARD.decode(&case.plaintext_utf8_b64).unwrap();
        assert_eq!(plaintext, case.plaintext_utf8.as_bytes());

        // Intermediate values.
        let requester_public =
            PublicKey::parse(&case.fidelius_cli_inputs.encrypt_requester_public_key).unwrap();
        let shared_u = sender_secret.diffie_hellman(&requester_public).unwrap();
        assert_eq!(
            hex(shared_u.as_ref()),
            case.intermediate.shared_secret_x25519_u_le_hex,
            "{id}: u"
        );
        let shared_x = crate::curve::montgomery_u_to_weierstrass_x(&shared_u);
        assert_eq!(
            hex(&shared_x),
            case.intermediate.shared_secret_hex,
            "{id}: shared x"
        );
        let session = Session::derive(
            &sender_secret,
            &requester_public,
            &sender_nonce,
            &requester_nonce,
        )
        .unwrap();
        assert_eq!(
            hex(session.key.as_ref()),
            case.intermediate.aes_key_hex,
            "{id}: AES key"
        );
        assert_eq!(
            hex(&session.iv),
            case.intermediate.aes_gcm_iv_hex,
            "{id}: IV"
        );
        let mixed: Vec<u8> = sender_nonce
            .as_bytes()
            .iter()
            .zip(requester_nonce.as_bytes())
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            hex(&mixed[..20]),
            case.intermediate.hkdf_salt_hex,
            "{id}: salt"
        );

        // Encrypt with the sender's key in both private forms and the requester key Fidelius was given.
        let sender_x25519 =
            SecretKey::from_x25519_bytes(b64_32(&case.sender.private_key_x25519_b64));
        for secret in [sender_secret.clone(), sender_x25519] {
            let sender = KeyMaterial {
                secret,
                nonce: sender_nonce.clone(),
            };
            assert_eq!(
                encrypt(&plaintext, &sender, &requester_public, &requester_nonce).unwrap(),
                case.ciphertext_b64,
                "{id}: ciphertext"
            );
        }
        // ...and with every encoding of the requester's key.
        for text in [
            &case.requester.public_key_uncompressed_b64,
            &case.requester.public_key_x509_even_y_b64,
        ] {
            let sender = KeyMaterial {
                secret: sender_secret.clone(),
                nonce: sender_nonce.clone(),
            };
            let key = PublicKey::parse(text).unwrap();
            assert_eq!(
                encrypt(&plaintext, &sender, &key, &requester_nonce).unwrap(),
                case.ciphertext_b64
            );
        }

        // Decrypt as the requester with the sender key Fidelius was given, and with the others.
        let requester = KeyMaterial {
            secret: requester_secret,
            nonce: requester_nonce.clone(),
        };
        for text in [
            &case.fidelius_cli_inputs.decrypt_sender_public_key,
            &case.sender.public_key_uncompressed_b64,
            &case.sender.public_key_x509_b64,
        ] {
            let key = PublicKey::parse(text).unwrap();
            assert_eq!(
                decrypt(&case.ciphertext_b64, &requester, &key, &sender_nonce).unwrap(),
                plaintext,
                "{id}: decrypt"
            );
        }

        // Any flipped bit, in ciphertext or tag, is refused.
        let sender_public =
            PublicKey::parse(&case.fidelius_cli_inputs.decrypt_sender_public_key).unwrap();
        let sealed = STANDARD.decode(&case.ciphertext_b64).unwrap();
        for position in [0, sealed.len() / 2, sealed.len() - 1] {
            let mut tampered = sealed.clone();
            tampered[position] ^= 0x01;
            assert_eq!(
                decrypt(
                    &STANDARD.encode(&tampered),
                    &requester,
                    &sender_public,
                    &sender_nonce
                ),
                Err(Error::Decrypt),
                "{id}: flipped bit at {position}"
            );
        }
    }
}
