//! A data request spanning 365 care contexts (a year of visits): the desk checks it, builds each
//! visit's FHIR document, seals each page with a fresh Fidelius key and pushes it over loopback to a
//! sink that only accepts. Beside it, the no-op cost of the same HTTP pushes: the very bodies the
//! desk sent, replayed by one client to the same sink with nothing built or encrypted.
//!
//! Run: `cargo bench -p desk-core --bench push` (365 care contexts; target < 2 s).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use axum::body::Bytes;
use axum::http::StatusCode;
use desk_core::hip::{NewConsultation, NewPrescriptionLine};
use desk_store::{Diagnosis, MemorySecrets, Vitals};
use serde_json::json;
use testkit::{desk_on, relay_client_config, relay_for, TempDir};

type Received = Arc<Mutex<Vec<(Instant, Bytes)>>>;

async fn sink(received: Received) -> String {
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |body: Bytes| {
            let received = received.clone();
            async move {
                received.lock().unwrap().push((Instant::now(), body));
                StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn visit(patient_id: uuid::Uuid, days_ago: i64) -> NewConsultation {
    NewConsultation {
        patient_id,
        date: Some(chrono::Utc::now().date_naive() - chrono::Duration::days(days_ago)),
        doctor: "Dr. Meera Iyer".into(),
        doctor_hpr_id: Some("71-4325-7890-1234".into()),
        complaints: vec!["Fever for three days".into(), "Body ache".into()],
        vitals: Vitals {
            systolic_mmhg: Some(118.0),
            diastolic_mmhg: Some(76.0),
            pulse_per_min: Some(96.0),
            temperature_c: Some(38.6),
            ..Vitals::default()
        },
        diagnoses: vec![Diagnosis {
            text: "Viral fever".into(),
            code: Some("186747009".into()),
        }],
        prescription: vec![NewPrescriptionLine {
            drug: "Paracetamol 650 mg tablet".into(),
            dose: "1 tablet".into(),
            frequency: "three times a day".into(),
            duration: "5 days".into(),
            instructions: Some("after food".into()),
        }],
        advice: Some("Plenty of fluids".into()),
        ..Default::default()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count: usize = if full { 365 } else { 12 };
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(1),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = TempDir::new("push-bench");
    let (relay, _, key) = relay_for(&sandbox, &dir.path().join("relay")).await;
    let desk = Arc::new(desk_on(
        &sandbox,
        &dir.path().join("desk"),
        Arc::new(MemorySecrets::default()),
        |c| c,
    ));
    desk.register_bridge(&relay.url()).await.unwrap();
    let running = desk.start(Some(relay_client_config(&relay.url(), &key)));

    // A patient with a year of linked visits.
    let qr = AbhaQr {
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
        mobile: Some("9876543210".into()),
        mobile_masked: false,
        address: None,
    };
    let patient = desk.scan_and_pull(&qr).unwrap().id;
    for day in 0..count {
        desk.record_consultation(visit(patient, day as i64))
            .unwrap();
    }
    let setup = Instant::now();
    while !desk
        .consultations(patient)
        .unwrap()
        .iter()
        .all(|c| c.link == "linked")
    {
        assert!(
            setup.elapsed() < Duration::from_secs(120),
            "the visits were not linked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let received: Received = Arc::default();
    let url = sink(received.clone()).await;
    let asked = Instant::now();
    sandbox
        .operator()
        .peer_hiu_request(
            json!({"abha": "91-1234-5678-9012", "hipId": DEFAULT_SERVICE_ID,
            "hiTypes": ["OPConsultation"], "dataPushUrl": url}),
        )
        .await
        .unwrap();
    while received.lock().unwrap().len() < count {
        assert!(
            asked.elapsed() < Duration::from_secs(60),
            "the push did not finish"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let pages = received.lock().unwrap().clone();
    let first = pages.first().unwrap().0;
    let last = pages.last().unwrap().0;
    let desk_total = last - asked;
    let desk_pushing = last - first;
    let bytes: usize = pages.iter().map(|(_, b)| b.len()).sum();

    // The yardstick: the same bodies, the same client kind and bearer, nothing built.
    let http = reqwest::Client::new();
    let token = "Bearer no-op";
    let noop = Instant::now();
    for (_, body) in &pages {
        let r = http
            .post(&url)
            .header("authorization", token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let noop = noop.elapsed();
    println!(
        "{count} care contexts, {count} pages, {:.1} MB: request to last page {:.0} ms \
         (first to last page {:.0} ms); no-op pushes of the same bodies {:.0} ms; \
         building and sealing cost {:.1} ms per page",
        bytes as f64 / 1e6,
        desk_total.as_secs_f64() * 1e3,
        desk_pushing.as_secs_f64() * 1e3,
        noop.as_secs_f64() * 1e3,
        (desk_pushing.saturating_sub(noop)).as_secs_f64() * 1e3 / count as f64,
    );
    if full {
        assert!(desk_total < Duration::from_secs(2), "target: under 2 s");
    }
    running.stop().await;
    relay.stop().await;
    sandbox.stop().await;
}
