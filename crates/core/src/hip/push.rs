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
use super::data_flow::{statuses, still_granted};
use super::refusal;
use crate::desk::Desk;
use crate::engine::step::store_error;
use crate::error::Result;
use crate::gateway::hip::{DataEntry, DataPage, TransferReport};
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

/// Progress is saved at least every this many pages (a crash re-sends at most these; the HIU
/// keeps one copy per page number).
const SAVE_EVERY_PAGES: usize = 16;
/// … and at least this often.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The name of a transfer's progress counter.
pub(crate) fn progress_key(txn: Uuid) -> String {
    format!("transfer-sent:{txn}")
}

/// Whether an address is this computer, a private network or otherwise not a hospital on the
/// internet.
fn local(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| local(v4.into()))
        }
    }
}

/// A client for one HIU's push URL: the host resolved once and pinned (no second lookup can
/// point it elsewhere), no redirects followed, and — unless local pushes are allowed — only a
/// public address over https.
async fn push_client(url: &str, allow_local: bool) -> std::result::Result<reqwest::Client, String> {
    let u =
        reqwest::Url::parse(url).map_err(|_| "the HIU's push address is not a URL".to_string())?;
    let host = u
        .host_str()
        .ok_or("the HIU's push address names no host")?
        .to_string();
    if u.scheme() != "https" && !(allow_local && u.scheme() == "http") {
        return Err("the HIU's push address is not https".into());
    }
    let port = u.port_or_known_default().unwrap_or(443);
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|e| format!("the HIU's push address does not resolve: {e}"))?
        .collect();
    let addr = addrs
        .iter()
        .copied()
        .find(|a| allow_local || !local(a.ip()))
        .ok_or("the HIU's push address is on a private network; health data is not sent there")?;
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .resolve(&bare, addr)
        .build()
        .map_err(|e| format!("cannot set up the push: {e}"))
}

/// Posts one page; a hospital's answer is read like ABDM's.
async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> std::result::Result<(), AbdmError> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| AbdmError::Unreachable {
            url: url.into(),
            detail: e.without_url().to_string(),
        })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let bytes = response.bytes().await.unwrap_or_default();
    Err(AbdmError::from_response(status, &bytes))
}

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
        let http = match push_client(&t.data_push_url, self.config.allow_local_push).await {
            Ok(http) => http,
            Err(why) => return self.stop_transfer(txn, &why),
        };
        let mut sent = t.sent.max(
            self.store
                .meta_u64(&progress_key(txn))
                .map_err(store_error)? as usize,
        );
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
            let owner = artefact.as_ref().map_or("", |a| a.patient.as_str());
            let page = match self.page(&t, sent, &key, &nonce, facility.as_ref(), owner)? {
                Ok(page) => page,
                Err(stop) => {
                    self.save_progress(txn, sent)?;
                    return self.stop_transfer(txn, &stop);
                }
            };
            if let Err(e) = post(&http, &t.data_push_url, &self.gateway.page_body(&page)).await {
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
                        "{} document(s) of {} care context(s) under consent {} to {}",
                        t.items.len(),
                        report.statuses.len(),
                        t.consent_id,
                        reqwest::Url::parse(&t.data_push_url)
                            .ok()
                            .and_then(|u| u.host_str().map(String::from))
                            .unwrap_or_default()
                    ),
                    None,
                )?;
                self.enqueue(
                    w,
                    &Call::HiTransferred(report),
                    Label::new("records-sent", &[]),
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
        owner: &str,
    ) -> std::result::Result<std::result::Result<DataPage, String>, AbdmError> {
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
        // Still this patient's and still linked (an ABHA corrected or a visit unlinked since the
        // request stops the push).
        let theirs = patient
            .abha_address
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(owner));
        if !theirs || !matches!(consultation.link, desk_store::LinkState::Linked { .. }) {
            return Ok(Err(format!(
                "care context {cc} is no longer one linked to {owner}"
            )));
        }
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
        Ok(Ok(DataPage {
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
        }))
    }

    fn save_progress(&self, txn: Uuid, sent: usize) -> std::result::Result<(), AbdmError> {
        self.store
            .write(|w| -> Result<()> {
                // A small counter, not the whole transfer: progress costs the same at page 10 000.
                let key = progress_key(txn);
                let before = w.meta_u64(&key)?;
                w.set_meta_u64(&key, before.max(sent as u64));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn health_data_goes_only_to_public_https_addresses() {
        let refused = |url: &'static str| async move { push_client(url, false).await.unwrap_err() };
        assert!(refused("http://hospital.example/push")
            .await
            .contains("https"));
        assert!(refused("https://127.0.0.1:9/push")
            .await
            .contains("private"));
        assert!(refused("https://10.1.2.3/push").await.contains("private"));
        assert!(refused("https://169.254.169.254/latest")
            .await
            .contains("private"));
        assert!(refused("https://[::1]:9/push").await.contains("private"));
        assert!(refused("https://100.64.0.1/push").await.contains("private"));
        assert!(refused("ftp://x/").await.contains("https"));
        // The embedded sandbox's peers live on this computer.
        assert!(push_client("http://127.0.0.1:9/push", true).await.is_ok());
        assert!(push_client("https://8.8.8.8/push", false).await.is_ok());
    }
}
