//! The relay's default store: an append-only log of checksummed records in numbered segment files,
//! with the mailboxes indexed in memory.
//!
//! Why not sled here: every callback costs the relay a durable write before its 202, and sled spent
//! ~40 µs of CPU per message on its page cache plus a costly flush, which held durable ingest to a
//! third of a plain HTTP handler's rate. A mailbox only ever appends at the end and deletes from the
//! front, so a log is all it needs: one `write` and one `fdatasync` per group of messages, the index
//! rebuilt by reading the log at start. (The desk's own database stays on sled; `SledStore` remains
//! a relay backend behind the same [`Store`] contract.)
//!
//! Records: `[len u32][crc32 u32][payload]`, payload `[kind u8]…`:
//! * message `1`: clinic, seq, dedupe key, time, body;
//! * ack `2`: clinic, up_to;
//! * checkpoint `3` (the first record of every segment): every clinic's last and acked seq and the
//!   dedupe keys still remembered — so a segment whose messages are all acknowledged can be deleted
//!   without losing counters or dedupe keys.
//!
//! One writer thread owns the active segment. It takes every job waiting, encodes them into one
//! buffer, writes and syncs it, and only then publishes the messages to the in-memory index and
//! answers: readers never see a message that is not durable. A torn record at the end of the last
//! segment (a crash mid-write) is cut off on open; those messages were never answered with 202.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};

use tokio::sync::oneshot;

use crate::store::{AppendFuture, Appended, Build, Store, StoreError};

/// A new segment is started past this size; whole acknowledged segments are deleted.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Segments are extended with zeros this much ahead of the records. Overwriting allocated blocks
/// lets `fdatasync` skip the file-size journal commit an append costs (measured here: a third less
/// time and CPU per sync).
const ALLOCATE_AHEAD: u64 = 4 * 1024 * 1024;
/// Most jobs one write takes (bounds a batch's memory and latency).
const MAX_BATCH: usize = 4096;
/// A batch smaller than this waits [`COMMIT_DELAY`] for company before it is written: one
/// `fdatasync` costs ~50 µs of CPU here, so under load fewer, fuller syncs leave more CPU for
/// answering ABDM (the idea of PostgreSQL's `commit_delay`).
const SMALL_BATCH: usize = 32;
const COMMIT_DELAY: std::time::Duration = std::time::Duration::from_micros(200);

const MESSAGE: u8 = 1;
const ACK: u8 = 2;
const CHECKPOINT: u8 = 3;

fn io(context: &str, e: std::io::Error) -> StoreError {
    StoreError::Storage(format!("{context}: {e}"))
}

/// Where a message's body is.
#[derive(Clone, Copy)]
struct Loc {
    segment: u64,
    offset: u64,
    len: u32,
}

#[derive(Default)]
struct Mailbox {
    last: u64,
    acked: u64,
    messages: BTreeMap<u64, Loc>,
}

struct Segment {
    file: Arc<File>,
    /// Unacknowledged messages stored in it.
    live: u64,
}

#[derive(Default)]
struct Index {
    mailboxes: HashMap<String, Mailbox>,
    /// `clinic \0 key` → (seq, unix time recorded).
    dedupe: HashMap<String, (u64, u64)>,
    segments: BTreeMap<u64, Segment>,
}

impl Index {
    fn ack(&mut self, clinic: &str, up_to: u64) -> u64 {
        let mailbox = self.mailboxes.entry(clinic.to_string()).or_default();
        let up_to = up_to.min(mailbox.last);
        if up_to <= mailbox.acked {
            return 0;
        }
        mailbox.acked = up_to;
        let keep = mailbox.messages.split_off(&(up_to + 1));
        let gone = std::mem::replace(&mut mailbox.messages, keep);
        for loc in gone.values() {
            if let Some(segment) = self.segments.get_mut(&loc.segment) {
                segment.live = segment.live.saturating_sub(1);
            }
        }
        gone.len() as u64
    }
}

fn dedupe_key(clinic: &str, key: &str) -> String {
    let mut k = String::with_capacity(clinic.len() + 1 + key.len());
    k.push_str(clinic);
    k.push('\0');
    k.push_str(key);
    k
}

enum Job {
    Append {
        clinic: String,
        key: String,
        build: Build,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Ack {
        clinic: String,
        up_to: u64,
        reply: std::sync::mpsc::Sender<Result<u64, StoreError>>,
    },
}

pub struct LogStore {
    index: Arc<RwLock<Index>>,
    /// `None` once closing.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl LogStore {
    /// Opens (or creates) the log in `dir`, replaying it into the index.
    pub fn open(dir: &Path) -> Result<Arc<Self>, StoreError> {
        Self::open_with(dir, SEGMENT_BYTES)
    }

    /// [`LogStore::open`] with another segment size (tests use small ones).
    pub fn open_with(dir: &Path, segment_bytes: u64) -> Result<Arc<Self>, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io(&format!("cannot create {}", dir.display()), e))?;
        let mut index = Index::default();
        let mut ids: Vec<u64> = std::fs::read_dir(dir)
            .map_err(|e| io(&format!("cannot list {}", dir.display()), e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".log")?.parse().ok())
            .collect();
        ids.sort_unstable();
        for (i, &id) in ids.iter().enumerate() {
            let last = i + 1 == ids.len();
            replay(dir, id, last, &mut index)?;
        }
        count_live(&mut index);
        let next = ids.last().map_or(0, |id| id + 1);
        let writer = Writer::create(dir.to_path_buf(), next, segment_bytes, &mut index)?;
        writer.delete_acknowledged(&mut index);
        let index = Arc::new(RwLock::new(index));
        let (jobs, queue) = mpsc::channel();
        let shared = index.clone();
        // Inside a tokio runtime, a batch's answers are handed to one task there, which completes
        // them all: one wake-up crosses from the writer thread per batch instead of one per message
        // (those cross-thread wake-ups cost more than the fsync).
        let answers = tokio::runtime::Handle::try_current().ok().map(|runtime| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Answers>();
            runtime.spawn(async move {
                while let Some(batch) = rx.recv().await {
                    answer(batch);
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

    /// A figure of a clinic's mailbox; 0 for a clinic that never had a message.
    fn mailbox(&self, clinic: &str, figure: impl FnOnce(&Mailbox) -> u64) -> u64 {
        self.index
            .read()
            .expect("index lock")
            .mailboxes
            .get(clinic)
            .map_or(0, figure)
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .expect("open until dropped")
            .send(job)
            .map_err(|_| StoreError::Storage("the log writer stopped".into()))
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

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.log"))
}

// --- encoding -------------------------------------------------------------------------------

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// Frames a payload written by `fill` as a record; returns the payload's start in `buf`.
fn record(buf: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) -> usize {
    let head = buf.len();
    buf.extend_from_slice(&[0; 8]);
    fill(buf);
    let len = (buf.len() - head - 8) as u32;
    let crc = crc32fast::hash(&buf[head + 8..]);
    buf[head..head + 4].copy_from_slice(&len.to_le_bytes());
    buf[head + 4..head + 8].copy_from_slice(&crc.to_le_bytes());
    head + 8
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

/// Reads segment `id` into the index. A torn or corrupt tail of the last segment is cut off.
fn replay(dir: &Path, id: u64, last: bool, index: &mut Index) -> Result<(), StoreError> {
    let path = segment_path(dir, id);
    let mut bytes = Vec::new();
    File::open(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| io(&format!("cannot read {}", path.display()), e))?;
    let mut at = 0usize;
    while at < bytes.len() {
        // Records are followed by the zeros a segment is extended with: a zero length ends them.
        let Some(payload) = next_record(&bytes, at).filter(|p| !p.is_empty()) else {
            break;
        };
        apply(index, id, at as u64 + 8, payload).ok_or_else(|| {
            StoreError::Storage(format!(
                "{} has a malformed record at byte {at}",
                path.display()
            ))
        })?;
        at += 8 + payload.len();
    }
    let clean_end = bytes[at..].iter().all(|&b| b == 0);
    if !clean_end {
        if !last {
            return Err(StoreError::Storage(format!(
                "{} is damaged at byte {at} (not at its end): refusing to start rather than lose messages",
                path.display()
            )));
        }
        tracing::warn!(segment = %path.display(), at, "cutting off an unfinished write at the end of the log (never acknowledged)");
        OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| {
                f.set_len(at as u64)?;
                f.sync_all()
            })
            .map_err(|e| io(&format!("cannot repair {}", path.display()), e))?;
    }
    let file = File::open(&path).map_err(|e| io(&format!("cannot open {}", path.display()), e))?;
    // Live counts are set once every segment is read (see `count_live`).
    index.segments.insert(
        id,
        Segment {
            file: Arc::new(file),
            live: 0,
        },
    );
    Ok(())
}

/// Counts each segment's unacknowledged messages, in one pass over the replayed mailboxes.
fn count_live(index: &mut Index) {
    for segment in index.segments.values_mut() {
        segment.live = 0;
    }
    for mailbox in index.mailboxes.values() {
        for loc in mailbox.messages.values() {
            if let Some(segment) = index.segments.get_mut(&loc.segment) {
                segment.live += 1;
            }
        }
    }
}

/// The payload of the record at `at`, if it is whole and its checksum matches.
fn next_record(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(at + 4..at + 8)?.try_into().ok()?);
    let payload = bytes.get(at + 8..(at + 8).checked_add(len)?)?;
    (crc32fast::hash(payload) == crc).then_some(payload)
}

/// Applies one replayed record; `offset` is where its payload starts in the segment.
fn apply(index: &mut Index, segment: u64, offset: u64, payload: &[u8]) -> Option<()> {
    let mut c = Cursor {
        bytes: payload,
        at: 0,
    };
    match c.u8()? {
        MESSAGE => {
            let clinic = c.str()?;
            let seq = c.u64()?;
            let key = c.str()?;
            let at = c.u64()?;
            let len = c.u32()?;
            let body_offset = offset + c.at as u64;
            c.take(len as usize)?;
            let mailbox = index.mailboxes.entry(clinic.to_string()).or_default();
            mailbox.last = mailbox.last.max(seq);
            if seq > mailbox.acked {
                mailbox.messages.insert(
                    seq,
                    Loc {
                        segment,
                        offset: body_offset,
                        len,
                    },
                );
            }
            index.dedupe.insert(dedupe_key(clinic, key), (seq, at));
        }
        ACK => {
            let clinic = c.str()?.to_string();
            let up_to = c.u64()?;
            index.ack(&clinic, up_to);
        }
        CHECKPOINT => {
            let clinics = c.u32()?;
            for _ in 0..clinics {
                let clinic = c.str()?.to_string();
                let (last, acked) = (c.u64()?, c.u64()?);
                let mailbox = index.mailboxes.entry(clinic.clone()).or_default();
                mailbox.last = mailbox.last.max(last);
                index.ack(&clinic, acked);
            }
            let keys = c.u32()?;
            for _ in 0..keys {
                let key = c.str()?.to_string();
                let (seq, at) = (c.u64()?, c.u64()?);
                index.dedupe.entry(key).or_insert((seq, at));
            }
        }
        _ => return None,
    }
    Some(())
}

// --- the writer ----------------------------------------------------------------------------

fn take_waiting(queue: &mpsc::Receiver<Job>, jobs: &mut Vec<Job>) {
    while jobs.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
}

struct Writer {
    dir: PathBuf,
    id: u64,
    file: File,
    /// Bytes of records written.
    len: u64,
    /// Bytes of the file (records, then zeros).
    allocated: u64,
    /// The size past which the next segment is started.
    segment_bytes: u64,
}

/// A message written in this batch, to publish once it is durable.
struct Stored {
    clinic: String,
    seq: u64,
    loc: Loc,
    dedupe: String,
    at: u64,
}

/// The answers of one durable batch's appends.
type Answers = Vec<(oneshot::Sender<Result<Appended, StoreError>>, Appended)>;

fn answer(batch: Answers) {
    for (reply, appended) in batch {
        let _ = reply.send(Ok(appended));
    }
}

/// A decided job waiting for its batch to be durable.
enum Decided {
    Append(
        oneshot::Sender<Result<Appended, StoreError>>,
        Appended,
        Option<Stored>,
    ),
    Ack(
        std::sync::mpsc::Sender<Result<u64, StoreError>>,
        String,
        u64,
    ),
}

impl Writer {
    /// Starts segment `id` with a checkpoint of `index`, durably (file and directory entry).
    fn create(
        dir: PathBuf,
        id: u64,
        segment_bytes: u64,
        index: &mut Index,
    ) -> Result<Writer, StoreError> {
        let path = segment_path(&dir, id);
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io(&format!("cannot create {}", path.display()), e))?;
        let mut buf = Vec::new();
        record(&mut buf, |b| {
            b.push(CHECKPOINT);
            b.extend_from_slice(&(index.mailboxes.len() as u32).to_le_bytes());
            for (clinic, m) in &index.mailboxes {
                put_str(b, clinic);
                b.extend_from_slice(&m.last.to_le_bytes());
                b.extend_from_slice(&m.acked.to_le_bytes());
            }
            b.extend_from_slice(&(index.dedupe.len() as u32).to_le_bytes());
            for (key, (seq, at)) in &index.dedupe {
                put_str(b, key);
                b.extend_from_slice(&seq.to_le_bytes());
                b.extend_from_slice(&at.to_le_bytes());
            }
        });
        let mut writer = Writer {
            dir,
            id,
            file,
            len: 0,
            allocated: 0,
            segment_bytes,
        };
        writer
            .append(&buf)
            .and_then(|_| File::open(&writer.dir)?.sync_all())
            .map_err(|e| io(&format!("cannot write {}", path.display()), e))?;
        let reader =
            File::open(&path).map_err(|e| io(&format!("cannot open {}", path.display()), e))?;
        index.segments.insert(
            id,
            Segment {
                file: Arc::new(reader),
                live: 0,
            },
        );
        Ok(writer)
    }

    /// Writes `buf` after the records and syncs it.
    fn append(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let end = self.len + buf.len() as u64;
        if end > self.allocated {
            let target = end + ALLOCATE_AHEAD.min(self.segment_bytes);
            let zeros = vec![0u8; (target - self.allocated) as usize];
            self.file.write_all_at(&zeros, self.allocated)?;
            self.allocated = target;
        }
        self.file.write_all_at(buf, self.len)?;
        self.file.sync_data()?;
        self.len = end;
        Ok(())
    }

    /// Deletes every older segment with no unacknowledged message left (the checkpoint at the head
    /// of a later segment carries their counters and dedupe keys).
    fn delete_acknowledged(&self, index: &mut Index) {
        let done: Vec<u64> = index
            .segments
            .iter()
            .filter(|(&id, s)| id < self.id && s.live == 0)
            .map(|(&id, _)| id)
            .collect();
        for id in done {
            index.segments.remove(&id);
            let path = segment_path(&self.dir, id);
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::debug!(segment = %path.display(), "deleted an acknowledged segment")
                }
                Err(e) => {
                    tracing::warn!(segment = %path.display(), error = %e, "cannot delete an acknowledged segment")
                }
            }
        }
    }

    fn run(
        mut self,
        queue: mpsc::Receiver<Job>,
        shared: Arc<RwLock<Index>>,
        answers: Option<tokio::sync::mpsc::UnboundedSender<Answers>>,
    ) {
        let mut buf = Vec::with_capacity(1 << 20);
        while let Ok(first) = queue.recv() {
            let mut jobs = vec![first];
            take_waiting(&queue, &mut jobs);
            if jobs.len() < SMALL_BATCH {
                // Sleeping rather than waiting on the queue: senders need not wake us one by one.
                std::thread::sleep(COMMIT_DELAY);
                take_waiting(&queue, &mut jobs);
            }
            buf.clear();
            let decided = {
                let index = shared.read().expect("index lock");
                self.decide(&index, jobs, &mut buf)
            };
            self.commit(&shared, &buf, decided, answers.as_ref());
        }
    }

    /// Assigns sequence numbers and spots duplicates against the index plus this batch, and encodes
    /// the records into `buf`.
    fn decide(&self, index: &Index, jobs: Vec<Job>, buf: &mut Vec<u8>) -> Vec<Decided> {
        let mut last: HashMap<String, u64> = HashMap::new();
        let mut acked: HashMap<String, u64> = HashMap::new();
        let mut in_batch: HashMap<String, u64> = HashMap::new();
        let mut decided = Vec::with_capacity(jobs.len());
        for job in jobs {
            match job {
                Job::Append {
                    clinic,
                    key,
                    build,
                    reply,
                } => {
                    let dedupe = dedupe_key(&clinic, &key);
                    let seen = in_batch
                        .get(&dedupe)
                        .copied()
                        .or_else(|| index.dedupe.get(&dedupe).map(|d| d.0));
                    if let Some(seq) = seen {
                        decided.push(Decided::Append(reply, Appended { seq, new: false }, None));
                        continue;
                    }
                    let newest = last
                        .get(&clinic)
                        .copied()
                        .unwrap_or_else(|| index.mailboxes.get(&clinic).map_or(0, |m| m.last));
                    let seq = newest + 1;
                    last.insert(clinic.clone(), seq);
                    in_batch.insert(dedupe.clone(), seq);
                    let body = build(seq);
                    let at = crate::store::now_unix();
                    let mut body_at = 0;
                    record(buf, |b| {
                        b.push(MESSAGE);
                        put_str(b, &clinic);
                        b.extend_from_slice(&seq.to_le_bytes());
                        put_str(b, &key);
                        b.extend_from_slice(&at.to_le_bytes());
                        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
                        body_at = b.len();
                        b.extend_from_slice(&body);
                    });
                    let loc = Loc {
                        segment: self.id,
                        offset: self.len + body_at as u64,
                        len: body.len() as u32,
                    };
                    let stored = Stored {
                        clinic,
                        seq,
                        loc,
                        dedupe,
                        at,
                    };
                    decided.push(Decided::Append(
                        reply,
                        Appended { seq, new: true },
                        Some(stored),
                    ));
                }
                Job::Ack {
                    clinic,
                    up_to,
                    reply,
                } => {
                    let newest = last
                        .get(&clinic)
                        .copied()
                        .unwrap_or_else(|| index.mailboxes.get(&clinic).map_or(0, |m| m.last));
                    let before = acked
                        .get(&clinic)
                        .copied()
                        .unwrap_or_else(|| index.mailboxes.get(&clinic).map_or(0, |m| m.acked));
                    let up_to = up_to.min(newest);
                    if up_to > before {
                        acked.insert(clinic.clone(), up_to);
                        record(buf, |b| {
                            b.push(ACK);
                            put_str(b, &clinic);
                            b.extend_from_slice(&up_to.to_le_bytes());
                        });
                    }
                    decided.push(Decided::Ack(reply, clinic, up_to));
                }
            }
        }
        decided
    }

    /// Writes and syncs the batch, then publishes it to the index and answers.
    fn commit(
        &mut self,
        shared: &RwLock<Index>,
        buf: &[u8],
        decided: Vec<Decided>,
        answers: Option<&tokio::sync::mpsc::UnboundedSender<Answers>>,
    ) {
        let written = if buf.is_empty() {
            Ok(())
        } else {
            self.append(buf)
        };
        if let Err(e) = written {
            tracing::error!(error = %e, "writing to the log failed; this batch is refused (ABDM will retry)");
            // Zero a partial write so that the log stays whole (the next batch overwrites it).
            let _ = self.file.write_all_at(&vec![0u8; buf.len()], self.len);
            let refused = || StoreError::Storage(format!("the log could not be written: {e}"));
            for d in decided {
                match d {
                    Decided::Append(reply, ..) => drop(reply.send(Err(refused()))),
                    Decided::Ack(reply, ..) => drop(reply.send(Err(refused()))),
                }
            }
            return;
        }
        let mut appended = Vec::with_capacity(decided.len());
        let mut acks = Vec::new();
        {
            let mut index = shared.write().expect("index lock");
            for d in decided {
                match d {
                    Decided::Append(reply, answer, stored) => {
                        if let Some(Stored {
                            clinic,
                            seq,
                            loc,
                            dedupe,
                            at,
                        }) = stored
                        {
                            if !index.mailboxes.contains_key(&clinic) {
                                index.mailboxes.insert(clinic.clone(), Mailbox::default());
                            }
                            let mailbox = index.mailboxes.get_mut(&clinic).expect("just made");
                            mailbox.last = seq;
                            mailbox.messages.insert(seq, loc);
                            index.dedupe.insert(dedupe, (seq, at));
                            if let Some(segment) = index.segments.get_mut(&loc.segment) {
                                segment.live += 1;
                            }
                        }
                        appended.push((reply, answer));
                    }
                    Decided::Ack(reply, clinic, up_to) => {
                        let removed = index.ack(&clinic, up_to);
                        acks.push((reply, removed));
                    }
                }
            }
            if self.len >= self.segment_bytes {
                match Writer::create(
                    self.dir.clone(),
                    self.id + 1,
                    self.segment_bytes,
                    &mut index,
                ) {
                    Ok(next) => *self = next,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start a new log segment; the current one keeps growing")
                    }
                }
            }
            self.delete_acknowledged(&mut index);
        }
        // Answer outside the lock.
        match answers {
            Some(tx) => {
                if let Err(unsent) = tx.send(appended) {
                    answer(unsent.0);
                }
            }
            None => answer(appended),
        }
        for (reply, removed) in acks {
            let _ = reply.send(Ok(removed));
        }
    }
}

impl Store for LogStore {
    fn append(&self, clinic: &str, dedupe_key: &str, build: Build) -> AppendFuture<'_> {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(Job::Append {
            clinic: clinic.to_string(),
            key: dedupe_key.to_string(),
            build,
            reply,
        });
        Box::pin(async move {
            sent?;
            answer
                .await
                .map_err(|_| StoreError::Storage("the log writer stopped".into()))?
        })
    }

    fn read_after(
        &self,
        clinic: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let wanted: Vec<(u64, Loc, Arc<File>)> = {
            let index = self.index.read().expect("index lock");
            let Some(mailbox) = index.mailboxes.get(clinic) else {
                return Ok(Vec::new());
            };
            mailbox
                .messages
                .range(after.saturating_add(1)..)
                .take(limit)
                .filter_map(|(&seq, &loc)| {
                    Some((seq, loc, index.segments.get(&loc.segment)?.file.clone()))
                })
                .collect()
        };
        // Read outside the lock; a segment deleted meanwhile stays readable through its open file.
        wanted
            .into_iter()
            .map(|(seq, loc, file)| {
                let mut body = vec![0; loc.len as usize];
                file.read_exact_at(&mut body, loc.offset)
                    .map_err(|e| io("cannot read a message", e))?;
                Ok((seq, body))
            })
            .collect()
    }

    fn ack(&self, clinic: &str, up_to: u64) -> Result<u64, StoreError> {
        let (reply, answer) = std::sync::mpsc::channel();
        self.send(Job::Ack {
            clinic: clinic.to_string(),
            up_to,
            reply,
        })?;
        answer
            .recv()
            .map_err(|_| StoreError::Storage("the log writer stopped".into()))?
    }

    fn last_seq(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(self.mailbox(clinic, |m| m.last))
    }

    fn acked(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(self.mailbox(clinic, |m| m.acked))
    }

    fn depth(&self, clinic: &str) -> Result<u64, StoreError> {
        Ok(self.mailbox(clinic, |m| m.messages.len() as u64))
    }

    fn prune_dedupe(&self, unix_secs: u64) -> Result<u64, StoreError> {
        // In memory only: the next segment's checkpoint leaves the pruned keys out.
        let mut index = self.index.write().expect("index lock");
        let before = index.dedupe.len();
        index.dedupe.retain(|_, (_, at)| *at >= unix_secs);
        Ok((before - index.dedupe.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Build {
        let text = text.to_string();
        Box::new(move |seq| format!("{seq}:{text}").into_bytes())
    }

    fn append(store: &LogStore, clinic: &str, key: &str) -> Appended {
        // Outside a runtime the writer answers from its own thread; wait for it here.
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(store.append(clinic, key, message(key)))
            .unwrap()
    }

    fn segments(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "log")
            })
            .count()
    }

    #[test]
    fn survives_a_restart_with_counters_dedupe_and_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open(dir.path()).unwrap();
            assert_eq!(append(&store, "c1", "a"), Appended { seq: 1, new: true });
            assert_eq!(append(&store, "c1", "b"), Appended { seq: 2, new: true });
            assert_eq!(append(&store, "c2", "a"), Appended { seq: 1, new: true });
            assert_eq!(append(&store, "c1", "a"), Appended { seq: 1, new: false });
            assert_eq!(store.ack("c1", 1).unwrap(), 1);
        }
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(
            (
                store.last_seq("c1").unwrap(),
                store.acked("c1").unwrap(),
                store.depth("c1").unwrap()
            ),
            (2, 1, 1)
        );
        assert_eq!(
            store.read_after("c1", 0, 10).unwrap(),
            vec![(2, b"2:b".to_vec())]
        );
        assert_eq!(
            store.read_after("c2", 0, 10).unwrap(),
            vec![(1, b"1:a".to_vec())]
        );
        // An acknowledged message's redelivery is still recognised after the restart.
        assert_eq!(append(&store, "c1", "a"), Appended { seq: 1, new: false });
        assert_eq!(append(&store, "c1", "c"), Appended { seq: 3, new: true });
        // Acks never go past what exists and are idempotent.
        assert_eq!(store.ack("c1", 99).unwrap(), 2);
        assert_eq!(store.ack("c1", 99).unwrap(), 0);
        assert_eq!(store.acked("c1").unwrap(), 3);
    }

    #[test]
    fn an_unfinished_write_at_the_end_is_cut_off_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open(dir.path()).unwrap();
            append(&store, "c1", "a");
            append(&store, "c1", "b");
        }
        // A crash mid-write: half a record after the last whole one.
        let last = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .max()
            .unwrap();
        let bytes = std::fs::read(&last).unwrap();
        let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        let file = OpenOptions::new().write(true).open(&last).unwrap();
        file.write_all_at(&[200, 0, 0, 0, 1, 2, 3, 4, 1, b'c'], end as u64)
            .unwrap();
        drop(file);
        for _ in 0..2 {
            // Twice: the repaired segment is no longer the last one the second time.
            let store = LogStore::open(dir.path()).unwrap();
            assert_eq!(store.read_after("c1", 0, 10).unwrap().len(), 2);
            assert_eq!(store.last_seq("c1").unwrap(), 2);
        }
    }

    #[test]
    fn acknowledged_segments_are_deleted_without_forgetting_counters() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open_with(dir.path(), 4096).unwrap();
        for i in 0..200 {
            append(&store, "c1", &format!("request-{i}"));
        }
        assert!(
            segments(dir.path()) > 3,
            "200 messages span several 4 KiB segments"
        );
        store.ack("c1", 200).unwrap();
        // One more write lets the writer start a fresh segment and drop the acknowledged ones.
        append(&store, "c1", "request-200");
        assert!(
            segments(dir.path()) <= 2,
            "{} segments left",
            segments(dir.path())
        );
        drop(store);
        let store = LogStore::open_with(dir.path(), 4096).unwrap();
        assert_eq!(
            (store.last_seq("c1").unwrap(), store.acked("c1").unwrap()),
            (201, 200)
        );
        assert_eq!(
            append(&store, "c1", "request-7"),
            Appended { seq: 8, new: false }
        );
        assert_eq!(
            store.read_after("c1", 0, 10).unwrap(),
            vec![(201, b"201:request-200".to_vec())]
        );
    }

    #[test]
    fn damage_in_the_middle_of_the_log_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LogStore::open_with(dir.path(), 4096).unwrap();
            for i in 0..200 {
                append(&store, "c1", &format!("r{i}"));
            }
        }
        let first = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .min()
            .unwrap();
        let mut bytes = std::fs::read(&first).unwrap();
        let middle = bytes.iter().rposition(|&b| b != 0).unwrap() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&first, bytes).unwrap();
        let err = LogStore::open_with(dir.path(), 4096)
            .err()
            .expect("refused");
        assert!(
            err.to_string().contains("damaged") || err.to_string().contains("malformed"),
            "{err}"
        );
    }
}
