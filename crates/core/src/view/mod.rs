//! Read models for front ends: what a screen shows, in its own types. Store records do not leave
//! desk-core through these.

use chrono::{DateTime, Utc};
use desk_store::{AbhaProfile, AuditEntry, HealthFacility, Id, Patient, TokenDay};
use serde::Serialize;
use uuid::Uuid;

use crate::desk::Desk;
use crate::engine::{OutboxItem, OutboxState, Parked, Work};
use crate::error::Result;
use crate::gateway::Gateway;

mod hip;
mod hiu;
pub use hip::{ConsultationView, HipConsentView, TransferView};
pub use hiu::{ConsentRequestView, ReceivedConsentView, RecordRow, RecordView};

/// A patient as the desk shows one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientView {
    /// The clinic's id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// `M`, `F`, `O`, `U`.
    pub gender: String,
    /// `YYYY-MM-DD`, `YYYY` or empty.
    pub date_of_birth: String,
    /// 10 digits.
    pub mobile: Option<String>,
    /// Dashed.
    pub abha_number: Option<String>,
    /// `name@suffix`.
    pub abha_address: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Registered here.
    pub registered_at: DateTime<Utc>,
}

impl PatientView {
    pub(crate) fn of(p: &Patient) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            gender: format!("{:?}", p.gender),
            date_of_birth: p.date_of_birth(),
            mobile: p.mobile.clone(),
            abha_number: p.abha_number.clone(),
            abha_address: p.abha_address.clone(),
            address: p.address.clone(),
            registered_at: p.created_at,
        }
    }
}

/// A patient's ABHA as linked here.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AbhaView {
    /// Dashed.
    pub abha_number: String,
    /// `name@suffix`.
    pub abha_address: Option<String>,
    /// The holder's name.
    pub name: Option<String>,
    /// Gender letter.
    pub gender: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<String>,
    /// Mobile (possibly masked).
    pub mobile: Option<String>,
    /// Whether ABDM has given this clinic a linking token for it (care contexts can be linked).
    pub can_link_records: bool,
    /// ABDM sent an OTP to the ABHA's mobile: type it to get the linking token.
    pub waiting_for_otp: bool,
    /// ABDM has confirmed that this ABHA is this patient's (by an OTP, or by the demographic
    /// check that gave a linking token); until then it is only what was typed or scanned.
    pub confirmed: bool,
    /// v3: ABDM refuses another linking-token request until then (`ABDM-1092`); the desk asks
    /// again by itself at that time.
    pub link_token_retry_at: Option<chrono::DateTime<Utc>>,
}

impl AbhaView {
    pub(crate) fn of(p: &AbhaProfile) -> Self {
        Self {
            abha_number: p.abha_number.clone(),
            abha_address: p.abha_address.clone(),
            name: p.name.clone(),
            gender: p.gender.clone(),
            date_of_birth: p.date_of_birth.clone(),
            mobile: p.mobile.clone(),
            can_link_records: p
                .linking_token
                .as_ref()
                .is_some_and(|t| t.expires_at > Utc::now()),
            waiting_for_otp: p.token_otp_txn.is_some(),
            confirmed: p.confirmed_by_abdm_at.is_some() || p.linking_token.is_some(),
            link_token_retry_at: p
                .link_token_asked_at
                .map(|at| at + crate::hip::LINK_TOKEN_GUARD)
                .filter(|at| p.linking_token.is_none() && *at > Utc::now()),
        }
    }
}

/// A row of the outbox screen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxRow {
    /// Its id (for "retry").
    pub id: u64,
    /// What it does, in plain words (English).
    pub label: String,
    /// The same as a key of `labels::LABELS` and its arguments, for the UI's language.
    pub label_key: Option<String>,
    /// The key's arguments.
    pub label_args: Vec<String>,
    /// `queued`, `waiting`, `done`, `failed`.
    pub state: &'static str,
    /// The state in words, with the reason on failure.
    pub words: String,
    /// Tries ABDM failed.
    pub attempts: u32,
    /// The last problem.
    pub last_error: Option<String>,
    /// The patient concerned.
    pub patient_id: Option<Uuid>,
    /// Whether "retry" is offered.
    pub can_retry: bool,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

impl OutboxRow {
    pub(crate) fn of(item: &OutboxItem) -> Self {
        let (state, words) = match &item.state {
            OutboxState::Queued => (
                "queued",
                match &item.last_error {
                    Some(e) => format!("queued (last try: {e})"),
                    None => "queued".to_string(),
                },
            ),
            OutboxState::WaitingForAbdm { .. } => ("waiting", "waiting for ABDM".to_string()),
            OutboxState::Done { .. } => ("done", "done".to_string()),
            OutboxState::Failed { reason, .. } => ("failed", format!("failed: {reason}")),
        };
        Self {
            id: item.id,
            label: item.label.clone(),
            label_key: item.label_key.clone(),
            label_args: item.label_args.clone(),
            state,
            words,
            attempts: item.attempts,
            last_error: item.last_error.clone(),
            patient_id: item.patient_id,
            can_retry: matches!(item.state, OutboxState::Failed { .. })
                && item.work != Work::Finished,
            created_at: item.created_at,
        }
    }
}

/// A row of today's queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRow {
    /// The token number.
    pub token: u32,
    /// The patient.
    pub patient: PatientView,
    /// Given in answer to the patient's scan of the counter QR (an arrival), not at the desk.
    pub arrived_by_scan: bool,
}

/// A line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    /// In order.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub action: String,
    /// Particulars.
    pub detail: String,
    /// The patient concerned.
    pub patient_id: Option<Uuid>,
    /// The staff member.
    pub staff: Option<String>,
}

impl AuditRow {
    fn of(e: AuditEntry) -> Self {
        AuditRow {
            seq: e.seq,
            at: e.at,
            action: e.action,
            detail: e.detail,
            patient_id: e.patient_id,
            staff: e.staff,
        }
    }
}

/// A message from ABDM that was set aside.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedRow {
    /// Its relay `seq`.
    pub seq: u64,
    /// The path ABDM called.
    pub path: String,
    /// Why it was set aside.
    pub reason: String,
    /// When it arrived.
    pub received_at: String,
}

/// The clinic as registered with ABDM.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FacilityView {
    /// HFR id.
    pub hf_id: String,
    /// Name.
    pub name: String,
    /// Linked as HIP and HIU.
    pub registered: bool,
    /// The bridge URL.
    pub bridge_url: Option<String>,
    /// Whether ABDM accepted it.
    pub bridge_registered: bool,
}

impl FacilityView {
    pub(crate) fn of(f: &HealthFacility) -> Self {
        Self {
            hf_id: f.hf_id.clone(),
            name: f.name.clone(),
            registered: f.registered,
            bridge_url: f.bridge_url.clone(),
            bridge_registered: f.bridge_registered,
        }
    }
}

impl<G: Gateway> Desk<G> {
    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>> {
        Ok(self
            .store
            .all::<OutboxItem>()?
            .iter()
            .map(OutboxRow::of)
            .collect())
    }

    /// The newest `limit` outbox items, newest first (a screen's worth of a long history).
    pub fn outbox_newest(&self, limit: usize) -> Result<Vec<OutboxRow>> {
        Ok(self
            .store
            .last::<OutboxItem>(limit)?
            .iter()
            .map(OutboxRow::of)
            .collect())
    }

    /// Messages from ABDM that could not be applied.
    pub fn parked(&self) -> Result<Vec<ParkedRow>> {
        Ok(self
            .store
            .all::<Parked>()?
            .into_iter()
            .map(|p| ParkedRow {
                seq: p.seq,
                path: p.path,
                reason: p.reason,
                received_at: p.received_at,
            })
            .collect())
    }

    /// The audit log, oldest first.
    pub fn audit_log(&self) -> Result<Vec<AuditRow>> {
        Ok(self
            .store
            .all::<AuditEntry>()?
            .into_iter()
            .map(AuditRow::of)
            .collect())
    }

    /// The newest `limit` lines of the audit log, newest first.
    pub fn audit_newest(&self, limit: usize) -> Result<Vec<AuditRow>> {
        Ok(self
            .store
            .last::<AuditEntry>(limit)?
            .into_iter()
            .map(AuditRow::of)
            .collect())
    }

    /// The queue of `date` (`YYYY-MM-DD`) by token.
    pub fn queue(&self, date: &str) -> Result<Vec<QueueRow>> {
        let day: TokenDay = self.store.get(&Id::text(date))?.unwrap_or_default();
        let mut rows = Vec::new();
        for (patient, token) in day.by_patient {
            if let Some(p) = self.store.get::<Patient>(&Id::uuid(patient))? {
                rows.push(QueueRow {
                    token,
                    patient: PatientView::of(&p),
                    arrived_by_scan: day.shared.contains(&token),
                });
            }
        }
        rows.sort_by_key(|r| r.token);
        Ok(rows)
    }

    /// A patient's ABHA as linked here.
    pub fn abha(&self, abha_number: &str) -> Result<Option<AbhaView>> {
        Ok(self
            .store
            .get::<AbhaProfile>(&Id::blind(abha_number))?
            .map(|p| AbhaView::of(&p)))
    }

    /// The clinic as registered.
    pub fn facility_view(&self) -> Result<FacilityView> {
        Ok(self
            .facility()?
            .map(|f| FacilityView::of(&f))
            .unwrap_or_default())
    }
}
