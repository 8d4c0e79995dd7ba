//! Records from elsewhere (M3) at the doctor's desk: a consent request with sensible defaults,
//! its status, what arrived under each consent, and a record opened in the viewer. Every opening
//! names the doctor in the audit log.

use std::path::PathBuf;

use base64::Engine;
use chrono::{TimeDelta, Utc};
use desk_core::hiu::NewConsentRequest;
use desk_core::view::{ConsentRequestView, ReceivedConsentView, RecordView};
use serde::Serialize;
use uuid::Uuid;

use crate::staff::StaffView;
use crate::{Session, UiError};

/// A patient's records from elsewhere: what was asked and what came.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientRecords {
    /// Consent requests, newest first, each with its status.
    pub requests: Vec<ConsentRequestView>,
    /// What arrived under each consent (or that it was archived, why and when).
    pub received: Vec<ReceivedConsentView>,
}

/// An attachment of a record, for the screen.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentData {
    /// As declared.
    pub content_type: Option<String>,
    /// The bytes, base64.
    pub data_base64: String,
}

/// How far back a request reaches unless the doctor says otherwise.
const LOOK_BACK: TimeDelta = TimeDelta::days(2 * 365);
/// How long received records stay readable here unless the doctor says otherwise.
const KEEP_FOR: TimeDelta = TimeDelta::days(30);

impl Session {
    /// Asks for the patient's records from other hospitals: care management, every kind of
    /// record, the last two years, readable here for 30 days.
    pub fn ask_for_records(
        &self,
        doctor: &StaffView,
        patient_id: Uuid,
    ) -> Result<ConsentRequestView, UiError> {
        let now = Utc::now();
        Ok(self.desk().request_records(NewConsentRequest {
            patient_id,
            purpose: None,
            hi_types: desk_core::hiu::HI_TYPES.map(String::from).to_vec(),
            from: Some(now - LOOK_BACK),
            to: Some(now),
            erase_at: Some(now + KEEP_FOR),
            frequency: None,
            requester_name: doctor.name.clone(),
            requester_id: None,
        })?)
    }

    /// What was asked for the patient and what came. Files made from an archived consent's
    /// records are removed (the session's start removes every such file too).
    pub fn patient_records(&self, patient_id: Uuid) -> Result<PatientRecords, UiError> {
        let desk = self.desk();
        let received = desk.received_records(patient_id)?;
        for archived in received.iter().filter(|c| c.archived.is_some()) {
            self.remove_record_files(Some(archived.consent_id));
        }
        Ok(PatientRecords {
            requests: desk.consent_requests(Some(patient_id))?,
            received,
        })
    }

    /// The file name for something made from a received record: under its consent, so that
    /// archiving the consent finds it.
    fn record_file(row: &desk_core::view::RecordRow, what: &str) -> String {
        format!(
            "record-{}-{}-{what}",
            &row.consent_id.to_string()[..8],
            &row.id.to_string()[..8]
        )
    }

    /// One attachment of a received record (opening it is audited as a viewing): the record's
    /// row, the declared type and the bytes.
    fn attachment(
        &self,
        doctor: &StaffView,
        record_id: Uuid,
        index: usize,
    ) -> Result<(desk_core::view::RecordRow, Option<String>, Vec<u8>), UiError> {
        let record = self.open_record(doctor, record_id)?;
        let attachment = record
            .document
            .attachments
            .get(index)
            .ok_or_else(|| UiError::new("not-found", "this record has no such attachment"))?;
        let bytes = attachment
            .bytes()
            .map_err(|e| UiError::new("invalid-input", e.to_string()))?;
        Ok((record.row, attachment.content_type.clone(), bytes))
    }

    /// Opens a received record for the doctor (audited with their name).
    pub fn open_record(&self, doctor: &StaffView, record_id: Uuid) -> Result<RecordView, UiError> {
        Ok(self.desk().open_record(record_id, Some(&doctor.name))?)
    }

    /// One attachment of a received record, to show in place (audited as a viewing).
    pub fn record_attachment(
        &self,
        doctor: &StaffView,
        record_id: Uuid,
        index: usize,
    ) -> Result<AttachmentData, UiError> {
        let (_, content_type, bytes) = self.attachment(doctor, record_id, index)?;
        Ok(AttachmentData {
            content_type,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    /// Saves one attachment of a received record (0600, removed after a day, or when its
    /// consent ends) for the system viewer. Only a PDF: another hospital's file of another type
    /// could be anything the desktop would run or parse.
    pub fn save_record_attachment(
        &self,
        doctor: &StaffView,
        record_id: Uuid,
        index: usize,
    ) -> Result<PathBuf, UiError> {
        let (row, content_type, bytes) = self.attachment(doctor, record_id, index)?;
        if content_type.as_deref() != Some("application/pdf") || !bytes.starts_with(b"%PDF-") {
            return Err(UiError::new(
                "invalid-input",
                "only PDF files are opened outside the window; save the bundle to keep this file",
            ));
        }
        self.save_print(&Self::record_file(&row, &format!("{index}.pdf")), &bytes)
    }

    /// Prints a received record (A4 PDF, as many pages as it takes; audited as a viewing).
    pub fn print_record(&self, doctor: &StaffView, record_id: Uuid) -> Result<PathBuf, UiError> {
        let RecordView { row, document: d } = self.open_record(doctor, record_id)?;
        let mut header = Vec::new();
        let mut add = |label: &str, value: Option<String>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                header.push((label.to_string(), v));
            }
        };
        add("Document", d.kind.as_ref().and_then(|k| k.display.clone()));
        add("Date", d.date.clone());
        add(
            "Patient",
            d.patient.as_ref().map(|p| {
                [p.name.clone(), p.gender.clone(), p.birth_date.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ")
            }),
        );
        add("Author", Some(d.authors.join(", ")));
        add("Facility", d.custodian.clone().or(Some(row.hip_id.clone())));
        let mut sections = Vec::new();
        flatten(&d.sections, "", &mut sections);
        if !d.attachments.is_empty() {
            sections.push(desk_print::PrintSection {
                title: "Files".into(),
                lines: d
                    .attachments
                    .iter()
                    .map(|a| {
                        format!(
                            "{} ({})",
                            a.title.as_deref().unwrap_or("file"),
                            a.content_type.as_deref().unwrap_or("unknown type")
                        )
                    })
                    .collect(),
            });
        }
        if !d.warnings.is_empty() {
            sections.push(desk_print::PrintSection {
                title: "Warnings".into(),
                lines: d.warnings.clone(),
            });
        }
        let pdf = desk_print::record(&desk_print::RecordPrint {
            clinic_name: self.settings().clinic_name,
            title: d.title.clone().unwrap_or_else(|| row.title.clone()),
            header,
            sections,
            footer: format!(
                "Received through ABDM from {} on {}; printed by {}",
                row.hip_id,
                row.received_at.format("%d %b %Y"),
                doctor.name
            ),
        })?;
        self.save_print(&Self::record_file(&row, "printout.pdf"), &pdf)
    }

    /// Saves a received record's bundle exactly as received (JSON, 0600, removed after a day
    /// like every printout) for the doctor to keep or send on; audited as an export.
    pub fn export_record(&self, doctor: &StaffView, record_id: Uuid) -> Result<PathBuf, UiError> {
        // The row names the consent the file is kept under (the viewing is audited too).
        let row = self.open_record(doctor, record_id)?.row;
        let bytes = self.desk().export_record(record_id, Some(&doctor.name))?;
        self.save_print(&Self::record_file(&row, "bundle.json"), &bytes)
    }
}

/// The viewer's sections as printed: nested titles joined, one line per row (its fields
/// after it) and per missing reference.
fn flatten(sections: &[abdm_fhir::Section], parent: &str, out: &mut Vec<desk_print::PrintSection>) {
    for s in sections {
        let own = s
            .title
            .clone()
            .or(s.code.clone())
            .unwrap_or_else(|| "Section".into());
        let title = if parent.is_empty() {
            own
        } else {
            format!("{parent} › {own}")
        };
        let mut lines: Vec<String> = s
            .rows
            .iter()
            .map(|r| {
                let fields: Vec<String> =
                    r.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                if fields.is_empty() {
                    format!("{} — {}", r.resource_type, r.summary)
                } else {
                    format!(
                        "{} — {} ({})",
                        r.resource_type,
                        r.summary,
                        fields.join("; ")
                    )
                }
            })
            .collect();
        lines.extend(s.missing.iter().map(|m| format!("Not in the bundle: {m}")));
        out.push(desk_print::PrintSection {
            title: title.clone(),
            lines,
        });
        flatten(&s.sections, &title, out);
    }
}
