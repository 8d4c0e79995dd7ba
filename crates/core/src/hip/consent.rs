//! Consent notifications to the HIP: a granted artefact is kept with every field it grants; a
//! revoked or expired one is ended by id and never comes back to life.

use chrono::Utc;
use desk_store::{ArtefactStatus, HipArtefact, Id, Writer};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::hip::ConsentNotice;
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

impl<G: Gateway> Desk<G> {
    /// `consents/hip/notify`: store or end the artefact, then acknowledge.
    pub(crate) fn on_consent(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        notice: ConsentNotice,
    ) -> Result<()> {
        let id = notice.consent_id;
        let known = w.get::<HipArtefact>(&Id::uuid(id))?;
        match (notice.status, notice.grant, known) {
            (ArtefactStatus::Granted, _, Some(old)) => {
                // Granted once is granted as it was: a repeat cannot widen it or reset its
                // frequency count, and an ended artefact never comes back.
                w.audit(
                    "repeated consent grant ignored",
                    format!("{id} is {:?}", old.status),
                    None,
                )?;
            }
            (ArtefactStatus::Granted, Some(g), None)
                if g.care_contexts.len() > crate::hiu::MAX_CARE_CONTEXTS =>
            {
                w.audit(
                    "consent grant refused: too many care contexts",
                    format!("{id} names {}", g.care_contexts.len()),
                    None,
                )?;
            }
            (ArtefactStatus::Granted, Some(g), _) => {
                let detail = format!(
                    "{id}: {} for {} ({}), {} care context(s), {}, records {} to {}, until {}",
                    g.hiu_id.as_deref().unwrap_or("a hospital"),
                    g.purpose,
                    g.requester.as_deref().unwrap_or("requester not named"),
                    g.care_contexts.len(),
                    g.hi_types.join(", "),
                    g.from.date_naive(),
                    g.to.date_naive(),
                    g.erase_at.format("%Y-%m-%d %H:%M UTC"),
                );
                w.put(&HipArtefact {
                    consent_id: id,
                    status: ArtefactStatus::Granted,
                    patient: g.patient.trim().to_lowercase(),
                    hiu_id: g.hiu_id,
                    requester: g.requester,
                    purpose: g.purpose,
                    care_contexts: g.care_contexts,
                    hi_types: g.hi_types,
                    from: g.from,
                    to: g.to,
                    erase_at: g.erase_at,
                    frequency: g.frequency,
                    signature: g.signature,
                    received_at: Utc::now(),
                    uses: vec![],
                });
                w.audit("consent granted", detail, None)?;
            }
            (ArtefactStatus::Granted, None, _) => {
                w.audit(
                    "consent grant without its detail ignored",
                    id.to_string(),
                    None,
                )?;
            }
            (status, _, Some(mut a)) => {
                a.status = status;
                w.put(&a);
                w.audit(
                    &format!("consent {}", format!("{status:?}").to_lowercase()),
                    format!("{id} ({}): nothing more will be sent under it", a.patient),
                    None,
                )?;
            }
            (status, _, None) => {
                // Kept as ended, so that a grant arriving later (reordered, redelivered) cannot
                // bring it to life.
                w.put(&HipArtefact {
                    consent_id: id,
                    status,
                    patient: String::new(),
                    hiu_id: None,
                    requester: None,
                    purpose: String::new(),
                    care_contexts: vec![],
                    hi_types: vec![],
                    from: Utc::now(),
                    to: Utc::now(),
                    erase_at: Utc::now(),
                    frequency: desk_store::Frequency {
                        unit: desk_store::FrequencyUnit::Hour,
                        value: 1,
                        repeats: 0,
                    },
                    signature: String::new(),
                    received_at: Utc::now(),
                    uses: vec![],
                });
                w.audit(
                    "consent ended before its grant came",
                    format!("{id} is {status:?}"),
                    None,
                )?;
            }
        }
        self.enqueue(
            w,
            &Call::OnConsentNotify {
                answers: request_id,
                consent_id: id,
            },
            Label::new("consent-ack", &[]),
            None,
            None,
        )?;
        Ok(())
    }
}
