//! `deskctl run`: a headless desk.

use std::sync::Arc;
use std::time::Duration;

use relay_client::ClinicKey;

use crate::open::DeskArgs;
use crate::{Failure, Outcome};

/// Runs a headless desk until Ctrl-C.
#[derive(clap::Args)]
pub struct Run {
    #[command(flatten)]
    desk: DeskArgs,
    /// The relay's base URL.
    #[arg(long)]
    relay: String,
    /// Environment variable holding the clinic's relay token.
    #[arg(long, default_value = "ABDM_RELAY_TOKEN")]
    relay_token_env: String,
    /// Environment variable holding the clinic's relay key (base64; `deskctl clinic-key` makes one).
    #[arg(long, default_value = "ABDM_RELAY_KEY")]
    relay_key_env: String,
}

impl Run {
    pub async fn run(self) -> Outcome {
        let token = std::env::var(&self.relay_token_env)
            .map_err(|_| Failure(format!("{} is not set", self.relay_token_env)))?;
        let key = std::env::var(&self.relay_key_env)
            .map_err(|_| Failure(format!("{} is not set", self.relay_key_env)))?;
        let key = ClinicKey::from_base64(&key)?;
        let desk = Arc::new(self.desk.open(true)?);
        let mut config = relay_client::ClientConfig::new(self.relay, token, key);
        config.backoff_min = Duration::from_millis(50);
        config.backoff_max = Duration::from_secs(2);
        let running = desk.start(Some(config));
        println!("desk running");
        let _ = tokio::signal::ctrl_c().await;
        running.stop().await;
        Ok(())
    }
}
