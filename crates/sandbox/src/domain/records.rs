//! The peer HIP's health records: FHIR R4 document bundles from a directory, or a small built-in
//! demo set (one bundle per HI type, NRCeS-profiled, `urn:uuid` references).

use std::path::Path;

use abdm::v0_5::HiType;
use serde_json::{json, Value};
use uuid::Uuid;

/// A bundle to serve, with what it is.
#[derive(Debug, Clone)]
pub struct Record {
    pub hi_type: Option<HiType>,
    pub bundle: Value,
}

/// Loads `*.json` bundles from a directory (their HI type read from the Composition's type code).
pub fn load_dir(dir: &Path) -> std::io::Result<Vec<Record>> {
    let mut records = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let text = std::fs::read_to_string(&path)?;
        let bundle: Value = serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        records.push(Record {
            hi_type: hi_type_of(&bundle),
            bundle,
        });
    }
    Ok(records)
}

/// The HI type of a document bundle, from its Composition's SNOMED type code.
pub fn hi_type_of(bundle: &Value) -> Option<HiType> {
    let composition = bundle["entry"]
        .as_array()?
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Composition")?;
    let code = composition["type"]["coding"][0]["code"]
        .as_str()
        .unwrap_or_default();
    let text = composition["type"]["text"]
        .as_str()
        .or(composition["title"].as_str())
        .unwrap_or_default()
        .to_lowercase();
    Some(match code {
        "371530004" => HiType::OPConsultation,
        "440545006" => HiType::Prescription,
        "721981007" => HiType::DiagnosticReport,
        "373942005" => HiType::DischargeSummary,
        "41000179103" => HiType::ImmunizationRecord,
        "419891008" => HiType::HealthDocumentRecord,
        _ if text.contains("wellness") => HiType::WellnessRecord,
        _ if text.contains("invoice") => HiType::Invoice,
        _ => return None,
    })
}

const PROFILE_BASE: &str = "https://nrces.in/ndhm/fhir/r4/StructureDefinition";

fn composition_code(hi_type: HiType) -> (&'static str, &'static str, &'static str) {
    match hi_type {
        HiType::OPConsultation => (
            "371530004",
            "Clinical consultation report",
            "OPConsultRecord",
        ),
        HiType::Prescription => ("440545006", "Prescription record", "PrescriptionRecord"),
        HiType::DiagnosticReport => (
            "721981007",
            "Diagnostic studies report",
            "DiagnosticReportRecord",
        ),
        HiType::DischargeSummary => ("373942005", "Discharge summary", "DischargeSummaryRecord"),
        HiType::ImmunizationRecord => ("41000179103", "Immunization record", "ImmunizationRecord"),
        HiType::HealthDocumentRecord => ("419891008", "Record artifact", "HealthDocumentRecord"),
        HiType::WellnessRecord => ("", "Wellness Record", "WellnessRecord"),
        HiType::Invoice => ("", "Invoice", "InvoiceRecord"),
    }
}

/// A small but complete document bundle for one care context: Composition first, Patient,
/// Practitioner, Organization, and one clinical resource in a section.
pub fn demo_bundle(
    hi_type: HiType,
    patient_name: &str,
    abha_number: &str,
    care_context: &str,
    date: &str,
) -> Value {
    let id = || Uuid::new_v4().to_string();
    let (patient, practitioner, organization, composition, clinical) =
        (id(), id(), id(), id(), id());
    let (code, display, profile) = composition_code(hi_type);
    let urn = |i: &str| format!("urn:uuid:{i}");
    let clinical_resource = match hi_type {
        HiType::Prescription => json!({"resourceType": "MedicationRequest", "id": clinical,
            "meta": {"profile": [format!("{PROFILE_BASE}/MedicationRequest")]},
            "status": "active", "intent": "order", "authoredOn": date,
            "medicationCodeableConcept": {"text": "Paracetamol 500 mg tablet"},
            "subject": {"reference": urn(&patient)}, "requester": {"reference": urn(&practitioner)},
            "dosageInstruction": [{"text": "1 tablet three times a day after food for 3 days"}]}),
        HiType::DiagnosticReport => json!({"resourceType": "Observation", "id": clinical,
            "meta": {"profile": [format!("{PROFILE_BASE}/Observation")]}, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}], "text": "Haemoglobin"},
            "subject": {"reference": urn(&patient)}, "effectiveDateTime": date,
            "valueQuantity": {"value": 12.6, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}}),
        _ => json!({"resourceType": "Condition", "id": clinical,
            "meta": {"profile": [format!("{PROFILE_BASE}/Condition")]},
            "code": {"text": "Acute viral fever"}, "subject": {"reference": urn(&patient)}, "recordedDate": date}),
    };
    let mut composition_type = json!({"text": display});
    if !code.is_empty() {
        composition_type = json!({"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}], "text": display});
    }
    json!({
        "resourceType": "Bundle", "id": Uuid::new_v4().to_string(),
        "meta": {"lastUpdated": format!("{date}T10:00:00.000+05:30"), "profile": [format!("{PROFILE_BASE}/DocumentBundle")]},
        "identifier": {"system": "http://sandbox.abdm.local/bundle", "value": care_context},
        "type": "document", "timestamp": format!("{date}T10:00:00.000+05:30"),
        "entry": [
            {"fullUrl": urn(&composition), "resource": {"resourceType": "Composition", "id": composition,
                "meta": {"profile": [format!("{PROFILE_BASE}/{profile}")]}, "status": "final",
                "type": composition_type, "title": display, "date": format!("{date}T10:00:00+05:30"),
                "subject": {"reference": urn(&patient), "display": patient_name},
                "author": [{"reference": urn(&practitioner)}], "custodian": {"reference": urn(&organization)},
                "section": [{"title": display, "entry": [{"reference": urn(&clinical)}]}]}},
            {"fullUrl": urn(&patient), "resource": {"resourceType": "Patient", "id": patient,
                "meta": {"profile": [format!("{PROFILE_BASE}/Patient")]},
                "identifier": [{"system": "https://healthid.ndhm.gov.in", "value": abha_number}],
                "name": [{"text": patient_name}]}},
            {"fullUrl": urn(&practitioner), "resource": {"resourceType": "Practitioner", "id": practitioner,
                "meta": {"profile": [format!("{PROFILE_BASE}/Practitioner")]}, "name": [{"text": "Dr. Kavita Rao"}]}},
            {"fullUrl": urn(&organization), "resource": {"resourceType": "Organization", "id": organization,
                "meta": {"profile": [format!("{PROFILE_BASE}/Organization")]}, "name": "Sandbox Peer Hospital"}},
            {"fullUrl": urn(&clinical), "resource": clinical_resource},
        ]
    })
}
