//! `deskctl clinic-key`: the clinic's relay key pair. The private key stays in the OS keyring (or
//! the environment, for servers); the public key goes into the relay's `--clinic`.

use desk_store::{KeyringSecrets, Secrets};
use relay_client::ClinicKey as Key;

use crate::open::{CLINIC_KEY_ENTRY, KEYRING_SERVICE};
use crate::{Failure, Outcome};

/// Prints the clinic's relay public key.
#[derive(clap::Args)]
pub struct ClinicKey {
    /// Read the private key (base64) from this environment variable instead of the keyring.
    #[arg(long)]
    key_env: Option<String>,
    /// Print a new private key (base64) for a server's environment, and its public key.
    #[arg(long, conflicts_with = "key_env")]
    new: bool,
}

impl ClinicKey {
    pub fn run(self) -> Outcome {
        if self.new {
            let key = Key::generate();
            println!("private (keep secret): {}", key.to_base64().as_str());
            println!("public: {}", key.public());
            return Ok(());
        }
        let key = match &self.key_env {
            Some(var) => Key::from_base64(
                &std::env::var(var).map_err(|_| Failure(format!("{var} is not set")))?,
            )?,
            None => {
                let secrets = KeyringSecrets::new(KEYRING_SERVICE);
                match secrets.get(CLINIC_KEY_ENTRY)? {
                    Some(bytes) => {
                        Key::from_bytes(bytes.as_slice().try_into().map_err(|_| {
                            Failure("the clinic key in the keyring is damaged".into())
                        })?)
                    }
                    None => {
                        let key = Key::generate();
                        secrets.set(CLINIC_KEY_ENTRY, key.to_bytes().as_ref())?;
                        key
                    }
                }
            }
        };
        println!("{}", key.public());
        Ok(())
    }
}
