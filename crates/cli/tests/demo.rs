//! `deskctl demo` runs every M1, M2 and M3 flow against the embedded sandbox and relay, and everything it sent
//! and received validates against NHA's OpenAPI.

use std::process::Command;

/// Runs the demo on `generation`; checks what it printed and its exchange log against NHA's
/// OpenAPI (bodies, and the headers each operation requires); returns the log's lines.
fn demo_on(generation: &str, strip: &[&str], min_operations: usize) -> Vec<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!(
        "deskctl-demo-test-{generation}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("exchange.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["demo", "--generation", generation])
        .args(["--callback-delay-ms", "20", "--exchange-log"])
        .arg(&log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "ABHA 91-",
        "linked ABHA 91-1234-5678-9012 to Asha Kumari",
        "linking token stored",
        "the ABHA app shows token 1",
        "All M1 flows completed.",
        "ABDM linked it to ravi.shankar@sbx",
        "the hospital decrypted a 371530004 document",
        "the hospital decrypted a 440545006 document",
        "the hospital decrypted a 721981007 document",
        "ABDM was told: TRANSFERRED (1 care context(s) delivered); problems seen by the hospital: 0",
        "HIP-2002: The patient revoked the consent",
        "pages sent: 0",
        "the clinic texted an OTP to \"XXXXXX2233\"",
        "linked: \"OPD visit",
        "All M2 flows completed.",
        "granted; 8 record(s) arrived in 1 page(s), every checksum and tag verified",
        "All M3 flows completed.",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("failed"), "{stdout}");

    let shared = std::env::var_os("ABDM_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        });
    let python = std::env::var("ABDM_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut check = Command::new(python);
    check
        .arg(
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../tools/openapi_validate.py"),
        )
        .arg(shared.join("abdm-openapi"))
        .arg(&log);
    for prefix in strip {
        check.args(["--strip-prefix", prefix]);
    }
    let check = check.output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    let summary = report.lines().last().unwrap_or_default();
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 30 && summary.contains(" 0 failed"), "{report}");
    let operations: usize = report
        .lines()
        .find_map(|l| l.strip_suffix(" distinct specified operations"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(operations >= min_operations, "{report}");
    let lines = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    lines
}

#[test]
fn demo_runs_the_m1_m2_and_m3_flows_and_its_exchange_log_matches_nha_openapi() {
    // M1, M2 and M3 together exercise at least 35 distinct operations of NHA's v0.5 specs.
    demo_on("v0.5", &["/gateway", "/healthid"], 35);
}

#[test]
fn on_abdm_v3_every_flow_runs_and_each_exchange_carries_its_headers_with_no_secret() {
    // At least 30 distinct operations of NHA's v3 files, each with the headers it requires.
    let lines = demo_on("v3", &["/abha/api"], 30);
    // v3's own ways to find an ABHA ran too: by mobile (with the T-token step) and by Aadhaar.
    let logged = |path: &str| {
        lines
            .iter()
            .any(|l| l["path"] == path && l["status"] == 200)
    };
    assert!(logged("/abha/api/v3/profile/login/verify/user"));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    // Tokens (JWTs) and the client secret never reach the log, neither in bodies nor headers.
    assert!(!text.contains("eyJhbGci"), "a token in the exchange log");
    assert!(!text.contains(abdm_sandbox::DEFAULT_CLIENT_SECRET));
    let v3: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| {
            let path = l["operation"].as_str().or(l["path"].as_str()).unwrap_or("");
            path.starts_with("/api/") || path.starts_with("/abha/")
        })
        .collect();
    assert!(v3.len() >= 40, "{} v3 exchanges", v3.len());
    for line in &v3 {
        let headers = &line["headers"];
        for name in ["request-id", "timestamp"] {
            assert!(headers[name].is_string(), "{name} missing: {line}");
        }
        if let Some(auth) = headers["authorization"].as_str() {
            assert_eq!(auth, "Bearer <redacted>", "{line}");
        }
    }
    // The link token travelled in its own header, masked.
    assert!(v3
        .iter()
        .any(|l| l["headers"]["x-link-token"] == "<redacted>"));
}

/// With real bundles served by the peer hospital, every one arrives exactly as sent and every
/// Composition section entry of each is accounted for in its view.
#[test]
fn demo_receives_real_bundles_exactly_and_views_account_for_every_entry() {
    let shared = std::env::var_os("ABDM_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        });
    let examples = shared.join("fhir-examples");
    let out = std::env::temp_dir().join(format!("deskctl-received-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["demo", "--callback-delay-ms", "20", "--records"])
        .arg(&examples)
        .arg("--received-out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let mut sources: Vec<serde_json::Value> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| read(&p))
        .collect();
    let count = sources.len();
    assert!(count >= 7);
    for n in 1..=count {
        let bundle = read(&out.join(format!("{n}.bundle.json")));
        let at = sources
            .iter()
            .position(|s| *s == bundle)
            .unwrap_or_else(|| panic!("{n}.bundle.json matches no source"));
        sources.remove(at);
        let view = read(&out.join(format!("{n}.view.json")));
        fn count_view(sections: &serde_json::Value) -> usize {
            sections.as_array().map_or(0, |all| {
                all.iter()
                    .map(|s| {
                        s["rows"].as_array().map_or(0, Vec::len)
                            + s["missing"].as_array().map_or(0, Vec::len)
                            + count_view(&s["sections"])
                    })
                    .sum()
            })
        }
        fn count_bundle(sections: &serde_json::Value) -> usize {
            sections.as_array().map_or(0, |all| {
                all.iter()
                    .map(|s| {
                        s["entry"].as_array().map_or(0, Vec::len) + count_bundle(&s["section"])
                    })
                    .sum()
            })
        }
        let composition = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r["resourceType"] == "Composition")
            .unwrap();
        assert_eq!(
            count_view(&view["sections"]),
            count_bundle(&composition["section"]),
            "{n}.view.json"
        );
    }
    assert!(sources.is_empty(), "not received: {}", sources.len());
    assert!(!out.join(format!("{}.bundle.json", count + 1)).exists());
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn fhir_render_prints_the_viewer_model() {
    let shared = std::env::var_os("ABDM_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        });
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["fhir", "render", "--json"])
        .arg(shared.join("fhir-examples/abdm-sandbox-legacy_OPConsultation.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "title",
        "type",
        "status",
        "date",
        "authors",
        "custodian",
        "patient",
        "encounter",
        "sections",
        "attachments",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert!(v["patient"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(v["sections"][0]["rows"][0]["reference"].as_str().is_some());
    let bad = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["fhir", "render", "--json", "/nonexistent.json"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot read"));
}

#[test]
fn fhir_export_writes_one_readable_bundle_per_document_type() {
    let dir = std::env::temp_dir().join(format!("deskctl-export-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["fhir", "export", "--demo", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 8);
    for f in &files {
        let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let doc = abdm_fhir::read(&bundle).unwrap();
        assert!(
            doc.warnings.is_empty(),
            "{}: {:?}",
            f.display(),
            doc.warnings
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn qr_decode_prints_one_json_line_per_file() {
    let dir = std::env::temp_dir().join(format!("deskctl-qr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let payload =
        "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2710000001_1&counter-id=COUNTER-1";
    let code = qrcode::QrCode::new(payload.as_bytes()).unwrap();
    let qr = code
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let with_code = dir.join("counter.png");
    qr.save(&with_code).unwrap();
    let blank = dir.join("blank.png");
    image::GrayImage::from_pixel(320, 240, image::Luma([200]))
        .save(&blank)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["qr", "decode", "--json"])
        .arg(&with_code)
        .arg(&blank)
        .arg(dir.join("missing.png"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["payload"], payload);
    assert_eq!(lines[0]["abha"]["kind"], "counter");
    assert_eq!(lines[0]["abha"]["counter_id"], "COUNTER-1");
    assert!(lines[0]["ms"].is_number());
    assert!(lines[1]["payload"].is_null() && lines[1]["abha"]["error"].is_string());
    assert!(lines[2]["abha"]["error"]
        .as_str()
        .unwrap()
        .contains("cannot read"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn qr_scan_reads_a_folder_of_frames_and_reports_each_card_once() {
    let dir = tempfile_dir("deskctl-scan");
    let payload = r#"{"hidn":"91-1111-2222-3333","hid":"meena.rao@sbx","name":"Meena Rao","gender":"F","dob":"1985"}"#;
    let qr = qrcode::QrCode::new(payload.as_bytes())
        .unwrap()
        .render::<image::Luma<u8>>()
        .module_dimensions(6, 6)
        .build();
    let mut frame = image::GrayImage::from_pixel(1280, 720, image::Luma([150]));
    image::imageops::overlay(&mut frame, &qr, 400, 150);
    for name in ["a.png", "b.png"] {
        frame.save(dir.join(name)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["qr", "scan", "--pictures"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].starts_with("frame 0: ") && lines[0].contains("Meena Rao"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 frames"));

    let empty = tempfile_dir("deskctl-scan-empty");
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(["qr", "scan", "--pictures"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pictures"));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&empty).ok();
}

fn tempfile_dir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
