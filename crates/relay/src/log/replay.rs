//! Reading the log back into the index when the store opens.

use super::codec::{self, Cursor, ACK, CHECKPOINT, KEY, MESSAGE, PUSH};
use super::disk::Disk;
use super::{dedupe_key, io, Home, Index, Loc, LogConfig, Seen, Segment};
use crate::store::{now_unix, StoreError};

/// Reads the key files and the segments into `index`; returns the next segment id.
pub(crate) fn replay(
    disk: &dyn Disk,
    config: &LogConfig,
    index: &mut Index,
) -> Result<u64, StoreError> {
    let names = disk.list().map_err(|e| io("cannot list the log", e))?;
    let cutoff = now_unix().saturating_sub(config.dedupe_window.as_secs());
    let mut hours: Vec<u64> = names
        .iter()
        .filter_map(|n| n.strip_prefix("keys-")?.strip_suffix(".log")?.parse().ok())
        .collect();
    hours.sort_unstable();
    for hour in hours {
        let name = super::key_file_name(hour);
        if (hour + 1) * 3600 < cutoff {
            disk.remove(&name)
                .map_err(|e| io(&format!("cannot delete {name}"), e))?;
            continue;
        }
        read_file(disk, &name, true, |record, _| {
            if record.kind != KEY {
                return None;
            }
            let mut c = Cursor::new(record.fields);
            let (clinic, key, seq, at) = (c.str()?, c.str()?, c.u64()?, c.u64()?);
            if at >= cutoff {
                index.dedupe.insert(
                    dedupe_key(clinic, key),
                    Seen {
                        seq,
                        at,
                        home: Home::KeyFile,
                    },
                );
            }
            Some(())
        })?;
    }
    let mut ids: Vec<u64> = names
        .iter()
        .filter_map(|n| n.strip_suffix(".log")?.parse().ok())
        .collect();
    ids.sort_unstable();
    for (i, &id) in ids.iter().enumerate() {
        let name = super::segment_name(id);
        let newest = i + 1 == ids.len();
        let file = disk
            .open(&name)
            .map_err(|e| io(&format!("cannot open {name}"), e))?;
        index.segments.insert(
            id,
            Segment {
                file,
                total: 0,
                live: 0,
                created: now_unix(),
            },
        );
        let end = read_file(disk, &name, newest, |record, _| {
            apply(index, id, cutoff, record)
        })?;
        if let Some(segment) = index.segments.get_mut(&id) {
            segment.total = end as u64;
        }
    }
    Ok(ids.last().map_or(0, |id| id + 1))
}

/// Reads every record of a file through `each`. A torn batch at the end of a file that may have
/// one (`may_be_torn`) is cut off; any other damage refuses to start.
fn read_file(
    disk: &dyn Disk,
    name: &str,
    may_be_torn: bool,
    mut each: impl FnMut(&codec::RawRecord<'_>, &[u8]) -> Option<()>,
) -> Result<usize, StoreError> {
    let file = disk
        .open(name)
        .map_err(|e| io(&format!("cannot open {name}"), e))?;
    let bytes = file
        .read_all()
        .map_err(|e| io(&format!("cannot read {name}"), e))?;
    let scan = codec::scan(&bytes);
    for payload in &scan.batches {
        let records = codec::records(&bytes, payload.clone()).map_err(|at| {
            StoreError::Storage(format!("{name} has a malformed record at byte {at}"))
        })?;
        for record in &records {
            each(record, &bytes).ok_or_else(|| {
                StoreError::Storage(format!(
                    "{name} has a malformed record at byte {}",
                    record.span.start
                ))
            })?;
        }
    }
    match scan.bad {
        None => {}
        Some((at, false)) if may_be_torn => {
            tracing::warn!(file = name, at, "cutting off a write the power cut short at the end of the log (it was never acknowledged)");
            file.set_len(at as u64)
                .map_err(|e| io(&format!("cannot repair {name}"), e))?;
        }
        Some((at, _)) => {
            return Err(StoreError::Storage(format!(
                "{name} is damaged at byte {at}, before data that was acknowledged: refusing to start \
                 rather than lose messages. Keep a copy of the relay's data folder, then move {name} \
                 out of it to start without that file's messages."
            )))
        }
    }
    Ok(scan.end)
}

/// Applies one segment record to the index.
fn apply(
    index: &mut Index,
    segment: u64,
    cutoff: u64,
    record: &codec::RawRecord<'_>,
) -> Option<()> {
    let mut c = Cursor::new(record.fields);
    match record.kind {
        MESSAGE => {
            let clinic = c.str()?;
            let seq = c.u64()?;
            let id = c.u64()?;
            let key = c.str()?;
            let at = c.u64()?;
            let len = c.u32()?;
            let body_at = 5 + c.at as u32;
            c.take(len as usize)?;
            let loc = Loc {
                segment,
                offset: record.span.start as u64,
                record_len: record.span.len() as u32,
                body_at,
                body_len: len,
                id,
            };
            index.insert(clinic, seq, loc);
            if at >= cutoff {
                index.dedupe.insert(
                    dedupe_key(clinic, key),
                    Seen {
                        seq,
                        at,
                        home: Home::Segment(segment),
                    },
                );
            }
        }
        ACK => {
            let clinic = c.str()?.to_string();
            let (up_to, id) = (c.u64()?, c.u64()?);
            index.ack(&clinic, up_to, Some(id));
        }
        CHECKPOINT => {
            let created = c.u64()?;
            if let Some(s) = index.segments.get_mut(&segment) {
                s.created = created;
            }
            for _ in 0..c.u32()? {
                let clinic = c.str()?.to_string();
                let (last, acked, acked_id) = (c.u64()?, c.u64()?, c.u64()?);
                let mailbox = index.mailboxes.entry(clinic.clone()).or_default();
                mailbox.last = mailbox.last.max(last);
                index.ack(&clinic, acked, Some(acked_id));
            }
            // The checkpoint holds every open push path: it replaces what earlier files said.
            index.pushes.clear();
            for _ in 0..c.u32()? {
                let hash = c.hash()?;
                let (clinic, expires) = (c.str()?.to_string(), c.u64()?);
                index.pushes.insert(hash, (clinic, expires));
            }
        }
        PUSH => {
            let hash = c.hash()?;
            let (clinic, expires) = (c.str()?.to_string(), c.u64()?);
            if expires == 0 {
                index.pushes.remove(&hash);
            } else {
                index.pushes.insert(hash, (clinic, expires));
            }
        }
        _ => return None,
    }
    c.done().then_some(())
}
