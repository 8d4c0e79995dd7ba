//! Crash test: the desk process is killed with SIGKILL at random moments while patients scan the
//! counter QR (scan-and-share) — 50 times. Afterwards nothing is lost or doubled: one patient per
//! ABHA, one token per patient per day, every share answered, every queued call done.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abdm::healthid_v1 as hid;
use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::engine::{OutboxItem, OutboxState};
use desk_store::{Patient, SecretError, Secrets, Store};
use rand::Rng;
use relay_client::ClinicKey;
use serde_json::{json, Value};

const RUNS: usize = 50;
const RELAY_TOKEN: &str = "crash-desk-token";
const KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The fixed database key `--store-key-env` gives the desk process.
struct Key;
impl Secrets for Key {
    fn get(&self, _: &str) -> Result<Option<desk_store::zeroize::Zeroizing<Vec<u8>>>, SecretError> {
        let bytes: Vec<u8> = (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&KEY_HEX[i..i + 2], 16).unwrap())
            .collect();
        Ok(Some(desk_store::zeroize::Zeroizing::new(bytes)))
    }
    fn set(&self, _: &str, _: &[u8]) -> Result<(), SecretError> {
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<(), SecretError> {
        Ok(())
    }
}

fn spawn_desk(store: &std::path::Path, sandbox: &Sandbox, relay: &str, key: &ClinicKey) -> Child {
    Command::new(env!("CARGO_BIN_EXE_deskctl"))
        .args([
            "run",
            "--gateway",
            &sandbox.gateway_url(),
            "--healthid",
            &sandbox.healthid_url(),
            "--relay",
            relay,
            "--store-key-env",
            "DESK_TEST_KEY",
        ])
        .arg("--store")
        .arg(store)
        .env("DESK_TEST_KEY", KEY_HEX)
        .env("ABDM_RELAY_TOKEN", RELAY_TOKEN)
        .env("ABDM_RELAY_KEY", key.to_base64().as_str())
        .env("ABDM_CLIENT_SECRET", abdm_sandbox::DEFAULT_CLIENT_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("deskctl starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_sync_loses_and_doubles_nothing() {
    let sandbox = Sandbox::start(SandboxConfig {
        callback_delay: Duration::from_millis(10),
        redelivery_after: Some(Duration::from_millis(300)),
        dev_otp: Some("123456".into()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("desk-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = ClinicKey::generate();
    let relay = RelayServer::start(RelayConfig::new(
        dir.join("relay"),
        sandbox.jwks_url(),
        vec![Clinic::new(
            "clinic",
            RELAY_TOKEN,
            key.public(),
            vec![DEFAULT_SERVICE_ID.into()],
        )],
    ))
    .await
    .unwrap();
    let client = abdm::GatewayClient::new(sandbox.client_config());
    client.register_bridge(&relay.url()).await.unwrap();

    // Eight more people with ABHAs, besides the two demo accounts.
    let mut abhas = vec![
        "asha.kumari@sbx".to_string(),
        "ravi.shankar@sbx".to_string(),
    ];
    for i in 0..8 {
        let aadhaar = abdm_sandbox::aadhaar_with_check(&format!("7{i}345678901"));
        let txn = client
            .call::<hid::generate_otp::Endpoint>(&hid::generate_otp::Body { aadhaar }, None)
            .await
            .unwrap();
        client
            .call::<hid::verify_otp::Endpoint>(
                &hid::OtpBody {
                    otp: "123456".into(),
                    txn_id: txn.txn_id.clone(),
                },
                None,
            )
            .await
            .unwrap();
        client
            .call::<hid::check_and_generate_mobile_otp::Endpoint>(
                &hid::generate_mobile_otp::Body {
                    mobile: format!("98000000{i:02}"),
                    txn_id: txn.txn_id.clone(),
                },
                None,
            )
            .await
            .unwrap();
        client
            .call::<hid::verify_mobile_otp::Endpoint>(
                &hid::OtpBody {
                    otp: "123456".into(),
                    txn_id: txn.txn_id.clone(),
                },
                None,
            )
            .await
            .unwrap();
        let p = client
            .call::<hid::create_health_id_with_pre_verified::Endpoint>(
                &hid::create_health_id_with_pre_verified::Body {
                    txn_id: txn.txn_id,
                    health_id: Some(format!("crash.patient{i}")),
                    ..Default::default()
                },
                None,
            )
            .await
            .unwrap();
        abhas.push(p.health_id.unwrap());
    }

    // Patients keep scanning the counter QR while the desk is killed and restarted.
    let shares: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (stop_load, stop_rx) = tokio::sync::watch::channel(false);
    let load = {
        let (shares, url, abhas) = (shares.clone(), sandbox.url(), abhas.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !*stop_rx.borrow() {
                let abha = abhas[rand::thread_rng().gen_range(0..abhas.len())].clone();
                let r: Value = http
                    .post(format!("{url}/admin/share"))
                    .json(&json!({"abha": abha, "hipId": DEFAULT_SERVICE_ID}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                shares
                    .lock()
                    .unwrap()
                    .push((abha, r["requestId"].as_str().unwrap().to_string()));
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };

    let store_dir = dir.join("desk");
    let mut desk = spawn_desk(&store_dir, &sandbox, &relay.url(), &key);
    for _ in 0..RUNS {
        tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(60..300))).await;
        desk.kill().expect("SIGKILL");
        desk.wait().unwrap();
        desk = spawn_desk(&store_dir, &sandbox, &relay.url(), &key);
    }
    stop_load.send_replace(true);
    load.await.unwrap();

    // Every share gets its answer once the desk runs undisturbed.
    let shares = shares.lock().unwrap().clone();
    assert!(
        shares.len() > 50,
        "the load was real: {} shares",
        shares.len()
    );
    let http = reqwest::Client::new();
    let mut tokens: HashMap<String, HashSet<String>> = HashMap::new();
    for (abha, id) in &shares {
        let mut answered = None;
        for _ in 0..300 {
            let s: Value = http
                .get(format!("{}/admin/shares/{id}", sandbox.url()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(t) = s["tokenNumber"].as_str() {
                answered = Some(t.to_string());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let token = answered.unwrap_or_else(|| panic!("share {id} for {abha} never answered"));
        tokens.entry(abha.clone()).or_default().insert(token);
    }
    desk.kill().ok();
    desk.wait().ok();

    // One token per patient, different patients different tokens.
    for (abha, t) in &tokens {
        assert_eq!(t.len(), 1, "{abha} got tokens {t:?}");
    }
    let all: HashSet<&String> = tokens.values().flatten().collect();
    assert_eq!(all.len(), tokens.len(), "two patients share a token");

    // In the desk's database: one patient per ABHA, every call done.
    let store = Store::open(&store_dir, &Key).unwrap();
    let patients = store.all::<Patient>().unwrap();
    let addresses: Vec<String> = patients
        .iter()
        .filter_map(|p| p.abha_address.clone())
        .collect();
    let distinct: HashSet<&String> = addresses.iter().collect();
    assert_eq!(
        addresses.len(),
        distinct.len(),
        "duplicate patients for one ABHA"
    );
    assert_eq!(
        distinct.len(),
        tokens.len(),
        "every patient who shared is registered"
    );
    // Every call completes. An answer sent just before a kill reached ABDM but is still queued
    // here: the desk sends it again (the same request) once it runs, so it is given the time.
    let unfinished = |store: &Store| -> Vec<OutboxItem> {
        store
            .all::<OutboxItem>()
            .unwrap()
            .into_iter()
            .filter(|i| !matches!(i.state, OutboxState::Done { .. }))
            .collect()
    };
    let mut store = store;
    for _ in 0..10 {
        if unfinished(&store).is_empty() {
            break;
        }
        drop(store);
        let mut desk = spawn_desk(&store_dir, &sandbox, &relay.url(), &key);
        tokio::time::sleep(Duration::from_secs(2)).await;
        desk.kill().ok();
        desk.wait().ok();
        store = Store::open(&store_dir, &Key).unwrap();
    }
    let left = unfinished(&store);
    assert!(left.is_empty(), "calls not completed: {left:?}");
    relay.stop().await;
    sandbox.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
