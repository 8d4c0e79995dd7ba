//! v0.5 messages into events.

use abdm::v0_5::{
    self as wire, consents, discovery, health_information as hi, links, profile, sms, user_auth,
};
use abdm::v0_5::{Callback, Request};
use abdm::Operation;
use desk_store::{ArtefactStatus, Frequency, FrequencyUnit, Gender, Secret};
use serde_json::Value;

use crate::gateway::hip::{
    ConsentGrant, ConsentNotice, DiscoverQuery, HiRequest, IdKind, Identifier, LinkConfirmRequest,
    LinkInitRequest, PushKey,
};
use crate::gateway::{Answer, AuthMode, Event, Incoming, SharedProfile};

fn gender(g: wire::Gender) -> Gender {
    match g {
        wire::Gender::M => Gender::M,
        wire::Gender::F => Gender::F,
        wire::Gender::O => Gender::O,
        wire::Gender::U => Gender::U,
    }
}

fn callback<T: serde::de::DeserializeOwned>(v: &Value) -> Result<Callback<T>, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("unreadable callback: {e}"))
}

pub(super) fn request<T: serde::de::DeserializeOwned>(v: &Value) -> Result<Request<T>, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("unreadable request: {e}"))
}

fn refused(e: &wire::ErrorBody) -> Answer {
    Answer::Refused {
        code: e.code.normalized(),
        message: e.message.clone(),
    }
}

fn identifiers(ids: &[wire::Identifier]) -> Vec<Identifier> {
    ids.iter()
        .map(|i| Identifier {
            kind: match i.kind {
                wire::IdentifierType::Mobile => IdKind::Mobile,
                wire::IdentifierType::NdhmHealthNumber => IdKind::AbhaNumber,
                wire::IdentifierType::HealthId => IdKind::AbhaAddress,
                wire::IdentifierType::MedicalRecord => IdKind::MedicalRecord,
            },
            value: i.value.clone(),
        })
        .collect()
}

/// A consent's status in the flows' words (v3 shares v0.5's schema).
pub(crate) fn status(s: wire::ConsentStatus) -> ArtefactStatus {
    match s {
        wire::ConsentStatus::Granted => ArtefactStatus::Granted,
        wire::ConsentStatus::Revoked => ArtefactStatus::Revoked,
        wire::ConsentStatus::Expired => ArtefactStatus::Expired,
        wire::ConsentStatus::Denied | wire::ConsentStatus::Requested => ArtefactStatus::Denied,
    }
}

/// How often data may be asked for, in the flows' words (v3 shares v0.5's schema).
pub(crate) fn frequency(f: &wire::Frequency) -> Frequency {
    Frequency {
        unit: match f.unit {
            wire::FrequencyUnit::Hour => FrequencyUnit::Hour,
            wire::FrequencyUnit::Day => FrequencyUnit::Day,
            wire::FrequencyUnit::Week => FrequencyUnit::Week,
            wire::FrequencyUnit::Month => FrequencyUnit::Month,
            wire::FrequencyUnit::Year => FrequencyUnit::Year,
        },
        value: f.value,
        repeats: f.repeats,
    }
}

/// What an artefact grants, in the flows' words.
pub(super) fn grant(d: &wire::ConsentDetail, signature: &str) -> ConsentGrant {
    ConsentGrant {
        patient: d.patient.id.clone(),
        hiu_id: d.hiu.as_ref().map(|h| h.id.clone()),
        requester: d.requester.as_ref().map(|r| r.name.clone()),
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
        erase_at: d.permission.data_erase_at.0,
        frequency: frequency(&d.permission.frequency),
        signature: signature.to_string(),
    }
}

/// An answer callback: its `resp.requestId` and what it says.
pub(super) fn answer<T: serde::de::DeserializeOwned>(
    body: &Value,
    read: impl FnOnce(T) -> Result<Answer, String>,
) -> Result<Event, String> {
    let c: Callback<T> = callback(body)?;
    let answer = match &c.error {
        Some(e) => refused(e),
        None => read(c.body)?,
    };
    Ok(Event::Answer {
        in_reply_to: c.resp.request_id,
        answer,
    })
}

/// Reads a message the relay delivered.
pub(super) fn read(path: &str, body: &Value) -> Result<Event, String> {
    match path {
        p if p == user_auth::on_fetch_modes::Endpoint::PATH => {
            answer(body, |b: user_auth::on_fetch_modes::Body| {
                let auth = b
                    .auth
                    .ok_or("on-fetch-modes with neither result nor error")?;
                Ok(Answer::AuthModes(
                    auth.modes
                        .into_iter()
                        .filter_map(|m| match m {
                            wire::AuthMode::MobileOtp => Some(AuthMode::MobileOtp),
                            wire::AuthMode::AadhaarOtp => Some(AuthMode::AadhaarOtp),
                            wire::AuthMode::Demographics => Some(AuthMode::Demographics),
                            wire::AuthMode::Direct => None,
                        })
                        .collect(),
                ))
            })
        }
        p if p == user_auth::on_init::Endpoint::PATH => {
            answer(body, |b: user_auth::on_init::Body| {
                let auth = b.auth.ok_or("on-init with neither result nor error")?;
                Ok(Answer::AuthStarted {
                    transaction_id: auth.transaction_id,
                })
            })
        }
        p if p == user_auth::on_confirm::Endpoint::PATH => {
            answer(body, |b: user_auth::on_confirm::Body| {
                let auth = b.auth.ok_or("on-confirm with neither result nor error")?;
                Ok(Answer::AuthConfirmed {
                    link_token: auth.access_token.map(Secret::new),
                })
            })
        }
        p if p == links::on_add_contexts::Endpoint::PATH => {
            let c: Callback<links::on_add_contexts::Body> = callback(body)?;
            let answer = match c.error {
                // ABDM-1056 "already linked" is success.
                Some(e)
                    if !e.message.contains("ABDM-1056") && e.code.normalized() != "ABDM-1056" =>
                {
                    refused(&e)
                }
                _ => Answer::ContextsLinked,
            };
            Ok(Event::Answer {
                in_reply_to: c.resp.request_id,
                answer,
            })
        }
        p if p == sms::on_notify::Endpoint::PATH => {
            answer(body, |_: sms::on_notify::Body| Ok(Answer::Acknowledged))
        }
        p if p == profile::share::Endpoint::PATH || p == profile::share::V1_PATH => {
            let r: Request<profile::share::Body> = request(body)?;
            let u = r.body.patient.user_demographics;
            let mobile = u
                .identifiers
                .iter()
                .find(|i| i.kind == wire::IdentifierType::Mobile)
                .map(|i| i.value.clone());
            let address = u.address.unwrap_or_default();
            Ok(Event::Request {
                request_id: r.request_id,
                request: Incoming::ProfileShared(SharedProfile {
                    abha_number: u.health_id_number,
                    abha_address: u.health_id,
                    name: u.name,
                    gender: gender(u.gender),
                    year_of_birth: u.year_of_birth,
                    month_of_birth: u.month_of_birth,
                    day_of_birth: u.day_of_birth,
                    mobile,
                    district: address.district,
                    state: address.state,
                    pincode: address.pincode,
                    counter: r.body.patient.hip_code,
                }),
            })
        }
        p if p == discovery::discover::Endpoint::PATH => {
            let r: Request<discovery::discover::Body> = request(body)?;
            let patient = r.body.patient;
            Ok(Event::Request {
                request_id: r.request_id,
                request: Incoming::Discover(DiscoverQuery {
                    transaction_id: r.body.transaction_id,
                    abha_address: patient.id,
                    name: patient.name,
                    gender: gender(patient.gender),
                    year_of_birth: Some(patient.year_of_birth).filter(|y| *y > 0),
                    verified: identifiers(&patient.verified_identifiers),
                    unverified: identifiers(&patient.unverified_identifiers),
                }),
            })
        }
        p if p == links::init::Endpoint::PATH => {
            let r: Request<links::init::Body> = request(body)?;
            Ok(Event::Request {
                request_id: r.request_id,
                request: Incoming::LinkInit(LinkInitRequest {
                    transaction_id: r.body.transaction_id,
                    abha_address: r.body.patient.id,
                    patient_reference: r.body.patient.reference_number,
                    care_contexts: r
                        .body
                        .patient
                        .care_contexts
                        .into_iter()
                        .map(|c| c.reference_number)
                        .collect(),
                }),
            })
        }
        p if p == links::confirm::Endpoint::PATH => {
            let r: Request<links::confirm::Body> = request(body)?;
            Ok(Event::Request {
                request_id: r.request_id,
                request: Incoming::LinkConfirm(LinkConfirmRequest {
                    link_ref: r.body.confirmation.link_ref_number,
                    otp: Secret::new(r.body.confirmation.token),
                }),
            })
        }
        p if p == consents::hip_notify::Endpoint::PATH => {
            let r: Request<consents::hip_notify::Body> = request(body)?;
            let n = r.body.notification;
            let d = n.consent_detail;
            let grant = (n.status == wire::ConsentStatus::Granted).then(|| grant(&d, &n.signature));
            Ok(Event::Request {
                request_id: r.request_id,
                request: Incoming::Consent(ConsentNotice {
                    consent_id: n.consent_id,
                    status: status(n.status),
                    grant,
                }),
            })
        }
        p if p == hi::hip_request::Endpoint::PATH => {
            let r: Request<hi::hip_request::Body> = request(body)?;
            let h = r.body.hi_request;
            let consent_id = h
                .consent
                .id
                .parse()
                .map_err(|_| format!("the consent id {:?} is not a UUID", h.consent.id))?;
            Ok(Event::Request {
                request_id: r.request_id,
                request: Incoming::HealthInformation(HiRequest {
                    transaction_id: r.body.transaction_id,
                    consent_id,
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
        other => super::hiu::read(other, body)
            .unwrap_or_else(|| Err(format!("{other} is not a message this desk handles"))),
    }
}
