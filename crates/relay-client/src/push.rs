//! Push paths: each health-information request of the clinic (as HIU) gets its own unguessable
//! `dataPushUrl` at the relay. The desk opens one before it asks for data and closes it when the
//! transfer is over; the relay refuses (404) pushes to any path that is unknown, closed or expired,
//! and stores nothing for them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::ClientConfig;

/// A push path's secret part: 32 random bytes, base64url (43 characters).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushToken(String);

impl std::fmt::Debug for PushToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PushToken(…)")
    }
}

impl PushToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks the shape of a token from a URL (43 base64url characters).
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(text.to_string()))
    }

    /// The token as it appears in the path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `dataPushUrl` ABDM is given: the clinic's bridge URL (the relay's public address and
    /// base path) and the token.
    pub fn url(&self, bridge_url: &str) -> String {
        format!("{}/push/{}", bridge_url.trim_end_matches('/'), self.0)
    }
}

/// The body of `PUT /clinic/push-paths/{token}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPushPath {
    /// Seconds since 1970 after which the path is closed by itself.
    pub expires_at: u64,
}

/// Why the relay did not open or close a push path.
#[derive(Debug, thiserror::Error)]
pub enum PushPathError {
    /// No connection.
    #[error("cannot reach the relay: {0}")]
    Unreachable(String),
    /// The relay said no.
    #[error("the relay refused (HTTP {status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its message.
        message: String,
    },
}

fn url(config: &ClientConfig, token: &PushToken) -> String {
    format!(
        "{}/clinic/push-paths/{}",
        config.relay_url.trim_end_matches('/'),
        token.0
    )
}

async fn answer(response: reqwest::Response) -> Result<(), PushPathError> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(PushPathError::Refused {
        status,
        message: response.text().await.unwrap_or_default(),
    })
}

/// Opens a push path until `expires_at` (seconds since 1970).
pub async fn open_push_path(
    http: &reqwest::Client,
    config: &ClientConfig,
    token: &PushToken,
    expires_at: u64,
) -> Result<(), PushPathError> {
    let response = http
        .put(url(config, token))
        .bearer_auth(&config.clinic_token)
        .json(&OpenPushPath { expires_at })
        .send()
        .await
        .map_err(|e| PushPathError::Unreachable(e.to_string()))?;
    answer(response).await
}

/// Closes a push path: later pushes to it are refused.
pub async fn close_push_path(
    http: &reqwest::Client,
    config: &ClientConfig,
    token: &PushToken,
) -> Result<(), PushPathError> {
    let response = http
        .delete(url(config, token))
        .bearer_auth(&config.clinic_token)
        .send()
        .await
        .map_err(|e| PushPathError::Unreachable(e.to_string()))?;
    answer(response).await
}
