//! Archiving: when a consent ends — `dataEraseAt` passes, or the patient revokes it, or it expires
//! — its key is deleted from the keyring first (from then on nothing of it can be read, whatever
//! the disk still holds), then its records and any pages on their way. Checked when the desk
//! starts and on every timer tick, so it happens while the clinic is offline too.

use chrono::Utc;
use desk_store::{
    Archived, ArtefactStatus, DataRequest, DataRequestState, HealthRecord, HiuArtefact, Id,
    RecordBody, Writer,
};
use uuid::Uuid;

use super::records::key_name;
use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::Gateway;

impl<G: Gateway> Desk<G> {
    /// Archives every artefact whose time is up. Returns how many.
    pub fn archive_due(&self) -> Result<usize> {
        let now = Utc::now();
        let due: Vec<(Uuid, &str)> = self
            .store
            .all::<HiuArtefact>()?
            .into_iter()
            .filter(|a| a.archived.is_none())
            .filter_map(|a| {
                let why = match a.status {
                    ArtefactStatus::Revoked => "the patient revoked the consent",
                    ArtefactStatus::Expired => "the consent expired",
                    ArtefactStatus::Denied => "the consent was denied",
                    ArtefactStatus::Granted if a.erase_at <= now => {
                        "the consent's time to erase (dataEraseAt) came"
                    }
                    ArtefactStatus::Granted => return None,
                };
                Some((a.consent_id, why))
            })
            .collect();
        for (id, why) in &due {
            // One that fails (a locked keyring) does not hold back the others.
            if let Err(e) = self.store.write(|w| self.archive_in(w, *id, why)) {
                tracing::error!(consent = %id, error = %e, "cannot archive");
            }
        }
        // A key the keyring refused to delete before is tried again.
        for a in self.store.all::<HiuArtefact>()? {
            if a.archived.is_some() && self.consent_key(a.consent_id).ok().flatten().is_some() {
                let _ = self.secrets.delete(&key_name(a.consent_id));
            }
        }
        Ok(due.len())
    }

    /// Makes an artefact's records unreadable: key first, then the records and pending pages.
    pub(crate) fn archive_in(
        &self,
        w: &mut Writer<'_>,
        consent_id: Uuid,
        reason: &str,
    ) -> Result<()> {
        // The keyring is outside the store's write: deleting first means a crash after this
        // point leaves records no one can read, and the next tick finishes the job.
        let key_gone = match self.secrets.delete(&key_name(consent_id)) {
            Ok(()) => String::new(),
            Err(e) => {
                format!("; the keyring refused to delete its key ({e}): the records were removed")
            }
        };
        let Some(mut a) = w.get::<HiuArtefact>(&Id::uuid(consent_id))? else {
            // Ended before it was fetched: remembered, so a late fetch answer keeps it ended.
            w.put_index(
                desk_store::kind::HIU_INDEX,
                &Id::text(&format!("ended:{consent_id}")),
                reason.as_bytes(),
            );
            return Ok(());
        };
        if a.archived.is_some() {
            return Ok(());
        }
        if reason.contains("revoked") {
            a.status = ArtefactStatus::Revoked;
        } else if reason.contains("expired") {
            a.status = ArtefactStatus::Expired;
        }
        let mut removed = 0;
        for r in w.all::<HealthRecord>()? {
            if r.consent_id == consent_id {
                w.delete::<HealthRecord>(&Id::uuid(r.id))?;
                w.delete::<RecordBody>(&Id::uuid(r.id))?;
                removed += 1;
            }
        }
        for r in w.all::<DataRequest>()? {
            if r.consent_id == consent_id
                && !matches!(
                    r.state,
                    DataRequestState::Done { .. } | DataRequestState::Failed { .. }
                )
            {
                self.data_request_failed(w, r.id, reason)?;
            }
        }
        a.archived = Some(Archived {
            reason: reason.into(),
            at: Utc::now(),
        });
        w.put(&a);
        w.audit(
            "received records archived",
            format!(
                "consent {consent_id}: {reason}; {removed} record(s) made unreadable{key_gone}"
            ),
            Some(a.patient_id),
        )?;
        Ok(())
    }
}
