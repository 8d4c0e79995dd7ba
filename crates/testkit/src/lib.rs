//! Test support shared by the workspace's end-to-end tests: the real sandbox and the real relay on
//! loopback, a desk with a temporary store, the simulated patient's phone, and small helpers. One
//! place, instead of the same set-up copied into each test file.

pub mod powercut;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use abdm_relay::{Clinic, RelayConfig, RelayServer};
use abdm_sandbox::{Sandbox, SandboxConfig, DEFAULT_SERVICE_ID};
use desk_core::{AnyGateway, Desk, DeskConfig, Environment, Running};
use desk_store::{MemorySecrets, Secrets, Store};
use relay_client::ClinicKey;
use serde_json::Value;

/// The shared folder (`../shared`, or `$ABDM_SHARED`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("ABDM_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        })
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "abdm-desk-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until `check` holds (10 s at most).
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// The ABDM generation the end-to-end suites run on: `ABDM_GENERATION` (`v0.5`, the default,
/// or `v3`). The same tests run once per generation (`scripts/test` runs them on both).
pub fn generation() -> abdm::Generation {
    match std::env::var("ABDM_GENERATION") {
        Ok(g) => abdm::Generation::parse(&g)
            .unwrap_or_else(|| panic!("ABDM_GENERATION={g:?}: expected v0.5 or v3")),
        Err(_) => abdm::Generation::V05,
    }
}

/// The clinic's relay token in tests.
pub const CLINIC_TOKEN: &str = "testkit-clinic-token";

/// The sandbox, the relay and a desk on loopback, with the bridge registered.
pub struct Rig {
    /// ABDM.
    pub sandbox: Sandbox,
    /// The bridge (None while "down").
    pub relay: Option<RelayServer>,
    /// How to start the relay again on the same port and data.
    pub relay_config: RelayConfig,
    /// The clinic's relay key.
    pub key: ClinicKey,
    /// The desk.
    pub desk: Arc<Desk>,
    /// Its secrets (the store key lives here).
    pub secrets: Arc<MemorySecrets>,
    /// Its loops.
    pub running: Option<Running>,
    /// Files.
    pub dir: TempDir,
}

impl Rig {
    /// A rig with fast callbacks, on the generation the suite runs on ([`generation`]).
    pub async fn start(config: SandboxConfig) -> Self {
        Self::start_on(generation(), config).await
    }

    /// A rig with fast callbacks whose desk speaks `generation` (for tests of one generation).
    pub async fn start_on(generation: abdm::Generation, config: SandboxConfig) -> Self {
        let sandbox = Sandbox::start(SandboxConfig {
            callback_delay: Duration::from_millis(20),
            redelivery_after: Some(Duration::from_millis(600)),
            ..config
        })
        .await
        .expect("the sandbox starts");
        Self::around(sandbox, generation, |c| c).await
    }

    /// A rig around a running sandbox; `tweak` adjusts the desk's configuration.
    pub async fn with_sandbox(
        sandbox: Sandbox,
        tweak: impl FnOnce(DeskConfig) -> DeskConfig,
    ) -> Self {
        Self::around(sandbox, generation(), tweak).await
    }

    async fn around(
        sandbox: Sandbox,
        generation: abdm::Generation,
        tweak: impl FnOnce(DeskConfig) -> DeskConfig,
    ) -> Self {
        let dir = TempDir::new("rig");
        let (relay, relay_config, key) = relay_for(&sandbox, &dir.0.join("relay")).await;
        let secrets = Arc::new(MemorySecrets::default());
        let store = dir.0.join("desk");
        let desk = Arc::new(desk_at(
            sandbox.client_config_for(generation),
            &sandbox.url(),
            &store,
            secrets.clone(),
            tweak,
        ));
        desk.register_bridge(&relay.url())
            .await
            .expect("bridge registered");
        let running = desk.start(Some(relay_client_config(&relay.url(), &key)));
        Self {
            sandbox,
            relay: Some(relay),
            relay_config,
            key,
            desk,
            secrets,
            running: Some(running),
            dir,
        }
    }

    /// Stops everything and removes the files. First, whatever the test did: every item it put
    /// in the outbox must read in each of the app's languages (a label key, not English only).
    pub async fn stop(mut self) {
        let outbox = self.desk.outbox().expect("the outbox reads");
        let unworded: Vec<_> = outbox.iter().filter(|o| o.label_key.is_none()).collect();
        assert!(
            unworded.is_empty(),
            "outbox items without a label key: {unworded:?}"
        );
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        if let Some(r) = self.relay.take() {
            r.stop().await;
        }
        self.sandbox.stop().await;
    }

    /// Takes the relay down (the clinic's bridge is unreachable).
    pub async fn relay_down(&mut self) {
        if let Some(r) = self.relay.take() {
            r.stop().await;
        }
    }

    /// Brings the relay back on the same port and data.
    pub async fn relay_up(&mut self) {
        self.relay = Some(
            RelayServer::start(self.relay_config.clone())
                .await
                .expect("the relay restarts"),
        );
    }

    /// The newest OTP the patient's phone received for `txn`.
    pub async fn otp(&self, txn: &str) -> String {
        self.sandbox
            .operator()
            .otp(txn)
            .await
            .expect("an OTP on the phone")
    }

    /// A patient scans the clinic's counter QR; returns the token the clinic gave.
    pub async fn share(&self, abha: &str) -> String {
        self.sandbox
            .operator()
            .share(abha, DEFAULT_SERVICE_ID, "COUNTER-1")
            .await
            .expect("the share is answered")
    }

    /// A sandbox operator call (`POST {sandbox}{path}`).
    pub async fn admin(&self, path: &str, body: Value) -> Value {
        self.sandbox
            .operator()
            .post(path, body)
            .await
            .expect("the sandbox accepts it")
    }
}

/// The relay for the test clinic (a fresh key) at `dir`, verifying callbacks against `sandbox`.
pub async fn relay_for(sandbox: &Sandbox, dir: &Path) -> (RelayServer, RelayConfig, ClinicKey) {
    let key = ClinicKey::generate();
    let config = RelayConfig {
        listen: format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("an address"),
        ..RelayConfig::new(
            dir.to_path_buf(),
            sandbox.jwks_url(),
            vec![Clinic::new(
                "clinic",
                CLINIC_TOKEN,
                key.public(),
                vec![DEFAULT_SERVICE_ID.into()],
            )],
        )
    };
    let relay = RelayServer::start(config.clone())
        .await
        .expect("the relay starts");
    (relay, config, key)
}

/// A desk on a new store at `path`, talking to `sandbox` as the default clinic.
pub fn desk_on(
    sandbox: &Sandbox,
    path: &Path,
    secrets: Arc<dyn Secrets>,
    tweak: impl FnOnce(DeskConfig) -> DeskConfig,
) -> Desk {
    desk_at(
        sandbox.client_config_for(generation()),
        &sandbox.url(),
        path,
        secrets,
        tweak,
    )
}

/// A desk at `path` for the sandbox at `sandbox_url` with `gateway` settings (a desk in another
/// process than its sandbox).
pub fn desk_at(
    gateway: abdm::GatewayConfig,
    sandbox_url: &str,
    path: &Path,
    secrets: Arc<dyn Secrets>,
    tweak: impl FnOnce(DeskConfig) -> DeskConfig,
) -> Desk {
    let store = Arc::new(Store::open(path, &secrets).expect("the store opens"));
    let gateway = AnyGateway::new(abdm::GatewayClient::new(gateway), DEFAULT_SERVICE_ID);
    let config = tweak(DeskConfig {
        sms_url: Some(format!("{sandbox_url}/sms/send")),
        ..DeskConfig::new(Environment::EmbeddedSandbox, DEFAULT_SERVICE_ID)
    });
    Desk::new(config, store, secrets, Arc::new(gateway))
}

/// Secrets that always hold the same store key, so that a desk in a child process and its
/// parent open the same store.
pub struct FixedKey(pub [u8; 32]);

impl Secrets for FixedKey {
    fn get(
        &self,
        _: &str,
    ) -> Result<Option<desk_store::zeroize::Zeroizing<Vec<u8>>>, desk_store::SecretError> {
        Ok(Some(desk_store::zeroize::Zeroizing::new(self.0.to_vec())))
    }
    fn set(&self, _: &str, _: &[u8]) -> Result<(), desk_store::SecretError> {
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<(), desk_store::SecretError> {
        Ok(())
    }
}

/// The relay client settings of the test clinic, with quick reconnects.
pub fn relay_client_config(url: &str, key: &ClinicKey) -> relay_client::ClientConfig {
    let mut config = relay_client::ClientConfig::new(url, CLINIC_TOKEN, key.clone());
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(200);
    config
}

/// Runs the independent FHIR validator (`tools/fhir_validate.py`, the `fhir.resources` models) on
/// bundles; returns its report, or why they failed.
pub fn fhir_validate(bundles: &[Value]) -> Result<String, String> {
    let dir = TempDir::new("fhir-validate");
    let mut files = Vec::new();
    for (i, b) in bundles.iter().enumerate() {
        let path = dir.path().join(format!("bundle-{i}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(b).expect("JSON")).expect("a temp file");
        files.push(path);
    }
    let python = std::env::var("ABDM_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/fhir_validate.py"))
        .args(&files)
        .output()
        .map_err(|e| format!("cannot run {python} (scripts/setup makes its venv): {e}"))?;
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    let want = format!("{} passed, 0 failed", bundles.len());
    if out.status.success() && report.lines().last() == Some(want.as_str()) {
        Ok(report)
    } else {
        Err(format!(
            "{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
