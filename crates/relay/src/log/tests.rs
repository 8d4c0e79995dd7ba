use std::sync::Arc;
use std::time::Duration;

use super::*;

fn message(text: &str) -> Build {
    let text = text.to_string();
    Box::new(move |seq| format!("{seq}:{text}").into_bytes())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn small(segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        ..LogConfig::default()
    }
}

fn open(disk: &MemDisk, config: LogConfig) -> Arc<LogStore> {
    LogStore::open_on(Arc::new(disk.clone()), config).unwrap()
}

fn append(store: &LogStore, clinic: &str, key: &str) -> Appended {
    runtime()
        .block_on(store.append(clinic, key, 7, message(key)))
        .unwrap()
}

fn ack(store: &LogStore, clinic: &str, up_to: u64) -> u64 {
    runtime().block_on(store.ack(clinic, up_to)).unwrap()
}

fn segment_files(disk: &MemDisk) -> usize {
    disk.list()
        .unwrap()
        .iter()
        .filter(|n| !n.starts_with("keys-"))
        .count()
}

#[test]
fn survives_a_restart_with_counters_dedupe_ids_and_order() {
    let disk = MemDisk::new();
    {
        let store = open(&disk, LogConfig::default());
        assert_eq!(append(&store, "c1", "a"), Appended { seq: 1, new: true });
        assert_eq!(append(&store, "c1", "b"), Appended { seq: 2, new: true });
        assert_eq!(append(&store, "c2", "a"), Appended { seq: 1, new: true });
        assert_eq!(append(&store, "c1", "a"), Appended { seq: 1, new: false });
        assert_eq!(ack(&store, "c1", 1), 1);
    }
    let store = open(&disk, LogConfig::default());
    let m = store.mailbox("c1");
    assert_eq!((m.last, m.acked, m.acked_id, m.depth), (2, 1, 7, 1));
    assert_eq!(
        store.read_after("c1", 0, 10, 1 << 20).unwrap(),
        vec![(2, b"2:b".to_vec())]
    );
    assert_eq!(
        store.read_after("c2", 0, 10, 1 << 20).unwrap(),
        vec![(1, b"1:a".to_vec())]
    );
    assert_eq!(store.message_id("c1", 2), Some(7));
    // An acknowledged message's redelivery is still recognised after the restart.
    assert_eq!(append(&store, "c1", "a"), Appended { seq: 1, new: false });
    assert_eq!(append(&store, "c1", "c"), Appended { seq: 3, new: true });
    // Acks never go past what exists and are idempotent.
    assert_eq!(ack(&store, "c1", 99), 2);
    assert_eq!(ack(&store, "c1", 99), 0);
    assert_eq!(store.mailbox("c1").acked, 3);
}

#[test]
fn reads_are_bounded_in_bytes_but_never_empty() {
    let disk = MemDisk::new();
    let store = open(&disk, LogConfig::default());
    for i in 0..10 {
        append(&store, "c1", &format!("request-{i}"));
    }
    assert_eq!(store.read_after("c1", 0, 100, 25).unwrap().len(), 2);
    assert_eq!(store.read_after("c1", 0, 100, 1).unwrap().len(), 1);
    assert_eq!(store.read_after("c1", 0, 3, 1 << 20).unwrap().len(), 3);
}

fn newest_segment(disk: &MemDisk) -> String {
    disk.list()
        .unwrap()
        .into_iter()
        .filter(|n| !n.starts_with("keys-"))
        .max()
        .unwrap()
}

#[test]
fn a_torn_write_at_the_end_is_cut_off_and_the_rest_kept() {
    let disk = MemDisk::new();
    let store = open(&disk, LogConfig::default());
    append(&store, "c1", "a");
    append(&store, "c1", "b");
    // A batch whose pages only partly reached the disk.
    let name = newest_segment(&disk);
    let bytes = disk.contents(&name).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
    let end = end.div_ceil(8) * 8;
    drop(store);
    disk.damage(
        &name,
        end,
        b"RLB1\x40\0\0\0\x01\x02\x03\x04\0\0\0\0\x01half a rec",
    );
    for _ in 0..2 {
        let store = open(&disk, LogConfig::default());
        assert_eq!(store.read_after("c1", 0, 10, 1 << 20).unwrap().len(), 2);
        assert_eq!(store.mailbox("c1").last, 2);
    }
}

#[test]
fn damage_before_acknowledged_data_refuses_to_start_even_in_the_newest_segment() {
    let disk = MemDisk::new();
    let store = open(&disk, LogConfig::default());
    for i in 0..20 {
        append(&store, "c1", &format!("r{i}"));
    }
    drop(store);
    let name = newest_segment(&disk);
    let bytes = disk.contents(&name).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap();
    disk.damage(&name, end / 2, &[bytes[end / 2] ^ 0xff]);
    let err = LogStore::open_on(Arc::new(disk.clone()), LogConfig::default())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(err.to_string().contains(&name), "{err}");
    // Nothing was cut: the bytes after the damage are still there.
    assert_eq!(disk.contents(&name).unwrap()[end], bytes[end]);
}

#[test]
fn acknowledged_segments_go_and_their_keys_are_still_remembered() {
    let disk = MemDisk::new();
    let store = open(&disk, small(4096));
    for i in 0..200 {
        append(&store, "c1", &format!("request-{i}"));
    }
    assert!(
        segment_files(&disk) > 3,
        "200 messages span several 4 KiB segments"
    );
    ack(&store, "c1", 200);
    // The writer compacts due segments within a tick or two.
    for _ in 0..100 {
        if segment_files(&disk) <= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        segment_files(&disk) <= 2,
        "{} segments left",
        segment_files(&disk)
    );
    assert_eq!(
        append(&store, "c1", "request-7"),
        Appended { seq: 8, new: false }
    );
    drop(store);
    let store = open(&disk, small(4096));
    let m = store.mailbox("c1");
    assert_eq!((m.last, m.acked), (200, 200));
    assert_eq!(
        append(&store, "c1", "request-9"),
        Appended {
            seq: 10,
            new: false
        }
    );
    assert_eq!(
        append(&store, "c1", "request-200"),
        Appended {
            seq: 201,
            new: true
        }
    );
}

#[test]
fn one_idle_clinics_message_does_not_pin_the_segments_of_others() {
    let disk = MemDisk::new();
    let store = open(&disk, small(4096));
    append(&store, "idle", "the-one-message");
    for i in 0..400 {
        append(&store, "busy", &format!("request-{i}"));
        if i % 20 == 19 {
            ack(&store, "busy", i + 1);
        }
    }
    for _ in 0..100 {
        if segment_files(&disk) <= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        segment_files(&disk) <= 3,
        "{} segments left",
        segment_files(&disk)
    );
    assert_eq!(
        store.read_after("idle", 0, 10, 1 << 20).unwrap(),
        vec![(1, b"1:the-one-message".to_vec())]
    );
    drop(store);
    let store = open(&disk, small(4096));
    assert_eq!(store.mailbox("idle").depth, 1);
    assert_eq!(store.read_after("idle", 0, 10, 1 << 20).unwrap().len(), 1);
}

#[test]
fn acknowledged_messages_leave_the_disk_within_the_erase_bound() {
    let disk = MemDisk::new();
    let config = LogConfig {
        erase_within: Duration::from_secs(2),
        ..LogConfig::default()
    };
    let store = open(&disk, config);
    // The markers are in the bodies; request ids stay (in key files) for the redelivery window.
    let rt = runtime();
    rt.block_on(store.append("c1", "k1", 1, message("secret-marker-1")))
        .unwrap();
    rt.block_on(store.append("c2", "k2", 2, message("waiting-marker")))
        .unwrap();
    ack(&store, "c1", 1);
    let on_disk = |marker: &[u8]| {
        disk.list().unwrap().iter().any(|n| {
            disk.contents(n)
                .is_some_and(|b| b.windows(marker.len()).any(|w| w == marker))
        })
    };
    assert!(on_disk(b"secret-marker-1"));
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        !on_disk(b"secret-marker-1"),
        "an acknowledged message outlived the bound"
    );
    assert!(on_disk(b"waiting-marker"), "a waiting message must stay");
    assert_eq!(store.read_after("c2", 0, 10, 1 << 20).unwrap().len(), 1);
}

#[test]
fn bytes_written_per_message_stay_flat_however_many_keys_are_remembered() {
    // Many unique keys through small segments, all acknowledged as they go: each key is written in
    // its record and at most once more into a key file, so the total grows linearly.
    let per_message = |n: u64| {
        let disk = MemDisk::new();
        let store = open(&disk, small(64 * 1024));
        let rt = runtime();
        rt.block_on(async {
            for chunk in 0..n / 1000 {
                let appends: Vec<_> = (0..1000)
                    .map(|i| {
                        let key = format!("{:036}", chunk * 1000 + i);
                        store.append("c1", &key, 1, message("x"))
                    })
                    .collect();
                for a in appends {
                    a.await.unwrap();
                }
                store.ack("c1", (chunk + 1) * 1000).await.unwrap();
            }
        });
        let written = disk.bytes_written() as f64 / n as f64;
        drop(store);
        written
    };
    let few = per_message(20_000);
    let many = per_message(200_000);
    assert!(
        many < few * 1.3,
        "bytes per message grew with the keys remembered: {few:.0} → {many:.0}"
    );
    assert!(many < 400.0, "{many:.0} bytes written per 70-byte message");
}

#[test]
fn push_paths_survive_restarts_and_closed_ones_stay_closed() {
    let disk = MemDisk::new();
    let far = store_now() + 3600;
    {
        let store = open(&disk, small(4096));
        let rt = runtime();
        rt.block_on(store.set_push_path([1; 32], "c1", far))
            .unwrap();
        rt.block_on(store.set_push_path([2; 32], "c1", far))
            .unwrap();
        rt.block_on(store.set_push_path([2; 32], "c1", 0)).unwrap();
        // Enough traffic that the segments holding those records are compacted away.
        for i in 0..200 {
            append(&store, "c1", &format!("r{i}"));
        }
        ack(&store, "c1", 200);
        std::thread::sleep(Duration::from_millis(1200));
    }
    let store = open(&disk, small(4096));
    assert_eq!(store.push_path(&[1; 32]), Some(("c1".into(), far)));
    assert_eq!(store.push_path(&[2; 32]), None);
}

fn store_now() -> u64 {
    crate::store::now_unix()
}

/// Pulls the power at random moments under load: every append answered before the cut is there
/// after it, with its seq; every answered ack holds; nothing unanswered is half there.
#[test]
fn power_loss_keeps_every_answered_append_and_ack() {
    for round in 0..40u64 {
        let disk = MemDisk::new();
        let config = small(8 * 1024);
        let store = open(&disk, config.clone());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let answered = Arc::new(std::sync::Mutex::new(Vec::<(String, u64)>::new()));
        let acked = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let cut_after = 5 + (round * 7919) % 120;
        let cut = rt.block_on(async {
            let mut tasks = Vec::new();
            for worker in 0..4 {
                let (store, answered, acked) = (store.clone(), answered.clone(), acked.clone());
                tasks.push(tokio::spawn(async move {
                    for i in 0.. {
                        let key = format!("w{worker}-{i}");
                        match store.append("c1", &key, i, message(&key)).await {
                            Ok(a) => answered.lock().unwrap().push((key, a.seq)),
                            Err(_) => return,
                        }
                        if worker == 0 && i % 10 == 9 {
                            let up_to = answered
                                .lock()
                                .unwrap()
                                .iter()
                                .map(|a| a.1)
                                .min()
                                .unwrap_or(0);
                            match store.ack("c1", up_to).await {
                                Ok(_) => {
                                    acked.fetch_max(up_to, std::sync::atomic::Ordering::SeqCst);
                                }
                                Err(_) => return,
                            }
                        }
                    }
                }));
            }
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                if answered.lock().unwrap().len() as u64 >= cut_after {
                    break;
                }
            }
            let survived = disk.power_cut(round % 2 == 0, round + 1);
            for t in tasks {
                let _ = t.await;
            }
            survived
        });
        let answered = answered.lock().unwrap().clone();
        let acked = acked.load(std::sync::atomic::Ordering::SeqCst);
        drop(store);
        let store = LogStore::open_on(Arc::new(cut.clone()), config).unwrap();
        let m = store.mailbox("c1");
        assert!(m.acked >= acked, "round {round}: an answered ack was lost");
        let waiting: std::collections::HashMap<u64, Vec<u8>> = store
            .read_after("c1", 0, usize::MAX, usize::MAX)
            .unwrap()
            .into_iter()
            .collect();
        for (key, seq) in &answered {
            assert!(*seq <= m.last, "round {round}: {key} (seq {seq}) lost");
            if *seq > m.acked {
                assert_eq!(
                    waiting.get(seq),
                    Some(&format!("{seq}:{key}").into_bytes()),
                    "round {round}: {key} lost or changed"
                );
            }
            // And its redelivery is still recognised.
            assert_eq!(
                append(&store, "c1", key),
                Appended {
                    seq: *seq,
                    new: false
                }
            );
        }
        let seqs: Vec<u64> = waiting.keys().copied().collect();
        assert!(seqs.iter().all(|s| *s > m.acked && *s <= m.last));
    }
}
