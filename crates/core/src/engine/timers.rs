//! What happens with time: requests ABDM never answered fail in plain words (counted from when
//! they were sent), and linking tokens are forgotten once they expire.

use chrono::Utc;
use desk_store::{AbhaProfile, Id};

use crate::desk::Desk;
use crate::engine::outbox::{finish, OutboxItem, OutboxState};
use crate::engine::step::Pending;
use crate::error::Result;
use crate::gateway::Gateway;

impl<G: Gateway> Desk<G> {
    /// Fails requests whose answer did not come within the answer timeout of their send; a late
    /// answer is then logged and ignored. Returns how many gave up.
    pub fn expire_unanswered(&self) -> Result<usize> {
        let timeout =
            chrono::Duration::from_std(self.config.answer_timeout).unwrap_or(chrono::Duration::MAX);
        let now = Utc::now();
        let mut expired = 0;
        for pending in self.store.all::<Pending>()? {
            let Some(item) = self
                .store
                .get::<OutboxItem>(&Id::number(pending.outbox_id))?
            else {
                continue;
            };
            // Only requests that were sent: a queued one waits for the network, not for ABDM.
            let Some(sent) = item.sent_at else { continue };
            if !matches!(item.state, OutboxState::WaitingForAbdm { .. }) || now - sent < timeout {
                continue;
            }
            let minutes = self.config.answer_timeout.as_secs().div_ceil(60);
            let reason =
                format!("ABDM did not answer within {minutes} minutes; start this step again");
            self.store.write(|w| -> Result<()> {
                // The answer may have been applied since the look above.
                let still = w.get::<Pending>(&Id::uuid(pending.request_id))?.is_some()
                    && w.get::<OutboxItem>(&Id::number(pending.outbox_id))?
                        .is_some_and(|i| matches!(i.state, OutboxState::WaitingForAbdm { .. }));
                if !still {
                    return Ok(());
                }
                finish(
                    w,
                    &pending,
                    OutboxState::Failed {
                        reason: reason.clone(),
                        at: now,
                    },
                )?;
                self.refused(w, &pending.step, &reason)?;
                w.audit("ABDM did not answer", reason.clone(), pending.patient_id)?;
                Ok(())
            })?;
            expired += 1;
        }
        Ok(expired)
    }

    /// Forgets expired linking tokens.
    pub fn drop_expired_tokens(&self) -> Result<usize> {
        let now = Utc::now();
        let stale: Vec<AbhaProfile> = self
            .store
            .all::<AbhaProfile>()?
            .into_iter()
            .filter(|p| {
                p.linking_token
                    .as_ref()
                    .is_some_and(|t| t.expires_at <= now)
            })
            .collect();
        for mut profile in stale.iter().cloned() {
            self.store.write(|w| -> Result<()> {
                profile.linking_token = None;
                w.put(&profile);
                w.audit(
                    "linking token expired and removed",
                    profile.abha_number.clone(),
                    profile.patient_id,
                )?;
                Ok(())
            })?;
        }
        Ok(stale.len())
    }

    /// v3: visits waiting for a linking token that ABDM's repeat guard held back (or refused
    /// with `ABDM-1092`) are linked once it has passed: a token is asked for again, once. Any
    /// other refusal waits for the clinic to fix what ABDM said. Returns how many were retried.
    pub fn ask_again_for_link_tokens(&self) -> Result<usize> {
        let guard = crate::hip::LINK_TOKEN_GUARD;
        let now = Utc::now();
        let due: Vec<AbhaProfile> = self
            .store
            .all::<AbhaProfile>()?
            .into_iter()
            .filter(|p| p.linking_token.is_none() && p.patient_id.is_some() && p.link_token_wanted)
            .filter(|p| p.link_token_asked_at.is_some_and(|at| now - at >= guard))
            .collect();
        let mut retried = 0;
        for profile in due {
            let patient_id = profile.patient_id.expect("filtered above");
            let waiting = self
                .store
                .all::<desk_store::Consultation>()?
                .iter()
                .any(|c| c.patient_id == patient_id && c.link == desk_store::LinkState::Queued);
            if !waiting {
                continue;
            }
            self.store.write(|w| self.link_waiting(w, patient_id))?;
            retried += 1;
        }
        if retried > 0 {
            self.wake_outbox();
        }
        Ok(retried)
    }

    /// One round of every timer.
    pub(crate) fn tick(&self) {
        if let Err(e) = self.expire_unanswered() {
            tracing::error!(error = %e, "cannot check for unanswered requests");
        }
        if let Err(e) = self.drop_expired_tokens() {
            tracing::error!(error = %e, "cannot drop expired linking tokens");
        }
        if let Err(e) = self.ask_again_for_link_tokens() {
            tracing::error!(error = %e, "cannot ask again for linking tokens");
        }
        if let Err(e) = self.archive_due() {
            tracing::error!(error = %e, "cannot archive records whose consent ended");
        }
        if let Err(e) = self.expire_stalled_transfers() {
            tracing::error!(error = %e, "cannot check transfers in progress");
        }
    }
}
