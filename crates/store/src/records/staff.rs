use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::schema::kind;
use crate::{Id, Record};

/// What a staff member may do at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The reception desk: patients, tokens, ABHAs, printing.
    Reception,
    /// The reception desk, consultations and records from elsewhere.
    Doctor,
    /// The reception desk, the clinic settings and the staff list.
    Admin,
}

/// A person who signs in at the desk. The PIN is kept only as a slow salted hash (a PHC string);
/// `Debug` leaves it out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    /// The name they sign in with, as typed when added.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The PIN's hash (Argon2id, PHC string format).
    pub pin_hash: String,
    /// When they were added.
    pub added_at: DateTime<Utc>,
    /// Wrong PINs in a row since the last right one.
    #[serde(default)]
    pub failed_attempts: u32,
    /// No sign-in is tried before this (after too many wrong PINs).
    #[serde(default)]
    pub locked_until: Option<DateTime<Utc>>,
    /// A training desk's demo account (its PIN is printed in the README): it signs in only
    /// while the desk runs on the embedded sandbox.
    #[serde(default)]
    pub training: bool,
}

impl StaffMember {
    /// The key a name is found by: case and surrounding spaces do not matter.
    pub fn key(name: &str) -> Id {
        Id::blind(&name.trim().to_lowercase())
    }
}

impl std::fmt::Debug for StaffMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffMember")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Record for StaffMember {
    const KIND: u8 = kind::STAFF;
    fn id(&self) -> Id {
        Self::key(&self.name)
    }
}
