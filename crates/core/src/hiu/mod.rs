//! M3, the clinic as Health Information User: the doctor asks for a patient's records from other
//! hospitals, the patient approves on their phone, the records arrive encrypted, the doctor reads
//! them — until the consent ends, when they become unreadable.
//!
//! * `consent_requests` — asking, the consent manager's notices, artefacts fetched (what was
//!   granted, not what was asked);
//! * `data_requests` — a fresh key pair and push path per request;
//! * `receive` — pages kept as ciphertext until all are here, then checked, decrypted and stored
//!   by a job (nothing slow inside a store write); a failed transfer stores nothing;
//! * `records` — each consent's own key (in the keyring) seals its records; views for the doctor;
//! * `archive` — at `dataEraseAt`, or on EXPIRED/REVOKED, the key is deleted, then the records.
//!
//! Invariants: our private key for a request lives only in its sealed record; a record is never
//! stored unless its whole transfer verified (checksum and GCM tag of every entry); once archived,
//! no key exists to read what may linger on disk.

mod archive;
mod ask;
mod consent_requests;
mod data_requests;
mod receive;
mod records;

use desk_store::{ConsentRequest, Id, RequestStatus, Writer};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use ask::{NewConsentRequest, HI_TYPES, MAX_CARE_CONTEXTS, PURPOSES};

use crate::desk::Desk;
use crate::engine::outbox::finish;
use crate::engine::{OutboxState, Pending};
use crate::error::{DeskError, Result};
use crate::gateway::{Answer, Gateway, Incoming};

/// The HIU steps a callback continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// `consent-requests/init` for our request.
    ConsentInit {
        /// Our consent request.
        request: Uuid,
    },
    /// `consent-requests/status`.
    ConsentStatus {
        /// Our consent request.
        request: Uuid,
    },
    /// `consents/fetch`.
    Fetch {
        /// The artefact.
        consent_id: Uuid,
    },
    /// `health-information/cm/request`.
    DataRequest {
        /// Our data request.
        request: Uuid,
    },
}

/// HIU work built when it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// Opens the request's push path at the relay, then queues the data request.
    OpenPushPath {
        /// Our data request.
        request: Uuid,
    },
    /// Checks, decrypts and stores a complete push.
    Receive {
        /// Our data request.
        request: Uuid,
    },
    /// Closes a push path at the relay.
    ClosePushPath {
        /// The path's token (kept only here once the request is over).
        token: desk_store::Secret,
    },
}

fn done() -> OutboxState {
    OutboxState::Done {
        at: chrono::Utc::now(),
    }
}

fn set_status(w: &mut Writer<'_>, request: Uuid, status: RequestStatus) -> Result<()> {
    if let Some(mut r) = w.get::<ConsentRequest>(&Id::uuid(request))? {
        r.status = status;
        r.updated_at = chrono::Utc::now();
        w.put(&r);
    }
    Ok(())
}

impl<G: Gateway> Desk<G> {
    /// Continues a HIU flow with ABDM's answer.
    pub(crate) fn hiu_answer(
        &self,
        w: &mut Writer<'_>,
        pending: &Pending,
        step: Step,
        answer: Answer,
    ) -> Result<()> {
        finish(w, pending, done())?;
        match (step, answer) {
            (Step::ConsentInit { request }, Answer::ConsentRequested { consent_request_id }) => {
                self.consent_requested(w, request, consent_request_id)
            }
            (Step::ConsentStatus { request }, Answer::ConsentRequestState(notice)) => {
                self.consent_state(w, Some(request), notice)
            }
            (Step::Fetch { consent_id }, Answer::Artefact(a)) => {
                self.artefact_fetched(w, consent_id, *a)
            }
            (Step::DataRequest { request }, Answer::DataRequested { transaction_id }) => {
                self.data_requested(w, request, transaction_id)
            }
            (step, answer) => Err(DeskError::Input(format!(
                "an answer that does not fit its request ({answer:?} for {step:?})"
            ))),
        }
    }

    /// ABDM refused a HIU call: what it was for is marked failed, with ABDM's reason.
    pub(crate) fn hiu_refused(&self, w: &mut Writer<'_>, step: &Step, reason: &str) -> Result<()> {
        match step {
            Step::ConsentInit { request } => set_status(
                w,
                *request,
                RequestStatus::Failed {
                    reason: reason.into(),
                },
            ),
            Step::DataRequest { request } => self.data_request_failed(w, *request, reason),
            Step::ConsentStatus { .. } | Step::Fetch { .. } => Ok(()),
        }
    }

    /// Applies what ABDM tells the clinic as HIU.
    pub(crate) fn hiu_request(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        request: Incoming,
    ) -> Result<()> {
        match request {
            Incoming::HiuConsent(notice) => self.on_hiu_consent(w, request_id, notice),
            Incoming::DataPushed(push) => self.on_data_pushed(w, *push),
            other => Err(DeskError::Input(format!(
                "{other:?} is not a message for the clinic as HIU"
            ))),
        }
    }

    /// Runs a HIU job (outside any store write).
    pub(crate) async fn run_hiu_job(&self, job: &Job) -> std::result::Result<(), abdm::AbdmError> {
        match job {
            Job::OpenPushPath { request } => self.open_push_path(*request).await,
            Job::Receive { request } => self.receive(*request).await,
            Job::ClosePushPath { token } => self.close_push_path(token).await,
        }
    }

    /// A HIU job failed for good.
    pub(crate) fn hiu_job_failed(&self, w: &mut Writer<'_>, job: &Job, reason: &str) -> Result<()> {
        match job {
            Job::OpenPushPath { request } | Job::Receive { request } => {
                self.data_request_failed(w, *request, reason)
            }
            Job::ClosePushPath { .. } => Ok(()),
        }
    }
}
