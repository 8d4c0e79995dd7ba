//! Decodes every frame of a corpus made by `../shared/qr-corpus/make_corpus.py` (after
//! `baselines.py prep`, which writes the shared grey cache) and writes one JSON line per frame in
//! the record format of `baselines.py run`, so `baselines.py report` tables our decoder beside
//! zxing-cpp, zbar and OpenCV measured in the same run.
//!
//! `cargo bench -p desk-scan --bench corpus -- CORPUS OUT.jsonl [REPS] [SUBSET]`
//! Time is the decoding thread's CPU time, like the baselines (pin with `taskset -c 1`).

use std::io::Write;

fn thread_cpu_ms() -> f64 {
    let mut ts = libc_timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer we pass. (The baselines measure
    // thread CPU time; std has no safe call for it.)
    #[allow(unsafe_code)]
    unsafe {
        clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &mut ts)
    };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

#[repr(C)]
struct libc_timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut libc_timespec) -> i32;
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [corpus, out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: corpus CORPUS OUT.jsonl [REPS] [SUBSET]");
        return;
    };
    let reps: usize = rest.first().map(|r| r.parse().unwrap()).unwrap_or(1);
    let subset = rest.get(1).cloned();
    let corpus = std::path::Path::new(corpus);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(corpus.join("manifest.json")).expect("manifest.json"),
    )
    .unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let (mut ok_count, mut positives) = (0, 0);
    for frame in manifest["frames"].as_array().unwrap() {
        if subset.as_deref().is_some_and(|s| frame["subset"] != s) {
            continue;
        }
        let file = frame["file"].as_str().unwrap();
        let stem = std::path::Path::new(file)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap();
        let path = corpus.join("gray").join(format!("{stem}.pgm"));
        let grey = desk_scan::decode::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let (w, h) = (grey.width() as usize, grey.height() as usize);
        let expected = frame["expected"].as_str();
        let mut times = Vec::new();
        let mut text = None;
        for _ in 0..reps {
            let t0 = thread_cpu_ms();
            text = desk_scan::detect::detect(&grey, w, h).map(|d| d.text);
            times.push(thread_cpu_ms() - t0);
        }
        times.sort_by(f64::total_cmp);
        let ok = expected.is_some() && text.as_deref() == expected;
        positives += usize::from(expected.is_some());
        ok_count += usize::from(ok);
        let record = serde_json::json!({
            "file": file, "decoder": "desk-scan", "ok": ok,
            "n_results": usize::from(text.is_some()),
            "wrong": usize::from(text.is_some() && text.as_deref() != expected),
            "err": null, "ms": times[times.len() / 2], "ms_all": times, "wall_ms": times[times.len() / 2],
        });
        writeln!(out, "{record}").unwrap();
    }
    eprintln!("desk-scan: {ok_count}/{positives} positives decoded");
}
