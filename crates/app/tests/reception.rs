//! The reception desk without a window: a real session (embedded sandbox, relay and desk on
//! loopback), driven as the UI drives it.

use std::sync::Arc;
use std::time::Duration;

use abdm_sandbox::Operator;
use desk_app::reception::WalkIn;
use desk_app::{Session, Settings, UiError};
use desk_store::MemorySecrets;

async fn open(dir: &std::path::Path) -> Session {
    Session::open(dir, Arc::new(MemorySecrets::default()))
        .await
        .expect("the session opens on the embedded sandbox")
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn walk_in(name: &str, abha: Option<&str>) -> WalkIn {
    WalkIn {
        name: name.into(),
        gender: "M".into(),
        year_of_birth: Some(1978),
        abha: abha.map(String::from),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_walk_in_registered_with_the_line_down_gets_a_token_at_once_and_is_verified_when_it_returns(
) {
    let dir = tempfile::tempdir().unwrap();
    let session = open(dir.path()).await;
    until("the connection", || {
        session.reception().unwrap().connection.state == "online"
    })
    .await;

    session.set_online(false).unwrap();
    let row = session
        .register_walk_in(walk_in("Ravi Shankar", Some("91-5555-0000-1234")))
        .unwrap();
    assert_eq!(row.token, 1, "the walk-in is in the queue at once");
    let reception = session.reception().unwrap();
    assert_eq!(reception.queue.len(), 1);
    until("the desk to notice it is offline", || {
        session.reception().unwrap().connection.state == "offline"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let abha_linked = || {
        session
            .desk()
            .abha("91-5555-0000-1234")
            .unwrap()
            .is_some_and(|a| a.can_link_records)
    };
    assert!(!abha_linked(), "nothing reaches ABDM while the line is out");
    assert!(
        session
            .reception()
            .unwrap()
            .outbox
            .iter()
            .any(|o| o.state != "done"),
        "the verification waits in the outbox"
    );

    session.set_online(true).unwrap();
    until(
        "the ABHA to be verified after the line is back",
        abha_linked,
    )
    .await;
    until("the outbox to drain", || {
        session
            .reception()
            .unwrap()
            .outbox
            .iter()
            .all(|o| o.state == "done")
    })
    .await;
    assert_eq!(
        session.reception().unwrap().queue.len(),
        1,
        "nothing doubled"
    );
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_and_share_arrives_in_the_queue_and_scanning_again_keeps_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let session = open(dir.path()).await;
    session
        .register_walk_in(walk_in("Meena Das", None))
        .unwrap();
    let operator = Operator::new(session.sandbox_url().unwrap());
    let settings = session.settings();
    let token = operator
        .share("asha.kumari@sbx", &settings.hip_id, &settings.counter_id)
        .await
        .unwrap();
    assert_eq!(token, "2", "the phone shows the token the desk gave");
    let queue = session.reception().unwrap().queue;
    assert_eq!(
        queue
            .iter()
            .map(|r| (r.token, r.patient.name.as_str(), r.arrived_by_scan))
            .collect::<Vec<_>>(),
        [(1, "Meena Das", false), (2, "Asha Kumari", true)],
        "the walk-in was given at the desk; Asha arrived by her scan"
    );
    let again = operator
        .share("asha.kumari@sbx", &settings.hip_id, &settings.counter_id)
        .await
        .unwrap();
    assert_eq!(again, "2");
    assert_eq!(session.reception().unwrap().queue.len(), 2);
    session.close().await;
}

fn refused<T>(answer: Result<T, UiError>) -> UiError {
    answer.map(|_| ()).unwrap_err()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_walk_ins_and_settings_get_plain_words_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let session = open(dir.path()).await;
    let e = refused(session.register_walk_in(walk_in(" ", None)));
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("invalid-input", "the patient's name is required")
    );
    let e = refused(session.register_walk_in(walk_in("Ravi", Some("12345"))));
    assert!(e.message.contains("not an ABHA number"), "{e}");
    let e = refused(session.register_walk_in(WalkIn {
        mobile: Some("12345".into()),
        ..walk_in("Ravi", None)
    }));
    assert_eq!(e.code, "invalid-input", "{e}");
    assert!(session.reception().unwrap().queue.is_empty());
    assert!(session.find_patients("Ravi").unwrap().is_empty());

    let before = session.settings();
    let e = refused(session.save_settings(Settings {
        counter_id: "front desk".into(),
        ..before.clone()
    }));
    assert!(e.message.contains("counter id"), "{e}");
    assert_eq!(Settings::load(dir.path()).unwrap(), before, "nothing saved");
    session.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_slip_and_the_poster_are_saved_as_pdf_with_the_patient_and_the_counter() {
    let dir = tempfile::tempdir().unwrap();
    let session = open(dir.path()).await;
    let row = session
        .register_walk_in(walk_in("Meena Das", None))
        .unwrap();
    let slip = session.print_token_slip(row.patient.id).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&slip)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Meena Das") && text.contains("COUNTER-1"),
        "{text}"
    );
    assert_eq!(
        session.reception().unwrap().queue.len(),
        1,
        "printing gives no second token"
    );
    let poster = session.print_counter_poster().unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&poster)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Sandbox Clinic") && text.contains("COUNTER-1"),
        "{text}"
    );
    let e = session.print_abha_card(row.patient.id).unwrap_err();
    assert_eq!(e.code, "not-found", "no ABHA, no card: {e}");
    session.close().await;
}

#[test]
fn the_relay_key_is_made_once_and_only_its_public_half_leaves_the_keyring() {
    let secrets = MemorySecrets::default();
    let public = desk_app::session::relay_public_key(&secrets).unwrap();
    assert_eq!(public.len(), 64, "64 hex digits: {public}");
    assert_eq!(
        desk_app::session::relay_public_key(&secrets).unwrap(),
        public,
        "made once"
    );
    let stored = desk_store::Secrets::get(&secrets, desk_app::session::RELAY_KEY)
        .unwrap()
        .unwrap();
    let key = relay_client::ClinicKey::from_bytes(stored.as_slice().try_into().unwrap());
    assert_eq!(
        key.public().to_string(),
        public,
        "the same key deskctl clinic-key reads"
    );

    assert!(!desk_app::session::has_relay_token(&secrets));
    let e = desk_app::session::save_relay_token(&secrets, "  ").unwrap_err();
    assert_eq!(e.code, "invalid-input");
    desk_app::session::save_relay_token(&secrets, "token-from-the-operator").unwrap();
    assert!(desk_app::session::has_relay_token(&secrets));
}
