//! Calls into v3 wire bodies: the path, the body, who acts, and the link token for `X-LINK-TOKEN`.

use abdm::v3::{
    self as wire, consent, data_flow, hip_linking, link_token, patient_share, user_linking,
};
use abdm::Operation;
use desk_store::Gender;
use serde_json::Value;
use uuid::Uuid;

use crate::gateway::hip::{IdKind, Refusal, TransferReport};
use crate::gateway::{Acting, Call, ContextRef, Prepared};

pub(super) fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

pub(super) fn wire_gender(gender: Gender) -> wire::Gender {
    match gender {
        Gender::M => wire::Gender::M,
        Gender::F => wire::Gender::F,
        Gender::O => wire::Gender::O,
        Gender::U => wire::Gender::U,
    }
}

pub(super) fn hi_type(name: &str) -> Option<wire::HiType> {
    serde_json::from_value(Value::String(name.to_string())).ok()
}

/// Care contexts grouped by HI type, as v3 lists them (a visit with several types is in several
/// groups; one without a known type goes under `OPConsultation`, what every visit is).
pub(super) fn groups(
    reference: &str,
    display: &str,
    items: &[ContextRef],
) -> Vec<wire::PatientContexts> {
    let pairs = items.iter().flat_map(|c| {
        let types: Vec<wire::HiType> = c.hi_types.iter().filter_map(|t| hi_type(t)).collect();
        let types = if types.is_empty() {
            vec![wire::HiType::OPConsultation]
        } else {
            types
        };
        types.into_iter().map(|t| {
            (
                t,
                wire::CareContext {
                    reference_number: c.reference.clone(),
                    display: Some(c.display.clone()),
                },
            )
        })
    });
    wire::PatientContexts::grouped(reference, Some(display), pairs)
}

fn id_kind(kind: IdKind) -> wire::IdentifierType {
    match kind {
        IdKind::Mobile => wire::IdentifierType::Mobile,
        IdKind::AbhaNumber => wire::IdentifierType::AbhaNumber,
        IdKind::AbhaAddress => wire::IdentifierType::AbhaAddress,
        IdKind::MedicalRecord => wire::IdentifierType::MedicalRecord,
    }
}

/// v3 takes only ABDM's codes (`ABDM-nnnn`): the desk's own become the nearest of ABDM's, with
/// ours kept at the head of the message.
pub(super) fn abdm_code(r: &Refusal) -> (String, String) {
    let code = match r.code.as_str() {
        "HIP-1001" => "ABDM-1010",              // more than one patient matches
        "HIP-1002" => "ABDM-1057",              // no such patient, care contexts or link
        "HIP-1003" => "ABDM-1035",              // wrong OTP
        "HIP-1004" | "HIP-1005" => "ABDM-1017", // the link's transaction is over
        "HIP-1006" => "ABDM-1010",              // nowhere to send the OTP
        "HIP-2001" => "ABDM-1112",              // unknown artefact
        "HIP-2002" => "ABDM-1062",              // consent not granted
        "HIP-2003" => "ABDM-1061",              // consent expired
        "HIP-2004" => "ABDM-1063",              // dates outside the consent
        "HIP-2005" => "ABDM-1001",              // nothing matches
        "HIP-2006" | "HIP-2007" | "HIP-2008" => "ABDM-1006", // the request itself
        _ if is_abdm(&r.code) => return (r.code.clone(), r.message.clone()),
        _ => "ABDM-9999",
    };
    (code.to_string(), format!("{}: {}", r.code, r.message))
}

fn is_abdm(code: &str) -> bool {
    code.strip_prefix("ABDM-")
        .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Our answer to a gateway request named by its `REQUEST-ID`.
fn reply<T>(answers: Uuid, body: T, refusal: Option<&Refusal>) -> wire::Reply<T> {
    match refusal {
        Some(r) => {
            let (code, message) = abdm_code(r);
            wire::Reply::failed(answers, body, &code, message)
        }
        None => wire::Reply::answering(answers, body),
    }
}

/// `health-information/notify` from either side.
pub(super) fn notify(
    report: &TransferReport,
    notifier: &str,
    notifier_id: &str,
    hip_id: &str,
) -> data_flow::notify::Body {
    let hip = notifier == "HIP";
    let (done, failed, ok) = if hip {
        ("TRANSFERRED", "FAILED", "DELIVERED")
    } else {
        ("RECEIVED", "FAILED", "OK")
    };
    data_flow::notify::Body {
        notification: data_flow::notify::Notification {
            consent_id: report.consent_id,
            transaction_id: report.transaction_id,
            done_at: abdm::Timestamp::now(),
            notifier: data_flow::notify::Notifier {
                kind: notifier.into(),
                id: notifier_id.into(),
            },
            status_notification: data_flow::notify::StatusNotification {
                session_status: if report.transferred { done } else { failed }.into(),
                hip_id: hip_id.into(),
                status_responses: report
                    .statuses
                    .iter()
                    .map(|(cc, delivered, words)| data_flow::notify::StatusResponse {
                        care_context_reference: cc.clone(),
                        hi_status: if *delivered { ok } else { "ERRORED" }.into(),
                        description: Some(words.clone()),
                    })
                    .collect(),
            },
        },
    }
}

/// The wire form of a call made as our HIP (HIU calls go to `hiu::prepare`).
pub(super) fn prepare(service_id: &str, call: &Call, request_id: Uuid) -> Prepared {
    let hip = || Acting::Hip(service_id.to_string());
    let (path, body, acting) = match call {
        Call::ConnectionProbe { .. } => {
            // Any question ABDM answers by callback will do: where a consent request no one
            // made stands (the answer is a refusal, through the relay).
            let body = consent::request_status::Body {
                consent_request_id: request_id,
            };
            let path = consent::request_status::Endpoint::PATH;
            (path, json(&body), Acting::Hiu(service_id.to_string()))
        }
        Call::GenerateLinkToken {
            abha_number,
            abha_address,
            name,
            gender,
            year_of_birth,
        } => {
            let body = link_token::generate_token::Body {
                abha_number: abha_number.clone(),
                abha_address: abha_address.clone(),
                name: plain_name(name),
                gender: wire_gender(*gender),
                year_of_birth: u32::try_from(*year_of_birth).unwrap_or_default(),
            };
            (
                link_token::generate_token::Endpoint::PATH,
                json(&body),
                hip(),
            )
        }
        Call::AddContexts {
            link_token,
            abha_number,
            abha_address,
            patient_reference,
            display,
            contexts,
        } => {
            let body = hip_linking::carecontext::Body {
                abha_number: abha_number.clone(),
                abha_address: abha_address.clone().unwrap_or_default(),
                patient: groups(patient_reference, display, contexts)
                    .into_iter()
                    .map(hip_linking::carecontext::Group::new)
                    .collect(),
            };
            return Prepared {
                link_token: Some(link_token.expose().to_string()),
                ..Prepared::new(hip_linking::carecontext::Endpoint::PATH, json(&body), hip())
            };
        }
        Call::ContextNotify {
            abha_address,
            patient_reference,
            context,
        } => {
            let body = hip_linking::context_notify::Body {
                notification: hip_linking::context_notify::Notification {
                    patient: wire::PatientId {
                        id: abha_address.clone(),
                    },
                    care_context: wire::CareContextDefinition {
                        patient_reference: patient_reference.clone(),
                        care_context_reference: context.reference.clone(),
                    },
                    hi_types: {
                        let types: Vec<_> =
                            context.hi_types.iter().filter_map(|t| hi_type(t)).collect();
                        if types.is_empty() {
                            vec![wire::HiType::OPConsultation]
                        } else {
                            types
                        }
                    },
                    date: abdm::Timestamp::now(),
                    hip: wire::PatientId {
                        id: service_id.to_string(),
                    },
                },
            };
            (
                hip_linking::context_notify::Endpoint::PATH,
                json(&body),
                hip(),
            )
        }
        Call::ShareAnswer {
            share_request_id,
            abha_address,
            counter,
            token,
        } => {
            use patient_share::on_share as s;
            let acknowledgement = s::Acknowledgement {
                status: if token.is_some() {
                    "SUCCESS"
                } else {
                    "FAILURE"
                }
                .into(),
                abha_address: abha_address.clone(),
                profile: token.map(|t| s::TokenProfile {
                    context: counter.clone().unwrap_or_default(),
                    token_number: t.to_string(),
                    expiry: 1800,
                }),
            };
            let refusal = token.is_none().then(|| Refusal {
                code: "ABDM-1013".into(),
                message: "The shared ABHA number is not valid".into(),
            });
            let body = reply(
                *share_request_id,
                s::Body { acknowledgement },
                refusal.as_ref(),
            );
            (s::Endpoint::PATH, json(&body), hip())
        }
        Call::OnDiscover {
            answers,
            transaction_id,
            result,
        } => {
            let body = user_linking::on_discover::Body {
                transaction_id: *transaction_id,
                patient: result
                    .as_ref()
                    .map(|p| groups(&p.reference, &p.display, &p.care_contexts))
                    .unwrap_or_default(),
                matched_by: result
                    .as_ref()
                    .map(|p| p.matched_by.iter().map(|k| id_kind(*k)).collect())
                    .unwrap_or_default(),
            };
            let body = reply(*answers, body, result.as_ref().err());
            (
                user_linking::on_discover::Endpoint::PATH,
                json(&body),
                hip(),
            )
        }
        Call::OnLinkInit {
            answers,
            transaction_id,
            result,
        } => {
            use user_linking::on_init as i;
            let link = result.as_ref().ok().map(|sent| i::Link {
                reference_number: Uuid::parse_str(&sent.link_ref).unwrap_or_default(),
                authentication_type: "DIRECT".into(),
                meta: i::Meta {
                    communication_medium: "MOBILE".into(),
                    communication_hint: Some(sent.hint.clone()),
                    communication_expiry: sent.expires_at.into(),
                },
            });
            let body = i::Body {
                transaction_id: *transaction_id,
                link,
            };
            let body = reply(*answers, body, result.as_ref().err());
            (i::Endpoint::PATH, json(&body), hip())
        }
        Call::OnLinkConfirm { answers, result } => {
            let body = user_linking::on_confirm::Body {
                patient: result
                    .as_ref()
                    .map(|l| groups(&l.reference, &l.display, &l.care_contexts))
                    .unwrap_or_default(),
            };
            let body = reply(*answers, body, result.as_ref().err());
            (user_linking::on_confirm::Endpoint::PATH, json(&body), hip())
        }
        Call::OnConsentNotify {
            answers,
            consent_id,
        } => {
            let body = consent::hip_on_notify::Body {
                acknowledgement: consent::ConsentAck {
                    status: "OK".into(),
                    consent_id: *consent_id,
                },
            };
            let path = consent::hip_on_notify::Endpoint::PATH;
            (path, json(&reply(*answers, body, None)), hip())
        }
        Call::OnHiRequest {
            answers,
            transaction_id,
            result,
        } => {
            let body = data_flow::hip_on_request::Body {
                hi_request: data_flow::Session {
                    transaction_id: *transaction_id,
                    session_status: if result.is_ok() {
                        "ACKNOWLEDGED"
                    } else {
                        "ERRORED"
                    }
                    .into(),
                },
            };
            let body = reply(*answers, body, result.as_ref().err());
            (
                data_flow::hip_on_request::Endpoint::PATH,
                json(&body),
                hip(),
            )
        }
        Call::HiTransferred(report) => {
            let body = notify(report, "HIP", service_id, service_id);
            (data_flow::notify::Endpoint::PATH, json(&body), hip())
        }
        Call::SmsNotify {
            phone, hip_name, ..
        } => {
            let body = hip_linking::sms_notify::Body {
                notification: hip_linking::sms_notify::Notification {
                    phone_no: format!("91{phone}"),
                    hip: hip_linking::sms_notify::Hip {
                        id: service_id.to_string(),
                        name: hip_name.clone(),
                    },
                },
            };
            (hip_linking::sms_notify::Endpoint::PATH, json(&body), hip())
        }
        Call::FetchModes { .. }
        | Call::AuthInit { .. }
        | Call::ConfirmDemographics { .. }
        | Call::ConfirmOtp { .. } => {
            unreachable!("v0.5's ABHA proof: v3 gives the linking token in one call")
        }
        hiu => return super::hiu::prepare(service_id, hiu),
    };
    Prepared::new(path, body, acting)
}

/// The link token's `name` takes letters and `',. -` only.
fn plain_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_alphabetic() || " ',.-".contains(*c))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}
