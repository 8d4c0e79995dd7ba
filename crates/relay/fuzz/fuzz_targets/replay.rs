//! The log as a damaged disk may give it back after a crash: arbitrary segment and key files.
//! Opening must return the store or a clear error — never panic, hang or read out of bounds — and
//! an opened store must answer reads.
#![no_main]

use std::sync::Arc;

use abdm_relay::log::{LogConfig, LogStore, MemDisk};
use abdm_relay::Store;
use libfuzzer_sys::fuzz_target;

/// `[files u8]` then per file `[kind u8: even = segment, odd = key file][len u16 LE][bytes]`.
fn files(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Some((&count, mut rest)) = data.split_first() else {
        return out;
    };
    for i in 0..count.min(6) {
        if rest.len() < 3 {
            break;
        }
        let kind = rest[0];
        let len = (u16::from_le_bytes([rest[1], rest[2]]) as usize).min(rest.len() - 3);
        let bytes = rest[3..3 + len].to_vec();
        rest = &rest[3 + len..];
        let name = if kind % 2 == 0 {
            format!("{:020}.log", i)
        } else {
            format!("keys-{:012}.log", 490_000 + i as u64)
        };
        out.push((name, bytes));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let disk = MemDisk::with_files(files(data));
    if let Ok(store) = LogStore::open_on(Arc::new(disk), LogConfig::default()) {
        for clinic in ["c1", "c2", "clinic-1"] {
            let m = store.mailbox(clinic);
            let _ = store.read_after(clinic, m.acked, 16, 1 << 20);
        }
    }
});
