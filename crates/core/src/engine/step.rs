//! Typed continuations: what a callback continues, stored with its request (never ad-hoc JSON),
//! and jobs built at send time.

use chrono::{DateTime, Utc};
use desk_store::{kind, Id, Record};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The flow step a pending request continues, by room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// M1: identity.
    Identity(crate::identity::Step),
    /// M2: the clinic as HIP.
    Hip(crate::hip::Step),
}

/// Outbox work built at send time rather than stored as a body, by room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// M2: the clinic as HIP.
    Hip(crate::hip::Job),
}

/// An ABDM request waiting for its callback, by request id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The request id ABDM's answer names.
    pub request_id: Uuid,
    /// What the answer continues.
    pub step: Step,
    /// The patient concerned.
    pub patient_id: Option<Uuid>,
    /// The outbox item that sends it.
    pub outbox_id: u64,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

impl Record for Pending {
    const KIND: u8 = kind::PENDING;
    fn id(&self) -> Id {
        Id::uuid(self.request_id)
    }
}
