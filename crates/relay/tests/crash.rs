//! Crash test: under continuous load the relay process is killed with SIGKILL at random moments, 24
//! times, and restarted on the same data. Every callback that got a 202 must reach the desk, and none
//! may reach it twice.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use rand::Rng;
use relay_client::{
    ClientConfig, ClinicKey, Committed, Connection, Consumer, ConsumerError, Delivery,
};
use serde_json::json;
use tokio::sync::watch;

const TOKEN: &str = "crash-test-clinic-token";
const KILLS: usize = 24;

fn spawn_relay(port: u16, data: &std::path::Path, jwks: &str, key: &ClinicKey) -> Child {
    let clinic = format!(
        "clinic-1:{}:{}:{DEFAULT_SERVICE_ID}",
        abdm_relay::hex(&abdm_relay::sha256(TOKEN.as_bytes())),
        key.public()
    );
    Command::new(env!("CARGO_BIN_EXE_abdm-relay"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--jwks-url",
            jwks,
            "--clinic",
            &clinic,
        ])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the relay binary starts")
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    duplicates: Vec<String>,
}

struct Desk {
    committed: Committed,
    seen: Arc<Mutex<Seen>>,
}

impl Consumer for Desk {
    async fn committed(&mut self) -> Committed {
        self.committed
    }
    async fn apply(&mut self, d: Delivery) -> Result<(), ConsumerError> {
        let body = d.body.map_err(ConsumerError)?;
        let id = body["requestId"].as_str().unwrap_or_default().to_string();
        let mut seen = self.seen.lock().unwrap();
        if !seen.ids.insert(id.clone()) {
            seen.duplicates.push(id);
        }
        // "Commit" with the effect, as the desk store does.
        self.committed = Committed {
            seq: d.seq,
            id: d.id,
        };
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_and_duplicates_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let jwks = sandbox.jwks_url();
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/admin/gateway-token", sandbox.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["accessToken"].as_str().unwrap().to_string();
    let key = ClinicKey::generate();
    let dir = std::env::temp_dir().join(format!("relay-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let relay_url = format!("http://127.0.0.1:{port}");
    let mut relay = spawn_relay(port, &data, &jwks, &key);

    // Continuous load: 6 senders; a message counts once the relay said 202.
    let accepted = Arc::new(Mutex::new(HashSet::<String>::new()));
    let (stop_load, stop_load_rx) = watch::channel(false);
    let mut loaders = Vec::new();
    for worker in 0..6 {
        let (accepted, stop, token, url) = (
            accepted.clone(),
            stop_load_rx.clone(),
            token.clone(),
            relay_url.clone(),
        );
        loaders.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
            let mut n = 0u64;
            while !*stop.borrow() {
                n += 1;
                let id = format!("w{worker}-{n}");
                let body = json!({"requestId": id, "timestamp": "2026-11-24T10:00:00.000Z", "resp": {"requestId": "r"}});
                let result = http.post(format!("{url}/v0.5/users/auth/on-init")).bearer_auth(&token)
                    .header("X-HIP-ID", DEFAULT_SERVICE_ID).json(&body).send().await;
                match result {
                    Ok(r) if r.status() == 202 => {
                        accepted.lock().unwrap().insert(id);
                    }
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }

    // The desk consumes all along, reconnecting whenever the relay dies.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (stop_desk, stop_desk_rx) = watch::channel(false);
    let (status_tx, _status) = watch::channel(Connection::Connecting);
    let desk_seen = seen.clone();
    let mut config = ClientConfig::new(relay_url.clone(), TOKEN, key.clone());
    config.backoff_min = Duration::from_millis(30);
    config.backoff_max = Duration::from_millis(300);
    let desk = tokio::spawn(async move {
        let mut desk = Desk {
            committed: Committed::default(),
            seen: desk_seen,
        };
        relay_client::run(config, &mut desk, status_tx, stop_desk_rx).await;
    });

    for _ in 0..KILLS {
        let wait = rand::thread_rng().gen_range(150..450);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        relay.kill().expect("SIGKILL");
        relay.wait().unwrap();
        relay = spawn_relay(port, &data, &jwks, &key);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_load.send_replace(true);
    for l in loaders {
        l.await.unwrap();
    }

    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > 200,
        "the load was real: {} accepted",
        accepted.len()
    );
    let mut waited = 0;
    loop {
        let missing = accepted.difference(&seen.lock().unwrap().ids).count();
        if missing == 0 {
            break;
        }
        waited += 1;
        assert!(
            waited < 300,
            "{missing} accepted callbacks never reached the desk"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen.lock().unwrap().duplicates.is_empty(),
        "delivered twice: {:?}",
        seen.lock().unwrap().duplicates
    );

    stop_desk.send_replace(true);
    desk.await.unwrap();
    relay.kill().ok();
    relay.wait().ok();
    sandbox.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
