//! Where secrets live: the OS keyring in the app, memory in tests and demos. The database key, the
//! ABDM client secret, the relay token, the clinic's relay key and each received consent's key
//! are kept here, never in a file.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Why a secret could not be read or kept.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No keyring service.
    #[error("the OS keyring is not available ({0}); on Linux a Secret Service (e.g. GNOME Keyring) must be running")]
    Unavailable(String),
    /// An entry that does not decode.
    #[error("the keyring entry {0:?} is damaged")]
    Damaged(String),
}

/// A place for named secrets.
pub trait Secrets: Send + Sync {
    /// The named secret, if it exists.
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError>;
    /// Stores (or replaces) a secret.
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError>;
    /// Deletes a secret (no error when it does not exist).
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

/// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows),
/// entries under one service name.
pub struct KeyringSecrets {
    service: String,
}

impl KeyringSecrets {
    /// Entries under `service` (the app uses `abdm-desk`).
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name)
            .map_err(|e| SecretError::Unavailable(e.to_string()))
    }
}

impl Secrets for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(text) => {
                let text = Zeroizing::new(text);
                STANDARD
                    .decode(text.trim())
                    .map(|b| Some(Zeroizing::new(b)))
                    .map_err(|_| SecretError::Damaged(name.into()))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError::Unavailable(e.to_string())),
        }
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        let text = Zeroizing::new(STANDARD.encode(value));
        self.entry(name)?
            .set_password(&text)
            .map_err(|e| SecretError::Unavailable(e.to_string()))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError::Unavailable(e.to_string())),
        }
    }
}

/// Secrets kept in memory for the life of the value (tests, the demo's throwaway database).
#[derive(Default)]
pub struct MemorySecrets {
    values: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl MemorySecrets {
    /// With one secret already set (e.g. to reopen a test database in another process).
    pub fn with(name: &str, value: &[u8]) -> Self {
        let s = Self::default();
        s.values
            .lock()
            .expect("secrets lock")
            .insert(name.into(), Zeroizing::new(value.to_vec()));
        s
    }

    /// The names held (tests check what was deleted).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .values
            .lock()
            .expect("secrets lock")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }
}

impl Secrets for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        Ok(self.values.lock().expect("secrets lock").get(name).cloned())
    }
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.values
            .lock()
            .expect("secrets lock")
            .insert(name.into(), Zeroizing::new(value.to_vec()));
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.values.lock().expect("secrets lock").remove(name);
        Ok(())
    }
}

impl<S: Secrets + ?Sized> Secrets for std::sync::Arc<S> {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        (**self).get(name)
    }
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        (**self).set(name, value)
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        (**self).delete(name)
    }
}

/// A secret value inside a record (a linking token, a private key): sealed at rest with the rest
/// of the record, and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}
