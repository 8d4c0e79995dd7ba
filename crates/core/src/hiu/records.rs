//! The records received, for the doctor: each consent has its own key in the keyring, which seals
//! its records (AES-256-GCM, bound to the consent and the record); opening one gives `abdm-fhir`'s
//! viewer model, and every opening is in the audit log.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use desk_store::zeroize::Zeroizing;
use desk_store::{HealthRecord, HiuArtefact, Id, RecordBody};
use rand::RngCore;
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{DeskError, Result};
use crate::gateway::Gateway;
use crate::view::{ReceivedConsentView, RecordRow, RecordView};

/// The keyring entry of a consent's key.
pub(crate) fn key_name(consent_id: Uuid) -> String {
    format!("hiu-consent-{consent_id}")
}

fn aad(consent_id: Uuid, record_id: Uuid) -> Vec<u8> {
    [consent_id.as_bytes().as_slice(), record_id.as_bytes()].concat()
}

/// Seals a record's bytes under its consent's key: base64(nonce ‖ ciphertext ‖ tag).
pub(crate) fn seal(key: &[u8; 32], consent_id: Uuid, record_id: Uuid, plain: &[u8]) -> String {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let aad = aad(consent_id, record_id);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .expect("AES-GCM seals any length we store");
    base64::engine::general_purpose::STANDARD.encode([nonce.as_slice(), &sealed].concat())
}

fn open(key: &[u8; 32], r: &HealthRecord, body: &RecordBody) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&body.sealed)
        .ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: &aad(r.consent_id, r.id),
            },
        )
        .ok()
}

impl<G: Gateway> Desk<G> {
    /// A consent's key, if it still exists.
    pub(crate) fn consent_key(&self, consent_id: Uuid) -> Result<Option<Zeroizing<[u8; 32]>>> {
        let key = self
            .secrets
            .get(&key_name(consent_id))
            .map_err(|e| DeskError::Input(format!("the keyring: {e}")))?;
        Ok(key.and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok().map(Zeroizing::new)))
    }

    /// Makes a consent's key (once).
    pub(crate) fn create_consent_key(&self, consent_id: Uuid) -> Result<()> {
        if self.consent_key(consent_id)?.is_some() {
            return Ok(());
        }
        let mut key = Zeroizing::new([0u8; 32]);
        rand::thread_rng().fill_bytes(key.as_mut());
        self.secrets
            .set(&key_name(consent_id), key.as_slice())
            .map_err(|e| DeskError::Input(format!("the keyring: {e}")))
    }

    /// What other hospitals sent for a patient, by consent (archived ones say why and when).
    pub fn received_records(&self, patient_id: Uuid) -> Result<Vec<ReceivedConsentView>> {
        let mut artefacts: Vec<HiuArtefact> = self
            .store
            .all::<HiuArtefact>()?
            .into_iter()
            .filter(|a| a.patient_id == patient_id)
            .collect();
        artefacts.sort_by_key(|a| std::cmp::Reverse(a.received_at));
        let records = self.store.all::<HealthRecord>()?;
        Ok(artefacts
            .iter()
            .map(|a| {
                let rows = records
                    .iter()
                    .filter(|r| r.consent_id == a.consent_id)
                    .map(RecordRow::of)
                    .collect();
                ReceivedConsentView::of(a, rows)
            })
            .collect())
    }

    /// One record, decrypted, as the doctor's screen shows it; the opening is audited.
    pub fn open_record(&self, record_id: Uuid, staff: Option<&str>) -> Result<RecordView> {
        let (record, bytes) = self.read_record(record_id)?;
        let bundle: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| DeskError::Input(format!("this record is not JSON: {e}")))?;
        let document = abdm_fhir::read(&bundle)
            .map_err(|e| DeskError::Input(format!("this record cannot be shown: {e}")))?;
        self.store.write(|w| {
            w.audit_by(
                "received record viewed",
                format!(
                    "{} ({}) from {}",
                    record.title, record.care_context, record.hip_id
                ),
                Some(record.patient_id),
                staff,
            )
        })?;
        Ok(RecordView {
            row: RecordRow::of(&record),
            document,
        })
    }

    /// A record's FHIR bundle, the bytes exactly as received (for export); audited.
    pub fn export_record(&self, record_id: Uuid, staff: Option<&str>) -> Result<Vec<u8>> {
        let (record, bytes) = self.read_record(record_id)?;
        self.store.write(|w| {
            w.audit_by(
                "received record exported",
                format!(
                    "{} ({}) from {}",
                    record.title, record.care_context, record.hip_id
                ),
                Some(record.patient_id),
                staff,
            )
        })?;
        Ok(bytes)
    }

    /// Opens a record, unless its consent has ended (then it is archived now, not shown).
    fn read_record(&self, record_id: Uuid) -> Result<(HealthRecord, Vec<u8>)> {
        let gone = || {
            DeskError::NotFound("this record's consent has ended: it can no longer be read".into())
        };
        let record = self
            .store
            .get::<HealthRecord>(&Id::uuid(record_id))?
            .ok_or_else(gone)?;
        let artefact = self
            .store
            .get::<HiuArtefact>(&Id::uuid(record.consent_id))?;
        if artefact.is_none_or(|a| a.archived.is_some() || a.erase_at <= chrono::Utc::now()) {
            self.archive_due()?;
            return Err(gone());
        }
        let key = self.consent_key(record.consent_id)?.ok_or_else(gone)?;
        let body = self
            .store
            .get::<RecordBody>(&Id::uuid(record_id))?
            .ok_or_else(gone)?;
        let plain = open(&key, &record, &body).ok_or_else(|| {
            DeskError::Input("this record does not open with its consent's key".into())
        })?;
        Ok((record, plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_record_opens_only_with_its_key_consent_and_id() {
        let key = [7u8; 32];
        let (consent, id) = (Uuid::new_v4(), Uuid::new_v4());
        let r = |consent_id, id| HealthRecord {
            id,
            consent_id,
            patient_id: Uuid::nil(),
            care_context: "cc".into(),
            hip_id: "hip".into(),
            transaction_id: Uuid::nil(),
            received_at: chrono::Utc::now(),
            title: "t".into(),
        };
        let sealed = RecordBody {
            id,
            sealed: seal(&key, consent, id, b"{\"resourceType\":\"Bundle\"}"),
        };
        assert_eq!(
            open(&key, &r(consent, id), &sealed).unwrap(),
            b"{\"resourceType\":\"Bundle\"}"
        );
        assert!(open(&[8u8; 32], &r(consent, id), &sealed).is_none());
        assert!(open(&key, &r(Uuid::new_v4(), id), &sealed).is_none());
        assert!(open(&key, &r(consent, Uuid::new_v4()), &sealed).is_none());
    }
}
