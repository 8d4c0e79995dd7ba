//! One clinic's running session: the desk on its store, connected to ABDM and the relay.
//!
//! With the embedded sandbox (the default) the session starts ABDM's simulator and a relay on
//! loopback, registers the clinic and the bridge with it, and puts a [`Cable`] between the desk
//! and both, so that "the internet" can be pulled out. The simulator keeps its state in memory:
//! each start is a fresh ABDM, while the desk's own store (patients, queue, outbox) persists.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig};
use desk_core::identity::{Check, CheckWaits};
use desk_core::{AnyGateway, Desk, DeskConfig, Environment, Running};
use desk_store::{Secrets, Store};
use relay_client::ClinicKey;

use crate::cable::Cable;
use crate::settings::{EnvironmentChoice, Settings};
use crate::UiError;

/// The keyring service holding the desk's secrets.
pub const KEYRING_SERVICE: &str = "abdm-desk";
/// The keyring entry of the ABDM client secret.
pub const CLIENT_SECRET: &str = "abdm-client-secret";
/// The keyring entry of the clinic's relay token.
pub const RELAY_TOKEN: &str = "relay-token";
/// The keyring entry of the clinic's relay key (32 bytes; the same entry `deskctl clinic-key`
/// uses, so both name one key).
pub const RELAY_KEY: &str = "relay-clinic-key";

/// ABDM and the relay on loopback, for the embedded sandbox.
struct Embedded {
    sandbox: Sandbox,
    relay: RelayServer,
    line: Vec<Cable>,
}

impl Embedded {
    async fn stop(self) {
        drop(self.line);
        self.relay.stop().await;
        self.sandbox.stop().await;
    }
}

/// A clinic's running session.
pub struct Session {
    dir: PathBuf,
    settings: Mutex<Settings>,
    secrets: Arc<dyn Secrets>,
    store: Arc<Store>,
    desk: Arc<Desk>,
    running: Mutex<Option<Running>>,
    /// With the embedded sandbox; taken when the session closes.
    embedded: Mutex<Option<Embedded>>,
    /// Where ABDM calls the clinic back (the relay's public address).
    bridge_url: String,
    pub(crate) scan: Arc<Mutex<crate::scanning::ScanState>>,
}

fn io(what: &str) -> impl Fn(std::io::Error) -> UiError + '_ {
    move |e| UiError::new("startup", format!("{what}: {e}"))
}

fn secret(secrets: &dyn Secrets, name: &str, what: &str) -> Result<String, UiError> {
    let value = secrets
        .get(name)
        .map_err(|e| UiError::new("keyring", format!("the OS keyring cannot be read: {e}")))?
        .ok_or_else(|| {
            UiError::new(
                "settings",
                format!("{what} is not set: enter it in the clinic settings"),
            )
        })?;
    String::from_utf8(value.to_vec())
        .map_err(|_| UiError::new("keyring", format!("{what} in the keyring is damaged")))
}

/// A new training desk is not empty: a few patients to find, none of them in today's queue.
fn seed_demo_patients(store: &Store) -> Result<(), UiError> {
    store.write(|w| -> Result<(), desk_store::StoreError> {
        for (name, gender, year, mobile) in [
            ("Sunita Verma", desk_store::Gender::F, 1972, "9811100001"),
            ("Arjun Mehta", desk_store::Gender::M, 1990, "9811100002"),
            ("Fatima Sheikh", desk_store::Gender::F, 2001, "9811100003"),
        ] {
            w.put_patient(&desk_store::Patient {
                gender,
                year_of_birth: Some(year),
                mobile: Some(mobile.into()),
                ..desk_store::Patient::new(name)
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Saves a write-only secret the admin typed (`what` names it in errors).
fn save_secret(secrets: &dyn Secrets, entry: &str, what: &str, value: &str) -> Result<(), UiError> {
    if value.trim().is_empty() {
        return Err(UiError::new(
            "invalid-input",
            format!("the {what} is empty"),
        ));
    }
    secrets.set(entry, value.trim().as_bytes()).map_err(|e| {
        UiError::new(
            "keyring",
            format!("the OS keyring did not keep the {what}: {e}"),
        )
    })
}

/// Saves the ABDM client secret in `secrets` (also before a desk could start).
pub fn save_client_secret(secrets: &dyn Secrets, secret: &str) -> Result<(), UiError> {
    save_secret(secrets, CLIENT_SECRET, "client secret", secret)
}

/// Saves the clinic's relay token (given by the relay's operator) in the keyring.
pub fn save_relay_token(secrets: &dyn Secrets, token: &str) -> Result<(), UiError> {
    save_secret(secrets, RELAY_TOKEN, "relay token", token)
}

/// Whether a client secret is saved in `secrets` (it never leaves the keyring).
pub fn has_client_secret(secrets: &dyn Secrets) -> bool {
    matches!(secrets.get(CLIENT_SECRET), Ok(Some(_)))
}

/// Whether a relay token is saved in `secrets`.
pub fn has_relay_token(secrets: &dyn Secrets) -> bool {
    matches!(secrets.get(RELAY_TOKEN), Ok(Some(_)))
}

/// The clinic's relay key: made on first use and kept in the keyring. Only its public half
/// leaves it, for the relay's operator.
fn clinic_key(secrets: &dyn Secrets) -> Result<ClinicKey, UiError> {
    let keyring = |e: desk_store::SecretError| {
        UiError::new("keyring", format!("the OS keyring cannot be used: {e}"))
    };
    match secrets.get(RELAY_KEY).map_err(keyring)? {
        Some(bytes) => {
            let bytes: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| UiError::new("keyring", "the relay key in the keyring is damaged"))?;
            Ok(ClinicKey::from_bytes(bytes))
        }
        None => {
            let key = ClinicKey::generate();
            secrets
                .set(RELAY_KEY, key.to_bytes().as_ref())
                .map_err(keyring)?;
            Ok(key)
        }
    }
}

/// The public half of the clinic's relay key, for the relay's operator (`--clinic …:KEY:…`).
pub fn relay_public_key(secrets: &dyn Secrets) -> Result<String, UiError> {
    Ok(clinic_key(secrets)?.public().to_string())
}

impl Session {
    /// Opens the clinic's desk in `dir` and connects it. `secrets` is the OS keyring in the app.
    pub async fn open(dir: &Path, secrets: Arc<dyn Secrets>) -> Result<Session, UiError> {
        let store = Self::open_store(dir, &secrets)?;
        Self::open_on(dir, secrets, store).await
    }

    /// Opens the clinic's store (once per process: a session that restarts keeps it).
    pub fn open_store(dir: &Path, secrets: &Arc<dyn Secrets>) -> Result<Arc<Store>, UiError> {
        std::fs::create_dir_all(dir).map_err(io("the app's data folder cannot be made"))?;
        let new_desk = !dir.join("desk").exists();
        let store = Store::open(&dir.join("desk"), secrets)?;
        // Demo patients and staff go into a new training desk only (not at every start). A
        // damaged settings file is the settings screen's to fix, not a reason to keep the store shut.
        let training = Settings::load(dir).is_ok_and(|s| s.is_training());
        if new_desk && training {
            seed_demo_patients(&store)?;
            crate::staff::Staff::seed_training(&store)?;
        }
        Ok(Arc::new(store))
    }

    /// The clinic's store, to start the next session on.
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Connects the desk on an open `store` with the settings saved in `dir`.
    pub async fn open_on(
        dir: &Path,
        secrets: Arc<dyn Secrets>,
        store: Arc<Store>,
    ) -> Result<Session, UiError> {
        let settings = Settings::load(dir)?;
        let (desk, embedded, relay, bridge_url) = match settings.environment {
            EnvironmentChoice::EmbeddedSandbox => {
                let (embedded, relay) = Self::start_embedded(dir, &settings).await?;
                let desk = Self::new_desk(
                    &settings,
                    Environment::EmbeddedSandbox,
                    store.clone(),
                    &secrets,
                    &format!("http://{}", embedded.line[0].addr),
                    abdm_sandbox::DEFAULT_CLIENT_SECRET.into(),
                );
                let registered: Result<(), UiError> = async {
                    desk.register_facility(&settings.hip_id, &settings.clinic_name)
                        .await?;
                    Ok(desk.register_bridge(&embedded.relay.url()).await?)
                }
                .await;
                if let Err(e) = registered {
                    embedded.stop().await; // Nothing left running for the next try to trip on.
                    return Err(e);
                }
                let bridge = embedded.relay.url();
                (desk, Some(embedded), relay, bridge)
            }
            choice => {
                let (environment, base) = match choice {
                    EnvironmentChoice::Production => match settings.generation() {
                        abdm::Generation::V05 => {
                            (Environment::Production, "https://live.abdm.gov.in")
                        }
                        abdm::Generation::V3 => {
                            (Environment::Production, "https://apis.abdm.gov.in")
                        }
                    },
                    _ => (Environment::AbdmSandbox, "https://dev.abdm.gov.in"),
                };
                // The OS keyring may block (D-Bus): off the async workers.
                let keys = secrets.clone();
                let (client_secret, token, key) = tokio::task::spawn_blocking(move || {
                    Ok::<_, UiError>((
                        secret(&*keys, CLIENT_SECRET, "the ABDM client secret")?,
                        secret(&*keys, RELAY_TOKEN, "the relay's clinic token")?,
                        clinic_key(&*keys)?,
                    ))
                })
                .await
                .map_err(|e| {
                    UiError::new("internal", format!("a background task failed: {e}"))
                })??;
                let desk = Self::new_desk(
                    &settings,
                    environment,
                    store.clone(),
                    &secrets,
                    base,
                    client_secret,
                );
                (
                    desk,
                    None,
                    relay_client::ClientConfig::new(&settings.relay_url, token, key),
                    settings.relay_url.trim().to_string(),
                )
            }
        };
        let desk = Arc::new(desk);
        let running = desk.start(Some(relay));
        let session = Session {
            dir: dir.to_path_buf(),
            settings: Mutex::new(settings),
            secrets,
            store,
            desk,
            running: Mutex::new(Some(running)),
            embedded: Mutex::new(embedded),
            bridge_url,
            scan: Arc::default(),
        };
        // Files made from received records last one session at most.
        session.remove_record_files(None);
        Ok(session)
    }

    async fn start_embedded(
        dir: &Path,
        settings: &Settings,
    ) -> Result<(Embedded, relay_client::ClientConfig), UiError> {
        // The trainer (and the window tests) may give the simulated hospital their own bundles
        // and answer consent requests as the patient by hand.
        let consent_policy = match std::env::var("ABDM_DESK_CONSENT").as_deref() {
            Ok("manual") => abdm_sandbox::ConsentPolicy::Manual,
            Ok("deny") => abdm_sandbox::ConsentPolicy::Deny,
            _ => abdm_sandbox::ConsentPolicy::Grant,
        };
        let sandbox = Sandbox::start(SandboxConfig {
            callback_delay: Duration::from_millis(300),
            consent_policy,
            consent_delay: Duration::from_secs(2),
            records_dir: std::env::var_os("ABDM_DESK_PEER_RECORDS").map(PathBuf::from),
            ..SandboxConfig::default()
        })
        .await
        .map_err(io("the embedded ABDM sandbox did not start"))?;
        // The simulator forgets between starts, so the relay's mailbox does too.
        let relay_dir = dir.join("embedded-relay");
        let _ = std::fs::remove_dir_all(&relay_dir);
        let token = uuid::Uuid::new_v4().to_string();
        let key = ClinicKey::generate();
        let clinics = vec![Clinic::new(
            "this-clinic",
            &token,
            key.public(),
            vec![settings.hip_id.clone()],
        )];
        let jwks = format!("{}/gateway/v0.5/certs", sandbox.url());
        let relay = RelayServer::start(RelayConfig::new(relay_dir, jwks, clinics))
            .await
            .map_err(|e| {
                UiError::new("startup", format!("the embedded relay did not start: {e}"))
            })?;
        let line = vec![
            Cable::start(sandbox.addr)
                .await
                .map_err(io("the embedded line did not start"))?,
            Cable::start(relay.addr)
                .await
                .map_err(io("the embedded line did not start"))?,
        ];
        let mut client =
            relay_client::ClientConfig::new(format!("http://{}", line[1].addr), token, key);
        client.backoff_min = Duration::from_millis(100);
        client.backoff_max = Duration::from_secs(2);
        Ok((
            Embedded {
                sandbox,
                relay,
                line,
            },
            client,
        ))
    }

    fn new_desk(
        settings: &Settings,
        environment: Environment,
        store: Arc<Store>,
        secrets: &Arc<dyn Secrets>,
        base: &str,
        client_secret: String,
    ) -> Desk {
        let generation = settings.generation();
        let (gateway_url, healthid_url) = match (generation, environment) {
            (abdm::Generation::V05, Environment::EmbeddedSandbox) => {
                (format!("{base}/gateway"), format!("{base}/healthid"))
            }
            (abdm::Generation::V05, Environment::AbdmSandbox) => (
                format!("{base}/gateway"),
                "https://healthidsbx.abdm.gov.in/api".into(),
            ),
            (abdm::Generation::V05, Environment::Production) => (
                format!("{base}/gateway"),
                "https://healthid.abdm.gov.in/api".into(),
            ),
            // v3: the HIECM host itself (paths start /api/hiecm), ABHA v3 on its own host.
            (abdm::Generation::V3, Environment::EmbeddedSandbox) => {
                (base.to_string(), format!("{base}/abha/api"))
            }
            (abdm::Generation::V3, Environment::AbdmSandbox) => (
                base.to_string(),
                "https://abhasbx.abdm.gov.in/abha/api".into(),
            ),
            (abdm::Generation::V3, Environment::Production) => {
                (base.to_string(), "https://abha.abdm.gov.in/api/abha".into())
            }
        };
        let client = abdm::GatewayClient::new(abdm::GatewayConfig {
            gateway_url,
            healthid_url,
            client_id: settings.client_id.clone(),
            client_secret,
            cm_id: environment.cm_id().into(),
            timeout: Duration::from_secs(10),
            generation,
        });
        let sms_url =
            (environment == Environment::EmbeddedSandbox).then(|| format!("{base}/sms/send"));
        Desk::new(
            DeskConfig {
                sms_url,
                allow_local_push: environment == Environment::EmbeddedSandbox,
                ..DeskConfig::new(environment, settings.hip_id.clone())
            },
            store,
            secrets.clone(),
            Arc::new(AnyGateway::new(client, settings.hip_id.clone())),
        )
    }

    /// The desk.
    pub fn desk(&self) -> &Arc<Desk> {
        &self.desk
    }

    /// The app's data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings as saved.
    pub fn settings(&self) -> Settings {
        self.settings.lock().expect("settings lock").clone()
    }

    /// Saves new settings. Those that change the connection apply at the next start.
    pub fn save_settings(&self, settings: Settings) -> Result<Settings, UiError> {
        // Held across the write: the file and what the desk uses stay the same settings.
        let mut current = self.settings.lock().expect("settings lock");
        settings.save(&self.dir)?;
        *current = settings.clone();
        Ok(settings)
    }

    /// Saves the ABDM client secret in the OS keyring. It is never read back to the UI.
    pub fn save_client_secret(&self, secret: &str) -> Result<(), UiError> {
        save_client_secret(&*self.secrets, secret)
    }

    /// Whether a client secret is saved (the secret itself never leaves the keyring).
    pub fn has_client_secret(&self) -> bool {
        has_client_secret(&*self.secrets)
    }

    /// The embedded sandbox's base URL (its patient phone, its operator API).
    pub fn sandbox_url(&self) -> Option<String> {
        self.embedded().as_ref().map(|e| e.sandbox.url())
    }

    fn embedded(&self) -> std::sync::MutexGuard<'_, Option<Embedded>> {
        self.embedded.lock().expect("embedded lock")
    }

    /// With the embedded sandbox: plugs the clinic's line in or pulls it out.
    pub fn set_online(&self, online: bool) -> Result<(), UiError> {
        let embedded = self.embedded();
        let embedded = embedded.as_ref().ok_or_else(|| {
            UiError::new(
                "unsupported",
                "only the embedded sandbox has a line to pull",
            )
        })?;
        for cable in &embedded.line {
            cable.set_plugged(online);
        }
        Ok(())
    }

    /// Whether the embedded line is in (always true otherwise).
    pub fn is_online(&self) -> bool {
        self.embedded()
            .as_ref()
            .is_none_or(|e| e.line.iter().all(Cable::is_plugged))
    }

    /// Stops the desk's tasks, then what the embedded sandbox started. Everything saved stays;
    /// the store stays open for the next session.
    pub async fn close(&self) {
        self.stop_scan();
        let running = self.running.lock().expect("running lock").take();
        if let Some(running) = running {
            running.stop().await;
        }
        let embedded = self.embedded().take();
        if let Some(e) = embedded {
            e.stop().await;
        }
    }

    /// The connection test of the clinic settings: registers the facility and the bridge with
    /// ABDM and proves each step up to a callback through the relay; `report` hears each step.
    pub async fn test_connection(&self, report: impl Fn(&Check)) -> Result<Vec<Check>, UiError> {
        let settings = self.settings();
        if self.bridge_url.is_empty() {
            return Err(UiError::new(
                "settings",
                "the relay URL is not set: enter it in the clinic settings",
            ));
        }
        Ok(self
            .desk
            .test_connection(
                &settings.hip_id,
                &settings.clinic_name,
                &self.bridge_url,
                CheckWaits::default(),
                report,
            )
            .await?)
    }
}
