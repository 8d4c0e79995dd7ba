//! Consent notifications to the HIP: a granted artefact is kept with every field it grants; a
//! revoked or expired one is ended by id and never comes back to life.

use chrono::Utc;
use desk_store::{ArtefactStatus, HipArtefact, Id, Writer};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::hip::ConsentNotice;
use crate::gateway::{Call, Gateway};

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
            (ArtefactStatus::Granted, _, Some(old)) if old.status != ArtefactStatus::Granted => {
                w.audit(
                    "consent grant ignored: the artefact was ended before",
                    format!("{id} is {:?}", old.status),
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
                w.audit(
                    "consent notice for an artefact never granted here",
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
            "Acknowledge a consent notice".into(),
            None,
            None,
        )?;
        Ok(())
    }
}
