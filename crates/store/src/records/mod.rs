//! The records the store keeps for every part of the desk (pure data; the flows are desk-core's).

mod abha;
mod audit;
mod facility;
mod patient;
mod tokens;

pub use abha::{AbhaProfile, LinkingToken};
pub use audit::AuditEntry;
pub use facility::HealthFacility;
pub use patient::{Gender, Patient};
pub use tokens::TokenDay;
