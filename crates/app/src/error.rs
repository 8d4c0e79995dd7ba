//! What the UI shows when something fails: a stable code it can act on and plain words.

use serde::Serialize;

/// A failure as the UI receives it. `message` is written for the person at the desk; `code`
/// lets the UI choose an action (`abdm-offline` → "it will be sent when the connection is
/// back").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct UiError {
    /// `invalid-input`, `abdm-offline`, `not-found`, `storage`, `keyring`, `printing`, …
    pub code: String,
    /// Plain words.
    pub message: String,
    /// ABDM's own code when ABDM said no (`ABDM-1035` …): the UI shows its action in the
    /// chosen language.
    #[serde(rename = "abdmCode", skip_serializing_if = "Option::is_none")]
    pub abdm_code: Option<String>,
}

impl UiError {
    /// An error with its code and words.
    pub fn new(code: &str, message: impl Into<String>) -> UiError {
        UiError {
            code: code.into(),
            message: message.into(),
            abdm_code: None,
        }
    }
}

impl From<desk_core::DeskError> for UiError {
    fn from(e: desk_core::DeskError) -> UiError {
        let abdm_code = match &e {
            desk_core::DeskError::Refused { code, .. } => code.clone(),
            _ => None,
        };
        UiError {
            abdm_code,
            ..UiError::new(e.code(), e.to_string())
        }
    }
}

impl From<desk_store::StoreError> for UiError {
    fn from(e: desk_store::StoreError) -> UiError {
        UiError::from(desk_core::DeskError::from(e))
    }
}

impl From<desk_print::PrintError> for UiError {
    fn from(e: desk_print::PrintError) -> UiError {
        UiError::new("printing", e.to_string())
    }
}
