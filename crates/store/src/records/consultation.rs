use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{Id, Record};

/// A consultation: the clinic's own record of one visit, and the care context ABDM knows it by
/// (reference = its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consultation {
    /// Its id; also the care-context reference.
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The day of the visit.
    pub date: NaiveDate,
    /// When it was saved.
    pub recorded_at: DateTime<Utc>,
    /// Who saw the patient.
    pub doctor: Doctor,
    /// Presenting complaints, as the doctor wrote them.
    pub complaints: Vec<String>,
    /// Vital signs measured.
    pub vitals: Vitals,
    /// Diagnoses.
    pub diagnoses: Vec<Diagnosis>,
    /// The prescription, one line per drug.
    pub prescription: Vec<PrescriptionLine>,
    /// Investigations ordered, with results when they came.
    pub investigations: Vec<Investigation>,
    /// Procedures performed.
    pub procedures: Vec<String>,
    /// Advice to the patient (the care plan).
    pub advice: Option<String>,
    /// The follow-up visit.
    pub follow_up: Option<NaiveDate>,
    /// The doctor's notes.
    pub notes: Option<String>,
    /// Files (reports, images) attached.
    pub attachments: Vec<Attachment>,
    /// Whether it is linked to the patient's ABHA as a care context.
    pub link: LinkState,
}

/// A doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Doctor {
    /// Full name.
    pub name: String,
    /// Health Professional Registry id, when known.
    pub hpr_id: Option<String>,
}

/// Vital signs; any left `None` were not measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Vitals {
    /// Systolic blood pressure, mmHg.
    pub systolic_mmhg: Option<f64>,
    /// Diastolic blood pressure, mmHg.
    pub diastolic_mmhg: Option<f64>,
    /// Pulse, beats per minute.
    pub pulse_per_min: Option<f64>,
    /// Oxygen saturation, percent.
    pub spo2_percent: Option<f64>,
    /// Temperature, degrees Celsius.
    pub temperature_c: Option<f64>,
    /// Breaths per minute.
    pub respiratory_rate: Option<f64>,
    /// Weight, kg.
    pub weight_kg: Option<f64>,
    /// Height, cm.
    pub height_cm: Option<f64>,
}

impl Vitals {
    /// Whether anything was measured.
    pub fn any(&self) -> bool {
        [
            self.systolic_mmhg,
            self.diastolic_mmhg,
            self.pulse_per_min,
            self.spo2_percent,
            self.temperature_c,
            self.respiratory_rate,
            self.weight_kg,
            self.height_cm,
        ]
        .iter()
        .any(Option::is_some)
    }
}

/// A diagnosis: free text, optionally coded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// As the doctor wrote it.
    pub text: String,
    /// A SNOMED CT code, when chosen.
    pub code: Option<String>,
}

/// One line of a prescription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrescriptionLine {
    /// The drug and strength ("Paracetamol 500 mg").
    pub drug: String,
    /// How much each time ("1 tablet").
    pub dose: String,
    /// How often ("three times a day").
    pub frequency: String,
    /// For how long ("5 days").
    pub duration: String,
    /// Anything else ("after food").
    pub instructions: Option<String>,
}

impl PrescriptionLine {
    /// The line as one sentence ("1 tablet, three times a day, for 5 days; after food").
    pub fn dosage(&self) -> String {
        let mut text = format!("{}, {}, for {}", self.dose, self.frequency, self.duration);
        if let Some(i) = self
            .instructions
            .as_deref()
            .filter(|i| !i.trim().is_empty())
        {
            text.push_str("; ");
            text.push_str(i);
        }
        text
    }
}

/// An investigation ordered, and its result when it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Investigation {
    /// What ("Haemoglobin").
    pub name: String,
    /// The result.
    pub result: Option<LabValue>,
}

/// A measured result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabValue {
    /// The value.
    pub value: f64,
    /// Its unit (UCUM where possible: `g/dL`, `mg/dL`).
    pub unit: String,
    /// Lower end of the reference range.
    pub low: Option<f64>,
    /// Upper end of the reference range.
    pub high: Option<f64>,
    /// A LOINC code, when known.
    pub loinc: Option<String>,
}

/// A file attached to a consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// What it is ("ECG", "X-ray chest").
    pub title: String,
    /// `application/pdf`, `image/jpeg`, `image/png`.
    pub content_type: String,
    /// The file, base64.
    pub data_base64: String,
}

/// Where a consultation stands as a care context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkState {
    /// The patient has no ABHA here: nothing to link to.
    #[default]
    NoAbha,
    /// Waiting to be linked (for a linking token, or the network).
    Queued,
    /// Sent to ABDM; its answer has not come.
    Linking,
    /// ABDM linked it.
    Linked {
        /// When.
        at: DateTime<Utc>,
    },
    /// ABDM refused.
    Failed {
        /// Why, in plain words.
        reason: String,
    },
}

impl Record for Consultation {
    const KIND: u8 = kind::CONSULTATION;
    fn id(&self) -> Id {
        Id::uuid(self.id)
    }
}
