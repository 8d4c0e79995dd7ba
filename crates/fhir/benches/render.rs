//! Viewer speed on the largest real example (170 KB, with embedded PDFs): parse + read + serialize.
//!
//! Run: `cargo bench -p abdm-fhir --bench render`.

use std::time::Instant;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let dir = std::env::var_os("ABDM_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        })
        .join("fhir-examples");
    let (name, text) = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .max_by_key(|(_, t)| t.len())
        .unwrap();
    let runs = if full { 200 } else { 3 };
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
        let doc = abdm_fhir::read(&bundle).unwrap();
        std::hint::black_box(serde_json::to_string(&doc).unwrap());
        times.push(start.elapsed());
    }
    times.sort();
    let p = |q: f64| {
        times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1e3
    };
    println!(
        "| render {name} ({} KB): parse + viewer model + JSON | p50 {:.2} ms | p95 {:.2} ms |",
        text.len() / 1024,
        p(0.5),
        p(0.95)
    );

    // A year of consultations for one patient, as an HIP answers a one-year consent: 365 bundles.
    let record = abdm_fhir::write::demo_record();
    let start = Instant::now();
    let mut bytes = 0;
    for day in 0..365u64 {
        let bundle = abdm_fhir::write::build(
            abdm_fhir::write::DocumentType::OPConsultRecord,
            &record,
            day + 1,
        );
        bytes += serde_json::to_vec(&bundle).unwrap().len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "| export 365 OPConsultRecord bundles (build + serialize, {} KB in all) | {:.1} ms | {:.3} ms each |",
        bytes / 1024,
        secs * 1e3,
        secs * 1e3 / 365.0
    );
}
