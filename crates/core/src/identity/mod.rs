//! M1, identity: patients and their ABHAs at the reception desk — registration (offline too),
//! ABHA creation with Aadhaar OTP, linking an existing ABHA, scan and pull (the ABHA card held
//! to the webcam), scan and share (the patient scans the counter QR), the facility and the bridge.

mod abha;
mod connection;
mod facility;
mod patients;
mod scan;

use desk_store::{AbhaProfile, Id, LinkingToken, Patient, Secret, Writer};
use serde::{Deserialize, Serialize};

pub use connection::{Check, CheckStep, CheckWaits};
pub use patients::NewPatient;

use crate::desk::Desk;
use crate::engine::outbox::finish;
use crate::engine::{OutboxState, Pending};
use crate::error::{DeskError, Result};
use crate::gateway::{Answer, AuthMode, Call, Gateway};
use crate::labels::Label;

/// The clinic's local date: tokens and queues are per day as the clinic counts days.
pub(crate) fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

/// The identity steps a callback continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    /// Scan and pull, 1: which modes the ABHA allows.
    PullModes {
        /// What ABDM is asked about (address, or number).
        abha: String,
        /// The ABHA number, dashed.
        number: String,
    },
    /// 2: demographic authentication started.
    PullInit {
        /// As above.
        abha: String,
        /// As above.
        number: String,
    },
    /// 2 (when the card cannot be used): an OTP went to the ABHA's mobile; the desk waits for
    /// the receptionist to type it.
    TokenOtp {
        /// As above.
        abha: String,
        /// As above.
        number: String,
    },
    /// 3: confirmed; the linking token comes.
    PullConfirm {
        /// As above.
        abha: String,
        /// As above.
        number: String,
    },
    /// The connection test's question: any answer proves the way back through the relay.
    ConnectionProbe,
}

fn done() -> OutboxState {
    OutboxState::Done {
        at: chrono::Utc::now(),
    }
}

/// When a linking token expires: its own `exp` claim (read, not verified: ABDM verifies it), or a
/// day when it has none.
pub(crate) fn token_expiry(token: &str) -> chrono::DateTime<chrono::Utc> {
    use base64::Engine;
    let exp = token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["exp"].as_i64())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
    exp.unwrap_or_else(|| chrono::Utc::now() + chrono::Duration::days(1))
}

impl<G: Gateway> Desk<G> {
    /// What some of ABDM's refusals mean for a patient's linking token: `ABDM-1092` (asked again
    /// too soon) is asked once more after the guard; a token ABDM no longer takes
    /// (`ABDM-1026` invalid, `1038`/`1062`/`1063` not this patient's or HIP's) is dropped, so the
    /// next link asks for a new one instead of failing with it for months.
    pub(crate) fn refused_with_code(
        &self,
        w: &mut Writer<'_>,
        step: &crate::engine::Step,
        code: &str,
    ) -> Result<()> {
        use crate::engine::Step as S;
        let number = match step {
            S::Identity(Step::PullConfirm { number, .. }) if code == "ABDM-1092" => {
                if let Some(mut profile) = w.get::<AbhaProfile>(&Id::blind(number))? {
                    profile.link_token_wanted = true;
                    w.put(&profile);
                }
                return Ok(());
            }
            S::Hip(crate::hip::Step::LinkContexts { patient_id, .. })
                if matches!(code, "ABDM-1026" | "ABDM-1038" | "ABDM-1062" | "ABDM-1063") =>
            {
                w.get::<Patient>(&Id::uuid(*patient_id))?
                    .and_then(|p| p.abha_number)
            }
            _ => None,
        };
        if let Some(mut profile) = number
            .map(|n| w.get::<AbhaProfile>(&Id::blind(&n)))
            .transpose()?
            .flatten()
        {
            profile.linking_token = None;
            w.put(&profile);
            w.audit(
                "linking token dropped: ABDM no longer takes it",
                code.to_string(),
                profile.patient_id,
            )?;
        }
        Ok(())
    }

    /// Continues an identity flow with ABDM's answer.
    pub(crate) fn identity_answer(
        &self,
        w: &mut Writer<'_>,
        pending: &Pending,
        step: Step,
        answer: Answer,
    ) -> Result<()> {
        match (step, answer) {
            (Step::PullModes { abha, number }, Answer::AuthModes(modes)) => {
                finish(w, pending, done())?;
                if !modes.contains(&AuthMode::Demographics) {
                    if modes.contains(&AuthMode::MobileOtp) {
                        return self.linking_token_by_otp(w, pending.patient_id, abha, number);
                    }
                    w.audit(
                        "this ABHA allows no verification the desk can do; records cannot be linked",
                        number,
                        pending.patient_id,
                    )?;
                    return Ok(());
                }
                let name = self.patient_name(w, pending)?;
                self.enqueue(
                    w,
                    &Call::AuthInit {
                        abha: abha.clone(),
                        mode: AuthMode::Demographics,
                    },
                    Label::new("verify-abha-start", &[&name]),
                    pending.patient_id,
                    Some(crate::engine::Step::Identity(Step::PullInit {
                        abha,
                        number,
                    })),
                )?;
            }
            (Step::PullInit { abha, number }, Answer::AuthStarted { transaction_id }) => {
                finish(w, pending, done())?;
                let patient = pending
                    .patient_id
                    .map(|id| w.get::<Patient>(&Id::uuid(id)))
                    .transpose()?
                    .flatten()
                    .ok_or_else(|| {
                        DeskError::NotFound("the patient of this request is gone".into())
                    })?;
                self.enqueue(
                    w,
                    &Call::ConfirmDemographics {
                        transaction_id,
                        name: patient.name.clone(),
                        gender: patient.gender,
                        date_of_birth: patient.date_of_birth(),
                    },
                    Label::new("verify-abha-confirm", &[&patient.name]),
                    Some(patient.id),
                    Some(crate::engine::Step::Identity(Step::PullConfirm {
                        abha,
                        number,
                    })),
                )?;
            }
            (Step::TokenOtp { number, .. }, Answer::AuthStarted { transaction_id }) => {
                finish(w, pending, done())?;
                if let Some(mut profile) = w.get::<AbhaProfile>(&Id::blind(&number))? {
                    profile.token_otp_txn = Some(transaction_id);
                    w.put(&profile);
                }
                w.audit(
                    "ABDM sent an OTP to the ABHA's mobile: type it to link the patient's records",
                    number,
                    pending.patient_id,
                )?;
            }
            (Step::PullConfirm { number, .. }, Answer::AuthConfirmed { link_token }) => {
                finish(w, pending, done())?;
                if let Some(mut profile) = w.get::<AbhaProfile>(&Id::blind(&number))? {
                    profile.linking_token = link_token.map(|t| LinkingToken {
                        expires_at: token_expiry(t.expose()),
                        token: Secret::new(t.expose()),
                    });
                    profile.updated_at = Some(chrono::Utc::now());
                    w.put(&profile);
                }
                w.audit(
                    "ABHA verified with ABDM; linking token received",
                    number,
                    pending.patient_id,
                )?;
                if let Some(patient_id) = pending.patient_id {
                    self.link_waiting(w, patient_id)?;
                }
            }
            (step, answer) => {
                return Err(DeskError::Input(format!(
                    "an answer that does not fit its request ({answer:?} for {step:?})"
                )))
            }
        }
        Ok(())
    }

    fn patient_name(&self, w: &Writer<'_>, pending: &Pending) -> Result<String> {
        Ok(pending
            .patient_id
            .map(|id| w.get::<Patient>(&Id::uuid(id)))
            .transpose()?
            .flatten()
            .map(|p| p.name)
            .unwrap_or_default())
    }
}
