//! The HIU's messages in the flows' words: what the clinic asks as a user of records, and what
//! ABDM (and the HIPs through it) tell it.

use chrono::{DateTime, Utc};
use desk_store::ArtefactStatus;
use uuid::Uuid;

use super::hip::{ConsentGrant, DataPage};

/// A consent manager's notice about one of our consent requests.
#[derive(Debug, Clone, PartialEq)]
pub struct HiuConsentNotice {
    /// The consent manager's id of our request.
    pub consent_request_id: String,
    /// Granted, denied, expired or revoked (`None`: still with the patient).
    pub status: Option<ArtefactStatus>,
    /// The artefacts concerned.
    pub artefacts: Vec<Uuid>,
}

/// A consent artefact fetched by the HIU.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedArtefact {
    /// Its id.
    pub consent_id: Uuid,
    /// Its state.
    pub status: ArtefactStatus,
    /// What it grants.
    pub grant: ConsentGrant,
    /// The HIP holding the records.
    pub hip_id: String,
    /// Its name.
    pub hip_name: Option<String>,
}

/// A request for data under an artefact, with our key.
#[derive(Debug, Clone, PartialEq)]
pub struct DataAsk {
    /// The artefact.
    pub consent_id: Uuid,
    /// Records from …
    pub from: DateTime<Utc>,
    /// … to.
    pub to: DateTime<Utc>,
    /// Our push path at the relay.
    pub push_url: String,
    /// Our public key, base64 (raw SEC1, as HIUs send it).
    pub public_key: String,
    /// Our nonce, base64.
    pub nonce: String,
    /// Until when the key may be used.
    pub expiry: DateTime<Utc>,
}

/// A page pushed to one of our push paths.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPush {
    /// The push path it came by (SHA-256 of its token, hex), as the relay names it.
    pub path_id: Option<String>,
    /// The page.
    pub page: DataPage,
}
