//! The consent manager and the data flow, both ways: our clinic as HIU (consent request → artefact →
//! encrypted push from the peer HIP) and as HIP (the peer HIU asks, decrypts and checks).

mod support;

use std::time::Duration;

use abdm::client::Acting;
use abdm::v0_5::common::*;
use abdm::v0_5::{
    consent_requests, consents, discovery, health_information as hi, links, user_auth,
};
use abdm::*;
use abdm_sandbox::{ConsentPolicy, Faults, PushCorruption, SandboxConfig, DEFAULT_SERVICE_ID};
use serde_json::{json, Value};
use support::*;

fn ts(offset_days: i64) -> Timestamp {
    Timestamp::from(chrono::Utc::now() + chrono::Duration::days(offset_days))
}

fn consent_request(erase_in: chrono::Duration) -> Request<consent_requests::init::Body> {
    Request::new(consent_requests::init::Body {
        consent: consent_requests::init::Consent {
            purpose: Purpose::care_management(),
            patient: PatientId {
                id: "asha.kumari@sbx".into(),
            },
            hip: None,
            hiu: Organization::id(DEFAULT_SERVICE_ID),
            care_contexts: vec![],
            requester: ConsentRequester {
                name: "Dr. Meera Iyer".into(),
                identifier: None,
            },
            hi_types: vec![HiType::OPConsultation, HiType::Prescription],
            permission: Permission {
                access_mode: AccessMode::View,
                date_range: DateRange {
                    from: ts(-365),
                    to: ts(0),
                },
                data_erase_at: Timestamp::from(chrono::Utc::now() + erase_in),
                frequency: Frequency {
                    unit: FrequencyUnit::Hour,
                    value: 1,
                    repeats: 10,
                },
            },
            consent_notification_url: "http://127.0.0.1/clinics/test-clinic".into(),
        },
    })
}

fn hiu() -> Acting {
    Acting::Hiu(DEFAULT_SERVICE_ID.into())
}

/// Consent request → on-init → hiu/notify; returns (request id, artefact ids, status).
async fn request_consent(
    client: &GatewayClient,
    bridge: &mut Bridge,
    erase_in: chrono::Duration,
) -> (String, Vec<String>, ConsentStatus) {
    let request = consent_request(erase_in);
    client
        .send::<consent_requests::init::Endpoint>(&request, &hiu())
        .await
        .unwrap();
    let on_init: Callback<consent_requests::on_init::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(on_init.resp.request_id, request.request_id);
    let id = on_init
        .body
        .consent_request
        .expect("consent request id")
        .id
        .to_string();
    let notify = bridge.expect().await;
    assert!(
        notify.path.ends_with("/v0.5/consents/hiu/notify"),
        "{}",
        notify.path
    );
    let notify: Request<consents::hiu_notify::Body> = serde_json::from_value(notify.body).unwrap();
    assert_eq!(notify.body.notification.consent_request_id, id);
    let artefacts = notify
        .body
        .notification
        .consent_artefacts
        .iter()
        .map(|a| a.id.clone())
        .collect();
    (id, artefacts, notify.body.notification.status)
}

fn data_request(
    artefact: &str,
    key: &fidelius::KeyMaterial,
    bridge: &Bridge,
    range: DateRange,
) -> Request<hi::cm_request::Body> {
    Request::new(hi::cm_request::Body {
        hi_request: hi::HiRequest {
            consent: hi::ConsentRef {
                id: artefact.into(),
            },
            date_range: range,
            data_push_url: format!("{}/v0.5/health-information/transfer", bridge.url),
            key_material: KeyMaterial::curve25519(
                key.public_key().to_base64(fidelius::KeyEncoding::Raw),
                key.nonce.to_base64(),
                ts(1),
            ),
        },
    })
}

fn decrypt(
    push: &hi::transfer::Body,
    key: &fidelius::KeyMaterial,
) -> Vec<Result<Value, fidelius::Error>> {
    let sender = fidelius::PublicKey::parse(&push.key_material.dh_public_key.key_value).unwrap();
    let nonce = fidelius::Nonce::parse(&push.key_material.nonce).unwrap();
    let session = fidelius::Session::derive(&key.secret, &sender, &key.nonce, &nonce).unwrap();
    push.entries
        .iter()
        .map(|e| {
            session
                .open_base64(e.content.as_deref().unwrap())
                .map(|p| serde_json::from_slice(&p).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn hiu_flow_consent_artefact_and_encrypted_pages() {
    let config = SandboxConfig {
        consent_delay: Duration::from_millis(50),
        ..fast_config()
    };
    let (sandbox, client, mut bridge) = start(config).await;
    let (request_id, artefacts, status) =
        request_consent(&client, &mut bridge, chrono::Duration::days(30)).await;
    assert_eq!(status, ConsentStatus::Granted);
    assert_eq!(artefacts.len(), 1);

    // Status and artefact fetch.
    let status_req = Request::new(consent_requests::status::Body {
        consent_request_id: request_id.clone(),
    });
    client
        .send::<consent_requests::status::Endpoint>(&status_req, &hiu())
        .await
        .unwrap();
    let on_status: Callback<consent_requests::on_status::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(
        on_status.body.consent_request.unwrap().status,
        ConsentStatus::Granted
    );
    let fetch = Request::new(consents::fetch::Body {
        consent_id: artefacts[0].clone(),
    });
    client
        .send::<consents::fetch::Endpoint>(&fetch, &hiu())
        .await
        .unwrap();
    let on_fetch: Callback<consents::on_fetch::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let artefact = on_fetch.body.consent.unwrap();
    assert_eq!(artefact.consent_detail.care_contexts.len(), 2);
    let range = artefact.consent_detail.permission.date_range;

    // Data request, in two pages.
    reqwest::Client::new()
        .put(format!("{}/admin/faults", sandbox.url()))
        .json(&Faults {
            push_pages: 2,
            ..Faults::default()
        })
        .send()
        .await
        .unwrap();
    let key = fidelius::KeyMaterial::generate();
    let request = data_request(&artefacts[0], &key, &bridge, range);
    client
        .send::<hi::cm_request::Endpoint>(&request, &hiu())
        .await
        .unwrap();
    let ack: Callback<hi::hiu_on_request::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let transaction = ack.body.hi_request.unwrap().transaction_id;
    let mut bundles = Vec::new();
    for page in 1..=2 {
        let push = bridge.expect().await;
        assert!(push.path.ends_with("/v0.5/health-information/transfer"));
        let push: hi::transfer::Body = serde_json::from_value(push.body).unwrap();
        assert_eq!(
            (push.transaction_id, push.page_number, push.page_count),
            (transaction, page, 2)
        );
        bundles.extend(decrypt(&push, &key).into_iter().map(Result::unwrap));
    }
    // Two care contexts × two HI types, each a FHIR document.
    assert_eq!(bundles.len(), 4);
    assert!(bundles
        .iter()
        .all(|b| b["resourceType"] == "Bundle" && b["type"] == "document"));

    // Outside the consented range: refused.
    let wider = DateRange {
        from: Timestamp::from(range.from.0 - chrono::Duration::days(400)),
        to: range.to,
    };
    client
        .send::<hi::cm_request::Endpoint>(
            &data_request(&artefacts[0], &key, &bridge, wider),
            &hiu(),
        )
        .await
        .unwrap();
    let refused: Callback<hi::hiu_on_request::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert!(refused.error.unwrap().message.contains("ABDM-1063"));

    // A corrupted tag arrives as such: decryption fails, it is never silently empty.
    reqwest::Client::new()
        .put(format!("{}/admin/faults", sandbox.url()))
        .json(&Faults {
            corrupt_next_push: Some(PushCorruption::Tag),
            ..Faults::default()
        })
        .send()
        .await
        .unwrap();
    client
        .send::<hi::cm_request::Endpoint>(
            &data_request(&artefacts[0], &key, &bridge, range),
            &hiu(),
        )
        .await
        .unwrap();
    bridge.expect().await;
    let push: hi::transfer::Body = serde_json::from_value(bridge.expect().await.body).unwrap();
    let results = decrypt(&push, &key);
    assert_eq!(results[0].as_ref().unwrap_err(), &fidelius::Error::Decrypt);
    assert!(results[1..].iter().all(Result::is_ok));

    // Revocation reaches the HIU, and the artefact serves nothing more.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/admin/consents/{}/revoke",
            sandbox.url(),
            artefacts[0]
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let revoked: Request<consents::hiu_notify::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(revoked.body.notification.status, ConsentStatus::Revoked);
    client
        .send::<hi::cm_request::Endpoint>(
            &data_request(&artefacts[0], &key, &bridge, range),
            &hiu(),
        )
        .await
        .unwrap();
    let refused: Callback<hi::hiu_on_request::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert!(refused.error.unwrap().message.contains("ABDM-1062"));
    sandbox.stop().await;
}

#[tokio::test]
async fn consents_expire_at_data_erase_at_and_can_be_denied() {
    let config = SandboxConfig {
        consent_delay: Duration::from_millis(50),
        ..fast_config()
    };
    let (sandbox, client, mut bridge) = start(config).await;
    let (_, artefacts, _) =
        request_consent(&client, &mut bridge, chrono::Duration::milliseconds(1500)).await;
    let expired = bridge
        .next(Duration::from_secs(5))
        .await
        .expect("an expiry notification");
    let expired: Request<consents::hiu_notify::Body> =
        serde_json::from_value(expired.body).unwrap();
    assert_eq!(expired.body.notification.status, ConsentStatus::Expired);
    assert_eq!(
        expired.body.notification.consent_artefacts[0].id,
        artefacts[0]
    );
    sandbox.stop().await;

    let config = SandboxConfig {
        consent_policy: ConsentPolicy::Manual,
        ..fast_config()
    };
    let (sandbox, client, mut bridge) = start(config).await;
    let request = consent_request(chrono::Duration::days(1));
    client
        .send::<consent_requests::init::Endpoint>(&request, &hiu())
        .await
        .unwrap();
    let on_init: Callback<consent_requests::on_init::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let id = on_init.body.consent_request.unwrap().id;
    assert!(
        bridge.next(Duration::from_millis(300)).await.is_none(),
        "manual: nothing until the patient decides"
    );
    reqwest::Client::new()
        .post(format!(
            "{}/admin/consent-requests/{id}/deny",
            sandbox.url()
        ))
        .send()
        .await
        .unwrap();
    let denied: Request<consents::hiu_notify::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(denied.body.notification.status, ConsentStatus::Denied);
    assert!(denied.body.notification.consent_artefacts.is_empty());
    sandbox.stop().await;
}

/// Links a care context of ours to Asha's ABHA (HIP-initiated), as the desk does after a visit.
async fn link_care_context(
    sandbox: &abdm_sandbox::Sandbox,
    client: &GatewayClient,
    bridge: &mut Bridge,
    cc: &str,
) {
    let hip = Acting::Hip(DEFAULT_SERVICE_ID.into());
    let requester = Requester {
        kind: ServiceKind::Hip,
        id: DEFAULT_SERVICE_ID.into(),
    };
    let init = Request::new(user_auth::init::Body {
        query: user_auth::init::Query {
            id: "asha.kumari@sbx".into(),
            purpose: AuthPurpose::Link,
            auth_mode: Some(AuthMode::MobileOtp),
            requester,
        },
    });
    client
        .send::<user_auth::init::Endpoint>(&init, &hip)
        .await
        .unwrap();
    let on_init: Callback<user_auth::on_init::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let txn = on_init.body.auth.unwrap().transaction_id;
    let otp = otp_for(sandbox, &txn).await;
    client
        .send::<user_auth::confirm::Endpoint>(
            &Request::new(user_auth::confirm::Body {
                transaction_id: txn,
                credential: user_auth::confirm::Credential {
                    auth_code: Some(otp),
                    demographic: None,
                },
            }),
            &hip,
        )
        .await
        .unwrap();
    let confirmed: Callback<user_auth::on_confirm::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let token = confirmed.body.auth.unwrap().access_token.unwrap();
    client
        .send::<links::add_contexts::Endpoint>(
            &Request::new(links::add_contexts::Body {
                link: links::add_contexts::Link {
                    access_token: token,
                    patient: links::LinkedPatient {
                        reference_number: "PAT-ASHA".into(),
                        display: "Asha Kumari".into(),
                        care_contexts: vec![CareContextRepresentation {
                            reference_number: cc.into(),
                            display: "OPD visit".into(),
                        }],
                    },
                },
            }),
            &hip,
        )
        .await
        .unwrap();
    bridge.expect().await;
}

#[tokio::test]
async fn hip_flow_the_peer_hiu_decrypts_and_checks_what_we_push() {
    let (sandbox, client, mut bridge) = start(fast_config()).await;
    let http = reqwest::Client::new();
    link_care_context(&sandbox, &client, &mut bridge, "OPD-ASHA-1").await;

    let started: Value = http.post(format!("{}/admin/peer-hiu/request", sandbox.url()))
        .json(&json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "hiTypes": ["OPConsultation"]}))
        .send().await.unwrap().json().await.unwrap();
    let notify: Request<consents::hip_notify::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(notify.body.notification.status, ConsentStatus::Granted);
    assert_eq!(
        notify.body.notification.consent_detail.care_contexts[0].care_context_reference,
        "OPD-ASHA-1"
    );
    let hi_request: Request<hi::hip_request::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(
        hi_request.body.transaction_id.to_string(),
        started["transactionId"].as_str().unwrap()
    );

    // Act as our HIP: encrypt a document for the peer HIU's key and push it with its checksum.
    let hiu_key = fidelius::PublicKey::parse(
        &hi_request
            .body
            .hi_request
            .key_material
            .dh_public_key
            .key_value,
    )
    .unwrap();
    let hiu_nonce = fidelius::Nonce::parse(&hi_request.body.hi_request.key_material.nonce).unwrap();
    let ours = fidelius::KeyMaterial::generate();
    let session =
        fidelius::Session::derive(&ours.secret, &hiu_key, &ours.nonce, &hiu_nonce).unwrap();
    let bundle = json!({"resourceType": "Bundle", "type": "document", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Composition", "meta": {"profile": ["https://nrces.in/ndhm/fhir/r4/StructureDefinition/OPConsultRecord"]},
         "type": {"coding": [{"system": "http://snomed.info/sct", "code": "371530004"}]}, "section": [{"entry": [{"reference": "urn:uuid:2"}]}]}},
        {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Condition", "meta": {"profile": ["https://nrces.in/ndhm/fhir/r4/StructureDefinition/Condition"]}}}]});
    let plain = serde_json::to_vec(&bundle).unwrap();
    let md5_hex = |b: &[u8]| {
        use md5::Digest;
        md5::Md5::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let push = hi::transfer::Body {
        page_number: 1,
        page_count: 1,
        transaction_id: hi_request.body.transaction_id,
        entries: vec![
            hi::transfer::Entry {
                content: Some(session.seal_base64(&plain)),
                link: None,
                media: "application/fhir+json".into(),
                checksum: md5_hex(&plain),
                care_context_reference: "OPD-ASHA-1".into(),
            },
            hi::transfer::Entry {
                content: Some(session.seal_base64(&plain)),
                link: None,
                media: "application/fhir+json".into(),
                checksum: md5_hex(b"tampered"),
                care_context_reference: "OPD-ASHA-1".into(),
            },
        ],
        key_material: KeyMaterial::curve25519(
            ours.public_key().to_base64(fidelius::KeyEncoding::X509),
            ours.nonce.to_base64(),
            ts(1),
        ),
    };
    let token = client.session_token().await.unwrap();
    let r = http
        .post(&hi_request.body.hi_request.data_push_url)
        .bearer_auth(&token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    let report: Value = http
        .get(format!(
            "{}/admin/peer-hiu/reports/{}",
            sandbox.url(),
            hi_request.body.transaction_id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["entries"].as_array().unwrap().len(), 2);
    assert_eq!(report["entries"][0]["checksumOk"], true);
    assert_eq!(report["entries"][0]["compositionType"], "371530004");
    let errors: Vec<String> = serde_json::from_value(report["errors"].clone()).unwrap();
    // Two entries sealed under one key and nonce reuse the AES-GCM nonce: the HIU says so.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("2 entries under one key and nonce"));
    assert!(errors[1].contains("checksum"));
    sandbox.stop().await;
}

#[tokio::test]
async fn patient_initiated_discovery_reaches_the_hip_and_its_answer_is_kept() {
    let (sandbox, client, mut bridge) = start(fast_config()).await;
    let http = reqwest::Client::new();
    let started: Value = http
        .post(format!("{}/admin/discover", sandbox.url()))
        .json(&json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let discover: Request<discovery::discover::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(
        discover.request_id.to_string(),
        started["requestId"].as_str().unwrap()
    );
    assert!(discover
        .body
        .patient
        .verified_identifiers
        .iter()
        .any(|i| i.kind == IdentifierType::Mobile));
    let answer = Callback::answering(
        discover.request_id,
        discovery::on_discover::Body {
            transaction_id: discover.body.transaction_id,
            patient: Some(discovery::on_discover::Patient {
                reference_number: "PAT-ASHA".into(),
                display: "Asha Kumari".into(),
                care_contexts: vec![CareContextRepresentation {
                    reference_number: "OPD-9".into(),
                    display: "OPD".into(),
                }],
                matched_by: vec![IdentifierType::Mobile],
            }),
        },
    );
    client
        .send::<discovery::on_discover::Endpoint>(&answer, &Acting::Hip(DEFAULT_SERVICE_ID.into()))
        .await
        .unwrap();
    let kept: Value = http
        .get(format!(
            "{}/admin/answers/{}",
            sandbox.url(),
            discover.request_id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["patient"]["careContexts"][0]["referenceNumber"],
        "OPD-9"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn the_m3_exchange_log_validates_against_nha_openapi() {
    let dir = std::env::temp_dir().join(format!("sandbox-m3-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("exchange.jsonl");
    let config = SandboxConfig {
        consent_delay: Duration::from_millis(50),
        exchange_log: Some(log.clone()),
        ..fast_config()
    };
    let (sandbox, client, mut bridge) = start(config).await;
    let (_, artefacts, _) = request_consent(&client, &mut bridge, chrono::Duration::days(30)).await;
    client
        .send::<consents::fetch::Endpoint>(
            &Request::new(consents::fetch::Body {
                consent_id: artefacts[0].clone(),
            }),
            &hiu(),
        )
        .await
        .unwrap();
    let on_fetch: Callback<consents::on_fetch::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let range = on_fetch
        .body
        .consent
        .unwrap()
        .consent_detail
        .permission
        .date_range;
    let key = fidelius::KeyMaterial::generate();
    client
        .send::<hi::cm_request::Endpoint>(
            &data_request(&artefacts[0], &key, &bridge, range),
            &hiu(),
        )
        .await
        .unwrap();
    bridge.expect().await;
    bridge.expect().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    sandbox.stop().await;
    let summary = validate_jsonl(&log);
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 8, "{summary}");
    std::fs::remove_dir_all(&dir).ok();
}
