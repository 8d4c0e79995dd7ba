//! A consultation as FHIR documents (`abdm-fhir` writes them): which documents a visit yields and
//! the clinic record each is written from.

use abdm_fhir::write::{
    self as fhir, ClinicRecord, Coded, DocumentType, FileAttachment, LabResult, MedicationOrder,
};
use desk_store::{Consultation, Gender, HealthFacility, Patient};

/// The documents a consultation yields, by the HI type a consent names.
pub(crate) fn documents(c: &Consultation) -> Vec<DocumentType> {
    let mut out = vec![DocumentType::OPConsultRecord];
    if !c.prescription.is_empty() {
        out.push(DocumentType::PrescriptionRecord);
    }
    if c.investigations.iter().any(|i| i.result.is_some()) {
        out.push(DocumentType::DiagnosticReportRecord);
    }
    if c.vitals.any() {
        out.push(DocumentType::WellnessRecord);
    }
    if !c.attachments.is_empty() {
        out.push(DocumentType::HealthDocumentRecord);
    }
    out
}

/// The clinic record `abdm-fhir` writes a consultation's documents from.
pub(crate) fn clinic_record(
    c: &Consultation,
    patient: &Patient,
    facility: Option<&HealthFacility>,
    service_id: &str,
) -> ClinicRecord {
    let v = &c.vitals;
    let birth_date = match (
        patient.year_of_birth,
        patient.month_of_birth,
        patient.day_of_birth,
    ) {
        (Some(y), Some(m), Some(d)) => Some(format!("{y:04}-{m:02}-{d:02}")),
        (Some(y), Some(m), None) => Some(format!("{y:04}-{m:02}")),
        (Some(y), None, _) => Some(format!("{y:04}")),
        _ => None,
    };
    ClinicRecord {
        facility: fhir::Facility {
            hfr_id: facility
                .map(|f| f.hf_id.as_str())
                .filter(|id| !id.is_empty())
                .unwrap_or(service_id)
                .into(),
            name: facility
                .map(|f| f.name.as_str())
                .filter(|n| !n.trim().is_empty())
                .unwrap_or(service_id)
                .into(),
        },
        doctor: fhir::Doctor {
            hpr_id: c.doctor.hpr_id.clone().unwrap_or_default(),
            name: c.doctor.name.clone(),
        },
        patient: fhir::PatientInfo {
            abha_number: patient.abha_number.clone().unwrap_or_default(),
            name: patient.name.clone(),
            gender: match patient.gender {
                Gender::M => "male",
                Gender::F => "female",
                Gender::O => "other",
                Gender::U => "unknown",
            }
            .into(),
            birth_date,
            mobile: patient.mobile.clone(),
        },
        visit: fhir::Visit {
            date: c.date.format("%Y-%m-%d").to_string(),
            complaints: c.complaints.clone(),
            vitals: fhir::Vitals {
                pulse_per_min: v.pulse_per_min,
                systolic_mmhg: v.systolic_mmhg,
                diastolic_mmhg: v.diastolic_mmhg,
                temperature_c: v.temperature_c,
                spo2_percent: v.spo2_percent,
                respiratory_rate: v.respiratory_rate,
                weight_kg: v.weight_kg,
                height_cm: v.height_cm,
            },
            diagnoses: c
                .diagnoses
                .iter()
                .map(|d| Coded {
                    text: d.text.clone(),
                    snomed: d.code.clone(),
                })
                .collect(),
            medications: c
                .prescription
                .iter()
                .map(|l| MedicationOrder {
                    name: l.drug.clone(),
                    dosage: l.dosage(),
                })
                .collect(),
            investigations: c.investigations.iter().map(|i| i.name.clone()).collect(),
            procedures: c.procedures.clone(),
            lab_results: c
                .investigations
                .iter()
                .filter_map(|i| {
                    i.result.as_ref().map(|r| LabResult {
                        name: i.name.clone(),
                        loinc: r.loinc.clone(),
                        value: r.value,
                        unit: r.unit.clone(),
                        low: r.low,
                        high: r.high,
                    })
                })
                .collect(),
            documents: c
                .attachments
                .iter()
                .map(|a| FileAttachment {
                    title: a.title.clone(),
                    content_type: a.content_type.clone(),
                    data: a.data_base64.clone(),
                })
                .collect(),
            follow_up: c.follow_up.map(|d| d.format("%Y-%m-%d").to_string()),
            advice: c.advice.clone(),
            notes: c.notes.clone(),
            ..Default::default()
        },
    }
}

/// A seed for the document's ids: stable per consultation, so a re-sent page carries the same
/// document.
pub(crate) fn seed(c: &Consultation) -> u64 {
    let b = c.id.as_bytes();
    u64::from_le_bytes(b[..8].try_into().expect("16 bytes"))
        ^ u64::from_le_bytes(b[8..].try_into().expect("16 bytes"))
}
