//! Relay load benchmark: durable ingest with every check on (gateway token by issuer, client and
//! key, JSON parse, request-id cap, quota, sealing to the clinic's key, log append, group-commit
//! fdatasync, 202) next to a no-op axum handler measured in the same run with the same load generator; then a mailbox
//! of 100 000 messages drained through the stream while the process's memory is watched.
//!
//! Run: `cargo bench -p abdm-relay --bench ingest` (prints Markdown for BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use relay_client::{
    ClientConfig, ClinicKey, Committed, Connection, Consumer, ConsumerError, Delivery,
};
use serde_json::json;
use tokio::sync::watch;

const CONNECTIONS: usize = 64;

struct Outcome {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

/// Accepted requests' latencies and the number of failures, over `seconds`.
struct Sample {
    latencies: Vec<Duration>,
    errors: usize,
    seconds: f64,
}

impl Outcome {
    fn of(samples: &[Sample]) -> Outcome {
        let mut all: Vec<Duration> = samples
            .iter()
            .flat_map(|s| s.latencies.iter().copied())
            .collect();
        all.sort();
        let seconds: f64 = samples.iter().map(|s| s.seconds).sum();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .map(|d| d.as_secs_f64() * 1e3)
                .unwrap_or(f64::NAN)
        };
        Outcome {
            rate: all.len() as f64 / seconds,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            errors: samples.iter().map(|s| s.errors).sum(),
        }
    }
}

async fn load(url: &str, token: &str, seconds: f64) -> Sample {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for worker in 0..CONNECTIONS {
        let (url, token) = (url.to_string(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = json!({"requestId": format!("{worker}-{n}-{}", rand::random::<u32>()), "timestamp": "2026-11-24T10:00:00.000Z",
                    "auth": {"purpose": "KYC_AND_LINK", "modes": ["MOBILE_OTP"]}, "resp": {"requestId": "5f7a535d-a3fd-416b-b069-c97d021fbacd"}});
                let start = Instant::now();
                let r = http.post(&url).bearer_auth(&token).header("X-HIP-ID", DEFAULT_SERVICE_ID).json(&body).send().await;
                match r {
                    Ok(r) if r.status().as_u16() == 202 => latencies.push(start.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    Sample {
        latencies,
        errors,
        seconds,
    }
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

struct Drain {
    committed: Committed,
    count: u64,
    peak_rss: Arc<std::sync::Mutex<f64>>,
}

impl Consumer for Drain {
    async fn committed(&mut self) -> Committed {
        self.committed
    }
    async fn apply(&mut self, d: Delivery) -> Result<(), ConsumerError> {
        d.body.map_err(ConsumerError)?;
        self.committed = Committed {
            seq: d.seq,
            id: d.id,
        };
        self.count += 1;
        if self.count % 5000 == 0 {
            let mut peak = self.peak_rss.lock().unwrap();
            *peak = peak.max(rss_mib());
        }
        Ok(())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // The two targets alternate in short rounds, so that a busy moment on a shared machine hits
    // both alike rather than one of them.
    let (rounds, seconds) = if full { (8, 2.0) } else { (1, 0.5) };
    let mailbox = if full { 100_000 } else { 2_000 };

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    // The token the gateway puts on its callbacks (the relay refuses any other client's).
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
    let dir = std::env::temp_dir().join(format!("relay-bench-{}", std::process::id()));
    let config = RelayConfig::new(
        dir.join("data"),
        sandbox.jwks_url(),
        vec![Clinic::new(
            "c1",
            "bench-token",
            key.public(),
            vec![DEFAULT_SERVICE_ID.into()],
        )],
    );
    let relay = RelayServer::start(config).await.unwrap();

    let noop = axum::Router::new().fallback(|| async { axum::http::StatusCode::ACCEPTED });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let noop_url = format!(
        "http://{}/v0.5/users/auth/on-fetch-modes",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, noop).await.unwrap() });

    let relay_url = format!("{}/v0.5/users/auth/on-fetch-modes", relay.url());
    load(&noop_url, &token, 0.5).await; // warm-up
    let (mut noop_samples, mut durable_samples, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let n = load(&noop_url, &token, seconds).await;
        let d = load(&relay_url, &token, seconds).await;
        ratios.push(format!(
            "{:.0} %",
            100.0 * d.latencies.len() as f64 / n.latencies.len() as f64
        ));
        noop_samples.push(n);
        durable_samples.push(d);
    }
    let (baseline, durable) = (Outcome::of(&noop_samples), Outcome::of(&durable_samples));

    // Top the mailbox up to `mailbox` messages, then drain it.
    let stored = (durable.rate * seconds * rounds as f64) as u64;
    if stored < mailbox {
        let per = (mailbox - stored).div_ceil(CONNECTIONS as u64);
        let mut tasks = Vec::new();
        for w in 0..CONNECTIONS {
            let (url, token) = (relay_url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for n in 0..per {
                    let body =
                        json!({"requestId": format!("fill-{w}-{n}"), "resp": {"requestId": "x"}});
                    http.post(&url)
                        .bearer_auth(&token)
                        .header("X-HIP-ID", DEFAULT_SERVICE_ID)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    let before = rss_mib();
    let peak = Arc::new(std::sync::Mutex::new(before));
    let target = stored.max(mailbox);
    let started = Instant::now();
    let (status_tx, _status) = watch::channel(Connection::Connecting);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut drain = Drain {
        committed: Committed::default(),
        count: 0,
        peak_rss: peak.clone(),
    };
    let watcher = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut p = peak.lock().unwrap();
                *p = p.max(rss_mib());
            }
        }
    });
    // Stop the client once the relay reports an empty mailbox.
    let checker = async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if relay.mailbox("c1").depth == 0 {
                stop_tx.send_replace(true);
                break;
            }
        }
    };
    let runner = relay_client::run(
        ClientConfig::new(relay.url(), "bench-token", key.clone()),
        &mut drain,
        status_tx,
        stop_rx,
    );
    tokio::join!(runner, checker);
    watcher.abort();
    let drain_secs = started.elapsed().as_secs_f64();
    let peak = *peak.lock().unwrap();

    if !full {
        println!(
            "smoke run: no-op {:.0}/s, durable {:.0}/s, drained {} in {drain_secs:.1}s",
            baseline.rate, durable.rate, drain.count
        );
        return;
    }
    println!("| measurement | rate (req/s) | p50 | p99 | errors |");
    println!("|---|---|---|---|---|");
    println!(
        "| no-op axum handler, {CONNECTIONS} connections | {:.0} | {:.2} ms | {:.2} ms | {} |",
        baseline.rate, baseline.p50_ms, baseline.p99_ms, baseline.errors
    );
    println!("| relay durable ingest (gateway JWT by issuer/client/key, JSON, quota, sealing, log append, group-commit fdatasync, 202) | {:.0} | {:.2} ms | {:.2} ms | {} |", durable.rate, durable.p50_ms, durable.p99_ms, durable.errors);
    println!();
    println!(
        "durable / no-op = {:.0} % (target ≥ 50 %), p99 {:.2} ms (target < 20 ms); by round: {}",
        100.0 * durable.rate / baseline.rate,
        durable.p99_ms,
        ratios.join(", ")
    );
    println!("drained {} of {target} messages in {drain_secs:.1} s; process RSS {before:.0} MiB before, {peak:.0} MiB peak while draining", drain.count);
    relay.stop().await;
    sandbox.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
