//! The clinic settings' connection test and reconnecting with new settings, on a real embedded
//! session (sandbox, relay and desk on loopback).

use std::sync::Arc;

use desk_app::{Session, Settings};
use desk_core::identity::CheckStep;
use desk_store::{MemorySecrets, Secrets};

#[tokio::test(flavor = "multi_thread")]
async fn the_connection_test_proves_each_step_and_fails_at_the_first_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::open(dir.path(), Arc::new(MemorySecrets::default()))
        .await
        .unwrap();
    let heard = std::sync::Mutex::new(Vec::new());
    let checks = session
        .test_connection(|c| heard.lock().unwrap().push((c.step, c.ok)))
        .await
        .unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        [
            (CheckStep::Credentials, true),
            (CheckStep::Facility, true),
            (CheckStep::Bridge, true),
            (CheckStep::Relay, true),
            (CheckStep::Callback, true),
        ],
        "{checks:?}"
    );
    // The internet is cut: the first step says so in plain words, nothing else is tried.
    session.set_online(false).unwrap();
    let checks = session.test_connection(|_| {}).await.unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].step, CheckStep::Credentials);
    assert!(!checks[0].ok);
    assert!(
        checks[0].detail.to_lowercase().contains("reach"),
        "{}",
        checks[0].detail
    );
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn new_connection_settings_reconnect_on_the_same_store_and_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let secrets: Arc<dyn Secrets> = Arc::new(MemorySecrets::default());
    let store = Session::open_store(dir.path(), &secrets).unwrap();
    let session = Session::open_on(dir.path(), secrets.clone(), store.clone())
        .await
        .unwrap();
    let demo = session.find_patients("Sunita").unwrap();
    assert_eq!(demo.len(), 1, "a new training desk has its demo patients");

    let renamed = Settings {
        clinic_name: "Shanti Clinic".into(),
        ..session.settings()
    };
    assert!(session.settings().reconnects(&renamed));
    let camera_only = Settings {
        camera: "/dev/null".into(),
        ..session.settings()
    };
    assert!(!session.settings().reconnects(&camera_only));
    session.save_settings(renamed).unwrap();
    session.close().await;

    // The same store opens the next session (sled allows one opening at a time): nothing lost,
    // no second set of demo patients, and ABDM has the facility under its new name.
    let session = Session::open_on(dir.path(), secrets, session.store())
        .await
        .unwrap();
    assert_eq!(session.find_patients("Sunita").unwrap().len(), 1);
    let facility = session.desk().facility_view().unwrap();
    assert_eq!(facility.name, "Shanti Clinic");
    assert!(facility.registered);
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clinic_moved_to_abdm_v3_passes_every_step_of_the_connection_test_on_v3() {
    let dir = tempfile::tempdir().unwrap();
    let secrets: Arc<dyn Secrets> = Arc::new(MemorySecrets::default());
    let store = Session::open_store(dir.path(), &secrets).unwrap();
    let session = Session::open_on(dir.path(), secrets.clone(), store.clone())
        .await
        .unwrap();
    assert_eq!(session.settings().generation(), abdm::Generation::V05);
    let on_v3 = Settings {
        abdm_version: Some(abdm::Generation::V3),
        ..session.settings()
    };
    assert!(
        session.settings().reconnects(&on_v3),
        "a new ABDM version reconnects"
    );
    session.save_settings(on_v3).unwrap();
    session.close().await;

    let session = Session::open_on(dir.path(), secrets, store).await.unwrap();
    assert_eq!(session.settings().generation(), abdm::Generation::V3);
    let checks = session.test_connection(|_| {}).await.unwrap();
    assert!(
        checks.len() == 5 && checks.iter().all(|c| c.ok),
        "{checks:?}"
    );
    // Everything the desk had is still there: its data does not depend on the generation.
    assert_eq!(session.find_patients("Sunita").unwrap().len(), 1);
    session.close().await;
}
