//! Mailbox storage behind a small trait, with two backends: the append-only log
//! ([`crate::log::LogStore`], the default) and sled ([`SledStore`]); a PostgreSQL backend (several
//! relay instances) can implement the same contract.
//!
//! The contract, which a second backend must keep:
//! * `append` resolves only when the message is durable (the relay answers 202 after it); it is
//!   atomic: the per-clinic sequence number, the message and its dedupe key are stored together or
//!   not at all; sequence numbers are assigned in commit order without gaps;
//! * a dedupe key seen before returns the earlier `seq` and stores nothing;
//! * `ack(up_to)` deletes messages `≤ up_to` (never more) and is idempotent;
//! * `read_after` may see messages whose `append` has not resolved yet: callers stream only up to the
//!   highest `seq` an `append` returned (or `last_seq` after a restart), because a message lost in a
//!   crash frees its `seq` for the next one.
//!
//! Concurrent appends must share one flush (group commit): one fsync per message would cap a relay
//! at a few thousand messages a second.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

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

pub type AppendFuture<'a> = Pin<Box<dyn Future<Output = Result<Appended, StoreError>> + Send + 'a>>;

/// Makes a message's bytes once its `seq` is known.
pub type Build = Box<dyn FnOnce(u64) -> Vec<u8> + Send>;

pub trait Store: Send + Sync + 'static {
    /// Stores a message for `clinic` unless `dedupe_key` was seen; resolves once it is durable.
    fn append(&self, clinic: &str, dedupe_key: &str, build: Build) -> AppendFuture<'_>;
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

pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Keys in the single `mailbox` tree: `m` messages, `d` dedupe keys, `n` last seq, `a` acked seq.
fn key(tag: u8, clinic: &str, suffix: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + clinic.len() + suffix.len());
    k.push(tag);
    k.extend_from_slice(clinic.as_bytes());
    k.push(0);
    k.extend_from_slice(suffix);
    k
}

fn message_key(clinic: &str, seq: u64) -> Vec<u8> {
    key(b'm', clinic, &seq.to_be_bytes())
}

fn u64_of(v: Option<sled::IVec>) -> u64 {
    v.map(|b| u64::from_be_bytes(b.as_ref().try_into().unwrap_or([0; 8])))
        .unwrap_or(0)
}

struct Job {
    clinic: String,
    dedupe_key: Vec<u8>,
    build: Build,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

type Reply = (oneshot::Sender<Result<Appended, StoreError>>, Appended);

/// sled, with group commit in two stages: a writer thread takes every append waiting and writes them
/// in one atomic batch; a flusher thread takes every batch written since its last flush, flushes once,
/// and answers them all. Writing never waits for the disk. One tree; the relay is its only writer.
pub struct SledStore {
    tree: sled::Tree,
    /// `None` once closing.
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Serialises acks (read acked, delete, write acked).
    ack_lock: Mutex<()>,
}

impl SledStore {
    pub fn open(path: &std::path::Path) -> Result<Arc<Self>, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
            // Appends flush explicitly; the background flush writes out acks so that dirty pages
            // cannot pile up in memory while a mailbox drains.
            .flush_every_ms(Some(500))
            .open()?;
        let tree = db.open_tree("mailbox")?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let (applied, to_flush) = std::sync::mpsc::channel::<Vec<Reply>>();
        let writer_tree = tree.clone();
        let writer = std::thread::Builder::new()
            .name("relay-writer".into())
            .spawn(move || write_loop(writer_tree, queue, applied))
            .map_err(|e| StoreError::Storage(e.to_string()))?;
        let flusher = std::thread::Builder::new()
            .name("relay-flusher".into())
            .spawn(move || flush_loop(db, to_flush))
            .map_err(|e| StoreError::Storage(e.to_string()))?;
        Ok(Arc::new(Self {
            tree,
            jobs: Some(jobs),
            threads: vec![writer, flusher],
            ack_lock: Mutex::new(()),
        }))
    }
}

impl Drop for SledStore {
    /// Lets the writer finish what is queued, then the flusher, so the database is closed (and its
    /// lock released) when the store is gone.
    fn drop(&mut self) {
        self.jobs.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Most appends one batch takes (bounds a batch's memory and latency).
const MAX_BATCH: usize = 4096;

fn write_loop(
    tree: sled::Tree,
    queue: std::sync::mpsc::Receiver<Job>,
    applied: std::sync::mpsc::Sender<Vec<Reply>>,
) {
    // The per-clinic counters are read from the tree once and kept here; the writer is the only one
    // to change them.
    let mut last: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut batch = sled::Batch::default();
        let mut in_batch: std::collections::HashMap<Vec<u8>, u64> =
            std::collections::HashMap::new();
        let mut counters = last.clone();
        let mut replies = Vec::with_capacity(jobs.len());
        let mut failure: Option<sled::Error> = None;
        for job in jobs {
            let step = (|| {
                let dkey = key(b'd', &job.clinic, &job.dedupe_key);
                if let Some(seq) = in_batch.get(&dkey) {
                    return Ok((
                        Appended {
                            seq: *seq,
                            new: false,
                        },
                        None,
                    ));
                }
                if let Some(seen) = tree.get(&dkey)? {
                    return Ok((
                        Appended {
                            seq: u64_of(Some(seen.subslice(0, 8))),
                            new: false,
                        },
                        None,
                    ));
                }
                let seq = match counters.get(&job.clinic) {
                    Some(n) => *n,
                    None => u64_of(tree.get(key(b'n', &job.clinic, b""))?),
                } + 1;
                counters.insert(job.clinic.clone(), seq);
                in_batch.insert(dkey.clone(), seq);
                let mut seen = seq.to_be_bytes().to_vec();
                seen.extend_from_slice(&now_unix().to_be_bytes());
                batch.insert(key(b'n', &job.clinic, b""), &seq.to_be_bytes());
                batch.insert(dkey, seen);
                Ok::<_, sled::Error>((Appended { seq, new: true }, Some(seq)))
            })();
            match step {
                Ok((appended, new_seq)) => {
                    if let Some(seq) = new_seq {
                        batch.insert(message_key(&job.clinic, seq), (job.build)(seq));
                    }
                    replies.push((job.reply, appended));
                }
                Err(e) => {
                    failure = Some(e);
                    replies.push((job.reply, Appended { seq: 0, new: false }));
                }
            }
        }
        let written = match failure {
            Some(e) => Err(e),
            None => tree.apply_batch(batch),
        };
        match written {
            Ok(()) => {
                last = counters;
                if applied.send(replies).is_err() {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "writing a batch failed; its messages are refused (ABDM will retry)");
                // The counters may not match the tree now: read them again next time.
                last.clear();
                for (reply, _) in replies {
                    let _ = reply.send(Err(StoreError::Storage(e.to_string())));
                }
            }
        }
    }
}

fn flush_loop(db: sled::Db, to_flush: std::sync::mpsc::Receiver<Vec<Reply>>) {
    while let Ok(first) = to_flush.recv() {
        let mut waiting = first;
        while let Ok(more) = to_flush.try_recv() {
            waiting.extend(more);
        }
        match db.flush() {
            Ok(_) => {
                for (reply, appended) in waiting {
                    let _ = reply.send(Ok(appended));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "flush failed; the messages waiting on it are refused (ABDM will retry)");
                for (reply, _) in waiting {
                    let _ = reply.send(Err(StoreError::Storage(e.to_string())));
                }
            }
        }
    }
}

impl Store for SledStore {
    fn append(&self, clinic: &str, dedupe_key: &str, build: Build) -> AppendFuture<'_> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            clinic: clinic.to_string(),
            dedupe_key: dedupe_key.as_bytes().to_vec(),
            build,
            reply,
        };
        let sent = self.jobs.as_ref().expect("open until dropped").send(job);
        Box::pin(async move {
            sent.map_err(|_| StoreError::Storage("the writer thread stopped".into()))?;
            answer
                .await
                .map_err(|_| StoreError::Storage("the writer thread stopped".into()))?
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
        self.tree
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
        let acked_key = key(b'a', clinic, b"");
        let _ack = self.ack_lock.lock().expect("ack lock");
        let acked = u64_of(self.tree.get(&acked_key)?);
        let up_to = up_to.min(self.last_seq(clinic)?);
        if up_to <= acked {
            return Ok(0);
        }
        let mut batch = sled::Batch::default();
        let mut removed = 0;
        for k in self
            .tree
            .range(message_key(clinic, acked + 1)..=message_key(clinic, up_to))
            .keys()
        {
            batch.remove(k?);
            removed += 1;
        }
        batch.insert(acked_key, &up_to.to_be_bytes());
        self.tree.apply_batch(batch)?;
        Ok(removed)
    }

    fn acked(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(u64_of(self.tree.get(key(b'a', clinic, b""))?))
    }

    fn last_seq(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(u64_of(self.tree.get(key(b'n', clinic, b""))?))
    }

    fn depth(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(self.last_seq(clinic)?.saturating_sub(self.acked(clinic)?))
    }

    fn prune_dedupe(&self, unix_secs: u64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for entry in self.tree.scan_prefix([b'd']) {
            let (k, value) = entry?;
            let at = value
                .get(8..16)
                .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
                .unwrap_or(0);
            if at < unix_secs {
                self.tree.remove(k)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
