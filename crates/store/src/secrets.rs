//! Where the database key lives: the OS keyring in the app, memory in tests and demos.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring is not available ({0}); on Linux a Secret Service (e.g. GNOME Keyring) must be running")]
    Unavailable(String),
    #[error("the stored key {0:?} is damaged")]
    Damaged(String),
}

/// A place for 32-byte secrets, by name.
pub trait Secrets: Send + Sync {
    /// The named secret, created (random) on first use.
    fn get_or_create(&self, name: &str) -> Result<Zeroizing<[u8; 32]>, SecretError>;
}

/// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
pub struct KeyringSecrets {
    service: String,
}

impl KeyringSecrets {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }
}

impl Secrets for KeyringSecrets {
    fn get_or_create(&self, name: &str) -> Result<Zeroizing<[u8; 32]>, SecretError> {
        let entry = keyring::Entry::new(&self.service, name)
            .map_err(|e| SecretError::Unavailable(e.to_string()))?;
        match entry.get_password() {
            Ok(text) => {
                let bytes = Zeroizing::new(
                    STANDARD
                        .decode(text.trim())
                        .map_err(|_| SecretError::Damaged(name.into()))?,
                );
                let key: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| SecretError::Damaged(name.into()))?;
                Ok(Zeroizing::new(key))
            }
            Err(keyring::Error::NoEntry) => {
                let mut key = Zeroizing::new([0u8; 32]);
                OsRng.fill_bytes(key.as_mut());
                let text = Zeroizing::new(STANDARD.encode(key.as_ref()));
                entry
                    .set_password(&text)
                    .map_err(|e| SecretError::Unavailable(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(SecretError::Unavailable(e.to_string())),
        }
    }
}

/// Secrets kept in memory for the life of the value (tests, the demo's throwaway database).
#[derive(Default)]
pub struct MemorySecrets {
    keys: Mutex<HashMap<String, Zeroizing<[u8; 32]>>>,
}

impl MemorySecrets {
    /// With one secret already set (e.g. to reopen a test database in another process).
    pub fn with(name: &str, key: [u8; 32]) -> Self {
        let s = Self::default();
        s.keys
            .lock()
            .expect("lock")
            .insert(name.into(), Zeroizing::new(key));
        s
    }
}

impl Secrets for MemorySecrets {
    fn get_or_create(&self, name: &str) -> Result<Zeroizing<[u8; 32]>, SecretError> {
        let mut keys = self.keys.lock().expect("secrets lock");
        let key = keys.entry(name.to_string()).or_insert_with(|| {
            let mut k = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(k.as_mut());
            k
        });
        Ok(key.clone())
    }
}
