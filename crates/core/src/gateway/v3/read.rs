//! v3 messages into events. A callback names the call it answers in `response.requestId`; a
//! request from the gateway is named by its `REQUEST-ID` header, which the relay hands over.

use abdm::v3::{
    self as wire, consent, data_flow, hip_linking, link_token, patient_share, user_linking,
};
use abdm::Operation;
use desk_store::{Gender, Secret};
use serde_json::Value;
use uuid::Uuid;

use crate::gateway::hip::{
    ConsentGrant, ConsentNotice, DiscoverQuery, HiRequest, IdKind, Identifier, LinkConfirmRequest,
    LinkInitRequest, PushKey,
};
use crate::gateway::{Answer, Event, Incoming, SharedProfile};

fn gender(g: wire::Gender) -> Gender {
    match g {
        wire::Gender::M => Gender::M,
        wire::Gender::F => Gender::F,
        wire::Gender::O => Gender::O,
        wire::Gender::D | wire::Gender::T | wire::Gender::U => Gender::U,
    }
}

/// A gateway request: its `REQUEST-ID` header and body.
pub(super) fn request<T: serde::de::DeserializeOwned>(
    request_id: Option<&str>,
    body: &Value,
) -> Result<(Uuid, T), String> {
    let id = request_id.ok_or("a v3 request without its REQUEST-ID header")?;
    let id = Uuid::parse_str(id).map_err(|_| format!("REQUEST-ID {id:?} is not a UUID"))?;
    let body =
        serde_json::from_value(body.clone()).map_err(|e| format!("unreadable request: {e}"))?;
    Ok((id, body))
}

fn refused(e: &wire::ErrorBody) -> Answer {
    Answer::Refused {
        code: e.code.normalized(),
        message: e.message.clone(),
    }
}

/// A callback answering one of our calls: `response.requestId` and what it says.
pub(super) fn reply<T: serde::de::DeserializeOwned>(
    body: &Value,
    read: impl FnOnce(T) -> Result<Answer, String>,
) -> Result<Event, String> {
    let r: wire::Reply<T> =
        serde_json::from_value(body.clone()).map_err(|e| format!("unreadable callback: {e}"))?;
    let answer = match &r.error {
        Some(e) => refused(e),
        None => read(r.body)?,
    };
    Ok(Event::Answer {
        in_reply_to: r.response.request_id,
        answer,
    })
}

pub(super) use crate::gateway::v0_5::{frequency, status};

/// What an artefact grants, in the flows' words (an artefact that does not say until when or how
/// often grants nothing readable).
pub(super) fn grant(d: &wire::ConsentDetail, signature: &str) -> Result<ConsentGrant, String> {
    let erase_at = d
        .data_erase_at()
        .ok_or("a consent artefact without dataEraseAt")?;
    let f = d
        .frequency()
        .ok_or("a consent artefact without its frequency")?;
    Ok(ConsentGrant {
        patient: d.patient.id.clone(),
        hiu_id: Some(d.hiu.id.clone()),
        requester: Some(d.requester.name.clone()),
        purpose: d.purpose.text.clone(),
        care_contexts: d
            .care_contexts
            .iter()
            .map(|c| {
                (
                    c.patient_reference.clone(),
                    c.care_context_reference.clone(),
                )
            })
            .collect(),
        hi_types: d.hi_types.iter().map(|t| format!("{t:?}")).collect(),
        from: d.permission.date_range.from.0,
        to: d.permission.date_range.to.0,
        erase_at: erase_at.0,
        frequency: frequency(&f),
        signature: signature.to_string(),
    })
}

/// A linking token as ABDM issues it (a JWT): one that is not is refused here, before it could
/// stop the outbox as a header nothing can send.
fn link_token(token: String) -> Result<Secret, String> {
    let jwt = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
    if token.is_empty() || token.len() > 8192 || !token.bytes().all(jwt) {
        return Err("a linking token that is not a JWT".into());
    }
    Ok(Secret::new(token))
}

fn identifiers(ids: &[wire::Identifier]) -> Vec<Identifier> {
    ids.iter()
        .filter_map(|i| {
            let kind = match i.kind {
                wire::IdentifierType::Mobile => IdKind::Mobile,
                wire::IdentifierType::AbhaNumber => IdKind::AbhaNumber,
                wire::IdentifierType::AbhaAddress => IdKind::AbhaAddress,
                wire::IdentifierType::MedicalRecord => IdKind::MedicalRecord,
                // Not an identifier discovery matches on.
                wire::IdentifierType::Email => return None,
            };
            Some(Identifier {
                kind,
                value: i.value.clone(),
            })
        })
        .collect()
}

/// The care-context references of per-HI-type groups, each once, in order.
fn references(groups: &[wire::PatientContexts]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in groups.iter().flat_map(|g| &g.care_contexts) {
        if !out.contains(&c.reference_number) {
            out.push(c.reference_number.clone());
        }
    }
    out
}

/// Reads a message the relay delivered.
pub(super) fn read(path: &str, request_id: Option<&str>, body: &Value) -> Result<Event, String> {
    match path {
        p if p == link_token::on_generate_token::Endpoint::PATH => {
            reply(body, |b: link_token::on_generate_token::Body| {
                let token = b
                    .link_token
                    .ok_or("on-generate-token with neither a token nor an error")?;
                Ok(Answer::AuthConfirmed {
                    link_token: Some(link_token(token)?),
                })
            })
        }
        p if p == hip_linking::on_carecontext::Endpoint::PATH => {
            let r: wire::Reply<hip_linking::on_carecontext::Body> =
                serde_json::from_value(body.clone())
                    .map_err(|e| format!("unreadable callback: {e}"))?;
            let answer = match (&r.error, r.body.status.as_deref()) {
                // ABDM-1056 "already linked" is success.
                (Some(e), _) if e.code.normalized() == "ABDM-1056" => Answer::ContextsLinked,
                (Some(e), _) => refused(e),
                (None, Some(hip_linking::on_carecontext::LINKED)) => Answer::ContextsLinked,
                // "Failed to link care context", or no status at all: not linked.
                (None, status) => Answer::Refused {
                    code: "ABDM-9999".into(),
                    message: status.unwrap_or("no link status in ABDM's answer").into(),
                },
            };
            Ok(Event::Answer {
                in_reply_to: r.response.request_id,
                answer,
            })
        }
        p if p == hip_linking::on_context_notify::Endpoint::PATH => {
            reply(body, |_: hip_linking::on_context_notify::Body| {
                Ok(Answer::Acknowledged)
            })
        }
        p if p == hip_linking::on_sms_notify::Endpoint::PATH => {
            reply(body, |_: hip_linking::on_sms_notify::Body| {
                Ok(Answer::Acknowledged)
            })
        }
        p if p == patient_share::share::Endpoint::PATH => {
            let (request_id, r): (_, patient_share::share::Body) = request(request_id, body)?;
            let p = r.profile.patient;
            Ok(Event::Request {
                request_id,
                request: Incoming::ProfileShared(SharedProfile {
                    abha_number: p.abha_number.unwrap_or_default(),
                    abha_address: p.abha_address,
                    name: p.name,
                    gender: gender(p.gender),
                    year_of_birth: i32::try_from(p.year_of_birth).unwrap_or_default(),
                    month_of_birth: p.month_of_birth,
                    day_of_birth: p.day_of_birth,
                    mobile: p.phone_number,
                    district: p.address.district,
                    state: Some(p.address.state).filter(|s| !s.is_empty()),
                    pincode: Some(p.address.pincode).filter(|s| !s.is_empty()),
                    counter: Some(r.meta_data.context),
                }),
            })
        }
        p if p == user_linking::discover::Endpoint::PATH => {
            let (request_id, r): (_, user_linking::discover::Body) = request(request_id, body)?;
            let patient = r.patient;
            Ok(Event::Request {
                request_id,
                request: Incoming::Discover(DiscoverQuery {
                    transaction_id: r.transaction_id,
                    abha_address: patient.id,
                    name: patient.name,
                    gender: gender(patient.gender),
                    year_of_birth: i32::try_from(patient.year_of_birth).ok().filter(|y| *y > 0),
                    verified: identifiers(&patient.verified_identifiers),
                    unverified: identifiers(&patient.unverified_identifiers),
                }),
            })
        }
        p if p == user_linking::init::Endpoint::PATH => {
            let (request_id, r): (_, user_linking::init::Body) = request(request_id, body)?;
            let patient_reference = r
                .patient
                .first()
                .map(|g| g.reference_number.clone())
                .ok_or("a link request naming no patient")?;
            if r.patient
                .iter()
                .any(|g| g.reference_number != patient_reference)
            {
                return Err("a link request naming two patients".into());
            }
            Ok(Event::Request {
                request_id,
                request: Incoming::LinkInit(LinkInitRequest {
                    transaction_id: r.transaction_id,
                    abha_address: r.abha_address,
                    patient_reference,
                    care_contexts: references(&r.patient),
                }),
            })
        }
        p if p == user_linking::confirm::Endpoint::PATH => {
            let (request_id, r): (_, user_linking::confirm::Body) = request(request_id, body)?;
            Ok(Event::Request {
                request_id,
                request: Incoming::LinkConfirm(LinkConfirmRequest {
                    link_ref: r.confirmation.link_ref_number.to_string(),
                    otp: Secret::new(r.confirmation.token),
                }),
            })
        }
        p if p == consent::hip_notify::Endpoint::PATH => {
            let (request_id, r): (_, consent::hip_notify::Body) = request(request_id, body)?;
            let n = r.notification;
            let grant = match (n.status, &n.consent_detail) {
                (wire::ConsentStatus::Granted, Some(d)) => {
                    Some(grant(d, n.signature.as_deref().unwrap_or_default())?)
                }
                (wire::ConsentStatus::Granted, None) => {
                    return Err("a granted consent without its detail".into())
                }
                _ => None,
            };
            Ok(Event::Request {
                request_id,
                request: Incoming::Consent(ConsentNotice {
                    consent_id: n.consent_id,
                    status: status(n.status),
                    grant,
                }),
            })
        }
        p if p == data_flow::hip_request::Endpoint::PATH => {
            let (request_id, r): (_, data_flow::hip_request::Body) = request(request_id, body)?;
            let h = r.hi_request;
            Ok(Event::Request {
                request_id,
                request: Incoming::HealthInformation(HiRequest {
                    transaction_id: r.transaction_id,
                    consent_id: h.consent.id,
                    from: h.date_range.from.0,
                    to: h.date_range.to.0,
                    data_push_url: h.data_push_url,
                    key: PushKey {
                        public_key: h.key_material.dh_public_key.key_value,
                        nonce: h.key_material.nonce,
                        expiry: h.key_material.dh_public_key.expiry.0,
                    },
                }),
            })
        }
        // Pushes come by our own push paths, the same body in both generations.
        p if p == abdm::v0_5::health_information::transfer::Endpoint::PATH => {
            crate::gateway::v0_5::hiu::read_push(body)
        }
        other => super::hiu::read(other, request_id, body)
            .unwrap_or_else(|| Err(format!("{other} is not a message this desk handles"))),
    }
}
