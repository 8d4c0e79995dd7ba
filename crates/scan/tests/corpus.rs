//! The detector on realistic webcam frames: a slice of the reference corpus, generated here by
//! `../shared/qr-corpus/make_corpus.py` (seed 20260524; frames are seeded one by one, so these are
//! the first frames of the full corpus the benchmark uses). Frames are read from the generated
//! PNG/JPEG files through the same loader the app uses for saved photos.
//!
//! Needs Python with the generator's packages: `ABDM_QR_PYTHON` (scripts/setup makes a venv).

use std::path::PathBuf;
use std::process::Command;

const POSITIVES: usize = 48;
const NEGATIVES: usize = 12;
const BEST_CASE: usize = 2;

fn shared() -> PathBuf {
    match std::env::var("ABDM_SHARED") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo"))
            .join("../../../shared"),
    }
}

#[test]
fn reads_the_webcam_corpus_without_false_positives_or_misreads() {
    let python = std::env::var("ABDM_QR_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = tempfile::tempdir().unwrap();
    let generator = shared().join("qr-corpus/make_corpus.py");
    let status = Command::new(&python)
        .arg(&generator)
        .args(["--seed", "20260524", "--jobs", "2"])
        .args([
            "--n-pos",
            &POSITIVES.to_string(),
            "--n-neg",
            &NEGATIVES.to_string(),
        ])
        .args(["--n-best", &BEST_CASE.to_string()])
        .arg("--out")
        .arg(out.path())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", generator.display()));
    assert!(status.success(), "make_corpus.py failed (are numpy, opencv-python-headless and segno installed for {python}?)");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    let (mut positives, mut read, mut clean, mut clean_read) = (0, 0, 0, 0);
    let mut misreads = Vec::new();
    let mut false_positives = Vec::new();
    for frame in manifest["frames"].as_array().unwrap() {
        let file = frame["file"].as_str().unwrap();
        let grey = desk_scan::decode::load(&out.path().join(file)).unwrap();
        let text = desk_scan::decode::decode(&grey);
        match (frame["expected"].as_str(), text) {
            (None, Some(text)) => false_positives.push((file.to_string(), text)),
            (None, None) => {}
            (Some(expected), text) => {
                positives += 1;
                let is_clean = frame["tier"] == "clean";
                clean += usize::from(is_clean);
                match text {
                    Some(t) if t == expected => {
                        read += 1;
                        clean_read += usize::from(is_clean);
                    }
                    Some(t) => misreads.push((file.to_string(), t)),
                    None => {}
                }
            }
        }
    }
    let rate = read as f64 / positives as f64;
    println!(
        "read {read}/{positives} ({:.1} %), clean {clean_read}/{clean}",
        rate * 100.0
    );
    assert!(
        false_positives.is_empty(),
        "read a code where there is none: {false_positives:?}"
    );
    assert!(misreads.is_empty(), "misread: {misreads:?}");
    assert_eq!(clean_read, clean, "every clean frame must read");
    // On this slice zxing-cpp reads about 65 %; the full-corpus comparison is in BENCHMARKS.md.
    assert!(rate >= 0.6, "only {:.1} % of the frames read", rate * 100.0);
}
