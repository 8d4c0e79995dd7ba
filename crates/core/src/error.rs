//! The desk's errors: plain words for the person at the desk, a stable [`DeskError::code`] for
//! front ends, and the source kept for logs.

use abdm::ids::IdError;
use abdm::AbdmError;
use desk_store::StoreError;

/// Why something the desk was asked to do did not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// An identifier the person typed is not valid (Aadhaar checksum, mobile, ABHA, OTP).
    #[error("{0}")]
    Invalid(#[from] IdError),
    /// Other input that cannot be used, in plain words.
    #[error("{0}")]
    Input(String),
    /// ABDM could not be reached.
    #[error("ABDM cannot be reached right now; try again when the connection is back")]
    Offline {
        /// What failed.
        #[source]
        source: AbdmError,
    },
    /// ABDM refuses the clinic's client id or secret.
    #[error("ABDM does not accept this clinic's credentials ({message}); check the client id and secret in the clinic settings")]
    Credentials {
        /// ABDM's words.
        message: String,
    },
    /// ABDM answered and said no.
    #[error("{}", refusal_words(code.as_deref(), message))]
    Refused {
        /// ABDM's code (`ABDM-1100` …).
        code: Option<String>,
        /// ABDM's message.
        message: String,
    },
    /// The ABHA belongs to another patient here.
    #[error("this ABHA ({abha}) already belongs to another patient here: {other}")]
    AlreadyLinked {
        /// The ABHA number.
        abha: String,
        /// The other patient's name.
        other: String,
    },
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// This ABDM generation cannot do it.
    #[error("{0}")]
    Unsupported(String),
    /// The local database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    /// A stable code for front ends.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::Invalid(_) => "invalid-input",
            DeskError::Input(_) => "invalid-input",
            DeskError::Offline { .. } => "abdm-offline",
            DeskError::Credentials { .. } => "abdm-credentials",
            DeskError::Refused { .. } => "abdm-refused",
            DeskError::AlreadyLinked { .. } => "already-linked",
            DeskError::NotFound(_) => "not-found",
            DeskError::Unsupported(_) => "unsupported",
            DeskError::Store(_) => "storage",
        }
    }

    /// Whether the storage failed (a message that hit it is offered again, not set aside).
    pub fn is_storage(&self) -> bool {
        // Only the disk or the key failing is worth offering the message again; a record that
        // does not read (damaged, or from another version) would block the stream for ever.
        matches!(
            self,
            DeskError::Store(
                desk_store::StoreError::Storage(_)
                    | desk_store::StoreError::Key(_)
                    | desk_store::StoreError::KeyMissing { .. }
            )
        )
    }
}

impl From<AbdmError> for DeskError {
    fn from(e: AbdmError) -> Self {
        match e {
            AbdmError::Rejected { code, message, .. } => DeskError::Refused { code, message },
            AbdmError::Credentials { message } => DeskError::Credentials { message },
            e @ AbdmError::Unreachable { .. } => DeskError::Offline { source: e },
            AbdmError::Unexpected { detail, .. } => DeskError::Refused {
                code: None,
                message: format!("an answer this desk cannot read ({detail})"),
            },
        }
    }
}

/// ABDM's refusals as what to do next, where the code tells.
pub fn refusal_words(code: Option<&str>, message: &str) -> String {
    let action = match code.unwrap_or_default() {
        "ABDM-1100" => {
            Some("Too many OTPs were asked for this number: wait 30 minutes, then send a new one")
        }
        "ABDM-1035" => Some("The OTP is wrong: ask the patient to read it again from their phone"),
        "ABDM-1036" => Some("The OTP has expired: send a new one"),
        "ABDM-1114" => {
            Some("No ABHA exists with this number or address: check it with the patient")
        }
        "ABDM-1101" => Some("This ABHA address is taken: choose another one with the patient"),
        "ABDM-1092" => Some("ABDM allows one link token every few minutes: wait, then try again"),
        "ABDM-1027" => {
            Some("ABDM has blocked this for a while after repeated failures: wait 30 minutes")
        }
        "ABDM-1061" => Some("The patient's consent has expired"),
        "ABDM-1062" => Some("The patient has not granted this consent"),
        _ => None,
    };
    match (action, code) {
        (Some(a), Some(c)) => format!("{a} ({c})"),
        (None, Some(c)) if !c.is_empty() => format!("ABDM said no: {message} ({c})"),
        _ => format!("ABDM said no: {message}"),
    }
}

/// Why the outbox waits while ABDM refuses the clinic's credentials, in plain words.
pub(crate) fn paused_words(e: &AbdmError) -> String {
    match e {
        AbdmError::Credentials { message } => format!(
            "ABDM does not accept this clinic's credentials ({message}); nothing is sent until the client id and secret are corrected in the clinic settings"
        ),
        other => other.to_string(),
    }
}

/// The desk's result.
pub type Result<T> = std::result::Result<T, DeskError>;
