//! Pulling the power, not just killing the process: the desk's database lives on a FUSE file
//! system that loses every write not yet synced (and tears some pages) at the cut, while the desk
//! process — this test binary run again as a child — registers patients and reports each one
//! saved. After the cut the child is killed (the machine is off: nothing more runs), the surviving
//! bytes are laid out on a real disk, and every patient reported saved must be in the database,
//! which must open cleanly.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use desk_core::{AnyGateway, Desk, DeskConfig, Environment, NewPatient};
use desk_store::{Patient, Store};
use testkit::powercut::PowerCut;
use testkit::{FixedKey, TempDir};

const CHILD: &str = "POWERCUT_DESK_DIR";
/// The fixed database key the child writes with and the parent reads with.
const KEY: [u8; 32] = [7; 32];

fn offline_desk(path: &std::path::Path) -> Desk {
    let store = Store::open(path, &FixedKey(KEY)).expect("the store opens");
    let client = abdm::GatewayClient::new(abdm::GatewayConfig {
        gateway_url: "http://127.0.0.1:9/gateway".into(),
        healthid_url: "http://127.0.0.1:9/healthid".into(),
        client_id: "x".into(),
        client_secret: "y".into(),
        cm_id: "sbx".into(),
        timeout: Duration::from_secs(1),
        generation: abdm::Generation::V05,
    });
    Desk::new(
        DeskConfig::new(Environment::EmbeddedSandbox, "IN-TEST"),
        Arc::new(store),
        Arc::new(FixedKey(KEY)),
        Arc::new(AnyGateway::new(client, "IN-TEST")),
    )
}

/// In the child: register patients until the disk fails, printing each one saved.
fn child(dir: &str) {
    let desk = offline_desk(std::path::Path::new(dir));
    for i in 0.. {
        let name = format!("Patient {i}");
        let new = NewPatient {
            name: name.clone(),
            gender: "F".into(),
            mobile: Some("9876543210".into()),
            ..Default::default()
        };
        match desk.register_patient(new) {
            Ok(_) => println!("saved {name}"),
            Err(_) => std::thread::sleep(Duration::from_secs(60)),
        }
    }
}

#[test]
fn a_power_cut_keeps_every_patient_the_desk_reported_saved() {
    if let Ok(dir) = std::env::var(CHILD) {
        return child(&dir);
    }
    for round in 0..6u64 {
        let mnt = TempDir::new("powercut-mnt");
        let fs = PowerCut::new();
        let session = fs
            .mount(mnt.path())
            .expect("mount the power-cut file system (needs /dev/fuse and root, or fusermount3)");
        let mut desk = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_power_cut_keeps_every_patient_the_desk_reported_saved",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, mnt.path().join("desk"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let saved = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let (out, saved) = (desk.stdout.take().unwrap(), saved.clone());
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some(name) = line.strip_prefix("saved ") {
                        saved.lock().unwrap().push(name.to_string());
                    }
                }
            })
        };
        // Let it get going, then pull the plug at a different moment each round.
        let mut waited = 0;
        while saved.lock().unwrap().len() < 3 && waited < 400 {
            std::thread::sleep(Duration::from_millis(25));
            waited += 1;
        }
        std::thread::sleep(Duration::from_millis(40 * round));
        let survivors = fs.cut(round % 2 == 0, round + 11);
        desk.kill().unwrap();
        desk.wait().unwrap();
        reader.join().unwrap();
        drop(session);

        let saved = saved.lock().unwrap().clone();
        assert!(
            saved.len() >= 3,
            "round {round}: the load was real ({} saved)",
            saved.len()
        );
        let disk = TempDir::new("powercut-disk");
        survivors.write_to(disk.path()).unwrap();
        let store = Store::open(&disk.path().join("desk"), &FixedKey(KEY)).unwrap_or_else(|e| {
            panic!("round {round}: the database does not open after the cut: {e}")
        });
        let found: std::collections::HashSet<String> = store
            .all::<Patient>()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        for name in &saved {
            assert!(
                found.contains(name),
                "round {round}: {name} was reported saved and is gone"
            );
        }
        eprintln!(
            "round {round}: {} saved, {} found",
            saved.len(),
            found.len()
        );
    }
}
