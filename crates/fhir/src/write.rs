//! Clinic records → NRCeS FHIR R4 document bundles (the clinic as HIP).
//!
//! Every bundle is a `document` with the Composition first, `urn:uuid:` fullUrls and references,
//! the NRCeS `meta.profile` on every resource, SNOMED/LOINC codes where the profile fixes them and
//! `code.text` for free text. Identifiers come from a seeded generator, so a given record and seed
//! always produce the same bytes (stable snapshots).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const PROFILE: &str = "https://nrces.in/ndhm/fhir/r4/StructureDefinition";
const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

/// The eight NRCeS document types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocumentType {
    /// Outpatient consultation note (hiType `OPConsultation`).
    OPConsultRecord,
    /// Prescription (hiType `Prescription`).
    PrescriptionRecord,
    /// Lab report with its results (hiType `DiagnosticReport`).
    DiagnosticReportRecord,
    /// Inpatient discharge summary (hiType `DischargeSummary`).
    DischargeSummaryRecord,
    /// Vaccinations given (hiType `ImmunizationRecord`).
    ImmunizationRecord,
    /// Attached files such as letters or scanned reports (hiType `HealthDocumentRecord`).
    HealthDocumentRecord,
    /// Vital signs (hiType `WellnessRecord`).
    WellnessRecord,
    /// The bill for the visit (hiType `Invoice`).
    InvoiceRecord,
}

impl DocumentType {
    /// Every document type, in declaration order.
    pub const ALL: [DocumentType; 8] = [
        Self::OPConsultRecord,
        Self::PrescriptionRecord,
        Self::DiagnosticReportRecord,
        Self::DischargeSummaryRecord,
        Self::ImmunizationRecord,
        Self::HealthDocumentRecord,
        Self::WellnessRecord,
        Self::InvoiceRecord,
    ];

    /// The consent `hiType` this document answers.
    pub fn hi_type(self) -> &'static str {
        match self {
            Self::OPConsultRecord => "OPConsultation",
            Self::PrescriptionRecord => "Prescription",
            Self::DiagnosticReportRecord => "DiagnosticReport",
            Self::DischargeSummaryRecord => "DischargeSummary",
            Self::ImmunizationRecord => "ImmunizationRecord",
            Self::HealthDocumentRecord => "HealthDocumentRecord",
            Self::WellnessRecord => "WellnessRecord",
            Self::InvoiceRecord => "Invoice",
        }
    }

    /// The document type that answers a consent `hiType`; None for any other.
    pub fn from_hi_type(hi_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.hi_type() == hi_type)
    }

    /// The Composition's type: SNOMED code (when the profile fixes one) and display.
    pub fn composition_type(self) -> (Option<&'static str>, &'static str) {
        match self {
            Self::OPConsultRecord => (Some("371530004"), "Clinical consultation report"),
            Self::PrescriptionRecord => (Some("440545006"), "Prescription record"),
            Self::DiagnosticReportRecord => (Some("721981007"), "Diagnostic studies report"),
            Self::DischargeSummaryRecord => (Some("373942005"), "Discharge summary"),
            Self::ImmunizationRecord => (Some("41000179103"), "Immunization record"),
            Self::HealthDocumentRecord => (Some("419891008"), "Record artifact"),
            Self::WellnessRecord => (None, "Wellness Record"),
            Self::InvoiceRecord => (None, "Invoice Record"),
        }
    }

    fn profile(self) -> String {
        format!("{PROFILE}/{self:?}")
    }
}

/// What a small clinic records, in its own terms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClinicRecord {
    /// The clinic, written as the custodian Organization.
    pub facility: Facility,
    /// The treating doctor, written as the author Practitioner.
    pub doctor: Doctor,
    /// The patient the documents are about.
    pub patient: PatientInfo,
    /// What happened at the visit.
    pub visit: Visit,
}

/// The clinic as registered in the Health Facility Registry (HFR).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facility {
    /// HFR facility id, e.g. `IN2710000001`.
    pub hfr_id: String,
    /// The clinic's name as it appears on documents.
    pub name: String,
}

/// The doctor as registered in the Healthcare Professionals Registry (HPR).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Doctor {
    /// HPR id, e.g. `71-4325-7890-1234`; empty when not known (no identifier is written).
    pub hpr_id: String,
    /// Name as printed on documents, e.g. `Dr. Meera Iyer`.
    pub name: String,
}

/// The patient's identity and demographics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatientInfo {
    /// ABHA number in its hyphenated form, e.g. `91-1234-5678-9012`; empty writes no identifier.
    pub abha_number: String,
    /// Full name, written as the Patient's `name.text`.
    pub name: String,
    /// `male`, `female`, `other` or `unknown`.
    pub gender: String,
    /// `YYYY-MM-DD`; None when not known.
    pub birth_date: Option<String>,
    /// Phone number, written as a `telecom` entry; None leaves it out.
    pub mobile: Option<String>,
}

/// One visit's clinical content; each document type writes only the parts it uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Visit {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Chief complaints in free text, written as uncoded Conditions.
    pub complaints: Vec<String>,
    /// Vital signs taken at the visit.
    pub vitals: Vitals,
    /// Diagnoses, written as Conditions of category `encounter-diagnosis`.
    pub diagnoses: Vec<Coded>,
    /// Allergies in free text, written as AllergyIntolerance resources.
    pub allergies: Vec<String>,
    /// Medicines prescribed, written as MedicationRequests.
    pub medications: Vec<MedicationOrder>,
    /// Tests advised, in free text, written as ServiceRequests.
    pub investigations: Vec<String>,
    /// Procedures performed, in free text.
    pub procedures: Vec<String>,
    /// Lab results, written as Observations under one DiagnosticReport.
    pub lab_results: Vec<LabResult>,
    /// The lab report's conclusion; None writes `See results`.
    pub lab_conclusion: Option<String>,
    /// Files to attach, written as DocumentReferences.
    pub documents: Vec<FileAttachment>,
    /// Vaccine doses given.
    pub immunizations: Vec<Vaccination>,
    /// Billed items, for the invoice.
    pub charges: Vec<Charge>,
    /// Follow-up date, `YYYY-MM-DD`, written as an Appointment.
    pub follow_up: Option<String>,
    /// Advice to the patient, written as a CarePlan (after the OP note's slices; in the
    /// discharge summary's Care plan section).
    pub advice: Option<String>,
    /// The doctor's notes, written as an Observation under "Other observations" in the OP note.
    #[serde(default)]
    pub notes: Option<String>,
    /// For a discharge summary.
    pub admitted_on: Option<String>,
}

/// Vital signs; any left None are not written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vitals {
    /// Heart rate, beats per minute.
    pub pulse_per_min: Option<f64>,
    /// Systolic blood pressure, mmHg; written only together with diastolic.
    pub systolic_mmhg: Option<f64>,
    /// Diastolic blood pressure, mmHg; written only together with systolic.
    pub diastolic_mmhg: Option<f64>,
    /// Body temperature, degrees Celsius.
    pub temperature_c: Option<f64>,
    /// Oxygen saturation, percent.
    pub spo2_percent: Option<f64>,
    /// Breaths per minute.
    pub respiratory_rate: Option<f64>,
    /// Body weight, kilograms.
    pub weight_kg: Option<f64>,
    /// Body height, centimetres.
    pub height_cm: Option<f64>,
}

/// A diagnosis or finding: free text, and a SNOMED code when the doctor picked one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coded {
    /// The diagnosis or finding in words.
    pub text: String,
    /// SNOMED CT concept id; None for free text only.
    pub snomed: Option<String>,
}

/// One prescribed medicine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MedicationOrder {
    /// Medicine with strength and form, e.g. `Paracetamol 650 mg tablet`.
    pub name: String,
    /// How to take it, in free text.
    pub dosage: String,
}

/// One numeric lab result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabResult {
    /// Test name, e.g. `Hemoglobin`.
    pub name: String,
    /// LOINC code; None writes the test by name only.
    pub loinc: Option<String>,
    /// The measured value, in `unit`.
    pub value: f64,
    /// UCUM unit, e.g. `g/dL`; written as both unit and code.
    pub unit: String,
    /// Low end of the reference range; the range is written only when `high` is set too.
    pub low: Option<f64>,
    /// High end of the reference range, in `unit`.
    pub high: Option<f64>,
}

/// A file to attach to the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileAttachment {
    /// The file's title, also used as the DocumentReference's description.
    pub title: String,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// base64.
    pub data: String,
}

/// One vaccine dose given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vaccination {
    /// Vaccine name in free text.
    pub vaccine: String,
    /// The vial's lot number, when recorded.
    pub lot_number: Option<String>,
    /// Dose number in the series, from 1.
    pub dose: u32,
}

/// One billed line on the invoice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Charge {
    /// What was charged for.
    pub item: String,
    /// Number of units.
    pub quantity: f64,
    /// Amount for the whole line, in rupees.
    pub amount_inr: f64,
}

/// Seeded ids: the same record and seed give the same bundle.
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> String {
        let mut x = || {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        };
        let (a, b) = (x(), x());
        let mut n = (u128::from(a) << 64) | u128::from(b);
        // A version-4 UUID: version nibble 4, variant bits 10.
        n = (n & !(0xf << 76)) | (0x4 << 76);
        n = (n & !(0x3 << 62)) | (0x2 << 62);
        let h = format!("{n:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// A section to write: title, SNOMED code (none for title-keyed slices), entry ids, and the entry
/// `type` for profiles whose slicing is closed on it.
type SectionSpec = (
    String,
    Option<&'static str>,
    Vec<String>,
    Option<&'static str>,
);

struct Builder {
    ids: Ids,
    entries: Vec<Value>,
    timestamp: String,
}

fn urn(id: &str) -> String {
    format!("urn:uuid:{id}")
}

fn reference(id: &str) -> Value {
    json!({"reference": urn(id)})
}

fn concept(system: &str, code: Option<&str>, text: &str) -> Value {
    match code {
        Some(c) => {
            json!({"coding": [{"system": system, "code": c, "display": text}], "text": text})
        }
        None => json!({"text": text}),
    }
}

impl Builder {
    /// Adds a resource with an id, its profile and fullUrl; returns the id.
    fn add(&mut self, profile: &str, mut resource: Value) -> String {
        let id = self.ids.next();
        resource["id"] = json!(id);
        resource["meta"] = json!({"profile": [format!("{PROFILE}/{profile}")]});
        self.entries
            .push(json!({"fullUrl": urn(&id), "resource": resource}));
        id
    }
}

fn day_time(date: &str) -> String {
    format!("{date}T10:00:00+05:30")
}

/// Builds one document bundle.
pub fn build(kind: DocumentType, record: &ClinicRecord, seed: u64) -> Value {
    let mut b = Builder {
        ids: Ids(seed.max(1)),
        entries: Vec::new(),
        timestamp: day_time(&record.visit.date),
    };
    let v = &record.visit;
    let when = day_time(&v.date);

    let patient = b.add("Patient", {
        let mut p = json!({"resourceType": "Patient",
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number"}]},
                "system": "https://healthid.abdm.gov.in", "value": record.patient.abha_number}],
            "name": [{"text": record.patient.name}], "gender": record.patient.gender});
        // FHIR forbids empty strings: a patient without an ABHA number carries no identifier.
        if record.patient.abha_number.is_empty() {
            p.as_object_mut().map(|o| o.remove("identifier"));
        }
        if let Some(d) = &record.patient.birth_date {
            p["birthDate"] = json!(d);
        }
        if let Some(m) = &record.patient.mobile {
            p["telecom"] = json!([{"system": "phone", "value": m}]);
        }
        p
    });
    let doctor = b.add("Practitioner", {
        let mut d = json!({"resourceType": "Practitioner",
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MD", "display": "Medical License number"}]},
                "system": "https://doctor.abdm.gov.in", "value": record.doctor.hpr_id}],
            "name": [{"text": record.doctor.name}]});
        if record.doctor.hpr_id.is_empty() {
            d.as_object_mut().map(|o| o.remove("identifier"));
        }
        d
    });
    let facility = b.add("Organization", json!({"resourceType": "Organization",
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PRN", "display": "Provider number"}]},
            "system": "https://facility.abdm.gov.in", "value": record.facility.hfr_id}],
        "name": record.facility.name}));
    let inpatient = kind == DocumentType::DischargeSummaryRecord;
    let encounter = b.add("Encounter", json!({"resourceType": "Encounter", "status": "finished",
        "class": if inpatient {
            json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient encounter"})
        } else {
            json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"})
        },
        "subject": reference(&patient),
        "period": if inpatient { json!({"start": day_time(v.admitted_on.as_deref().unwrap_or(&v.date)), "end": when}) } else { json!({"start": when}) }}));

    // Resources per part of the visit, added only when the visit has them.
    let conditions = |b: &mut Builder, items: &[Coded], category: &str| -> Vec<String> {
        items.iter().map(|c| b.add("Condition", json!({"resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active", "display": "Active"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": category}]}],
            "code": concept(SNOMED, c.snomed.as_deref(), &c.text), "subject": reference(&patient), "recordedDate": when}))).collect()
    };
    let complaints: Vec<Coded> = v
        .complaints
        .iter()
        .map(|c| Coded {
            text: c.clone(),
            snomed: None,
        })
        .collect();
    let vitals = |b: &mut Builder| -> Vec<String> {
        let mut out = Vec::new();
        let vs = &v.vitals;
        let mut single = |b: &mut Builder,
                          loinc: &str,
                          name: &str,
                          value: Option<f64>,
                          unit: &str,
                          ucum: &str| {
            if let Some(x) = value {
                out.push(b.add("Observation", json!({"resourceType": "Observation", "status": "final",
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                    "code": concept(LOINC, Some(loinc), name), "subject": reference(&patient), "effectiveDateTime": when,
                    "valueQuantity": {"value": x, "unit": unit, "system": UCUM, "code": ucum}})));
            }
        };
        single(
            b,
            "8867-4",
            "Heart rate",
            vs.pulse_per_min,
            "beats/minute",
            "/min",
        );
        single(
            b,
            "8310-5",
            "Body temperature",
            vs.temperature_c,
            "degree Celsius",
            "Cel",
        );
        single(
            b,
            "2708-6",
            "Oxygen saturation in Arterial blood",
            vs.spo2_percent,
            "%",
            "%",
        );
        single(
            b,
            "9279-1",
            "Respiratory rate",
            vs.respiratory_rate,
            "breaths/minute",
            "/min",
        );
        single(b, "29463-7", "Body weight", vs.weight_kg, "kg", "kg");
        single(b, "8302-2", "Body height", vs.height_cm, "cm", "cm");
        if let (Some(sys), Some(dia)) = (vs.systolic_mmhg, vs.diastolic_mmhg) {
            let q = |x: f64| json!({"value": x, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"});
            out.push(b.add("Observation", json!({"resourceType": "Observation", "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                "code": concept(LOINC, Some("85354-9"), "Blood pressure panel with all children optional"),
                "subject": reference(&patient), "effectiveDateTime": when,
                "component": [
                    {"code": concept(LOINC, Some("8480-6"), "Systolic blood pressure"), "valueQuantity": q(sys)},
                    {"code": concept(LOINC, Some("8462-4"), "Diastolic blood pressure"), "valueQuantity": q(dia)}]})));
        }
        out
    };
    let allergies = |b: &mut Builder| -> Vec<String> {
        v.allergies.iter().map(|a| b.add("AllergyIntolerance", json!({"resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "code": {"text": a}, "patient": reference(&patient), "recordedDate": when}))).collect()
    };
    let medications = |b: &mut Builder| -> Vec<String> {
        v.medications.iter().map(|m| b.add("MedicationRequest", json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
            "medicationCodeableConcept": {"text": m.name}, "subject": reference(&patient), "authoredOn": when,
            "requester": reference(&doctor), "dosageInstruction": [{"text": m.dosage}]}))).collect()
    };
    let service_requests = |b: &mut Builder| -> Vec<String> {
        v.investigations.iter().map(|i| b.add("ServiceRequest", json!({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "code": {"text": i}, "subject": reference(&patient), "requester": reference(&doctor), "authoredOn": when}))).collect()
    };
    let procedures = |b: &mut Builder| -> Vec<String> {
        v.procedures
            .iter()
            .map(|p| {
                b.add(
                    "Procedure",
                    json!({"resourceType": "Procedure", "status": "completed",
            "code": {"text": p}, "subject": reference(&patient), "performedDateTime": when}),
                )
            })
            .collect()
    };
    let documents = |b: &mut Builder| -> Vec<String> {
        v.documents.iter().map(|d| b.add("DocumentReference", json!({"resourceType": "DocumentReference", "status": "current",
            "type": concept(SNOMED, Some("419891008"), "Record artifact"), "subject": reference(&patient), "date": format!("{}T10:00:00+05:30", v.date),
            "description": d.title,
            "content": [{"attachment": {"contentType": d.content_type, "data": d.data, "title": d.title}}]}))).collect()
    };
    let follow_up = |b: &mut Builder| -> Vec<String> {
        v.follow_up.iter().map(|date| b.add("Appointment", json!({"resourceType": "Appointment", "status": "booked",
            "description": "Follow-up visit", "start": day_time(date), "end": format!("{date}T10:15:00+05:30"),
            "participant": [{"actor": reference(&patient), "status": "accepted"}, {"actor": reference(&doctor), "status": "accepted"}]}))).collect()
    };
    let lab_report = |b: &mut Builder| -> Vec<String> {
        if v.lab_results.is_empty() {
            return vec![];
        }
        let results: Vec<String> = v.lab_results.iter().map(|r| {
            let mut o = json!({"resourceType": "Observation", "status": "final",
                "code": concept(LOINC, r.loinc.as_deref(), &r.name), "subject": reference(&patient), "effectiveDateTime": when,
                "valueQuantity": {"value": r.value, "unit": r.unit, "system": UCUM, "code": r.unit}});
            if let (Some(low), Some(high)) = (r.low, r.high) {
                o["referenceRange"] = json!([{"low": {"value": low, "unit": r.unit, "system": UCUM, "code": r.unit},
                    "high": {"value": high, "unit": r.unit, "system": UCUM, "code": r.unit}}]);
            }
            b.add("Observation", o)
        }).collect();
        vec![b.add("DiagnosticReportLab", json!({"resourceType": "DiagnosticReport", "status": "final",
            "category": [concept(SNOMED, Some("708196005"), "Hematology service")],
            "code": concept(LOINC, Some("58410-2"), "CBC panel - Blood by Automated count"),
            "subject": reference(&patient), "effectiveDateTime": when, "issued": format!("{}T12:00:00+05:30", v.date),
            "resultsInterpreter": [reference(&doctor)],
            "result": results.iter().map(|r| reference(r)).collect::<Vec<_>>(),
            "conclusion": v.lab_conclusion.clone().unwrap_or_else(|| "See results".into())}))]
    };

    // Sections: (title, SNOMED code or none, entry ids, entry type for closed slices).
    let mut sections: Vec<SectionSpec> = Vec::new();
    let mut push =
        |title: &str, code: Option<&'static str>, ids: Vec<String>, typed: Option<&'static str>| {
            if !ids.is_empty() {
                sections.push((title.to_string(), code, ids, typed));
            }
        };
    match kind {
        DocumentType::OPConsultRecord => {
            push(
                "Chief complaints",
                Some("422843007"),
                conditions(&mut b, &complaints, "problem-list-item"),
                None,
            );
            push(
                "Physical examination",
                Some("425044008"),
                vitals(&mut b),
                None,
            );
            push("Allergies", Some("722446000"), allergies(&mut b), None);
            push(
                "Medical history",
                Some("371529009"),
                conditions(&mut b, &v.diagnoses, "encounter-diagnosis"),
                None,
            );
            push(
                "Investigation advice",
                Some("721963009"),
                service_requests(&mut b),
                None,
            );
            push("Medications", Some("721912009"), medications(&mut b), None);
            push("Follow up", Some("390906007"), follow_up(&mut b), None);
            push("Procedure", Some("371525003"), procedures(&mut b), None);
            push(
                "Document reference",
                Some("371530004"),
                documents(&mut b),
                None,
            );
            let notes: Vec<String> = v.notes.iter().map(|n| b.add("Observation", json!({"resourceType": "Observation",
                "status": "final", "code": {"text": "Clinical note"}, "subject": reference(&patient),
                "effectiveDateTime": when, "valueString": n}))).collect();
            push("Other observations", Some("404684003"), notes, None);
            // The OP profile has no CarePlan slice; its sections are open at the end.
            let plan: Vec<String> = v
                .advice
                .iter()
                .map(|a| {
                    b.add(
                        "CarePlan",
                        json!({"resourceType": "CarePlan",
                "status": "active", "intent": "plan", "title": "Advice", "description": a,
                "subject": reference(&patient)}),
                    )
                })
                .collect();
            push("Care plan", Some("734163000"), plan, None);
        }
        DocumentType::PrescriptionRecord => push(
            "Prescription record",
            Some("440545006"),
            medications(&mut b),
            Some("MedicationRequest"),
        ),
        DocumentType::DiagnosticReportRecord => push(
            "Diagnostic studies report",
            Some("721981007"),
            lab_report(&mut b),
            Some("DiagnosticReport"),
        ),
        DocumentType::DischargeSummaryRecord => {
            push(
                "Chief complaints",
                Some("422843007"),
                conditions(&mut b, &complaints, "problem-list-item"),
                None,
            );
            push(
                "Physical examination",
                Some("425044008"),
                vitals(&mut b),
                None,
            );
            push("Allergies", Some("722446000"), allergies(&mut b), None);
            push(
                "Medical history",
                Some("1003642006"),
                conditions(&mut b, &v.diagnoses, "encounter-diagnosis"),
                None,
            );
            push(
                "Investigations",
                Some("721981007"),
                lab_report(&mut b),
                None,
            );
            push("Medications", Some("1003606003"), medications(&mut b), None);
            push("Procedures", Some("1003640003"), procedures(&mut b), None);
            let plan: Vec<String> = v
                .advice
                .iter()
                .map(|a| {
                    b.add(
                        "CarePlan",
                        json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
                "title": "Discharge advice", "description": a, "subject": reference(&patient)}),
                    )
                })
                .collect();
            push("Care plan", Some("734163000"), plan, None);
            push(
                "Document reference",
                Some("373942005"),
                documents(&mut b),
                None,
            );
        }
        DocumentType::ImmunizationRecord => {
            let shots: Vec<String> = v.immunizations.iter().map(|i| {
                let mut r = json!({"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": i.vaccine},
                    "patient": reference(&patient), "occurrenceDateTime": when, "primarySource": true,
                    "performer": [{"actor": reference(&doctor)}], "protocolApplied": [{"doseNumberPositiveInt": i.dose}]});
                if let Some(lot) = &i.lot_number {
                    r["lotNumber"] = json!(lot);
                }
                b.add("Immunization", r)
            }).collect();
            push(
                "Immunization record",
                Some("41000179103"),
                shots,
                Some("Immunization"),
            );
        }
        DocumentType::HealthDocumentRecord => push(
            "Record artifact",
            Some("419891008"),
            documents(&mut b),
            Some("DocumentReference"),
        ),
        DocumentType::WellnessRecord => push("Vital Signs", None, vitals(&mut b), None),
        DocumentType::InvoiceRecord => {
            let charges: Vec<(String, &Charge)> = v.charges.iter().map(|c| (b.add("ChargeItem", json!({"resourceType": "ChargeItem", "status": "billed",
                "code": {"text": c.item}, "subject": reference(&patient), "quantity": {"value": c.quantity}})), c)).collect();
            let total: f64 = v.charges.iter().map(|c| c.amount_inr).sum();
            let invoice = (!charges.is_empty()).then(|| b.add("Invoice", json!({"resourceType": "Invoice", "status": "issued",
                "type": {"text": "Consultation and pharmacy"}, "subject": reference(&patient), "date": format!("{}T10:30:00+05:30", v.date),
                "lineItem": charges.iter().map(|(id, c)| json!({"chargeItemReference": reference(id),
                    "priceComponent": [{"type": "base", "amount": {"value": c.amount_inr, "currency": "INR"}}]})).collect::<Vec<_>>(),
                "totalNet": {"value": total, "currency": "INR"}, "totalGross": {"value": total, "currency": "INR"}})));
            push(
                "Invoice details",
                None,
                invoice.into_iter().collect(),
                Some("Invoice"),
            );
        }
    }

    let (code, display) = kind.composition_type();
    let composition_type = match code {
        Some(c) => concept(SNOMED, Some(c), display),
        None => json!({"text": display}),
    };
    let section_values: Vec<Value> = sections
        .iter()
        .map(|(title, code, ids, typed)| {
            let mut s = json!({"title": title, "entry": ids.iter().map(|id| {
            let mut r = reference(id);
            if let Some(t) = typed {
                r["type"] = json!(t);
            }
            r
        }).collect::<Vec<_>>()});
            if let Some(c) = code {
                s["code"] = concept(SNOMED, Some(c), title);
            }
            s
        })
        .collect();
    let composition_id = b.ids.next();
    let bundle_id = b.ids.next();
    let identifier_value = b.ids.next();
    let composition = json!({"fullUrl": urn(&composition_id), "resource": {
        "resourceType": "Composition", "id": composition_id, "meta": {"profile": [kind.profile()]},
        "language": "en-IN", "status": "final", "type": composition_type, "title": display, "date": when,
        "subject": reference(&patient), "encounter": reference(&encounter), "author": [reference(&doctor)],
        "custodian": reference(&facility), "section": section_values}});
    let mut entries = vec![composition];
    entries.extend(b.entries);
    json!({"resourceType": "Bundle", "id": bundle_id,
        "meta": {"versionId": "1", "lastUpdated": b.timestamp, "profile": [format!("{PROFILE}/DocumentBundle")],
            "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V", "display": "very restricted"}]},
        "identifier": {"system": "https://facility.abdm.gov.in/bundle", "value": identifier_value},
        "type": "document", "timestamp": b.timestamp, "entry": entries})
}

/// A realistic visit at a small clinic, with something for every document type.
pub fn demo_record() -> ClinicRecord {
    ClinicRecord {
        facility: Facility { hfr_id: "IN2710000001".into(), name: "Sharma Family Clinic".into() },
        doctor: Doctor { hpr_id: "71-4325-7890-1234".into(), name: "Dr. Meera Iyer".into() },
        patient: PatientInfo {
            abha_number: "91-1234-5678-9012".into(),
            name: "Asha Kumari".into(),
            gender: "female".into(),
            birth_date: Some("1990-04-12".into()),
            mobile: Some("+91-9876543210".into()),
        },
        visit: Visit {
            date: "2026-11-20".into(),
            complaints: vec!["Fever for 3 days".into(), "Body ache".into()],
            vitals: Vitals {
                pulse_per_min: Some(96.0),
                systolic_mmhg: Some(118.0),
                diastolic_mmhg: Some(76.0),
                temperature_c: Some(38.6),
                spo2_percent: Some(97.0),
                respiratory_rate: Some(18.0),
                weight_kg: Some(58.0),
                height_cm: Some(158.0),
            },
            diagnoses: vec![
                Coded { text: "Dengue fever".into(), snomed: Some("38362002".into()) },
                Coded { text: "Mild dehydration, suspected".into(), snomed: None },
            ],
            allergies: vec!["Penicillin".into()],
            medications: vec![
                MedicationOrder { name: "Paracetamol 650 mg tablet".into(), dosage: "1 tablet every 6 hours if fever, for 5 days".into() },
                MedicationOrder { name: "Oral rehydration salts".into(), dosage: "1 sachet in 1 litre of water, sip through the day".into() },
            ],
            investigations: vec!["Complete blood count".into(), "Dengue NS1 antigen".into()],
            procedures: vec!["Intravenous fluids, 500 ml normal saline".into()],
            lab_results: vec![
                LabResult { name: "Hemoglobin".into(), loinc: Some("718-7".into()), value: 12.4, unit: "g/dL".into(), low: Some(12.0), high: Some(15.5) },
                LabResult { name: "Platelets".into(), loinc: Some("777-3".into()), value: 98.0, unit: "10*3/uL".into(), low: Some(150.0), high: Some(410.0) },
            ],
            lab_conclusion: Some("Thrombocytopenia consistent with dengue; repeat count in 48 hours".into()),
            documents: vec![FileAttachment {
                title: "Referral letter".into(),
                content_type: "application/pdf".into(),
                data: "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK".into(),
            }],
            immunizations: vec![Vaccination { vaccine: "Tetanus and diphtheria toxoid (Td)".into(), lot_number: Some("TD2026-118".into()), dose: 1 }],
            charges: vec![
                Charge { item: "Consultation".into(), quantity: 1.0, amount_inr: 400.0 },
                Charge { item: "Paracetamol 650 mg tablet".into(), quantity: 20.0, amount_inr: 36.0 },
            ],
            follow_up: Some("2026-11-22".into()),
            advice: Some("Plenty of fluids; return at once if bleeding, vomiting or abdominal pain".into()),
            notes: Some("Day 3 of fever; no warning signs".into()),
            admitted_on: Some("2026-11-18".into()),
        },
    }
}
