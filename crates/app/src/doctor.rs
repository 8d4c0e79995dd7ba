//! The doctor's desk: today's consultation (saved at once, linked as a care context by the outbox
//! when the patient has an ABHA), the patient's chart, and the printed prescription.

use std::path::PathBuf;

use desk_core::hip::NewConsultation;
use desk_core::view::{AbhaView, AuditRow, ConsultationView, PatientView};
use desk_print::{Prescription, RxLine};
use serde::Serialize;
use uuid::Uuid;

use crate::staff::StaffView;
use crate::{Session, UiError};

/// What the chart shows of a patient.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chart {
    /// Demographics.
    pub patient: PatientView,
    /// Their ABHA as linked here.
    pub abha: Option<AbhaView>,
    /// Visits here, newest first, each with its link state.
    pub consultations: Vec<ConsultationView>,
    /// What this clinic did for the patient with ABDM: links, consents, records sent (audit log).
    pub history: Vec<AuditRow>,
}

fn not_found(what: &str) -> UiError {
    UiError::new("not-found", format!("{what} is not recorded here"))
}

/// A vital sign in words with its unit, when measured.
fn vital(name: &str, value: Option<f64>, unit: &str) -> Option<String> {
    value.map(|v| format!("{name} {v}{unit}"))
}

impl Session {
    /// Saves today's consultation, signed by the signed-in doctor.
    pub fn record_consultation(
        &self,
        doctor: &StaffView,
        mut input: NewConsultation,
    ) -> Result<ConsultationView, UiError> {
        // Signed by whoever is signed in, never by a name the screen sends.
        input.doctor = doctor.name.clone();
        Ok(self.desk().record_consultation(input)?)
    }

    /// A patient's chart.
    pub fn chart(&self, patient_id: Uuid) -> Result<Chart, UiError> {
        let desk = self.desk();
        let patient = desk
            .patient(patient_id)?
            .ok_or_else(|| not_found("this patient"))?;
        let abha = match &patient.abha_number {
            Some(n) => desk.abha(n)?,
            None => None,
        };
        let history = desk
            .audit_log()?
            .into_iter()
            .rev()
            .filter(|a| a.patient_id == Some(patient_id))
            .take(100)
            .collect();
        Ok(Chart {
            consultations: desk.consultations(patient_id)?,
            patient,
            abha,
            history,
        })
    }

    /// Prints a consultation's prescription (A4 PDF in `prints/`).
    pub fn print_prescription(
        &self,
        patient_id: Uuid,
        consultation_id: Uuid,
    ) -> Result<PathBuf, UiError> {
        let desk = self.desk();
        let patient = desk
            .patient(patient_id)?
            .ok_or_else(|| not_found("this patient"))?;
        let c = desk
            .consultations(patient_id)?
            .into_iter()
            .find(|c| c.id == consultation_id)
            .ok_or_else(|| not_found("this consultation"))?;
        let v = &c.vitals;
        let bp = match (v.systolic_mmhg, v.diastolic_mmhg) {
            (Some(s), Some(d)) => Some(format!("BP {s}/{d} mmHg")),
            _ => None,
        };
        let vitals = [
            bp,
            vital("Pulse", v.pulse_per_min, "/min"),
            vital("SpO2", v.spo2_percent, " %"),
            vital("Temp", v.temperature_c, " °C"),
            vital("RR", v.respiratory_rate, "/min"),
            vital("Weight", v.weight_kg, " kg"),
            vital("Height", v.height_cm, " cm"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let gender = match patient.gender.as_str() {
            "M" => "Male",
            "F" => "Female",
            "O" => "Other",
            _ => "Gender not stated",
        };
        let details = match patient.date_of_birth.get(..4) {
            Some(year) => format!("{gender}, born {year}"),
            None => gender.to_string(),
        };
        let pdf = desk_print::prescription(&Prescription {
            clinic_name: self.settings().clinic_name,
            doctor: c.doctor.clone(),
            doctor_hpr_id: None,
            date: c.date,
            patient_name: patient.name.clone(),
            patient_details: details,
            abha_number: patient.abha_number.clone(),
            abha_address: patient.abha_address.clone(),
            vitals,
            complaints: c.complaints.clone(),
            diagnoses: c.diagnoses.iter().map(|d| d.text.clone()).collect(),
            lines: c
                .prescription
                .iter()
                .map(|l| RxLine {
                    drug: l.drug.clone(),
                    dose: l.dose.clone(),
                    frequency: l.frequency.clone(),
                    duration: l.duration.clone(),
                    instructions: l.instructions.clone(),
                })
                .collect(),
            investigations: c.investigations.iter().map(|i| i.name.clone()).collect(),
            advice: c.advice.clone(),
            follow_up: c.follow_up,
        })?;
        self.save_print(
            &format!("prescription-{}-{}.pdf", c.date, &c.id.to_string()[..8]),
            &pdf,
        )
    }
}
