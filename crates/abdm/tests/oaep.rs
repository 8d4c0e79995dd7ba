//! ABHA v3's RSA-OAEP (SHA-1, MGF1-SHA1) against an independent implementation: Python's
//! `cryptography` opens what we seal, and we open what it seals, under a 4096-bit key as ABDM's.

use std::process::Command;

use abdm::v3::abha::{AbhaPrivateKey, AbhaPublicKey};
use base64::Engine;

const PEER: &str = r#"
import base64, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
key = serialization.load_der_private_key(base64.b64decode(sys.argv[1]), password=None)
oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
print(key.decrypt(base64.b64decode(sys.argv[2]), oaep).decode())
print(base64.b64encode(key.public_key().encrypt(sys.argv[3].encode(), oaep)).decode())
"#;

#[test]
fn python_cryptography_opens_what_we_seal_and_we_open_what_it_seals() {
    let key = AbhaPrivateKey::generate(4096);
    // As the ABHA service publishes it: base64 DER, read back by the desk.
    let certificate = AbhaPublicKey::from_certificate(&key.public().to_certificate()).unwrap();
    let aadhaar = "999941057058";
    let sealed = certificate.seal(aadhaar).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap()
            .len(),
        512,
        "a 4096-bit block"
    );

    let python = std::env::var("ABDM_PYTHON").unwrap_or_else(|_| "python3".into());
    let der = base64::engine::general_purpose::STANDARD.encode(key.to_pkcs8_der());
    let output = Command::new(&python)
        .args(["-c", PEER, &der, &sealed, "482913"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (run scripts/setup): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(aadhaar), "Python opened our ciphertext");
    let theirs = lines.next().expect("Python sealed the OTP");
    assert_eq!(key.open(theirs).unwrap(), "482913", "we opened Python's");
    // A ciphertext changed by one bit opens on neither side.
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(theirs)
        .unwrap();
    bytes[100] ^= 1;
    assert!(key
        .open(&base64::engine::general_purpose::STANDARD.encode(bytes))
        .is_err());
}
