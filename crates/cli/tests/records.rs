//! `deskctl consult`, `deskctl audit` and `deskctl run` on a desk database: a consultation from a
//! JSON file (with an attached file), the audit log exported as JSON, bad input refused in plain
//! words with nothing saved, and a headless desk that will not start without its client secret.

use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::{json, Value};
use testkit::{desk_at, FixedKey, TempDir};

const KEY_HEX: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn deskctl(args: &[&str], store: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args(args)
        .arg("--store")
        .arg(store)
        .args(["--store-key-env", "DESK_TEST_KEY"])
        .env("DESK_TEST_KEY", KEY_HEX)
        .env_remove("ABDM_CLIENT_SECRET")
        .output()
        .unwrap()
}

fn audit(store: &std::path::Path) -> Vec<Value> {
    let out = deskctl(&["audit", "--json"], store);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn a_consultation_from_a_json_file_is_saved_and_audited() {
    let dir = TempDir::new("deskctl-records");
    let store = dir.path().join("desk");
    let patient = {
        let offline = abdm::GatewayConfig {
            gateway_url: "http://127.0.0.1:9/gateway".into(),
            healthid_url: "http://127.0.0.1:9/healthid".into(),
            client_id: "x".into(),
            client_secret: "y".into(),
            cm_id: "sbx".into(),
            timeout: std::time::Duration::from_secs(1),
            generation: abdm::Generation::V05,
        };
        let desk = desk_at(
            offline,
            "http://127.0.0.1:9",
            &store,
            Arc::new(FixedKey([1; 32])),
            |c| c,
        );
        desk.register_patient(desk_core::NewPatient {
            name: "Meena Das".into(),
            gender: "F".into(),
            year_of_birth: Some(1985),
            ..Default::default()
        })
        .unwrap()
        .id
    };
    std::fs::write(dir.path().join("ecg.pdf"), b"%PDF-1.4\n%%EOF\n").unwrap();
    let visit = json!({
        "patient_id": patient,
        "doctor": "Dr. Meera Iyer",
        "complaints": ["Palpitations"],
        "vitals": {"pulse_per_min": 112.0, "systolic_mmhg": 132.0, "diastolic_mmhg": 86.0},
        "prescription": [{"drug": "Metoprolol 25 mg tablet", "dose": "1 tablet", "frequency": "once a day", "duration": "30 days"}],
        "attachments": [{"title": "ECG", "content_type": "application/pdf", "file": "ecg.pdf"}],
    });
    std::fs::write(dir.path().join("visit.json"), visit.to_string()).unwrap();
    let out = deskctl(
        &[
            "consult",
            "--file",
            dir.path().join("visit.json").to_str().unwrap(),
        ],
        &store,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("saved OPD visit"), "{stdout}");
    assert!(stdout.contains("no ABHA here"), "{stdout}");

    // Bad input: refused in plain words, nothing saved.
    let mut bad = visit.clone();
    bad["vitals"]["spo2_percent"] = json!(150.0);
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();
    let out = deskctl(
        &[
            "consult",
            "--file",
            dir.path().join("bad.json").to_str().unwrap(),
        ],
        &store,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("oxygen saturation of 150"), "{stderr}");
    let mut unknown = visit.clone();
    unknown["temprature"] = json!(38);
    std::fs::write(dir.path().join("typo.json"), unknown.to_string()).unwrap();
    let out = deskctl(
        &[
            "consult",
            "--file",
            dir.path().join("typo.json").to_str().unwrap(),
        ],
        &store,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `temprature`"));

    let log = audit(&store);
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["patient registered", "consultation recorded"],
        "{log:?}"
    );
    assert!(log[1]["detail"].as_str().unwrap().contains("Meena Das"));
    assert_eq!(log[1]["patientId"], json!(patient));
}

#[test]
fn a_headless_desk_will_not_start_without_its_client_secret() {
    let dir = TempDir::new("deskctl-run");
    let key = relay_client::ClinicKey::generate();
    let out = Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args([
            "run",
            "--relay",
            "http://127.0.0.1:9",
            "--store-key-env",
            "DESK_TEST_KEY",
            "--store",
        ])
        .arg(dir.path().join("desk"))
        .env("DESK_TEST_KEY", KEY_HEX)
        .env("ABDM_RELAY_TOKEN", "token")
        .env("ABDM_RELAY_KEY", key.to_base64().as_str())
        .env_remove("ABDM_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("client secret is missing"), "{stderr}");
}
