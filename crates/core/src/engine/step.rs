//! Typed continuations: what a callback continues, stored with its request (never ad-hoc JSON),
//! and jobs built at send time.

use chrono::{DateTime, Utc};
use desk_store::{kind, Id, Record, Writer};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The flow step a pending request continues, by room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// M1: identity.
    Identity(crate::identity::Step),
    /// M2: the clinic as HIP.
    Hip(crate::hip::Step),
    /// M3: the clinic as HIU.
    Hiu(crate::hiu::Step),
}

/// Outbox work built at send time rather than stored as a body, by room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// M2: the clinic as HIP.
    Hip(crate::hip::Job),
    /// M3: the clinic as HIU.
    Hiu(crate::hiu::Job),
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

/// A job's own store failing, in the outbox's terms (not retried: the item fails with the words).
pub(crate) fn store_error(e: impl std::fmt::Display) -> abdm::AbdmError {
    abdm::AbdmError::Unexpected {
        what: "the clinic's records".into(),
        detail: e.to_string(),
    }
}

impl<G: crate::gateway::Gateway> crate::desk::Desk<G> {
    /// Runs a job: builds what it sends, now (outside any store write).
    pub(crate) async fn run_job(&self, job: &Job) -> std::result::Result<(), abdm::AbdmError> {
        match job {
            Job::Hip(job) => self.run_hip_job(job).await,
            Job::Hiu(job) => self.run_hiu_job(job).await,
        }
    }

    /// A job given up on: its room stops what it was doing and says why.
    pub(crate) fn job_failed(
        &self,
        w: &mut Writer<'_>,
        work: &super::Work,
        reason: &str,
    ) -> crate::error::Result<()> {
        match work {
            super::Work::Job(Job::Hip(job)) => self.hip_job_failed(w, job, reason),
            super::Work::Job(Job::Hiu(job)) => self.hiu_job_failed(w, job, reason),
            _ => Ok(()),
        }
    }
}
