//! The log's bytes.
//!
//! A file is a sequence of **batches**, each written by one `write` and made durable by one
//! `fdatasync`: `[magic "RLB1"][payload length][crc32 of the payload][0]`, the payload, zeros to
//! the next multiple of 8. Files are allocated ahead with zeros, so an all-zero header ends them.
//! A payload is a sequence of **records**: `[kind u8][length u32][fields]`.
//!
//! After a power cut only the last batch can be incomplete (the next one is written after its
//! sync), so a bad batch followed by nothing valid is a torn write that was never acknowledged;
//! a bad batch with a valid one after it is damage to data that was acknowledged.

use std::ops::Range;

const MAGIC: u32 = u32::from_be_bytes(*b"RLB1");
pub(crate) const BATCH_HEADER: usize = 16;
const ALIGN: usize = 8;

pub(crate) const MESSAGE: u8 = 1;
pub(crate) const ACK: u8 = 2;
pub(crate) const CHECKPOINT: u8 = 3;
pub(crate) const PUSH: u8 = 4;
pub(crate) const KEY: u8 = 5;

/// Starts a batch in `buf`; returns where it starts.
pub(crate) fn begin_batch(buf: &mut Vec<u8>) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0; BATCH_HEADER]);
    start
}

/// Ends the batch begun at `start`: pads it and fills in its header.
pub(crate) fn end_batch(buf: &mut Vec<u8>, start: usize) {
    let payload = start + BATCH_HEADER;
    let len = (buf.len() - payload) as u32;
    let crc = crc32fast::hash(&buf[payload..]);
    buf[start..start + 4].copy_from_slice(&MAGIC.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
    buf[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
    while buf.len() % ALIGN != 0 {
        buf.push(0);
    }
}

/// Writes one record of `kind` whose fields `fill` appends; returns the record's start.
pub(crate) fn record(buf: &mut Vec<u8>, kind: u8, fill: impl FnOnce(&mut Vec<u8>)) -> usize {
    let start = buf.len();
    buf.push(kind);
    buf.extend_from_slice(&[0; 4]);
    fill(buf);
    let len = (buf.len() - start - 5) as u32;
    buf[start + 1..start + 5].copy_from_slice(&len.to_le_bytes());
    start
}

pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

/// Reads fields; `None` for anything short or malformed.
pub(crate) struct Cursor<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
    pub fn hash(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.try_into().ok()
    }
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// A record in a payload: its kind, its fields, and where it is in the file.
pub(crate) struct RawRecord<'a> {
    pub kind: u8,
    pub fields: &'a [u8],
    /// The record's range in the file.
    pub span: Range<usize>,
}

/// What reading a file found.
pub(crate) struct Scan {
    /// Each valid batch's payload range, in order.
    pub batches: Vec<Range<usize>>,
    /// Where the valid batches end.
    pub end: usize,
    /// A bad batch at this offset, and whether a valid batch follows it (damage, not a torn end).
    pub bad: Option<(usize, bool)>,
}

fn batch_at(bytes: &[u8], at: usize) -> Option<Range<usize>> {
    let head = bytes.get(at..at + BATCH_HEADER)?;
    let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != MAGIC {
        return None;
    }
    let len = word(4) as usize;
    let payload = at + BATCH_HEADER..(at + BATCH_HEADER).checked_add(len)?;
    let data = bytes.get(payload.clone())?;
    (crc32fast::hash(data) == word(8)).then_some(payload)
}

/// Reads the batches of a file.
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let mut batches = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match batch_at(bytes, at) {
            Some(payload) => {
                at = payload.end.div_ceil(ALIGN) * ALIGN;
                batches.push(payload);
            }
            None => {
                if bytes[at..].iter().all(|&b| b == 0) {
                    break;
                }
                let later = (at + ALIGN..bytes.len())
                    .step_by(ALIGN)
                    .any(|p| batch_at(bytes, p).is_some());
                return Scan {
                    batches,
                    end: at,
                    bad: Some((at, later)),
                };
            }
        }
    }
    Scan {
        batches,
        end: at.min(bytes.len()),
        bad: None,
    }
}

/// The records of one batch payload (at `payload` in the file).
pub(crate) fn records(bytes: &[u8], payload: Range<usize>) -> Result<Vec<RawRecord<'_>>, usize> {
    let mut out = Vec::new();
    let mut at = payload.start;
    while at < payload.end {
        let kind = bytes[at];
        let len = bytes
            .get(at + 1..at + 5)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
            .ok_or(at)?;
        let end = (at + 5)
            .checked_add(len)
            .filter(|&e| e <= payload.end)
            .ok_or(at)?;
        out.push(RawRecord {
            kind,
            fields: &bytes[at + 5..end],
            span: at..end,
        });
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_batches() -> Vec<u8> {
        let mut buf = Vec::new();
        for text in ["first", "second"] {
            let start = begin_batch(&mut buf);
            record(&mut buf, KEY, |b| put_str(b, text));
            end_batch(&mut buf, start);
        }
        buf.extend_from_slice(&[0; 64]);
        buf
    }

    #[test]
    fn batches_read_back_and_zeros_end_them() {
        let buf = two_batches();
        let scan = scan(&buf);
        assert_eq!(scan.batches.len(), 2);
        assert!(scan.bad.is_none());
        let rs = records(&buf, scan.batches[1].clone()).unwrap();
        assert_eq!(Cursor::new(rs[0].fields).str(), Some("second"));
    }

    #[test]
    fn a_torn_last_batch_is_told_from_damage_before_a_valid_one() {
        let buf = two_batches();
        let second = scan(&buf).batches[1].start - BATCH_HEADER;
        let mut torn = buf.clone();
        torn[second + BATCH_HEADER] ^= 1;
        let s = scan(&torn);
        assert_eq!((s.batches.len(), s.bad), (1, Some((second, false))));
        let mut damaged = buf;
        damaged[BATCH_HEADER + 6] ^= 1;
        let s = scan(&damaged);
        assert_eq!((s.batches.len(), s.bad), (0, Some((0, true))));
    }
}
