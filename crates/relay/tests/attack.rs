//! The relay as an attacker meets it: only the gateway's own token opens a callback route, bad
//! input is refused at the door and changes nothing, and no client can make it do unbounded work.

mod support;

use std::time::{Duration, Instant};

use abdm_relay::RelayConfig;
use abdm_sandbox::DEFAULT_SERVICE_ID;
use serde_json::{json, Value};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn callback_body() -> Value {
    json!({"requestId": uuid::Uuid::new_v4(), "timestamp": "2026-11-24T10:00:00.000Z", "resp": {"requestId": uuid::Uuid::new_v4()}})
}

async fn post(w: &World, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut r = w
        .http
        .post(w.callback_url(path))
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn another_participants_valid_token_is_refused_on_every_callback_route() {
    let w = World::start("tokens", |c| c).await;
    let gateway = w.gateway_token().await;
    let desk_own = w.client.session_token().await.unwrap();
    let other = w.other_clients_token().await;
    // Every path the gateway calls on a bridge, in both generations.
    let paths: Vec<&str> = abdm::v0_5::bridge_paths()
        .into_iter()
        .chain(abdm::v3::bridge_paths())
        .collect();
    // A forged share for a patient of this clinic, by another ABDM client: the attack in the issue.
    for &path in &paths {
        for (who, token) in [
            ("the desk's own client", &desk_own),
            ("another vendor", &other),
        ] {
            let (status, text) = post(&w, path, Some(token), &callback_body().to_string()).await;
            assert_eq!(status, 401, "{who} got {status} on {path}: {text}");
            assert!(text.contains("not to the gateway"), "{text}");
        }
        let (status, _) = post(&w, path, None, &callback_body().to_string()).await;
        assert_eq!(status, 401, "no token on {path}");
    }
    assert_eq!(w.depth(), 0, "nothing stored for a refused call");
    for &path in &paths {
        let (status, text) = post(&w, path, Some(&gateway), &callback_body().to_string()).await;
        assert_eq!(status, 202, "the gateway on {path}: {text}");
    }
    // A path ABDM never calls on a bridge: 404 even for the gateway.
    let (status, _) = post(
        &w,
        "/v0.5/users/auth/init",
        Some(&gateway),
        &callback_body().to_string(),
    )
    .await;
    assert_eq!(status, 404);
    // A token of another realm (another gateway's keys).
    let stranger = abdm_sandbox::Sandbox::start(abdm_sandbox::SandboxConfig::default())
        .await
        .unwrap();
    let foreign: Value = w
        .http
        .post(format!("{}/admin/gateway-token", stranger.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, _) = post(
        &w,
        "/v0.5/users/auth/on-init",
        foreign["accessToken"].as_str(),
        &callback_body().to_string(),
    )
    .await;
    assert_eq!(status, 401);
    stranger.stop().await;
    w.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer_and_changes_nothing() {
    let w = World::start("input", |c| c).await;
    let token = w.gateway_token().await;
    let path = "/v0.5/users/auth/on-init";
    let deep = format!(
        "{{\"requestId\":\"d\",\"x\":{}1{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let long_id = json!({"requestId": "x".repeat(500), "resp": {"requestId": "y"}}).to_string();
    for (body, status, words) in [
        (
            r#"{"requestId":"a","n":1e999}"#.to_string(),
            400,
            "not valid JSON",
        ),
        (
            r#"{"requestId":"b","s":"\udc00"}"#.to_string(),
            400,
            "not valid JSON",
        ),
        (deep, 400, "not valid JSON"),
        ("[1,2]".to_string(), 400, "JSON object"),
        ("not json".to_string(), 400, "not valid JSON"),
        (long_id, 400, "too long"),
        ("x".repeat(300 * 1024), 413, "larger than"),
    ] {
        let (got, text) = post(&w, path, Some(&token), &body).await;
        assert_eq!(got, status, "{}: {text}", &body[..body.len().min(40)]);
        assert!(text.contains(words), "{text}");
    }
    // Routing: no service header, a service no clinic here has.
    let r = w
        .http
        .post(w.callback_url(path))
        .bearer_auth(&token)
        .json(&callback_body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = w
        .http
        .post(w.callback_url(path))
        .bearer_auth(&token)
        .header("X-HIP-ID", OTHER_SERVICE)
        .json(&callback_body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = w
        .http
        .post(w.callback_url(path))
        .bearer_auth(&token)
        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(w.depth(), 0);
    // A body 50 bytes under the limit is fine.
    let mut fill = json!({"requestId": "fill", "pad": ""}).to_string();
    let pad = 256 * 1024 - 50 - fill.len();
    fill = fill.replace("\"pad\":\"\"", &format!("\"pad\":\"{}\"", "b".repeat(pad)));
    assert_eq!(post(&w, path, Some(&token), &fill).await.0, 202);
    assert_eq!(w.depth(), 1);
    w.stop().await;
}

/// Writes a raw request and reads what comes back before `wait` (empty if nothing).
async fn raw(addr: std::net::SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = vec![0; 4096];
    match tokio::time::timeout(wait, s.read(&mut out)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&out[..n]).into_owned(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn the_token_is_checked_before_the_body_is_read_and_slow_clients_are_cut_off() {
    let w = World::start("slow", |c| RelayConfig {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(800),
        ..c
    })
    .await;
    let token = w.gateway_token().await;
    // A huge body promised without a valid token: refused at once, nothing read.
    let started = Instant::now();
    let answer = raw(
        w.relay.addr,
        b"POST /abdm/v0.5/users/auth/on-init HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-hip-id: IN2710000001_1\r\nauthorization: Bearer nope\r\ncontent-length: 60000000\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Headers that never finish: the connection is closed.
    let mut s = tokio::net::TcpStream::connect(w.relay.addr).await.unwrap();
    s.write_all(b"POST /abdm/v0.5/users/auth/on-init HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("the relay closes a connection whose headers never end")
        .unwrap_or(0);
    assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408"));
    // A body that never finishes: 408.
    let request = format!(
        "POST /abdm/v0.5/users/auth/on-init HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-hip-id: {DEFAULT_SERVICE_ID}\r\nauthorization: Bearer {token}\r\ncontent-length: 1000\r\n\r\n{{\"requestId\""
    );
    let answer = raw(w.relay.addr, request.as_bytes(), Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(w.depth(), 0);
    w.stop().await;
}

#[tokio::test]
async fn connections_are_capped() {
    let w = World::start("connections", |c| RelayConfig {
        max_connections: 4,
        ..c
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tokio::net::TcpStream::connect(w.relay.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = raw(
        w.relay.addr,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = raw(
        w.relay.addr,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    w.stop().await;
}

#[tokio::test]
async fn each_clinic_has_a_byte_quota_and_metrics_are_not_public() {
    let w = World::start("quota", |c| RelayConfig {
        max_mailbox_bytes: 20 * 1024,
        ..c
    })
    .await;
    let token = w.gateway_token().await;
    let mut stored = 0;
    let mut full = false;
    for i in 0..20 {
        let body = json!({"requestId": format!("q{i}"), "pad": "z".repeat(4000)}).to_string();
        match post(&w, "/v0.5/users/auth/on-init", Some(&token), &body)
            .await
            .0
        {
            202 => stored += 1,
            507 => {
                full = true;
                break;
            }
            other => panic!("{other}"),
        }
    }
    assert!(
        full && (4..=6).contains(&stored),
        "stored {stored} before the quota"
    );
    // Metrics only on their own listener.
    let public = w
        .http
        .get(format!("{}/metrics", w.relay.url()))
        .send()
        .await
        .unwrap();
    assert_ne!(public.status(), 200);
    let text = w
        .http
        .get(w.relay.metrics_url().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("relay_rejected_total{reason=\"mailbox_full\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("relay_mailbox_bytes{clinic=\"clinic-1\"}"),
        "{text}"
    );
    w.stop().await;
}

#[tokio::test]
async fn a_flood_of_made_up_key_ids_does_not_stall_real_tokens() {
    let w = World::start("kids", |c| c).await;
    let gateway = w.gateway_token().await;
    // Warm the key cache, then flood with tokens naming unknown keys.
    assert_eq!(
        post(
            &w,
            "/v0.5/users/auth/on-init",
            Some(&gateway),
            &callback_body().to_string()
        )
        .await
        .0,
        202
    );
    let forged_header = base64_url(r#"{"alg":"RS256","kid":"made-up"}"#);
    let mut flood = Vec::new();
    for i in 0..200 {
        let token = format!(
            "{forged_header}.{}.c2ln",
            base64_url(&format!(r#"{{"exp":9999999999,"n":{i}}}"#))
        );
        let http = w.http.clone();
        let url = w.callback_url("/v0.5/users/auth/on-init");
        flood.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .header("X-HIP-ID", DEFAULT_SERVICE_ID)
                .json(&json!({"requestId": "f"}))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let started = Instant::now();
    let mut body = callback_body();
    body["requestId"] = json!("real-one");
    // A real, not yet cached token: a fresh gateway token (new issue time) verifies at once.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = w.gateway_token().await;
    let t = Instant::now();
    assert_eq!(
        post(
            &w,
            "/v0.5/users/auth/on-init",
            Some(&fresh),
            &body.to_string()
        )
        .await
        .0,
        202
    );
    // Stalled behind the flood's key fetches it would wait seconds; alone (the nextest
    // config runs this test by itself) it takes milliseconds.
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "a real token waited {:?}",
        t.elapsed()
    );
    for f in flood {
        assert_eq!(f.await.unwrap(), 401);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    w.stop().await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
