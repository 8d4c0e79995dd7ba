use rand_core::RngCore;

use super::*;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "desk-store-{name}-{}-{}",
        std::process::id(),
        rand_core::OsRng.next_u32()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn patient(name: &str, abha: Option<&str>) -> Patient {
    Patient {
        gender: Gender::F,
        year_of_birth: Some(1990),
        mobile: Some("9876543210".into()),
        abha_number: abha.map(String::from),
        abha_address: abha.map(|_| "asha.kumari@sbx".to_string()),
        address: Some("12 Gandhi Road".into()),
        ..Patient::new(name)
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn nothing_identifying_is_readable_in_the_files_and_records_survive_a_reopen() {
    let dir = temp("rest");
    let secrets = MemorySecrets::default();
    let asha = patient("Asha Kumari", Some("91-1234-5678-9012"));
    {
        let store = Store::open(&dir, &secrets).unwrap();
        store
            .write(|w| {
                w.put_patient(&asha)?;
                w.put(&AbhaProfile {
                    abha_number: "91-1234-5678-9012".into(),
                    abha_address: Some("asha.kumari@sbx".into()),
                    patient_id: Some(asha.id),
                    name: Some("Asha Kumari".into()),
                    linking_token: Some(LinkingToken {
                        token: Secret::new("eyJhbGciOiJSUzUxMiJ9.link.token"),
                        expires_at: now(),
                    }),
                    ..AbhaProfile::default()
                });
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    for file in walk(&dir) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [
            "Asha Kumari",
            "9876543210",
            "Gandhi Road",
            "91-1234-5678-9012",
            "91123456789012",
            "asha.kumari",
            "link.token",
        ] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret:?} readable in {}",
                file.display()
            );
        }
    }
    let store = Store::open(&dir, &secrets).unwrap();
    assert_eq!(
        store.get::<Patient>(&Id::uuid(asha.id)).unwrap().unwrap(),
        asha
    );
    assert_eq!(
        store
            .patient_by_abha("91-1234-5678-9012")
            .unwrap()
            .unwrap()
            .id,
        asha.id
    );
    assert_eq!(
        store
            .patient_by_abha(" ASHA.KUMARI@sbx")
            .unwrap()
            .unwrap()
            .id,
        asha.id
    );
    let profile: AbhaProfile = store.get(&Id::blind("91-1234-5678-9012")).unwrap().unwrap();
    assert!(
        !format!("{profile:?}").contains("link.token"),
        "Debug shows no token"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failed_change_writes_nothing_and_reads_see_their_own_writes() {
    let dir = temp("failed");
    let store = Store::open(&dir, &MemorySecrets::default()).unwrap();
    let p = patient("Ravi", Some("91-5555-0000-1234"));
    let r: std::result::Result<(), StoreError> = store.write(|w| {
        w.put_patient(&p)?;
        assert!(w.patient_by_abha("91-5555-0000-1234")?.is_some());
        assert_eq!(w.all::<Patient>()?.len(), 1);
        Err(StoreError::Corrupt("the flow changed its mind".into()))
    });
    assert!(r.is_err());
    assert!(store.all::<Patient>().unwrap().is_empty());
    assert!(store
        .patient_by_abha("91-5555-0000-1234")
        .unwrap()
        .is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tokens_are_one_per_patient_per_day_and_counters_continue() {
    let dir = temp("tokens");
    let secrets = MemorySecrets::default();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    {
        let store = Store::open(&dir, &secrets).unwrap();
        let t = |p| {
            store
                .write(|w| w.token_for(p, "2026-12-01", false))
                .unwrap()
        };
        assert_eq!(t(a), (1, true));
        assert_eq!(t(b), (2, true));
        assert_eq!(t(a), (1, false));
        store.write(|w| w.audit("x", "one", None)).unwrap();
    }
    let store = Store::open(&dir, &secrets).unwrap();
    assert_eq!(
        store.write(|w| w.token_for(a, "2026-12-02", true)).unwrap(),
        (1, true)
    );
    store.write(|w| w.audit("x", "two", None)).unwrap();
    let seqs: Vec<u64> = store
        .all::<AuditEntry>()
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn other_layouts_are_refused_in_plain_words() {
    let dir = temp("layout");
    let secrets = MemorySecrets::default();
    drop(Store::open(&dir, &secrets).unwrap());
    for (version, newer) in [(SCHEMA_VERSION + 1, true), (1, false)] {
        {
            let db = open_raw(&dir);
            db.open_tree("desk")
                .unwrap()
                .insert(meta_key("schema"), &version.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let err = Store::open(&dir, &secrets).unwrap_err();
        assert!(
            matches!(
                (&err, newer),
                (StoreError::TooNew { .. }, true) | (StoreError::TooOld { .. }, false)
            ),
            "{err}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_database_whose_key_is_missing_is_refused_and_no_new_key_is_made() {
    let dir = temp("nokey");
    drop(Store::open(&dir, &MemorySecrets::default()).unwrap());
    let other = MemorySecrets::default();
    let err = Store::open(&dir, &other).unwrap_err();
    assert!(matches!(err, StoreError::KeyMissing { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("the key for this clinic's database is not in this computer's keyring"));
    assert!(
        other.names().is_empty(),
        "no key was created: {:?}",
        other.names()
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// sled releases its file lock when its background flusher lets go, a moment after the drop.
fn open_raw(dir: &std::path::Path) -> sled::Db {
    for _ in 0..100 {
        if let Ok(db) = sled::open(dir) {
            return db;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sled::open(dir).unwrap()
}

/// Edits the files directly, as someone with the disk but not the key could.
fn with_raw_tree(dir: &std::path::Path, edit: impl FnOnce(&sled::Tree)) {
    let db = open_raw(dir);
    edit(&db.open_tree("desk").unwrap());
    db.flush().unwrap();
}

#[test]
fn records_swapped_removed_or_rolled_back_outside_the_app_are_noticed() {
    let dir = temp("tamper");
    let secrets = MemorySecrets::default();
    let (a, b) = (patient("Asha", None), patient("Bela", None));
    let (ka, kb) = (
        key(kind::PATIENT, a.id.as_bytes()),
        key(kind::PATIENT, b.id.as_bytes()),
    );
    let old_a;
    {
        let store = Store::open(&dir, &secrets).unwrap();
        store
            .write(|w| {
                w.put_patient(&a)?;
                w.put_patient(&b)
            })
            .unwrap();
        old_a = store.tree.get(&ka).unwrap().unwrap().to_vec();
        let renamed = Patient {
            name: "Asha K".into(),
            ..a.clone()
        };
        store.write(|w| w.put_patient(&renamed)).unwrap();
    }
    let snapshot: Vec<(Vec<u8>, Vec<u8>)> = open_raw(&dir)
        .open_tree("desk")
        .unwrap()
        .iter()
        .map(|e| {
            let (k, v) = e.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();
    let restore = |dir: &std::path::Path| {
        with_raw_tree(dir, |t| {
            t.clear().unwrap();
            for (k, v) in &snapshot {
                t.insert(k, v.as_slice()).unwrap();
            }
        })
    };
    // Rolled back: A's older sealed value put back.
    with_raw_tree(&dir, |t| {
        t.insert(&ka, old_a.as_slice()).unwrap();
    });
    assert!(matches!(
        Store::open(&dir, &secrets),
        Err(StoreError::Tampered)
    ));
    restore(&dir);
    // Swapped: B's value under A's key does not even open.
    with_raw_tree(&dir, |t| {
        let vb = t.get(&kb).unwrap().unwrap();
        t.insert(&ka, vb).unwrap();
    });
    assert!(matches!(
        Store::open(&dir, &secrets),
        Err(StoreError::Tampered)
    ));
    restore(&dir);
    // Removed.
    with_raw_tree(&dir, |t| {
        t.remove(&kb).unwrap();
    });
    assert!(matches!(
        Store::open(&dir, &secrets),
        Err(StoreError::Tampered)
    ));
    restore(&dir);
    // Untouched: fine, with the latest values.
    let store = Store::open(&dir, &secrets).unwrap();
    assert_eq!(
        store.get::<Patient>(&Id::uuid(a.id)).unwrap().unwrap().name,
        "Asha K"
    );
    // And a moved value does not open even when read directly.
    let vb = store.tree.get(&kb).unwrap().unwrap();
    store.tree.insert(&ka, vb).unwrap();
    assert!(matches!(
        store.get::<Patient>(&Id::uuid(a.id)),
        Err(StoreError::Decrypt)
    ));
    std::fs::remove_dir_all(&dir).ok();
}

/// The real OS keyring (Secret Service). Needs a session bus with an unlocked keyring, so it is
/// run on its own by `scripts/test` under `dbus-run-session` with gnome-keyring.
#[test]
#[ignore = "needs a Secret Service; scripts/test runs it under dbus-run-session"]
fn keyring_holds_the_database_key() {
    let dir = temp("keyring");
    let service = format!("abdm-desk-test-{}", uuid::Uuid::new_v4());
    let secrets = KeyringSecrets::new(&service);
    let p = patient("Kavya Nair", None);
    {
        let store = Store::open(&dir, &secrets).expect("the keyring works");
        store.write(|w| w.put_patient(&p)).unwrap();
    }
    // A new handle on the same keyring entry opens the same database.
    let store = Store::open(&dir, &KeyringSecrets::new(&service)).unwrap();
    assert_eq!(
        store.get::<Patient>(&Id::uuid(p.id)).unwrap().unwrap().name,
        "Kavya Nair"
    );
    // Secrets can be deleted (a consent's key at erasure).
    secrets.set("consent-key-test", b"0123").unwrap();
    assert!(secrets.get("consent-key-test").unwrap().is_some());
    secrets.delete("consent-key-test").unwrap();
    assert!(secrets.get("consent-key-test").unwrap().is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn watchers_hear_committed_writes_only() {
    let dir = temp("changes");
    let store = Store::open(&dir, &MemorySecrets::default()).unwrap();
    let mut changes = store.changes();
    assert!(!changes.has_changed().unwrap());
    // A write that fails, or writes nothing, is no change.
    let failed: Result<()> = store.write(|w| {
        w.put_patient(&patient("Asha Kumari", None))?;
        Err(StoreError::Corrupt("refused".into()))
    });
    assert!(failed.is_err());
    store.write(|_| Ok::<_, StoreError>(())).unwrap();
    assert!(!changes.has_changed().unwrap());
    store
        .write(|w| w.put_patient(&patient("Asha Kumari", None)))
        .unwrap();
    assert!(changes.has_changed().unwrap());
    assert_eq!(*changes.borrow_and_update(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_last_records_of_a_counted_kind_come_newest_first_past_other_kinds() {
    let dir = temp("last");
    let store = Store::open(&dir, &MemorySecrets::default()).unwrap();
    for i in 0..300 {
        store
            .write(|w| w.audit("counted", format!("entry {i}"), None))
            .unwrap();
    }
    // Another kind after it in key order is not taken for the newest.
    store
        .write(|w| w.put_patient(&patient("Asha Kumari", None)))
        .unwrap();
    let newest: Vec<String> = store
        .last::<AuditEntry>(3)
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert_eq!(newest, ["entry 299", "entry 298", "entry 297"]);
    assert_eq!(store.last::<AuditEntry>(1000).unwrap().len(), 300);
    std::fs::remove_dir_all(dir).unwrap();
}
