//! Offline queue drain: registrations made while ABDM is unreachable (scan-and-pull, each needing
//! fetch-modes → init → confirm and three callbacks through the relay) complete once ABDM returns.
//!
//! Run: `cargo bench -p desk-core --bench drain` (1 000 registrations; target ≥ 200 per second).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_store::MemorySecrets;
use relay_client::ClinicKey;
use testkit::{desk_on, relay_client_config, TempDir, CLINIC_TOKEN};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count = if full { 1000 } else { 20 };
    let port = testkit::free_port();
    let mut config = SandboxConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        callback_delay: Duration::from_millis(1),
        ..SandboxConfig::default()
    };
    let dir = TempDir::new("drain-bench");
    let key = ClinicKey::generate();

    // The sandbox exists only to know its keys' URL for the relay; ABDM is "down" until restarted.
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let relay = RelayServer::start(RelayConfig::new(
        dir.0.join("relay"),
        sandbox.jwks_url(),
        vec![Clinic::new(
            "c",
            CLINIC_TOKEN,
            key.public(),
            vec![DEFAULT_SERVICE_ID.into()],
        )],
    ))
    .await
    .unwrap();
    let desk = Arc::new(desk_on(
        &sandbox,
        &dir.0.join("desk"),
        Arc::new(MemorySecrets::default()),
        |c| c,
    ));
    sandbox.stop().await;
    // ABDM keeps the bridge registration while it is unreachable to us.
    config.clients = vec![abdm_sandbox::ClientSpec::desk_with_bridge(relay.url())];

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
        desk.scan_and_pull(&AbhaQr {
            abha_number: Some(number.into()),
            abha_address: Some(address.into()),
            name: name.into(),
            gender: gender.into(),
            date_of_birth: DateOfBirth {
                year: Some(year),
                ..DateOfBirth::default()
            },
            state_lgd: None,
            district_lgd: None,
            state: None,
            district: None,
            mobile: None,
            mobile_masked: false,
            address: None,
        })
        .unwrap();
    }
    let queue_secs = queued.elapsed().as_secs_f64();
    let running = desk.start(Some(relay_client_config(&relay.url(), &key)));

    // ABDM comes back (the clock starts before it is even listening).
    let started = Instant::now();
    let sandbox = Sandbox::start(config).await.unwrap();
    let total_calls = 3 * count;
    loop {
        let outbox = desk.outbox().unwrap();
        if outbox.len() == total_calls
            && outbox
                .iter()
                .all(|i| i.state == "done" || i.state == "failed")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the queue did not drain in 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = desk
        .outbox()
        .unwrap()
        .iter()
        .filter(|i| i.state == "done")
        .count();
    assert_eq!(done, total_calls, "every call done");
    let secs = started.elapsed().as_secs_f64();
    running.stop().await;
    println!("| measurement | result | target |");
    println!("|---|---|---|");
    println!(
        "| {count} registrations saved while offline | {queue_secs:.2} s ({:.0}/s) | instant |",
        count as f64 / queue_secs
    );
    println!("| drained once ABDM returned ({total_calls} calls, {total_calls} callbacks via the relay) | {secs:.2} s = {:.0} registrations/s | ≥ 200/s |", count as f64 / secs);
    relay.stop().await;
    sandbox.stop().await;
}
