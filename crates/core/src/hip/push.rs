//! The push: an outbox job that builds each page when it is sent — the item's FHIR document,
//! sealed with a Fidelius key and nonce of its own (one entry per page, so no key and nonce pair
//! ever encrypts two entries) — checks the artefact again before every page, and saves its
//! progress as it goes so that a crash resumes where it stopped.

use std::time::Instant;

use abdm::AbdmError;
use abdm_fhir::write::DocumentType;
use chrono::Utc;
use desk_store::{Consultation, HipArtefact, Id, Patient, Transfer, TransferState};
use md5::{Digest, Md5};
use uuid::Uuid;

use super::bundles::{clinic_record, seed};
use super::data_flow::{statuses, still_granted, store_error};
use super::refusal;
use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::hip::{DataEntry, DataPage, TransferReport};
use crate::gateway::{Call, Gateway};

/// Progress is saved at least every this many pages (a crash re-sends at most these; the HIU
/// keeps one copy per page number).
const SAVE_EVERY_PAGES: usize = 16;
/// … and at least this often.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

impl<G: Gateway> Desk<G> {
    /// Pushes a transfer's remaining pages (see the module documentation).
    pub(crate) async fn run_transfer(&self, txn: Uuid) -> std::result::Result<(), AbdmError> {
        let Some(t) = self
            .store
            .get::<Transfer>(&Id::uuid(txn))
            .map_err(store_error)?
        else {
            return Ok(());
        };
        if t.state != TransferState::Sending {
            return Ok(());
        }
        let key = fidelius::PublicKey::parse(&t.hiu_public_key);
        let nonce = fidelius::Nonce::parse(&t.hiu_nonce);
        let (Ok(key), Ok(nonce)) = (key, nonce) else {
            return self.stop_transfer(txn, "The HIU's key cannot be read");
        };
        let facility = self.facility().map_err(store_error)?;
        let mut sent = t.sent;
        let mut saved = (sent, Instant::now());
        while sent < t.items.len() {
            let artefact = self
                .store
                .get::<HipArtefact>(&Id::uuid(t.consent_id))
                .map_err(store_error)?;
            let now = Utc::now();
            let allowed = match &artefact {
                None => Err(refusal("HIP-2001", "The consent artefact is gone")),
                Some(a) => still_granted(a, now),
            }
            .and_then(|()| {
                if t.key_expiry <= now {
                    Err(refusal(
                        "HIP-2006",
                        "The HIU's key expired during the transfer",
                    ))
                } else {
                    Ok(())
                }
            });
            if let Err(stop) = allowed {
                self.save_progress(txn, sent)?;
                return self.stop_transfer(txn, &stop.message);
            }
            let page = self.page(&t, sent, &key, &nonce, facility.as_ref())?;
            if let Err(e) = self.gateway.push_page(&t.data_push_url, &page).await {
                self.save_progress(txn, sent)?;
                return Err(e);
            }
            sent += 1;
            if sent - saved.0 >= SAVE_EVERY_PAGES || saved.1.elapsed() >= SAVE_EVERY {
                self.save_progress(txn, sent)?;
                saved = (sent, Instant::now());
            }
        }
        self.store
            .write(|w| -> Result<()> {
                let Some(mut t) = w.get::<Transfer>(&Id::uuid(txn))? else {
                    return Ok(());
                };
                t.sent = sent;
                t.state = TransferState::Done { at: Utc::now() };
                w.put(&t);
                let report = TransferReport {
                    consent_id: t.consent_id,
                    transaction_id: txn,
                    transferred: true,
                    statuses: statuses(&t, None),
                };
                w.audit(
                    "records sent",
                    format!(
                        "{} document(s) of {} care context(s) under consent {}",
                        t.items.len(),
                        report.statuses.len(),
                        t.consent_id
                    ),
                    None,
                )?;
                self.enqueue(
                    w,
                    &Call::HiTransferred(report),
                    "Tell ABDM the records were sent".into(),
                    None,
                    None,
                )?;
                Ok(())
            })
            .map_err(store_error)?;
        self.wake_outbox();
        Ok(())
    }

    /// One page: the item's document, sealed with a key and nonce of its own.
    fn page(
        &self,
        t: &Transfer,
        index: usize,
        hiu_key: &fidelius::PublicKey,
        hiu_nonce: &fidelius::Nonce,
        facility: Option<&desk_store::HealthFacility>,
    ) -> std::result::Result<DataPage, AbdmError> {
        let (cc, hi_type) = &t.items[index];
        let consultation = Uuid::parse_str(cc)
            .ok()
            .map(|id| self.store.get::<Consultation>(&Id::uuid(id)))
            .transpose()
            .map_err(store_error)?
            .flatten()
            .ok_or_else(|| store_error(format!("care context {cc} is gone")))?;
        let patient = self
            .store
            .get::<Patient>(&Id::uuid(consultation.patient_id))
            .map_err(store_error)?
            .ok_or_else(|| store_error("the patient is gone"))?;
        let kind = DocumentType::from_hi_type(hi_type)
            .ok_or_else(|| store_error(format!("unknown HI type {hi_type}")))?;
        let record = clinic_record(&consultation, &patient, facility, &self.config.service_id);
        let bundle = abdm_fhir::write::build(kind, &record, seed(&consultation));
        let plain = serde_json::to_vec(&bundle).expect("JSON values serialize");
        let checksum: String = Md5::digest(&plain)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let ours = fidelius::KeyMaterial::generate();
        let session = fidelius::Session::derive(&ours.secret, hiu_key, &ours.nonce, hiu_nonce)
            .map_err(|e| store_error(format!("the HIU's key: {e}")))?;
        Ok(DataPage {
            transaction_id: t.transaction_id,
            page_number: index as u32 + 1,
            page_count: t.items.len() as u32,
            entries: vec![DataEntry {
                content: session.seal_base64(&plain),
                checksum,
                care_context: cc.clone(),
            }],
            sender_public_key: ours.public_key().to_base64(fidelius::KeyEncoding::X509),
            sender_nonce: ours.nonce.to_base64(),
            expiry: t.key_expiry,
        })
    }

    fn save_progress(&self, txn: Uuid, sent: usize) -> std::result::Result<(), AbdmError> {
        self.store
            .write(|w| -> Result<()> {
                if let Some(mut t) = w.get::<Transfer>(&Id::uuid(txn))? {
                    t.sent = t.sent.max(sent);
                    w.put(&t);
                }
                Ok(())
            })
            .map_err(store_error)
    }

    fn stop_transfer(&self, txn: Uuid, reason: &str) -> std::result::Result<(), AbdmError> {
        self.store
            .write(|w| self.fail_transfer(w, txn, reason))
            .map_err(store_error)?;
        self.wake_outbox();
        Ok(())
    }
}
