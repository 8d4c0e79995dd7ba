//! Patient-initiated linking: the patient picks visits in their PHR app, the clinic sends a real
//! OTP to the mobile on record, and links only when the same OTP comes back. The OTP is kept as a
//! salted SHA-256 (never in clear), lives ten minutes (`DeskConfig::link_otp_valid_for`) and
//! allows five tries.

use chrono::{Duration, Utc};
use desk_store::{Consultation, Id, LinkRequest, LinkState, Patient, Secret, Writer};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{consultations::context_ref, discovery::Offer, refusal, set_link_state, Job};
use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::hip::{
    LinkConfirmRequest, LinkInitRequest, LinkOtpSent, LinkedContexts, Refusal,
};
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

/// Wrong OTPs allowed before the link request is closed.
pub const OTP_ATTEMPTS: u32 = 5;
/// Link requests a patient may make in an hour.
pub const LINKS_PER_HOUR: usize = 5;

fn otp_hash(salt: &str, otp: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(otp.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn masked(mobile: &str) -> String {
    let digits: Vec<char> = mobile.chars().filter(char::is_ascii_digit).collect();
    let keep: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("XXXXXX{keep}")
}

/// What a link request asks, checked: the patient and the visits (theirs, not linked yet).
fn check_init(
    w: &Writer<'_>,
    r: &LinkInitRequest,
) -> std::result::Result<(Patient, Vec<Consultation>, String), Refusal> {
    let store_err = |e: desk_store::StoreError| refusal("HIP-1000", e.to_string());
    // Only what a discovery in this transaction offered to this ABHA may be linked.
    let offer: Option<Offer> = w
        .index(
            desk_store::kind::HIP_INDEX,
            &Id::text(&format!("offer:{}", r.transaction_id)),
        )
        .map_err(store_err)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let offered = offer.is_some_and(|o| {
        o.abha_address.eq_ignore_ascii_case(r.abha_address.trim())
            && o.patient == r.patient_reference
            && r.care_contexts.iter().all(|c| o.care_contexts.contains(c))
    });
    if !offered {
        return Err(refusal(
            "HIP-1002",
            "Link only what a discovery here offered you in this transaction",
        ));
    }
    let patient = Uuid::parse_str(&r.patient_reference)
        .ok()
        .map(|id| w.get::<Patient>(&Id::uuid(id)))
        .transpose()
        .map_err(store_err)?
        .flatten()
        .ok_or_else(|| refusal("HIP-1002", "No such patient reference here"))?;
    if let Some(ours) = &patient.abha_address {
        if !ours.eq_ignore_ascii_case(r.abha_address.trim()) {
            return Err(refusal(
                "HIP-1002",
                "This patient's records are linked to another ABHA address",
            ));
        }
    }
    if r.care_contexts.is_empty() {
        return Err(refusal("HIP-1002", "No care contexts were chosen"));
    }
    let mut visits = Vec::new();
    for reference in &r.care_contexts {
        let c = Uuid::parse_str(reference)
            .ok()
            .map(|id| w.get::<Consultation>(&Id::uuid(id)))
            .transpose()
            .map_err(store_err)?
            .flatten()
            .filter(|c| c.patient_id == patient.id)
            .ok_or_else(|| {
                refusal(
                    "HIP-1002",
                    format!("Care context {reference} is not one of this patient's"),
                )
            })?;
        if matches!(c.link, LinkState::Linked { .. }) {
            return Err(refusal(
                "ABDM-1056",
                format!("Care context {reference} is linked already"),
            ));
        }
        visits.push(c);
    }
    let mobile = patient.mobile.clone().ok_or_else(|| {
        refusal(
            "HIP-1006",
            "The clinic has no mobile number for this patient to send the OTP to",
        )
    })?;
    Ok((patient, visits, mobile))
}

impl<G: Gateway> Desk<G> {
    /// `links/link/init`: an OTP goes to the patient's phone; ABDM hears where it went.
    pub(crate) fn on_link_init(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        r: LinkInitRequest,
    ) -> Result<()> {
        let checked = check_init(w, &r).and_then(|found| {
            if self.config.sms_url.is_none() {
                return Err(refusal(
                    "HIP-1006",
                    "This clinic cannot send text messages; ask at the clinic to link the records",
                ));
            }
            Ok(found)
        });
        let (result, patient_id) = match checked {
            Err(refused) => {
                w.audit(
                    "link request refused",
                    format!("{}: {}", r.abha_address, refused.message),
                    None,
                )?;
                (Err(refused), None)
            }
            Ok((patient, visits, mobile)) if self.too_many_links(w, patient.id)? => {
                w.audit(
                    "link request refused: too many",
                    format!("{} for {}", r.abha_address, patient.name),
                    Some(patient.id),
                )?;
                let _ = (visits, mobile);
                (
                    Err(refusal(
                        "ABDM-1100",
                        "Too many link requests; try again in an hour",
                    )),
                    Some(patient.id),
                )
            }
            Ok((patient, visits, mobile)) => {
                let otp = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
                let salt: String = (0..16)
                    .map(|_| format!("{:02x}", rand::random::<u8>()))
                    .collect();
                let expires_at = Utc::now()
                    + Duration::from_std(self.config.link_otp_valid_for)
                        .unwrap_or(Duration::minutes(10));
                let link_ref = Uuid::new_v4().to_string();
                w.put(&LinkRequest {
                    link_ref: link_ref.clone(),
                    transaction_id: r.transaction_id,
                    patient_id: patient.id,
                    abha_address: r.abha_address.trim().to_lowercase(),
                    care_contexts: visits.iter().map(|c| c.id.to_string()).collect(),
                    otp_hash: Secret::new(otp_hash(&salt, &otp)),
                    salt: Secret::new(salt),
                    created_at: Utc::now(),
                    expires_at,
                    attempts_left: OTP_ATTEMPTS,
                    closed: false,
                });
                let clinic = self.clinic_name()?;
                self.enqueue_job(
                    w,
                    crate::engine::Job::Hip(Job::Sms {
                        to: mobile.clone(),
                        text: Secret::new(format!(
                            "{otp} is your OTP to link your {clinic} records to your ABHA. \
                             Valid for {} minutes. Do not share it.",
                            self.config.link_otp_valid_for.as_secs().div_ceil(60)
                        )),
                    }),
                    Label::new("link-otp-sms", &[&patient.name]),
                    Some(patient.id),
                )?;
                w.audit(
                    "link requested: OTP sent to the patient's phone",
                    format!(
                        "{} asked to link {} visit(s) of {}",
                        r.abha_address,
                        visits.len(),
                        patient.name
                    ),
                    Some(patient.id),
                )?;
                (
                    Ok(LinkOtpSent {
                        link_ref,
                        hint: masked(&mobile),
                        expires_at,
                    }),
                    Some(patient.id),
                )
            }
        };
        self.enqueue(
            w,
            &Call::OnLinkInit {
                answers: request_id,
                transaction_id: r.transaction_id,
                result,
            },
            Label::new("link-request-answer", &[&r.abha_address]),
            patient_id,
            None,
        )?;
        Ok(())
    }

    /// `links/link/confirm`: the OTP is checked (constant time, expiry, attempts) and the visits
    /// linked.
    pub(crate) fn on_link_confirm(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        r: LinkConfirmRequest,
    ) -> Result<()> {
        let result = self.confirm_link(w, &r)?;
        let visits: Vec<Uuid> = (result.iter().flat_map(|(l, _)| &l.care_contexts))
            .filter_map(|c| Uuid::parse_str(&c.reference).ok())
            .collect();
        let (action, detail, patient_id) = match &result {
            Ok((l, id)) => {
                let detail = format!("{} visit(s) of {} linked", visits.len(), l.display);
                ("link confirmed with the patient's OTP", detail, Some(*id))
            }
            Err(e) => ("link OTP refused", e.message.clone(), None),
        };
        w.audit(action, detail, patient_id)?;
        let answer = Call::OnLinkConfirm {
            answers: request_id,
            result: result.map(|(l, _)| l),
        };
        let label = Label::new("link-confirm-answer", &[]);
        self.enqueue(w, &answer, label, patient_id, None)?;
        // After the answer, so ABDM knows the contexts it is told of.
        patient_id.map_or(Ok(()), |id| self.announce_linked(w, id, &visits))
    }

    fn confirm_link(
        &self,
        w: &mut Writer<'_>,
        r: &LinkConfirmRequest,
    ) -> Result<std::result::Result<(LinkedContexts, Uuid), Refusal>> {
        let Some(mut link) = w.get::<LinkRequest>(&Id::text(&r.link_ref))? else {
            return Ok(Err(refusal("HIP-1002", "No such link reference")));
        };
        if link.closed {
            return Ok(Err(refusal(
                "HIP-1005",
                "This link request is closed; start again from the app",
            )));
        }
        if Utc::now() > link.expires_at {
            link.closed = true;
            w.put(&link);
            return Ok(Err(refusal(
                "HIP-1004",
                "The OTP has expired; start again from the app",
            )));
        }
        let typed = otp_hash(link.salt.expose(), r.otp.expose().trim());
        if !bool::from(typed.as_bytes().ct_eq(link.otp_hash.expose().as_bytes())) {
            link.attempts_left = link.attempts_left.saturating_sub(1);
            link.closed = link.attempts_left == 0;
            w.put(&link);
            return Ok(Err(if link.closed {
                refusal("ABDM-1100", "Too many wrong OTPs; start again from the app")
            } else {
                refusal(
                    "HIP-1003",
                    format!("Wrong OTP; {} tries left", link.attempts_left),
                )
            }));
        }
        link.closed = true;
        w.put(&link);
        let Some(mut patient) = w.get::<Patient>(&Id::uuid(link.patient_id))? else {
            return Ok(Err(refusal("HIP-1002", "The patient is no longer here")));
        };
        let ids: Vec<Uuid> = link
            .care_contexts
            .iter()
            .filter_map(|c| Uuid::parse_str(c).ok())
            .collect();
        set_link_state(w, &ids, &LinkState::Linked { at: Utc::now() })?;
        let mut contexts = Vec::new();
        for id in &ids {
            if let Some(c) = w.get::<Consultation>(&Id::uuid(*id))? {
                contexts.push(context_ref(&c));
            }
        }
        if patient.abha_address.is_none() {
            patient.abha_address = Some(link.abha_address.clone());
            patient.updated_at = Utc::now();
            w.put_patient(&patient)?;
        }
        Ok(Ok((
            LinkedContexts {
                reference: patient.id.to_string(),
                display: patient.name.clone(),
                care_contexts: contexts,
            },
            patient.id,
        )))
    }

    /// Whether a patient has had enough link requests this hour; closes their earlier open ones
    /// (one OTP at a time: guesses do not add up across requests).
    fn too_many_links(&self, w: &mut Writer<'_>, patient_id: Uuid) -> Result<bool> {
        let hour_ago = Utc::now() - Duration::hours(1);
        let mut recent = 0;
        for mut link in w.all::<LinkRequest>()? {
            if link.patient_id != patient_id {
                continue;
            }
            if link.created_at > hour_ago {
                recent += 1;
            }
            if !link.closed {
                link.closed = true;
                w.put(&link);
            }
        }
        Ok(recent >= LINKS_PER_HOUR)
    }

    /// Sends a text through the clinic's SMS provider.
    pub(crate) async fn send_sms(
        &self,
        to: &str,
        text: &Secret,
    ) -> std::result::Result<(), abdm::AbdmError> {
        let Some(url) = &self.config.sms_url else {
            return Err(abdm::AbdmError::Unexpected {
                what: "the SMS provider".into(),
                detail: "no SMS provider is set up for this clinic".into(),
            });
        };
        let response = self
            .http
            .post(url)
            .json(&serde_json::json!({"to": to, "text": text.expose()}))
            .send()
            .await
            .map_err(|e| abdm::AbdmError::Unreachable {
                url: url.clone(),
                detail: e.without_url().to_string(),
            })?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(());
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(abdm::AbdmError::Rejected {
            status,
            code: None,
            message: format!(
                "the SMS provider refused: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_otp_hash_depends_on_the_salt_and_hides_the_otp() {
        let a = otp_hash("aa", "123456");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("123456"));
        assert_ne!(a, otp_hash("ab", "123456"));
        assert_eq!(a, otp_hash("aa", "123456"));
        assert_eq!(masked("9876543210"), "XXXXXX3210");
    }
}
