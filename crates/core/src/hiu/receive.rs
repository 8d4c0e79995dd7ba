//! Receiving a push: each page is kept as it came (still Fidelius ciphertext) until every page is
//! here; then a job checks every entry's checksum and GCM tag, decrypts, seals the records under
//! the consent's own key and tells ABDM — or stores nothing and says why. A page that never comes
//! fails the transfer after `DeskConfig::push_wait`.

use abdm::AbdmError;
use base64::Engine;
use chrono::Utc;
use desk_store::{
    DataRequest, DataRequestState, HealthRecord, HiuArtefact, Id, PushPage, RecordBody, Secret,
    Writer,
};
use md5::{Digest, Md5};
use uuid::Uuid;

use super::consent_requests::{index, set_index};
use super::Job;
use crate::desk::Desk;
use crate::engine::step::store_error;
use crate::error::{DeskError, Result};
use crate::gateway::hip::TransferReport;
use crate::gateway::hiu::DataPush;
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

/// The most pages one transfer may have.
const MAX_PAGES: u32 = 10_000;
/// The most bytes (of ciphertext, base64) one transfer may bring.
const MAX_BYTES: u64 = 512 << 20;

/// What a verified entry gives: (care context, bundle bytes, document title).
type Opened = (String, Vec<u8>, String);

fn checksum_ok(plain: &[u8], given: &str) -> bool {
    let digest = Md5::digest(plain);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    given.eq_ignore_ascii_case(&hex) || given == b64
}

/// Checks and decrypts every page of a transfer (nothing is kept unless all of it verifies).
fn open_pages(
    r: &DataRequest,
    a: &HiuArtefact,
    pages: &[PushPage],
) -> std::result::Result<Vec<Opened>, String> {
    let secret = base64::engine::general_purpose::STANDARD
        .decode(r.secret_key.expose())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(fidelius::SecretKey::from_x25519_bytes)
        .ok_or("our key for this request is damaged")?;
    let ours = fidelius::Nonce::parse(&r.nonce).map_err(|e| format!("our nonce: {e}"))?;
    let mut out = Vec::new();
    for page in pages {
        let n = page.page_number;
        let sender = fidelius::PublicKey::parse(&page.sender_key)
            .map_err(|e| format!("page {n}: the sender's key cannot be read ({e})"))?;
        let nonce = fidelius::Nonce::parse(&page.sender_nonce)
            .map_err(|e| format!("page {n}: the sender's nonce cannot be read ({e})"))?;
        let session = fidelius::Session::derive(&secret, &sender, &ours, &nonce)
            .map_err(|e| format!("page {n}: {e}"))?;
        for (cc, content, checksum) in &page.entries {
            if !a.care_contexts.iter().any(|(_, c)| c == cc) {
                return Err(format!("page {n}: care context {cc} is not in the consent"));
            }
            let plain = session.open_base64(content).map_err(|_| {
                format!("page {n}, care context {cc}: the content does not decrypt (wrong key or altered)")
            })?;
            if !checksum_ok(&plain, checksum) {
                return Err(format!(
                    "page {n}, care context {cc}: the checksum does not match the content"
                ));
            }
            let doc: serde_json::Value = serde_json::from_slice(&plain)
                .map_err(|_| format!("page {n}, care context {cc}: not a JSON document"))?;
            if doc["resourceType"] != "Bundle" {
                return Err(format!("page {n}, care context {cc}: not a FHIR bundle"));
            }
            let title = title(&doc);
            out.push((cc.clone(), plain, title));
        }
    }
    Ok(out)
}

fn report(r: &DataRequest, opened: &[Opened]) -> TransferReport {
    let contexts: std::collections::BTreeSet<&String> =
        opened.iter().map(|(cc, _, _)| cc).collect();
    TransferReport {
        consent_id: r.consent_id,
        transaction_id: r.transaction_id.unwrap_or_default(),
        transferred: true,
        statuses: contexts
            .into_iter()
            .map(|cc| (cc.clone(), true, "Delivered".to_string()))
            .collect(),
    }
}

/// The title a list shows for a bundle (its Composition's).
fn title(bundle: &serde_json::Value) -> String {
    bundle["entry"]
        .as_array()
        .and_then(|entries| {
            entries.iter().find_map(|e| {
                let r = &e["resource"];
                (r["resourceType"] == "Composition")
                    .then(|| r["title"].as_str().map(String::from))
                    .flatten()
            })
        })
        .unwrap_or_else(|| "Health record".into())
}

impl<G: Gateway> Desk<G> {
    /// A page pushed to us: kept until the transfer is complete.
    pub(crate) fn on_data_pushed(&self, w: &mut Writer<'_>, push: DataPush) -> Result<()> {
        let page = push.page;
        // The request is the one whose push path the page came by; a transaction it names must
        // be that request's.
        let by_path = match &push.path_id {
            Some(p) => index(w, &format!("path:{p}"))?,
            None => None,
        };
        let Some(id) = by_path else {
            return Err(DeskError::Input(
                "a data push by no push path of ours".into(),
            ));
        };
        if index(w, &format!("txn:{}", page.transaction_id))?.is_some_and(|t| t != id) {
            return Err(DeskError::Input(
                "a page of another request's transaction".into(),
            ));
        }
        let Some(mut r) = w.get::<DataRequest>(&Id::uuid(id))? else {
            return Err(DeskError::Input("the request of this push is gone".into()));
        };
        if !matches!(
            r.state,
            DataRequestState::Opening | DataRequestState::Requested
        ) {
            return Ok(()); // Complete, failed or being read: a late or repeated page.
        }
        let fail = |why: String| Err::<(), _>(why);
        let problem = match r.transaction_id {
            Some(t) if t != page.transaction_id => fail("a page of another transaction".into()),
            _ if page.page_count == 0 || page.page_count > MAX_PAGES => fail(format!(
                "a transfer of {} pages is not accepted",
                page.page_count
            )),
            _ if r.page_count.is_some_and(|c| c != page.page_count) => {
                fail("the pages disagree on how many there are".into())
            }
            _ if page.page_number == 0 || page.page_number > page.page_count => {
                fail(format!("page {} of {}", page.page_number, page.page_count))
            }
            _ => Ok(()),
        };
        if let Err(why) = problem {
            return self.data_request_failed(w, id, &why);
        }
        if r.received_pages.contains(&page.page_number) {
            return Ok(());
        }
        let bytes: u64 = page.entries.iter().map(|e| e.content.len() as u64).sum();
        if r.received_bytes + bytes > MAX_BYTES {
            return self.data_request_failed(
                w,
                id,
                &format!("the transfer is larger than {} MB", MAX_BYTES >> 20),
            );
        }
        r.received_bytes += bytes;
        if r.transaction_id.is_none() {
            r.transaction_id = Some(page.transaction_id);
            set_index(w, &format!("txn:{}", page.transaction_id), id);
        }
        w.put(&PushPage {
            request_id: id,
            page_number: page.page_number,
            sender_key: page.sender_public_key,
            sender_nonce: page.sender_nonce,
            entries: page
                .entries
                .into_iter()
                .map(|e| (e.care_context, e.content, e.checksum))
                .collect(),
        });
        r.page_count = Some(page.page_count);
        r.received_pages.push(page.page_number);
        r.last_page_at = Some(Utc::now());
        if r.received_pages.len() as u32 == page.page_count {
            r.state = DataRequestState::Receiving;
            self.enqueue_job(
                w,
                crate::engine::Job::Hiu(Job::Receive { request: id }),
                Label::new("records-receive", &[]),
                None,
            )?;
        }
        w.put(&r);
        Ok(())
    }

    /// Job: verifies, decrypts and stores a complete transfer, or fails it whole.
    pub(crate) async fn receive(&self, id: Uuid) -> std::result::Result<(), AbdmError> {
        let get = |id: Uuid| {
            self.store
                .get::<DataRequest>(&Id::uuid(id))
                .map_err(store_error)
        };
        let Some(r) = get(id)? else { return Ok(()) };
        if r.state != DataRequestState::Receiving {
            return Ok(());
        }
        let artefact = self
            .store
            .get::<HiuArtefact>(&Id::uuid(r.consent_id))
            .map_err(store_error)?;
        let mut pages = Vec::new();
        for n in 1..=r.page_count.unwrap_or(0) {
            if let Some(p) = self
                .store
                .get::<PushPage>(&PushPage::key(id, n))
                .map_err(store_error)?
            {
                pages.push(p);
            }
        }
        let Some(a) = artefact.filter(|a| a.archived.is_none()) else {
            return self.finish_receive(&r, None, Err("the consent has ended".into()));
        };
        // A locked keyring is a wait, not a failure: the job is tried again.
        let key = self
            .consent_key(r.consent_id)
            .map_err(|e| AbdmError::Rejected {
                status: 503,
                code: None,
                message: format!("the keyring is not available: {e}"),
            })?;
        let opened = match key {
            None => Err("the consent's key is gone".to_string()),
            Some(_) if pages.len() as u32 != r.page_count.unwrap_or(0) => {
                Err("a page went missing".to_string())
            }
            Some(_) => open_pages(&r, &a, &pages),
        };
        let records = match (&opened, key) {
            (Ok(opened), Some(key)) => opened
                .iter()
                .map(|(cc, plain, title)| {
                    let record_id = Uuid::new_v4();
                    let body = RecordBody {
                        id: record_id,
                        sealed: super::records::seal(&key, a.consent_id, record_id, plain),
                    };
                    let record = HealthRecord {
                        id: record_id,
                        consent_id: a.consent_id,
                        patient_id: a.patient_id,
                        care_context: cc.clone(),
                        hip_id: a.hip_id.clone(),
                        transaction_id: r.transaction_id.unwrap_or_default(),
                        received_at: Utc::now(),
                        title: title.clone(),
                    };
                    (record, body)
                })
                .collect(),
            _ => vec![],
        };
        self.finish_receive(&r, Some((&a, records)), opened)
    }

    fn finish_receive(
        &self,
        r: &DataRequest,
        artefact: Option<(&HiuArtefact, Vec<(HealthRecord, RecordBody)>)>,
        opened: std::result::Result<Vec<Opened>, String>,
    ) -> std::result::Result<(), AbdmError> {
        self.store
            .write(|w| -> Result<()> {
                // Read again inside the write: an archive or a timer may have settled it while
                // the pages were being opened.
                let now = w.get::<DataRequest>(&Id::uuid(r.id))?;
                if now.is_none_or(|now| now.state != DataRequestState::Receiving) {
                    return Ok(());
                }
                let live = w
                    .get::<HiuArtefact>(&Id::uuid(r.consent_id))?
                    .filter(|a| a.archived.is_none());
                let (Some(a), Some(_)) = (live, artefact.as_ref()) else {
                    return self.data_request_failed(w, r.id, "the consent has ended");
                };
                let records = artefact.map(|(_, records)| records).unwrap_or_default();
                let opened = match opened {
                    Err(reason) => return self.data_request_failed(w, r.id, &reason),
                    Ok(opened) => opened,
                };
                self.enqueue(
                    w,
                    &Call::HiuTransferred {
                        report: report(r, &opened),
                        hip_id: a.hip_id.clone(),
                    },
                    Label::new("records-arrived", &[]),
                    Some(a.patient_id),
                    None,
                )?;
                let n = records.len();
                for (record, body) in &records {
                    w.put(record);
                    w.put(body);
                }
                for page in &r.received_pages {
                    w.delete::<PushPage>(&PushPage::key(r.id, *page))?;
                }
                let mut done = r.clone();
                done.state = DataRequestState::Done {
                    at: Utc::now(),
                    records: n,
                };
                let token = std::mem::replace(&mut done.push_token, Secret::new(""));
                done.secret_key = Secret::new(""); // Nothing more to open with it.
                w.put(&done);
                w.audit(
                    "records received",
                    format!(
                        "{n} record(s) from {} under consent {}",
                        a.hip_name.as_deref().unwrap_or(&a.hip_id),
                        a.consent_id
                    ),
                    Some(a.patient_id),
                )?;
                self.enqueue_job(
                    w,
                    crate::engine::Job::Hiu(Job::ClosePushPath { token }),
                    Label::new("push-path-close", &[]),
                    Some(a.patient_id),
                )?;
                Ok(())
            })
            .map_err(store_error)?;
        self.wake_outbox();
        Ok(())
    }

    /// Fails transfers whose pages stopped coming (`push_wait` after the last one), or that never
    /// started before the key expired. Returns how many.
    pub fn expire_stalled_transfers(&self) -> Result<usize> {
        let now = Utc::now();
        let wait =
            chrono::Duration::from_std(self.config.push_wait).unwrap_or(chrono::Duration::MAX);
        let mut n = 0;
        for r in self.store.all::<DataRequest>()? {
            if r.state != DataRequestState::Requested {
                continue;
            }
            let why = match (r.page_count, r.last_page_at) {
                (Some(count), Some(last)) if now - last > wait => {
                    let missing: Vec<String> = (1..=count)
                        .filter(|p| !r.received_pages.contains(p))
                        .map(|p| p.to_string())
                        .collect();
                    format!("page(s) {} of {count} never arrived", missing.join(", "))
                }
                _ if now > r.key_expiry => "no records came before our key expired".to_string(),
                _ => continue,
            };
            self.store.write(|w| -> Result<()> {
                let still = w
                    .get::<DataRequest>(&Id::uuid(r.id))?
                    .is_some_and(|now| now.state == DataRequestState::Requested);
                if still {
                    self.data_request_failed(w, r.id, &why)?;
                }
                Ok(())
            })?;
            n += 1;
        }
        if n > 0 {
            self.wake_outbox();
        }
        Ok(n)
    }
}
