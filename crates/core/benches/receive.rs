//! Receiving a 10 MB push as HIU: the sandbox's peer hospital pushes one 10 MB FHIR bundle
//! (a consultation with a large scanned report) through the real relay; the desk takes the page
//! off the stream, keeps it until the transfer is complete, verifies checksum and GCM tag,
//! decrypts, seals the record under the consent's key and stores it. Measured from the moment the
//! relay accepted the push to the record stored, beside the raw Fidelius decryption of the same
//! bytes in the same run.
//!
//! Run: `cargo bench -p desk-core --bench receive`.

use std::time::{Duration, Instant};

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{Sandbox, SandboxConfig};
use base64::Engine;
use desk_core::hiu::NewConsentRequest;
use desk_store::{DataRequest, DataRequestState};
use testkit::{Rig, TempDir};

fn big_bundle(bytes: usize) -> serde_json::Value {
    let mut record = abdm_fhir::write::demo_record();
    let mut scan = vec![0u8; bytes];
    rand::Rng::fill(&mut rand::thread_rng(), scan.as_mut_slice());
    record.visit.documents = vec![abdm_fhir::write::FileAttachment {
        title: "Scanned discharge papers".into(),
        content_type: "application/pdf".into(),
        data: base64::engine::general_purpose::STANDARD.encode(scan),
    }];
    abdm_fhir::write::build(abdm_fhir::write::DocumentType::OPConsultRecord, &record, 1)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let dir = TempDir::new("receive-bench");
    let records = dir.path().join("records");
    std::fs::create_dir_all(&records).unwrap();
    let bundle = big_bundle(if full { 7_500_000 } else { 200_000 });
    let plain = serde_json::to_vec(&bundle).unwrap();
    std::fs::write(records.join("big.json"), &plain).unwrap();
    let log = dir.path().join("exchange.jsonl");
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(1),
        consent_delay: Duration::from_millis(1),
        records_dir: Some(records),
        exchange_log: Some(log.clone()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let rig = Rig::with_sandbox(sandbox, |c| c).await;
    let patient = rig
        .desk
        .scan_and_pull(&AbhaQr {
            abha_number: Some("91123456789012".into()),
            abha_address: Some("asha.kumari@sbx".into()),
            name: "Asha Kumari".into(),
            gender: "F".into(),
            date_of_birth: DateOfBirth {
                year: Some(1990),
                month: Some(4),
                day: Some(12),
                text: None,
            },
            state_lgd: None,
            district_lgd: None,
            state: None,
            district: None,
            mobile: None,
            mobile_masked: false,
            address: None,
        })
        .unwrap()
        .id;
    rig.desk
        .request_records(NewConsentRequest {
            patient_id: patient,
            hi_types: vec!["OPConsultation".into()],
            requester_name: "Dr. Meera Iyer".into(),
            ..Default::default()
        })
        .unwrap();
    let started = Instant::now();
    let done = loop {
        let r = rig
            .desk
            .store()
            .all::<DataRequest>()
            .unwrap()
            .into_iter()
            .next();
        match r.map(|r| r.state) {
            Some(DataRequestState::Done { at, records }) => {
                assert_eq!(records, 1);
                break at;
            }
            Some(DataRequestState::Failed { reason }) => panic!("{reason}"),
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // When the relay answered the push (the sandbox logs the exchange once it has the answer).
    let pushed = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["operation"] == "/v0.5/health-information/transfer")
        .and_then(|e| e["ts"].as_str().map(String::from))
        .expect("the push is in the exchange log");
    let pushed: chrono::DateTime<chrono::Utc> = pushed.parse().unwrap();
    let receive = (done - pushed).to_std().unwrap_or_default();

    // The yardstick: the raw decryption of the same bytes.
    let ours = fidelius::KeyMaterial::generate();
    let theirs = fidelius::KeyMaterial::generate();
    let sealed = fidelius::encrypt(&plain, &theirs, &ours.public_key(), &ours.nonce).unwrap();
    let session = fidelius::Session::derive(
        &ours.secret,
        &theirs.public_key(),
        &ours.nonce,
        &theirs.nonce,
    )
    .unwrap();
    let t = Instant::now();
    let opened = session.open_base64(&sealed).unwrap();
    let raw = t.elapsed();
    assert_eq!(opened.len(), plain.len());
    println!(
        "{:.1} MB bundle: relay 202 to record stored {:.0} ms (stream delivery, staging, checksum, \
         GCM, decryption, sealing under the consent key, store); raw Fidelius decryption of the \
         same bytes {:.1} ms",
        plain.len() as f64 / 1e6,
        receive.as_secs_f64() * 1e3,
        raw.as_secs_f64() * 1e3
    );
    rig.stop().await;
}
