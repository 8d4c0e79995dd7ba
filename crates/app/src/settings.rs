//! The clinic's settings: what the admin chose, kept in `settings.json` in the app's data folder.
//! Nothing secret is in it: the ABDM client secret is in the OS keyring (`client_secret`), and
//! the file says only whether one was saved.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::UiError;

/// The UI's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Hindi.
    Hi,
}

/// Which ABDM the clinic talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EnvironmentChoice {
    /// Our simulator on this machine, with a relay beside it: for training and trying out.
    #[default]
    EmbeddedSandbox,
    /// NHA's sandbox.
    AbdmSandbox,
    /// Live ABDM.
    Production,
}

/// The clinic's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// As printed on slips and posters.
    pub clinic_name: String,
    /// Which ABDM.
    pub environment: EnvironmentChoice,
    /// The facility's HIP/HIU service id (its HFR id's service).
    pub hip_id: String,
    /// This desk's counter (scan and share), 1–20 letters, digits, `-` or `_`.
    pub counter_id: String,
    /// The ABDM client id.
    pub client_id: String,
    /// The relay's base URL (not used with the embedded sandbox, which runs its own).
    pub relay_url: String,
    /// The UI's language.
    pub language: Language,
    /// The camera for scanning cards: a webcam's number (`0`), or a picture file or folder.
    pub camera: String,
    /// The ABDM generation to speak; `None`: the environment's (v3, what ABDM serves, for NHA's
    /// sandbox and production; v0.5 for the embedded sandbox, which serves both).
    pub abdm_version: Option<abdm::Generation>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            clinic_name: "Sandbox Clinic".into(),
            environment: EnvironmentChoice::EmbeddedSandbox,
            hip_id: abdm_sandbox::DEFAULT_SERVICE_ID.into(),
            counter_id: "COUNTER-1".into(),
            client_id: abdm_sandbox::DEFAULT_CLIENT_ID.into(),
            relay_url: String::new(),
            language: Language::En,
            camera: "0".into(),
            abdm_version: None,
        }
    }
}

impl Settings {
    const FILE: &'static str = "settings.json";

    /// The ABDM generation this clinic speaks.
    pub fn generation(&self) -> abdm::Generation {
        self.abdm_version.unwrap_or(match self.environment {
            EnvironmentChoice::EmbeddedSandbox => abdm::Generation::V05,
            EnvironmentChoice::AbdmSandbox | EnvironmentChoice::Production => abdm::Generation::V3,
        })
    }

    /// The saved settings, or the defaults on first start.
    pub fn load(dir: &Path) -> Result<Settings, UiError> {
        match std::fs::read(dir.join(Self::FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                UiError::new(
                    "settings",
                    format!("the clinic settings file is damaged ({e}); fix or remove settings.json in the app's data folder"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(UiError::new("settings", format!("the clinic settings could not be read: {e}"))),
        }
    }

    /// Checks the settings in plain words; nothing is saved if any is wrong.
    pub fn check(&self) -> Result<(), UiError> {
        if self.clinic_name.trim().is_empty() {
            return Err(UiError::new(
                "invalid-input",
                "the clinic's name is required",
            ));
        }
        abdm::qr::counter_url(abdm::qr::PhrHost::Sandbox, &self.hip_id, &self.counter_id)
            .map_err(|e| UiError::new("invalid-input", e.to_string()))?;
        if self.environment != EnvironmentChoice::EmbeddedSandbox {
            // The desk sends its relay token there: only over TLS (plain HTTP on this machine).
            let relay = self.relay_url.trim();
            let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| relay.starts_with(p));
            if !(relay.starts_with("https://") || local) {
                return Err(UiError::new(
                    "invalid-input",
                    "the relay URL must start with https:// (the clinic's relay, as its operator gave it)",
                ));
            }
        }
        Ok(())
    }

    /// A training desk: the embedded sandbox, where the demo accounts sign in.
    pub fn is_training(&self) -> bool {
        self.environment == EnvironmentChoice::EmbeddedSandbox
    }

    /// Whether going from these settings to `new` changes how the desk is connected (which
    /// ABDM, as whom, through which relay): the desk then reconnects.
    pub fn reconnects(&self, new: &Settings) -> bool {
        let connection = |s: &Settings| {
            (
                s.environment,
                s.generation(),
                s.hip_id.trim().to_string(),
                s.client_id.trim().to_string(),
                s.relay_url.trim().to_string(),
                s.clinic_name.trim().to_string(),
            )
        };
        connection(self) != connection(new)
    }

    /// Saves atomically: the old file stays whole until the new one is on disk.
    pub fn save(&self, dir: &Path) -> Result<(), UiError> {
        self.check()?;
        let failed = |e: std::io::Error| {
            UiError::new(
                "settings",
                format!("the clinic settings could not be saved: {e}"),
            )
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        // A name of its own per save: two saves at once never share a half-written file.
        let tmp = dir.join(format!(".settings.json.{}.tmp", uuid::Uuid::new_v4()));
        let mut file = std::fs::File::create(&tmp).map_err(failed)?;
        file.write_all(&serde_json::to_vec_pretty(self).expect("settings serialise"))
            .map_err(failed)?;
        file.sync_all().map_err(failed)?;
        std::fs::rename(&tmp, dir.join(Self::FILE)).map_err(failed)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(failed)?;
        Ok(())
    }
}
