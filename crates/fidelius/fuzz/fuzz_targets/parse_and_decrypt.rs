//! Arbitrary text as public keys, private keys, nonces and ciphertext: every call returns an error
//! or a value, never a panic; whatever decrypts with a random key must not exist.
#![no_main]

use fidelius::{KeyMaterial, Nonce, PublicKey, SecretKey, Session};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = PublicKey::parse(&text);
    let _ = SecretKey::from_fidelius_base64(&text);
    let _ = Nonce::parse(&text);
    let _ = PublicKey::from_sec1(data);

    // Split the input into fields the way the CLI receives them.
    let fields: Vec<&str> = text.split('\n').collect();
    if let [ciphertext, nonce, key, ..] = fields.as_slice() {
        let me = KeyMaterial::generate();
        if let (Ok(peer_nonce), Ok(peer_key)) = (Nonce::parse(nonce), PublicKey::parse(key)) {
            if let Ok(session) = Session::derive(&me.secret, &peer_key, &me.nonce, &peer_nonce) {
                assert!(session.open_base64(ciphertext).is_err(), "forged a valid tag");
            }
        }
        // Against our own key the parsing of ciphertext alone is exercised.
        let peer = KeyMaterial::generate();
        let session = Session::derive(&me.secret, &peer.public_key(), &me.nonce, &peer.nonce).unwrap();
        assert!(session.open_base64(ciphertext).is_err());
    }
});
