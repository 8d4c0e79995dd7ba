//! M3 end to end on loopback: the desk as HIU asks the sandbox's consent manager for a patient's
//! records, the sandbox's peer HIP pushes them (encrypted, in pages) through the real relay, and the
//! desk verifies, decrypts, stores, shows and — when the consent ends — archives them.

use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{ConsentPolicy, Faults, PushCorruption, Sandbox, SandboxConfig};
use desk_core::hiu::NewConsentRequest;
use desk_store::{DataRequest, DataRequestState, HealthRecord};
use serde_json::{json, Value};
use testkit::{eventually, relay_client_config, Rig};
use uuid::Uuid;

fn asha() -> AbhaQr {
    AbhaQr {
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
    }
}

async fn rig(
    faults: Faults,
    policy: ConsentPolicy,
    tweak: fn(desk_core::DeskConfig) -> desk_core::DeskConfig,
) -> Rig {
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(20),
        consent_delay: Duration::from_millis(50),
        consent_policy: policy,
        faults,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    Rig::with_sandbox(sandbox, tweak).await
}

fn ask(patient_id: Uuid, erase_in: chrono::Duration) -> NewConsentRequest {
    NewConsentRequest {
        patient_id,
        hi_types: vec![
            "OPConsultation".into(),
            "Prescription".into(),
            "DiagnosticReport".into(),
        ],
        erase_at: Some(chrono::Utc::now() + erase_in),
        requester_name: "Dr. Meera Iyer".into(),
        ..Default::default()
    }
}

fn record_count(rig: &Rig) -> usize {
    rig.desk.store().all::<HealthRecord>().unwrap().len()
}

fn data_request(rig: &Rig) -> Option<DataRequest> {
    rig.desk
        .store()
        .all::<DataRequest>()
        .unwrap()
        .into_iter()
        .next()
}

/// What the desk told ABDM about transfers to it (waits up to 10 s for the first).
async fn hiu_notifications(rig: &Rig) -> Vec<Value> {
    for _ in 0..400 {
        let v = rig
            .sandbox
            .operator()
            .get("/admin/hiu-notifications")
            .await
            .unwrap();
        let all = v.as_array().cloned().unwrap_or_default();
        if !all.is_empty() {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    vec![]
}

async fn settled(rig: &Rig) -> DataRequest {
    let mut last = None;
    for _ in 0..600 {
        last = data_request(rig);
        if last.as_ref().is_some_and(|r| {
            matches!(
                r.state,
                DataRequestState::Done { .. } | DataRequestState::Failed { .. }
            )
        }) {
            return last.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the transfer did not settle: {last:?}");
}

#[tokio::test]
async fn records_arrive_in_pages_are_shown_and_are_archived_when_the_patient_revokes() {
    let rig = rig(
        Faults {
            push_pages: 3,
            ..Faults::default()
        },
        ConsentPolicy::Grant,
        |c| c,
    )
    .await;
    let patient = rig.desk.scan_and_pull(&asha()).unwrap().id;
    let asked = rig
        .desk
        .request_records(ask(patient, chrono::Duration::days(7)))
        .unwrap();
    assert_eq!(asked.status, "sending");
    let r = settled(&rig).await;
    assert!(
        matches!(r.state, DataRequestState::Done { records: 6, .. }),
        "{r:?}"
    );
    assert_eq!(r.received_pages.len(), 3);

    // What the doctor sees: every record opens into the viewer model, and each opening is audited.
    let received = rig.desk.received_records(patient).unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].records.len(), 6);
    assert!(received[0].archived.is_none());
    for row in &received[0].records {
        let view = rig.desk.open_record(row.id, Some("dr.iyer")).unwrap();
        assert!(!view.document.sections.is_empty(), "{:?}", view.document);
    }
    let views = rig
        .desk
        .audit_log()
        .unwrap()
        .iter()
        .filter(|a| a.action == "received record viewed")
        .count();
    assert_eq!(views, 6);
    let notes = hiu_notifications(&rig).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        notes[0]["notification"]["statusNotification"]["sessionStatus"],
        "TRANSFERRED"
    );
    assert_eq!(
        rig.desk.consent_requests(Some(patient)).unwrap()[0].status,
        "granted"
    );

    // The patient revokes: the key goes, then the records; the list says why and when.
    let consent = received[0].consent_id;
    rig.admin(&format!("/admin/consents/{consent}/revoke"), json!({}))
        .await;
    eventually("the records archived", || record_count(&rig) == 0).await;
    let received = rig.desk.received_records(patient).unwrap();
    assert!(
        received[0].archived.as_deref().unwrap().contains("revoked"),
        "{received:?}"
    );
    assert!(received[0].archived_at.is_some());
    assert!(!rig
        .secrets
        .names()
        .iter()
        .any(|n| n.contains(&consent.to_string())));
    // Our key for the request is gone too: nothing lingering on disk could be opened with it.
    assert!(data_request(&rig).unwrap().secret_key.expose().is_empty());
    rig.stop().await;
}

/// A page counts only if it came by one of our push paths: not as a callback, not by another path.
#[tokio::test]
async fn a_page_not_sent_by_our_push_path_is_set_aside() {
    let mut rig = rig(Faults::default(), ConsentPolicy::Grant, |c| c).await;
    rig.running.take().unwrap().stop().await;
    let page = json!({"pageNumber": 1, "pageCount": 1, "transactionId": Uuid::new_v4(),
        "entries": [{"content": "AAAA", "media": "application/fhir+json", "checksum": "x", "careContextReference": "cc"}],
        "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
            "dhPublicKey": {"expiry": "2030-01-01T00:00:00.000Z", "parameters": "Curve25519/32byte random key", "keyValue": "AAAA"},
            "nonce": "AAAA"}});
    let seq = rig.desk.relay_committed().unwrap().seq;
    let delivery = |n: u64, kind, service_id: Option<&str>| relay_client::Delivery {
        seq: seq + n,
        id: 1000 + n,
        received_at: "2026-12-01T10:00:00.000Z".into(),
        path: "/v0.5/health-information/transfer".into(),
        service_id: service_id.map(String::from),
        kind,
        request_id: None,
        body: Ok(page.clone()),
    };
    rig.desk
        .apply(&delivery(1, relay_client::MessageKind::Gateway, None))
        .unwrap();
    rig.desk
        .apply(&delivery(2, relay_client::MessageKind::Push, Some("00ff")))
        .unwrap();
    let parked = rig.desk.parked().unwrap();
    assert!(
        parked[0].reason.contains("did not come by a push path"),
        "{parked:?}"
    );
    assert!(
        parked[1].reason.contains("no push path of ours"),
        "{parked:?}"
    );
    assert!(rig
        .desk
        .store()
        .all::<desk_store::PushPage>()
        .unwrap()
        .is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn a_denied_request_brings_nothing() {
    let rig = rig(Faults::default(), ConsentPolicy::Deny, |c| c).await;
    let patient = rig.desk.scan_and_pull(&asha()).unwrap().id;
    rig.desk
        .request_records(ask(patient, chrono::Duration::days(7)))
        .unwrap();
    eventually("the denial", || {
        rig.desk.consent_requests(Some(patient)).unwrap()[0].status == "denied"
    })
    .await;
    assert!(data_request(&rig).is_none());
    assert!(rig.desk.received_records(patient).unwrap().is_empty());
    rig.stop().await;
}

/// A transfer that does not verify: FAILED to ABDM with the reason, nothing stored.
async fn refused_transfer(faults: Faults, why: &str) {
    let rig = rig(faults, ConsentPolicy::Grant, |c| desk_core::DeskConfig {
        push_wait: Duration::from_millis(500),
        ..c
    })
    .await;
    let patient = rig.desk.scan_and_pull(&asha()).unwrap().id;
    rig.desk
        .request_records(ask(patient, chrono::Duration::days(7)))
        .unwrap();
    let r = settled(&rig).await;
    match &r.state {
        DataRequestState::Failed { reason } => assert!(reason.contains(why), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(record_count(&rig), 0, "nothing stored");
    assert!(rig
        .desk
        .store()
        .all::<desk_store::PushPage>()
        .unwrap()
        .is_empty());
    let notes = hiu_notifications(&rig).await;
    let status = &notes[0]["notification"]["statusNotification"];
    assert_eq!(status["sessionStatus"], "FAILED", "{notes:?}");
    assert!(status["statusResponses"][0]["description"]
        .as_str()
        .unwrap()
        .contains(why));
    assert_eq!(status["statusResponses"][0]["hiStatus"], "ERRORED");
    rig.stop().await;
}

#[tokio::test]
async fn a_bad_checksum_stores_nothing() {
    refused_transfer(
        Faults {
            corrupt_next_push: Some(PushCorruption::Checksum),
            ..Faults::default()
        },
        "checksum",
    )
    .await;
}

#[tokio::test]
async fn a_flipped_tag_bit_stores_nothing() {
    refused_transfer(
        Faults {
            corrupt_next_push: Some(PushCorruption::Tag),
            ..Faults::default()
        },
        "does not decrypt",
    )
    .await;
}

#[tokio::test]
async fn a_push_for_another_key_stores_nothing() {
    refused_transfer(
        Faults {
            corrupt_next_push: Some(PushCorruption::Key),
            ..Faults::default()
        },
        "does not decrypt",
    )
    .await;
}

#[tokio::test]
async fn a_missing_page_stores_nothing() {
    refused_transfer(
        Faults {
            push_pages: 3,
            drop_next_push_page: Some(2),
            ..Faults::default()
        },
        "page(s) 2 of 3 never arrived",
    )
    .await;
}

#[tokio::test]
async fn records_whose_consent_ends_while_the_desk_is_off_are_unreadable_on_restart() {
    let mut rig = rig(Faults::default(), ConsentPolicy::Grant, |c| c).await;
    let patient = rig.desk.scan_and_pull(&asha()).unwrap().id;
    rig.desk
        .request_records(ask(patient, chrono::Duration::seconds(4)))
        .unwrap();
    let r = settled(&rig).await;
    assert!(matches!(r.state, DataRequestState::Done { .. }), "{r:?}");
    let row = rig.desk.received_records(patient).unwrap()[0].records[0].clone();
    assert!(rig.desk.open_record(row.id, None).is_ok());
    rig.running.take().unwrap().stop().await;
    // The desk is off when dataEraseAt passes.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(record_count(&rig), 6, "nothing runs while the desk is off");
    rig.running = Some(rig.desk.start(Some(relay_client_config(
        &rig.relay.as_ref().unwrap().url(),
        &rig.key,
    ))));
    // Archived before anything else ran.
    assert_eq!(record_count(&rig), 0);
    assert!(rig.desk.open_record(row.id, None).is_err());
    let received = rig.desk.received_records(patient).unwrap();
    assert!(
        received[0]
            .archived
            .as_deref()
            .unwrap()
            .contains("dataEraseAt"),
        "{received:?}"
    );
    assert!(
        !rig.secrets
            .names()
            .iter()
            .any(|n| n.starts_with("hiu-consent-")),
        "{:?}",
        rig.secrets.names()
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_consent_request_is_checked_before_it_is_sent() {
    let rig = rig(Faults::default(), ConsentPolicy::Grant, |c| c).await;
    let patient = rig.desk.scan_and_pull(&asha()).unwrap().id;
    let bad = |r: NewConsentRequest| rig.desk.request_records(r).unwrap_err().to_string();
    assert!(bad(NewConsentRequest {
        hi_types: vec![],
        ..ask(patient, chrono::Duration::days(1))
    })
    .contains("at least one"));
    assert!(bad(NewConsentRequest {
        hi_types: vec!["XRay".into()],
        ..ask(patient, chrono::Duration::days(1))
    })
    .contains("unknown kind"));
    assert!(bad(ask(patient, chrono::Duration::seconds(-10))).contains("in the future"));
    assert!(bad(NewConsentRequest {
        requester_name: " ".into(),
        ..ask(patient, chrono::Duration::days(1))
    })
    .contains("doctor"));
    let walk_in = rig
        .desk
        .register_patient(desk_core::NewPatient {
            name: "No Abha".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(bad(ask(walk_in.id, chrono::Duration::days(1))).contains("no ABHA address"));
    assert!(rig.desk.consent_requests(None).unwrap().is_empty());
    rig.stop().await;
}
