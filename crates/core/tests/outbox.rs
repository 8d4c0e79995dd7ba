//! The outbox as a failing network and a picky ABDM meet it: credentials refused pause the queue
//! and lose nothing; 429/5xx back off per item and set an item aside without blocking others; the
//! answer timeout counts from the send; a retry is the same request with a fresh timestamp.

use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{Sandbox, SandboxConfig};
use desk_core::{DeskConfig, OutboxPolicy};
use serde_json::{json, Value};
use testkit::{eventually, Rig, TempDir};

fn card(number: &str, address: &str, name: &str, gender: &str, year: i32) -> AbhaQr {
    AbhaQr {
        abha_number: Some(number.into()),
        abha_address: Some(address.into()),
        name: name.into(),
        gender: gender.into(),
        date_of_birth: DateOfBirth {
            year: Some(year),
            month: None,
            day: None,
            text: None,
        },
        state_lgd: None,
        district_lgd: None,
        state: None,
        district: None,
        mobile: None,
        mobile_masked: false,
        address: None,
    }
}

fn asha() -> AbhaQr {
    card(
        "91-1234-5678-9012",
        "asha.kumari@sbx",
        "Asha Kumari",
        "F",
        1990,
    )
}

fn ravi() -> AbhaQr {
    card(
        "91-5555-0000-1234",
        "ravi.shankar@sbx",
        "Ravi Shankar",
        "M",
        1978,
    )
}

async fn rig_with(config: SandboxConfig, tweak: impl FnOnce(DeskConfig) -> DeskConfig) -> Rig {
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(20),
        ..config
    })
    .await
    .unwrap();
    Rig::with_sandbox(sandbox, tweak).await
}

fn quick(outbox: OutboxPolicy) -> impl FnOnce(DeskConfig) -> DeskConfig {
    move |c| DeskConfig { outbox, ..c }
}

#[tokio::test]
async fn refused_credentials_pause_the_queue_keep_every_item_and_resume_when_fixed() {
    let rig = rig_with(
        SandboxConfig::default(),
        quick(OutboxPolicy {
            credentials_recheck: Duration::from_millis(200),
            ..OutboxPolicy::default()
        }),
    )
    .await;
    // The clinic's secret is rotated at ABDM and the desk still has the old one.
    rig.admin(
        "/admin/clients/abdm-desk/secret",
        json!({"secret": "rotated"}),
    )
    .await;
    rig.desk.scan_and_pull(&asha()).unwrap();
    rig.desk.scan_and_pull(&ravi()).unwrap();
    let mut status = rig.desk.status();
    eventually("the outbox pauses", || {
        status.borrow_and_update().outbox_paused.is_some()
    })
    .await;
    let reason = rig.desk.status().borrow().outbox_paused.clone().unwrap();
    assert!(reason.contains("client id and secret"), "{reason}");
    assert!(
        !reason.contains("rotated") && !reason.contains("sandbox-secret"),
        "no secret shown"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outbox = rig.desk.outbox().unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(outbox.iter().all(|r| r.state == "queued"), "{outbox:?}");
    // Fixed at ABDM's end: the desk notices and sends everything.
    rig.admin(
        "/admin/clients/abdm-desk/secret",
        json!({"secret": abdm_sandbox::DEFAULT_CLIENT_SECRET}),
    )
    .await;
    eventually("both ABHAs verified", || {
        rig.desk
            .outbox()
            .unwrap()
            .iter()
            .filter(|r| r.state == "done")
            .count()
            == 6
    })
    .await;
    assert!(rig.desk.status().borrow().outbox_paused.is_none());
    rig.stop().await;
}

#[tokio::test]
async fn server_errors_back_off_per_item_and_set_it_aside_without_blocking_others() {
    let rig = rig_with(
        SandboxConfig::default(),
        quick(OutboxPolicy {
            max_attempts: 3,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_millis(500),
            ..OutboxPolicy::default()
        }),
    )
    .await;
    // One 500: Asha's call backs off; Ravi's, queued after it, goes through meanwhile.
    rig.sandbox_faults(json!({"failNextCalls": 1})).await;
    rig.desk.scan_and_pull(&asha()).unwrap();
    eventually("Asha's call failed once", || {
        rig.desk.outbox().unwrap()[0].last_error.is_some()
    })
    .await;
    rig.desk.scan_and_pull(&ravi()).unwrap();
    eventually("Ravi's first call done", || {
        rig.desk.outbox().unwrap()[1].state == "done"
    })
    .await;
    assert_eq!(
        rig.desk.outbox().unwrap()[0].state,
        "queued",
        "Asha's call still waits its turn"
    );
    eventually("both verified", || {
        ["91-1234-5678-9012", "91-5555-0000-1234"].iter().all(|n| {
            rig.desk
                .abha(n)
                .unwrap()
                .is_some_and(|a| a.can_link_records)
        })
    })
    .await;
    // Three 500s for one call: set aside with the reason, retried by hand.
    rig.sandbox_faults(json!({"failNextCalls": 3})).await;
    rig.desk.scan_and_pull(&asha()).unwrap();
    eventually("the call set aside", || {
        rig.desk.outbox().unwrap().last().unwrap().state == "failed"
    })
    .await;
    let item = rig.desk.outbox().unwrap().last().unwrap().clone();
    assert!(
        item.words.contains("set aside") && item.attempts == 3,
        "{item:?}"
    );
    assert!(item.can_retry);
    rig.desk.retry_outbox(item.id).unwrap();
    eventually("done after the retry", || {
        rig.desk.outbox().unwrap().iter().all(|r| r.state == "done")
    })
    .await;
    rig.stop().await;
}

#[tokio::test]
async fn the_answer_timeout_counts_from_the_send_and_a_retry_has_a_fresh_timestamp() {
    let dir = TempDir::new("fresh");
    let log = dir.0.join("exchange.jsonl");
    let port = testkit::free_port();
    let on_port = |log: Option<std::path::PathBuf>| SandboxConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        callback_delay: Duration::from_millis(20),
        exchange_log: log,
        ..SandboxConfig::default()
    };
    let mut rig = Rig::with_sandbox(Sandbox::start(on_port(None)).await.unwrap(), |c| {
        DeskConfig {
            answer_timeout: Duration::from_millis(600),
            outbox: OutboxPolicy {
                backoff_min: Duration::from_millis(50),
                ..OutboxPolicy::default()
            },
            ..c
        }
    })
    .await;
    // ABDM is away for longer than the answer timeout.
    let standin = Sandbox::start(SandboxConfig::default()).await.unwrap();
    std::mem::replace(&mut rig.sandbox, standin).stop().await;
    rig.desk.scan_and_pull(&asha()).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let back = Sandbox::start(SandboxConfig {
        faults: abdm_sandbox::Faults {
            fail_next_calls: 1,
            ..Default::default()
        },
        ..on_port(Some(log.clone()))
    })
    .await
    .unwrap();
    abdm::GatewayClient::new(back.client_config())
        .register_bridge(&rig.relay.as_ref().unwrap().url())
        .await
        .unwrap();
    // Queued long before, sent now: it is not failed for its age.
    eventually("the ABHA verified", || {
        rig.desk
            .abha("91-1234-5678-9012")
            .unwrap()
            .is_some_and(|a| a.can_link_records)
    })
    .await;
    assert!(rig.desk.outbox().unwrap().iter().all(|r| r.state == "done"));
    // The first send failed (injected 500) and was sent again: same request id, new timestamp.
    let exchanges: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["path"] == "/gateway/v0.5/users/auth/fetch-modes")
        .collect();
    let failed = exchanges
        .iter()
        .find(|e| e["status"] == 500)
        .expect("the injected failure");
    let accepted = exchanges
        .iter()
        .find(|e| e["status"] == 202)
        .expect("the accepted send");
    assert_eq!(failed["body"]["requestId"], accepted["body"]["requestId"]);
    assert_ne!(failed["body"]["timestamp"], accepted["body"]["timestamp"]);
    back.stop().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_relay_message_applied_twice_has_its_effects_once() {
    let rig = Rig::start(SandboxConfig::default()).await;
    assert_eq!(rig.share("asha.kumari@sbx").await, "1");
    // The same message again, as after a lost acknowledgement (a resend below the committed seq).
    let committed = rig.desk.relay_committed().unwrap();
    let again = relay_client::Delivery {
        seq: committed.seq,
        id: committed.id,
        received_at: "2026-12-01T10:00:00.000Z".into(),
        path: "/v1.0/patients/profile/share".into(),
        service_id: None,
        kind: relay_client::MessageKind::Gateway,
        request_id: None,
        body: Ok(
            json!({"requestId": uuid::Uuid::new_v4(), "timestamp": "2026-12-01T10:00:00.000Z",
            "patient": {"userDemographics": {"healthId": "ravi.shankar@sbx", "healthIdNumber": "91-5555-0000-1234",
            "name": "Ravi Shankar", "gender": "M", "yearOfBirth": 1978}}}),
        ),
    };
    rig.desk.apply(&again).unwrap();
    assert_eq!(
        rig.desk.find_patients("").unwrap().len(),
        1,
        "nothing applied twice"
    );
    rig.stop().await;
}

/// Sets the sandbox's faults.
trait Faults {
    async fn sandbox_faults(&self, faults: Value);
}

impl Faults for Rig {
    async fn sandbox_faults(&self, faults: Value) {
        reqwest::Client::new()
            .put(format!("{}/admin/faults", self.sandbox.url()))
            .json(&faults)
            .send()
            .await
            .unwrap();
    }
}
