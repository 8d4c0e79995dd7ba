//! Offline queue drain: registrations made while ABDM is unreachable (scan-and-pull, each needing
//! fetch-modes → init → confirm and three callbacks through the relay) complete once ABDM returns.
//!
//! Run: `cargo bench -p desk-core --bench drain` (1 000 registrations; target ≥ 200 per second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::{Desk, QrProfile, V05};
use desk_store::{MemorySecrets, Store};
use tokio::sync::watch;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count = if full { 1000 } else { 20 };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = SandboxConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        callback_delay: Duration::from_millis(1),
        ..SandboxConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("drain-bench-{}", std::process::id()));
    let token = "drain-token";

    // The sandbox exists only to know its keys' URL for the relay; ABDM is "down" until restarted.
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let relay = RelayServer::start(RelayConfig::new(
        dir.join("relay"),
        format!("{}/v0.5/certs", sandbox.gateway_url()),
        vec![Clinic::new("c", token, vec![DEFAULT_SERVICE_ID.into()])],
    ))
    .await
    .unwrap();
    let client_config = sandbox.client_config();
    sandbox.stop().await;
    // ABDM keeps the bridge registration while it is unreachable to us.
    config.clients = vec![abdm_sandbox::ClientSpec::desk_with_bridge(relay.url())];

    let store = Arc::new(Store::open(&dir.join("desk"), &MemorySecrets::default()).unwrap());
    let desk = Arc::new(Desk::new(
        store,
        Arc::new(V05::new(
            abdm::GatewayClient::new(client_config.clone()),
            DEFAULT_SERVICE_ID,
        )),
        "sbx",
    ));
    let queued = Instant::now();
    for i in 0..count {
        // Half Asha, half Ravi: each registration is a distinct scan and its own ABDM conversation.
        let (number, address, name, gender, year) = if i % 2 == 0 {
            (
                "91-1234-5678-9012",
                "asha.kumari@sbx",
                "Asha Kumari",
                "F",
                1990,
            )
        } else {
            (
                "91-5555-0000-1234",
                "ravi.shankar@sbx",
                "Ravi Shankar",
                "M",
                1978,
            )
        };
        desk.scan_and_pull(QrProfile {
            abha_number: number.into(),
            abha_address: Some(address.into()),
            name: name.into(),
            gender: gender.into(),
            year_of_birth: Some(year),
            ..Default::default()
        })
        .unwrap();
    }
    let queue_secs = queued.elapsed().as_secs_f64();

    let (stop, stop_rx) = watch::channel(false);
    let (d1, s1) = (desk.clone(), stop_rx.clone());
    tokio::spawn(async move { d1.run_outbox(s1).await });
    let (d2, s2, url) = (desk.clone(), stop_rx, relay.url());
    tokio::spawn(async move {
        d2.run_sync(relay_client::ClientConfig::new(url, token), s2)
            .await
    });

    // ABDM comes back (the clock starts before it is even listening).
    let started = Instant::now();
    let sandbox = Sandbox::start(config).await.unwrap();
    let total_calls = 3 * count;
    loop {
        let store = desk.store();
        if store.next_queued().unwrap().is_none() && !store.has_pending().unwrap() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the queue did not drain in 10 minutes"
        );

        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = desk
        .store()
        .outbox()
        .unwrap()
        .iter()
        .filter(|i| matches!(i.state, desk_store::OutboxState::Done { .. }))
        .count();
    assert_eq!(done, total_calls, "every call done");
    let secs = started.elapsed().as_secs_f64();
    stop.send_replace(true);
    println!("| measurement | result | target |");
    println!("|---|---|---|");
    println!(
        "| {count} registrations saved while offline | {queue_secs:.2} s ({:.0}/s) | instant |",
        count as f64 / queue_secs
    );
    println!("| drained once ABDM returned ({total_calls} calls, {total_calls} callbacks via the relay) | {secs:.2} s = {:.0} registrations/s | ≥ 200/s |", count as f64 / secs);
    relay.stop().await;
    sandbox.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
