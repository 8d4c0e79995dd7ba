//! Writes the seed corpus of the `replay` fuzz target (`fuzz/corpus/replay`) from real logs:
//! `cargo run -p abdm-relay --example fuzz_seeds -- crates/relay/fuzz/corpus/replay`.

use std::sync::Arc;

use abdm_relay::log::{LogConfig, LogStore, MemDisk};
use abdm_relay::Store;

fn encode(files: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let mut out = vec![files.len() as u8];
    for (name, bytes) in files {
        // The zeros a segment is allocated ahead with are left out.
        let used = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        let bytes = &bytes[..used.min(u16::MAX as usize)];
        out.push(u8::from(name.starts_with("keys-")));
        out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

fn main() {
    let dir = std::env::args().nth(1).expect("the corpus folder");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    type Fill = fn(&LogStore, &tokio::runtime::Runtime);
    let cases: [(&str, Fill); 3] = [
        ("messages", |s, rt| {
            for i in 0..5 {
                rt.block_on(s.append(
                    "c1",
                    &format!("r{i}"),
                    i,
                    Box::new(move |seq| format!("{seq}:{i}").into_bytes()),
                ))
                .unwrap();
            }
        }),
        ("acked", |s, rt| {
            for i in 0..5 {
                rt.block_on(s.append(
                    "c1",
                    &format!("r{i}"),
                    i,
                    Box::new(move |seq| format!("{seq}:{i}").into_bytes()),
                ))
                .unwrap();
            }
            rt.block_on(s.ack("c1", 3)).unwrap();
        }),
        ("two-clinics-push", |s, rt| {
            rt.block_on(s.append("c1", "a", 1, Box::new(|seq| format!("{seq}").into_bytes())))
                .unwrap();
            rt.block_on(s.append("c2", "b", 2, Box::new(|seq| format!("{seq}").into_bytes())))
                .unwrap();
            rt.block_on(s.set_push_path([9; 32], "c2", 4_000_000_000))
                .unwrap();
        }),
    ];
    for (name, fill) in cases {
        let disk = MemDisk::new();
        let store = LogStore::open_on(
            Arc::new(disk.clone()),
            LogConfig {
                segment_bytes: 2048,
                ..LogConfig::default()
            },
        )
        .unwrap();
        fill(&store, &rt);
        drop(store);
        std::fs::write(format!("{dir}/{name}"), encode(disk.files())).unwrap();
    }
}
