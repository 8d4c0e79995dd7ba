//! The doctor's desk without a window, on a real embedded session: a consultation saved at once,
//! linked to the patient's ABHA as a care context, shown on the chart, and printed.

use std::sync::Arc;
use std::time::Duration;

use desk_app::reception::WalkIn;
use desk_app::staff::StaffView;
use desk_app::Session;
use desk_core::hip::{NewConsultation, NewPrescriptionLine};
use desk_store::{Diagnosis, MemorySecrets, Role, Vitals};

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn doctor() -> StaffView {
    StaffView {
        name: "Dr. Meera Iyer".into(),
        role: Role::Doctor,
        training: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consultation_is_saved_linked_to_the_abha_on_the_chart_and_printed() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), Arc::new(MemorySecrets::default()))
        .await
        .unwrap();
    let row = session
        .register_walk_in(WalkIn {
            name: "Ravi Shankar".into(),
            gender: "M".into(),
            year_of_birth: Some(1978),
            abha: Some("91-5555-0000-1234".into()),
            ..Default::default()
        })
        .unwrap();
    let patient = row.patient.id;
    let saved = session
        .record_consultation(
            &doctor(),
            NewConsultation {
                patient_id: patient,
                complaints: vec!["Cough for a week".into()],
                vitals: Vitals {
                    systolic_mmhg: Some(128.0),
                    diastolic_mmhg: Some(82.0),
                    pulse_per_min: Some(90.0),
                    spo2_percent: Some(97.0),
                    ..Vitals::default()
                },
                diagnoses: vec![Diagnosis {
                    text: "Acute bronchitis".into(),
                    code: None,
                }],
                prescription: vec![NewPrescriptionLine {
                    drug: "Azithromycin 500 mg tablet".into(),
                    dose: "1 tablet".into(),
                    frequency: "once a day".into(),
                    duration: "3 days".into(),
                    instructions: None,
                }],
                ..NewConsultation::default()
            },
        )
        .unwrap();
    assert_eq!(
        saved.doctor, "Dr. Meera Iyer",
        "the signed-in doctor signs it"
    );
    // Linked as a care context by the outbox, and the chart shows it.
    until("the visit linked to the ABHA", || {
        session.chart(patient).unwrap().consultations[0].link == "linked"
    })
    .await;
    let chart = session.chart(patient).unwrap();
    assert_eq!(chart.patient.name, "Ravi Shankar");
    assert_eq!(chart.consultations.len(), 1);
    assert!(chart
        .history
        .iter()
        .any(|a| a.action == "consultation recorded"));

    let pdf = session.print_prescription(patient, saved.id).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args([pdf.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext (scripts/setup installs poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "Sandbox Clinic",
        "Dr. Meera Iyer",
        "Ravi Shankar",
        "ABHA 91-5555-0000-1234",
        "BP 128/82 mmHg",
        "Acute bronchitis",
        "1. Azithromycin 500 mg tablet",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    // Another patient's consultation id prints nothing.
    let other = session
        .register_walk_in(WalkIn {
            name: "Meena Das".into(),
            gender: "F".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        session
            .print_prescription(other.patient.id, saved.id)
            .unwrap_err()
            .code,
        "not-found"
    );
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn records_asked_for_arrive_open_in_the_viewer_and_are_archived_when_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), Arc::new(MemorySecrets::default()))
        .await
        .unwrap();
    // Asha's card was scanned at reception: her ABHA number and address are known here.
    let patient = session
        .desk()
        .scan_and_pull(&abdm::qr::AbhaQr {
            abha_number: Some("91-1234-5678-9012".into()),
            abha_address: Some("asha.kumari@sbx".into()),
            name: "Asha Kumari".into(),
            gender: "F".into(),
            date_of_birth: abdm::qr::DateOfBirth {
                year: Some(1990),
                month: Some(4),
                day: Some(12),
                text: None,
            },
            ..Default::default()
        })
        .unwrap()
        .id;
    let asked = session.ask_for_records(&doctor(), patient).unwrap();
    assert_eq!(asked.hi_types.len(), 8, "every kind of record by default");
    assert!(
        asked.to - asked.from >= chrono::TimeDelta::days(729),
        "two years back"
    );
    until("the records to arrive", || {
        session
            .patient_records(patient)
            .unwrap()
            .received
            .first()
            .is_some_and(|c| !c.records.is_empty())
    })
    .await;
    let records = session.patient_records(patient).unwrap();
    assert_eq!(records.requests[0].status, "granted");
    let consent = records.received[0].clone();
    let record = session
        .open_record(&doctor(), consent.records[0].id)
        .unwrap();
    assert!(!record.document.sections.is_empty());
    let viewed = session.desk().audit_log().unwrap();
    assert!(
        viewed.iter().any(|a| a.action == "received record viewed"
            && a.staff.as_deref() == Some("Dr. Meera Iyer")),
        "the viewing names the doctor"
    );
    let printed = session
        .print_record(&doctor(), consent.records[0].id)
        .unwrap();
    let text = std::process::Command::new("pdftotext")
        .args([printed.as_os_str(), "-".as_ref()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&consent.records[0].title)
            || text.contains(record.document.title.as_deref().unwrap_or("?")),
        "{text}"
    );
    assert!(text.contains("printed by Dr. Meera Iyer"), "{text}");
    let exported = session
        .export_record(&doctor(), consent.records[0].id)
        .unwrap();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");

    // The patient revokes the consent at ABDM: the records go, the list says why.
    abdm_sandbox::Operator::new(session.sandbox_url().unwrap())
        .post(
            &format!("/admin/consents/{}/revoke", consent.consent_id),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    until("the consent archived", || {
        session.patient_records(patient).unwrap().received[0]
            .archived
            .as_deref()
            .is_some_and(|a| a.contains("revoked"))
    })
    .await;
    assert!(session.patient_records(patient).unwrap().received[0]
        .records
        .is_empty());
    assert!(session
        .open_record(&doctor(), consent.records[0].id)
        .is_err());
    // Nothing decrypted from the consent stays on disk: the export and the printout are gone.
    assert!(
        !exported.exists(),
        "the exported bundle outlived its consent"
    );
    assert!(!printed.exists(), "the printed record outlived its consent");
    session.close().await;
}
