//! The relay's store: an append-only log of checksummed batches in numbered segment files, with
//! the mailboxes indexed in memory.
//!
//! Why a log: every callback costs a durable write before its 202. A mailbox only appends at the
//! end and deletes from the front, so one `write` and one `fdatasync` per group of messages is all
//! it needs, and the index is rebuilt by reading the log at start (sled spent ~40 µs of CPU per
//! message and held durable ingest to a third of a plain HTTP handler's rate).
//!
//! Files (see the `codec` module for the bytes):
//! * `NNN.log` segments: messages, acks and push-path changes, each segment opened by a checkpoint
//!   of every mailbox's counters and the open push paths — O(clinics), never the dedupe keys;
//! * `keys-HHH.log`: dedupe keys of deleted segments, one file per hour in which they were first
//!   seen, deleted whole when the hour leaves the redelivery window.
//!
//! Bounds (each shown by a test): a message's key is written at most twice besides copies of the
//! message itself (in its record, then once into a key file when its segment goes), so bytes written
//! per message stay O(1) however many keys are remembered. A closed segment is compacted — its
//! unacknowledged messages copied forward, its keys moved, the file deleted — as soon as at most a
//! quarter of it is still waiting, or once it is older than half of `erase_within`; the active
//! segment is closed at that age too. So an idle clinic pins no segment, and an acknowledged message
//! is off the disk within `erase_within`.
//!
//! One writer thread owns the files. It takes every job waiting, encodes them into one batch,
//! writes and syncs it, and only then publishes the messages to the index and answers: readers
//! never see a message that is not durable. On open, a torn batch at the end of the newest file is
//! cut off (it was never answered); damage anywhere else, including before a valid batch of the
//! newest segment, refuses to start instead of losing answered messages.

mod codec;
pub mod disk;
mod replay;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::{mpsc, Arc, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;

pub use disk::{Disk, DiskFile, FsDisk, MemDisk};

use crate::store::{Appended, Build, MailboxState, Store, StoreError, StoreFuture};

/// How the log is laid out and kept.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// A new segment is started past this size.
    pub segment_bytes: u64,
    /// How long a request id is remembered to recognise a redelivery.
    pub dedupe_window: Duration,
    /// An acknowledged message is off the disk within this long.
    pub erase_within: Duration,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            segment_bytes: 64 * 1024 * 1024,
            dedupe_window: Duration::from_secs(2 * 86_400),
            erase_within: Duration::from_secs(3600),
        }
    }
}

fn io(context: &str, e: std::io::Error) -> StoreError {
    StoreError::Storage(format!("{context}: {e}"))
}

/// Where a message is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Loc {
    pub segment: u64,
    /// The record's start in the segment.
    pub offset: u64,
    /// The record's length.
    pub record_len: u32,
    /// The body's start, from the record's start.
    pub body_at: u32,
    pub body_len: u32,
    pub id: u64,
}

#[derive(Default)]
pub(crate) struct Mailbox {
    pub last: u64,
    pub acked: u64,
    pub acked_id: u64,
    /// Bodies waiting, in bytes.
    pub bytes: u64,
    pub messages: BTreeMap<u64, Loc>,
}

pub(crate) struct Segment {
    pub file: Arc<dyn DiskFile>,
    /// Bytes of batches written.
    pub total: u64,
    /// Bytes of records of unacknowledged messages.
    pub live: u64,
    /// Seconds since 1970 when it was started.
    pub created: u64,
}

/// Where a remembered dedupe key is stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Home {
    Segment(u64),
    KeyFile,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Seen {
    pub seq: u64,
    /// Seconds since 1970 when first recorded.
    pub at: u64,
    pub home: Home,
}

#[derive(Default)]
pub(crate) struct Index {
    pub mailboxes: HashMap<String, Mailbox>,
    /// `clinic \0 key` → where the key was first seen.
    pub dedupe: HashMap<String, Seen>,
    pub segments: BTreeMap<u64, Segment>,
    /// Open push paths: token hash → (clinic, expires at).
    pub pushes: HashMap<[u8; 32], (String, u64)>,
}

impl Index {
    /// Acknowledges up to `up_to` (never past the last message); returns how many went.
    pub fn ack(&mut self, clinic: &str, up_to: u64, id: Option<u64>) -> u64 {
        let mailbox = self.mailboxes.entry(clinic.to_string()).or_default();
        let up_to = up_to.min(mailbox.last);
        if up_to <= mailbox.acked {
            return 0;
        }
        let acked_id = mailbox
            .messages
            .get(&up_to)
            .map(|l| l.id)
            .or(id)
            .unwrap_or(0);
        mailbox.acked = up_to;
        mailbox.acked_id = acked_id;
        let keep = mailbox.messages.split_off(&(up_to + 1));
        let gone = std::mem::replace(&mut mailbox.messages, keep);
        for loc in gone.values() {
            mailbox.bytes = mailbox.bytes.saturating_sub(loc.body_len as u64);
            if let Some(segment) = self.segments.get_mut(&loc.segment) {
                segment.live = segment.live.saturating_sub(loc.record_len as u64);
            }
        }
        gone.len() as u64
    }

    /// Records a message at `loc` (replacing an older copy of the same `seq`).
    pub fn insert(&mut self, clinic: &str, seq: u64, loc: Loc) {
        let mailbox = self.mailboxes.entry(clinic.to_string()).or_default();
        mailbox.last = mailbox.last.max(seq);
        if seq <= mailbox.acked {
            return;
        }
        if let Some(old) = mailbox.messages.insert(seq, loc) {
            mailbox.bytes = mailbox.bytes.saturating_sub(old.body_len as u64);
            if let Some(segment) = self.segments.get_mut(&old.segment) {
                segment.live = segment.live.saturating_sub(old.record_len as u64);
            }
        }
        mailbox.bytes += loc.body_len as u64;
        if let Some(segment) = self.segments.get_mut(&loc.segment) {
            segment.live += loc.record_len as u64;
        }
    }
}

pub(crate) fn dedupe_key(clinic: &str, key: &str) -> String {
    let mut k = String::with_capacity(clinic.len() + 1 + key.len());
    k.push_str(clinic);
    k.push('\0');
    k.push_str(key);
    k
}

pub(crate) fn segment_name(id: u64) -> String {
    format!("{id:020}.log")
}

pub(crate) fn key_file_name(hour: u64) -> String {
    format!("keys-{hour:012}.log")
}

pub(crate) enum Job {
    Append {
        clinic: String,
        key: String,
        id: u64,
        build: Build,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Ack {
        clinic: String,
        up_to: u64,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    Push {
        hash: [u8; 32],
        clinic: String,
        /// 0 closes the path.
        expires_at: u64,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// The append-only log store (see the module documentation).
pub struct LogStore {
    index: Arc<RwLock<Index>>,
    /// `None` once closing.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl LogStore {
    /// Opens (or creates) the log in `dir` with the default layout.
    pub fn open(dir: &std::path::Path) -> Result<Arc<Self>, StoreError> {
        Self::open_on(
            Arc::new(
                FsDisk::open(dir).map_err(|e| io(&format!("cannot open {}", dir.display()), e))?,
            ),
            LogConfig::default(),
        )
    }

    /// Opens the log on any [`Disk`], replaying it into the index.
    pub fn open_on(disk: Arc<dyn Disk>, config: LogConfig) -> Result<Arc<Self>, StoreError> {
        let mut index = Index::default();
        let next = replay::replay(disk.as_ref(), &config, &mut index)?;
        let mut writer = writer::Writer::create(disk, next, config, &mut index)?;
        writer.compact_all(&mut index);
        let index = Arc::new(RwLock::new(index));
        let (jobs, queue) = mpsc::channel();
        let shared = index.clone();
        // Inside a tokio runtime, a batch's answers are handed to one task there, which completes
        // them all: one wake-up crosses from the writer thread per batch instead of one per message.
        let answers = tokio::runtime::Handle::try_current().ok().map(|runtime| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<writer::Answers>();
            runtime.spawn(async move {
                while let Some(batch) = rx.recv().await {
                    writer::answer(batch);
                }
            });
            tx
        });
        let thread = std::thread::Builder::new()
            .name("relay-log".into())
            .spawn(move || writer.run(queue, shared, answers))
            .map_err(|e| io("cannot start the log writer", e))?;
        Ok(Arc::new(Self {
            index,
            jobs: Some(jobs),
            writer: Some(thread),
        }))
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .expect("open until dropped")
            .send(job)
            .map_err(|_| StoreError::Storage("the log writer stopped".into()))
    }

    /// Segment files on disk (tests).
    pub fn segments(&self) -> usize {
        self.index.read().expect("index lock").segments.len()
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.writer.take() {
            let _ = t.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Storage("the log writer stopped".into())
}

impl Store for LogStore {
    fn append(
        &self,
        clinic: &str,
        dedupe_key: &str,
        id: u64,
        build: Build,
    ) -> StoreFuture<'_, Appended> {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(Job::Append {
            clinic: clinic.to_string(),
            key: dedupe_key.to_string(),
            id,
            build,
            reply,
        });
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| stopped())?
        })
    }

    fn read_after(
        &self,
        clinic: &str,
        after: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let wanted: Vec<(u64, Loc, Arc<dyn DiskFile>)> = {
            let index = self.index.read().expect("index lock");
            let Some(mailbox) = index.mailboxes.get(clinic) else {
                return Ok(Vec::new());
            };
            let mut bytes = 0usize;
            mailbox
                .messages
                .range(after.saturating_add(1)..)
                .take(max_count)
                .take_while(|(_, loc)| {
                    let first = bytes == 0;
                    bytes += loc.body_len as usize;
                    first || bytes <= max_bytes
                })
                .filter_map(|(&seq, &loc)| {
                    Some((seq, loc, index.segments.get(&loc.segment)?.file.clone()))
                })
                .collect()
        };
        // Read outside the lock; a segment deleted meanwhile stays readable through its open file.
        wanted
            .into_iter()
            .map(|(seq, loc, file)| {
                let mut body = vec![0; loc.body_len as usize];
                file.read_at(&mut body, loc.offset + loc.body_at as u64)
                    .map_err(|e| io("cannot read a message", e))?;
                Ok((seq, body))
            })
            .collect()
    }

    fn ack(&self, clinic: &str, up_to: u64) -> StoreFuture<'_, u64> {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(Job::Ack {
            clinic: clinic.to_string(),
            up_to,
            reply,
        });
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| stopped())?
        })
    }

    fn mailbox(&self, clinic: &str) -> MailboxState {
        let index = self.index.read().expect("index lock");
        index
            .mailboxes
            .get(clinic)
            .map(|m| MailboxState {
                last: m.last,
                acked: m.acked,
                acked_id: m.acked_id,
                depth: m.messages.len() as u64,
                bytes: m.bytes,
            })
            .unwrap_or_default()
    }

    fn message_id(&self, clinic: &str, seq: u64) -> Option<u64> {
        let index = self.index.read().expect("index lock");
        index
            .mailboxes
            .get(clinic)?
            .messages
            .get(&seq)
            .map(|l| l.id)
    }

    fn prune_dedupe(&self, unix_secs: u64) -> Result<u64, StoreError> {
        // In memory only: segment checkpoints never carry keys, and key files go by the hour.
        let mut index = self.index.write().expect("index lock");
        let before = index.dedupe.len();
        index.dedupe.retain(|_, seen| seen.at >= unix_secs);
        Ok((before - index.dedupe.len()) as u64)
    }

    fn set_push_path(&self, hash: [u8; 32], clinic: &str, expires_at: u64) -> StoreFuture<'_, ()> {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(Job::Push {
            hash,
            clinic: clinic.to_string(),
            expires_at,
            reply,
        });
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| stopped())?
        })
    }

    fn push_path(&self, hash: &[u8; 32]) -> Option<(String, u64)> {
        let index = self.index.read().expect("index lock");
        index.pushes.get(hash).cloned()
    }
}

#[cfg(test)]
mod tests;
