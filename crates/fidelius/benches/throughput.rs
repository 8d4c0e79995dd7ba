//! Fidelius speed, next to its yardsticks measured in the same run:
//!
//! * decrypt of a 10 MB push (base64 decode + tag check + AES-256-GCM) against
//!   `openssl speed -evp aes-256-gcm` on 16 KiB blocks;
//! * `fidelius se` of 50 KB as a whole process (start, parse keys, ECDH, encrypt, print).
//!
//! Run: `cargo bench -p fidelius --bench throughput` (prints a Markdown table for BENCHMARKS.md).

use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fidelius::{KeyEncoding, KeyMaterial, Session};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// MB/s of: decrypt into a fresh `Vec`, decrypt into a reused buffer, encrypt.
fn decrypt_throughput(size: usize) -> (f64, f64, f64) {
    let hiu = KeyMaterial::generate();
    let hip = KeyMaterial::generate();
    let plaintext: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let sender = Session::derive(&hip.secret, &hiu.public_key(), &hip.nonce, &hiu.nonce).unwrap();
    let wire = sender.seal_base64(&plaintext);

    let receiver = Session::derive(&hiu.secret, &hip.public_key(), &hiu.nonce, &hip.nonce).unwrap();
    let mut fresh_times = Vec::new();
    let mut reused_times = Vec::new();
    let mut encrypt_times = Vec::new();
    let mut buffer = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        let opened = receiver.open_base64(&wire).unwrap();
        fresh_times.push(start.elapsed());
        assert!(opened == plaintext);
        let start = Instant::now();
        receiver.open_base64_into(&wire, &mut buffer).unwrap();
        reused_times.push(start.elapsed());
        assert!(buffer == plaintext);
        let start = Instant::now();
        std::hint::black_box(sender.seal_base64(&plaintext));
        encrypt_times.push(start.elapsed());
    }
    let rate = |d: Duration| size as f64 / d.as_secs_f64() / 1e6;
    (
        rate(median(fresh_times)),
        rate(median(reused_times)),
        rate(median(encrypt_times)),
    )
}

/// OpenSSL's AES-256-GCM rate on 16 KiB blocks, in MB/s, or `None` without openssl.
fn openssl_rate() -> Option<f64> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-mr",
            "-seconds",
            "3",
            "-bytes",
            "16384",
            "-evp",
            "aes-256-gcm",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // `+F:<n>:<name>:<bytes per second>` in machine-readable mode.
    let line = text.lines().find(|l| l.starts_with("+F:"))?;
    let bytes_per_second: f64 = line.rsplit(':').next()?.trim().parse().ok()?;
    Some(bytes_per_second / 1e6)
}

fn cli_se_median(binary: &str, size: usize, runs: usize) -> Duration {
    let hiu = KeyMaterial::generate();
    let hip = KeyMaterial::generate();
    let plaintext: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let args = [
        "se".to_string(),
        STANDARD.encode(&plaintext),
        hip.nonce.to_base64(),
        hiu.nonce.to_base64(),
        hip.secret.to_fidelius_base64(),
        hiu.public_key().to_base64(KeyEncoding::Raw),
    ];
    let mut samples = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(binary)
            .args(&args)
            .output()
            .expect("fidelius runs");
        samples.push(start.elapsed());
        assert!(out.status.success());
    }
    median(samples)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a smoke pass then.
    let full = std::env::args().any(|a| a == "--bench");
    let size = if full { 10_000_000 } else { 100_000 };

    let (fresh_rate, decrypt_rate, encrypt_rate) = decrypt_throughput(size);
    let se = cli_se_median(
        env!("CARGO_BIN_EXE_fidelius"),
        50_000,
        if full { 101 } else { 3 },
    );
    if !full {
        println!("smoke run: decrypt {decrypt_rate:.0} MB/s, se {se:?}");
        return;
    }
    let openssl = openssl_rate();

    println!("| measurement | result | yardstick (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    match openssl {
        Some(o) => println!(
            "| decrypt 10 MB incl. base64, into a reused buffer | {decrypt_rate:.0} MB/s | openssl aes-256-gcm 16 KiB: {o:.0} MB/s | {:.0} % | ≥ 40 % |",
            100.0 * decrypt_rate / o
        ),
        None => println!("| decrypt 10 MB incl. base64 | {decrypt_rate:.0} MB/s | openssl not found | – | ≥ 40 % |"),
    }
    if let Some(o) = openssl {
        println!(
            "| decrypt 10 MB incl. base64, into a fresh allocation (page faults included) | {fresh_rate:.0} MB/s | same | {:.0} % | – |",
            100.0 * fresh_rate / o
        );
    }
    println!(
        "| encrypt 10 MB incl. base64 (aes-gcm, one core) | {encrypt_rate:.0} MB/s | – | – | – |"
    );
    println!(
        "| `fidelius se` 50 KB, whole process, median of 101 | {:.2} ms | fidelius-cli (JVM) ≈ 2 400 ms | – | ≤ 8 ms |",
        se.as_secs_f64() * 1e3
    );
}
