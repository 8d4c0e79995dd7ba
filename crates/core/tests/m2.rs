//! M2 end to end on loopback: the desk as HIP, the real sandbox as ABDM and as the peer HIU that
//! asks for, decrypts and checks our records, the real relay as the bridge.

use std::collections::BTreeSet;
use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{SandboxConfig, DEFAULT_SERVICE_ID};
use base64::Engine;
use desk_core::hip::{NewConsultation, NewPrescriptionLine};
use desk_core::{DeskError, NewPatient};
use desk_store::{Attachment, Diagnosis, Investigation, LabValue, Vitals};
use serde_json::{json, Value};
use testkit::{eventually, relay_client_config, Rig};
use uuid::Uuid;

const ASHA: &str = "91-1234-5678-9012";
const ASHA_MOBILE: &str = "9876543210";

fn asha_qr() -> AbhaQr {
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
        mobile: Some(ASHA_MOBILE.into()),
        mobile_masked: false,
        address: None,
    }
}

fn pdf() -> String {
    base64::engine::general_purpose::STANDARD
        .encode(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
}

/// A visit with every part a consultation can have.
fn full_visit(patient_id: Uuid) -> NewConsultation {
    NewConsultation {
        patient_id,
        doctor: "Dr. Meera Iyer".into(),
        doctor_hpr_id: Some("71-4325-7890-1234".into()),
        complaints: vec!["Fever for three days".into(), "Body ache".into()],
        vitals: Vitals {
            systolic_mmhg: Some(118.0),
            diastolic_mmhg: Some(76.0),
            pulse_per_min: Some(96.0),
            spo2_percent: Some(98.0),
            temperature_c: Some(38.6),
            respiratory_rate: Some(18.0),
            weight_kg: Some(58.0),
            height_cm: Some(160.0),
        },
        diagnoses: vec![Diagnosis {
            text: "Dengue fever".into(),
            code: Some("38362002".into()),
        }],
        prescription: vec![NewPrescriptionLine {
            drug: "Paracetamol 650 mg tablet".into(),
            dose: "1 tablet".into(),
            frequency: "three times a day".into(),
            duration: "5 days".into(),
            instructions: Some("after food".into()),
        }],
        investigations: vec![Investigation {
            name: "Platelet count".into(),
            result: Some(LabValue {
                value: 98.0,
                unit: "10*3/uL".into(),
                low: Some(150.0),
                high: Some(410.0),
                loinc: Some("777-3".into()),
            }),
        }],
        procedures: vec!["Intravenous fluids, 500 ml normal saline".into()],
        advice: Some("Plenty of fluids; come back at once if bleeding starts".into()),
        follow_up: Some(chrono::Utc::now().date_naive() + chrono::Duration::days(3)),
        notes: Some("No warning signs today".into()),
        attachments: vec![Attachment {
            title: "Referral letter".into(),
            content_type: "application/pdf".into(),
            data_base64: pdf(),
        }],
        ..Default::default()
    }
}

fn short_visit(patient_id: Uuid, complaint: &str) -> NewConsultation {
    NewConsultation {
        patient_id,
        doctor: "Dr. Meera Iyer".into(),
        complaints: vec![complaint.into()],
        ..Default::default()
    }
}

/// Asha, her ABHA verified by scan and pull, with these visits linked as care contexts.
async fn linked(rig: &Rig, visits: impl Fn(Uuid) -> Vec<NewConsultation>) -> (Uuid, Vec<Uuid>) {
    let patient = rig.desk.scan_and_pull(&asha_qr()).unwrap().id;
    let mut ids = Vec::new();
    for v in visits(patient) {
        ids.push(rig.desk.record_consultation(v).unwrap().id);
    }
    eventually("the visits linked to the ABHA", || {
        rig.desk
            .consultations(patient)
            .unwrap()
            .iter()
            .all(|c| c.link == "linked")
    })
    .await;
    (patient, ids)
}

/// The peer HIU asks; returns the transaction's report once the desk has answered (and, when it
/// sends, notified).
async fn ask(rig: &Rig, body: Value) -> (String, String, Value) {
    let op = rig.sandbox.operator();
    let mut body = body;
    body["abha"] = json!(ASHA);
    body["hipId"] = json!(DEFAULT_SERVICE_ID);
    let (consent, txn) = op.peer_hiu_request(body).await.unwrap();
    let report = wait_report(rig, &txn, |r| {
        !r["hipNotified"].is_null() && !r["hipAnswered"].is_null()
    })
    .await;
    (consent, txn, report)
}

async fn wait_report(rig: &Rig, txn: &str, done: impl Fn(&Value) -> bool) -> Value {
    let op = rig.sandbox.operator();
    for _ in 0..600 {
        let r = op.peer_hiu_report(txn).await.unwrap();
        if done(&r) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the peer HIU's report for {txn} never settled: {}",
        op.peer_hiu_report(txn).await.unwrap()
    );
}

fn audited(rig: &Rig, action: &str, needle: &str) -> bool {
    rig.desk
        .audit_log()
        .unwrap()
        .iter()
        .any(|a| a.action == action && a.detail.contains(needle))
}

fn composition_codes(report: &Value) -> BTreeSet<String> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["compositionType"].as_str().map(String::from))
        .collect()
}

/// Asserts the desk refused and not one byte of data reached the peer HIU.
fn refused(report: &Value, code: &str) {
    assert!(
        report["hipAnswered"]
            .as_str()
            .is_some_and(|a| a.contains(code)),
        "on-request should carry {code}: {report}"
    );
    assert_eq!(report["pagesReceived"], json!([]), "{report}");
    assert_eq!(report["entries"], json!([]), "{report}");
    assert_eq!(report["hipNotified"], "FAILED", "{report}");
}

#[tokio::test]
async fn every_document_type_the_consent_allows_reaches_the_peer_hiu_and_validates() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let (_, visits) = linked(&rig, |p| vec![full_visit(p), short_visit(p, "Cough")]).await;
    // The patient is told by SMS where the records are (after v3's context notifications,
    // which go first in the outbox).
    let mut phone = Value::Null;
    for _ in 0..200 {
        phone = rig
            .sandbox
            .operator()
            .get(&format!("/phone?to={ASHA_MOBILE}"))
            .await
            .unwrap();
        if phone.to_string().contains("has records for you") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(phone.to_string().contains("has records for you"), "{phone}");

    let all = json!([
        "OPConsultation",
        "Prescription",
        "DiagnosticReport",
        "WellnessRecord",
        "HealthDocumentRecord"
    ]);
    let (_, txn, report) = ask(&rig, json!({"hiTypes": all})).await;
    assert_eq!(report["hipAnswered"], "ACKNOWLEDGED", "{report}");
    assert_eq!(report["hipNotified"], "TRANSFERRED", "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    // Five documents of the full visit, one of the short one; one entry per page.
    assert_eq!(report["entries"].as_array().unwrap().len(), 6, "{report}");
    assert_eq!(report["pagesReceived"].as_array().unwrap().len(), 6);
    assert_eq!(report["pageCount"], 6);
    let codes = composition_codes(&report);
    for code in [
        "371530004",
        "440545006",
        "721981007",
        "419891008",
        "Wellness Record",
    ] {
        assert!(codes.contains(code), "{code} missing from {codes:?}");
    }
    let statuses = report["hipStatuses"].as_array().unwrap();
    assert_eq!(statuses.len(), 2, "{report}");
    for v in &visits {
        assert!(
            statuses
                .iter()
                .any(|s| s[0] == v.to_string() && s[1] == "DELIVERED"),
            "{v} not delivered: {report}"
        );
    }
    let bundles = rig.sandbox.operator().peer_hiu_bundles(&txn).await.unwrap();
    assert_eq!(bundles.len(), 6);
    testkit::fhir_validate(&bundles).unwrap_or_else(|e| panic!("the FHIR validator refused: {e}"));
    assert!(audited(
        &rig,
        "data request accepted",
        "6 document(s) of 2 care context(s)"
    ));
    assert!(audited(&rig, "records sent", "6 document(s)"));
    assert_eq!(rig.desk.transfers().unwrap()[0].state, "done");
    rig.stop().await;
}

#[tokio::test]
async fn only_the_granted_types_and_care_contexts_go() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let (_, visits) = linked(&rig, |p| vec![full_visit(p), full_visit(p)]).await;
    let (_, _, report) = ask(
        &rig,
        json!({"hiTypes": ["Prescription"], "careContexts": [visits[1].to_string()]}),
    )
    .await;
    assert_eq!(report["hipNotified"], "TRANSFERRED", "{report}");
    let entries = report["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{report}");
    assert_eq!(entries[0]["careContextReference"], visits[1].to_string());
    assert_eq!(entries[0]["compositionType"], "440545006");
    rig.stop().await;
}

#[tokio::test]
async fn a_revoked_consent_sends_nothing() {
    let rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    let (consent, _, first) = ask(&rig, json!({})).await;
    assert_eq!(first["hipNotified"], "TRANSFERRED");
    rig.admin(&format!("/admin/consents/{consent}/revoke"), json!({}))
        .await;
    eventually("the revocation reaches the desk", || {
        rig.desk
            .hip_consents()
            .unwrap()
            .iter()
            .any(|c| c.status == "revoked")
    })
    .await;
    let (_, _, report) = ask(&rig, json!({"consentId": consent})).await;
    refused(&report, "HIP-2002");
    assert!(audited(&rig, "data request refused", "revoked"));
    rig.stop().await;
}

#[tokio::test]
async fn an_expired_consent_sends_nothing() {
    let rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    let op = rig.sandbox.operator();
    let (consent, _) = op
        .peer_hiu_request(json!({"abha": ASHA, "hipId": DEFAULT_SERVICE_ID, "eraseAfterS": 1}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, _, report) = ask(&rig, json!({"consentId": consent})).await;
    refused(&report, "HIP-2003");
    assert!(audited(&rig, "data request refused", "expired"));
    rig.stop().await;
}

#[tokio::test]
async fn a_request_outside_the_consents_dates_sends_nothing() {
    let rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    let now = chrono::Utc::now();
    let (_, _, report) = ask(
        &rig,
        json!({
            "consentRange": {"from": now - chrono::Duration::days(30), "to": now},
            "requestRange": {"from": now - chrono::Duration::days(400), "to": now},
        }),
    )
    .await;
    refused(&report, "HIP-2004");
    assert!(audited(&rig, "data request refused", "outside the consent"));
    rig.stop().await;
}

#[tokio::test]
async fn a_hi_type_not_granted_is_not_sent() {
    let rig = Rig::start(SandboxConfig::default()).await;
    // The visits have no discharge summary: the only type granted.
    linked(&rig, |p| vec![full_visit(p)]).await;
    let (_, _, report) = ask(&rig, json!({"hiTypes": ["DischargeSummary"]})).await;
    refused(&report, "HIP-2005");
    assert!(audited(&rig, "data request refused", "DischargeSummary"));
    rig.stop().await;
}

#[tokio::test]
async fn a_care_context_not_the_patients_is_not_sent() {
    let rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    // Another patient's visit, named in Asha's consent.
    let ravi = rig
        .desk
        .register_patient(NewPatient {
            name: "Ravi Shankar".into(),
            gender: "M".into(),
            year_of_birth: Some(1985),
            ..Default::default()
        })
        .unwrap();
    let other = rig
        .desk
        .record_consultation(short_visit(ravi.id, "Back pain"))
        .unwrap();
    let (_, _, report) = ask(&rig, json!({"careContexts": [other.id.to_string()]})).await;
    refused(&report, "HIP-2005");
    assert!(audited(
        &rig,
        "data request refused",
        "not a care context linked to"
    ));
    rig.stop().await;
}

#[tokio::test]
async fn an_unknown_consent_sends_nothing() {
    let rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    let (_, _, report) = ask(&rig, json!({"unknownConsent": true})).await;
    refused(&report, "HIP-2001");
    assert!(audited(
        &rig,
        "data request refused",
        "No such consent artefact"
    ));
    rig.stop().await;
}

#[tokio::test]
async fn the_consents_frequency_is_enforced() {
    let rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    let once = json!({"unit": "HOUR", "value": 1, "repeats": 1});
    let (consent, _, first) = ask(&rig, json!({"frequency": once})).await;
    assert_eq!(first["hipNotified"], "TRANSFERRED");
    let (_, _, report) = ask(&rig, json!({"consentId": consent})).await;
    refused(&report, "HIP-2007");
    assert!(audited(&rig, "data request refused", "used up"));
    rig.stop().await;
}

#[tokio::test]
async fn a_request_waiting_at_the_relay_is_answered_on_return_or_refused_with_the_reason() {
    let mut rig = Rig::start(SandboxConfig::default()).await;
    linked(&rig, |p| vec![short_visit(p, "Fever")]).await;
    rig.running.take().unwrap().stop().await;
    let op = rig.sandbox.operator();
    // One request the consent still allows on return, one whose consent expires meanwhile.
    let (_, fine) = op
        .peer_hiu_request(json!({"abha": ASHA, "hipId": DEFAULT_SERVICE_ID}))
        .await
        .unwrap();
    let (_, stale) = op
        .peer_hiu_request(json!({"abha": ASHA, "hipId": DEFAULT_SERVICE_ID, "eraseAfterS": 1}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(op.peer_hiu_report(&fine).await.unwrap()["hipAnswered"].is_null());
    rig.running = Some(rig.desk.start(Some(relay_client_config(
        &rig.relay.as_ref().unwrap().url(),
        &rig.key,
    ))));
    let settled = |r: &Value| !r["hipNotified"].is_null() && !r["hipAnswered"].is_null();
    let fine = wait_report(&rig, &fine, settled).await;
    assert_eq!(fine["hipNotified"], "TRANSFERRED", "{fine}");
    let stale = wait_report(&rig, &stale, settled).await;
    refused(&stale, "HIP-2003");
    assert!(
        stale["hipStatuses"][0][2]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{stale}"
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_consultation_is_checked_before_it_is_saved() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let p = rig.desk.scan_and_pull(&asha_qr()).unwrap().id;
    let bad = |v: NewConsultation| match rig.desk.record_consultation(v) {
        Err(DeskError::Input(m)) => m,
        other => panic!("accepted: {other:?}"),
    };
    assert!(bad(NewConsultation {
        doctor: String::new(),
        ..short_visit(p, "x")
    })
    .contains("doctor"));
    assert!(bad(NewConsultation {
        complaints: vec![],
        ..short_visit(p, "x")
    })
    .contains("empty"));
    let mut v = short_visit(p, "x");
    v.vitals.spo2_percent = Some(140.0);
    assert!(bad(v).contains("oxygen saturation"));
    let mut v = short_visit(p, "x");
    v.attachments.push(Attachment {
        title: "Scan".into(),
        content_type: "application/pdf".into(),
        data_base64: base64::engine::general_purpose::STANDARD.encode(b"MZ\x90\x00 not a pdf"),
    });
    assert!(bad(v).contains("not a PDF"));
    let mut v = short_visit(p, "x");
    v.date = Some(chrono::Utc::now().date_naive() + chrono::Duration::days(2));
    assert!(bad(v).contains("future"));
    assert!(
        rig.desk.consultations(p).unwrap().is_empty(),
        "nothing saved"
    );
    rig.stop().await;
}

/// The answer the desk gave to the sandbox's request `id` (waits up to 10 s).
async fn answer(rig: &Rig, id: &str) -> Value {
    let op = rig.sandbox.operator();
    for _ in 0..400 {
        if let Ok(v) = op.get(&format!("/admin/answers/{id}")).await {
            if v.get("resp").is_some() {
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the desk never answered {id}")
}

/// The patient asks to link `visit` from the PHR app; returns the desk's on-init and the OTP
/// texted to her.
async fn link_init(rig: &Rig, patient: Uuid, visit: Uuid) -> (Value, String) {
    let op = rig.sandbox.operator();
    let started = rig
        .admin(
            "/admin/discover",
            json!({"abha": ASHA, "hipId": DEFAULT_SERVICE_ID}),
        )
        .await;
    answer(rig, started["requestId"].as_str().unwrap()).await;
    let before = op.sms_count(ASHA_MOBILE).await.unwrap();
    let r = op
        .post(
            "/admin/link/init",
            json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "transactionId": started["transactionId"],
                   "patientReference": patient.to_string(), "careContexts": [visit.to_string()]}),
        )
        .await
        .unwrap();
    let on_init = answer(rig, r["requestId"].as_str().unwrap()).await;
    let otp = op.sms_otp(ASHA_MOBILE, before).await.unwrap();
    (on_init, otp)
}

/// The patient types `otp` in the PHR app; returns the desk's on-confirm.
async fn link_confirm(rig: &Rig, link_ref: &str, otp: &str) -> Value {
    let r = rig
        .sandbox
        .operator()
        .post(
            "/admin/link/confirm",
            json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "linkRefNumber": link_ref, "token": otp}),
        )
        .await
        .unwrap();
    answer(rig, r["requestId"].as_str().unwrap()).await
}

fn error_message(v: &Value) -> String {
    v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn walk_in(rig: &Rig) -> Uuid {
    rig.desk
        .register_patient(NewPatient {
            name: "Asha Kumari".into(),
            gender: "F".into(),
            year_of_birth: Some(1991),
            mobile: Some(ASHA_MOBILE.into()),
            ..Default::default()
        })
        .unwrap()
        .id
}

/// A walk-in registered at the desk (no ABHA here) finds and links her visits from her PHR app.
#[tokio::test]
async fn patient_initiated_discovery_and_linking_with_a_real_otp() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let asha = walk_in(&rig);
    let visit = rig
        .desk
        .record_consultation(short_visit(asha, "Fever"))
        .unwrap();
    assert_eq!(visit.link, "no_abha");
    let started = rig
        .admin(
            "/admin/discover",
            json!({"abha": ASHA, "hipId": DEFAULT_SERVICE_ID}),
        )
        .await;
    let found = answer(&rig, started["requestId"].as_str().unwrap()).await;
    assert_eq!(
        found["patient"]["referenceNumber"],
        asha.to_string(),
        "{found}"
    );
    assert_eq!(
        found["patient"]["careContexts"][0]["referenceNumber"],
        visit.id.to_string()
    );
    assert!(audited(&rig, "discovery: patient found", "Asha Kumari"));

    // A link request must follow a discovery in its transaction, for what it offered, to the ABHA
    // that asked.
    let forged = rig
        .admin(
            "/admin/link/init",
            json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "transactionId": Uuid::new_v4(),
                   "patientReference": asha.to_string(), "careContexts": [visit.id.to_string()]}),
        )
        .await;
    let refused = answer(&rig, forged["requestId"].as_str().unwrap()).await;
    assert!(error_message(&refused).contains("discovery"), "{refused}");
    let other = rig
        .admin(
            "/admin/link/init",
            json!({"abha": "someone.else@sbx", "hipId": DEFAULT_SERVICE_ID, "transactionId": started["transactionId"],
                   "patientReference": asha.to_string(), "careContexts": [visit.id.to_string()]}),
        )
        .await;
    let refused = answer(&rig, other["requestId"].as_str().unwrap()).await;
    assert!(error_message(&refused).contains("discovery"), "{refused}");
    assert_eq!(
        rig.sandbox.operator().sms_count(ASHA_MOBILE).await.unwrap(),
        0,
        "no OTP texted"
    );

    let (on_init, otp) = link_init(&rig, asha, visit.id).await;
    let link_ref = on_init["link"]["referenceNumber"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        on_init["link"]["meta"]["communicationHint"], "XXXXXX3210",
        "{on_init}"
    );
    // The OTP is kept nowhere in clear: not in the outbox, not in the audit log.
    assert!(!format!("{:?}", rig.desk.outbox().unwrap()).contains(&otp));
    assert!(!format!("{:?}", rig.desk.audit_log().unwrap()).contains(&otp));

    // A wrong OTP is refused and counted; the right one links.
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let refused = link_confirm(&rig, &link_ref, wrong).await;
    assert!(
        error_message(&refused).contains("Wrong OTP; 4 tries left"),
        "{refused}"
    );
    let linked = link_confirm(&rig, &link_ref, &otp).await;
    assert_eq!(
        linked["patient"]["careContexts"][0]["referenceNumber"],
        visit.id.to_string(),
        "{linked}"
    );
    assert_eq!(rig.desk.consultations(asha).unwrap()[0].link, "linked");
    assert_eq!(
        rig.desk
            .patient(asha)
            .unwrap()
            .unwrap()
            .abha_address
            .as_deref(),
        Some("asha.kumari@sbx")
    );
    // Used once: the same OTP again is refused.
    let again = link_confirm(&rig, &link_ref, &otp).await;
    assert!(error_message(&again).contains("closed"), "{again}");

    // The records can now be asked for.
    let (_, _, report) = ask(&rig, json!({})).await;
    assert_eq!(report["hipNotified"], "TRANSFERRED", "{report}");
    rig.stop().await;
}

#[tokio::test]
async fn too_many_wrong_link_otps_close_the_request() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let asha = walk_in(&rig);
    let visit = rig
        .desk
        .record_consultation(short_visit(asha, "Fever"))
        .unwrap();
    let (on_init, otp) = link_init(&rig, asha, visit.id).await;
    let link_ref = on_init["link"]["referenceNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let r = link_confirm(&rig, &link_ref, wrong).await;
        if left > 0 {
            assert!(
                error_message(&r).contains(&format!("{left} tries left")),
                "{r}"
            );
        } else {
            assert!(error_message(&r).contains("Too many wrong OTPs"), "{r}");
        }
    }
    let late = link_confirm(&rig, &link_ref, &otp).await;
    assert!(error_message(&late).contains("closed"), "{late}");
    assert_eq!(rig.desk.consultations(asha).unwrap()[0].link, "no_abha");

    // New requests do not add guesses up: each closes the one before, and after five in an
    // hour no more OTPs are texted.
    let (first, _) = link_init(&rig, asha, visit.id).await;
    let (_, second_otp) = link_init(&rig, asha, visit.id).await;
    let old = link_confirm(
        &rig,
        first["link"]["referenceNumber"].as_str().unwrap(),
        &second_otp,
    )
    .await;
    assert!(error_message(&old).contains("closed"), "{old}");
    for _ in 0..2 {
        link_init(&rig, asha, visit.id).await;
    }
    let texted = rig.sandbox.operator().sms_count(ASHA_MOBILE).await.unwrap();
    let started = rig
        .admin(
            "/admin/discover",
            json!({"abha": ASHA, "hipId": DEFAULT_SERVICE_ID}),
        )
        .await;
    answer(&rig, started["requestId"].as_str().unwrap()).await;
    let sixth = rig
        .admin(
            "/admin/link/init",
            json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "transactionId": started["transactionId"],
                   "patientReference": asha.to_string(), "careContexts": [visit.id.to_string()]}),
        )
        .await;
    let refused = answer(&rig, sixth["requestId"].as_str().unwrap()).await;
    assert!(
        error_message(&refused).contains("Too many link requests"),
        "{refused}"
    );
    assert_eq!(
        rig.sandbox.operator().sms_count(ASHA_MOBILE).await.unwrap(),
        texted
    );
    rig.stop().await;
}

#[tokio::test]
async fn an_expired_link_otp_is_refused() {
    let sandbox = abdm_sandbox::Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(20),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let rig = Rig::with_sandbox(sandbox, |c| desk_core::DeskConfig {
        link_otp_valid_for: Duration::from_millis(300),
        ..c
    })
    .await;
    let asha = walk_in(&rig);
    let visit = rig
        .desk
        .record_consultation(short_visit(asha, "Fever"))
        .unwrap();
    let (on_init, otp) = link_init(&rig, asha, visit.id).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let link_ref = on_init["link"]["referenceNumber"].as_str().unwrap();
    let r = link_confirm(&rig, link_ref, &otp).await;
    assert!(error_message(&r).contains("expired"), "{r}");
    assert!(audited(&rig, "link OTP refused", "expired"));
    assert_eq!(rig.desk.consultations(asha).unwrap()[0].link, "no_abha");
    rig.stop().await;
}
