//! The consultation form: what the doctor types (or a JSON file gives `deskctl consult`), checked
//! in plain words before anything is saved — plausible vitals, complete prescription lines, SNOMED
//! codes that look like codes, attachments that really are the PDF or image they claim to be.

use base64::Engine;
use chrono::{NaiveDate, Utc};
use desk_store::{
    Attachment, Consultation, Diagnosis, Doctor, Investigation, LinkState, Patient,
    PrescriptionLine, Vitals,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DeskError, Result};

/// The largest file a consultation may carry (a scanned report or a phone photo).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// A consultation as the doctor types it (or as a JSON file gives it to `deskctl consult`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewConsultation {
    /// The patient.
    pub patient_id: Uuid,
    /// The day of the visit (today when left out).
    pub date: Option<NaiveDate>,
    /// The doctor's name.
    pub doctor: String,
    /// The doctor's HPR id, when known.
    pub doctor_hpr_id: Option<String>,
    /// Presenting complaints.
    pub complaints: Vec<String>,
    /// Vital signs measured.
    pub vitals: Vitals,
    /// Diagnoses (free text, optional SNOMED code).
    pub diagnoses: Vec<Diagnosis>,
    /// Prescription lines.
    pub prescription: Vec<NewPrescriptionLine>,
    /// Investigations ordered, with results when they came.
    pub investigations: Vec<Investigation>,
    /// Procedures performed.
    pub procedures: Vec<String>,
    /// Advice (the care plan).
    pub advice: Option<String>,
    /// The follow-up visit.
    pub follow_up: Option<NaiveDate>,
    /// The doctor's notes.
    pub notes: Option<String>,
    /// Files: PDF, JPEG or PNG, base64.
    pub attachments: Vec<Attachment>,
}

/// A prescription line as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewPrescriptionLine {
    /// Drug and strength.
    pub drug: String,
    /// How much each time.
    pub dose: String,
    /// How often.
    pub frequency: String,
    /// For how long.
    pub duration: String,
    /// Anything else.
    pub instructions: Option<String>,
}

fn clean(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn check_vital(name: &str, value: Option<f64>, low: f64, high: f64, unit: &str) -> Result<()> {
    match value {
        Some(v) if !(v.is_finite() && (low..=high).contains(&v)) => Err(DeskError::Input(format!(
            "the {name} of {v} {unit} cannot be right: it must be between {low} and {high} {unit}"
        ))),
        _ => Ok(()),
    }
}

fn check_vitals(v: &Vitals) -> Result<()> {
    check_vital("systolic pressure", v.systolic_mmhg, 40.0, 300.0, "mmHg")?;
    check_vital("diastolic pressure", v.diastolic_mmhg, 20.0, 200.0, "mmHg")?;
    if v.systolic_mmhg.is_some() != v.diastolic_mmhg.is_some() {
        return Err(DeskError::Input(
            "blood pressure needs both numbers (systolic and diastolic)".into(),
        ));
    }
    check_vital("pulse", v.pulse_per_min, 20.0, 250.0, "per minute")?;
    check_vital("oxygen saturation", v.spo2_percent, 50.0, 100.0, "%")?;
    check_vital("temperature", v.temperature_c, 30.0, 45.0, "°C")?;
    check_vital(
        "respiratory rate",
        v.respiratory_rate,
        4.0,
        80.0,
        "per minute",
    )?;
    check_vital("weight", v.weight_kg, 0.3, 400.0, "kg")?;
    check_vital("height", v.height_cm, 20.0, 250.0, "cm")
}

/// The file's real type, from its first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

fn check_attachment(a: &Attachment) -> Result<Attachment> {
    let title = a.title.trim();
    if title.is_empty() {
        return Err(DeskError::Input("every attached file needs a title".into()));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(a.data_base64.trim())
        .map_err(|_| DeskError::Input(format!("the file \"{title}\" is not valid base64")))?;
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(DeskError::Input(format!(
            "the file \"{title}\" is {} MB; files up to {} MB can be attached",
            bytes.len() / (1024 * 1024),
            MAX_ATTACHMENT_BYTES / (1024 * 1024)
        )));
    }
    let Some(kind) = sniff(&bytes) else {
        return Err(DeskError::Input(format!(
            "the file \"{title}\" is not a PDF, JPEG or PNG"
        )));
    };
    if !a.content_type.is_empty() && a.content_type != kind {
        return Err(DeskError::Input(format!(
            "the file \"{title}\" says it is {} but it is {kind}",
            a.content_type
        )));
    }
    Ok(Attachment {
        title: title.into(),
        content_type: kind.into(),
        data_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

/// Checks a typed consultation and turns it into the record (not yet saved).
pub(crate) fn build(input: NewConsultation, patient: &Patient) -> Result<Consultation> {
    // The clinic's own day (a visit at 01:00 IST is today there, yesterday in UTC).
    let today = chrono::Local::now().date_naive();
    let date = input.date.unwrap_or(today);
    if date > today {
        return Err(DeskError::Input(
            "the visit date cannot be in the future".into(),
        ));
    }
    if date < NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(date) {
        return Err(DeskError::Input("the visit date is too far back".into()));
    }
    let doctor = input.doctor.trim();
    if doctor.is_empty() {
        return Err(DeskError::Input("the doctor's name is required".into()));
    }
    check_vitals(&input.vitals)?;
    let mut prescription = Vec::new();
    for (n, l) in input.prescription.iter().enumerate() {
        let line = PrescriptionLine {
            drug: l.drug.trim().into(),
            dose: l.dose.trim().into(),
            frequency: l.frequency.trim().into(),
            duration: l.duration.trim().into(),
            instructions: text(&l.instructions),
        };
        if [&line.drug, &line.dose, &line.frequency, &line.duration]
            .iter()
            .any(|f| f.is_empty())
        {
            return Err(DeskError::Input(format!(
                "prescription line {} needs the drug, the dose, how often and for how long",
                n + 1
            )));
        }
        prescription.push(line);
    }
    let diagnoses: Vec<Diagnosis> = input
        .diagnoses
        .iter()
        .filter(|d| !d.text.trim().is_empty())
        .map(|d| Diagnosis {
            text: d.text.trim().into(),
            code: text(&d.code),
        })
        .collect();
    if let Some(bad) = diagnoses
        .iter()
        .filter_map(|d| d.code.as_deref())
        .find(|c| !(6..=18).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DeskError::Input(format!(
            "\"{bad}\" is not a SNOMED CT code (6 to 18 digits)"
        )));
    }
    let mut investigations = Vec::new();
    for i in &input.investigations {
        let name = i.name.trim();
        if name.is_empty() {
            continue;
        }
        if let Some(r) = &i.result {
            if !r.value.is_finite() || r.unit.trim().is_empty() {
                return Err(DeskError::Input(format!(
                    "the result of {name} needs a number and its unit"
                )));
            }
        }
        investigations.push(Investigation {
            name: name.into(),
            result: i.result.clone(),
        });
    }
    let attachments = input
        .attachments
        .iter()
        .map(check_attachment)
        .collect::<Result<Vec<_>>>()?;
    if input.follow_up.is_some_and(|f| f < date) {
        return Err(DeskError::Input(
            "the follow-up date is before the visit".into(),
        ));
    }
    let c = Consultation {
        id: Uuid::new_v4(),
        patient_id: patient.id,
        date,
        recorded_at: Utc::now(),
        doctor: Doctor {
            name: doctor.into(),
            hpr_id: text(&input.doctor_hpr_id),
        },
        complaints: clean(&input.complaints),
        vitals: input.vitals,
        diagnoses,
        prescription,
        investigations,
        procedures: clean(&input.procedures),
        advice: text(&input.advice),
        follow_up: input.follow_up,
        notes: text(&input.notes),
        attachments,
        link: if patient.abha_number.is_some() || patient.abha_address.is_some() {
            LinkState::Queued
        } else {
            LinkState::NoAbha
        },
    };
    let empty = c.complaints.is_empty()
        && !c.vitals.any()
        && c.diagnoses.is_empty()
        && c.prescription.is_empty()
        && c.investigations.is_empty()
        && c.procedures.is_empty()
        && c.advice.is_none()
        && c.notes.is_none()
        && c.attachments.is_empty();
    if empty {
        return Err(DeskError::Input(
            "the consultation is empty: record at least a complaint, a finding, a diagnosis, a \
             prescription or a note"
                .into(),
        ));
    }
    Ok(c)
}
