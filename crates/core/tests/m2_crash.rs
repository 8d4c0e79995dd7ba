//! A crash in the middle of a push: the desk (this test binary run again as a child) is pushing 50
//! care contexts to a slow peer HIU when it is killed with SIGKILL. Started again, it resumes
//! where its saved progress says and completes; the HIU ends with every document exactly once
//! (a page re-sent after the crash has the same page number, and is counted apart), and ABDM is
//! told once that everything was delivered.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use abdm_sandbox::{Faults, Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::hip::NewConsultation;
use relay_client::ClinicKey;
use serde_json::{json, Value};
use testkit::{desk_at, relay_client_config, relay_for, FixedKey, TempDir};

const CHILD: &str = "M2_CRASH_CHILD";
const VISITS: usize = 50;
const TEST: &str = "a_desk_killed_mid_push_resumes_and_sends_nothing_twice";

/// In the child: a desk on the given store, connected to the given relay; in `setup` mode it
/// first verifies Asha's ABHA and records and links her visits.
fn child(spec: &str) {
    let spec: Value = serde_json::from_str(spec).expect("the parent's spec");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async move {
        let gateway = abdm::GatewayConfig {
            gateway_url: format!("{}/gateway", spec["sandbox"].as_str().unwrap()),
            healthid_url: format!("{}/healthid", spec["sandbox"].as_str().unwrap()),
            client_id: abdm_sandbox::DEFAULT_CLIENT_ID.into(),
            client_secret: abdm_sandbox::DEFAULT_CLIENT_SECRET.into(),
            cm_id: "sbx".into(),
            timeout: Duration::from_secs(10),
            generation: abdm::Generation::V05,
        };
        let desk = Arc::new(desk_at(
            gateway,
            spec["sandbox"].as_str().unwrap(),
            std::path::Path::new(spec["dir"].as_str().unwrap()),
            Arc::new(FixedKey([9; 32])),
            |c| c,
        ));
        let relay = spec["relay"].as_str().unwrap();
        let key = ClinicKey::from_base64(spec["key"].as_str().unwrap()).unwrap();
        let _running = desk.start(Some(relay_client_config(relay, &key)));
        if spec["mode"] == "setup" {
            desk.register_bridge(relay).await.unwrap();
            let qr = abdm::qr::AbhaQr {
                abha_number: Some("91123456789012".into()),
                abha_address: Some("asha.kumari@sbx".into()),
                name: "Asha Kumari".into(),
                gender: "F".into(),
                date_of_birth: abdm::qr::DateOfBirth {
                    year: Some(1990),
                    month: Some(4),
                    day: Some(12),
                    text: None,
                },
                state_lgd: None,
                district_lgd: None,
                state: None,
                district: None,
                mobile: Some("9876543210".into()),
                mobile_masked: false,
                address: None,
            };
            let patient = desk.scan_and_pull(&qr).unwrap().id;
            for i in 0..VISITS {
                desk.record_consultation(NewConsultation {
                    patient_id: patient,
                    doctor: "Dr. Meera Iyer".into(),
                    complaints: vec![format!("Visit {i}: fever")],
                    ..Default::default()
                })
                .unwrap();
            }
            for _ in 0..1200 {
                let all = desk.consultations(patient).unwrap();
                if all.iter().all(|c| c.link == "linked") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        println!("desk ready");
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
}

fn spawn(spec: &Value) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, spec.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.ends_with("desk ready") => break,
            Some(_) => continue,
            None => panic!("the desk child ended before it was ready"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

#[test]
fn a_desk_killed_mid_push_resumes_and_sends_nothing_twice() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = TempDir::new("m2-crash");
        let sandbox = Sandbox::start(SandboxConfig {
            callback_delay: Duration::from_millis(20),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        let (relay, _config, key) = relay_for(&sandbox, &dir.path().join("relay")).await;
        let mut spec = json!({
            "sandbox": sandbox.url(),
            "relay": relay.url(),
            "key": key.to_base64().as_str(),
            "dir": dir.path().join("desk"),
            "mode": "setup",
        });
        let mut desk = spawn(&spec);
        let op = sandbox.operator();
        // A slow hospital: the push takes seconds, time to pull the plug in the middle.
        op.put("/admin/faults", json!(Faults { peer_hiu_delay_ms: 40, ..Faults::default() }))
            .await
            .unwrap();
        let (_, txn) = op
            .peer_hiu_request(json!({"abha": "91-1234-5678-9012", "hipId": DEFAULT_SERVICE_ID, "hiTypes": ["OPConsultation"]}))
            .await
            .unwrap();
        let mut received = 0;
        for _ in 0..800 {
            received = op.peer_hiu_report(&txn).await.unwrap()["pagesReceived"]
                .as_array()
                .map_or(0, Vec::len);
            if received >= 20 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!((20..VISITS).contains(&received), "the push was not caught midway ({received})");
        desk.kill().unwrap();
        desk.wait().unwrap();
        let at_kill = op.peer_hiu_report(&txn).await.unwrap();
        assert!(at_kill["hipNotified"].is_null(), "{at_kill}");

        spec["mode"] = json!("resume");
        let mut desk = spawn(&spec);
        let mut report = Value::Null;
        for _ in 0..1200 {
            report = op.peer_hiu_report(&txn).await.unwrap();
            if !report["hipNotified"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        desk.kill().unwrap();
        desk.wait().unwrap();
        assert_eq!(report["hipNotified"], "TRANSFERRED", "{report}");
        assert_eq!(report["errors"], json!([]), "{report}");
        let mut pages: Vec<u64> = report["pagesReceived"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect();
        pages.sort();
        assert_eq!(pages, (1..=VISITS as u64).collect::<Vec<_>>(), "every page once");
        let contexts: std::collections::BTreeSet<String> = report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["careContextReference"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(contexts.len(), VISITS, "each care context exactly once");
        assert_eq!(report["entries"].as_array().unwrap().len(), VISITS);
        // Only pages pushed after the last saved progress came again.
        let repeated = report["repeatedPages"].as_array().unwrap().len();
        assert!(repeated <= 16, "{repeated} pages sent twice");
        let statuses = report["hipStatuses"].as_array().unwrap();
        assert_eq!(statuses.len(), VISITS);
        assert!(statuses.iter().all(|s| s[1] == "DELIVERED"), "{report}");
        relay.stop().await;
        sandbox.stop().await;
    });
}
