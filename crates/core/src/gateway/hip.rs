//! The HIP's messages in the flows' words: what ABDM asks of the clinic as a provider, and what
//! the clinic answers.

use chrono::{DateTime, Utc};
use desk_store::{ArtefactStatus, Frequency, Gender, Secret};
use uuid::Uuid;

use super::ContextRef;

/// Kinds of identifier a patient may be found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A mobile number.
    Mobile,
    /// The ABHA number.
    AbhaNumber,
    /// The ABHA address.
    AbhaAddress,
    /// The clinic's medical record number.
    MedicalRecord,
}

/// An identifier with its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    /// Which kind.
    pub kind: IdKind,
    /// Its value.
    pub value: String,
}

/// A patient looking for their records here (from their PHR app).
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoverQuery {
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// The patient's ABHA address.
    pub abha_address: String,
    /// Name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Identifiers ABDM verified.
    pub verified: Vec<Identifier>,
    /// Identifiers the patient typed.
    pub unverified: Vec<Identifier>,
}

/// The patient found, with the care contexts not yet linked.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredPatient {
    /// Our patient reference.
    pub reference: String,
    /// The patient's name.
    pub display: String,
    /// Care contexts the patient may link.
    pub care_contexts: Vec<ContextRef>,
    /// What matched.
    pub matched_by: Vec<IdKind>,
}

/// An error answer, in ABDM's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// ABDM-style code (`ABDM-1010` …) or our own.
    pub code: String,
    /// Plain words.
    pub message: String,
}

/// The patient asks to link care contexts.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkInitRequest {
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// The patient's ABHA address.
    pub abha_address: String,
    /// Our patient reference (from discovery).
    pub patient_reference: String,
    /// The care contexts chosen.
    pub care_contexts: Vec<String>,
}

/// The OTP went out.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkOtpSent {
    /// The link reference the confirmation names.
    pub link_ref: String,
    /// Where it went, masked.
    pub hint: String,
    /// Until when it is valid.
    pub expires_at: DateTime<Utc>,
}

/// The patient confirms with the OTP.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfirmRequest {
    /// From `LinkOtpSent`.
    pub link_ref: String,
    /// The OTP the patient typed.
    pub otp: Secret,
}

/// The care contexts now linked.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedContexts {
    /// Our patient reference.
    pub reference: String,
    /// The patient's name.
    pub display: String,
    /// The care contexts.
    pub care_contexts: Vec<ContextRef>,
}

/// What a consent artefact grants (generation-neutral).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentGrant {
    /// The patient's ABHA address.
    pub patient: String,
    /// The HIU.
    pub hiu_id: Option<String>,
    /// Who asked.
    pub requester: Option<String>,
    /// Why.
    pub purpose: String,
    /// (patient reference, care-context reference).
    pub care_contexts: Vec<(String, String)>,
    /// HI types.
    pub hi_types: Vec<String>,
    /// Records from …
    pub from: DateTime<Utc>,
    /// … to.
    pub to: DateTime<Utc>,
    /// Nothing is sent after this.
    pub erase_at: DateTime<Utc>,
    /// How often.
    pub frequency: Frequency,
    /// The consent manager's signature.
    pub signature: String,
}

/// A consent notification to the HIP.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentNotice {
    /// The artefact.
    pub consent_id: Uuid,
    /// Its new status.
    pub status: ArtefactStatus,
    /// What it grants (for a grant).
    pub grant: Option<ConsentGrant>,
}

/// A HIU's key for one transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct PushKey {
    /// Public key, base64 (either Fidelius encoding).
    pub public_key: String,
    /// Nonce, base64.
    pub nonce: String,
    /// Until when it may be used.
    pub expiry: DateTime<Utc>,
}

/// A request for data under an artefact.
#[derive(Debug, Clone, PartialEq)]
pub struct HiRequest {
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// The artefact.
    pub consent_id: Uuid,
    /// Records from …
    pub from: DateTime<Utc>,
    /// … to.
    pub to: DateTime<Utc>,
    /// Where to push.
    pub data_push_url: String,
    /// The HIU's key.
    pub key: PushKey,
}

/// One encrypted entry of a push.
#[derive(Debug, Clone, PartialEq)]
pub struct DataEntry {
    /// base64(ciphertext ‖ tag).
    pub content: String,
    /// MD5 of the plaintext, hex.
    pub checksum: String,
    /// The care context it belongs to.
    pub care_context: String,
}

/// One page of a push.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPage {
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// 1-based.
    pub page_number: u32,
    /// Pages in all.
    pub page_count: u32,
    /// Its entries.
    pub entries: Vec<DataEntry>,
    /// The sender's public key for this page, base64 X.509.
    pub sender_public_key: String,
    /// The sender's nonce for this page, base64.
    pub sender_nonce: String,
    /// When the sender's key expires.
    pub expiry: DateTime<Utc>,
}

/// The outcome of a transfer, per care context.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferReport {
    /// The artefact.
    pub consent_id: Uuid,
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// Whether everything went.
    pub transferred: bool,
    /// (care context, delivered, description).
    pub statuses: Vec<(String, bool, String)>,
}
