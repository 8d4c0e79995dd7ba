//! Mailbox storage behind a small trait: sled now; a PostgreSQL backend (several relay instances)
//! can implement the same contract.
//!
//! The contract, which a second backend must keep:
//! * `append` is atomic: the per-clinic sequence number, the message and its dedupe key are stored
//!   together or not at all; sequence numbers are assigned in commit order without gaps;
//! * a dedupe key seen before returns the earlier `seq` and stores nothing;
//! * `sync` returns only when everything appended before the call is durable (the relay answers
//!   202 after it) — backends should batch concurrent syncs into one flush (group commit);
//! * `ack(up_to)` deletes messages `≤ up_to` (never more) and is idempotent;
//! * `read_after` may see messages that are not yet durable: callers stream only up to the highest
//!   `seq` a completed `sync` covered (or `last_seq` after a restart), because a message lost in a
//!   crash frees its `seq` for the next one.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use tokio::sync::{watch, Notify};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failed: {0}")]
    Storage(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Storage(e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// False when the dedupe key was already stored (a redelivery).
    pub new: bool,
}

pub type SyncFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

pub trait Store: Send + Sync + 'static {
    /// Stores a message for `clinic` unless `dedupe_key` was seen; `build(seq)` makes its bytes.
    fn append(
        &self,
        clinic: &str,
        dedupe_key: &str,
        build: &dyn Fn(u64) -> Vec<u8>,
    ) -> Result<Appended, StoreError>;
    /// Durability barrier for everything appended before the call.
    fn sync(&self) -> SyncFuture<'_>;
    /// Up to `limit` messages with `seq > after`, in order.
    fn read_after(
        &self,
        clinic: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Deletes messages `≤ up_to`; returns how many were deleted.
    fn ack(&self, clinic: &str, up_to: u64) -> Result<u64, StoreError>;
    /// The highest `seq` assigned so far (after a restart: the highest that survived).
    fn last_seq(&self, clinic: &str) -> Result<u64, StoreError>;
    /// The highest acknowledged `seq`.
    fn acked(&self, clinic: &str) -> Result<u64, StoreError>;
    /// Stored, unacknowledged messages.
    fn depth(&self, clinic: &str) -> Result<u64, StoreError>;
    /// Forgets dedupe keys recorded before `unix_secs` (ABDM redelivers within minutes, not days).
    fn prune_dedupe(&self, unix_secs: u64) -> Result<u64, StoreError>;
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn message_key(clinic: &str, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(clinic.len() + 9);
    k.extend_from_slice(clinic.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn u64_of(v: Option<sled::IVec>) -> u64 {
    v.map(|b| u64::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 8])))
        .unwrap_or(0)
}

/// sled, with group commit: one background flush serves every `sync` waiting when it starts.
pub struct SledStore {
    db: sled::Db,
    messages: sled::Tree,
    dedupe: sled::Tree,
    meta: sled::Tree,
    /// Bumped by each flush as it starts; a waiter needs a flush that started after its append.
    flush_epoch: AtomicU64,
    flushed: watch::Receiver<u64>,
    wake: Arc<Notify>,
}

impl SledStore {
    pub fn open(path: &std::path::Path) -> Result<Arc<Self>, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
            .flush_every_ms(None)
            .open()?;
        let (tx, rx) = watch::channel(0u64);
        let store = Arc::new(Self {
            messages: db.open_tree("messages")?,
            dedupe: db.open_tree("dedupe")?,
            meta: db.open_tree("meta")?,
            db,
            flush_epoch: AtomicU64::new(0),
            flushed: rx,
            wake: Arc::new(Notify::new()),
        });
        let flusher = Arc::downgrade(&store);
        let wake = store.wake.clone();
        tokio::spawn(async move {
            loop {
                wake.notified().await;
                let Some(store) = flusher.upgrade() else {
                    break;
                };
                let epoch = store.flush_epoch.fetch_add(1, Ordering::SeqCst) + 1;
                if let Err(e) = store.db.flush_async().await {
                    tracing::error!(error = %e, "flush failed; relay answers 5xx until it works");
                    continue;
                }
                let _ = tx.send(epoch);
            }
        });
        Ok(store)
    }
}

impl Store for SledStore {
    fn append(
        &self,
        clinic: &str,
        dedupe_key: &str,
        build: &dyn Fn(u64) -> Vec<u8>,
    ) -> Result<Appended, StoreError> {
        let mut dkey = clinic.as_bytes().to_vec();
        dkey.push(0);
        dkey.extend_from_slice(dedupe_key.as_bytes());
        let next_key = format!("next:{clinic}");
        let result =
            (&self.messages, &self.dedupe, &self.meta).transaction(|(messages, dedupe, meta)| {
                if let Some(seen) = dedupe.get(&dkey)? {
                    return Ok(Appended {
                        seq: u64_of(Some(seen.subslice(0, 8))),
                        new: false,
                    });
                }
                let seq = u64_of(meta.get(next_key.as_bytes())?) + 1;
                meta.insert(next_key.as_bytes(), &seq.to_be_bytes())?;
                messages.insert(message_key(clinic, seq), build(seq))?;
                let mut value = seq.to_be_bytes().to_vec();
                value.extend_from_slice(&now_unix().to_be_bytes());
                dedupe.insert(dkey.as_slice(), value)?;
                Ok::<_, ConflictableTransactionError<()>>(Appended { seq, new: true })
            });
        result.map_err(|e| match e {
            TransactionError::Storage(e) => StoreError::from(e),
            TransactionError::Abort(()) => StoreError::Storage("transaction aborted".into()),
        })
    }

    fn sync(&self) -> SyncFuture<'_> {
        Box::pin(async move {
            let needed = self.flush_epoch.load(Ordering::SeqCst) + 1;
            self.wake.notify_one();
            let mut flushed = self.flushed.clone();
            flushed
                .wait_for(|done| *done >= needed)
                .await
                .map_err(|_| StoreError::Storage("the flusher stopped".into()))?;
            Ok(())
        })
    }

    fn read_after(
        &self,
        clinic: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let start = message_key(clinic, after.saturating_add(1));
        let end = message_key(clinic, u64::MAX);
        self.messages
            .range(start..=end)
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                let seq = u64::from_be_bytes(k[k.len() - 8..].try_into().expect("8-byte suffix"));
                Ok((seq, v.to_vec()))
            })
            .collect()
    }

    fn ack(&self, clinic: &str, up_to: u64) -> Result<u64, StoreError> {
        let acked_key = format!("acked:{clinic}");
        let acked = u64_of(self.meta.get(acked_key.as_bytes())?);
        let last = u64_of(self.meta.get(format!("next:{clinic}").as_bytes())?);
        let up_to = up_to.min(last);
        if up_to <= acked {
            return Ok(0);
        }
        let mut removed = 0;
        let keys: Vec<sled::IVec> = self
            .messages
            .range(message_key(clinic, acked + 1)..=message_key(clinic, up_to))
            .keys()
            .collect::<Result<_, _>>()?;
        for key in keys {
            self.messages.remove(key)?;
            removed += 1;
        }
        self.meta
            .insert(acked_key.as_bytes(), &up_to.to_be_bytes())?;
        Ok(removed)
    }

    fn acked(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(u64_of(self.meta.get(format!("acked:{clinic}").as_bytes())?))
    }

    fn last_seq(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(u64_of(self.meta.get(format!("next:{clinic}").as_bytes())?))
    }

    fn depth(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(self.last_seq(clinic)?.saturating_sub(self.acked(clinic)?))
    }

    fn prune_dedupe(&self, unix_secs: u64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for entry in self.dedupe.iter() {
            let (key, value) = entry?;
            let at = value
                .get(8..16)
                .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
                .unwrap_or(0);
            if at < unix_secs {
                self.dedupe.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
