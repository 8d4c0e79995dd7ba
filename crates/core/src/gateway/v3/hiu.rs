//! The HIU's calls and messages in v3: consent requests, consent notices and artefacts, data
//! requests, and our transfer notification.

use abdm::v3::{self as wire, consent, data_flow};
use abdm::Operation;
use serde_json::Value;
use uuid::Uuid;

use super::prepare::{hi_type, json, notify};
use super::read::{grant, reply, request, status};
use crate::gateway::hiu::{FetchedArtefact, HiuConsentNotice};
use crate::gateway::{Acting, Answer, Call, Event, Incoming, Prepared};

/// The wire form of a HIU call (acting as our HIU).
pub(super) fn prepare(service_id: &str, call: &Call) -> Prepared {
    let hiu = Acting::Hiu(service_id.to_string());
    let (path, body) = match call {
        Call::ConsentRequestInit { ask, .. } => {
            // v3 has no notification URL: notices go to the bridge.
            let body = consent::request_init::Body {
                consent: consent::request_init::Consent {
                    purpose: wire::Purpose {
                        text: ask.purpose_text.clone(),
                        code: ask.purpose_code.clone(),
                        ref_uri: Some("http://terminology.hl7.org/ValueSet/v3-PurposeOfUse".into()),
                    },
                    patient: wire::PatientId {
                        id: ask.patient.clone(),
                    },
                    hip: None,
                    hiu: wire::Service::hiu(service_id, None),
                    care_contexts: None,
                    requester: wire::Requester {
                        name: ask.requester_name.clone(),
                        identifier: wire::RequesterIdentifier {
                            kind: "REGNO".into(),
                            value: ask.requester_id.clone().unwrap_or_default(),
                            system: "https://www.mciindia.org".into(),
                        },
                    },
                    hi_types: ask.hi_types.iter().filter_map(|t| hi_type(t)).collect(),
                    permission: wire::Permission {
                        access_mode: wire::AccessMode::View,
                        date_range: wire::DateRange {
                            from: ask.from.into(),
                            to: ask.to.into(),
                        },
                        data_erase_at: ask.erase_at.into(),
                        frequency: crate::gateway::v0_5::wire_frequency(&ask.frequency),
                    },
                },
            };
            (consent::request_init::Endpoint::PATH, json(&body))
        }
        Call::ConsentRequestStatus { consent_request_id } => {
            let body = consent::request_status::Body {
                consent_request_id: Uuid::parse_str(consent_request_id).unwrap_or_default(),
            };
            (consent::request_status::Endpoint::PATH, json(&body))
        }
        Call::HiuOnNotify {
            answers,
            consent_ids,
        } => {
            let body = consent::hiu_on_notify::Body {
                acknowledgement: consent_ids
                    .iter()
                    .map(|id| consent::ConsentAck {
                        status: "OK".into(),
                        consent_id: *id,
                    })
                    .collect(),
            };
            let path = consent::hiu_on_notify::Endpoint::PATH;
            (path, json(&wire::Reply::answering(*answers, body)))
        }
        Call::FetchConsent { consent_id } => {
            let body = consent::fetch::Body {
                consent_id: *consent_id,
            };
            (consent::fetch::Endpoint::PATH, json(&body))
        }
        Call::DataRequest(ask) => {
            let body = data_flow::hiu_request::Body {
                hi_request: data_flow::HiRequest {
                    consent: consent::IdRef { id: ask.consent_id },
                    date_range: wire::DateRange {
                        from: ask.from.into(),
                        to: ask.to.into(),
                    },
                    data_push_url: ask.push_url.clone(),
                    key_material: wire::KeyMaterial::curve25519(
                        ask.public_key.clone(),
                        ask.nonce.clone(),
                        ask.expiry.into(),
                    ),
                },
            };
            (data_flow::hiu_request::Endpoint::PATH, json(&body))
        }
        Call::HiuTransferred { report, hip_id } => {
            let body = notify(report, "HIU", service_id, hip_id);
            (data_flow::notify::Endpoint::PATH, json(&body))
        }
        other => unreachable!("{other:?} is prepared by v3::prepare"),
    };
    Prepared::new(path, body, hiu)
}

fn notice(
    id: Option<Uuid>,
    s: wire::ConsentStatus,
    artefacts: &[consent::IdRef],
) -> HiuConsentNotice {
    HiuConsentNotice {
        consent_request_id: id.map(|i| i.to_string()).unwrap_or_default(),
        status: match s {
            wire::ConsentStatus::Requested => None,
            other => Some(status(other)),
        },
        artefacts: artefacts.iter().map(|a| a.id).collect(),
    }
}

/// A HIU message, if `path` names one.
pub(super) fn read(
    path: &str,
    request_id: Option<&str>,
    body: &Value,
) -> Option<Result<Event, String>> {
    Some(match path {
        p if p == consent::on_init::Endpoint::PATH => reply(body, |b: consent::on_init::Body| {
            let id = b
                .consent_request
                .ok_or("on-init with neither a consent request nor an error")?;
            Ok(Answer::ConsentRequested {
                consent_request_id: id.id.to_string(),
            })
        }),
        p if p == consent::on_status::Endpoint::PATH => {
            reply(body, |b: consent::on_status::Body| {
                let c = b
                    .consent_request
                    .ok_or("on-status with neither a consent request nor an error")?;
                Ok(Answer::ConsentRequestState(notice(
                    Some(c.id),
                    c.status,
                    &c.consent_artefacts,
                )))
            })
        }
        p if p == consent::hiu_notify::Endpoint::PATH => {
            request(request_id, body).map(|(request_id, r): (_, consent::hiu_notify::Body)| {
                let n = r.notification;
                Event::Request {
                    request_id,
                    request: Incoming::HiuConsent(notice(
                        n.consent_request_id,
                        n.status,
                        &n.consent_artefacts,
                    )),
                }
            })
        }
        p if p == consent::on_fetch::Endpoint::PATH => reply(body, |b: consent::on_fetch::Body| {
            let a = b
                .consent
                .ok_or("on-fetch with neither an artefact nor an error")?;
            let d = a
                .consent_detail
                .as_ref()
                .ok_or("on-fetch with an artefact but not its detail")?;
            Ok(Answer::Artefact(Box::new(FetchedArtefact {
                consent_id: d.consent_id,
                status: status(a.status),
                grant: grant(d, &a.signature)?,
                hip_id: d.hip.id.clone(),
                hip_name: d.hip.name.clone(),
            })))
        }),
        p if p == data_flow::hiu_on_request::Endpoint::PATH => {
            reply(body, |b: data_flow::hiu_on_request::Body| {
                let h = b
                    .hi_request
                    .ok_or("on-request with neither a transfer nor an error")?;
                Ok(Answer::DataRequested {
                    transaction_id: h.transaction_id,
                })
            })
        }
        _ => return None,
    })
}
