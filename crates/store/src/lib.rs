//! `desk-store`: everything the clinic's desk keeps, on the clinic's machine, in sled.
//!
//! * Typed records ([`Record`]): each kind under its own key prefix ([`schema::kind`]) in one tree,
//!   so a change touching several of them is one atomic batch ([`Store::write`]).
//! * Every value is sealed (AES-256-GCM) with its database and its key as associated data; the key
//!   comes from the OS keyring ([`Secrets`]). Identifiers (ABHA numbers and addresses) appear in
//!   keys only as keyed hashes. A digest over the whole database, updated in the same batch as
//!   every change, is checked on open: records swapped, removed or rolled back outside the app are
//!   noticed ([`StoreError::Tampered`]).
//! * Nothing is reported saved before it is flushed: [`Store::write`] applies its batch and flushes.
//! * A database whose key is not in this computer's keyring is refused, never paired with a new key.
//!
//! What is *absent*: no plain value on disk, no identity in a key, no flow logic (desk-core's).

mod crypto;
pub mod record;
pub mod records;
pub mod schema;
mod secrets;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;
use zeroize::Zeroizing;

pub use record::{Id, Record};
pub use records::*;
pub use schema::{kind, SCHEMA_VERSION};
pub use secrets::{KeyringSecrets, MemorySecrets, Secret, SecretError, Secrets};
pub use zeroize;

use crypto::{xor, Keys};

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (disk full, permissions, damage).
    #[error("the local database could not be used: {0}")]
    Storage(#[from] sled::Error),
    /// The keyring failed.
    #[error("the database key is not available: {0}")]
    Key(#[from] SecretError),
    /// The key for an existing database is not in the keyring.
    #[error("the key for this clinic's database is not in this computer's keyring (entry {entry:?}); restore the keyring from the backup made with the database, or open the database on the computer it was made on")]
    KeyMissing {
        /// The keyring entry that is missing.
        entry: String,
    },
    /// A value that does not open: the key does not match, or the value was moved or damaged.
    #[error("a record of the local database does not open with this database's key: it was damaged or changed outside ABDM Desk")]
    Decrypt,
    /// The digest does not match the records.
    #[error("the local database was changed outside ABDM Desk (a record was replaced, removed or rolled back); restore it from a backup")]
    Tampered,
    /// A value that opens but is not what its kind should be.
    #[error("a record is unreadable: {0}")]
    Corrupt(String),
    /// A newer layout.
    #[error("this database was written by a newer version of ABDM Desk (layout {found}, this version reads up to {SCHEMA_VERSION})")]
    TooNew {
        /// Its layout.
        found: u32,
    },
    /// A development layout that is no longer read.
    #[error("this database was made by a development build of ABDM Desk (layout {found}) and cannot be opened; move it away to start a new one")]
    TooOld {
        /// Its layout.
        found: u32,
    },
}

/// The store's result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Now, as stored.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

fn key(kind: u8, id: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + id.len());
    k.push(kind);
    k.extend_from_slice(id);
    k
}

fn meta_key(name: &str) -> Vec<u8> {
    key(kind::META, name.as_bytes())
}

fn unsealed(k: &[u8]) -> bool {
    k.first() == Some(&kind::META) && schema::UNSEALED_META.contains(&&k[1..])
}

/// The local database.
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    keys: Keys,
    write_lock: Mutex<()>,
    durable: Durable,
    /// Counts committed writes, so that a screen can follow the store instead of polling it.
    changes: tokio::sync::watch::Sender<u64>,
}

/// What makes a flushed write durable. sled's `flush` writes its log with `sync_file_range` on
/// Linux, which neither flushes the disk's cache nor the file's metadata, and never syncs the
/// files it keeps large values in: a power cut could lose what it reported flushed (our power-cut
/// test did). So after each flush the desk `fdatasync`s the log, every large-value file not yet
/// synced, and the directories.
struct Durable {
    dir: std::path::PathBuf,
    log: std::fs::File,
    synced_blobs: Mutex<std::collections::HashSet<std::ffi::OsString>>,
}

impl Durable {
    fn open(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            log: std::fs::File::open(dir.join("db"))?,
            synced_blobs: Mutex::new(Default::default()),
        })
    }

    fn sync(&self) -> std::io::Result<()> {
        self.log.sync_data()?;
        let blobs = self.dir.join("blobs");
        if let Ok(entries) = std::fs::read_dir(&blobs) {
            let mut synced = self.synced_blobs.lock().expect("blob list lock");
            let mut any = false;
            for entry in entries {
                let entry = entry?;
                if synced.insert(entry.file_name()) {
                    std::fs::File::open(entry.path())?.sync_data()?;
                    any = true;
                }
            }
            if any {
                std::fs::File::open(&blobs)?.sync_all()?;
            }
        }
        Ok(())
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Storage(sled::Error::Io(e))
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the database at `path`. A new database gets a new key in `secrets`; an
    /// existing one must find its key there.
    pub fn open(path: &Path, secrets: &dyn Secrets) -> Result<Self> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(32 * 1024 * 1024)
            .open()?;
        let tree = db.open_tree("desk")?;
        let existing = tree.get(meta_key("db-id"))?;
        let (db_id, master) = match existing {
            Some(v) => {
                let id = Uuid::parse_str(&String::from_utf8_lossy(&v))
                    .map_err(|e| StoreError::Corrupt(format!("database id: {e}")))?;
                let entry = format!("store-key-{id}");
                let master = secrets
                    .get(&entry)?
                    .ok_or(StoreError::KeyMissing { entry })?;
                (id, master)
            }
            None => {
                let id = Uuid::new_v4();
                let entry = format!("store-key-{id}");
                // A key provided ahead (a fixed key for tests and servers) or a new one, stored
                // first: a database must never exist without its key.
                let master = match secrets.get(&entry)? {
                    Some(key) => key,
                    None => {
                        let mut master = Zeroizing::new(vec![0u8; 32]);
                        rand_core::RngCore::fill_bytes(
                            &mut rand_core::OsRng,
                            master.as_mut_slice(),
                        );
                        secrets.set(&entry, &master)?;
                        master
                    }
                };
                let mut batch = sled::Batch::default();
                batch.insert(meta_key("db-id"), id.to_string().as_bytes());
                batch.insert(meta_key("schema"), &SCHEMA_VERSION.to_be_bytes());
                batch.insert(meta_key("digest"), &[0u8; 32]);
                tree.apply_batch(batch)?;
                db.flush()?;
                let durable = Durable::open(path).map_err(io)?;
                durable.sync().map_err(io)?;
                // sled writes its settings file without syncing it either.
                std::fs::File::open(path.join("conf"))
                    .and_then(|f| f.sync_all())
                    .and_then(|_| std::fs::File::open(path)?.sync_all())
                    .map_err(io)?;
                (id, master)
            }
        };
        let store = Self {
            keys: Keys::new(&master, *db_id.as_bytes()),
            durable: Durable::open(path).map_err(io)?,
            db,
            tree,
            write_lock: Mutex::new(()),
            changes: tokio::sync::watch::Sender::new(0),
        };
        let found = store
            .tree
            .get(meta_key("schema"))?
            .map(|v| u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4])))
            .unwrap_or(1);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::TooOld { found });
        }
        store.check_digest()?;
        Ok(store)
    }

    /// Recomputes the digest over every sealed entry and compares it with the stored one.
    fn check_digest(&self) -> Result<()> {
        let mut digest = [0u8; 32];
        for entry in self.tree.iter() {
            let (k, v) = entry?;
            if !unsealed(&k) {
                xor(&mut digest, &self.keys.entry_mac(&k, &v));
            }
        }
        if digest != self.stored_digest()? {
            return Err(StoreError::Tampered);
        }
        Ok(())
    }

    fn stored_digest(&self) -> Result<[u8; 32]> {
        Ok(self
            .tree
            .get(meta_key("digest"))?
            .and_then(|v| v.as_ref().try_into().ok())
            .unwrap_or([0; 32]))
    }

    fn open_value<T: DeserializeOwned>(&self, k: &[u8], sealed: &[u8]) -> Result<T> {
        let plain = self.keys.open(k, sealed).ok_or(StoreError::Decrypt)?;
        serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    fn key_of(&self, kind: u8, id: &Id) -> Vec<u8> {
        match id {
            Id::Raw(bytes) => key(kind, bytes),
            Id::Blind(text) => key(kind, &self.keys.blind(text)),
        }
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
            overlay: BTreeMap::new(),
            digest_delta: [0; 32],
        };
        let result = change(&mut writer)?;
        let Writer {
            overlay,
            digest_delta,
            ..
        } = writer;
        if overlay.is_empty() {
            return Ok(result);
        }
        let mut batch = sled::Batch::default();
        for (k, v) in overlay {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        let mut digest = self.stored_digest().map_err(E::from)?;
        xor(&mut digest, &digest_delta);
        batch.insert(meta_key("digest"), &digest);
        self.tree.apply_batch(batch).map_err(StoreError::from)?;
        self.db.flush().map_err(StoreError::from)?;
        self.durable.sync().map_err(io)?;
        self.changes.send_modify(|n| *n += 1);
        Ok(result)
    }

    /// Changes whenever a write is committed (durable by then); its value counts the writes.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// A record by id.
    pub fn get<R: Record>(&self, id: &Id) -> Result<Option<R>> {
        let k = self.key_of(R::KIND, id);
        self.tree
            .get(&k)?
            .map(|v| self.open_value(&k, &v))
            .transpose()
    }

    /// Every record of a kind, in key order.
    pub fn all<R: Record>(&self) -> Result<Vec<R>> {
        self.tree
            .scan_prefix([R::KIND])
            .map(|r| {
                let (k, v) = r?;
                self.open_value(&k, &v)
            })
            .collect()
    }

    /// The last `limit` records of a kind in key order, last first (the newest of a counted
    /// kind), without reading the others.
    pub fn last<R: Record>(&self, limit: usize) -> Result<Vec<R>> {
        self.tree
            .scan_prefix([R::KIND])
            .rev()
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                self.open_value(&k, &v)
            })
            .collect()
    }

    /// Records of a kind from `start` on, at most `limit`, in key order.
    pub fn range<R: Record>(&self, start: &Id, limit: usize) -> Result<Vec<R>> {
        let from = self.key_of(R::KIND, start);
        self.tree
            .range(from..)
            .take_while(|r| {
                r.as_ref()
                    .map_or(true, |(k, _)| k.first() == Some(&R::KIND))
            })
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                self.open_value(&k, &v)
            })
            .collect()
    }

    /// Ids (raw key suffixes) of an index kind, in order, at most `limit`.
    pub fn index_ids(&self, kind: u8, limit: usize) -> Result<Vec<Vec<u8>>> {
        self.tree
            .scan_prefix([kind])
            .take(limit)
            .map(|r| Ok(r?.0[1..].to_vec()))
            .collect()
    }

    /// An index entry's value.
    pub fn index(&self, kind: u8, id: &Id) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let k = self.key_of(kind, id);
        match self.tree.get(&k)? {
            Some(v) => Ok(Some(self.keys.open(&k, &v).ok_or(StoreError::Decrypt)?)),
            None => Ok(None),
        }
    }

    /// A sealed number in the meta area (0 when absent).
    pub fn meta_u64(&self, name: &str) -> Result<u64> {
        let k = meta_key(name);
        match self.tree.get(&k)? {
            Some(v) => number(&self.keys.open(&k, &v).ok_or(StoreError::Decrypt)?),
            None => Ok(0),
        }
    }
}

fn number(bytes: &[u8]) -> Result<u64> {
    Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| {
        StoreError::Corrupt("a counter is not 8 bytes".into())
    })?))
}

/// Writes in progress inside [`Store::write`]: reads see the writes already made.
pub struct Writer<'a> {
    store: &'a Store,
    /// Sealed values to write (`None`: delete), by key.
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    digest_delta: [u8; 32],
}

impl Writer<'_> {
    fn raw(&self, k: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(k) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.store.tree.get(k)?.map(|v| v.to_vec())),
        }
    }

    /// Replaces the value at `k` (or deletes it), keeping the digest delta in step.
    fn set_raw(&mut self, k: Vec<u8>, v: Option<Vec<u8>>) -> Result<()> {
        if let Some(old) = self.raw(&k)? {
            xor(&mut self.digest_delta, &self.store.keys.entry_mac(&k, &old));
        }
        if let Some(new) = &v {
            xor(&mut self.digest_delta, &self.store.keys.entry_mac(&k, new));
        }
        self.overlay.insert(k, v);
        Ok(())
    }

    fn seal_at(&mut self, k: Vec<u8>, plain: &[u8]) {
        let sealed = self.store.keys.seal(&k, plain);
        // A read of the old value can only fail on a broken disk; the batch would fail too.
        if let Err(e) = self.set_raw(k, Some(sealed)) {
            tracing::error!(error = %e, "reading a record before replacing it failed");
        }
    }

    /// A record by id, as this change leaves it.
    pub fn get<R: Record>(&self, id: &Id) -> Result<Option<R>> {
        let k = self.store.key_of(R::KIND, id);
        self.raw(&k)?
            .map(|v| self.store.open_value(&k, &v))
            .transpose()
    }

    /// Saves a record.
    pub fn put<R: Record>(&mut self, record: &R) {
        let k = self.store.key_of(R::KIND, &record.id());
        let plain = Zeroizing::new(serde_json::to_vec(record).expect("records serialize"));
        self.seal_at(k, &plain);
    }

    /// Deletes a record.
    pub fn delete<R: Record>(&mut self, id: &Id) -> Result<()> {
        let k = self.store.key_of(R::KIND, id);
        if self.raw(&k)?.is_some() {
            self.set_raw(k, None)?;
        }
        Ok(())
    }

    /// Every record of a kind as this change leaves it, in key order.
    pub fn all<R: Record>(&self) -> Result<Vec<R>> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for entry in self.store.tree.scan_prefix([R::KIND]) {
            let (k, v) = entry?;
            merged.insert(k.to_vec(), v.to_vec());
        }
        for (k, v) in self.overlay.range(vec![R::KIND]..vec![R::KIND + 1]) {
            match v {
                Some(v) => merged.insert(k.clone(), v.clone()),
                None => merged.remove(k),
            };
        }
        merged
            .iter()
            .map(|(k, v)| self.store.open_value(k, v))
            .collect()
    }

    /// Sets an index entry (a small sealed value).
    pub fn put_index(&mut self, kind: u8, id: &Id, value: &[u8]) {
        let k = self.store.key_of(kind, id);
        self.seal_at(k, value);
    }

    /// Removes an index entry.
    pub fn remove_index(&mut self, kind: u8, id: &Id) {
        let k = self.store.key_of(kind, id);
        if let Err(e) = self.set_raw(k, None) {
            tracing::error!(error = %e, "reading an index entry before removing it failed");
        }
    }

    /// An index entry's value, as this change leaves it.
    pub fn index(&self, kind: u8, id: &Id) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let k = self.store.key_of(kind, id);
        match self.raw(&k)? {
            Some(v) => Ok(Some(
                self.store.keys.open(&k, &v).ok_or(StoreError::Decrypt)?,
            )),
            None => Ok(None),
        }
    }

    /// A sealed number in the meta area (0 when absent).
    pub fn meta_u64(&self, name: &str) -> Result<u64> {
        let k = meta_key(name);
        match self.raw(&k)? {
            Some(v) => number(&self.store.keys.open(&k, &v).ok_or(StoreError::Decrypt)?),
            None => Ok(0),
        }
    }

    /// Sets a sealed number in the meta area.
    pub fn set_meta_u64(&mut self, name: &str, value: u64) {
        self.seal_at(meta_key(name), &value.to_be_bytes());
    }

    /// The next value of a named counter (1, 2, …).
    pub fn next_counter(&mut self, name: &str) -> Result<u64> {
        let n = self.meta_u64(name)? + 1;
        self.set_meta_u64(name, n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
