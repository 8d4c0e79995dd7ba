//! `deskctl demo`: every flow end to end against a sandbox (embedded unless one is given) and a
//! relay (embedded unless one is given), printing each step.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use abdm::qr::{AbhaQr, DateOfBirth};
use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Operator, Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::gateway::LoginMethod;
use desk_core::{AnyGateway, Desk, DeskConfig, Environment, NewPatient};
use desk_store::{MemorySecrets, Store};
use relay_client::ClinicKey;

use crate::{Failure, Outcome};

mod m2;
mod m3;

/// Runs the flows on loopback.
#[derive(clap::Args)]
pub struct Demo {
    /// Write the sandbox's exchange log (every HTTP exchange, secrets left out) to this file.
    #[arg(long)]
    exchange_log: Option<PathBuf>,
    /// Callback delay of the embedded sandbox, in milliseconds.
    #[arg(long, default_value_t = 300)]
    callback_delay_ms: u64,
    /// Use a running sandbox at this base URL instead of starting one.
    #[arg(long)]
    sandbox: Option<String>,
    /// The peer hospital serves the FHIR bundles in this folder (`*.json`) to the M3 request, which
    /// then asks for every HI type (the embedded sandbox only).
    #[arg(long)]
    records: Option<PathBuf>,
    /// After M3, write each record received as `OUT/<n>.bundle.json` (as received) and
    /// `OUT/<n>.view.json` (its viewer model, as `deskctl fhir render --json` prints it).
    #[arg(long)]
    received_out: Option<PathBuf>,
    /// Use a running relay at this base URL (its clinic token in ABDM_RELAY_TOKEN, the clinic's
    /// key in ABDM_RELAY_KEY) instead of starting one.
    #[arg(long)]
    relay: Option<String>,
    /// The ABDM generation the desk speaks: `v0.5` or `v3` (what live ABDM serves).
    #[arg(long, default_value = "v0.5", value_parser = crate::open::parse_generation)]
    generation: abdm::Generation,
}

pub(super) fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

/// Waits for `check` (20 s at most).
pub(super) async fn until(what: &str, mut check: impl FnMut() -> bool) -> Outcome {
    for _ in 0..400 {
        if check() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Failure(format!("timed out waiting for {what}")))
}

/// What the demo started, stopped on every path out.
struct Started {
    sandbox: Option<Sandbox>,
    relay: Option<RelayServer>,
    dir: PathBuf,
}

impl Started {
    async fn stop(self) {
        if let Some(r) = self.relay {
            r.stop().await;
        }
        if let Some(s) = self.sandbox {
            s.stop().await;
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

impl Demo {
    pub async fn run(self) -> Outcome {
        if self.sandbox.is_some() && self.records.is_some() {
            return Err(Failure("--records applies to the embedded sandbox; give a running sandbox its own --records".into()));
        }
        if self.sandbox.is_some() && self.exchange_log.is_some() {
            return Err(Failure("--exchange-log applies to the embedded sandbox; give a running sandbox its own --exchange-log".into()));
        }
        let dir = std::env::temp_dir().join(format!("deskctl-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut started = Started {
            sandbox: None,
            relay: None,
            dir: dir.clone(),
        };
        let outcome = self.flows(&mut started).await;
        started.stop().await;
        outcome
    }

    async fn flows(&self, started: &mut Started) -> Outcome {
        // ABDM: ours, or one already running.
        let sandbox_base = match &self.sandbox {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let sandbox = Sandbox::start(SandboxConfig {
                    callback_delay: Duration::from_millis(self.callback_delay_ms),
                    exchange_log: self.exchange_log.clone(),
                    records_dir: self.records.clone(),
                    ..SandboxConfig::default()
                })
                .await?;
                let url = sandbox.url();
                started.sandbox = Some(sandbox);
                url
            }
        };
        let operator = Operator::new(&sandbox_base);

        // The bridge: our relay, or one already running.
        let (relay_base, relay_token, key) = match &self.relay {
            Some(url) => {
                let token = std::env::var("ABDM_RELAY_TOKEN").map_err(|_| {
                    Failure("ABDM_RELAY_TOKEN must hold the clinic's relay token".into())
                })?;
                let key =
                    ClinicKey::from_base64(&std::env::var("ABDM_RELAY_KEY").map_err(|_| {
                        Failure("ABDM_RELAY_KEY must hold the clinic's relay key".into())
                    })?)?;
                (url.trim_end_matches('/').to_string(), token, key)
            }
            None => {
                let token = uuid::Uuid::new_v4().to_string();
                let key = ClinicKey::generate();
                let clinics = vec![Clinic::new(
                    "demo-clinic",
                    &token,
                    key.public(),
                    vec![DEFAULT_SERVICE_ID.into()],
                )];
                let config = RelayConfig::new(
                    started.dir.join("relay"),
                    format!("{sandbox_base}/gateway/v0.5/certs"),
                    clinics,
                );
                let relay = RelayServer::start(config).await?;
                let url = relay.url();
                started.relay = Some(relay);
                (url, token, key)
            }
        };

        let secrets = Arc::new(MemorySecrets::default());
        let store = Store::open(&started.dir.join("desk"), &secrets)?;
        let (gateway_url, healthid_url) = match self.generation {
            abdm::Generation::V05 => (
                format!("{sandbox_base}/gateway"),
                format!("{sandbox_base}/healthid"),
            ),
            abdm::Generation::V3 => (sandbox_base.clone(), format!("{sandbox_base}/abha/api")),
        };
        let client = abdm::GatewayClient::new(abdm::GatewayConfig {
            gateway_url,
            healthid_url,
            client_id: abdm_sandbox::DEFAULT_CLIENT_ID.into(),
            client_secret: abdm_sandbox::DEFAULT_CLIENT_SECRET.into(),
            cm_id: Environment::EmbeddedSandbox.cm_id().into(),
            timeout: Duration::from_secs(10),
            generation: self.generation,
        });
        let desk = Arc::new(Desk::new(
            DeskConfig {
                sms_url: Some(format!("{sandbox_base}/sms/send")),
                ..DeskConfig::new(Environment::EmbeddedSandbox, DEFAULT_SERVICE_ID)
            },
            Arc::new(store),
            secrets,
            Arc::new(AnyGateway::new(client, DEFAULT_SERVICE_ID)),
        ));
        println!(
            "ABDM sandbox at {sandbox_base} (ABDM {}), relay at {relay_base}",
            self.generation.as_str()
        );

        step(1, "Register the clinic with ABDM: facility (HFR id) as HIP and HIU, and the relay as bridge URL");
        desk.register_facility(DEFAULT_SERVICE_ID, "Sandbox Clinic")
            .await?;
        desk.register_bridge(&relay_base).await?;
        println!("    facility {DEFAULT_SERVICE_ID} linked; bridge URL {relay_base}");
        let mut relay_config = relay_client::ClientConfig::new(&relay_base, relay_token, key);
        relay_config.backoff_min = Duration::from_millis(50);
        let running = desk.start(Some(relay_config));
        let outcome = async {
            self.m1(&desk, &operator).await?;
            println!("\nAll M1 flows completed.");
            m2::run(&desk, &operator).await?;
            println!("\nAll M2 flows completed.");
            m3::run(&desk, self.records.is_some(), self.received_out.as_deref()).await?;
            println!("\nAll M3 flows completed.");
            Ok::<(), Failure>(())
        }
        .await;
        running.stop().await;
        outcome
    }

    /// v3's other ways to find an ABHA: by the mobile number (choosing among its ABHAs, the
    /// T-token step) and by the Aadhaar number.
    async fn find_by_mobile_and_aadhaar(
        &self,
        desk: &Desk,
        operator: &Operator,
        meena: &desk_core::view::PatientView,
        aadhaar: &str,
    ) -> Outcome {
        println!("\n[3b] Meena, back another day, gives her mobile number: she picks her ABHA among its ABHAs");
        let txn = desk.link_start_by_mobile("9000012345").await?;
        let otp = operator.otp(&txn.0).await?;
        let choices = desk.link_mobile_accounts(&txn, &otp).await?;
        let listed: Vec<String> = choices
            .iter()
            .map(|c| {
                format!(
                    "{} ({})",
                    c.abha_number,
                    c.abha_address.clone().unwrap_or_default()
                )
            })
            .collect();
        println!("    ABHAs on that mobile: {}", listed.join(", "));
        let hers = choices
            .iter()
            .find(|c| c.abha_address.as_deref() == Some("meena.das85@sbx"))
            .ok_or_else(|| Failure("Meena's ABHA is not on her mobile".into()))?;
        let profile = desk
            .link_finish_choice(&txn, &hers.abha_number, meena.id)
            .await?;
        println!(
            "    linked ABHA {} to {} (found by mobile)",
            profile.abha_number, meena.name
        );

        println!("\n[3c] …or her Aadhaar number: an OTP to the Aadhaar-linked mobile");
        let txn = desk.link_start_by_aadhaar(aadhaar).await?;
        let otp = operator.otp(&txn.0).await?;
        let profile = desk
            .link_finish(&txn, &otp, LoginMethod::AadhaarOtp, meena.id)
            .await?;
        println!(
            "    linked ABHA {} to {} (found by Aadhaar)",
            profile.abha_number, meena.name
        );
        Ok(())
    }

    async fn m1(&self, desk: &Desk, operator: &Operator) -> Outcome {
        step(
            2,
            "Walk-in without an ABHA: register, then create an ABHA with Aadhaar OTP",
        );
        let meena = desk.register_patient(NewPatient {
            name: "Meena Das".into(),
            gender: "F".into(),
            year_of_birth: Some(1985),
            ..Default::default()
        })?;
        println!("    saved patient {} ({})", meena.name, meena.id);
        let aadhaar = abdm_sandbox::aadhaar_with_check("82345678901");
        let txn = desk.abha_create_start(&aadhaar).await?;
        let sms = operator.phone_message(&txn.0).await?;
        println!(
            "    patient's phone: \"{}\"",
            sms["text"].as_str().unwrap_or_default()
        );
        let otp = operator.otp(&txn.0).await?;
        if desk
            .abha_create_verify_aadhaar_otp(&txn, &otp, "9000012345")
            .await?
        {
            println!("    Aadhaar OTP verified; a second OTP went to the new mobile");
            let otp = operator.otp(&txn.0).await?;
            desk.abha_create_verify_mobile_otp(&txn, &otp).await?;
            println!("    mobile verified");
        }
        let suggestions = desk.abha_address_suggestions(&txn, meena.id).await?;
        println!("    ABHA address suggestions: {}", suggestions.join(", "));
        let profile = desk
            .abha_create_finish(&txn, meena.id, Some("meena.das85"))
            .await?;
        println!(
            "    ABHA {} ({}) created and linked",
            profile.abha_number,
            profile.abha_address.unwrap_or_default()
        );

        step(
            3,
            "Returning patient with an ABHA: link it with a mobile OTP",
        );
        let asha = desk.register_patient(NewPatient {
            name: "Asha Kumari".into(),
            gender: "F".into(),
            year_of_birth: Some(1990),
            ..Default::default()
        })?;
        let found = desk.link_search("asha.kumari@sbx").await?;
        println!(
            "    found {}; login methods {:?}",
            found.name, found.methods
        );
        let txn = desk
            .link_start("asha.kumari@sbx", LoginMethod::MobileOtp)
            .await?;
        let otp = operator.otp(&txn.0).await?;
        let profile = desk
            .link_finish(&txn, &otp, LoginMethod::MobileOtp, asha.id)
            .await?;
        println!("    linked ABHA {} to {}", profile.abha_number, asha.name);
        if self.generation == abdm::Generation::V3 {
            self.find_by_mobile_and_aadhaar(desk, operator, &meena, &aadhaar)
                .await?;
        }

        step(4, "Scan and pull: Ravi holds his ABHA card to the webcam");
        let ravi = desk.scan_and_pull(&AbhaQr {
            abha_number: Some("91-5555-0000-1234".into()),
            abha_address: Some("ravi.shankar@sbx".into()),
            name: "Ravi Shankar".into(),
            gender: "M".into(),
            date_of_birth: DateOfBirth {
                day: Some(3),
                month: Some(11),
                year: Some(1978),
                text: Some("3/11/1978".into()),
            },
            state_lgd: None,
            district_lgd: None,
            state: None,
            district: None,
            mobile: None,
            mobile_masked: false,
            address: None,
        })?;
        let how = match self.generation {
            abdm::Generation::V05 => "fetch-modes → init → confirm",
            abdm::Generation::V3 => "one link-token request with the card's demographics",
        };
        println!(
            "    saved {} at once; verifying with ABDM ({how})…",
            ravi.name
        );
        until("the linking token", || {
            desk.abha("91-5555-0000-1234")
                .ok()
                .flatten()
                .is_some_and(|a| a.can_link_records)
        })
        .await?;
        println!("    ABDM confirmed the ABHA; linking token stored");

        step(
            5,
            "Scan and share: Asha scans the counter QR with her ABHA app",
        );
        let token = operator
            .share("asha.kumari@sbx", DEFAULT_SERVICE_ID, "COUNTER-1")
            .await?;
        println!("    the ABHA app shows token {token}");

        step(6, "The outbox");
        for row in desk.outbox()? {
            println!("    {:>3}  {:<18}  {}", row.id, row.words, row.label);
        }
        Ok(())
    }
}
