//! What ABDM v3 does differently in kind, on its own (the shared suites run on both generations):
//! the linking token is asked for once, with the patient's demographics, and ABDM refuses a
//! repeat within about six minutes (`ABDM-1092`), so the desk waits and says how long.

use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::hip::NewConsultation;
use serde_json::{json, Value};
use testkit::{eventually, Rig, TempDir};

fn card(year: i32) -> AbhaQr {
    AbhaQr {
        abha_number: Some("91123456789012".into()),
        abha_address: Some("asha.kumari@sbx".into()),
        name: "Asha Kumari".into(),
        gender: "F".into(),
        date_of_birth: DateOfBirth {
            year: Some(year),
            month: Some(4),
            day: Some(12),
            text: None,
        },
        state_lgd: None,
        district_lgd: None,
        state: None,
        district: None,
        mobile: Some("9876543210".into()),
        mobile_masked: false,
        address: None,
    }
}

#[tokio::test]
async fn a_refused_link_token_is_not_asked_again_within_abdms_guard_and_the_wait_is_shown() {
    let rig = Rig::start_on(abdm::Generation::V3, SandboxConfig::default()).await;
    // The card's year of birth is not the ABHA's: ABDM refuses the token for it.
    let patient = rig.desk.scan_and_pull(&card(1991)).unwrap();
    eventually("ABDM's refusal", || {
        rig.desk
            .outbox()
            .unwrap()
            .iter()
            .any(|i| i.state == "failed")
    })
    .await;
    let outbox = rig.desk.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "one request, in one call: {outbox:?}");
    // The reason in ABDM's words, as the outbox shows it.
    assert!(outbox[0].words.contains("does not match"), "{outbox:?}");

    // A visit now would need the token: the desk does not ask within ABDM's guard…
    rig.desk
        .record_consultation(NewConsultation {
            patient_id: patient.id,
            doctor: "Dr. Meera Iyer".into(),
            complaints: vec!["fever".into()],
            ..Default::default()
        })
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rig.desk.outbox().unwrap().len(),
        1,
        "no second token request"
    );
    assert_eq!(rig.desk.ask_again_for_link_tokens().unwrap(), 0);
    // …and says until when, for the screen's countdown.
    let abha = rig.desk.abha("91-1234-5678-9012").unwrap().unwrap();
    let wait = abha.link_token_retry_at.expect("a wait") - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::seconds(360) && wait <= chrono::Duration::seconds(390),
        "{wait}"
    );
    assert!(!abha.can_link_records);
    rig.stop().await;
}

#[tokio::test]
async fn abdm_refuses_a_second_token_for_the_same_patient_within_its_guard_but_not_for_another() {
    let dir = TempDir::new("v3-guard");
    let log = dir.path().join("exchange.jsonl");
    let rig = Rig::start_on(
        abdm::Generation::V3,
        SandboxConfig {
            exchange_log: Some(log.clone()),
            ..SandboxConfig::default()
        },
    )
    .await;
    rig.desk.scan_and_pull(&card(1990)).unwrap();
    eventually("the linking token", || {
        rig.desk
            .abha("91-1234-5678-9012")
            .unwrap()
            .is_some_and(|a| a.can_link_records)
    })
    .await;
    // Another request for Asha at this HIP, straight to the gateway, a moment later.
    let client = abdm::GatewayClient::new(rig.sandbox.client_config_for(abdm::Generation::V3));
    let ask = |address: &str, name: &str, gender: &str, year: u32| json!({"abhaAddress": address, "name": name, "gender": gender, "yearOfBirth": year});
    let send = |body: Value| {
        let client = &client;
        async move {
            let hip = abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into());
            let call = abdm::V3Call {
                request_id: uuid::Uuid::new_v4(),
                timestamp: abdm::Timestamp::now(),
                acting: &hip,
                link_token: None,
            };
            let path = <abdm::v3::link_token::generate_token::Endpoint as abdm::Operation>::PATH;
            client.send_v3(path, &body, &call).await
        }
    };
    send(ask("asha.kumari@sbx", "Asha Kumari", "F", 1990))
        .await
        .unwrap();
    send(ask("ravi.shankar@sbx", "Ravi Shankar", "M", 1978))
        .await
        .unwrap();
    let answers = || -> Vec<Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["operation"] == "/api/v3/hip/token/on-generate-token")
            .map(|l| l["body"].clone())
            .collect()
    };
    eventually("three answers", || answers().len() == 3).await;
    let answers = answers();
    let refused: Vec<&Value> = answers.iter().filter(|a| !a["error"].is_null()).collect();
    assert_eq!(refused.len(), 1, "{answers:?}");
    assert!(refused[0]["error"]["code"]
        .as_str()
        .is_some_and(|c| c.starts_with("ABDM-1092")));
    // Ravi, another patient at the same HIP, got his.
    assert!(answers
        .iter()
        .any(|a| a["abhaAddress"] == "ravi.shankar@sbx" && a["linkToken"].is_string()));
    rig.stop().await;
}
