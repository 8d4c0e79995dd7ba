//! `desk-store`: everything the clinic's desk keeps, on the clinic's machine, in sled.
//!
//! * Typed records (patients, ABHA profiles, the health facility, pending ABDM requests keyed by
//!   REQUEST-ID, the outbox, today's token queue, the audit log), each under its own key prefix in one
//!   tree, so that a change touching several of them is one atomic batch.
//! * Every value is encrypted at rest (AES-256-GCM, a fresh nonce per write) with a key from the OS
//!   keyring; lookups by ABHA number go through a keyed hash, so not even keys leak identities.
//! * Nothing is reported saved before it is flushed: [`Store::write`] applies its batch and flushes.
//! * A schema version with migrations ([`SCHEMA_VERSION`]).

mod secrets;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

pub use secrets::{KeyringSecrets, MemorySecrets, SecretError, Secrets};
pub use zeroize;

/// The layout version this code reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the local database could not be used: {0}")]
    Storage(#[from] sled::Error),
    #[error("the database key is not available: {0}")]
    Key(#[from] SecretError),
    #[error(
        "a record could not be decrypted: the database key does not match, or the file is damaged"
    )]
    Decrypt,
    #[error("a record is unreadable: {0}")]
    Corrupt(String),
    #[error("this database was written by a newer version of ABDM Desk (layout {found}, this version reads up to {SCHEMA_VERSION})")]
    TooNew { found: u32 },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A patient at this clinic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    pub id: Uuid,
    pub name: String,
    /// `M`, `F`, `O` or `U`.
    pub gender: String,
    pub year_of_birth: Option<i32>,
    pub month_of_birth: Option<u32>,
    pub day_of_birth: Option<u32>,
    pub mobile: Option<String>,
    pub abha_number: Option<String>,
    pub abha_address: Option<String>,
    pub address: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub pincode: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Patient {
    /// A new patient with only a name; the rest is filled in by the flow that creates it.
    pub fn new(name: impl Into<String>) -> Self {
        let now = now();
        Self {
            id: Uuid::new_v4(),
            name: name.into(),
            gender: String::new(),
            year_of_birth: None,
            month_of_birth: None,
            day_of_birth: None,
            mobile: None,
            abha_number: None,
            abha_address: None,
            address: None,
            district: None,
            state: None,
            pincode: None,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// A patient's ABHA as ABDM returned it (CARE's `AbhaNumber`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AbhaProfile {
    pub abha_number: String,
    pub abha_address: Option<String>,
    pub patient_id: Option<Uuid>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub gender: Option<String>,
    pub date_of_birth: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub pincode: Option<String>,
    /// The user's ABHA-service token (X-token), when we have one.
    pub access_token: Option<String>,
    /// The HIP linking token from `users/auth/on-confirm`.
    pub linking_token: Option<String>,
    pub updated_at: String,
}

/// The clinic as ABDM knows it (CARE's `HealthFacility`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HealthFacility {
    /// The HFR id; also the HIP/HIU service id once registered.
    pub hf_id: String,
    pub name: String,
    pub registered: bool,
    pub bridge_url: Option<String>,
    pub bridge_registered: bool,
}

/// An ABDM request waiting for its callback, by REQUEST-ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub request_id: Uuid,
    /// Which flow and step the callback continues (the flow's own tag, e.g. `pull:fetch-modes`).
    pub step: String,
    pub patient_id: Option<Uuid>,
    /// The outbox item that sent it.
    pub outbox_id: Option<u64>,
    /// Whatever the flow needs to continue.
    pub context: serde_json::Value,
    pub created_at: String,
}

/// What a receptionist sees of an outbox item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    Queued,
    Sent { at: String },
    WaitingForAbdm { since: String },
    Done { at: String },
    Failed { reason: String },
}

/// One ABDM call, kept until ABDM answered it. Its REQUEST-ID (inside `body`) never changes, so a
/// retry is the same request to ABDM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: u64,
    pub request_id: Uuid,
    /// The operation's path (`/v0.5/users/auth/fetch-modes`).
    pub path: String,
    /// `X-HIP-ID`/`X-HIU-ID` to send.
    pub acting: Acting,
    pub body: serde_json::Value,
    /// Plain words for the queue screen ("Link ABHA of Asha Kumari: authentication modes").
    pub label: String,
    pub patient_id: Option<Uuid>,
    pub state: OutboxState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acting {
    Hip(String),
    Hiu(String),
    None,
}

/// One day's token queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenDay {
    pub next: u32,
    pub by_patient: HashMap<Uuid, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    pub action: String,
    pub detail: String,
    pub patient_id: Option<Uuid>,
}

/// Key prefixes in the one tree.
mod prefix {
    pub const META: u8 = b'M';
    pub const PATIENT: u8 = b'P';
    pub const ABHA: u8 = b'A';
    pub const ABHA_INDEX: u8 = b'I';
    pub const FACILITY: u8 = b'F';
    pub const PENDING: u8 = b'R';
    pub const OUTBOX: u8 = b'O';
    /// Ids of queued outbox items, so the sender finds the next one without reading them all.
    pub const QUEUED: u8 = b'Q';
    pub const TOKENS: u8 = b'T';
    pub const AUDIT: u8 = b'L';
}

fn key(p: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(p);
    k.extend_from_slice(rest);
    k
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The local database.
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    cipher: Aes256Gcm,
    index_key: Zeroizing<[u8; 32]>,
    write_lock: Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the database at `path`, with its key from `secrets` (created on first use).
    pub fn open(path: &Path, secrets: &dyn Secrets) -> Result<Self> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(32 * 1024 * 1024)
            .open()?;
        let tree = db.open_tree("desk")?;
        let id = match tree.get(key(prefix::META, b"db-id"))? {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => {
                let id = Uuid::new_v4().to_string();
                tree.insert(key(prefix::META, b"db-id"), id.as_bytes())?;
                db.flush()?;
                id
            }
        };
        let master = secrets.get_or_create(&format!("store-key-{id}"))?;
        let derive = |label: &[u8]| {
            let mut mac =
                <Hmac<Sha256> as Mac>::new_from_slice(master.as_ref()).expect("any key length");
            mac.update(label);
            Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()))
        };
        let store = Self {
            cipher: Aes256Gcm::new(derive(b"records").as_ref().into()),
            index_key: derive(b"index"),
            db,
            tree,
            write_lock: Mutex::new(()),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<()> {
        let version_key = key(prefix::META, b"schema");
        let found = self
            .tree
            .get(&version_key)?
            .map(|v| u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4])))
            .unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found });
        }
        // Version 0 → 1: the first layout; later migrations go here, one step at a time.
        if found < SCHEMA_VERSION {
            self.tree
                .insert(&version_key, &SCHEMA_VERSION.to_be_bytes())?;
            self.db.flush()?;
        }
        Ok(())
    }

    fn seal<T: Serialize>(&self, value: &T) -> Vec<u8> {
        let plain = Zeroizing::new(serde_json::to_vec(value).expect("records serialize"));
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
                .expect("AES-GCM encrypts"),
        );
        out
    }

    fn open_value<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        if bytes.len() < 12 + 16 {
            return Err(StoreError::Decrypt);
        }
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
                .map_err(|_| StoreError::Decrypt)?,
        );
        serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    fn get<T: DeserializeOwned>(&self, k: &[u8]) -> Result<Option<T>> {
        self.tree.get(k)?.map(|v| self.open_value(&v)).transpose()
    }

    fn scan<T: DeserializeOwned>(&self, p: u8) -> Result<Vec<T>> {
        self.tree
            .scan_prefix([p])
            .map(|r| self.open_value(&r?.1))
            .collect()
    }

    /// A keyed hash of an ABHA number or address: the index key, which reveals nothing by itself.
    fn blind(&self, id: &str) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.index_key.as_ref()).expect("32-byte key");
        mac.update(id.trim().to_ascii_lowercase().as_bytes());
        key(prefix::ABHA_INDEX, &mac.finalize().into_bytes())
    }

    /// Runs `change` with exclusive write access and commits everything it wrote as one atomic,
    /// flushed batch. Nothing is written when it returns an error.
    pub fn write<R, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&mut Writer<'_>) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        let _guard = self.write_lock.lock().expect("store write lock");
        let mut writer = Writer {
            store: self,
            batch: sled::Batch::default(),
            overlay: HashMap::new(),
        };
        let result = change(&mut writer)?;
        let Writer { batch, .. } = writer;
        self.tree.apply_batch(batch).map_err(StoreError::from)?;
        self.db.flush().map_err(StoreError::from)?;
        Ok(result)
    }

    pub fn patient(&self, id: Uuid) -> Result<Option<Patient>> {
        self.get(&key(prefix::PATIENT, id.as_bytes()))
    }

    pub fn patients(&self) -> Result<Vec<Patient>> {
        self.scan(prefix::PATIENT)
    }

    pub fn abha_profile(&self, abha_number: &str) -> Result<Option<AbhaProfile>> {
        self.get(&key(prefix::ABHA, abha_number.as_bytes()))
    }

    /// The patient an ABHA number or address belongs to at this clinic.
    pub fn patient_by_abha(&self, id: &str) -> Result<Option<Patient>> {
        match self.tree.get(self.blind(id))? {
            Some(pid) => self
                .patient(Uuid::from_slice(&pid).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => Ok(None),
        }
    }

    pub fn facility(&self) -> Result<Option<HealthFacility>> {
        self.get(&key(prefix::FACILITY, b"this"))
    }

    pub fn pending(&self, request_id: Uuid) -> Result<Option<Pending>> {
        self.get(&key(prefix::PENDING, request_id.as_bytes()))
    }

    pub fn outbox(&self) -> Result<Vec<OutboxItem>> {
        self.scan(prefix::OUTBOX)
    }

    pub fn outbox_item(&self, id: u64) -> Result<Option<OutboxItem>> {
        self.get(&key(prefix::OUTBOX, &id.to_be_bytes()))
    }

    /// Every request still waiting for ABDM's answer.
    pub fn pendings(&self) -> Result<Vec<Pending>> {
        self.scan(prefix::PENDING)
    }

    /// Whether any request still waits for ABDM's answer.
    pub fn has_pending(&self) -> Result<bool> {
        Ok(self
            .tree
            .scan_prefix([prefix::PENDING])
            .next()
            .transpose()?
            .is_some())
    }

    /// The oldest queued outbox item.
    pub fn next_queued(&self) -> Result<Option<OutboxItem>> {
        match self.tree.scan_prefix([prefix::QUEUED]).next() {
            Some(entry) => {
                let (k, _) = entry?;
                self.outbox_item(u64::from_be_bytes(
                    k[1..9]
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("queue index".into()))?,
                ))
            }
            None => Ok(None),
        }
    }

    pub fn tokens(&self, date: &str) -> Result<TokenDay> {
        Ok(self
            .get(&key(prefix::TOKENS, date.as_bytes()))?
            .unwrap_or_default())
    }

    pub fn audit_log(&self) -> Result<Vec<AuditEntry>> {
        self.scan(prefix::AUDIT)
    }

    /// The highest relay `seq` whose effects are committed.
    pub fn relay_committed(&self) -> Result<u64> {
        Ok(self
            .tree
            .get(key(prefix::META, b"relay-seq"))?
            .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
            .unwrap_or(0))
    }

    fn counter(&self, name: &[u8]) -> Result<u64> {
        Ok(self
            .tree
            .get(key(prefix::META, name))?
            .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
            .unwrap_or(0))
    }
}

/// Writes in progress inside [`Store::write`]: reads see the writes already made.
pub struct Writer<'a> {
    store: &'a Store,
    batch: sled::Batch,
    overlay: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Writer<'_> {
    fn put_raw(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.batch.insert(k.clone(), v.clone());
        self.overlay.insert(k, Some(v));
    }

    fn put<T: Serialize>(&mut self, k: Vec<u8>, value: &T) {
        let sealed = self.store.seal(value);
        self.put_raw(k, sealed);
    }

    fn remove(&mut self, k: Vec<u8>) {
        self.batch.remove(k.clone());
        self.overlay.insert(k, None);
    }

    fn raw(&self, k: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(k) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.store.tree.get(k)?.map(|v| v.to_vec())),
        }
    }

    fn get<T: DeserializeOwned>(&self, k: &[u8]) -> Result<Option<T>> {
        self.raw(k)?.map(|v| self.store.open_value(&v)).transpose()
    }

    fn next_counter(&mut self, name: &[u8]) -> Result<u64> {
        let k = key(prefix::META, name);
        let n = match self.raw(&k)? {
            Some(v) => u64::from_be_bytes(v.as_slice().try_into().unwrap_or([0; 8])),
            None => self.store.counter(name)?,
        } + 1;
        self.put_raw(k, n.to_be_bytes().to_vec());
        Ok(n)
    }

    pub fn patient(&self, id: Uuid) -> Result<Option<Patient>> {
        self.get(&key(prefix::PATIENT, id.as_bytes()))
    }

    /// Saves a patient and keeps the ABHA index in step.
    pub fn put_patient(&mut self, patient: &Patient) -> Result<()> {
        if let Some(old) = self.patient(patient.id)? {
            for id in [old.abha_number, old.abha_address].into_iter().flatten() {
                self.remove(self.store.blind(&id));
            }
        }
        for id in [&patient.abha_number, &patient.abha_address]
            .into_iter()
            .flatten()
        {
            self.put_raw(self.store.blind(id), patient.id.as_bytes().to_vec());
        }
        self.put(key(prefix::PATIENT, patient.id.as_bytes()), patient);
        Ok(())
    }

    pub fn patient_by_abha(&self, id: &str) -> Result<Option<Patient>> {
        match self.raw(&self.store.blind(id))? {
            Some(pid) => self
                .patient(Uuid::from_slice(&pid).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => Ok(None),
        }
    }

    pub fn abha_profile(&self, abha_number: &str) -> Result<Option<AbhaProfile>> {
        self.get(&key(prefix::ABHA, abha_number.as_bytes()))
    }

    pub fn put_abha_profile(&mut self, profile: &AbhaProfile) {
        self.put(key(prefix::ABHA, profile.abha_number.as_bytes()), profile);
    }

    pub fn put_facility(&mut self, facility: &HealthFacility) {
        self.put(key(prefix::FACILITY, b"this"), facility);
    }

    pub fn put_pending(&mut self, pending: &Pending) {
        self.put(key(prefix::PENDING, pending.request_id.as_bytes()), pending);
    }

    pub fn pending(&self, request_id: Uuid) -> Result<Option<Pending>> {
        self.get(&key(prefix::PENDING, request_id.as_bytes()))
    }

    pub fn remove_pending(&mut self, request_id: Uuid) {
        self.remove(key(prefix::PENDING, request_id.as_bytes()));
    }

    /// Queues an ABDM call; returns its outbox id.
    pub fn enqueue(&mut self, mut item: OutboxItem) -> Result<u64> {
        item.id = self.next_counter(b"outbox-seq")?;
        self.put_outbox_item(&item);
        Ok(item.id)
    }

    pub fn outbox_item(&self, id: u64) -> Result<Option<OutboxItem>> {
        self.get(&key(prefix::OUTBOX, &id.to_be_bytes()))
    }

    pub fn put_outbox_item(&mut self, item: &OutboxItem) {
        let queued = key(prefix::QUEUED, &item.id.to_be_bytes());
        if item.state == OutboxState::Queued {
            self.put_raw(queued, Vec::new());
        } else {
            self.remove(queued);
        }
        self.put(key(prefix::OUTBOX, &item.id.to_be_bytes()), item);
    }

    /// The patient's token for `date`: the same one all day, a new number otherwise.
    pub fn token_for(&mut self, patient: Uuid, date: &str) -> Result<(u32, bool)> {
        let k = key(prefix::TOKENS, date.as_bytes());
        let mut day: TokenDay = self.get(&k)?.unwrap_or_default();
        if let Some(n) = day.by_patient.get(&patient) {
            return Ok((*n, false));
        }
        day.next += 1;
        let n = day.next;
        day.by_patient.insert(patient, n);
        self.put(k, &day);
        Ok((n, true))
    }

    pub fn audit(
        &mut self,
        action: &str,
        detail: impl Into<String>,
        patient_id: Option<Uuid>,
    ) -> Result<()> {
        let seq = self.next_counter(b"audit-seq")?;
        let entry = AuditEntry {
            seq,
            at: now(),
            action: action.into(),
            detail: detail.into(),
            patient_id,
        };
        self.put(key(prefix::AUDIT, &seq.to_be_bytes()), &entry);
        Ok(())
    }

    /// Records that relay message `seq` is applied (in the same batch as its effects).
    pub fn set_relay_committed(&mut self, seq: u64) {
        self.put_raw(key(prefix::META, b"relay-seq"), seq.to_be_bytes().to_vec());
    }
}

#[cfg(test)]
mod tests;
