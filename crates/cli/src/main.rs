//! `deskctl`: desk-core without a window, for demos, tests and power users.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use abdm::AuthMode;
use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use clap::{Parser, Subcommand};
use desk_core::{Desk, NewPatient, QrProfile, V05};
use desk_store::{KeyringSecrets, MemorySecrets, OutboxState, Secrets, Store};
use serde_json::Value;
use tokio::sync::watch;

#[derive(Parser)]
#[command(version, about = "ABDM Desk without a window")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the M1 flows end to end against an embedded sandbox and relay on loopback, printing each step.
    Demo {
        /// Write the sandbox's exchange log (every HTTP exchange, secrets left out) to this file.
        #[arg(long)]
        exchange_log: Option<PathBuf>,
        /// Callback delay of the embedded sandbox, in milliseconds.
        #[arg(long, default_value_t = 300)]
        callback_delay_ms: u64,
        /// Use a running sandbox at this base URL instead of starting one.
        #[arg(long)]
        sandbox: Option<String>,
        /// Use a running relay at this base URL (its clinic token in ABDM_RELAY_TOKEN) instead of starting one.
        #[arg(long)]
        relay: Option<String>,
    },
    /// Runs a headless desk: sends the outbox and applies the relay stream until stopped.
    Run {
        #[command(flatten)]
        desk: DeskArgs,
        /// The relay's base URL.
        #[arg(long)]
        relay: String,
        /// Environment variable holding the clinic's relay token.
        #[arg(long, default_value = "ABDM_RELAY_TOKEN")]
        relay_token_env: String,
    },
    /// QR codes from the webcam, in photos or in saved webcam frames.
    Qr {
        #[command(subcommand)]
        command: QrCommand,
    },
    /// FHIR documents.
    Fhir {
        #[command(subcommand)]
        command: FhirCommand,
    },
    /// Shows the outbox: every ABDM call and its state.
    Queue {
        #[command(flatten)]
        desk: DeskArgs,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum QrCommand {
    /// Finds and reads the QR code in each image: one line per file (with --json:
    /// {"file","payload","abha","ms"}; payload is null when no code was found).
    Decode {
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Watches the webcam (or reads a folder of saved frames) and prints each card read, once,
    /// until Ctrl-C (or the last picture).
    Scan {
        /// The camera to use (0 is the first).
        #[arg(long, default_value_t = 0, conflicts_with = "pictures")]
        camera: u32,
        /// Read saved frames from this file or folder instead of a camera.
        #[arg(long)]
        pictures: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum FhirCommand {
    /// Prints the viewer model of a FHIR document bundle: title, type, patient, sections with a row
    /// per entry and the references that do not resolve, attachments, warnings.
    Render {
        /// JSON output (the only format for now).
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// Writes one bundle per NRCeS document type (8) from the demo clinic's records.
    Export {
        /// Use the built-in demo clinic (the only source for now).
        #[arg(long)]
        demo: bool,
        #[arg(long)]
        out: PathBuf,
        /// Seed for the bundles' ids (the same seed gives the same files).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(clap::Args)]
struct DeskArgs {
    /// The desk's database folder.
    #[arg(long)]
    store: PathBuf,
    /// The gateway's base URL (…/gateway).
    #[arg(long, default_value = "http://127.0.0.1:8090/gateway")]
    gateway: String,
    /// The ABHA service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8090/healthid")]
    healthid: String,
    #[arg(long, default_value = abdm_sandbox::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Environment variable holding the ABDM client secret.
    #[arg(long, default_value = "ABDM_CLIENT_SECRET")]
    client_secret_env: String,
    #[arg(long, default_value = DEFAULT_SERVICE_ID)]
    service_id: String,
    /// Read the database key (64 hex digits) from this environment variable instead of the OS
    /// keyring: for tests and throwaway databases only.
    #[arg(long)]
    store_key_env: Option<String>,
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("deskctl: {message}");
    std::process::exit(1)
}

fn secrets(args: &DeskArgs) -> Box<dyn Secrets> {
    match &args.store_key_env {
        None => Box::new(KeyringSecrets::new("abdm-desk")),
        Some(var) => {
            let hex = std::env::var(var).unwrap_or_else(|_| fail(format!("{var} is not set")));
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .filter_map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect();
            let key: [u8; 32] = bytes
                .try_into()
                .unwrap_or_else(|_| fail(format!("{var} must hold 64 hex digits")));
            Box::new(FixedKey(key))
        }
    }
}

/// One key for every name: what `--store-key-env` gives.
struct FixedKey([u8; 32]);

impl Secrets for FixedKey {
    fn get_or_create(
        &self,
        _name: &str,
    ) -> Result<desk_store::zeroize::Zeroizing<[u8; 32]>, desk_store::SecretError> {
        Ok(desk_store::zeroize::Zeroizing::new(self.0))
    }
}

fn open_desk(args: &DeskArgs) -> Desk<V05> {
    let store = Store::open(&args.store, secrets(args).as_ref()).unwrap_or_else(|e| fail(e));
    let client = abdm::GatewayClient::new(abdm::GatewayConfig {
        gateway_url: args.gateway.clone(),
        healthid_url: args.healthid.clone(),
        client_id: args.client_id.clone(),
        client_secret: std::env::var(&args.client_secret_env)
            .unwrap_or_else(|_| abdm_sandbox::DEFAULT_CLIENT_SECRET.into()),
        cm_id: "sbx".into(),
        timeout: Duration::from_secs(10),
    });
    Desk::new(
        Arc::new(store),
        Arc::new(V05::new(client, args.service_id.clone())),
        "sbx",
    )
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match Args::parse().command {
        Command::Demo {
            exchange_log,
            callback_delay_ms,
            sandbox,
            relay,
        } => demo(exchange_log, callback_delay_ms, sandbox, relay).await,
        Command::Run {
            desk,
            relay,
            relay_token_env,
        } => {
            let token = std::env::var(&relay_token_env)
                .unwrap_or_else(|_| fail(format!("{relay_token_env} is not set")));
            let desk = Arc::new(open_desk(&desk));
            let (stop, stop_rx) = watch::channel(false);
            let outbox = {
                let (d, s) = (desk.clone(), stop_rx.clone());
                tokio::spawn(async move { d.run_outbox(s).await })
            };
            let mut config = relay_client::ClientConfig::new(relay, token);
            config.backoff_min = Duration::from_millis(50);
            config.backoff_max = Duration::from_secs(2);
            let sync = {
                let d = desk.clone();
                tokio::spawn(async move { d.run_sync(config, stop_rx).await })
            };
            println!("desk running");
            let _ = tokio::signal::ctrl_c().await;
            stop.send_replace(true);
            let _ = tokio::join!(outbox, sync);
        }
        Command::Qr {
            command: QrCommand::Decode { json, files },
        } => qr_decode(json, files),
        Command::Qr {
            command: QrCommand::Scan { camera, pictures },
        } => qr_scan(camera, pictures),
        Command::Fhir {
            command: FhirCommand::Render { json: _, file },
        } => {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", file.display())));
            let bundle: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| fail(format!("{} is not JSON: {e}", file.display())));
            let document = abdm_fhir::read(&bundle)
                .unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
            println!(
                "{}",
                serde_json::to_string(&document).expect("the viewer model serializes")
            );
        }
        Command::Fhir {
            command: FhirCommand::Export { demo, out, seed },
        } => {
            if !demo {
                fail("only --demo is available until the desk keeps consultations");
            }
            std::fs::create_dir_all(&out)
                .unwrap_or_else(|e| fail(format!("cannot create {}: {e}", out.display())));
            let record = abdm_fhir::write::demo_record();
            for kind in abdm_fhir::write::DocumentType::ALL {
                let path = out.join(format!("{kind:?}.json"));
                let bundle = abdm_fhir::write::build(kind, &record, seed);
                std::fs::write(
                    &path,
                    serde_json::to_vec_pretty(&bundle).expect("bundles serialize"),
                )
                .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", path.display())));
                // A closed pipe (`| head`) is not an error worth a panic.
                let _ = writeln!(std::io::stdout(), "{}", path.display());
            }
        }
        Command::Queue { desk, json } => {
            let desk = open_desk(&desk);
            for item in desk.store().outbox().unwrap_or_else(|e| fail(e)) {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"id": item.id, "label": item.label, "state": item.state, "attempts": item.attempts, "lastError": item.last_error})
                    );
                } else {
                    println!(
                        "{:>4}  {:<22}  {}",
                        item.id,
                        state_words(&item.state),
                        item.label
                    );
                }
            }
        }
    }
}

fn state_words(state: &OutboxState) -> String {
    match state {
        OutboxState::Queued => "queued".into(),
        OutboxState::Sent { .. } => "sent".into(),
        OutboxState::WaitingForAbdm { .. } => "waiting for ABDM".into(),
        OutboxState::Done { .. } => "done".into(),
        OutboxState::Failed { reason } => format!("failed: {reason}"),
    }
}

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

async fn phone_otp(sandbox_url: &str, txn: &str) -> String {
    for _ in 0..100 {
        let messages: Vec<Value> = reqwest::get(format!("{sandbox_url}/phone"))
            .await
            .map(|r| r.json())
            .unwrap_or_else(|e| fail(e))
            .await
            .unwrap_or_default();
        if let Some(m) = messages.iter().rev().find(|m| m["txnId"] == txn) {
            println!(
                "    patient's phone: \"{}\"",
                m["text"].as_str().unwrap_or_default()
            );
            return m["otp"].as_str().unwrap_or_default().to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fail("no OTP arrived on the simulated phone")
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fail(format!("timed out waiting for {what}"))
}

async fn demo(
    exchange_log: Option<PathBuf>,
    callback_delay_ms: u64,
    sandbox_url: Option<String>,
    relay_url: Option<String>,
) {
    if sandbox_url.is_some() && exchange_log.is_some() {
        fail("--exchange-log applies to the embedded sandbox; give a running sandbox its own --exchange-log");
    }
    let dir = std::env::temp_dir().join(format!("deskctl-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(e));

    // ABDM: ours, or one already running.
    let embedded_sandbox = match &sandbox_url {
        Some(_) => None,
        None => {
            let config = SandboxConfig {
                callback_delay: Duration::from_millis(callback_delay_ms),
                exchange_log,
                ..SandboxConfig::default()
            };
            Some(Sandbox::start(config).await.unwrap_or_else(|e| fail(e)))
        }
    };
    let sandbox_base = match (&sandbox_url, &embedded_sandbox) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(s)) => s.url(),
        (None, None) => unreachable!("one of the two exists"),
    };
    let client_config = abdm::GatewayConfig {
        gateway_url: format!("{sandbox_base}/gateway"),
        healthid_url: format!("{sandbox_base}/healthid"),
        client_id: abdm_sandbox::DEFAULT_CLIENT_ID.into(),
        client_secret: abdm_sandbox::DEFAULT_CLIENT_SECRET.into(),
        cm_id: "sbx".into(),
        timeout: Duration::from_secs(10),
    };

    // The bridge: our relay, or one already running.
    let (embedded_relay, relay_base, relay_token) = match relay_url {
        Some(url) => {
            let token = std::env::var("ABDM_RELAY_TOKEN")
                .unwrap_or_else(|_| fail("ABDM_RELAY_TOKEN must hold the clinic's relay token"));
            (None, url.trim_end_matches('/').to_string(), token)
        }
        None => {
            let token = uuid::Uuid::new_v4().to_string();
            let clinics = vec![Clinic::new(
                "demo-clinic",
                &token,
                vec![DEFAULT_SERVICE_ID.into()],
            )];
            let config = RelayConfig::new(
                dir.join("relay"),
                format!("{sandbox_base}/gateway/v0.5/certs"),
                clinics,
            );
            let relay = RelayServer::start(config).await.unwrap_or_else(|e| fail(e));
            let url = relay.url();
            (Some(relay), url, token)
        }
    };

    let store =
        Store::open(&dir.join("desk"), &MemorySecrets::default()).unwrap_or_else(|e| fail(e));
    let gateway = V05::new(abdm::GatewayClient::new(client_config), DEFAULT_SERVICE_ID);
    let desk = Arc::new(Desk::new(Arc::new(store), Arc::new(gateway), "sbx"));
    println!("ABDM sandbox at {sandbox_base}, relay at {relay_base}");

    step(1, "Register the clinic with ABDM: facility (HFR id) as HIP and HIU, and the relay as bridge URL");
    desk.register_facility(DEFAULT_SERVICE_ID, "Sandbox Clinic")
        .await
        .unwrap_or_else(|e| fail(e));
    desk.register_bridge(&relay_base)
        .await
        .unwrap_or_else(|e| fail(e));
    println!("    facility {DEFAULT_SERVICE_ID} linked; bridge URL {relay_base}");
    let (stop, stop_rx) = watch::channel(false);
    let outbox = {
        let (d, s) = (desk.clone(), stop_rx.clone());
        tokio::spawn(async move { d.run_outbox(s).await })
    };
    let sync = {
        let (d, s, url, token) = (
            desk.clone(),
            stop_rx,
            relay_base.clone(),
            relay_token.clone(),
        );
        tokio::spawn(async move {
            d.run_sync(relay_client::ClientConfig::new(url, token), s)
                .await
        })
    };

    step(
        2,
        "Walk-in without an ABHA: register, then create an ABHA with Aadhaar OTP",
    );
    let new_patient = NewPatient {
        name: "Meena Das".into(),
        gender: "F".into(),
        year_of_birth: Some(1985),
        ..Default::default()
    };
    let meena = desk
        .register_patient(new_patient)
        .unwrap_or_else(|e| fail(e));
    println!("    saved patient {} ({})", meena.name, meena.id);
    let aadhaar = abdm_sandbox::state::aadhaar_with_check("82345678901");
    let txn = desk
        .abha_create_start(&aadhaar)
        .await
        .unwrap_or_else(|e| fail(e));
    let otp = phone_otp(&sandbox_base, &txn).await;
    desk.abha_create_verify_aadhaar_otp(&txn, &otp)
        .await
        .unwrap_or_else(|e| fail(e));
    println!("    Aadhaar OTP verified");
    if desk
        .abha_create_set_mobile(&txn, "9000012345")
        .await
        .unwrap_or_else(|e| fail(e))
    {
        let otp = phone_otp(&sandbox_base, &txn).await;
        desk.abha_create_verify_mobile_otp(&txn, &otp)
            .await
            .unwrap_or_else(|e| fail(e));
        println!("    mobile verified");
    }
    let profile = desk
        .abha_create_finish(&txn, meena.id, Some("meena.das85"))
        .await
        .unwrap_or_else(|e| fail(e));
    println!(
        "    ABHA {} ({}) created and linked",
        profile.abha_number,
        profile.abha_address.unwrap_or_default()
    );

    step(
        3,
        "Returning patient with an ABHA: link it with a mobile OTP",
    );
    let new_patient = NewPatient {
        name: "Asha Kumari".into(),
        gender: "F".into(),
        year_of_birth: Some(1990),
        ..Default::default()
    };
    let asha = desk
        .register_patient(new_patient)
        .unwrap_or_else(|e| fail(e));
    let (name, methods) = desk
        .link_search("asha.kumari@sbx")
        .await
        .unwrap_or_else(|e| fail(e));
    println!("    found {name}; login methods {methods:?}");
    let txn = desk
        .link_start("asha.kumari@sbx", AuthMode::MobileOtp)
        .await
        .unwrap_or_else(|e| fail(e));
    let otp = phone_otp(&sandbox_base, &txn).await;
    let profile = desk
        .link_finish(&txn, &otp, AuthMode::MobileOtp, asha.id)
        .await
        .unwrap_or_else(|e| fail(e));
    println!("    linked ABHA {} to {}", profile.abha_number, asha.name);

    step(4, "Scan and pull: Ravi holds his ABHA card to the webcam");
    let qr = QrProfile {
        abha_number: "91-5555-0000-1234".into(),
        abha_address: Some("ravi.shankar@sbx".into()),
        name: "Ravi Shankar".into(),
        gender: "M".into(),
        year_of_birth: Some(1978),
        month_of_birth: Some(11),
        day_of_birth: Some(3),
        ..Default::default()
    };
    let ravi = desk.scan_and_pull(qr).unwrap_or_else(|e| fail(e));
    println!(
        "    saved {} at once; verifying with ABDM (fetch-modes → init → confirm)…",
        ravi.name
    );
    until("the linking token", || {
        desk.store()
            .abha_profile("91-5555-0000-1234")
            .ok()
            .flatten()
            .and_then(|p| p.linking_token)
            .is_some()
    })
    .await;
    println!("    ABDM confirmed the ABHA; linking token stored");

    step(
        5,
        "Scan and share: Asha scans the counter QR with her ABHA app",
    );
    let http = reqwest::Client::new();
    let share = serde_json::json!({"abha": "asha.kumari@sbx", "hipId": DEFAULT_SERVICE_ID, "counterId": "COUNTER-1"});
    let started: Value = http
        .post(format!("{sandbox_base}/admin/share"))
        .json(&share)
        .send()
        .await
        .unwrap_or_else(|e| fail(e))
        .json()
        .await
        .unwrap_or_else(|e| fail(e));
    let share_url = format!(
        "{sandbox_base}/admin/shares/{}",
        started["requestId"].as_str().unwrap_or_default()
    );
    let mut token = None;
    for _ in 0..200 {
        let s: Value = http
            .get(&share_url)
            .send()
            .await
            .unwrap_or_else(|e| fail(e))
            .json()
            .await
            .unwrap_or_default();
        if let Some(t) = s["tokenNumber"].as_str() {
            token = Some(t.to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "    the ABHA app shows token {}",
        token.unwrap_or_else(|| fail("the share was not answered"))
    );

    step(6, "The outbox");
    for item in desk.store().outbox().unwrap_or_else(|e| fail(e)) {
        println!(
            "    {:>3}  {:<18}  {}",
            item.id,
            state_words(&item.state),
            item.label
        );
    }
    stop.send_replace(true);
    let _ = tokio::join!(outbox, sync);
    if let Some(relay) = embedded_relay {
        relay.stop().await;
    }
    if let Some(sandbox) = embedded_sandbox {
        sandbox.stop().await;
    }
    std::fs::remove_dir_all(&dir).ok();
    println!("\nAll M1 flows completed.");
}

/// Runs the live scanner and prints what it reads; the same scanner the desk window shows.
fn qr_scan(camera: u32, pictures: Option<PathBuf>) {
    use desk_scan::preview::{ScanEvent, Scanner};
    use desk_scan::source::{FrameSource, Pictures, SourceError};
    let open = move || -> Result<Box<dyn FrameSource>, SourceError> {
        match pictures {
            Some(path) => Ok(Box::new(Pictures::open(&path)?)),
            None => open_camera(camera),
        }
    };
    let scanner = Scanner::start(open);
    let mut frames = 0u64;
    for event in scanner.events().iter() {
        match event {
            ScanEvent::Preview(_) => frames += 1,
            ScanEvent::Found {
                number,
                payload,
                scanned,
                ..
            } => match scanned {
                Ok(s) => println!(
                    "frame {number}: {}",
                    serde_json::to_string(&s).expect("scans serialize")
                ),
                Err(e) => println!("frame {number}: {e} ({payload})"),
            },
            ScanEvent::Error(e) => eprintln!("{e}"),
            ScanEvent::Ended => break,
        }
    }
    eprintln!("{frames} frames");
}

#[cfg(feature = "webcam")]
fn open_camera(
    index: u32,
) -> Result<Box<dyn desk_scan::source::FrameSource>, desk_scan::source::SourceError> {
    Ok(Box::new(desk_scan::webcam::Webcam::open(index)?))
}

#[cfg(not(feature = "webcam"))]
fn open_camera(
    _: u32,
) -> Result<Box<dyn desk_scan::source::FrameSource>, desk_scan::source::SourceError> {
    fail("this deskctl was built without webcam support (cargo feature `webcam`)")
}

fn qr_decode(json: bool, files: Vec<PathBuf>) {
    let mut stdout = std::io::stdout();
    for file in files {
        // The time is the decoding alone, without reading the file.
        let mut ms = 0.0;
        let decoded = desk_scan::decode::load(&file).map(|grey| {
            let started = std::time::Instant::now();
            let found = desk_scan::decode::decode(&grey);
            ms = started.elapsed().as_secs_f64() * 1e3;
            found
        });
        let (payload, abha) = match decoded {
            Err(e) => (None, serde_json::json!({"error": e.to_string()})),
            Ok(None) => (
                None,
                serde_json::json!({"error": "no QR code found in the image"}),
            ),
            Ok(Some(p)) => {
                let parsed = match desk_scan::parse(&p) {
                    Ok(s) => serde_json::to_value(s).expect("scans serialize"),
                    Err(e) => serde_json::json!({"error": e.to_string()}),
                };
                (Some(p), parsed)
            }
        };
        let line = if json {
            serde_json::json!({"file": file.display().to_string(), "payload": payload, "abha": abha, "ms": (ms * 100.0).round() / 100.0}).to_string()
        } else {
            match (&payload, abha.get("error")) {
                (_, Some(e)) => format!("{}: {}", file.display(), e.as_str().unwrap_or_default()),
                (Some(p), None) => format!("{}: {p}", file.display()),
                (None, None) => format!("{}: no QR code found", file.display()),
            }
        };
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = writeln!(stdout, "{line}");
    }
}
