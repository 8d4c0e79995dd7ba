use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{Id, Record, Secret};

/// A HIP linking token (from `users/auth/on-confirm` or v3's `on-generate-token`): sealed with its
/// profile, dropped once it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkingToken {
    /// The token.
    pub token: Secret,
    /// When ABDM stops accepting it.
    pub expires_at: DateTime<Utc>,
}

/// A patient's ABHA as ABDM returned it (CARE's `AbhaNumber`), kept under the keyed hash of its
/// number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AbhaProfile {
    /// ABHA number, dashed.
    pub abha_number: String,
    /// ABHA address.
    pub abha_address: Option<String>,
    /// The patient here it belongs to.
    pub patient_id: Option<Uuid>,
    /// Full name.
    pub name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Gender letter.
    pub gender: Option<String>,
    /// `YYYY-MM-DD` or `YYYY`.
    pub date_of_birth: Option<String>,
    /// 10 digits (or masked as ABDM sends it).
    pub mobile: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// PIN code.
    pub pincode: Option<String>,
    /// The HIP linking token, while it is valid.
    pub linking_token: Option<LinkingToken>,
    /// A linking-token request waiting for the OTP ABDM sent the patient (its transaction).
    #[serde(default)]
    pub token_otp_txn: Option<String>,
    /// When a v3 link token was last asked for: ABDM refuses another for the same ABHA within
    /// about six minutes (`ABDM-1092`), so the desk waits that long.
    #[serde(default)]
    pub link_token_asked_at: Option<DateTime<Utc>>,
    /// A linking token is wanted but ABDM's guard held the request back (or refused it with
    /// `ABDM-1092`): a timer asks once the guard has passed.
    #[serde(default)]
    pub link_token_wanted: bool,
    /// When ABDM confirmed this profile itself (created or logged in with an OTP); a profile
    /// typed or scanned at the desk is confirmed by its linking token instead.
    #[serde(default)]
    pub confirmed_by_abdm_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Record for AbhaProfile {
    const KIND: u8 = kind::ABHA;
    fn id(&self) -> Id {
        Id::blind(&self.abha_number)
    }
}
