use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{ArtefactStatus, Frequency, Id, Record, Secret};

/// What a consent request asks (the clinic's side of the seed's `ConsentRequest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentAsk {
    /// The patient's ABHA address.
    pub patient: String,
    /// The purpose's code (`CAREMGT`, `BTG`, `PUBHLTH`, `HPAYMT`, `DSRCH`, `PATRQT`).
    pub purpose_code: String,
    /// Its words.
    pub purpose_text: String,
    /// HI types asked for.
    pub hi_types: Vec<String>,
    /// Records from …
    pub from: DateTime<Utc>,
    /// … to.
    pub to: DateTime<Utc>,
    /// When the records must be erased here.
    pub erase_at: DateTime<Utc>,
    /// How often data may be fetched.
    pub frequency: Frequency,
    /// The doctor asking.
    pub requester_name: String,
    /// Their registry id (HPR), when known.
    pub requester_id: Option<String>,
}

/// Where a consent request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RequestStatus {
    /// Queued or sent; ABDM has not given it an id yet.
    Sending,
    /// With the patient.
    Requested,
    /// Granted (artefacts follow).
    Granted,
    /// The patient said no.
    Denied,
    /// It ran out before the patient answered.
    Expired,
    /// The patient withdrew it.
    Revoked,
    /// ABDM refused it.
    Failed {
        /// Why.
        reason: String,
    },
}

/// A consent request made as HIU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRequest {
    /// Our id.
    pub id: Uuid,
    /// The patient here.
    pub patient_id: Uuid,
    /// What was asked.
    pub ask: ConsentAsk,
    /// The consent manager's id for it (from `on-init`).
    pub consent_request_id: Option<String>,
    /// Where it stands.
    pub status: RequestStatus,
    /// Artefacts granted under it.
    pub artefacts: Vec<Uuid>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Record for ConsentRequest {
    const KIND: u8 = kind::CONSENT_REQUEST;
    fn id(&self) -> Id {
        Id::uuid(self.id)
    }
}

/// Why and when an artefact's records stopped being readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archived {
    /// In plain words ("the consent expired", "the patient revoked the consent").
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A consent artefact as the HIU received it: what was **granted**, which may be less than asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiuArtefact {
    /// The artefact's id.
    pub consent_id: Uuid,
    /// Our consent request.
    pub request_id: Uuid,
    /// The patient here.
    pub patient_id: Uuid,
    /// Its state.
    pub status: ArtefactStatus,
    /// The patient's ABHA address.
    pub patient: String,
    /// The HIP holding the records.
    pub hip_id: String,
    /// Its name, when given.
    pub hip_name: Option<String>,
    /// The purpose, as granted.
    pub purpose: String,
    /// (patient reference, care-context reference) granted.
    pub care_contexts: Vec<(String, String)>,
    /// HI types granted.
    pub hi_types: Vec<String>,
    /// Records from …
    pub from: DateTime<Utc>,
    /// … to.
    pub to: DateTime<Utc>,
    /// The records must be unreadable from then.
    pub erase_at: DateTime<Utc>,
    /// How often.
    pub frequency: Frequency,
    /// The consent manager's signature.
    pub signature: String,
    /// When it came.
    pub received_at: DateTime<Utc>,
    /// Set once its records were made unreadable.
    pub archived: Option<Archived>,
}

impl Record for HiuArtefact {
    const KIND: u8 = kind::HIU_ARTEFACT;
    fn id(&self) -> Id {
        Id::uuid(self.consent_id)
    }
}

/// Where a data request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DataRequestState {
    /// Waiting for the push path and the request to go out.
    Opening,
    /// Asked; pages may arrive.
    Requested,
    /// Every page arrived; being checked and decrypted.
    Receiving,
    /// The records are stored.
    Done {
        /// When.
        at: DateTime<Utc>,
        /// How many records.
        records: usize,
    },
    /// Nothing stored.
    Failed {
        /// Why.
        reason: String,
    },
}

/// A health-information request made as HIU, with the key material its push is sealed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRequest {
    /// Our id.
    pub id: Uuid,
    /// The artefact it asks under.
    pub consent_id: Uuid,
    /// ABDM's transaction (from `on-request`).
    pub transaction_id: Option<Uuid>,
    /// Our X25519 secret for this request (the store seals it; `Secret` keeps it out of `Debug`).
    pub secret_key: Secret,
    /// Our nonce, base64.
    pub nonce: String,
    /// Until when the key is good.
    pub key_expiry: DateTime<Utc>,
    /// The push path's token (`Secret`: whoever knows it can push to us).
    pub push_token: Secret,
    /// SHA-256 of the token, hex (how the relay names the path a push came by).
    pub push_path_id: String,
    /// Records from …
    pub from: DateTime<Utc>,
    /// … to.
    pub to: DateTime<Utc>,
    /// Pages announced by the first page.
    pub page_count: Option<u32>,
    /// Page numbers received so far.
    pub received_pages: Vec<u32>,
    /// Bytes of ciphertext received so far.
    #[serde(default)]
    pub received_bytes: u64,
    /// Where it stands.
    pub state: DataRequestState,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When the last page came.
    pub last_page_at: Option<DateTime<Utc>>,
}

impl Record for DataRequest {
    const KIND: u8 = kind::HI_REQUEST;
    fn id(&self) -> Id {
        Id::uuid(self.id)
    }
}

/// One page of a push, kept as it came (Fidelius ciphertext) until every page is here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushPage {
    /// The data request.
    pub request_id: Uuid,
    /// 1-based.
    pub page_number: u32,
    /// The sender's public key (either encoding), base64.
    pub sender_key: String,
    /// The sender's nonce, base64.
    pub sender_nonce: String,
    /// (care context, base64 ciphertext ‖ tag, checksum).
    pub entries: Vec<(String, String, String)>,
}

impl PushPage {
    /// The id of page `page` of `request`.
    pub fn key(request: Uuid, page: u32) -> Id {
        Id::text(&format!("{request}/{page:08}"))
    }
}

impl Record for PushPage {
    const KIND: u8 = kind::PUSH_PAGE;
    fn id(&self) -> Id {
        Self::key(self.request_id, self.page_number)
    }
}

/// A received health record as lists show it; its bundle is a [`RecordBody`] of the same id,
/// apart so that listing or archiving never reads the bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthRecord {
    /// Our id.
    pub id: Uuid,
    /// The artefact it came under.
    pub consent_id: Uuid,
    /// The patient here.
    pub patient_id: Uuid,
    /// The HIP's care context.
    pub care_context: String,
    /// The HIP.
    pub hip_id: String,
    /// ABDM's transaction.
    pub transaction_id: Uuid,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Its document title, when it has one (shown in lists without opening it).
    pub title: String,
}

impl Record for HealthRecord {
    const KIND: u8 = kind::HEALTH_RECORD;
    fn id(&self) -> Id {
        Id::uuid(self.id)
    }
}

/// A received record's FHIR bundle, sealed again under its consent's own key (kept in the
/// keyring), so deleting that key makes every record of the consent unreadable at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordBody {
    /// The [`HealthRecord`]'s id.
    pub id: Uuid,
    /// base64 of nonce ‖ AES-256-GCM(bundle bytes) under the consent's key.
    pub sealed: String,
}

impl Record for RecordBody {
    const KIND: u8 = kind::RECORD_BODY;
    fn id(&self) -> Id {
        Id::uuid(self.id)
    }
}
