//! M2, the clinic as Health Information Provider: consultations become care contexts linked to
//! the patient's ABHA, patients find and link them from their PHR app, and records go to another
//! hospital only as a consent artefact allows.
//!
//! * `visit` — the consultation form, checked before it is saved;
//! * `consultations` — the clinic's own record of a visit (saved at once, offline too) and
//!   HIP-initiated linking (the linking token, `add-contexts`, the SMS to the patient);
//! * [`discovery`] — who a patient looking for records is (rules table-tested, never a guess);
//! * `linking` — patient-initiated linking with a real OTP (hashed at rest, expiry, attempts);
//! * `consent` — artefacts received, kept durably, ended by id;
//! * `data_flow` — a data request checked against its artefact, then pushed page by page by an
//!   outbox job built at send time (`push`; `bundles` writes the FHIR documents).
//!
//! Invariants: no byte of health data leaves unless the artefact is known, granted, unexpired and
//! names the care context, the HI type and the date; each page is sealed with a fresh key and
//! nonce (one entry per page), so no key and nonce pair ever encrypts two entries; the OTP of a
//! link is never stored in clear.

mod bundles;
mod consent;
mod consultations;
mod data_flow;
pub mod discovery;
mod linking;
pub mod names;
mod push;
mod visit;

use desk_store::{Consultation, Id, LinkState, Secret, Writer};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) use consultations::{visit_label, LINK_TOKEN_GUARD};
pub use data_flow::check_request;
pub(crate) use push::progress_key;
pub use visit::{NewConsultation, NewPrescriptionLine, MAX_ATTACHMENT_BYTES};

use crate::desk::Desk;
use crate::engine::outbox::finish;
use crate::engine::{OutboxState, Pending};
use crate::error::{DeskError, Result};
use crate::gateway::{Answer, Gateway, Incoming};

/// The HIP steps a callback continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// `links/link/add-contexts` for these consultations.
    LinkContexts {
        /// The patient.
        patient_id: Uuid,
        /// The consultations sent.
        consultations: Vec<Uuid>,
    },
    /// `patients/sms/notify`.
    SmsNotify,
    /// v3 `link/context/notify`: a linked context announced.
    ContextNotify,
}

/// HIP work built when it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// Pushes a transfer's pages (resumes where it stopped).
    Transfer {
        /// The transfer's transaction.
        transaction_id: Uuid,
    },
    /// A text message through the clinic's SMS provider (the link OTP).
    Sms {
        /// 10 digits.
        to: String,
        /// The message (holds an OTP: scrubbed once sent).
        text: Secret,
    },
}

/// An error answer in ABDM's terms.
pub(crate) fn refusal(code: &str, message: impl Into<String>) -> crate::gateway::hip::Refusal {
    crate::gateway::hip::Refusal {
        code: code.into(),
        message: message.into(),
    }
}

fn done() -> OutboxState {
    OutboxState::Done {
        at: chrono::Utc::now(),
    }
}

/// Sets the link state of consultations.
fn set_link_state(w: &mut Writer<'_>, ids: &[Uuid], state: &LinkState) -> Result<()> {
    for id in ids {
        if let Some(mut c) = w.get::<Consultation>(&Id::uuid(*id))? {
            c.link = state.clone();
            w.put(&c);
        }
    }
    Ok(())
}

impl<G: Gateway> Desk<G> {
    /// Continues a HIP flow with ABDM's answer.
    pub(crate) fn hip_answer(
        &self,
        w: &mut Writer<'_>,
        pending: &Pending,
        step: Step,
        answer: Answer,
    ) -> Result<()> {
        match (step, answer) {
            (
                Step::LinkContexts {
                    patient_id,
                    consultations,
                },
                Answer::ContextsLinked,
            ) => {
                finish(w, pending, done())?;
                self.contexts_linked(w, patient_id, &consultations)
            }
            (Step::SmsNotify | Step::ContextNotify, Answer::Acknowledged) => {
                finish(w, pending, done())
            }
            (step, answer) => Err(DeskError::Input(format!(
                "an answer that does not fit its request ({answer:?} for {step:?})"
            ))),
        }
    }

    /// ABDM refused a HIP call: what it was for is marked failed, with ABDM's reason.
    pub(crate) fn hip_refused(&self, w: &mut Writer<'_>, step: &Step, reason: &str) -> Result<()> {
        if let Step::LinkContexts { consultations, .. } = step {
            set_link_state(
                w,
                consultations,
                &LinkState::Failed {
                    reason: reason.into(),
                },
            )?;
        }
        Ok(())
    }

    /// Answers a request ABDM makes of the clinic as HIP.
    pub(crate) fn hip_request(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        request: Incoming,
    ) -> Result<()> {
        match request {
            Incoming::Discover(q) => self.on_discover(w, request_id, q),
            Incoming::LinkInit(r) => self.on_link_init(w, request_id, r),
            Incoming::LinkConfirm(r) => self.on_link_confirm(w, request_id, r),
            Incoming::Consent(n) => self.on_consent(w, request_id, n),
            Incoming::HealthInformation(r) => self.on_hi_request(w, request_id, r),
            other => Err(DeskError::Input(format!(
                "{other:?} is not a request for the clinic as HIP"
            ))),
        }
    }

    /// The clinic's name as patients see it.
    pub(crate) fn clinic_name(&self) -> Result<String> {
        Ok(self
            .facility()?
            .map(|f| f.name)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.config.service_id.clone()))
    }

    /// Runs a HIP job (outside any store write).
    pub(crate) async fn run_hip_job(&self, job: &Job) -> std::result::Result<(), abdm::AbdmError> {
        match job {
            Job::Transfer { transaction_id } => self.run_transfer(*transaction_id).await,
            Job::Sms { to, text } => self.send_sms(to, text).await,
        }
    }

    /// A HIP job failed for good: a transfer is stopped and ABDM told why.
    pub(crate) fn hip_job_failed(&self, w: &mut Writer<'_>, job: &Job, reason: &str) -> Result<()> {
        match job {
            Job::Transfer { transaction_id } => self.fail_transfer(w, *transaction_id, reason),
            Job::Sms { .. } => Ok(()),
        }
    }
}
