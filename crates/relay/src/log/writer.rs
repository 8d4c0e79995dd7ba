//! The log's one writer thread: group commit, segment rotation and compaction.

use std::collections::{BTreeMap, HashMap};
use std::sync::{mpsc, Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::codec::{self, put_str, put_u64, Cursor, ACK, CHECKPOINT, KEY, MESSAGE, PUSH};
use super::disk::{Disk, DiskFile};
use super::{dedupe_key, io, Home, Index, Job, Loc, LogConfig, Seen, Segment};
use crate::store::{now_unix, Appended, StoreError};

/// Segments are extended with zeros this much ahead of the records: overwriting allocated blocks
/// lets `fdatasync` skip the file-size journal commit an append costs.
const ALLOCATE_AHEAD: u64 = 4 * 1024 * 1024;
/// Most jobs one batch takes (bounds a batch's memory and latency).
const MAX_BATCH: usize = 4096;
/// A batch smaller than this waits [`COMMIT_DELAY`] for company before it is written: one
/// `fdatasync` costs ~50 µs of CPU here, so under load fewer, fuller syncs leave more CPU for
/// answering ABDM (the idea of PostgreSQL's `commit_delay`).
const SMALL_BATCH: usize = 32;
const COMMIT_DELAY: Duration = Duration::from_micros(200);
/// How often the writer looks for segments to close or compact when idle.
const TICK: Duration = Duration::from_millis(500);

/// The answers of one durable batch's appends.
pub(crate) type Answers = Vec<(oneshot::Sender<Result<Appended, StoreError>>, Appended)>;

pub(crate) fn answer(batch: Answers) {
    for (reply, appended) in batch {
        let _ = reply.send(Ok(appended));
    }
}

/// A message written in this batch, to publish once it is durable.
struct Stored {
    clinic: String,
    seq: u64,
    loc: Loc,
    dedupe: String,
    at: u64,
}

/// A decided job waiting for its batch to be durable.
enum Decided {
    Append(
        oneshot::Sender<Result<Appended, StoreError>>,
        Appended,
        Option<Stored>,
    ),
    Ack(oneshot::Sender<Result<u64, StoreError>>, String, u64, u64),
    Push(
        oneshot::Sender<Result<(), StoreError>>,
        [u8; 32],
        String,
        u64,
    ),
}

pub(crate) struct Writer {
    disk: Arc<dyn Disk>,
    config: LogConfig,
    /// The active segment.
    id: u64,
    file: Arc<dyn DiskFile>,
    /// Bytes of batches written to it.
    len: u64,
    /// Bytes of the file (batches, then zeros).
    allocated: u64,
    /// Where its checkpoint ends (nothing else written yet when `len` is here).
    checkpoint_end: u64,
    created: u64,
}

fn message_record(
    buf: &mut Vec<u8>,
    clinic: &str,
    seq: u64,
    id: u64,
    key: &str,
    at: u64,
    body: &[u8],
) -> (usize, u32) {
    let mut body_at = 0;
    let start = codec::record(buf, MESSAGE, |b| {
        put_str(b, clinic);
        put_u64(b, seq);
        put_u64(b, id);
        put_str(b, key);
        put_u64(b, at);
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        body_at = b.len();
        b.extend_from_slice(body);
    });
    (start, (body_at - start) as u32)
}

impl Writer {
    /// Starts segment `id`, opened by a checkpoint of the index.
    pub(crate) fn create(
        disk: Arc<dyn Disk>,
        id: u64,
        config: LogConfig,
        index: &mut Index,
    ) -> Result<Self, StoreError> {
        let name = super::segment_name(id);
        let allocated = ALLOCATE_AHEAD.min(config.segment_bytes.max(64 * 1024));
        let file = disk
            .create(&name, allocated)
            .map_err(|e| io(&format!("cannot create {name}"), e))?;
        let created = now_unix();
        let mut buf = Vec::new();
        let start = codec::begin_batch(&mut buf);
        codec::record(&mut buf, CHECKPOINT, |b| {
            put_u64(b, created);
            b.extend_from_slice(&(index.mailboxes.len() as u32).to_le_bytes());
            for (clinic, m) in &index.mailboxes {
                put_str(b, clinic);
                put_u64(b, m.last);
                put_u64(b, m.acked);
                put_u64(b, m.acked_id);
            }
            let now = now_unix();
            let open: Vec<_> = index.pushes.iter().filter(|(_, (_, e))| *e > now).collect();
            b.extend_from_slice(&(open.len() as u32).to_le_bytes());
            for (hash, (clinic, expires)) in open {
                b.extend_from_slice(hash);
                put_str(b, clinic);
                put_u64(b, *expires);
            }
        });
        codec::end_batch(&mut buf, start);
        let mut writer = Self {
            disk,
            config,
            id,
            file: file.clone(),
            len: 0,
            allocated,
            checkpoint_end: 0,
            created,
        };
        writer
            .append(&buf)
            .map_err(|e| io(&format!("cannot write {name}"), e))?;
        writer.checkpoint_end = writer.len;
        index.segments.insert(
            id,
            Segment {
                file,
                total: writer.len,
                live: 0,
                created,
            },
        );
        Ok(writer)
    }

    /// Writes and syncs `buf` at the end of the active segment.
    fn append(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let end = self.len + buf.len() as u64;
        if end > self.allocated {
            self.allocated = end + ALLOCATE_AHEAD;
            self.file.set_len(self.allocated)?;
        }
        self.file.write_at(buf, self.len)?;
        self.file.sync()?;
        self.len = end;
        Ok(())
    }

    pub(crate) fn run(
        mut self,
        queue: mpsc::Receiver<Job>,
        shared: Arc<RwLock<Index>>,
        answers: Option<tokio::sync::mpsc::UnboundedSender<Answers>>,
    ) {
        let mut jobs = Vec::new();
        let mut buf = Vec::new();
        let mut maintained = Instant::now();
        loop {
            match queue.recv_timeout(TICK) {
                Ok(first) => {
                    jobs.push(first);
                    take_waiting(&queue, &mut jobs);
                    if jobs.len() < SMALL_BATCH {
                        std::thread::sleep(COMMIT_DELAY);
                        take_waiting(&queue, &mut jobs);
                    }
                    let decided = {
                        let index = shared.read().expect("index lock");
                        self.decide(&index, &mut jobs, &mut buf)
                    };
                    self.commit(&shared, &buf, decided, answers.as_ref());
                    buf.clear();
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if maintained.elapsed() >= TICK {
                maintained = Instant::now();
                self.maintain(&shared);
            }
        }
    }

    /// Turns jobs into records in `buf`, deciding seqs and deduplication against the index and
    /// the batch itself.
    fn decide(&self, index: &Index, jobs: &mut Vec<Job>, buf: &mut Vec<u8>) -> Vec<Decided> {
        debug_assert!(buf.is_empty(), "one batch at a time");
        let start = codec::begin_batch(buf);
        let mut in_batch: HashMap<String, u64> = HashMap::new();
        let mut last: HashMap<String, u64> = HashMap::new();
        let mut acked: HashMap<String, u64> = HashMap::new();
        let mut decided = Vec::with_capacity(jobs.len());
        let now = now_unix();
        for job in jobs.drain(..) {
            match job {
                Job::Append {
                    clinic,
                    key,
                    id,
                    build,
                    reply,
                } => {
                    let dedupe = dedupe_key(&clinic, &key);
                    let seen = in_batch
                        .get(&dedupe)
                        .copied()
                        .or_else(|| index.dedupe.get(&dedupe).map(|s| s.seq));
                    if let Some(seq) = seen {
                        decided.push(Decided::Append(reply, Appended { seq, new: false }, None));
                        continue;
                    }
                    let seq = last
                        .get(&clinic)
                        .copied()
                        .unwrap_or_else(|| index.mailboxes.get(&clinic).map_or(0, |m| m.last))
                        + 1;
                    last.insert(clinic.clone(), seq);
                    in_batch.insert(dedupe.clone(), seq);
                    let body = build(seq);
                    let (at, body_at) = message_record(buf, &clinic, seq, id, &key, now, &body);
                    let loc = Loc {
                        segment: self.id,
                        offset: self.len + at as u64,
                        record_len: (buf.len() - at) as u32,
                        body_at,
                        body_len: body.len() as u32,
                        id,
                    };
                    decided.push(Decided::Append(
                        reply,
                        Appended { seq, new: true },
                        Some(Stored {
                            clinic,
                            seq,
                            loc,
                            dedupe,
                            at: now,
                        }),
                    ));
                }
                Job::Ack {
                    clinic,
                    up_to,
                    reply,
                } => {
                    let mailbox = index.mailboxes.get(&clinic);
                    let newest = mailbox.map_or(0, |m| m.last);
                    let before = acked
                        .get(&clinic)
                        .copied()
                        .unwrap_or_else(|| mailbox.map_or(0, |m| m.acked));
                    let up_to = up_to.min(newest);
                    let id = mailbox
                        .and_then(|m| m.messages.get(&up_to))
                        .map_or(0, |l| l.id);
                    if up_to > before {
                        acked.insert(clinic.clone(), up_to);
                        codec::record(buf, ACK, |b| {
                            put_str(b, &clinic);
                            put_u64(b, up_to);
                            put_u64(b, id);
                        });
                    }
                    decided.push(Decided::Ack(reply, clinic, up_to, id));
                }
                Job::Push {
                    hash,
                    clinic,
                    expires_at,
                    reply,
                } => {
                    codec::record(buf, PUSH, |b| {
                        b.extend_from_slice(&hash);
                        put_str(b, &clinic);
                        put_u64(b, expires_at);
                    });
                    decided.push(Decided::Push(reply, hash, clinic, expires_at));
                }
            }
        }
        if buf.len() == start + codec::BATCH_HEADER {
            buf.truncate(start);
        } else {
            codec::end_batch(buf, start);
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
            // Zero a partial write so that the segment stays whole (the next batch overwrites it).
            let _ = self.file.write_at(&vec![0u8; buf.len()], self.len);
            let refused = || StoreError::Storage(format!("the log could not be written: {e}"));
            for d in decided {
                match d {
                    Decided::Append(reply, ..) => drop(reply.send(Err(refused()))),
                    Decided::Ack(reply, ..) => drop(reply.send(Err(refused()))),
                    Decided::Push(reply, ..) => drop(reply.send(Err(refused()))),
                }
            }
            return;
        }
        let mut appended = Vec::with_capacity(decided.len());
        let mut others = Vec::new();
        {
            let mut index = shared.write().expect("index lock");
            for d in decided {
                match d {
                    Decided::Append(reply, answer, stored) => {
                        if let Some(s) = stored {
                            index.insert(&s.clinic, s.seq, s.loc);
                            index.dedupe.insert(
                                s.dedupe,
                                Seen {
                                    seq: s.seq,
                                    at: s.at,
                                    home: Home::Segment(self.id),
                                },
                            );
                        }
                        appended.push((reply, answer));
                    }
                    Decided::Ack(reply, clinic, up_to, id) => {
                        let removed = index.ack(&clinic, up_to, Some(id));
                        others
                            .push(Box::new(move || drop(reply.send(Ok(removed))))
                                as Box<dyn FnOnce()>);
                    }
                    Decided::Push(reply, hash, clinic, expires_at) => {
                        if expires_at == 0 {
                            index.pushes.remove(&hash);
                        } else {
                            index.pushes.insert(hash, (clinic, expires_at));
                        }
                        others.push(Box::new(move || drop(reply.send(Ok(())))));
                    }
                }
            }
            if let Some(segment) = index.segments.get_mut(&self.id) {
                segment.total = self.len;
            }
            if self.len >= self.config.segment_bytes {
                self.rotate(&mut index);
            }
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
        for reply in others {
            reply();
        }
    }

    fn rotate(&mut self, index: &mut Index) {
        match Writer::create(self.disk.clone(), self.id + 1, self.config.clone(), index) {
            Ok(next) => *self = next,
            Err(e) => {
                tracing::error!(error = %e, "cannot start a new log segment; the current one keeps growing")
            }
        }
    }

    /// Closes an old active segment and compacts one closed segment that is due.
    fn maintain(&mut self, shared: &RwLock<Index>) {
        let half = self.config.erase_within.as_secs() / 2;
        let now = now_unix();
        if self.len > self.checkpoint_end && now.saturating_sub(self.created) >= half {
            let mut index = shared.write().expect("index lock");
            self.rotate(&mut index);
        }
        let due = {
            let index = shared.read().expect("index lock");
            self.due(&index, now)
        };
        if let Some(segment) = due {
            if let Err(e) = self.compact(shared, segment) {
                tracing::error!(error = %e, segment, "compacting a log segment failed; it is kept");
            }
        }
        self.drop_old_key_files();
    }

    /// A closed segment to compact: mostly acknowledged, or old enough that its acknowledged
    /// messages must go.
    fn due(&self, index: &Index, now: u64) -> Option<u64> {
        let half = self.config.erase_within.as_secs() / 2;
        index
            .segments
            .iter()
            .filter(|(&id, _)| id != self.id)
            .find(|(_, s)| {
                s.total > s.live && (s.live * 4 <= s.total || now.saturating_sub(s.created) >= half)
            })
            .map(|(&id, _)| id)
    }

    /// At open: compacts every segment that is due.
    pub(crate) fn compact_all(&mut self, index: &mut Index) {
        let lock = RwLock::new(std::mem::take(index));
        loop {
            let due = self.due(&lock.read().expect("index lock"), now_unix());
            let Some(segment) = due else { break };
            if let Err(e) = self.compact(&lock, segment) {
                tracing::error!(error = %e, segment, "compacting a log segment failed; it is kept");
                break;
            }
        }
        *index = lock.into_inner().expect("index lock");
    }

    /// Copies a segment's unacknowledged messages forward, moves its remembered keys to the key
    /// files, and deletes it. The files are read and written outside the index lock; only this
    /// thread changes the index, so what was read stays true.
    fn compact(&mut self, shared: &RwLock<Index>, segment: u64) -> Result<(), StoreError> {
        let name = super::segment_name(segment);
        let file = {
            let index = shared.read().expect("index lock");
            index.segments[&segment].file.clone()
        };
        let bytes = file
            .read_all()
            .map_err(|e| io(&format!("cannot read {name}"), e))?;
        let cutoff = now_unix().saturating_sub(self.config.dedupe_window.as_secs());
        let mut copies: Vec<(String, u64, String, std::ops::Range<usize>, Loc)> = Vec::new();
        let mut moved_keys: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut moved: Vec<String> = Vec::new();
        {
            let index = shared.read().expect("index lock");
            for payload in codec::scan(&bytes).batches {
                let Ok(records) = codec::records(&bytes, payload) else {
                    continue;
                };
                for r in records.iter().filter(|r| r.kind == MESSAGE) {
                    let mut c = Cursor::new(r.fields);
                    let (Some(clinic), Some(seq), Some(_id), Some(key), Some(at)) =
                        (c.str(), c.u64(), c.u64(), c.str(), c.u64())
                    else {
                        continue;
                    };
                    let live = index
                        .mailboxes
                        .get(clinic)
                        .and_then(|m| m.messages.get(&seq))
                        .filter(|l| l.segment == segment && l.offset == r.span.start as u64);
                    let dkey = dedupe_key(clinic, key);
                    if let Some(loc) = live {
                        copies.push((clinic.to_string(), seq, dkey, r.span.clone(), *loc));
                    } else if at >= cutoff
                        && index
                            .dedupe
                            .get(&dkey)
                            .is_some_and(|s| s.home == Home::Segment(segment))
                    {
                        let out = moved_keys.entry(at / 3600).or_default();
                        codec::record(out, KEY, |b| {
                            put_str(b, clinic);
                            put_str(b, key);
                            put_u64(b, seq);
                            put_u64(b, at);
                        });
                        moved.push(dkey);
                    }
                }
            }
        }
        // 1. Keys into their hour's file, synced.
        for (hour, records) in &moved_keys {
            let name = super::key_file_name(*hour);
            let file = match self.disk.open(&name) {
                Ok(f) => f,
                Err(_) => self
                    .disk
                    .create(&name, 0)
                    .map_err(|e| io(&format!("cannot create {name}"), e))?,
            };
            let mut buf = Vec::with_capacity(records.len() + 32);
            let start = codec::begin_batch(&mut buf);
            buf.extend_from_slice(records);
            codec::end_batch(&mut buf, start);
            let end = file.size().map_err(|e| io(&name, e))?;
            file.write_at(&buf, end)
                .and_then(|_| file.sync())
                .map_err(|e| io(&format!("cannot write {name}"), e))?;
        }
        // 2. Live messages into the active segment, synced.
        let mut new_locs = Vec::with_capacity(copies.len());
        if !copies.is_empty() {
            let mut buf = Vec::new();
            let start = codec::begin_batch(&mut buf);
            for (clinic, seq, dkey, span, loc) in &copies {
                let at = buf.len();
                buf.extend_from_slice(&bytes[span.clone()]);
                new_locs.push((
                    clinic.clone(),
                    *seq,
                    dkey.clone(),
                    Loc {
                        segment: self.id,
                        offset: self.len + at as u64,
                        ..*loc
                    },
                ));
            }
            codec::end_batch(&mut buf, start);
            self.append(&buf)
                .map_err(|e| io("cannot copy messages forward", e))?;
        }
        // 3. The index follows; 4. the old file goes.
        {
            let mut index = shared.write().expect("index lock");
            for (clinic, seq, dkey, loc) in new_locs {
                index.insert(&clinic, seq, loc);
                // The key now lives in the copied record.
                if let Some(seen) = index.dedupe.get_mut(&dkey) {
                    if seen.home == Home::Segment(segment) {
                        seen.home = Home::Segment(self.id);
                    }
                }
            }
            for dkey in moved {
                if let Some(seen) = index.dedupe.get_mut(&dkey) {
                    seen.home = Home::KeyFile;
                }
            }
            index.segments.remove(&segment);
            if let Some(active) = index.segments.get_mut(&self.id) {
                active.total = self.len;
            }
        }
        self.disk
            .remove(&name)
            .and_then(|_| self.disk.sync_dir())
            .map_err(|e| io(&format!("cannot delete {name}"), e))?;
        tracing::debug!(segment, copied = copies.len(), "compacted a log segment");
        Ok(())
    }

    /// Deletes key files whose hour has left the redelivery window.
    fn drop_old_key_files(&self) {
        let cutoff = now_unix().saturating_sub(self.config.dedupe_window.as_secs());
        let Ok(names) = self.disk.list() else { return };
        for name in names {
            let Some(hour) = name
                .strip_prefix("keys-")
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if (hour + 1) * 3600 < cutoff {
                if let Err(e) = self.disk.remove(&name) {
                    tracing::warn!(file = name, error = %e, "cannot delete an old key file");
                }
            }
        }
    }
}

fn take_waiting(queue: &mpsc::Receiver<Job>, jobs: &mut Vec<Job>) {
    while jobs.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
}
