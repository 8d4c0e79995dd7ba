//! The sandbox on loopback, driven through the real `abdm` client, with a small bridge server
//! receiving its callbacks.

mod support;

use std::time::Duration;

use abdm::healthid_v1 as hid;
use abdm::jwt::{CallbackPolicy, JwksVerifier};
use abdm::v0_5::{links, sessions, user_auth};
use abdm::v0_5::{
    AuthMode, AuthPurpose, Callback, CareContextRepresentation, Request, Requester, ServiceKind,
};
use abdm::{AbdmError, Operation};
use abdm_sandbox::{Faults, SandboxConfig, DEFAULT_SERVICE_ID};
use serde_json::{json, Value};
use support::*;

fn requester() -> Requester {
    Requester {
        kind: ServiceKind::Hip,
        id: DEFAULT_SERVICE_ID.into(),
    }
}

fn fetch_modes(id: &str) -> Request<user_auth::fetch_modes::Body> {
    Request::new(user_auth::fetch_modes::Body {
        query: user_auth::fetch_modes::Query {
            id: id.into(),
            purpose: AuthPurpose::KycAndLink,
            requester: requester(),
        },
    })
}

async fn rejected(
    result: Result<impl std::fmt::Debug, AbdmError>,
) -> (u16, Option<String>, String) {
    match result {
        Err(AbdmError::Rejected {
            status,
            code,
            message,
        }) => (status, code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn sessions_and_credentials_behave_like_abdm() {
    let sandbox = abdm_sandbox::Sandbox::start(fast_config()).await.unwrap();
    let http = reqwest::Client::new();
    let session_url = format!("{}/v0.5/sessions", sandbox.gateway_url());

    // Good credentials: an RS256 JWT that verifies against the published JWKS.
    let ok: sessions::sessions::Response = http
        .post(&session_url)
        .json(&json!({"clientId": "abdm-desk", "clientSecret": "sandbox-secret", "grantType": "client_credentials"}))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(ok.expires_in, 1200);
    // Signed by the realm's key — and still not a callback token: it is the desk's, not the
    // gateway's.
    let verifier = JwksVerifier::new(
        sandbox.jwks_url(),
        CallbackPolicy::for_jwks_url(&sandbox.jwks_url(), Duration::ZERO).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        verifier.verify(&ok.access_token).await,
        Err(abdm::jwt::JwtError::NotTheGateway { found: Some(c) }) if c == "abdm-desk"
    ));

    // Wrong secret, unknown client.
    for (id, secret, code) in [
        ("abdm-desk", "wrong", "ABDM-1922"),
        ("nobody", "x", "ABDM-1921"),
    ] {
        let r = http
            .post(&session_url)
            .json(
                &json!({"clientId": id, "clientSecret": secret, "grantType": "client_credentials"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
    }

    // No token, a forged token, a missing X-CM-ID.
    let url = format!(
        "{}{}",
        sandbox.gateway_url(),
        user_auth::fetch_modes::Endpoint::PATH
    );
    let r = http
        .post(&url)
        .header("X-CM-ID", "sbx")
        .json(&fetch_modes("asha.kumari@sbx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "900902");
    let r = http
        .post(&url)
        .bearer_auth("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln")
        .header("X-CM-ID", "sbx")
        .json(&fetch_modes("asha.kumari@sbx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "900901");
    let r = http
        .post(&url)
        .bearer_auth(&ok.access_token)
        .json(&fetch_modes("asha.kumari@sbx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"Realm\"");
    assert!(r.bytes().await.unwrap().is_empty());

    // Malformed JSON and a schema violation: ABDM-style 400s.
    for bad in [
        "{not json",
        r#"{"requestId":"x","timestamp":"2026-01-01T00:00:00Z"}"#,
    ] {
        let r = http
            .post(&url)
            .bearer_auth(&ok.access_token)
            .header("X-CM-ID", "sbx")
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "ABDM-1006"
        );
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn expired_session_tokens_are_refused() {
    let config = SandboxConfig {
        session_ttl: Duration::from_secs(1),
        ..fast_config()
    };
    let sandbox = abdm_sandbox::Sandbox::start(config).await.unwrap();
    let client = abdm::GatewayClient::new(sandbox.client_config());
    let token = client.session_token().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}{}",
            sandbox.gateway_url(),
            user_auth::fetch_modes::Endpoint::PATH
        ))
        .bearer_auth(token)
        .header("X-CM-ID", "sbx")
        .json(&fetch_modes("asha.kumari@sbx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "900901");
    // The client notices and gets a new session by itself.
    client
        .send::<user_auth::fetch_modes::Endpoint>(
            &fetch_modes("asha.kumari@sbx"),
            &abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into()),
        )
        .await
        .unwrap();
    sandbox.stop().await;
}

#[tokio::test]
async fn callbacks_reach_the_bridge_signed_and_correlated() {
    let (sandbox, client, mut bridge) = start(fast_config()).await;
    let services = client.services().await.unwrap();
    assert_eq!(services[0].id, DEFAULT_SERVICE_ID);

    let request = fetch_modes("91-1234-5678-9012");
    client
        .send::<user_auth::fetch_modes::Endpoint>(
            &request,
            &abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into()),
        )
        .await
        .unwrap();
    let got = bridge.expect().await;
    assert_eq!(
        got.path,
        "/clinics/test-clinic/v0.5/users/auth/on-fetch-modes"
    );
    assert_eq!(got.headers["x-hip-id"], DEFAULT_SERVICE_ID);
    let token = abdm::jwt::bearer(
        got.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
    )
    .unwrap();
    let verifier = JwksVerifier::new(
        sandbox.jwks_url(),
        CallbackPolicy::for_jwks_url(&sandbox.jwks_url(), Duration::ZERO).unwrap(),
    )
    .unwrap();
    assert_eq!(
        verifier.verify(token).await.unwrap().client_id.as_deref(),
        Some("gateway")
    );
    let callback: Callback<user_auth::on_fetch_modes::Body> =
        serde_json::from_value(got.body).unwrap();
    assert_eq!(callback.resp.request_id, request.request_id);
    assert!(callback
        .body
        .auth
        .unwrap()
        .modes
        .contains(&AuthMode::MobileOtp));

    // An unknown ABHA: an error callback, not silence.
    client
        .send::<user_auth::fetch_modes::Endpoint>(
            &fetch_modes("nobody.here@sbx"),
            &abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into()),
        )
        .await
        .unwrap();
    let callback: Callback<user_auth::on_fetch_modes::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert!(callback.error.unwrap().message.contains("ABDM-1114"));

    // An unknown HIP id: 202, then nothing at all (ABDM's black hole).
    let mut lost = fetch_modes("91-1234-5678-9012");
    lost.body.query.requester.id = "IN9999999999_9".into();
    client
        .send::<user_auth::fetch_modes::Endpoint>(
            &lost,
            &abdm::client::Acting::Hip("IN9999999999_9".into()),
        )
        .await
        .unwrap();
    assert!(
        bridge.next(Duration::from_millis(500)).await.is_none(),
        "no callback for an unknown HIP"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn link_an_existing_abha_with_mobile_otp_then_add_care_contexts() {
    let (sandbox, client, mut bridge) = start(fast_config()).await;
    let hip = abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into());

    let init = Request::new(user_auth::init::Body {
        query: user_auth::init::Query {
            id: "asha.kumari@sbx".into(),
            purpose: AuthPurpose::Link,
            auth_mode: Some(AuthMode::MobileOtp),
            requester: requester(),
        },
    });
    client
        .send::<user_auth::init::Endpoint>(&init, &hip)
        .await
        .unwrap();
    let on_init: Callback<user_auth::on_init::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(on_init.resp.request_id, init.request_id);
    let auth = on_init.body.auth.unwrap();
    assert_eq!(auth.meta.unwrap().hint.as_deref(), Some("******3210"));
    let otp = otp_for(&sandbox, &auth.transaction_id).await;

    // A wrong OTP first: an error callback that says so.
    let confirm = |code: &str| {
        Request::new(user_auth::confirm::Body {
            transaction_id: auth.transaction_id.clone(),
            credential: user_auth::confirm::Credential {
                auth_code: Some(code.into()),
                demographic: None,
            },
        })
    };
    let wrong = if otp == "111111" { "222222" } else { "111111" };
    client
        .send::<user_auth::confirm::Endpoint>(&confirm(wrong), &hip)
        .await
        .unwrap();
    let failed: Callback<user_auth::on_confirm::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert!(failed.error.unwrap().message.contains("OTP does not match"));

    client
        .send::<user_auth::confirm::Endpoint>(&confirm(&otp), &hip)
        .await
        .unwrap();
    let confirmed: Callback<user_auth::on_confirm::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    let auth = confirmed.body.auth.expect("confirmed");
    assert_eq!(auth.patient.unwrap().name, "Asha Kumari");
    let link_token = auth.access_token.expect("a linking token");

    let add = Request::new(links::add_contexts::Body {
        link: links::add_contexts::Link {
            access_token: link_token,
            patient: links::LinkedPatient {
                reference_number: "PAT-1".into(),
                display: "Asha Kumari".into(),
                care_contexts: vec![CareContextRepresentation {
                    reference_number: "OPD-1".into(),
                    display: "OPD visit".into(),
                }],
            },
        },
    });
    client
        .send::<links::add_contexts::Endpoint>(&add, &hip)
        .await
        .unwrap();
    let added: Callback<links::on_add_contexts::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert_eq!(added.resp.request_id, add.request_id);
    assert_eq!(added.body.acknowledgement.unwrap().status, "SUCCESS");

    // A forged linking token is refused in the callback.
    let mut forged = add.clone();
    forged.request_id = uuid::Uuid::new_v4();
    forged.body.link.access_token = "eyJhbGciOiJSUzUxMiJ9.e30.forged".into();
    client
        .send::<links::add_contexts::Endpoint>(&forged, &hip)
        .await
        .unwrap();
    let refused: Callback<links::on_add_contexts::Body> =
        serde_json::from_value(bridge.expect().await.body).unwrap();
    assert!(refused.error.unwrap().message.contains("ABDM-1026"));
    sandbox.stop().await;
}

async fn register(
    client: &abdm::GatewayClient,
    sandbox: &abdm_sandbox::Sandbox,
    aadhaar: &str,
) -> Result<hid::Profile, AbdmError> {
    let txn: hid::TxnResponse = client
        .call::<hid::generate_otp::Endpoint>(
            &hid::generate_otp::Body {
                aadhaar: aadhaar.into(),
            },
            None,
        )
        .await?;
    let otp = otp_for(sandbox, &txn.txn_id).await;
    client
        .call::<hid::verify_otp::Endpoint>(
            &hid::OtpBody {
                otp,
                txn_id: txn.txn_id.clone(),
            },
            None,
        )
        .await?;
    let mobile = "9123456780";
    let checked: hid::TxnResponse = client
        .call::<hid::check_and_generate_mobile_otp::Endpoint>(
            &hid::generate_mobile_otp::Body {
                mobile: mobile.into(),
                txn_id: txn.txn_id.clone(),
            },
            None,
        )
        .await?;
    if checked.mobile_linked != Some(true) {
        let otp = otp_for(sandbox, &txn.txn_id).await;
        client
            .call::<hid::verify_mobile_otp::Endpoint>(
                &hid::OtpBody {
                    otp,
                    txn_id: txn.txn_id.clone(),
                },
                None,
            )
            .await?;
    }
    client
        .call::<hid::create_health_id_with_pre_verified::Endpoint>(
            &hid::create_health_id_with_pre_verified::Body {
                txn_id: txn.txn_id,
                ..Default::default()
            },
            None,
        )
        .await
}

#[tokio::test]
async fn create_an_abha_with_aadhaar_otp_and_the_mobile_branch() {
    let (sandbox, client, _bridge) = start(fast_config()).await;
    let aadhaar = abdm_sandbox::aadhaar_with_check("52345678901");
    let profile = register(&client, &sandbox, &aadhaar).await.unwrap();
    assert_eq!(profile.new, Some(true));
    let number = profile.health_id_number.clone().unwrap();
    assert!(abdm::ids::AbhaNumber::parse(&number).is_ok());
    assert_eq!(profile.mobile.as_deref(), Some("9123456780"));

    // The X-token opens the profile; the same Aadhaar again gives the same ABHA, not a new one.
    let me: hid::Profile = client
        .call::<hid::account_profile::Endpoint>(&(), profile.token.as_deref())
        .await
        .unwrap();
    assert_eq!(me.health_id_number.as_deref(), Some(number.as_str()));
    let again = register(&client, &sandbox, &aadhaar).await.unwrap();
    assert_eq!(
        (again.new, again.health_id_number),
        (Some(false), Some(number))
    );

    // Search finds it; login with mobile OTP works.
    let found: hid::search_by_health_id::Response = client
        .call::<hid::search_by_health_id::Endpoint>(
            &hid::search_by_health_id::Body {
                health_id: profile.health_id.clone().unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    assert!(found.auth_methods.contains(&hid::AuthMethod::MobileOtp));
    let txn: hid::TxnResponse = client
        .call::<hid::auth_init::Endpoint>(
            &hid::auth_init::Body {
                auth_method: hid::AuthMethod::MobileOtp,
                health_id: profile.health_id.unwrap(),
            },
            None,
        )
        .await
        .unwrap();
    let otp = otp_for(&sandbox, &txn.txn_id).await;
    let token: hid::TokenResponse = client
        .call::<hid::confirm_with_mobile_otp::Endpoint>(
            &hid::OtpBody {
                otp,
                txn_id: txn.txn_id,
            },
            None,
        )
        .await
        .unwrap();
    assert!(!token.token.is_empty());
    sandbox.stop().await;
}

#[tokio::test]
async fn otp_rules_wrong_expired_too_many_and_bad_aadhaar() {
    let config = SandboxConfig {
        otp_ttl: Duration::from_millis(800),
        otp_attempts: 3,
        ..fast_config()
    };
    let (sandbox, client, _bridge) = start(config).await;

    let (status, code, message) = rejected(
        client
            .call::<hid::generate_otp::Endpoint>(
                &hid::generate_otp::Body {
                    aadhaar: "999941057059".into(),
                },
                None,
            )
            .await,
    )
    .await;
    assert_eq!((status, code.as_deref()), (400, Some("ABDM-1006")));
    assert!(message.contains("Aadhaar"), "{message}");

    let txn: hid::TxnResponse = client
        .call::<hid::generate_otp::Endpoint>(
            &hid::generate_otp::Body {
                aadhaar: "999941057058".into(),
            },
            None,
        )
        .await
        .unwrap();
    let otp = otp_for(&sandbox, &txn.txn_id).await;
    let wrong = if otp == "111111" { "222222" } else { "111111" };
    let verify = |otp: &str| hid::OtpBody {
        otp: otp.into(),
        txn_id: txn.txn_id.clone(),
    };
    let (_, code, message) = rejected(
        client
            .call::<hid::verify_otp::Endpoint>(&verify(wrong), None)
            .await,
    )
    .await;
    assert_eq!(code.as_deref(), Some("ABDM-1035"));
    assert!(message.contains("2 attempts left"), "{message}");
    rejected(
        client
            .call::<hid::verify_otp::Endpoint>(&verify(wrong), None)
            .await,
    )
    .await;
    let (_, code, _) = rejected(
        client
            .call::<hid::verify_otp::Endpoint>(&verify(wrong), None)
            .await,
    )
    .await;
    assert_eq!(code.as_deref(), Some("ABDM-1100"));
    // Locked: even the right OTP is refused now.
    let (_, code, _) = rejected(
        client
            .call::<hid::verify_otp::Endpoint>(&verify(&otp), None)
            .await,
    )
    .await;
    assert_eq!(code.as_deref(), Some("ABDM-1100"));

    // Expiry.
    let txn: hid::TxnResponse = client
        .call::<hid::generate_otp::Endpoint>(
            &hid::generate_otp::Body {
                aadhaar: "999941057058".into(),
            },
            None,
        )
        .await
        .unwrap();
    let otp = otp_for(&sandbox, &txn.txn_id).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (_, code, _) = rejected(
        client
            .call::<hid::verify_otp::Endpoint>(
                &hid::OtpBody {
                    otp,
                    txn_id: txn.txn_id,
                },
                None,
            )
            .await,
    )
    .await;
    assert_eq!(code.as_deref(), Some("ABDM-1036"));

    // Too many OTP requests for one Aadhaar.
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            client
                .call::<hid::generate_otp::Endpoint>(
                    &hid::generate_otp::Body {
                        aadhaar: "999941057058".into(),
                    },
                    None,
                )
                .await,
        );
    }
    let (_, code, _) = rejected(last.unwrap()).await;
    assert_eq!(code.as_deref(), Some("ABDM-1100"));
    sandbox.stop().await;
}

#[tokio::test]
async fn injected_faults_drop_duplicate_fail_and_redeliver() {
    let (sandbox, client, mut bridge) = start(fast_config()).await;
    let hip = abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into());
    let http = reqwest::Client::new();
    let set = |f: Faults| {
        http.put(format!("{}/admin/faults", sandbox.url()))
            .json(&f)
            .send()
    };

    set(Faults {
        drop_next: 1,
        duplicate_next: 1,
        ..Faults::default()
    })
    .await
    .unwrap();
    client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes("asha.kumari@sbx"), &hip)
        .await
        .unwrap();
    assert!(
        bridge.next(Duration::from_millis(300)).await.is_none(),
        "dropped"
    );
    let twice = fetch_modes("asha.kumari@sbx");
    client
        .send::<user_auth::fetch_modes::Endpoint>(&twice, &hip)
        .await
        .unwrap();
    let a = bridge.expect().await;
    let b = bridge.expect().await;
    assert_eq!(a.body, b.body, "a duplicate is the same message");

    // 5xx on the next call: the client reports it as retryable; the retry with the same id works.
    set(Faults {
        fail_next_calls: 1,
        ..Faults::default()
    })
    .await
    .unwrap();
    let request = fetch_modes("asha.kumari@sbx");
    let err = client
        .send::<user_auth::fetch_modes::Endpoint>(&request, &hip)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    client
        .send::<user_auth::fetch_modes::Endpoint>(&request, &hip)
        .await
        .unwrap();
    bridge.expect().await;

    // Jitter makes callbacks overtake each other.
    set(Faults {
        reorder_jitter_ms: 400,
        ..Faults::default()
    })
    .await
    .unwrap();
    let mut sent = Vec::new();
    for _ in 0..10 {
        let r = fetch_modes("asha.kumari@sbx");
        sent.push(r.request_id);
        client
            .send::<user_auth::fetch_modes::Endpoint>(&r, &hip)
            .await
            .unwrap();
    }
    let mut received = Vec::new();
    for _ in 0..10 {
        let cb: Callback<user_auth::on_fetch_modes::Body> =
            serde_json::from_value(bridge.expect().await.body).unwrap();
        received.push(cb.resp.request_id);
    }
    assert_ne!(received, sent, "some callbacks arrive out of order");
    received.sort();
    sent.sort();
    assert_eq!(received, sent, "but every one arrives");
    set(Faults::default()).await.unwrap();

    // The bridge refuses once: ABDM delivers the same callback again later, with the same token.
    bridge
        .refuse_next
        .store(1, std::sync::atomic::Ordering::SeqCst);
    client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes("asha.kumari@sbx"), &hip)
        .await
        .unwrap();
    let first = bridge.expect().await;
    let again = bridge.expect().await;
    assert_eq!(first.body, again.body);
    assert_eq!(
        first.headers["authorization"],
        again.headers["authorization"]
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn scan_and_share_pushes_the_profile_and_records_the_token() {
    let (sandbox, client, mut bridge) = start(fast_config()).await;
    let http = reqwest::Client::new();
    let r: Value = http.post(format!("{}/admin/share", sandbox.url()))
        .json(&json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "counterId": "COUNTER-1"}))
        .send().await.unwrap().json().await.unwrap();
    let share = bridge.expect().await;
    assert_eq!(
        share.path,
        "/clinics/test-clinic/v0.5/patients/profile/share"
    );
    let request: Request<abdm::v0_5::profile::share::Body> =
        serde_json::from_value(share.body).unwrap();
    assert_eq!(
        request.request_id.to_string(),
        r["requestId"].as_str().unwrap()
    );
    assert_eq!(
        request.body.patient.user_demographics.health_id_number,
        "91-1234-5678-9012"
    );

    let answer = Callback::answering(
        request.request_id,
        abdm::v0_5::profile::on_share::Body {
            acknowledgement: abdm::v0_5::profile::on_share::Acknowledgement {
                status: abdm::v0_5::profile::on_share::ShareStatus::Success,
                health_id: "asha.kumari@sbx".into(),
                token_number: Some("7".into()),
            },
        },
    );
    client
        .send::<abdm::v0_5::profile::on_share::Endpoint>(
            &answer,
            &abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into()),
        )
        .await
        .unwrap();
    let status: Value = http
        .get(format!(
            "{}/admin/shares/{}",
            sandbox.url(),
            request.request_id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["tokenNumber"], "7");
    assert_eq!(status["status"], "SUCCESS");
    sandbox.stop().await;
}

#[tokio::test]
async fn the_exchange_log_validates_against_nha_openapi() {
    let dir = std::env::temp_dir().join(format!("sandbox-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("exchange.jsonl");
    let config = SandboxConfig {
        exchange_log: Some(log.clone()),
        ..fast_config()
    };
    let (sandbox, client, mut bridge) = start(config).await;
    let hip = abdm::client::Acting::Hip(DEFAULT_SERVICE_ID.into());

    // M1 traffic in both directions.
    register(
        &client,
        &sandbox,
        &abdm_sandbox::aadhaar_with_check("61234567890"),
    )
    .await
    .unwrap();
    client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes("asha.kumari@sbx"), &hip)
        .await
        .unwrap();
    bridge.expect().await;
    let init = Request::new(user_auth::init::Body {
        query: user_auth::init::Query {
            id: "asha.kumari@sbx".into(),
            purpose: AuthPurpose::Link,
            auth_mode: Some(AuthMode::MobileOtp),
            requester: requester(),
        },
    });
    client
        .send::<user_auth::init::Endpoint>(&init, &hip)
        .await
        .unwrap();
    bridge.expect().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    sandbox.stop().await;

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("sandbox-secret"),
        "secrets stay out of the log"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l["direction"] == "outbound"));
    assert!(lines
        .iter()
        .all(|l| l["ts"].is_string() && l["method"].is_string() && l["path"].is_string()));
    let summary = validate_jsonl(&log);
    eprintln!("exchange log: {summary}");
    assert!(summary.contains(" 0 failed"), "{summary}");
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 8, "most exchanges have a schema: {summary}");
    std::fs::remove_dir_all(&dir).ok();
}
