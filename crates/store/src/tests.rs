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
        id: Uuid::new_v4(),
        name: name.into(),
        gender: "F".into(),
        year_of_birth: Some(1990),
        month_of_birth: None,
        day_of_birth: None,
        mobile: Some("9876543210".into()),
        abha_number: abha.map(String::from),
        abha_address: None,
        address: None,
        district: None,
        state: None,
        pincode: None,
        created_at: now(),
        updated_at: now(),
    }
}

#[test]
fn records_are_encrypted_at_rest_and_survive_a_reopen() {
    let dir = temp("rest");
    let secrets = MemorySecrets::default();
    let asha = patient("Asha Kumari", Some("91-1234-5678-9012"));
    {
        let store = Store::open(&dir, &secrets).unwrap();
        store.write(|w| w.put_patient(&asha)).unwrap();
        assert_eq!(
            store
                .patient_by_abha("91-1234-5678-9012")
                .unwrap()
                .unwrap()
                .id,
            asha.id
        );
    }
    // Nothing identifying in the files.
    let mut raw = Vec::new();
    for entry in walk(&dir) {
        raw.extend(std::fs::read(entry).unwrap());
    }
    for needle in ["Asha Kumari", "9876543210", "91-1234-5678-9012"] {
        assert!(
            !contains(&raw, needle.as_bytes()),
            "{needle} stored in clear"
        );
    }
    // Same key: readable. Another key: refused with a clear error, not garbage.
    let store = Store::open(&dir, &secrets).unwrap();
    assert_eq!(store.patient(asha.id).unwrap().unwrap(), asha);
    drop(store);
    let other = MemorySecrets::default();
    let store = Store::open(&dir, &other).unwrap();
    assert!(matches!(store.patient(asha.id), Err(StoreError::Decrypt)));
    std::fs::remove_dir_all(&dir).ok();
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_failed_change_writes_nothing() {
    let dir = temp("atomic");
    let store = Store::open(&dir, &MemorySecrets::default()).unwrap();
    let p = patient("Ravi", None);
    let result: std::result::Result<(), StoreError> = store.write(|w| {
        w.put_patient(&p)?;
        w.audit("registered", "Ravi", Some(p.id))?;
        Err(StoreError::Corrupt("the flow failed halfway".into()))
    });
    assert!(result.is_err());
    assert!(store.patient(p.id).unwrap().is_none());
    assert!(store.audit_log().unwrap().is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tokens_are_one_per_patient_per_day_and_counters_continue() {
    let dir = temp("tokens");
    let store = Store::open(&dir, &MemorySecrets::default()).unwrap();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let day = "2026-11-24";
    assert_eq!(store.write(|w| w.token_for(a, day)).unwrap(), (1, true));
    assert_eq!(store.write(|w| w.token_for(b, day)).unwrap(), (2, true));
    assert_eq!(store.write(|w| w.token_for(a, day)).unwrap(), (1, false));
    assert_eq!(
        store.write(|w| w.token_for(b, "2026-11-25")).unwrap(),
        (1, true)
    );
    let item = |n: u32| OutboxItem {
        id: 0,
        request_id: Uuid::new_v4(),
        path: "/v0.5/x".into(),
        acting: Acting::None,
        body: serde_json::json!({"n": n}),
        label: "x".into(),
        patient_id: None,
        state: OutboxState::Queued,
        attempts: 0,
        last_error: None,
        created_at: now(),
    };
    let ids: Vec<u64> = (0..3)
        .map(|n| store.write(|w| w.enqueue(item(n))).unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(store.outbox().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_newer_layout_is_refused() {
    let dir = temp("schema");
    let secrets = MemorySecrets::default();
    drop(Store::open(&dir, &secrets).unwrap());
    {
        let db = sled::open(&dir).unwrap();
        db.open_tree("desk")
            .unwrap()
            .insert(
                key(prefix::META, b"schema"),
                &(SCHEMA_VERSION + 1).to_be_bytes(),
            )
            .unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        Store::open(&dir, &secrets),
        Err(StoreError::TooNew { .. })
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
    assert_eq!(store.patient(p.id).unwrap().unwrap().name, "Kavya Nair");
    std::fs::remove_dir_all(&dir).ok();
}
