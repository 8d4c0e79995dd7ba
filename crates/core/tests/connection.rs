//! The clinic settings' connection test on loopback: the real sandbox as ABDM, the real relay as
//! the bridge. Each step must fail when its part is broken, and only then.

use std::sync::Arc;
use std::time::Duration;

use abdm_sandbox::{SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::identity::{Check, CheckStep, CheckWaits};
use desk_core::view::OutboxRow;
use desk_store::MemorySecrets;
use testkit::{desk_at, free_port, Rig, TempDir};

const WAITS: CheckWaits = CheckWaits {
    relay: Duration::from_secs(3),
    callback: Duration::from_secs(3),
};

fn steps(checks: &[Check]) -> Vec<(CheckStep, bool)> {
    checks.iter().map(|c| (c.step, c.ok)).collect()
}

fn probe(outbox: &[OutboxRow]) -> Option<&OutboxRow> {
    outbox
        .iter()
        .find(|r| r.label.starts_with("Connection test"))
}

#[tokio::test]
async fn every_step_is_proven_up_to_a_callback_through_the_relay() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let heard = std::sync::Mutex::new(Vec::new());
    let relay = rig.relay.as_ref().unwrap().url();
    let checks = rig
        .desk
        .test_connection(DEFAULT_SERVICE_ID, "Sandbox Clinic", &relay, WAITS, |c| {
            heard.lock().unwrap().push(c.step)
        })
        .await
        .unwrap();
    assert_eq!(
        steps(&checks),
        [
            (CheckStep::Credentials, true),
            (CheckStep::Facility, true),
            (CheckStep::Bridge, true),
            (CheckStep::Relay, true),
            (CheckStep::Callback, true),
        ],
        "{checks:?}"
    );
    // Each step was reported as it was proven, in order.
    assert_eq!(
        *heard.lock().unwrap(),
        checks.iter().map(|c| c.step).collect::<Vec<_>>()
    );
    assert!(checks[4].detail.contains("arrived through the relay"));
    let facility = rig.desk.facility_view().unwrap();
    assert!(facility.registered && facility.bridge_registered);
    assert_eq!(facility.bridge_url.as_deref(), Some(relay.as_str()));
    let outbox = rig.desk.outbox().unwrap();
    assert_eq!(probe(&outbox).unwrap().state, "done");
    assert!(rig
        .desk
        .audit_log()
        .unwrap()
        .iter()
        .any(|a| a.action == "connection test passed"));
    rig.stop().await;
}

#[tokio::test]
async fn a_bridge_that_leads_nowhere_fails_at_the_callback_and_withdraws_the_question() {
    let rig = Rig::start(SandboxConfig::default()).await;
    // ABDM is told a bridge where nothing listens: everything else works, no callback comes.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let checks = rig
        .desk
        .test_connection(
            DEFAULT_SERVICE_ID,
            "Sandbox Clinic",
            &nowhere,
            WAITS,
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        steps(&checks),
        [
            (CheckStep::Credentials, true),
            (CheckStep::Facility, true),
            (CheckStep::Bridge, true),
            (CheckStep::Relay, true),
            (CheckStep::Callback, false),
        ]
    );
    assert!(checks[4].detail.contains("no callback"), "{checks:?}");
    // The question is withdrawn: it is not sent again later, and the outbox says why.
    let outbox = rig.desk.outbox().unwrap();
    let row = probe(&outbox).unwrap();
    assert_eq!(row.state, "failed");
    assert!(rig
        .desk
        .audit_log()
        .unwrap()
        .iter()
        .any(|a| a.action == "connection test failed"));
    rig.stop().await;
}

#[tokio::test]
async fn a_relay_that_is_down_stops_the_test_before_anything_is_asked() {
    let mut rig = Rig::start(SandboxConfig::default()).await;
    rig.relay_down().await;
    let checks = rig
        .desk
        .test_connection(
            DEFAULT_SERVICE_ID,
            "Sandbox Clinic",
            "http://127.0.0.1:9",
            WAITS,
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        steps(&checks),
        [
            (CheckStep::Credentials, true),
            (CheckStep::Facility, true),
            (CheckStep::Bridge, true),
            (CheckStep::Relay, false),
        ]
    );
    assert!(probe(&rig.desk.outbox().unwrap()).is_none());
    rig.stop().await;
}

#[tokio::test]
async fn a_wrong_client_secret_fails_the_first_step_and_registers_nothing() {
    let rig = Rig::start(SandboxConfig::default()).await;
    let dir = TempDir::new("wrong-secret");
    let mut gateway = rig.sandbox.client_config();
    gateway.client_secret = "not-the-secret".into();
    let desk = desk_at(
        gateway,
        &rig.sandbox.url(),
        dir.path(),
        Arc::new(MemorySecrets::default()),
        |c| c,
    );
    let checks = desk
        .test_connection(
            DEFAULT_SERVICE_ID,
            "Sandbox Clinic",
            "http://127.0.0.1:9",
            WAITS,
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(steps(&checks), [(CheckStep::Credentials, false)]);
    assert!(!checks[0].detail.contains("not-the-secret"));
    assert!(!desk.facility_view().unwrap().registered);
    rig.stop().await;
}
