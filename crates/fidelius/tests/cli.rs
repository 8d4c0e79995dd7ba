//! The `fidelius` binary, run as a process: it must reproduce the real Fidelius's vectors and refuse
//! bad input with a clear message and a non-zero exit, never a panic.

use std::process::{Command, Output};

use serde_json::Value;

fn fidelius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fidelius"))
        .args(args)
        .output()
        .expect("the fidelius binary runs")
}

fn json_field(output: &Output, field: &str) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field}"))
        .to_string()
}

fn vectors() -> Vec<Value> {
    let shared = std::env::var_os("ABDM_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        });
    let text = std::fs::read_to_string(shared.join("vectors/fidelius-vectors.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["cases"].as_array().unwrap().clone()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(v, |v, k| &v[*k]).as_str().unwrap()
}

#[test]
fn reproduces_every_vector_through_the_binary() {
    for case in vectors() {
        let id = s(&case, &["id"]);
        let sender_nonce = s(&case, &["sender", "nonce_b64"]);
        let requester_nonce = s(&case, &["requester", "nonce_b64"]);
        let sender_private = s(&case, &["sender", "private_key_fidelius_b64"]);
        let requester_private = s(&case, &["requester", "private_key_fidelius_b64"]);
        let requester_public = s(
            &case,
            &["fidelius_cli_inputs", "encrypt_requester_public_key"],
        );
        let sender_public = s(&case, &["fidelius_cli_inputs", "decrypt_sender_public_key"]);
        let expected = s(&case, &["ciphertext_b64"]);
        let plaintext = s(&case, &["plaintext_utf8"]);

        let se = fidelius(&[
            "se",
            s(&case, &["plaintext_utf8_b64"]),
            sender_nonce,
            requester_nonce,
            sender_private,
            requester_public,
        ]);
        assert_eq!(json_field(&se, "encryptedData"), expected, "{id}: se");
        let e = fidelius(&[
            "e",
            plaintext,
            sender_nonce,
            requester_nonce,
            sender_private,
            requester_public,
        ]);
        assert_eq!(json_field(&e, "encryptedData"), expected, "{id}: e");
        let d = fidelius(&[
            "d",
            expected,
            requester_nonce,
            sender_nonce,
            requester_private,
            sender_public,
        ]);
        assert_eq!(json_field(&d, "decryptedData"), plaintext, "{id}: d");
    }
}

#[test]
fn output_is_pretty_json_like_fidelius_cli() {
    let case = &vectors()[1];
    let out = fidelius(&[
        "se",
        s(case, &["plaintext_utf8_b64"]),
        s(case, &["sender", "nonce_b64"]),
        s(case, &["requester", "nonce_b64"]),
        s(case, &["sender", "private_key_fidelius_b64"]),
        s(
            case,
            &["fidelius_cli_inputs", "encrypt_requester_public_key"],
        ),
    ]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "{{\n  \"encryptedData\": \"{}\"\n}}\n",
            s(case, &["ciphertext_b64"])
        )
    );
}

#[test]
fn generated_key_material_works_both_ways_in_both_key_forms() {
    let gkm = |_| {
        let out = fidelius(&["gkm"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(out.status.success());
        v
    };
    let (hip, hiu) = (gkm(0), gkm(1));
    assert_eq!(s(&hip, &["publicKey"]).len(), 88);
    assert_eq!(s(&hip, &["x509PublicKey"]).len(), 412);
    assert_eq!(s(&hip, &["nonce"]).len(), 44);
    assert_ne!(s(&hip, &["privateKey"]), s(&hiu, &["privateKey"]));
    for (hiu_key, hip_key) in [
        ("publicKey", "x509PublicKey"),
        ("x509PublicKey", "publicKey"),
    ] {
        let message = "नमस्ते {\"resourceType\": \"Bundle\"}";
        let enc = fidelius(&[
            "e",
            message,
            s(&hip, &["nonce"]),
            s(&hiu, &["nonce"]),
            s(&hip, &["privateKey"]),
            s(&hiu, &[hiu_key]),
        ]);
        let wire = json_field(&enc, "encryptedData");
        let dec = fidelius(&[
            "d",
            &wire,
            s(&hiu, &["nonce"]),
            s(&hip, &["nonce"]),
            s(&hiu, &["privateKey"]),
            s(&hip, &[hip_key]),
        ]);
        assert_eq!(json_field(&dec, "decryptedData"), message);
    }
}

/// Runs a command that must fail: non-zero exit, not a panic (101), and stderr naming the problem.
fn assert_refused(args: &[&str], expected_in_stderr: &str) {
    let out = fidelius(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().expect("exited normally");
    assert!(code == 1 || code == 2, "exit {code} for {args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "printed output for {args:?}");
    assert!(
        stderr.contains(expected_in_stderr),
        "stderr for {args:?} lacks {expected_in_stderr:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn refuses_bad_input_precisely() {
    let case = &vectors()[2];
    let ct = s(case, &["ciphertext_b64"]);
    let rn = s(case, &["requester", "nonce_b64"]);
    let sn = s(case, &["sender", "nonce_b64"]);
    let rpriv = s(case, &["requester", "private_key_fidelius_b64"]);
    let spub = s(case, &["fidelius_cli_inputs", "decrypt_sender_public_key"]);
    let raw_pub = s(case, &["sender", "public_key_uncompressed_b64"]);

    // Sanity: the untouched arguments decrypt.
    assert!(fidelius(&["d", ct, rn, sn, rpriv, spub]).status.success());

    // Flipped bits in the ciphertext body and in the tag.
    let mut bytes = base64_decode(ct);
    bytes[0] ^= 0x80;
    assert_refused(
        &["d", &base64_encode(&bytes), rn, sn, rpriv, spub],
        "authentication tag",
    );
    let mut bytes = base64_decode(ct);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    assert_refused(
        &["d", &base64_encode(&bytes), rn, sn, rpriv, spub],
        "authentication tag",
    );
    // Wrong nonce: same failure, never an empty plaintext.
    assert_refused(&["d", ct, sn, sn, rpriv, spub], "authentication tag");

    // Invalid base64, wrong lengths, empty arguments.
    assert_refused(
        &["d", "not*base64", rn, sn, rpriv, spub],
        "ciphertext is not valid base64",
    );
    assert_refused(
        &["d", ct, "AAAA", sn, rpriv, spub],
        "requester nonce: nonce must be 32 bytes, but it is 3",
    );
    assert_refused(&["d", ct, rn, sn, rpriv, "AAAA"], "sender public key");
    assert_refused(
        &["d", "", rn, sn, rpriv, spub],
        "encrypted-data argument is empty",
    );
    assert_refused(
        &["d", ct, rn, sn, rpriv],
        "takes 5 arguments, but 4 were given",
    );
    assert_refused(
        &["d", "QUFB", rn, sn, rpriv, spub],
        "ciphertext must be 16 bytes",
    );
    assert_refused(&["frobnicate"], "unknown command");
    assert_refused(&[], "no command");

    // A point that is not on the curve, and an 88-character string that is not a point at all.
    let mut point = base64_decode(raw_pub);
    point[64] ^= 0x01;
    assert_refused(
        &["d", ct, rn, sn, rpriv, &base64_encode(&point)],
        "not a point on Curve25519",
    );
    let mut point = base64_decode(raw_pub);
    point[0] = 0x05;
    assert_refused(&["d", ct, rn, sn, rpriv, &base64_encode(&point)], "0x04");
    let not_a_point = "A".repeat(86) + "==";
    assert_refused(&["d", ct, rn, sn, rpriv, &not_a_point], "sender public key");
    // x ≥ p.
    let mut point = base64_decode(raw_pub);
    point[1..33].fill(0xff);
    assert_refused(
        &["d", ct, rn, sn, rpriv, &base64_encode(&point)],
        "not below p",
    );
    // A negative Fidelius private key.
    assert_refused(&["d", ct, rn, sn, "/w==", spub], "negative");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
