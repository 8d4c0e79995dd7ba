//! The HIU's calls and messages in v0.5: consent requests, consent notices and artefacts, data
//! requests, pushes to our push paths, and our transfer notification.

use abdm::v0_5::{self as wire, consent_requests, consents, health_information as hi};
use abdm::v0_5::{Callback, KeyMaterial, Request, ServiceKind};
use abdm::Operation;
use serde_json::Value;
use uuid::Uuid;

use super::prepare::{json, notify};
use super::read::{answer, grant, request, status};
use crate::gateway::hip::{DataEntry, DataPage};
use crate::gateway::hiu::{DataPush, FetchedArtefact, HiuConsentNotice};
use crate::gateway::{Acting, Answer, Call, Event, Incoming, Prepared};

fn hi_types(types: &[String]) -> Vec<wire::HiType> {
    // The flows check HI types against the known list; anything else is left out here.
    types
        .iter()
        .filter_map(|t| serde_json::from_value(Value::String(t.clone())).ok())
        .collect()
}

/// The wire form of a HIU call (acting as our HIU).
pub(super) fn prepare(service_id: &str, call: &Call, request_id: Uuid) -> Prepared {
    let (path, body) = match call {
        Call::ConsentRequestInit {
            ask,
            notification_url,
        } => {
            let body = consent_requests::init::Body {
                consent: consent_requests::init::Consent {
                    purpose: wire::Purpose {
                        text: ask.purpose_text.clone(),
                        code: ask.purpose_code.clone(),
                        ref_uri: Some("http://terminology.hl7.org/ValueSet/v3-PurposeOfUse".into()),
                    },
                    patient: wire::PatientId {
                        id: ask.patient.clone(),
                    },
                    hip: None,
                    hiu: wire::Organization::id(service_id.to_string()),
                    care_contexts: vec![],
                    requester: wire::ConsentRequester {
                        name: ask.requester_name.clone(),
                        identifier: ask
                            .requester_id
                            .as_ref()
                            .map(|id| wire::RequesterIdentifier {
                                kind: "REGNO".into(),
                                value: id.clone(),
                                system: "https://www.mciindia.org".into(),
                            }),
                    },
                    hi_types: hi_types(&ask.hi_types),
                    permission: wire::Permission {
                        access_mode: wire::AccessMode::View,
                        date_range: wire::DateRange {
                            from: ask.from.into(),
                            to: ask.to.into(),
                        },
                        data_erase_at: ask.erase_at.into(),
                        frequency: super::prepare::wire_frequency(&ask.frequency),
                    },
                    consent_notification_url: notification_url.clone(),
                },
            };
            (
                consent_requests::init::Endpoint::PATH,
                json(&Request::with_id(request_id, body)),
            )
        }
        Call::ConsentRequestStatus { consent_request_id } => (
            consent_requests::status::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                consent_requests::status::Body {
                    consent_request_id: consent_request_id.clone(),
                },
            )),
        ),
        Call::HiuOnNotify {
            answers,
            consent_ids,
        } => {
            let mut c = Callback::answering(
                *answers,
                consents::hiu_on_notify::Body {
                    acknowledgement: consent_ids
                        .iter()
                        .map(|id| consents::Acknowledgement {
                            consent_id: id.to_string(),
                            status: consents::AckStatus::Ok,
                        })
                        .collect(),
                },
            );
            c.request_id = request_id;
            (consents::hiu_on_notify::Endpoint::PATH, json(&c))
        }
        Call::FetchConsent { consent_id } => (
            consents::fetch::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                consents::fetch::Body {
                    consent_id: consent_id.to_string(),
                },
            )),
        ),
        Call::DataRequest(ask) => (
            hi::cm_request::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                hi::cm_request::Body {
                    hi_request: hi::HiRequest {
                        consent: hi::ConsentRef {
                            id: ask.consent_id.to_string(),
                        },
                        date_range: wire::DateRange {
                            from: ask.from.into(),
                            to: ask.to.into(),
                        },
                        data_push_url: ask.push_url.clone(),
                        key_material: KeyMaterial::curve25519(
                            ask.public_key.clone(),
                            ask.nonce.clone(),
                            ask.expiry.into(),
                        ),
                    },
                },
            )),
        ),
        Call::HiuTransferred { report, hip_id } => (
            hi::notify::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                notify(report, ServiceKind::Hiu, service_id, hip_id),
            )),
        ),
        other => unreachable!("{other:?} is prepared by v0_5::prepare"),
    };
    Prepared::new(path, body, Acting::Hiu(service_id.to_string()))
}

fn notice(
    id: String,
    s: wire::ConsentStatus,
    artefacts: &[consents::ArtefactReference],
) -> HiuConsentNotice {
    HiuConsentNotice {
        consent_request_id: id,
        status: (s != wire::ConsentStatus::Requested).then(|| status(s)),
        artefacts: artefacts
            .iter()
            .filter_map(|a| Uuid::parse_str(&a.id).ok())
            .collect(),
    }
}

/// Reads a HIU message, if `path` is one.
pub(super) fn read(path: &str, body: &Value) -> Option<Result<Event, String>> {
    Some(match path {
        p if p == consent_requests::on_init::Endpoint::PATH => {
            answer(body, |b: consent_requests::on_init::Body| {
                b.consent_request
                    .map(|c| Answer::ConsentRequested {
                        consent_request_id: c.id.to_string(),
                    })
                    .ok_or_else(|| "on-init names no consent request".to_string())
            })
        }
        p if p == consent_requests::on_status::Endpoint::PATH => {
            answer(body, |b: consent_requests::on_status::Body| {
                b.consent_request
                    .map(|c| {
                        Answer::ConsentRequestState(notice(c.id, c.status, &c.consent_artefacts))
                    })
                    .ok_or_else(|| "on-status names no consent request".to_string())
            })
        }
        p if p == consents::hiu_notify::Endpoint::PATH => {
            request::<consents::hiu_notify::Body>(body).map(|r| {
                let n = r.body.notification;
                Event::Request {
                    request_id: r.request_id,
                    request: Incoming::HiuConsent(notice(
                        n.consent_request_id,
                        n.status,
                        &n.consent_artefacts,
                    )),
                }
            })
        }
        p if p == consents::on_fetch::Endpoint::PATH => {
            answer(body, |b: consents::on_fetch::Body| {
                let a = b.consent.ok_or("on-fetch carries no artefact")?;
                let d = &a.consent_detail;
                Ok(Answer::Artefact(Box::new(FetchedArtefact {
                    consent_id: d.consent_id,
                    status: status(a.status),
                    grant: grant(d, &a.signature),
                    hip_id: d.hip.id.clone(),
                    hip_name: d.hip.name.clone(),
                })))
            })
        }
        p if p == hi::hiu_on_request::Endpoint::PATH || p == hi::hiu_on_request::CM_PATH => {
            answer(body, |b: hi::hiu_on_request::Body| {
                b.hi_request
                    .map(|s| Answer::DataRequested {
                        transaction_id: s.transaction_id,
                    })
                    .ok_or_else(|| "on-request names no transaction".to_string())
            })
        }
        p if p == hi::transfer::Endpoint::PATH => read_push(body),
        _ => return None,
    })
}

/// A page pushed to one of our push paths (the same body in v0.5 and v3).
pub(crate) fn read_push(body: &Value) -> Result<Event, String> {
    let push: hi::transfer::Body = match serde_json::from_value(body.clone()) {
        Ok(p) => p,
        Err(e) => return Err(format!("unreadable data push: {e}")),
    };
    let entries = push
        .entries
        .into_iter()
        .map(|e| {
            Ok(DataEntry {
                content: e.content.ok_or_else(|| {
                    format!(
                        "{}: entries by link are not fetched; the HIP must send content",
                        e.care_context_reference
                    )
                })?,
                checksum: e.checksum,
                care_context: e.care_context_reference,
            })
        })
        .collect::<Result<Vec<_>, String>>();
    entries.map(|entries| Event::Request {
        request_id: push.transaction_id,
        request: Incoming::DataPushed(Box::new(DataPush {
            path_id: None,
            page: DataPage {
                transaction_id: push.transaction_id,
                page_number: push.page_number,
                page_count: push.page_count,
                entries,
                sender_public_key: push.key_material.dh_public_key.key_value,
                sender_nonce: push.key_material.nonce,
                expiry: push.key_material.dh_public_key.expiry.0,
            },
        })),
    })
}
