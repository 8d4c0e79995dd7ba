//! Asking for the data an artefact grants: a fresh X25519 key pair and nonce per request (the
//! secret only in the request's sealed record) and a push path of its own at the relay, opened
//! before the request goes out and closed when the transfer is over.

use abdm::AbdmError;
use base64::Engine;
use chrono::{Duration, Utc};
use desk_store::{DataRequest, DataRequestState, HiuArtefact, Id, PushPage, Secret, Writer};
use relay_client::push::PushPathError;
use relay_client::PushToken;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::consent_requests::set_index;
use super::{Job, Step};
use crate::desk::Desk;
use crate::engine::step::store_error;
use crate::error::Result;
use crate::gateway::hip::TransferReport;
use crate::gateway::hiu::DataAsk;
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn relay_error(url: &str, e: PushPathError) -> AbdmError {
    match e {
        PushPathError::Unreachable(detail) => AbdmError::Unreachable {
            url: url.into(),
            detail,
        },
        PushPathError::Refused { status, message } => AbdmError::Rejected {
            status,
            code: None,
            message: format!("the relay: {message}"),
        },
    }
}

impl<G: Gateway> Desk<G> {
    /// Makes a data request for an artefact: keys and push path now, sent by a job.
    pub(crate) fn start_data_request(&self, w: &mut Writer<'_>, a: &HiuArtefact) -> Result<()> {
        let key = fidelius::KeyMaterial::generate();
        let token = PushToken::generate();
        let now = Utc::now();
        let request = DataRequest {
            id: Uuid::new_v4(),
            consent_id: a.consent_id,
            transaction_id: None,
            secret_key: Secret::new(
                base64::engine::general_purpose::STANDARD.encode(*key.secret.x25519_bytes()),
            ),
            nonce: key.nonce.to_base64(),
            key_expiry: a.erase_at.min(now + Duration::days(1)),
            push_path_id: hex(&Sha256::digest(token.as_str().as_bytes())),
            push_token: Secret::new(token.as_str()),
            from: a.from,
            to: a.to,
            page_count: None,
            received_pages: vec![],
            received_bytes: 0,
            state: DataRequestState::Opening,
            created_at: now,
            last_page_at: None,
        };
        w.put(&request);
        set_index(w, &format!("path:{}", request.push_path_id), request.id);
        self.enqueue_job(
            w,
            crate::engine::Job::Hiu(Job::OpenPushPath {
                request: request.id,
            }),
            Label::new(
                "push-path-open",
                &[&a.hip_name.as_deref().unwrap_or(&a.hip_id)],
            ),
            Some(a.patient_id),
        )?;
        Ok(())
    }

    fn relay_config(&self) -> std::result::Result<relay_client::ClientConfig, AbdmError> {
        self.relay
            .lock()
            .expect("relay config")
            .clone()
            .ok_or_else(|| AbdmError::Unexpected {
                what: "the relay".into(),
                detail: "the desk is not connected to a relay".into(),
            })
    }

    /// Job: opens the push path, then queues the data request itself.
    pub(crate) async fn open_push_path(&self, id: Uuid) -> std::result::Result<(), AbdmError> {
        let Some(r) = self
            .store
            .get::<DataRequest>(&Id::uuid(id))
            .map_err(store_error)?
        else {
            return Ok(());
        };
        if r.state != DataRequestState::Opening {
            return Ok(());
        }
        let Some(artefact) = self
            .store
            .get::<HiuArtefact>(&Id::uuid(r.consent_id))
            .map_err(store_error)?
            .filter(|a| a.archived.is_none())
        else {
            return Ok(());
        };
        let config = self.relay_config()?;
        let bridge = self
            .facility()
            .map_err(store_error)?
            .and_then(|f| f.bridge_url)
            .ok_or_else(|| store_error("the bridge URL is not registered"))?;
        let token = PushToken::parse(r.push_token.expose())
            .ok_or_else(|| store_error("a push token is damaged"))?;
        relay_client::push::open_push_path(
            &self.http,
            &config,
            &token,
            r.key_expiry.timestamp().max(0) as u64,
        )
        .await
        .map_err(|e| relay_error(&config.relay_url, e))?;
        let secret = fidelius::SecretKey::from_x25519_bytes(
            base64::engine::general_purpose::STANDARD
                .decode(r.secret_key.expose())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| store_error("a request's key is damaged"))?,
        );
        self.store
            .write(|w| -> Result<()> {
                self.enqueue(
                    w,
                    &Call::DataRequest(DataAsk {
                        consent_id: r.consent_id,
                        from: r.from,
                        to: r.to,
                        push_url: token.url(&bridge),
                        public_key: secret.public_key().to_base64(fidelius::KeyEncoding::Raw),
                        nonce: r.nonce.clone(),
                        expiry: r.key_expiry,
                    }),
                    Label::new(
                        "data-ask",
                        &[&artefact.hip_name.as_deref().unwrap_or(&artefact.hip_id)],
                    ),
                    Some(artefact.patient_id),
                    Some(crate::engine::Step::Hiu(Step::DataRequest { request: id })),
                )?;
                if let Some(mut r) = w.get::<DataRequest>(&Id::uuid(id))? {
                    r.state = DataRequestState::Requested;
                    w.put(&r);
                }
                Ok(())
            })
            .map_err(store_error)?;
        self.wake_outbox();
        Ok(())
    }

    /// Job: closes a push path (a path already gone is fine).
    pub(crate) async fn close_push_path(
        &self,
        token: &Secret,
    ) -> std::result::Result<(), AbdmError> {
        let config = self.relay_config()?;
        let Some(token) = PushToken::parse(token.expose()) else {
            return Ok(());
        };
        match relay_client::push::close_push_path(&self.http, &config, &token).await {
            Ok(()) | Err(PushPathError::Refused { status: 404, .. }) => Ok(()),
            Err(e) => Err(relay_error(&config.relay_url, e)),
        }
    }

    /// `hiu/on-request`: ABDM took the request; the transaction names the pages to come.
    pub(crate) fn data_requested(
        &self,
        w: &mut Writer<'_>,
        id: Uuid,
        transaction_id: Uuid,
    ) -> Result<()> {
        let Some(mut r) = w.get::<DataRequest>(&Id::uuid(id))? else {
            return Ok(());
        };
        match r.transaction_id {
            Some(t) if t != transaction_id => {
                return self.data_request_failed(
                    w,
                    id,
                    "ABDM named another transaction than the pages that came",
                )
            }
            _ => r.transaction_id = Some(transaction_id),
        }
        w.put(&r);
        set_index(w, &format!("txn:{transaction_id}"), id);
        Ok(())
    }

    /// A data request that will bring nothing: its staged pages and its key go, its path is
    /// closed, and ABDM hears why (when it named a transaction).
    pub(crate) fn data_request_failed(
        &self,
        w: &mut Writer<'_>,
        id: Uuid,
        reason: &str,
    ) -> Result<()> {
        let Some(mut r) = w.get::<DataRequest>(&Id::uuid(id))? else {
            return Ok(());
        };
        if matches!(
            r.state,
            DataRequestState::Done { .. } | DataRequestState::Failed { .. }
        ) {
            return Ok(());
        }
        for page in &r.received_pages {
            w.delete::<PushPage>(&PushPage::key(id, *page))?;
        }
        r.state = DataRequestState::Failed {
            reason: reason.into(),
        };
        let token = std::mem::replace(&mut r.push_token, Secret::new(""));
        r.secret_key = Secret::new("");
        w.put(&r);
        let artefact = w.get::<HiuArtefact>(&Id::uuid(r.consent_id))?;
        let patient = artefact.as_ref().map(|a| a.patient_id);
        if let (Some(a), Some(txn)) = (&artefact, r.transaction_id) {
            self.enqueue(
                w,
                &Call::HiuTransferred {
                    report: TransferReport {
                        consent_id: r.consent_id,
                        transaction_id: txn,
                        transferred: false,
                        statuses: a
                            .care_contexts
                            .iter()
                            .map(|(_, cc)| (cc.clone(), false, reason.to_string()))
                            .collect(),
                    },
                    hip_id: a.hip_id.clone(),
                },
                Label::new("records-not-arrived", &[]),
                patient,
                None,
            )?;
        }
        w.audit(
            "records not received",
            format!("consent {}: {reason}", r.consent_id),
            patient,
        )?;
        self.enqueue_job(
            w,
            crate::engine::Job::Hiu(Job::ClosePushPath { token }),
            Label::new("push-path-close", &[]),
            patient,
        )?;
        Ok(())
    }
}
