//! What the relay does for a clinic: callbacks in order and exactly once, redeliveries kept once,
//! data pushes at the clinic's own push paths, everything sealed at rest, and a desk that the relay
//! does not recognise refused rather than fed the wrong messages.

mod support;

use std::time::Duration;

use abdm::client::Acting;
use abdm::v0_5::user_auth;
use abdm::v0_5::{AuthPurpose, Callback, Request, Requester, ServiceKind};
use abdm::Operation;
use abdm_sandbox::DEFAULT_SERVICE_ID;
use relay_client::{ClientConfig, Committed, Connection, MessageKind, PushToken};
use serde_json::{json, Value};
use support::*;

fn fetch_modes() -> Request<user_auth::fetch_modes::Body> {
    Request::new(user_auth::fetch_modes::Body {
        query: user_auth::fetch_modes::Query {
            id: "asha.kumari@sbx".into(),
            purpose: AuthPurpose::KycAndLink,
            requester: Requester {
                kind: ServiceKind::Hip,
                id: DEFAULT_SERVICE_ID.into(),
            },
        },
    })
}

#[tokio::test]
async fn callbacks_reach_the_desk_in_order_exactly_once() {
    let w = World::start("order", |c| c).await;
    let hip = Acting::Hip(DEFAULT_SERVICE_ID.into());
    let mut sent = Vec::new();
    for _ in 0..20 {
        let r = fetch_modes();
        sent.push(r.request_id);
        w.client
            .send::<user_auth::fetch_modes::Endpoint>(&r, &hip)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    // All stored before the desk comes online.
    w.wait_depth(20).await;

    let mut desk = Desk::start(&w.relay.url(), &w.key, Committed::default());
    let mut seqs = Vec::new();
    let mut answered = Vec::new();
    for _ in 0..20 {
        let d = desk.next(Duration::from_secs(5)).await.expect("a delivery");
        assert_eq!(d.path, user_auth::on_fetch_modes::Endpoint::PATH);
        assert_eq!(d.service_id.as_deref(), Some(DEFAULT_SERVICE_ID));
        seqs.push(d.seq);
        let cb: Callback<user_auth::on_fetch_modes::Body> =
            serde_json::from_value(d.body.unwrap()).unwrap();
        answered.push(cb.resp.request_id);
    }
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "in order, no gaps");
    answered.sort();
    sent.sort();
    assert_eq!(answered, sent);
    assert!(matches!(*desk.status.borrow(), Connection::Online { .. }));
    assert!(
        desk.next(Duration::from_millis(300)).await.is_none(),
        "nothing twice"
    );

    // Acknowledged messages are gone; new ones stream live.
    w.wait_depth(0).await;
    w.client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes(), &hip)
        .await
        .unwrap();
    assert_eq!(desk.next(Duration::from_secs(5)).await.unwrap().seq, 21);
    let committed = desk.stop().await;
    assert_eq!(committed.seq, 21);

    // A desk resuming from what it committed gets only what is new.
    w.client
        .send::<user_auth::fetch_modes::Endpoint>(&fetch_modes(), &hip)
        .await
        .unwrap();
    let mut desk = Desk::start(&w.relay.url(), &w.key, committed);
    assert_eq!(desk.next(Duration::from_secs(5)).await.unwrap().seq, 22);
    assert!(desk.next(Duration::from_millis(300)).await.is_none());
    desk.stop().await;
    w.stop().await;
}

async fn post_callback(w: &World, token: &str, body: &Value) -> u16 {
    w.http
        .post(w.callback_url(user_auth::on_init::Endpoint::PATH))
        .bearer_auth(token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_redelivery_within_the_window_is_stored_once_and_a_late_token_within_the_leeway_counts() {
    let w = World::start("redelivery", |c| RelayConfig {
        jwt_leeway: Duration::from_secs(60),
        dedupe_window: Duration::from_secs(2),
        ..c
    })
    .await;
    // ABDM redelivers with the original token, expired by then (session tokens live 20 min).
    let late = w.gateway_token_issued(1200 + 30).await;
    let body = json!({"requestId": "a-callback", "resp": {"requestId": "x"}});
    assert_eq!(post_callback(&w, &late, &body).await, 202);
    assert_eq!(post_callback(&w, &late, &body).await, 202);
    assert_eq!(w.depth(), 1, "a redelivery is kept once");
    let too_late = w.gateway_token_issued(1200 + 120).await;
    let other = json!({"requestId": "another", "resp": {"requestId": "x"}});
    assert_eq!(post_callback(&w, &too_late, &other).await, 401);
    // Past the dedupe window the same id is a new message.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(post_callback(&w, &late, &body).await, 202);
    assert_eq!(w.depth(), 2);
    w.stop().await;
}

fn push_body(transaction: &str, page: u64) -> Value {
    json!({"pageNumber": page, "pageCount": 2, "transactionId": transaction,
        "entries": [{"content": "c2VhbGVkIGJ5dGVz", "media": "application/fhir+json", "checksum": "x", "careContextReference": "OPD-1"}],
        "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519", "dhPublicKey": {"expiry": "2030-01-01T00:00:00.000Z", "parameters": "Curve25519/32byte random key", "keyValue": "AAAA"}, "nonce": "BBBB"}})
}

#[tokio::test]
async fn data_pushes_arrive_only_at_open_push_paths() {
    let w = World::start("push", |c| c).await;
    let config = ClientConfig::new(w.relay.url(), TOKEN, w.key.clone());
    let token = PushToken::generate();
    let url = token.url(&format!("{}/abdm", w.relay.url()));
    let push = |body: Value, url: String| {
        let http = w.http.clone();
        async move {
            http.post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let txn = uuid::Uuid::new_v4().to_string();

    // Not open yet: refused, nothing stored.
    assert_eq!(push(push_body(&txn, 1), url.clone()).await, 404);
    assert_eq!(w.depth(), 0);

    // Only the clinic can open one.
    let far = abdm_relay::store::now_unix() + 600;
    let r = w
        .http
        .put(format!(
            "{}/clinic/push-paths/{}",
            w.relay.url(),
            token.as_str()
        ))
        .bearer_auth("not-the-clinic")
        .json(&json!({"expiresAt": far}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    relay_client::push::open_push_path(&w.http, &config, &token, far)
        .await
        .unwrap();

    // Open: both pages stored once each, a redelivered page once.
    assert_eq!(push(push_body(&txn, 1), url.clone()).await, 202);
    assert_eq!(push(push_body(&txn, 2), url.clone()).await, 202);
    assert_eq!(push(push_body(&txn, 2), url.clone()).await, 202);
    assert_eq!(w.depth(), 2);
    // A push without the ids a push has is refused.
    assert_eq!(push(json!({"entries": []}), url.clone()).await, 400);
    // A made-up path of the right shape: 404.
    let guess = PushToken::generate().url(&format!("{}/abdm", w.relay.url()));
    assert_eq!(push(push_body(&txn, 3), guess).await, 404);

    let mut desk = Desk::start(&w.relay.url(), &w.key, Committed::default());
    for page in [1, 2] {
        let d = desk.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(d.kind, MessageKind::Push);
        assert_eq!(d.body.unwrap(), push_body(&txn, page));
    }

    // Closed after the transfer: later pushes are refused.
    relay_client::push::close_push_path(&w.http, &config, &token)
        .await
        .unwrap();
    assert_eq!(push(push_body(&txn, 3), url.clone()).await, 404);
    // Expired: refused too.
    let short = PushToken::generate();
    relay_client::push::open_push_path(&w.http, &config, &short, abdm_relay::store::now_unix() + 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let short_url = short.url(&format!("{}/abdm", w.relay.url()));
    assert_eq!(push(push_body(&txn, 4), short_url).await, 404);
    assert!(desk.next(Duration::from_millis(300)).await.is_none());
    desk.stop().await;
    w.stop().await;
}

#[tokio::test]
async fn nothing_readable_is_left_on_the_relays_disk() {
    let w = World::start("sealed", |c| c).await;
    let token = w.gateway_token().await;
    let share = json!({"requestId": uuid::Uuid::new_v4(), "timestamp": "2026-11-24T10:00:00.000Z",
        "patient": {"hipCode": "COUNTER-1", "userDemographics": {"healthId": "asha.kumari@sbx",
        "healthIdNumber": "91-1234-5678-9012", "name": "Asha Kumari", "gender": "F", "yearOfBirth": 1990,
        "identifiers": [{"type": "MOBILE", "value": "9876543210"}],
        "address": {"line": "12 Gandhi Road", "district": "Pune", "state": "Maharashtra", "pincode": "411001"}}}});
    let r = w
        .http
        .post(w.callback_url("/v1.0/patients/profile/share"))
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .json(&share)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let secrets = [
        "Asha Kumari",
        "9876543210",
        "Gandhi Road",
        "91-1234-5678-9012",
        "asha.kumari",
    ];
    let mut files = vec![];
    let mut stack = vec![w.dir.0.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p)
            } else {
                files.push(p)
            }
        }
    }
    assert!(!files.is_empty());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s:?} readable in {}",
                f.display()
            );
        }
    }
    // The desk, with the clinic's key, reads it as sent.
    let mut desk = Desk::start(&w.relay.url(), &w.key, Committed::default());
    let first = desk.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.body.clone().unwrap(), share);
    desk.stop().await;
    // Another key opens nothing: the desk is told the message is unreadable.
    let stranger = relay_client::ClinicKey::generate();
    let body = json!({"requestId": "x2", "resp": {"requestId": "y"}});
    assert_eq!(post_callback(&w, &token, &body).await, 202);
    let mut desk = Desk::start(
        &w.relay.url(),
        &stranger,
        Committed {
            seq: first.seq,
            id: first.id,
        },
    );
    let d = desk.next(Duration::from_secs(5)).await.expect("delivered");
    assert!(d.body.unwrap_err().contains("does not open"));
    desk.stop().await;
    w.stop().await;
}

#[tokio::test]
async fn a_desk_the_relay_does_not_recognise_is_refused_and_nothing_is_deleted() {
    let w = World::start("ahead", |c| c).await;
    let token = w.gateway_token().await;
    for i in 0..3 {
        let body = json!({"requestId": format!("r{i}"), "resp": {"requestId": "x"}});
        assert_eq!(post_callback(&w, &token, &body).await, 202);
    }
    let mut desk = Desk::start(&w.relay.url(), &w.key, Committed::default());
    let mut last = None;
    for _ in 0..3 {
        last = desk.next(Duration::from_secs(5)).await;
    }
    let last = last.unwrap();
    desk.stop().await;
    w.wait_depth(0).await;
    for i in 3..6 {
        let body = json!({"requestId": format!("r{i}"), "resp": {"requestId": "x"}});
        assert_eq!(post_callback(&w, &token, &body).await, 202);
    }
    w.wait_depth(3).await;

    // Ahead of the relay (its data lost or restored): refused.
    let config = ClientConfig::new(w.relay.url(), TOKEN, w.key.clone());
    for committed in [
        Committed { seq: 50, id: 1 },
        // The right seq but another message (a restored relay renumbered its mailbox).
        Committed {
            seq: last.seq,
            id: last.id ^ 2,
        },
    ] {
        let (status, _) = tokio::sync::watch::channel(Connection::Connecting);
        let (_stop, mut stop_rx) = tokio::sync::watch::channel(false);
        let mut collector = Collector {
            committed,
            tx: tokio::sync::mpsc::unbounded_channel().0,
        };
        let err = relay_client::run_once(&config, &mut collector, &status, &mut stop_rx)
            .await
            .unwrap_err();
        assert!(err.needs_a_person(), "{err}");
        assert!(err.to_string().contains("Nothing was deleted"), "{err}");
        assert_eq!(w.depth(), 3, "nothing was deleted");
    }
    // The run loop shows the alarm.
    let desk = Desk::start(&w.relay.url(), &w.key, Committed { seq: 50, id: 1 });
    let mut status = desk.status.clone();
    for _ in 0..100 {
        if matches!(*status.borrow_and_update(), Connection::Alarm { .. }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(matches!(*status.borrow(), Connection::Alarm { .. }));
    desk.stop().await;
    // The desk that is right resumes.
    let mut desk = Desk::start(
        &w.relay.url(),
        &w.key,
        Committed {
            seq: last.seq,
            id: last.id,
        },
    );
    assert_eq!(desk.next(Duration::from_secs(5)).await.unwrap().seq, 4);
    desk.stop().await;
    w.stop().await;
}

#[tokio::test]
async fn a_body_just_under_the_largest_limit_reaches_the_desk() {
    let limit = abdm_relay::MAX_BODY_LIMIT;
    let w = World::start("large", |c| RelayConfig {
        body_limit: limit,
        ..c
    })
    .await;
    let token = w.gateway_token().await;
    let mut body = json!({"requestId": "big", "resp": {"requestId": "x"}, "pad": ""}).to_string();
    let pad = limit - 50 - body.len();
    body = body.replace("\"pad\":\"\"", &format!("\"pad\":\"{}\"", "a".repeat(pad)));
    assert_eq!(body.len(), limit - 50);
    let r = w
        .http
        .post(w.callback_url(user_auth::on_init::Endpoint::PATH))
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let mut desk = Desk::start(&w.relay.url(), &w.key, Committed::default());
    let d = desk.next(Duration::from_secs(30)).await.expect("delivered");
    assert_eq!(d.body.unwrap().to_string().len(), limit - 50);
    desk.stop().await;
    w.stop().await;
}

use abdm_relay::RelayConfig;

#[tokio::test]
async fn v3_callbacks_are_kept_once_by_their_request_id_header_which_reaches_the_desk() {
    let w = World::start("v3", |c| c).await;
    let token = w.gateway_token().await;
    let discover = abdm::v3::user_linking::discover::Endpoint::PATH;
    let body = json!({"transactionId": "0b1c8a4e-6a3e-4c58-9d1e-3f4a2b1c0d9e",
        "patient": {"id": "asha.kumari@sbx", "name": "Asha Kumari", "gender": "F",
            "yearOfBirth": 1990, "verifiedIdentifiers": []}});
    let post = |request_id: &str| {
        w.http
            .post(w.callback_url(discover))
            .bearer_auth(&token)
            .header("X-HIP-ID", DEFAULT_SERVICE_ID)
            .header("REQUEST-ID", request_id)
            .header("TIMESTAMP", "2026-12-01T10:00:00.000Z")
            .json(&body)
            .send()
    };
    // v3 bodies carry no request id: the header is the dedupe key.
    let first = "5f7a535d-a3fd-416b-b069-c97d021fbacd";
    assert_eq!(post(first).await.unwrap().status(), 202);
    assert_eq!(post(first).await.unwrap().status(), 202);
    assert_eq!(w.depth(), 1, "a redelivery is kept once");
    assert_eq!(
        post("7d0e4b1c-2f3a-4c5d-8e9f-0a1b2c3d4e5f")
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(w.depth(), 2, "another request id is another message");
    let oversized = "x".repeat(200);
    assert_eq!(post(&oversized).await.unwrap().status(), 400);
    assert_eq!(w.depth(), 2, "a refused call stores nothing");

    // The desk learns the request id it must name when it answers.
    let mut desk = Desk::start(&w.relay.url(), &w.key, Committed::default());
    let d = desk.next(Duration::from_secs(5)).await.expect("a delivery");
    assert_eq!(d.path, discover);
    assert_eq!(d.request_id.as_deref(), Some(first));
    assert_eq!(d.body.unwrap(), body);
    desk.stop().await;
    w.stop().await;
}

#[test]
fn a_request_id_changed_at_rest_does_not_open() {
    use relay_client::frame::{decode_message, encode_message, MessageHeader};
    use relay_client::{ClinicKey, Delivery};
    let key = ClinicKey::generate();
    let header = MessageHeader {
        seq: 1,
        id: 3,
        received_at: "2026-12-01T10:00:00.000Z".into(),
        path: "/api/v3/hip/patient/share".into(),
        service_id: Some(DEFAULT_SERVICE_ID.into()),
        kind: MessageKind::Gateway,
        request_id: Some("5f7a535d-a3fd-416b-b069-c97d021fbacd".into()),
    };
    let aad = MessageHeader::seal_aad(
        "clinic",
        &header.path,
        header.kind,
        header.request_id.as_deref(),
    );
    let sealed = relay_client::Sealer::new(key.public()).seal(b"{}", &aad);
    let frame = encode_message(&header, &sealed);
    assert!(Delivery::open(&frame, "clinic", &key).unwrap().body.is_ok());
    // Whoever edits the stored header makes the desk answer another request: it does not open.
    let (mut forged, _) = decode_message(&frame).unwrap();
    forged.request_id = Some("7d0e4b1c-2f3a-4c5d-8e9f-0a1b2c3d4e5f".into());
    let frame = encode_message(&forged, &sealed);
    assert!(Delivery::open(&frame, "clinic", &key)
        .unwrap()
        .body
        .is_err());
}

#[tokio::test]
async fn on_v3_the_keys_are_fetched_with_a_session_bearer_and_without_one_the_relay_will_not_start()
{
    let body = json!({"transactionId": "0b1c8a4e-6a3e-4c58-9d1e-3f4a2b1c0d9e",
        "patient": {"id": "asha.kumari@sbx", "name": "Asha Kumari", "gender": "F",
            "yearOfBirth": 1990, "verifiedIdentifiers": []}});
    // The gateway's JWKS at v3's path (401 without a bearer), and a client to get one.
    let w = World::with_sandbox_and(
        "v3-keys",
        abdm_sandbox::SandboxConfig::default(),
        |sandbox, c| RelayConfig {
            jwks_url: format!("{}/api/hiecm/gateway/v3/certs", sandbox.url()),
            jwks_client: Some(abdm_relay::JwksClient {
                client_id: abdm_sandbox::DEFAULT_CLIENT_ID.into(),
                client_secret: abdm_sandbox::DEFAULT_CLIENT_SECRET.into(),
                cm_id: "sbx".into(),
            }),
            ..c
        },
    )
    .await;
    let status = w
        .http
        .post(w.callback_url(abdm::v3::user_linking::discover::Endpoint::PATH))
        .bearer_auth(w.gateway_token().await)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .header("REQUEST-ID", uuid::Uuid::new_v4().to_string())
        .header("TIMESTAMP", "2026-12-01T10:00:00.000Z")
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status, 202,
        "the gateway's token, checked with the keys fetched"
    );
    assert_eq!(w.depth(), 1);
    // Without a client it could check no token: it says so at start instead of refusing all.
    let dir = temp_dir("v3-keys-none");
    let refused = abdm_relay::RelayServer::start(RelayConfig::new(
        dir.0.join("data"),
        format!("{}/api/hiecm/gateway/v3/certs", w.sandbox.url()),
        vec![],
    ))
    .await;
    let why = refused
        .err()
        .expect("a relay that could check no token does not start");
    assert!(why.contains("--jwks-client-id"), "{why}");
    w.stop().await;
}
