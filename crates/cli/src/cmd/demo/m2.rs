//! The demo's M2 part: the clinic as Health Information Provider.

use std::time::Duration;

use abdm_sandbox::{Operator, DEFAULT_SERVICE_ID};
use base64::Engine;
use desk_core::hip::{NewConsultation, NewPrescriptionLine};
use desk_core::{Desk, NewPatient};
use desk_store::{Attachment, Diagnosis, Investigation, LabValue, Vitals};
use serde_json::{json, Value};

use super::{step, until};
use crate::{Failure, Outcome};

fn ravis_visit(patient_id: uuid::Uuid) -> NewConsultation {
    NewConsultation {
        patient_id,
        doctor: "Dr. Meera Iyer".into(),
        doctor_hpr_id: Some("71-4325-7890-1234".into()),
        complaints: vec!["Fever for three days".into()],
        vitals: Vitals {
            systolic_mmhg: Some(128.0),
            diastolic_mmhg: Some(84.0),
            pulse_per_min: Some(92.0),
            temperature_c: Some(38.4),
            spo2_percent: Some(97.0),
            ..Vitals::default()
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
        advice: Some("Plenty of fluids; come back at once if bleeding starts".into()),
        notes: Some("No warning signs today".into()),
        attachments: vec![Attachment {
            title: "Referral letter".into(),
            content_type: "application/pdf".into(),
            data_base64: base64::engine::general_purpose::STANDARD
                .encode(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"),
        }],
        ..Default::default()
    }
}

/// Waits for the peer HIU's report of `txn` to settle.
async fn report(operator: &Operator, txn: &str) -> Result<Value, Failure> {
    for _ in 0..400 {
        let r = operator.peer_hiu_report(txn).await?;
        if !r["hipNotified"].is_null() && !r["hipAnswered"].is_null() {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Failure(format!(
        "the desk did not answer data request {txn}"
    )))
}

/// The desk's answer to one of the sandbox's requests (as the patient's PHR app sees it).
async fn answer(operator: &Operator, started: &Value) -> Result<Value, Failure> {
    let id = started["requestId"].as_str().unwrap_or_default();
    for _ in 0..400 {
        if let Ok(v) = operator.get(&format!("/admin/answers/{id}")).await {
            if v.get("resp").is_some() {
                return Ok(v);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Failure(format!("the desk did not answer {id}")))
}

pub(super) async fn run(desk: &Desk, operator: &Operator) -> Outcome {
    step(
        7,
        "Dr. Iyer records Ravi's visit: it becomes a care context linked to his ABHA",
    );
    let ravi = desk
        .find_patients("Ravi Shankar")?
        .into_iter()
        .next()
        .ok_or_else(|| Failure("Ravi is not registered".into()))?;
    let visit = desk.record_consultation(ravis_visit(ravi.id))?;
    println!(
        "    saved \"{}\" at once; linking it with ABDM…",
        visit.label
    );
    until("the visit linked", || {
        desk.consultations(ravi.id)
            .is_ok_and(|all| all.iter().all(|c| c.link == "linked"))
    })
    .await?;
    println!(
        "    ABDM linked it to {}",
        ravi.abha_address.clone().unwrap_or_default()
    );

    step(
        8,
        "Another hospital asks for Ravi's records under his consent",
    );
    let (consent, txn) = operator
        .peer_hiu_request(
            json!({"abha": "ravi.shankar@sbx", "hipId": DEFAULT_SERVICE_ID,
            // Every type NHA's v0.5 consent schema names (wellness and document records came later).
            "hiTypes": ["OPConsultation", "Prescription", "DiagnosticReport", "DischargeSummary"]}),
        )
        .await?;
    let r = report(operator, &txn).await?;
    println!(
        "    consent {consent}: the desk answered {}",
        r["hipAnswered"]
    );
    for e in r["entries"].as_array().cloned().unwrap_or_default() {
        println!(
            "    the hospital decrypted a {} document ({} bytes, checksum {})",
            e["compositionType"].as_str().unwrap_or("?"),
            e["bytes"],
            if e["checksumOk"] == true {
                "ok"
            } else {
                "WRONG"
            }
        );
    }
    println!(
        "    ABDM was told: {} ({} care context(s) delivered); problems seen by the hospital: {}",
        r["hipNotified"].as_str().unwrap_or("?"),
        r["hipStatuses"].as_array().map_or(0, Vec::len),
        r["errors"].as_array().map_or(0, Vec::len)
    );
    if r["hipNotified"] != "TRANSFERRED" || r["errors"] != json!([]) {
        return Err(Failure(format!("the transfer went wrong: {r}")));
    }

    step(
        9,
        "Ravi revokes the consent; a later request under it gets nothing",
    );
    operator
        .post(&format!("/admin/consents/{consent}/revoke"), json!({}))
        .await?;
    until("the revocation to reach the desk", || {
        desk.hip_consents()
            .is_ok_and(|all| all.iter().any(|c| c.status == "revoked"))
    })
    .await?;
    let (_, txn) = operator
        .peer_hiu_request(
            json!({"abha": "ravi.shankar@sbx", "hipId": DEFAULT_SERVICE_ID, "consentId": consent}),
        )
        .await?;
    let r = report(operator, &txn).await?;
    println!(
        "    refused: {}; pages sent: {}",
        r["hipAnswered"].as_str().unwrap_or("?"),
        r["pagesReceived"].as_array().map_or(0, Vec::len)
    );

    step(
        10,
        "Fatima, a walk-in, finds her visit from her PHR app and links it with an OTP",
    );
    let fatima = desk.register_patient(NewPatient {
        name: "Fatima Begum".into(),
        gender: "F".into(),
        year_of_birth: Some(1965),
        mobile: Some("9900112233".into()),
        ..Default::default()
    })?;
    let visit = desk.record_consultation(NewConsultation {
        patient_id: fatima.id,
        doctor: "Dr. Meera Iyer".into(),
        complaints: vec!["Knee pain".into()],
        advice: Some("Gentle exercise; weight control".into()),
        ..Default::default()
    })?;
    let started = operator
        .post(
            "/admin/discover",
            json!({"abha": "fatima.begum@sbx", "hipId": DEFAULT_SERVICE_ID}),
        )
        .await?;
    let found = answer(operator, &started).await?;
    println!(
        "    discovery matched {} by {}; offered: {}",
        found["patient"]["display"],
        found["patient"]["matchedBy"],
        found["patient"]["careContexts"][0]["display"]
    );
    let before = operator.sms_count("9900112233").await?;
    let init = operator
        .post(
            "/admin/link/init",
            json!({"abha": "fatima.begum@sbx", "hipId": DEFAULT_SERVICE_ID,
                "transactionId": started["transactionId"], "patientReference": fatima.id.to_string(),
                "careContexts": [visit.id.to_string()]}),
        )
        .await?;
    let on_init = answer(operator, &init).await?;
    let otp = operator.sms_otp("9900112233", before).await?;
    println!(
        "    the clinic texted an OTP to {}",
        on_init["link"]["meta"]["communicationHint"]
    );
    let confirm = operator
        .post(
            "/admin/link/confirm",
            json!({"abha": "fatima.begum@sbx", "hipId": DEFAULT_SERVICE_ID,
                "linkRefNumber": on_init["link"]["referenceNumber"], "token": otp}),
        )
        .await?;
    let linked = answer(operator, &confirm).await?;
    println!(
        "    linked: {}",
        linked["patient"]["careContexts"][0]["display"]
    );

    step(11, "The audit log of M2");
    for row in desk.audit_log()?.iter().filter(|a| {
        [
            "consultation",
            "care contexts",
            "consent",
            "data request",
            "records",
            "discovery",
            "link",
        ]
        .iter()
        .any(|w| a.action.contains(w))
    }) {
        println!(
            "    {}  {}: {}",
            row.at.format("%H:%M:%S"),
            row.action,
            row.detail
        );
    }
    Ok(())
}
