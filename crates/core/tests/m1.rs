//! M1 end to end on loopback: the real sandbox as ABDM, the real relay as the bridge, desk-core
//! with its sled store.

use std::sync::Arc;
use std::time::Duration;

use abdm::AuthMode;
use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::{Desk, DeskError, NewPatient, QrProfile, Reachability, V05};
use desk_store::{MemorySecrets, OutboxState, Store};
use serde_json::{json, Value};
use tokio::sync::watch;

const TOKEN: &str = "m1-clinic-token";

struct Rig {
    sandbox: Sandbox,
    relay: Option<RelayServer>,
    relay_config: RelayConfig,
    desk: Arc<Desk<V05>>,
    stop: watch::Sender<bool>,
    dir: std::path::PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Rig {
    async fn start(config: SandboxConfig) -> Self {
        let sandbox = Sandbox::start(SandboxConfig {
            callback_delay: Duration::from_millis(20),
            redelivery_after: Some(Duration::from_millis(600)),
            ..config
        })
        .await
        .unwrap();
        Self::with_sandbox(sandbox).await
    }

    async fn with_sandbox(sandbox: Sandbox) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "desk-m1-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let relay_config = RelayConfig {
            listen: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            ..RelayConfig::new(
                dir.join("relay"),
                format!("{}/v0.5/certs", sandbox.gateway_url()),
                vec![Clinic::new(
                    "clinic",
                    TOKEN,
                    vec![DEFAULT_SERVICE_ID.into()],
                )],
            )
        };
        let relay = RelayServer::start(relay_config.clone()).await.unwrap();
        let store = Arc::new(Store::open(&dir.join("desk"), &MemorySecrets::default()).unwrap());
        let gateway = Arc::new(V05::new(
            abdm::GatewayClient::new(sandbox.client_config()),
            DEFAULT_SERVICE_ID,
        ));
        let desk = Arc::new(Desk::new(store, gateway, "sbx"));
        desk.register_bridge(&relay.url()).await.unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let (d1, s1) = (desk.clone(), stop_rx.clone());
        tokio::spawn(async move { d1.run_outbox(s1).await });
        let (d2, s2, url) = (desk.clone(), stop_rx, relay.url());
        tokio::spawn(async move {
            let mut config = relay_client::ClientConfig::new(url, TOKEN);
            config.backoff_min = Duration::from_millis(50);
            config.backoff_max = Duration::from_millis(200);
            d2.run_sync(config, s2).await
        });
        Self {
            sandbox,
            relay: Some(relay),
            relay_config,
            desk,
            stop,
            dir,
        }
    }

    async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(r) = self.relay.take() {
            r.stop().await;
        }
        self.sandbox.stop().await;
        std::fs::remove_dir_all(&self.dir).ok();
    }

    async fn otp(&self, txn: &str) -> String {
        let messages: Vec<Value> = reqwest::get(format!("{}/phone", self.sandbox.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        messages
            .iter()
            .rev()
            .find(|m| m["txnId"] == txn)
            .and_then(|m| m["otp"].as_str())
            .expect("an OTP on the phone")
            .to_string()
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn asha_qr() -> QrProfile {
    QrProfile {
        abha_number: "91123456789012".into(),
        abha_address: Some("asha.kumari@sbx".into()),
        name: "Asha Kumari".into(),
        gender: "F".into(),
        year_of_birth: Some(1990),
        month_of_birth: Some(4),
        day_of_birth: Some(12),
        mobile: Some("9876543210".into()),
        ..Default::default()
    }
}

fn linking_token(desk: &Desk<V05>, number: &str) -> Option<String> {
    desk.store()
        .abha_profile(number)
        .unwrap()
        .and_then(|p| p.linking_token)
}

#[tokio::test]
async fn scan_and_pull_verifies_the_abha_and_brings_a_linking_token() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let patient = rig.desk.scan_and_pull(asha_qr()).unwrap();
    // Saved at once, before ABDM answers.
    assert_eq!(
        rig.desk
            .store()
            .patient(patient.id)
            .unwrap()
            .unwrap()
            .abha_number
            .as_deref(),
        Some("91-1234-5678-9012")
    );
    eventually("the linking token", || {
        linking_token(&rig.desk, "91-1234-5678-9012").is_some()
    })
    .await;
    let outbox = rig.desk.store().outbox().unwrap();
    assert_eq!(outbox.len(), 3, "fetch-modes, init, confirm");
    assert!(
        outbox
            .iter()
            .all(|i| matches!(i.state, OutboxState::Done { .. })),
        "{outbox:?}"
    );
    // Scanning the same card again does not make a second patient.
    let again = rig.desk.scan_and_pull(asha_qr()).unwrap();
    assert_eq!(again.id, patient.id);
    assert_eq!(rig.desk.store().patients().unwrap().len(), 1);
    rig.stop().await;
}

#[tokio::test]
async fn create_an_abha_with_aadhaar_otp_including_the_mobile_branch() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let patient = rig
        .desk
        .register_patient(NewPatient {
            name: "Meena Das".into(),
            gender: "F".into(),
            year_of_birth: Some(1985),
            ..Default::default()
        })
        .unwrap();

    // A mistyped Aadhaar is caught before anything is sent.
    let valid = abdm_sandbox::state::aadhaar_with_check("23456789012");
    let typo = format!("{}{}", &valid[..11], (valid.as_bytes()[11] - b'0' + 1) % 10);
    let err = rig.desk.abha_create_start(&typo).await.unwrap_err();
    assert!(matches!(err, DeskError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("does not match"), "{err}");

    let aadhaar = abdm_sandbox::state::aadhaar_with_check("82345678901");
    let txn = rig.desk.abha_create_start(&aadhaar).await.unwrap();
    let otp = rig.otp(&txn).await;
    let wrong = if otp == "111111" { "222222" } else { "111111" };
    let err = rig
        .desk
        .abha_create_verify_aadhaar_otp(&txn, wrong)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("OTP does not match"), "{err}");
    rig.desk
        .abha_create_verify_aadhaar_otp(&txn, &otp)
        .await
        .unwrap();
    // A mobile other than the Aadhaar-linked one needs its own OTP.
    assert!(rig
        .desk
        .abha_create_set_mobile(&txn, "9000012345")
        .await
        .unwrap());
    let otp = rig.otp(&txn).await;
    rig.desk
        .abha_create_verify_mobile_otp(&txn, &otp)
        .await
        .unwrap();
    let profile = rig
        .desk
        .abha_create_finish(&txn, patient.id, Some("meena.das85"))
        .await
        .unwrap();
    assert_eq!(profile.abha_address.as_deref(), Some("meena.das85@sbx"));
    let saved = rig.desk.store().patient(patient.id).unwrap().unwrap();
    assert_eq!(
        saved.abha_number.as_deref(),
        Some(profile.abha_number.as_str())
    );
    rig.stop().await;
}

#[tokio::test]
async fn link_an_existing_abha_and_refuse_it_for_a_second_patient() {
    let rig = Rig::start(SandboxConfig {
        otp_ttl: Duration::from_millis(1500),
        ..SandboxConfig::default()
    })
    .await;
    let first = rig
        .desk
        .register_patient(NewPatient {
            name: "Asha Kumari".into(),
            gender: "F".into(),
            ..Default::default()
        })
        .unwrap();
    let second = rig
        .desk
        .register_patient(NewPatient {
            name: "Asha K".into(),
            gender: "F".into(),
            ..Default::default()
        })
        .unwrap();

    let (name, methods) = rig.desk.link_search("asha.kumari").await.unwrap();
    assert_eq!(name, "Asha Kumari");
    assert!(methods.contains(&abdm::healthid_v1::AuthMethod::MobileOtp));
    let txn = rig
        .desk
        .link_start("asha.kumari@sbx", AuthMode::MobileOtp)
        .await
        .unwrap();
    let otp = rig.otp(&txn).await;
    let profile = rig
        .desk
        .link_finish(&txn, &otp, AuthMode::MobileOtp, first.id)
        .await
        .unwrap();
    assert_eq!(profile.abha_number, "91-1234-5678-9012");
    assert!(profile.access_token.is_some());

    // Aadhaar OTP, for another patient: refused, and nothing changes.
    let txn = rig
        .desk
        .link_start("91-1234-5678-9012", AuthMode::AadhaarOtp)
        .await
        .unwrap();
    let otp = rig.otp(&txn).await;
    let err = rig
        .desk
        .link_finish(&txn, &otp, AuthMode::AadhaarOtp, second.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DeskError::AlreadyLinked { .. }), "{err}");
    assert!(rig
        .desk
        .store()
        .patient(second.id)
        .unwrap()
        .unwrap()
        .abha_number
        .is_none());

    // An expired OTP.
    let txn = rig
        .desk
        .link_start("ravi.shankar@sbx", AuthMode::MobileOtp)
        .await
        .unwrap();
    let otp = rig.otp(&txn).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let err = rig
        .desk
        .link_finish(&txn, &otp, AuthMode::MobileOtp, second.id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    // A search for nobody.
    assert!(matches!(
        rig.desk.link_search("nobody.at.all@sbx").await,
        Err(DeskError::NotFound(_))
    ));
    rig.stop().await;
}

async fn share(rig: &Rig, abha: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{}/admin/share", rig.sandbox.url()))
        .json(&json!({"abha": abha, "hipId": DEFAULT_SERVICE_ID, "counterId": "COUNTER-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["requestId"].as_str().unwrap().to_string();
    let url = format!("{}/admin/shares/{id}", rig.sandbox.url());
    for _ in 0..200 {
        let s: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if let Some(t) = s["tokenNumber"].as_str() {
            return t.to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the clinic never answered the share");
}

#[tokio::test]
async fn scan_and_share_gives_one_token_per_patient_per_day() {
    let rig = Rig::start(SandboxConfig::default()).await;
    assert_eq!(share(&rig, "asha.kumari@sbx").await, "1");
    assert_eq!(share(&rig, "ravi.shankar@sbx").await, "2");
    assert_eq!(
        share(&rig, "asha.kumari@sbx").await,
        "1",
        "the same patient keeps her token"
    );
    let patients = rig.desk.store().patients().unwrap();
    assert_eq!(patients.len(), 2, "no duplicate patients");
    assert!(patients
        .iter()
        .any(|p| p.name == "Asha Kumari" && p.abha_address.as_deref() == Some("asha.kumari@sbx")));
    rig.stop().await;
}

#[tokio::test]
async fn offline_registrations_save_at_once_and_drain_in_order_when_abdm_returns() {
    let port = free_port();
    let on_port = || SandboxConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        callback_delay: Duration::from_millis(20),
        ..SandboxConfig::default()
    };
    let mut rig = Rig::with_sandbox(Sandbox::start(on_port()).await.unwrap()).await;
    // ABDM goes away (the rig keeps a stand-in sandbox elsewhere so it can be stopped later).
    let standin = Sandbox::start(SandboxConfig::default()).await.unwrap();
    std::mem::replace(&mut rig.sandbox, standin).stop().await;

    let started = std::time::Instant::now();
    let qrs = [
        (
            "91-5555-0000-1234",
            "ravi.shankar@sbx",
            "Ravi Shankar",
            "M",
            1978,
        ),
        (
            "91-1234-5678-9012",
            "asha.kumari@sbx",
            "Asha Kumari",
            "F",
            1990,
        ),
    ];
    for (number, address, name, gender, year) in qrs {
        rig.desk
            .scan_and_pull(QrProfile {
                abha_number: number.into(),
                abha_address: Some(address.into()),
                name: name.into(),
                gender: gender.into(),
                year_of_birth: Some(year),
                ..Default::default()
            })
            .unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "saving does not wait for the network"
    );
    assert_eq!(rig.desk.store().patients().unwrap().len(), 2);
    let mut status = rig.desk.status();
    eventually("the desk notices ABDM is away", || {
        matches!(
            status.borrow_and_update().abdm,
            Reachability::Offline { .. }
        )
    })
    .await;
    assert!(rig
        .desk
        .store()
        .outbox()
        .unwrap()
        .iter()
        .all(|i| i.state == OutboxState::Queued));

    // ABDM comes back at the same address (a fresh simulator: the bridge is registered again).
    let back = Sandbox::start(on_port()).await.unwrap();
    abdm::GatewayClient::new(back.client_config())
        .register_bridge(&rig.relay.as_ref().unwrap().url())
        .await
        .unwrap();
    eventually("both ABHAs verified", || {
        linking_token(&rig.desk, "91-5555-0000-1234").is_some()
            && linking_token(&rig.desk, "91-1234-5678-9012").is_some()
    })
    .await;
    // In order: Ravi's call went before Asha's.
    let outbox = rig.desk.store().outbox().unwrap();
    assert!(outbox[0].label.contains("Ravi") && outbox[1].label.contains("Asha"));
    assert!(outbox
        .iter()
        .all(|i| matches!(i.state, OutboxState::Done { .. })));
    back.stop().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_network_cut_mid_flow_is_survived() {
    let mut rig = Rig::start(SandboxConfig::default()).await;
    rig.desk.scan_and_pull(asha_qr()).unwrap();
    // The relay goes away right after the first call: callbacks bounce, ABDM redelivers later.
    tokio::time::sleep(Duration::from_millis(10)).await;
    rig.relay.take().unwrap().stop().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    rig.relay = Some(RelayServer::start(rig.relay_config.clone()).await.unwrap());
    eventually("the flow completes after the cut", || {
        linking_token(&rig.desk, "91-1234-5678-9012").is_some()
    })
    .await;
    rig.stop().await;
}

#[tokio::test]
async fn a_request_abdm_never_answers_is_failed_in_plain_words() {
    // Our bridge is not registered with this ABDM: it accepts our call and never calls back.
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(10),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("desk-timeout-{}", uuid::Uuid::new_v4()));
    let store = Arc::new(Store::open(&dir, &MemorySecrets::default()).unwrap());
    let gateway = Arc::new(V05::new(
        abdm::GatewayClient::new(sandbox.client_config()),
        DEFAULT_SERVICE_ID,
    ));
    let desk =
        Arc::new(Desk::new(store, gateway, "sbx").with_answer_timeout(Duration::from_millis(400)));
    let (stop, stop_rx) = watch::channel(false);
    let d = desk.clone();
    tokio::spawn(async move { d.run_outbox(stop_rx).await });
    desk.scan_and_pull(asha_qr()).unwrap();
    eventually("the unanswered call to fail", || {
        desk.store().outbox().unwrap().iter().any(|i| matches!(&i.state, OutboxState::Failed { reason } if reason.contains("did not answer")))
    }).await;
    assert!(!desk.store().has_pending().unwrap());
    stop.send_replace(true);
    sandbox.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
