//! Asking a patient for consent, and what the consent manager answers: the request's fate, and
//! each artefact fetched — stored as **granted** (the patient may narrow the dates or HI types).

use chrono::Utc;
use desk_store::{ArtefactStatus, ConsentRequest, HiuArtefact, Id, Patient, RequestStatus, Writer};
use uuid::Uuid;

use super::ask::{ask_of, NewConsentRequest, MAX_CARE_CONTEXTS};
use super::Step;
use crate::desk::Desk;
use crate::error::{DeskError, Result};
use crate::gateway::hiu::{FetchedArtefact, HiuConsentNotice};
use crate::gateway::{Call, Gateway};
use crate::labels::Label;
use crate::view::ConsentRequestView;

/// The id an HIU index entry (`cr:…`, `art:…`, `txn:…`, `path:…`) points to.
pub(crate) fn index(w: &Writer<'_>, key: &str) -> Result<Option<Uuid>> {
    Ok(w.index(desk_store::kind::HIU_INDEX, &Id::text(key))?
        .and_then(|v| Uuid::from_slice(&v).ok()))
}

pub(crate) fn set_index(w: &mut Writer<'_>, key: &str, id: Uuid) {
    w.put_index(desk_store::kind::HIU_INDEX, &Id::text(key), id.as_bytes());
}

impl<G: Gateway> Desk<G> {
    /// Asks the patient (through the consent manager) for their records.
    pub fn request_records(&self, input: NewConsentRequest) -> Result<ConsentRequestView> {
        let bridge = self.facility()?.and_then(|f| f.bridge_url).ok_or_else(|| {
            DeskError::Input(
                "the clinic's bridge URL is not registered with ABDM yet (Settings)".into(),
            )
        })?;
        let request = self.store.write(|w| -> Result<ConsentRequest> {
            let patient = w
                .get::<Patient>(&Id::uuid(input.patient_id))?
                .ok_or_else(|| DeskError::NotFound("that patient is not registered here".into()))?;
            let ask = ask_of(&input, &patient)?;
            let now = Utc::now();
            let request = ConsentRequest {
                id: Uuid::new_v4(),
                patient_id: patient.id,
                ask: ask.clone(),
                consent_request_id: None,
                status: RequestStatus::Sending,
                artefacts: vec![],
                created_at: now,
                updated_at: now,
            };
            w.put(&request);
            self.enqueue(
                w,
                &Call::ConsentRequestInit {
                    ask: ask.clone(),
                    notification_url: bridge.clone(),
                },
                Label::new("consent-ask", &[&patient.name]),
                Some(patient.id),
                Some(crate::engine::Step::Hiu(Step::ConsentInit {
                    request: request.id,
                })),
            )?;
            w.audit(
                "consent requested",
                format!(
                    "{} asked {} for {} ({}), records {} to {}, kept until {}",
                    ask.requester_name,
                    ask.patient,
                    ask.hi_types.join(", "),
                    ask.purpose_text,
                    ask.from.date_naive(),
                    ask.to.date_naive(),
                    ask.erase_at.date_naive()
                ),
                Some(patient.id),
            )?;
            Ok(request)
        })?;
        self.wake_outbox();
        Ok(ConsentRequestView::of(&request))
    }

    /// Asks the consent manager where a consent request stands (the answer updates it).
    pub fn refresh_consent_request(&self, id: Uuid) -> Result<()> {
        self.store.write(|w| -> Result<()> {
            let r = w
                .get::<ConsentRequest>(&Id::uuid(id))?
                .ok_or_else(|| DeskError::NotFound(format!("no consent request {id}")))?;
            let cm_id = r.consent_request_id.clone().ok_or_else(|| {
                DeskError::Input("ABDM has not taken this request yet; it is in the outbox".into())
            })?;
            self.enqueue(
                w,
                &Call::ConsentRequestStatus {
                    consent_request_id: cm_id,
                },
                Label::new("consent-status", &[]),
                Some(r.patient_id),
                Some(crate::engine::Step::Hiu(Step::ConsentStatus {
                    request: id,
                })),
            )?;
            Ok(())
        })?;
        self.wake_outbox();
        Ok(())
    }

    pub(crate) fn consent_requested(
        &self,
        w: &mut Writer<'_>,
        request: Uuid,
        cm_id: String,
    ) -> Result<()> {
        if let Some(mut r) = w.get::<ConsentRequest>(&Id::uuid(request))? {
            if r.status == RequestStatus::Sending {
                r.status = RequestStatus::Requested;
            }
            r.consent_request_id = Some(cm_id.clone());
            r.updated_at = Utc::now();
            w.put(&r);
            set_index(w, &format!("cr:{cm_id}"), request);
        }
        Ok(())
    }

    /// `consents/hiu/notify`: the request was decided, or artefacts ended; acknowledged always.
    pub(crate) fn on_hiu_consent(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        notice: HiuConsentNotice,
    ) -> Result<()> {
        let ours = index(w, &format!("cr:{}", notice.consent_request_id))?;
        if ours.is_none() {
            w.audit(
                "consent notice for a request not made here ignored",
                notice.consent_request_id.clone(),
                None,
            )?;
        }
        let ids = notice.artefacts.clone();
        self.consent_state(w, ours, notice)?;
        self.enqueue(
            w,
            &Call::HiuOnNotify {
                answers: request_id,
                consent_ids: ids,
            },
            Label::new("consent-ack", &[]),
            None,
            None,
        )?;
        Ok(())
    }

    /// Applies a consent request's new state (from a notice or a status answer).
    pub(crate) fn consent_state(
        &self,
        w: &mut Writer<'_>,
        request: Option<Uuid>,
        notice: HiuConsentNotice,
    ) -> Result<()> {
        let ended = match notice.status {
            Some(ArtefactStatus::Revoked) => Some("the patient revoked the consent"),
            Some(ArtefactStatus::Expired) => Some("the consent expired"),
            _ => None,
        };
        // An artefact of this request (or one we never tied to a request) is archived.
        let ours = |w: &Writer<'_>, id: Uuid| -> Result<bool> {
            Ok(w.get::<HiuArtefact>(&Id::uuid(id))?
                .is_none_or(|a| Some(a.request_id) == request))
        };
        if let Some(reason) = ended {
            for id in &notice.artefacts {
                if ours(w, *id)? {
                    self.archive_in(w, *id, reason)?;
                }
            }
        }
        let Some(request) = request else {
            return Ok(());
        };
        let Some(mut r) = w.get::<ConsentRequest>(&Id::uuid(request))? else {
            return Ok(());
        };
        match notice.status {
            None => {}
            Some(ArtefactStatus::Granted) => {
                r.status = RequestStatus::Granted;
                for id in &notice.artefacts {
                    if r.artefacts.contains(id) {
                        continue;
                    }
                    r.artefacts.push(*id);
                    set_index(w, &format!("art:{id}"), request);
                    self.enqueue(
                        w,
                        &Call::FetchConsent { consent_id: *id },
                        Label::new("consent-fetch", &[]),
                        Some(r.patient_id),
                        Some(crate::engine::Step::Hiu(Step::Fetch { consent_id: *id })),
                    )?;
                }
                w.audit(
                    "consent granted by the patient",
                    format!("{}: {} artefact(s)", r.ask.patient, notice.artefacts.len()),
                    Some(r.patient_id),
                )?;
            }
            Some(ArtefactStatus::Denied) => {
                r.status = RequestStatus::Denied;
                w.audit(
                    "consent denied by the patient",
                    r.ask.patient.clone(),
                    Some(r.patient_id),
                )?;
            }
            Some(ArtefactStatus::Revoked) => r.status = RequestStatus::Revoked,
            Some(_) => r.status = RequestStatus::Expired,
        }
        r.updated_at = Utc::now();
        w.put(&r);
        Ok(())
    }

    /// `consents/on-fetch`: what was granted is kept, its key made, and the data asked for.
    pub(crate) fn artefact_fetched(
        &self,
        w: &mut Writer<'_>,
        consent_id: Uuid,
        a: FetchedArtefact,
    ) -> Result<()> {
        if a.consent_id != consent_id {
            return Err(DeskError::Input(format!(
                "ABDM sent artefact {} when {consent_id} was fetched",
                a.consent_id
            )));
        }
        let request = index(w, &format!("art:{consent_id}"))?
            .and_then(|id| w.get::<ConsentRequest>(&Id::uuid(id)).transpose())
            .transpose()?
            .ok_or_else(|| DeskError::Input(format!("artefact {consent_id} is not ours")))?;
        let g = a.grant;
        if !g.patient.eq_ignore_ascii_case(&request.ask.patient) {
            return Err(DeskError::Input(format!(
                "artefact {consent_id} is for {}, not {}",
                g.patient, request.ask.patient
            )));
        }
        if g.care_contexts.len() > MAX_CARE_CONTEXTS {
            return Err(DeskError::Input(format!(
                "artefact {consent_id} names {} care contexts; at most {MAX_CARE_CONTEXTS} are taken",
                g.care_contexts.len()
            )));
        }
        if w.get::<HiuArtefact>(&Id::uuid(consent_id))?.is_some() {
            return Ok(()); // Fetched before.
        }
        let ended_before = w
            .index(
                desk_store::kind::HIU_INDEX,
                &Id::text(&format!("ended:{consent_id}")),
            )?
            .map(|why| String::from_utf8_lossy(&why).to_string());
        let artefact = HiuArtefact {
            consent_id,
            request_id: request.id,
            patient_id: request.patient_id,
            status: a.status,
            patient: g.patient.to_lowercase(),
            hip_id: a.hip_id,
            hip_name: a.hip_name,
            purpose: g.purpose,
            care_contexts: g.care_contexts,
            hi_types: g.hi_types,
            from: g.from,
            to: g.to,
            erase_at: g.erase_at,
            frequency: g.frequency,
            signature: g.signature,
            received_at: Utc::now(),
            archived: ended_before.clone().map(|reason| desk_store::Archived {
                reason,
                at: Utc::now(),
            }),
        };
        w.put(&artefact);
        w.audit(
            "consent artefact received",
            format!(
                "{consent_id}: {} may send {} of {} care context(s), records {} to {}, readable until {}",
                artefact.hip_name.as_deref().unwrap_or(&artefact.hip_id),
                artefact.hi_types.join(", "),
                artefact.care_contexts.len(),
                artefact.from.date_naive(),
                artefact.to.date_naive(),
                artefact.erase_at.format("%Y-%m-%d %H:%M UTC")
            ),
            Some(request.patient_id),
        )?;
        if artefact.archived.is_some() {
            return Ok(()); // It ended before its details came: no key, no data asked for.
        }
        if artefact.status != ArtefactStatus::Granted || artefact.erase_at <= Utc::now() {
            return self.archive_in(w, consent_id, "the consent ended before any record came");
        }
        self.create_consent_key(consent_id)?;
        self.start_data_request(w, &artefact)
    }
}
