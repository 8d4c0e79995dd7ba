//! Opening a desk from the command line: where its database and secrets are and which ABDM it
//! talks to.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use desk_core::{AnyGateway, Desk, DeskConfig, Environment};
use desk_store::{KeyringSecrets, SecretError, Secrets, Store};

use crate::Failure;

/// The keyring service of the desk's secrets.
pub const KEYRING_SERVICE: &str = "abdm-desk";
/// The keyring entry of the clinic's relay key.
pub const CLINIC_KEY_ENTRY: &str = "relay-clinic-key";

/// Where a desk's database and secrets are, and which ABDM it talks to.
#[derive(clap::Args)]
pub struct DeskArgs {
    /// The desk's database folder.
    #[arg(long)]
    pub store: PathBuf,
    /// The gateway's base URL (…/gateway).
    #[arg(long, default_value = "http://127.0.0.1:8090/gateway")]
    pub gateway: String,
    /// The ABHA service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8090/healthid")]
    pub healthid: String,
    /// Which ABDM (embedded-sandbox, abdm-sandbox, production).
    #[arg(long, default_value = "embedded-sandbox")]
    pub environment: String,
    /// The ABDM generation: `v0.5` (`--gateway`/`--healthid` as above) or `v3` (`--gateway` the
    /// HIECM host, `--healthid` the ABHA v3 base, e.g. `…/abha/api`).
    #[arg(long, default_value = "v0.5", value_parser = parse_generation)]
    pub generation: abdm::Generation,
    /// The clinic's ABDM client id.
    #[arg(long, default_value = abdm_sandbox::DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Environment variable holding the ABDM client secret (required: there is no default).
    #[arg(long, default_value = "ABDM_CLIENT_SECRET")]
    pub client_secret_env: String,
    /// The clinic's HIP/HIU service id.
    #[arg(long, default_value = abdm_sandbox::DEFAULT_SERVICE_ID)]
    pub service_id: String,
    /// The clinic's SMS provider (`POST {"to", "text"}`) for link OTPs; with the embedded sandbox,
    /// its `/sms/send`.
    #[arg(long)]
    pub sms_url: Option<String>,
    /// Read the database key (64 hex digits) from this environment variable instead of the OS
    /// keyring: for tests and throwaway databases only.
    #[arg(long)]
    pub store_key_env: Option<String>,
}

/// One key for every database: what `--store-key-env` gives.
struct FixedKey(desk_store::zeroize::Zeroizing<Vec<u8>>);

impl Secrets for FixedKey {
    fn get(
        &self,
        name: &str,
    ) -> Result<Option<desk_store::zeroize::Zeroizing<Vec<u8>>>, SecretError> {
        Ok(name.starts_with("store-key-").then(|| self.0.clone()))
    }
    fn set(&self, _: &str, _: &[u8]) -> Result<(), SecretError> {
        Err(SecretError::Unavailable("a fixed key is read-only".into()))
    }
    fn delete(&self, _: &str) -> Result<(), SecretError> {
        Ok(())
    }
}

/// `v0.5` or `v3`.
pub(crate) fn parse_generation(text: &str) -> Result<abdm::Generation, String> {
    abdm::Generation::parse(text)
        .ok_or_else(|| format!("{text:?} is not an ABDM generation: use v0.5 or v3"))
}

fn environment(text: &str) -> Result<Environment, Failure> {
    match text {
        "embedded-sandbox" => Ok(Environment::EmbeddedSandbox),
        "abdm-sandbox" => Ok(Environment::AbdmSandbox),
        "production" => Ok(Environment::Production),
        other => Err(Failure(format!(
            "unknown environment {other:?}: use embedded-sandbox, abdm-sandbox or production"
        ))),
    }
}

impl DeskArgs {
    /// The secrets: the OS keyring, or a fixed database key from the environment.
    pub fn secrets(&self) -> Result<Arc<dyn Secrets>, Failure> {
        match &self.store_key_env {
            None => Ok(Arc::new(KeyringSecrets::new(KEYRING_SERVICE))),
            Some(var) => {
                let hex = std::env::var(var).map_err(|_| Failure(format!("{var} is not set")))?;
                let bytes: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .filter_map(|i| {
                        hex.get(i..i + 2)
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                    })
                    .collect();
                if bytes.len() != 32 {
                    return Err(Failure(format!("{var} must hold 64 hex digits")));
                }
                Ok(Arc::new(FixedKey(desk_store::zeroize::Zeroizing::new(
                    bytes,
                ))))
            }
        }
    }

    /// Opens the desk. With `need_secret`, the client secret must be in its environment variable.
    pub fn open(&self, need_secret: bool) -> Result<Desk, Failure> {
        let environment = environment(&self.environment)?;
        let secret = match std::env::var(&self.client_secret_env) {
            Ok(s) if !s.is_empty() => s,
            _ if need_secret => {
                return Err(Failure(format!(
                    "the ABDM client secret is missing: put it in the environment variable {}",
                    self.client_secret_env
                )))
            }
            _ => String::new(),
        };
        let secrets = self.secrets()?;
        let store = Store::open(&self.store, &secrets)?;
        let client = abdm::GatewayClient::new(abdm::GatewayConfig {
            gateway_url: self.gateway.clone(),
            healthid_url: self.healthid.clone(),
            client_id: self.client_id.clone(),
            client_secret: secret,
            cm_id: environment.cm_id().into(),
            timeout: Duration::from_secs(10),
            generation: self.generation,
        });
        let sms_url = self.sms_url.clone().or_else(|| {
            (environment == Environment::EmbeddedSandbox)
                .then(|| format!("{}/sms/send", self.gateway.trim_end_matches("/gateway")))
        });
        Ok(Desk::new(
            DeskConfig {
                sms_url,
                ..DeskConfig::new(environment, self.service_id.clone())
            },
            Arc::new(store),
            secrets,
            Arc::new(AnyGateway::new(client, self.service_id.clone())),
        ))
    }
}
