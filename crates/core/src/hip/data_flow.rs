//! The data flow: a health-information request is checked against its artefact (consent is law)
//! and answered; what the artefact allows is then pushed by an outbox job (`push`); a
//! stopped transfer tells ABDM what went and what did not.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use desk_store::{
    ArtefactStatus, Consultation, HipArtefact, Id, LinkState, Patient, Transfer, TransferState,
    Writer,
};
use uuid::Uuid;

use super::bundles::documents;
use super::refusal;
use super::Job;
use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::hip::{HiRequest, Refusal, TransferReport};
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

/// Whether the artefact still allows sending now.
pub(super) fn still_granted(
    a: &HipArtefact,
    now: DateTime<Utc>,
) -> std::result::Result<(), Refusal> {
    match a.status {
        ArtefactStatus::Granted if a.erase_at > now => Ok(()),
        ArtefactStatus::Granted | ArtefactStatus::Expired => {
            Err(refusal("HIP-2003", "The consent has expired"))
        }
        ArtefactStatus::Revoked => Err(refusal("HIP-2002", "The patient revoked the consent")),
        ArtefactStatus::Denied => Err(refusal("HIP-2002", "The consent was denied")),
    }
}

/// https only, unless local pushes are allowed (the embedded sandbox); where the host really is
/// is checked again when the push starts.
fn push_url_ok(url: &str, allow_local: bool) -> bool {
    match url.parse::<reqwest::Url>() {
        Ok(u) => u.scheme() == "https" || (allow_local && u.scheme() == "http"),
        Err(_) => false,
    }
}

/// Checks a data request against its artefact, in the order a refusal is explained.
pub fn check_request(
    artefact: Option<&HipArtefact>,
    r: &HiRequest,
    now: DateTime<Utc>,
    allow_local: bool,
) -> std::result::Result<(), Refusal> {
    let a = artefact.ok_or_else(|| refusal("HIP-2001", "No such consent artefact here"))?;
    still_granted(a, now)?;
    if r.from > r.to || r.from < a.from || r.to > a.to {
        return Err(refusal(
            "HIP-2004",
            format!(
                "The requested dates ({} to {}) fall outside the consent ({} to {})",
                r.from.date_naive(),
                r.to.date_naive(),
                a.from.date_naive(),
                a.to.date_naive()
            ),
        ));
    }
    if r.key.expiry <= now {
        return Err(refusal(
            "HIP-2006",
            "The HIU's key for this request has expired",
        ));
    }
    let window_start = now - a.frequency.window();
    let used = a.uses.iter().filter(|t| **t > window_start).count();
    if used >= a.frequency.repeats.max(1) as usize {
        return Err(refusal(
            "HIP-2007",
            format!(
                "The consent allows {} request(s) per {} {:?}; used up",
                a.frequency.repeats, a.frequency.value, a.frequency.unit
            ),
        ));
    }
    if !push_url_ok(&r.data_push_url, allow_local) {
        return Err(refusal(
            "HIP-2008",
            "The data push address is not a secure (https) URL",
        ));
    }
    Ok(())
}

/// One document of a transfer: (care-context reference, HI type).
type Item = (String, String);

/// What the artefact lets go for this request: (care context, HI type) pairs, and why others
/// named in it do not go.
fn items(w: &Writer<'_>, a: &HipArtefact, r: &HiRequest) -> Result<(Vec<Item>, Vec<String>)> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (patient_ref, cc) in &a.care_contexts {
        let c = Uuid::parse_str(cc)
            .ok()
            .map(|id| w.get::<Consultation>(&Id::uuid(id)))
            .transpose()?
            .flatten();
        let Some(c) = c else {
            skipped.push(format!("{cc}: no such care context here"));
            continue;
        };
        let patient = w.get::<Patient>(&Id::uuid(c.patient_id))?;
        let theirs = c.patient_id.to_string() == *patient_ref
            && patient
                .as_ref()
                .and_then(|p| p.abha_address.as_deref())
                .is_some_and(|addr| addr.eq_ignore_ascii_case(&a.patient));
        if !theirs || !matches!(c.link, LinkState::Linked { .. }) {
            skipped.push(format!("{cc}: not a care context linked to {}", a.patient));
            continue;
        }
        let day = c.date;
        if day < r.from.date_naive() || day > r.to.date_naive() {
            skipped.push(format!(
                "{cc}: the visit ({day}) is outside the requested dates"
            ));
            continue;
        }
        for doc in documents(&c) {
            if a.hi_types.iter().any(|t| t == doc.hi_type()) {
                out.push((cc.clone(), doc.hi_type().to_string()));
            }
        }
    }
    Ok((out, skipped))
}

/// Per care context: delivered when all its pages went.
pub(super) fn statuses(t: &Transfer, failure: Option<&str>) -> Vec<(String, bool, String)> {
    let mut by_context: BTreeMap<&str, bool> = BTreeMap::new();
    for (i, (cc, _)) in t.items.iter().enumerate() {
        let ok = by_context.entry(cc).or_insert(true);
        *ok &= i < t.sent;
    }
    by_context
        .into_iter()
        .map(|(cc, ok)| {
            let words = if ok {
                "Delivered".to_string()
            } else {
                failure.unwrap_or("Not delivered").to_string()
            };
            (cc.to_string(), ok, words)
        })
        .collect()
}

impl<G: Gateway> Desk<G> {
    /// `health-information/hip/request`: check, answer, and queue the push (or the refusal).
    pub(crate) fn on_hi_request(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        r: HiRequest,
    ) -> Result<()> {
        if w.get::<Transfer>(&Id::uuid(r.transaction_id))?.is_some() {
            w.audit(
                "repeated data request ignored (answered before)",
                r.transaction_id.to_string(),
                None,
            )?;
            return Ok(());
        }
        let now = Utc::now();
        let artefact = w.get::<HipArtefact>(&Id::uuid(r.consent_id))?;
        let checked = check_request(artefact.as_ref(), &r, now, self.config.allow_local_push)
            .and_then(|()| {
                let a = artefact.as_ref().expect("checked");
                let (items, skipped) =
                    items(w, a, &r).map_err(|e| refusal("HIP-1000", e.to_string()))?;
                if items.is_empty() {
                    let why = skipped.first().cloned().unwrap_or_else(|| {
                        format!(
                            "no records of the types it allows ({})",
                            a.hi_types.join(", ")
                        )
                    });
                    return Err(refusal(
                        "HIP-2005",
                        format!("Nothing here matches what the consent allows: {why}"),
                    ));
                }
                Ok((items, skipped))
            });
        // Worded with the requesting hospital when the consent names it.
        let hiu = artefact
            .as_ref()
            .and_then(|a| a.hiu_id.clone().or_else(|| a.requester.clone()));
        let named = hiu.as_deref().unwrap_or("a hospital"); // the audit log's English
        let label = |key: &'static str, unnamed: &'static str| match &hiu {
            Some(hiu) => Label::new(key, &[hiu]),
            None => Label::new(unnamed, &[]),
        };
        let result = match checked {
            Err(refused) => {
                w.audit(
                    "data request refused",
                    format!("consent {} from {named}: {}", r.consent_id, refused.message),
                    None,
                )?;
                Err(refused)
            }
            Ok((items, skipped)) => {
                let mut a = artefact.clone().expect("checked");
                a.uses.push(now);
                w.put(&a);
                let contexts = items
                    .iter()
                    .map(|(cc, _)| cc)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                w.audit(
                    "data request accepted",
                    format!(
                        "consent {} from {named} for {}: {} document(s) of {} care context(s){}",
                        a.consent_id,
                        a.patient,
                        items.len(),
                        contexts,
                        if skipped.is_empty() {
                            String::new()
                        } else {
                            format!("; not sent: {}", skipped.join("; "))
                        }
                    ),
                    None,
                )?;
                w.put(&Transfer {
                    transaction_id: r.transaction_id,
                    consent_id: r.consent_id,
                    data_push_url: r.data_push_url.clone(),
                    hiu_public_key: r.key.public_key.clone(),
                    hiu_nonce: r.key.nonce.clone(),
                    key_expiry: r.key.expiry,
                    items,
                    sent: 0,
                    state: TransferState::Sending,
                    created_at: now,
                });
                Ok(())
            }
        };
        let refused = result.as_ref().err().map(|e| e.message.clone());
        self.enqueue(
            w,
            &Call::OnHiRequest {
                answers: request_id,
                transaction_id: r.transaction_id,
                result,
            },
            label("data-request-answer", "data-request-answer-unnamed"),
            None,
            None,
        )?;
        if let Some(reason) = refused {
            // The HIU hears the failure and its reason from the notification too.
            let contexts = artefact.map(|a| a.care_contexts).unwrap_or_default();
            self.enqueue(
                w,
                &Call::HiTransferred(TransferReport {
                    consent_id: r.consent_id,
                    transaction_id: r.transaction_id,
                    transferred: false,
                    statuses: contexts
                        .into_iter()
                        .map(|(_, cc)| (cc, false, reason.clone()))
                        .collect(),
                }),
                label("data-request-refused", "data-request-refused-unnamed"),
                None,
                None,
            )?;
        } else {
            self.enqueue_job(
                w,
                crate::engine::Job::Hip(Job::Transfer {
                    transaction_id: r.transaction_id,
                }),
                label("records-send", "records-send-unnamed"),
                None,
            )?;
        }
        Ok(())
    }

    /// Stops a transfer for good and tells ABDM what went and what did not.
    pub(crate) fn fail_transfer(&self, w: &mut Writer<'_>, txn: Uuid, reason: &str) -> Result<()> {
        let Some(mut t) = w.get::<Transfer>(&Id::uuid(txn))? else {
            return Ok(());
        };
        if t.state != TransferState::Sending {
            return Ok(());
        }
        let progress = w.meta_u64(&super::push::progress_key(txn))? as usize;
        t.sent = t.sent.max(progress);
        t.state = TransferState::Failed {
            reason: reason.into(),
        };
        w.put(&t);
        w.audit(
            "records transfer stopped",
            format!(
                "consent {}: {} of {} document(s) sent; {reason}",
                t.consent_id,
                t.sent,
                t.items.len()
            ),
            None,
        )?;
        self.enqueue(
            w,
            &Call::HiTransferred(TransferReport {
                consent_id: t.consent_id,
                transaction_id: txn,
                transferred: false,
                statuses: statuses(&t, Some(reason)),
            }),
            Label::new("transfer-stopped", &[]),
            None,
            None,
        )?;
        Ok(())
    }
}
