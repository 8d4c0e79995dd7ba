//! What the M2 screens show: consultations with their link state, consents received as HIP, and
//! transfers with their progress.

use chrono::{DateTime, NaiveDate, Utc};
use desk_store::{
    Attachment, Consultation, Diagnosis, HipArtefact, Investigation, LinkState, PrescriptionLine,
    Transfer, TransferState, Vitals,
};
use serde::Serialize;
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::Gateway;

/// A consultation as the doctor's screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultationView {
    /// Its id (the care-context reference).
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The visit's label ("OPD visit, 1 Dec 2026 (Dr. Meera Iyer)").
    pub label: String,
    /// The visit day.
    pub date: NaiveDate,
    /// Saved at.
    pub recorded_at: DateTime<Utc>,
    /// The doctor.
    pub doctor: String,
    /// Complaints.
    pub complaints: Vec<String>,
    /// Vital signs.
    pub vitals: Vitals,
    /// Diagnoses.
    pub diagnoses: Vec<Diagnosis>,
    /// Prescription.
    pub prescription: Vec<PrescriptionLine>,
    /// Investigations and results.
    pub investigations: Vec<Investigation>,
    /// Procedures.
    pub procedures: Vec<String>,
    /// Advice.
    pub advice: Option<String>,
    /// Follow-up.
    pub follow_up: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// Attached files' titles and types (not their bytes).
    pub attachments: Vec<(String, String)>,
    /// `no_abha`, `queued`, `linking`, `linked`, `failed`.
    pub link: String,
    /// Why linking failed.
    pub link_error: Option<String>,
}

impl ConsultationView {
    pub(crate) fn of(c: &Consultation) -> Self {
        let (link, link_error) = match &c.link {
            LinkState::NoAbha => ("no_abha", None),
            LinkState::Queued => ("queued", None),
            LinkState::Linking => ("linking", None),
            LinkState::Linked { .. } => ("linked", None),
            LinkState::Failed { reason } => ("failed", Some(reason.clone())),
        };
        Self {
            id: c.id,
            patient_id: c.patient_id,
            label: crate::hip::visit_label(c),
            date: c.date,
            recorded_at: c.recorded_at,
            doctor: c.doctor.name.clone(),
            complaints: c.complaints.clone(),
            vitals: c.vitals,
            diagnoses: c.diagnoses.clone(),
            prescription: c.prescription.clone(),
            investigations: c.investigations.clone(),
            procedures: c.procedures.clone(),
            advice: c.advice.clone(),
            follow_up: c.follow_up,
            notes: c.notes.clone(),
            attachments: c
                .attachments
                .iter()
                .map(|a: &Attachment| (a.title.clone(), a.content_type.clone()))
                .collect(),
            link: link.into(),
            link_error,
        }
    }
}

/// A consent artefact received as HIP.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HipConsentView {
    /// The artefact.
    pub consent_id: Uuid,
    /// `granted`, `revoked`, `expired`, `denied`.
    pub status: String,
    /// The patient's ABHA address.
    pub patient: String,
    /// Who asked.
    pub hiu_id: Option<String>,
    /// Why.
    pub purpose: String,
    /// HI types.
    pub hi_types: Vec<String>,
    /// Care contexts it covers.
    pub care_contexts: usize,
    /// Records from.
    pub from: DateTime<Utc>,
    /// Records to.
    pub to: DateTime<Utc>,
    /// Nothing is sent after.
    pub erase_at: DateTime<Utc>,
}

/// A transfer and how far it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferView {
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// The consent it answers.
    pub consent_id: Uuid,
    /// Pages (documents) sent.
    pub sent: usize,
    /// Pages in all.
    pub total: usize,
    /// `sending`, `done`, `failed`.
    pub state: String,
    /// Why it stopped.
    pub reason: Option<String>,
    /// When the request came.
    pub created_at: DateTime<Utc>,
}

impl<G: Gateway> Desk<G> {
    /// Consent artefacts received as HIP, newest first.
    pub fn hip_consents(&self) -> Result<Vec<HipConsentView>> {
        let mut all: Vec<HipArtefact> = self.store.all()?;
        all.sort_by_key(|a| std::cmp::Reverse(a.received_at));
        Ok(all
            .into_iter()
            .map(|a| HipConsentView {
                consent_id: a.consent_id,
                status: format!("{:?}", a.status).to_lowercase(),
                patient: a.patient,
                hiu_id: a.hiu_id,
                purpose: a.purpose,
                hi_types: a.hi_types,
                care_contexts: a.care_contexts.len(),
                from: a.from,
                to: a.to,
                erase_at: a.erase_at,
            })
            .collect())
    }

    /// Transfers to other hospitals, newest first.
    pub fn transfers(&self) -> Result<Vec<TransferView>> {
        let mut all: Vec<Transfer> = self.store.all()?;
        all.sort_by_key(|t| std::cmp::Reverse(t.created_at));
        Ok(all
            .into_iter()
            .map(|t| {
                let (state, reason) = match t.state {
                    TransferState::Sending => ("sending", None),
                    TransferState::Done { .. } => ("done", None),
                    TransferState::Failed { reason } => ("failed", Some(reason)),
                };
                TransferView {
                    transaction_id: t.transaction_id,
                    consent_id: t.consent_id,
                    sent: t.sent.max(
                        self.store
                            .meta_u64(&crate::hip::progress_key(t.transaction_id))
                            .unwrap_or(0) as usize,
                    ),
                    total: t.items.len(),
                    state: state.into(),
                    reason,
                    created_at: t.created_at,
                }
            })
            .collect())
    }
}
