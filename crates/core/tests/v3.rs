//! What ABDM v3 does differently in kind, on its own (the shared suites run on both generations):
//! the linking token is asked for once, with the patient's demographics, and ABDM refuses a
//! repeat within about six minutes (`ABDM-1092`), so the desk waits and says how long.

use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_sandbox::{SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::hip::NewConsultation;
use serde_json::{json, Value};
use testkit::{eventually, Rig, TempDir};

/// The link-token answers the gateway sent, as its exchange log has them.
fn token_answers(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["operation"] == "/api/v3/hip/token/on-generate-token")
        .map(|l| l["body"].clone())
        .collect()
}

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
    let answers = || token_answers(&log);
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

/// What the relay hands the desk, read by v3 as an attacker or a sloppy sender would send it.
#[test]
fn v3_messages_are_read_strictly_where_it_matters_and_leniently_where_abdm_is_thin() {
    use desk_core::gateway::{Answer, Event, Gateway, Incoming};
    use desk_core::AnyGateway;
    let client = abdm::GatewayClient::new(abdm::GatewayConfig {
        gateway_url: "http://127.0.0.1:9".into(),
        healthid_url: "http://127.0.0.1:9/abha/api".into(),
        client_id: "c".into(),
        client_secret: "s".into(),
        cm_id: "sbx".into(),
        timeout: Duration::from_secs(1),
        generation: abdm::Generation::V3,
    });
    let gateway = AnyGateway::new(client, DEFAULT_SERVICE_ID);
    let request_id = uuid::Uuid::new_v4().to_string();
    let consent_id = uuid::Uuid::new_v4();
    let notify = "/api/v3/consent/request/hip/notify";

    // A revocation whose detail is thin still revokes.
    let thin = json!({"notification": {"status": "REVOKED", "consentId": consent_id,
        "consentDetail": {"consentId": consent_id}, "signature": null}});
    match gateway.read(notify, Some(&request_id), &thin).unwrap() {
        Event::Request {
            request: Incoming::Consent(n),
            ..
        } => {
            assert_eq!(n.consent_id, consent_id);
            assert!(n.grant.is_none());
        }
        other => panic!("{other:?}"),
    }
    // A grant without what it grants is not one.
    let granted = json!({"notification": {"status": "GRANTED", "consentId": consent_id}});
    assert!(gateway.read(notify, Some(&request_id), &granted).is_err());
    // A request without its REQUEST-ID, or with one that is not a UUID, names nothing to answer.
    assert!(gateway.read(notify, None, &thin).is_err());
    assert!(gateway.read(notify, Some("1; drop"), &thin).is_err());

    // Linking counts only on ABDM's success status (or "already linked").
    let linking =
        |body: Value| match gateway.read("/api/v3/link/on_carecontext", Some(&request_id), &body) {
            Ok(Event::Answer { answer, .. }) => answer,
            other => panic!("{other:?}"),
        };
    let answering = json!({"requestId": uuid::Uuid::new_v4()});
    assert_eq!(
        linking(json!({"status": "Successfully Linked care context", "response": answering})),
        Answer::ContextsLinked
    );
    assert!(matches!(
        linking(json!({"status": "Failed to link care context", "response": answering})),
        Answer::Refused { .. }
    ));
    assert_eq!(
        linking(
            json!({"error": {"code": "ABDM-1056: ", "message": "already linked"},
            "response": answering})
        ),
        Answer::ContextsLinked
    );

    // A linking token that could not travel as a header is refused when read.
    let token = |t: &str| {
        gateway.read(
            "/api/v3/hip/token/on-generate-token",
            Some(&request_id),
            &json!({"abhaAddress": "asha.kumari@sbx", "linkToken": t, "response": answering}),
        )
    };
    assert!(token("eyJhbGciOiJSUzUxMiJ9.e30.c2ln").is_ok());
    assert!(token("eyJ.x.y\r\nX-Evil: 1").is_err());
    assert!(token(&"a".repeat(10_000)).is_err());
}

#[tokio::test]
async fn repeated_refusals_block_that_abha_address_only() {
    let dir = TempDir::new("v3-block");
    let log = dir.path().join("exchange.jsonl");
    let rig = Rig::start_on(
        abdm::Generation::V3,
        SandboxConfig {
            exchange_log: Some(log.clone()),
            ..SandboxConfig::default()
        },
    )
    .await;
    let client = abdm::GatewayClient::new(rig.sandbox.client_config_for(abdm::Generation::V3));
    let hip = abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into());
    let path = <abdm::v3::link_token::generate_token::Endpoint as abdm::Operation>::PATH;
    let ask = |address: &str, name: &str, gender: &str, year: u32| json!({"abhaAddress": address, "name": name, "gender": gender, "yearOfBirth": year});
    // Someone keeps asking with the wrong year of birth; then with the right one.
    let wrong = ask("asha.kumari@sbx", "Asha Kumari", "F", 1991);
    let right = ask("asha.kumari@sbx", "Asha Kumari", "F", 1990);
    let others = ask("ravi.shankar@sbx", "Ravi Shankar", "M", 1978);
    for body in [&wrong, &wrong, &wrong, &wrong, &wrong, &right, &others] {
        let call = abdm::V3Call {
            request_id: uuid::Uuid::new_v4(),
            timestamp: abdm::Timestamp::now(),
            acting: &hip,
            link_token: None,
        };
        client.send_v3(path, body, &call).await.unwrap();
        // In order: each answered before the next is asked.
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let answers = || token_answers(&log);
    eventually("seven answers", || answers().len() == 7).await;
    let code = |a: &Value| {
        a["error"]["code"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches(": ")
            .to_string()
    };
    let answers = answers();
    let codes: Vec<String> = answers.iter().map(code).collect();
    assert_eq!(
        codes[..6],
        [
            "ABDM-1207",
            "ABDM-1207",
            "ABDM-1207",
            "ABDM-1207",
            "ABDM-1022",
            "ABDM-1027"
        ],
        "{answers:?}"
    );
    // The right details no longer help Asha today; Ravi is not affected.
    assert_eq!(answers[6]["abhaAddress"], "ravi.shankar@sbx");
    assert!(answers[6]["linkToken"].is_string(), "{answers:?}");
    rig.stop().await;
}

#[tokio::test]
async fn an_abha_is_linked_by_mobile_number_choosing_among_the_mobiles_abhas_or_by_aadhaar() {
    let rig = Rig::start_on(abdm::Generation::V3, SandboxConfig::default()).await;
    let new = |name: &str| {
        rig.desk
            .register_patient(desk_core::NewPatient {
                name: name.into(),
                gender: "F".into(),
                ..Default::default()
            })
            .unwrap()
    };
    // By mobile: the OTP to that mobile, then the patient says which of its ABHAs is theirs.
    let fatima = new("Fatima Begum");
    let txn = rig.desk.link_start_by_mobile("9900112233").await.unwrap();
    let otp = rig.otp(&txn.0).await;
    let choices = rig.desk.link_mobile_accounts(&txn, &otp).await.unwrap();
    let theirs = choices
        .iter()
        .find(|c| c.abha_address.as_deref() == Some("fatima.begum@sbx"))
        .unwrap_or_else(|| panic!("{choices:?}"))
        .abha_number
        .clone();
    // An ABHA that is not on this mobile cannot be chosen.
    assert!(rig
        .desk
        .link_finish_choice(&txn, "91-1234-5678-9012", fatima.id)
        .await
        .is_err());
    let linked = rig
        .desk
        .link_finish_choice(&txn, &theirs, fatima.id)
        .await
        .unwrap();
    assert_eq!(linked.abha_number, theirs);
    assert_eq!(linked.abha_address.as_deref(), Some("fatima.begum@sbx"));

    // By Aadhaar number: the OTP to the Aadhaar-linked mobile.
    let asha = new("Asha Kumari");
    let txn = rig
        .desk
        .link_start_by_aadhaar("999941057058")
        .await
        .unwrap();
    let otp = rig.otp(&txn.0).await;
    let linked = rig
        .desk
        .link_finish(
            &txn,
            &otp,
            desk_core::gateway::LoginMethod::AadhaarOtp,
            asha.id,
        )
        .await
        .unwrap();
    assert_eq!(linked.abha_number, "91-1234-5678-9012");
    // A mobile with no ABHA on it: ABDM says so, in words.
    let err = rig
        .desk
        .link_start_by_mobile("9811122233")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ABDM-1114") || err.to_string().contains("No ABHA"),
        "{err}"
    );
    rig.stop().await;

    // v0.5's ABHA service has neither journey: the desk says so before calling anyone.
    let rig = Rig::start_on(abdm::Generation::V05, SandboxConfig::default()).await;
    let err = rig
        .desk
        .link_start_by_mobile("9900112233")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ABDM v3"), "{err}");
    rig.stop().await;
}
