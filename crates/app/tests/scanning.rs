//! Scan and pull through the file frame source: a picture of an ABHA card is read, shown for
//! confirmation, and only the confirmation saves the patient.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use desk_app::scanning::ScanUpdate;
use desk_app::{Session, Settings};
use desk_store::MemorySecrets;

fn card_picture(dir: &std::path::Path, payload: &str) {
    let code = qrcode::QrCode::new(payload.as_bytes()).unwrap();
    let picture = code
        .render::<image::Luma<u8>>()
        .module_dimensions(6, 6)
        .build();
    picture.save(dir.join("card.png")).unwrap();
}

fn next_finding(updates: &mpsc::Receiver<ScanUpdate>) -> ScanUpdate {
    loop {
        match updates
            .recv_timeout(Duration::from_secs(20))
            .expect("the scanner reports")
        {
            ScanUpdate::Preview { image } => assert!(image.starts_with("data:image/jpeg;base64,")),
            other => return other,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_read_from_pictures_is_shown_then_saved_only_when_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let pictures = tempfile::tempdir().unwrap();
    card_picture(
        pictures.path(),
        r#"{"hidn":"91-5555-0000-1234","hid":"ravi.shankar@sbx","name":"Ravi Shankar","gender":"M","dob":"3/11/1978"}"#,
    );
    let session = Session::open(dir.path(), Arc::new(MemorySecrets::default()))
        .await
        .unwrap();
    session
        .save_settings(Settings {
            camera: pictures.path().display().to_string(),
            ..session.settings()
        })
        .unwrap();

    let (tx, updates) = mpsc::channel();
    session.start_scan(move |u| drop(tx.send(u)));
    let ScanUpdate::Found { profile } = next_finding(&updates) else {
        panic!("the card was not read");
    };
    assert_eq!(
        (profile.name.as_str(), profile.abha_number.as_deref()),
        ("Ravi Shankar", Some("91-5555-0000-1234"))
    );
    assert!(
        session.find_patients("Ravi").unwrap().is_empty(),
        "nothing saved before confirming"
    );

    let other = session.confirm_scan("91-1234-5678-9012").unwrap_err();
    assert_eq!(
        other.code, "invalid-input",
        "only the card on screen is saved: {other}"
    );
    let row = session.confirm_scan("91-5555-0000-1234").unwrap();
    assert_eq!((row.token, row.patient.name.as_str()), (1, "Ravi Shankar"));
    let again = session.confirm_scan("91-5555-0000-1234").unwrap_err();
    assert_eq!(again.code, "not-found", "a card is confirmed once");
    let linked = || {
        session
            .desk()
            .abha("91-5555-0000-1234")
            .unwrap()
            .is_some_and(|a| a.can_link_records)
    };
    for _ in 0..200 {
        if linked() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(linked(), "ABDM verified the card's ABHA");
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_counter_code_or_an_empty_folder_is_explained_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let pictures = tempfile::tempdir().unwrap();
    card_picture(
        pictures.path(),
        "https://phrsbx.abdm.gov.in/share-profile?hip-id=IN2710000001_1&counter-id=COUNTER-1",
    );
    let session = Session::open(dir.path(), Arc::new(MemorySecrets::default()))
        .await
        .unwrap();
    let settings = session.settings();
    session
        .save_settings(Settings {
            camera: pictures.path().display().to_string(),
            ..settings.clone()
        })
        .unwrap();
    let (tx, updates) = mpsc::channel();
    session.start_scan(move |u| drop(tx.send(u)));
    match next_finding(&updates) {
        ScanUpdate::Problem { code, message } => {
            assert_eq!(code, "counter-code");
            assert!(message.contains("counter code"), "{message}")
        }
        other => panic!("expected a plain-words problem, got {other:?}"),
    }
    assert!(session.confirm_scan("91-5555-0000-1234").is_err());

    let empty = tempfile::tempdir().unwrap();
    session
        .save_settings(Settings {
            camera: empty.path().display().to_string(),
            ..settings
        })
        .unwrap();
    let (tx, updates) = mpsc::channel();
    session.start_scan(move |u| drop(tx.send(u)));
    match next_finding(&updates) {
        ScanUpdate::Problem { code, message } => {
            assert_eq!(code, "camera");
            assert!(message.contains("no pictures"), "{message}")
        }
        other => panic!("expected a plain-words problem, got {other:?}"),
    }
    session.close().await;
}
