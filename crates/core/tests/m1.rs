//! M1 end to end on loopback: the real sandbox as ABDM, the real relay as the bridge, desk-core
//! with its sled store.

use std::sync::Arc;
use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{Sandbox, SandboxConfig};
use desk_core::gateway::LoginMethod;
use desk_core::{DeskError, NewPatient, Reachability};
use desk_store::MemorySecrets;
use testkit::{desk_on, eventually, free_port, Rig, TempDir};

fn asha_qr() -> AbhaQr {
    card(
        "91123456789012",
        "asha.kumari@sbx",
        "Asha Kumari",
        "F",
        1990,
    )
}

fn card(number: &str, address: &str, name: &str, gender: &str, year: i32) -> AbhaQr {
    AbhaQr {
        abha_number: Some(number.into()),
        abha_address: Some(address.into()),
        name: name.into(),
        gender: gender.into(),
        date_of_birth: DateOfBirth {
            year: Some(year),
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
    }
}

fn can_link(rig: &Rig, number: &str) -> bool {
    rig.desk
        .abha(number)
        .unwrap()
        .is_some_and(|a| a.can_link_records)
}

#[tokio::test]
async fn scan_and_pull_verifies_the_abha_and_brings_a_linking_token() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let patient = rig.desk.scan_and_pull(&asha_qr()).unwrap();
    // Saved at once, before ABDM answers.
    assert_eq!(
        rig.desk
            .patient(patient.id)
            .unwrap()
            .unwrap()
            .abha_number
            .as_deref(),
        Some("91-1234-5678-9012")
    );
    eventually("the linking token", || can_link(&rig, "91-1234-5678-9012")).await;
    let outbox = rig.desk.outbox().unwrap();
    // v0.5 proves the ABHA in three calls; v3 gives the token for the card's demographics in one.
    let calls = match testkit::generation() {
        abdm::Generation::V05 => 3,
        abdm::Generation::V3 => 1,
    };
    assert_eq!(outbox.len(), calls, "{outbox:?}");
    assert!(outbox.iter().all(|i| i.state == "done"), "{outbox:?}");
    // Scanning the same card again does not make a second patient.
    let again = rig.desk.scan_and_pull(&asha_qr()).unwrap();
    assert_eq!(again.id, patient.id);
    assert_eq!(rig.desk.find_patients("").unwrap().len(), 1);
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
    let valid = abdm_sandbox::aadhaar_with_check("23456789012");
    let typo = format!("{}{}", &valid[..11], (valid.as_bytes()[11] - b'0' + 1) % 10);
    let err = rig.desk.abha_create_start(&typo).await.unwrap_err();
    assert!(matches!(err, DeskError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("does not match"), "{err}");

    let aadhaar = abdm_sandbox::aadhaar_with_check("82345678901");
    let txn = rig.desk.abha_create_start(&aadhaar).await.unwrap();
    let otp = rig.otp(&txn.0).await;
    let wrong = if otp == "111111" { "222222" } else { "111111" };
    let err = rig
        .desk
        .abha_create_verify_aadhaar_otp(&txn, wrong, "9000012345")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("OTP"), "{err}");
    // A mobile other than the Aadhaar-linked one needs its own OTP.
    assert!(rig
        .desk
        .abha_create_verify_aadhaar_otp(&txn, &otp, "9000012345")
        .await
        .unwrap());
    let otp = rig.otp(&txn.0).await;
    rig.desk
        .abha_create_verify_mobile_otp(&txn, &otp)
        .await
        .unwrap();
    let suggestions = rig
        .desk
        .abha_address_suggestions(&txn, patient.id)
        .await
        .unwrap();
    // v0.5's service suggests nothing, so the desk offers some from the name typed here; v3's
    // suggests from the Aadhaar's name.
    let expected = match testkit::generation() {
        abdm::Generation::V05 => "meena.das",
        abdm::Generation::V3 => "manoj",
    };
    assert!(
        suggestions.iter().any(|s| s.starts_with(expected)),
        "{suggestions:?}"
    );
    let profile = rig
        .desk
        .abha_create_finish(&txn, patient.id, Some("meena.das85"))
        .await
        .unwrap();
    assert_eq!(profile.abha_address.as_deref(), Some("meena.das85@sbx"));
    let saved = rig.desk.patient(patient.id).unwrap().unwrap();
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
    let new = |name: &str| {
        rig.desk
            .register_patient(NewPatient {
                name: name.into(),
                gender: "F".into(),
                ..Default::default()
            })
            .unwrap()
    };
    let (first, second) = (new("Asha Kumari"), new("Asha K"));

    let found = rig.desk.link_search("asha.kumari").await.unwrap();
    assert_eq!(found.name, "Asha Kumari");
    assert!(found.methods.contains(&LoginMethod::MobileOtp));
    let txn = rig
        .desk
        .link_start("asha.kumari@sbx", LoginMethod::MobileOtp)
        .await
        .unwrap();
    let otp = rig.otp(&txn.0).await;
    let profile = rig
        .desk
        .link_finish(&txn, &otp, LoginMethod::MobileOtp, first.id)
        .await
        .unwrap();
    assert_eq!(profile.abha_number, "91-1234-5678-9012");

    // Aadhaar OTP, for another patient: refused, and nothing changes.
    let txn = rig
        .desk
        .link_start("91-1234-5678-9012", LoginMethod::AadhaarOtp)
        .await
        .unwrap();
    let otp = rig.otp(&txn.0).await;
    let err = rig
        .desk
        .link_finish(&txn, &otp, LoginMethod::AadhaarOtp, second.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DeskError::AlreadyLinked { .. }), "{err}");
    assert!(rig
        .desk
        .patient(second.id)
        .unwrap()
        .unwrap()
        .abha_number
        .is_none());

    // An expired OTP.
    let txn = rig
        .desk
        .link_start("ravi.shankar@sbx", LoginMethod::MobileOtp)
        .await
        .unwrap();
    let otp = rig.otp(&txn.0).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let err = rig
        .desk
        .link_finish(&txn, &otp, LoginMethod::MobileOtp, second.id)
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

#[tokio::test]
async fn scan_and_share_gives_one_token_per_patient_per_day() {
    let rig = Rig::start(SandboxConfig::default()).await;
    assert_eq!(rig.share("asha.kumari@sbx").await, "1");
    assert_eq!(rig.share("ravi.shankar@sbx").await, "2");
    assert_eq!(
        rig.share("asha.kumari@sbx").await,
        "1",
        "the same patient keeps her token"
    );
    let patients = rig.desk.find_patients("").unwrap();
    assert_eq!(patients.len(), 2, "no duplicate patients");
    assert!(patients
        .iter()
        .any(|p| p.name == "Asha Kumari" && p.abha_address.as_deref() == Some("asha.kumari@sbx")));
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let queue = rig.desk.queue(&today).unwrap();
    assert_eq!(
        queue
            .iter()
            .map(|r| (r.token, r.patient.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "Asha Kumari"), (2, "Ravi Shankar")]
    );
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
    let mut rig = Rig::with_sandbox(Sandbox::start(on_port()).await.unwrap(), |c| c).await;
    // ABDM goes away (the rig keeps a stand-in sandbox elsewhere so it can be stopped later).
    let standin = Sandbox::start(SandboxConfig::default()).await.unwrap();
    std::mem::replace(&mut rig.sandbox, standin).stop().await;

    let started = std::time::Instant::now();
    rig.desk
        .scan_and_pull(&card(
            "91-5555-0000-1234",
            "ravi.shankar@sbx",
            "Ravi Shankar",
            "M",
            1978,
        ))
        .unwrap();
    rig.desk.scan_and_pull(&asha_qr()).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "saving does not wait for the network"
    );
    assert_eq!(rig.desk.find_patients("").unwrap().len(), 2);
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
        .outbox()
        .unwrap()
        .iter()
        .all(|i| i.state == "queued"));

    // ABDM comes back at the same address (a fresh simulator: the bridge is registered again).
    let back = Sandbox::start(on_port()).await.unwrap();
    abdm::GatewayClient::new(back.client_config())
        .register_bridge(&rig.relay.as_ref().unwrap().url())
        .await
        .unwrap();
    eventually("both ABHAs verified", || {
        can_link(&rig, "91-5555-0000-1234") && can_link(&rig, "91-1234-5678-9012")
    })
    .await;
    // In order: Ravi's call went before Asha's.
    let outbox = rig.desk.outbox().unwrap();
    assert!(outbox[0].label.contains("Ravi") && outbox[1].label.contains("Asha"));
    assert!(outbox.iter().all(|i| i.state == "done"));
    back.stop().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_network_cut_mid_flow_is_survived() {
    let mut rig = Rig::start(SandboxConfig::default()).await;
    rig.desk.scan_and_pull(&asha_qr()).unwrap();
    // The relay goes away right after the first call: callbacks bounce, ABDM redelivers later.
    tokio::time::sleep(Duration::from_millis(10)).await;
    rig.relay_down().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    rig.relay_up().await;
    eventually("the flow completes after the cut", || {
        can_link(&rig, "91-1234-5678-9012")
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
    let dir = TempDir::new("timeout");
    let desk = Arc::new(desk_on(
        &sandbox,
        &dir.0.join("desk"),
        Arc::new(MemorySecrets::default()),
        |c| desk_core::DeskConfig {
            answer_timeout: Duration::from_millis(400),
            ..c
        },
    ));
    let running = desk.start(None);
    desk.scan_and_pull(&asha_qr()).unwrap();
    eventually("the unanswered call to fail", || {
        desk.outbox()
            .unwrap()
            .iter()
            .any(|i| i.state == "failed" && i.words.contains("did not answer"))
    })
    .await;
    running.stop().await;
    sandbox.stop().await;
}
