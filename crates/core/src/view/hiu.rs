//! What the M3 screens show: consent requests, what came under each consent (or that it was
//! archived, why and when), and a record opened for the doctor.

use chrono::{DateTime, Utc};
use desk_store::{ConsentRequest, HealthRecord, HiuArtefact, RequestStatus};
use serde::Serialize;
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::Gateway;

/// A consent request made as HIU.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRequestView {
    /// Our id.
    pub id: Uuid,
    /// The consent manager's id for it, once it took the request (for support calls).
    pub abdm_id: Option<String>,
    /// The patient.
    pub patient_id: Uuid,
    /// `sending`, `requested`, `granted`, `denied`, `expired`, `revoked`, `failed`.
    pub status: String,
    /// Why it failed.
    pub reason: Option<String>,
    /// HI types asked for.
    pub hi_types: Vec<String>,
    /// Records from.
    pub from: DateTime<Utc>,
    /// Records to.
    pub to: DateTime<Utc>,
    /// Kept until.
    pub erase_at: DateTime<Utc>,
    /// Artefacts granted under it.
    pub artefacts: usize,
    /// Made at.
    pub created_at: DateTime<Utc>,
}

impl ConsentRequestView {
    pub(crate) fn of(r: &ConsentRequest) -> Self {
        let (status, reason) = match &r.status {
            RequestStatus::Sending => ("sending", None),
            RequestStatus::Requested => ("requested", None),
            RequestStatus::Granted => ("granted", None),
            RequestStatus::Denied => ("denied", None),
            RequestStatus::Expired => ("expired", None),
            RequestStatus::Revoked => ("revoked", None),
            RequestStatus::Failed { reason } => ("failed", Some(reason.clone())),
        };
        Self {
            id: r.id,
            abdm_id: r.consent_request_id.clone(),
            patient_id: r.patient_id,
            status: status.into(),
            reason,
            hi_types: r.ask.hi_types.clone(),
            from: r.ask.from,
            to: r.ask.to,
            erase_at: r.ask.erase_at,
            artefacts: r.artefacts.len(),
            created_at: r.created_at,
        }
    }
}

/// A received record in a list (not opened).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordRow {
    /// Its id.
    pub id: Uuid,
    /// The consent it came under.
    pub consent_id: Uuid,
    /// The document's title.
    pub title: String,
    /// The HIP's care context.
    pub care_context: String,
    /// The HIP.
    pub hip_id: String,
    /// When it came.
    pub received_at: DateTime<Utc>,
}

impl RecordRow {
    pub(crate) fn of(r: &HealthRecord) -> Self {
        Self {
            id: r.id,
            consent_id: r.consent_id,
            title: r.title.clone(),
            care_context: r.care_context.clone(),
            hip_id: r.hip_id.clone(),
            received_at: r.received_at,
        }
    }
}

/// What came under one consent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedConsentView {
    /// The artefact.
    pub consent_id: Uuid,
    /// The hospital that sent them.
    pub hip: String,
    /// HI types granted.
    pub hi_types: Vec<String>,
    /// Records from.
    pub from: DateTime<Utc>,
    /// Records to.
    pub to: DateTime<Utc>,
    /// Readable until.
    pub erase_at: DateTime<Utc>,
    /// "archived: reason" once the consent ended.
    pub archived: Option<String>,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
    /// The records (none once archived).
    pub records: Vec<RecordRow>,
}

impl ReceivedConsentView {
    pub(crate) fn of(a: &HiuArtefact, records: Vec<RecordRow>) -> Self {
        Self {
            consent_id: a.consent_id,
            hip: a.hip_name.clone().unwrap_or_else(|| a.hip_id.clone()),
            hi_types: a.hi_types.clone(),
            from: a.from,
            to: a.to,
            erase_at: a.erase_at,
            archived: a
                .archived
                .as_ref()
                .map(|x| format!("archived: {}", x.reason)),
            archived_at: a.archived.as_ref().map(|x| x.at),
            records,
        }
    }
}

/// A record opened for the doctor: `abdm-fhir`'s viewer model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    /// Which record.
    pub row: RecordRow,
    /// Header, sections, rows, attachments, warnings.
    pub document: abdm_fhir::Document,
}

impl<G: Gateway> Desk<G> {
    /// A patient's consent requests, newest first (all patients' with `None`).
    pub fn consent_requests(&self, patient_id: Option<Uuid>) -> Result<Vec<ConsentRequestView>> {
        let mut all: Vec<ConsentRequest> = self
            .store
            .all::<ConsentRequest>()?
            .into_iter()
            .filter(|r| patient_id.is_none_or(|p| r.patient_id == p))
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        Ok(all.iter().map(ConsentRequestView::of).collect())
    }
}
