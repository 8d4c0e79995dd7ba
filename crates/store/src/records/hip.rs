use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{Id, Record, Secret};

/// A consent artefact as the HIP received it: what it may share, with whom, until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HipArtefact {
    /// The artefact's id (`consentId`).
    pub consent_id: Uuid,
    /// Granted, revoked or expired.
    pub status: ArtefactStatus,
    /// The patient's ABHA address.
    pub patient: String,
    /// Who asked (the HIU), when known.
    pub hiu_id: Option<String>,
    /// The person at the HIU who asked.
    pub requester: Option<String>,
    /// Why (the purpose's text).
    pub purpose: String,
    /// Care contexts it covers: (patient reference, care-context reference).
    pub care_contexts: Vec<(String, String)>,
    /// HI types it covers (`OPConsultation`, `Prescription`, …).
    pub hi_types: Vec<String>,
    /// Records from this time …
    pub from: DateTime<Utc>,
    /// … to this time.
    pub to: DateTime<Utc>,
    /// After this, nothing may be sent.
    pub erase_at: DateTime<Utc>,
    /// How often data may be requested.
    pub frequency: Frequency,
    /// The consent manager's signature, as received.
    pub signature: String,
    /// When it came.
    pub received_at: DateTime<Utc>,
    /// When data was requested under it (for the frequency limit).
    pub uses: Vec<DateTime<Utc>>,
}

/// An artefact's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArtefactStatus {
    /// Data may be shared.
    Granted,
    /// The patient revoked it.
    Revoked,
    /// It expired.
    Expired,
    /// It was denied (never usable).
    Denied,
}

/// `repeats` requests per `value` `unit`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frequency {
    /// `HOUR`, `DAY`, `WEEK`, `MONTH`, `YEAR`.
    pub unit: FrequencyUnit,
    /// How many units form the window.
    pub value: u32,
    /// Requests allowed in a window.
    pub repeats: u32,
}

/// A unit of the frequency window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrequencyUnit {
    /// An hour.
    Hour,
    /// A day.
    Day,
    /// A week.
    Week,
    /// A month (30 days).
    Month,
    /// A year (365 days).
    Year,
}

impl Frequency {
    /// The window's length (at most 100 years, whatever the artefact says: no overflow).
    pub fn window(&self) -> chrono::Duration {
        let hours: i64 = match self.unit {
            FrequencyUnit::Hour => 1,
            FrequencyUnit::Day => 24,
            FrequencyUnit::Week => 24 * 7,
            FrequencyUnit::Month => 24 * 30,
            FrequencyUnit::Year => 24 * 365,
        };
        let capped = (hours * i64::from(self.value.max(1))).min(24 * 365 * 100);
        chrono::Duration::hours(capped)
    }
}

impl Record for HipArtefact {
    const KIND: u8 = kind::HIP_ARTEFACT;
    fn id(&self) -> Id {
        Id::uuid(self.consent_id)
    }
}

/// A patient-initiated link request waiting for its OTP. The OTP is kept only as a salted hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRequest {
    /// The link reference given to ABDM (`linkRefNumber`).
    pub link_ref: String,
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The ABHA address asking (recorded on the patient once linked).
    pub abha_address: String,
    /// The care contexts to link.
    pub care_contexts: Vec<String>,
    /// SHA-256 of salt ‖ OTP, hex (`Secret`: kept out of `Debug`).
    pub otp_hash: Secret,
    /// Random, hex.
    pub salt: Secret,
    /// When it was made (for the limit on link requests per patient).
    pub created_at: DateTime<Utc>,
    /// After this the OTP is refused.
    pub expires_at: DateTime<Utc>,
    /// Wrong OTPs still allowed.
    pub attempts_left: u32,
    /// Linked (or refused for good).
    pub closed: bool,
}

impl Record for LinkRequest {
    const KIND: u8 = kind::LINK_REQUEST;
    fn id(&self) -> Id {
        Id::text(&self.link_ref)
    }
}

/// An outgoing data transfer: one health-information request being answered, page by page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// The artefact it answers.
    pub consent_id: Uuid,
    /// Where pages go (the HIU's `dataPushUrl`).
    pub data_push_url: String,
    /// The HIU's public key (base64, as it sent it).
    pub hiu_public_key: String,
    /// The HIU's nonce (base64).
    pub hiu_nonce: String,
    /// The HIU's key stops being valid then: nothing is pushed after.
    pub key_expiry: DateTime<Utc>,
    /// What goes, one page each: (care-context reference, HI type).
    pub items: Vec<(String, String)>,
    /// Pages known sent.
    pub sent: usize,
    /// Where it stands.
    pub state: TransferState,
    /// When the request came.
    pub created_at: DateTime<Utc>,
}

/// A transfer's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TransferState {
    /// Being sent.
    Sending,
    /// Every page delivered.
    Done {
        /// When.
        at: DateTime<Utc>,
    },
    /// Stopped: nothing more goes.
    Failed {
        /// Why, in plain words.
        reason: String,
    },
}

impl Record for Transfer {
    const KIND: u8 = kind::TRANSFER;
    fn id(&self) -> Id {
        Id::uuid(self.transaction_id)
    }
}
