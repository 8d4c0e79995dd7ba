//! Calls into v0.5 wire bodies.

use abdm::v0_5::{
    self as wire, consents, discovery, health_information as hi, links, profile, sms, user_auth,
};
use abdm::v0_5::{AuthPurpose, Callback, ErrorBody, ErrorCode, Request, Requester, ServiceKind};
use abdm::Operation;
use desk_store::Gender;
use serde_json::Value;
use uuid::Uuid;

use crate::gateway::hip::{IdKind, Refusal, TransferReport};
use crate::gateway::{Acting, AuthMode, Call, ContextRef, Prepared};

pub(super) fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

pub(super) fn wire_mode(mode: AuthMode) -> wire::AuthMode {
    match mode {
        AuthMode::MobileOtp => wire::AuthMode::MobileOtp,
        AuthMode::AadhaarOtp => wire::AuthMode::AadhaarOtp,
        AuthMode::Demographics => wire::AuthMode::Demographics,
    }
}

fn wire_gender(gender: Gender) -> wire::Gender {
    match gender {
        Gender::M => wire::Gender::M,
        Gender::F => wire::Gender::F,
        Gender::O => wire::Gender::O,
        Gender::U => wire::Gender::U,
    }
}

fn contexts(items: &[ContextRef]) -> Vec<wire::CareContextRepresentation> {
    items
        .iter()
        .map(|c| wire::CareContextRepresentation {
            reference_number: c.reference.clone(),
            display: c.display.clone(),
        })
        .collect()
}

/// v0.5 callbacks carry the spec's numeric code 1000, with ABDM's code in the message.
fn error(r: &Refusal) -> ErrorBody {
    ErrorBody {
        code: ErrorCode::Number(1000),
        message: format!("{}: {}", r.code, r.message),
    }
}

/// A callback answering `answers`, with our request id.
fn answer<T>(answers: Uuid, request_id: Uuid, body: T, refusal: Option<&Refusal>) -> Callback<T> {
    let mut c = match refusal {
        Some(r) => Callback::failed(answers, body, error(r)),
        None => Callback::answering(answers, body),
    };
    c.request_id = request_id;
    c
}

fn id_kind(kind: IdKind) -> wire::IdentifierType {
    match kind {
        IdKind::Mobile => wire::IdentifierType::Mobile,
        IdKind::AbhaNumber => wire::IdentifierType::NdhmHealthNumber,
        IdKind::AbhaAddress => wire::IdentifierType::HealthId,
        IdKind::MedicalRecord => wire::IdentifierType::MedicalRecord,
    }
}

/// How often data may be asked for, on the wire (v3 shares v0.5's schema).
pub(crate) fn wire_frequency(f: &desk_store::Frequency) -> wire::Frequency {
    use desk_store::FrequencyUnit as U;
    wire::Frequency {
        unit: match f.unit {
            U::Hour => wire::FrequencyUnit::Hour,
            U::Day => wire::FrequencyUnit::Day,
            U::Week => wire::FrequencyUnit::Week,
            U::Month => wire::FrequencyUnit::Month,
            U::Year => wire::FrequencyUnit::Year,
        },
        value: f.value,
        repeats: f.repeats,
    }
}

/// `health-information/notify`: how a transfer went, from either side.
pub(super) fn notify(
    report: &TransferReport,
    notifier: ServiceKind,
    notifier_id: &str,
    hip_id: &str,
) -> hi::notify::Body {
    let status = |ok: bool| {
        if ok {
            hi::notify::HiStatus::Delivered
        } else {
            hi::notify::HiStatus::Errored
        }
    };
    hi::notify::Body {
        notification: hi::notify::Notification {
            consent_id: report.consent_id,
            transaction_id: report.transaction_id,
            done_at: abdm::Timestamp::now(),
            notifier: hi::notify::Notifier {
                kind: notifier,
                id: notifier_id.to_string(),
            },
            status_notification: hi::notify::StatusNotification {
                session_status: if report.transferred {
                    hi::notify::TransferStatus::Transferred
                } else {
                    hi::notify::TransferStatus::Failed
                },
                hip_id: hip_id.to_string(),
                status_responses: report
                    .statuses
                    .iter()
                    .map(|(cc, ok, words)| hi::notify::StatusResponse {
                        care_context_reference: cc.clone(),
                        hi_status: status(*ok),
                        description: Some(words.clone()),
                    })
                    .collect(),
            },
        },
    }
}

/// The wire form of a call.
pub(super) fn prepare(service_id: &str, call: &Call, request_id: Uuid) -> Prepared {
    let requester = || Requester {
        kind: ServiceKind::Hip,
        id: service_id.to_string(),
    };
    let (path, body) = match call {
        Call::FetchModes { abha } | Call::ConnectionProbe { abha } => (
            user_auth::fetch_modes::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                user_auth::fetch_modes::Body {
                    query: user_auth::fetch_modes::Query {
                        id: abha.clone(),
                        purpose: AuthPurpose::KycAndLink,
                        requester: requester(),
                    },
                },
            )),
        ),
        Call::AuthInit { abha, mode } => (
            user_auth::init::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                user_auth::init::Body {
                    query: user_auth::init::Query {
                        id: abha.clone(),
                        purpose: AuthPurpose::KycAndLink,
                        auth_mode: Some(wire_mode(*mode)),
                        requester: requester(),
                    },
                },
            )),
        ),
        Call::ConfirmDemographics {
            transaction_id,
            name,
            gender,
            date_of_birth,
        } => (
            user_auth::confirm::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                user_auth::confirm::Body {
                    transaction_id: transaction_id.clone(),
                    credential: user_auth::confirm::Credential {
                        auth_code: None,
                        demographic: Some(user_auth::confirm::Demographic {
                            name: name.clone(),
                            gender: wire_gender(*gender),
                            date_of_birth: date_of_birth.clone(),
                            identifier: None,
                        }),
                    },
                },
            )),
        ),
        Call::ConfirmOtp {
            transaction_id,
            otp,
        } => (
            user_auth::confirm::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                user_auth::confirm::Body {
                    transaction_id: transaction_id.clone(),
                    credential: user_auth::confirm::Credential {
                        auth_code: Some(otp.expose().to_string()),
                        demographic: None,
                    },
                },
            )),
        ),
        Call::AddContexts {
            link_token,
            patient_reference,
            display,
            contexts: items,
            ..
        } => (
            links::add_contexts::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                links::add_contexts::Body {
                    link: links::add_contexts::Link {
                        access_token: link_token.expose().to_string(),
                        patient: links::LinkedPatient {
                            reference_number: patient_reference.clone(),
                            display: display.clone(),
                            care_contexts: contexts(items),
                        },
                    },
                },
            )),
        ),
        Call::ShareAnswer {
            share_request_id,
            abha_address,
            token,
            ..
        } => {
            let status = if token.is_some() {
                profile::on_share::ShareStatus::Success
            } else {
                profile::on_share::ShareStatus::Failure
            };
            let body = profile::on_share::Body {
                acknowledgement: profile::on_share::Acknowledgement {
                    status,
                    health_id: abha_address.clone(),
                    token_number: token.map(|t| t.to_string()),
                },
            };
            (
                profile::on_share::Endpoint::PATH,
                json(&answer(*share_request_id, request_id, body, None)),
            )
        }
        Call::OnDiscover {
            answers,
            transaction_id,
            result,
        } => {
            let body = discovery::on_discover::Body {
                transaction_id: *transaction_id,
                patient: result
                    .as_ref()
                    .ok()
                    .map(|p| discovery::on_discover::Patient {
                        reference_number: p.reference.clone(),
                        display: p.display.clone(),
                        care_contexts: contexts(&p.care_contexts),
                        matched_by: p.matched_by.iter().map(|k| id_kind(*k)).collect(),
                    }),
            };
            (
                discovery::on_discover::Endpoint::PATH,
                json(&answer(*answers, request_id, body, result.as_ref().err())),
            )
        }
        Call::OnLinkInit {
            answers,
            transaction_id,
            result,
        } => {
            let body = links::on_init::Body {
                transaction_id: *transaction_id,
                link: result.as_ref().ok().map(|sent| links::on_init::Link {
                    reference_number: sent.link_ref.clone(),
                    authentication_type: links::on_init::AuthenticationType::Direct,
                    meta: Some(links::on_init::Meta::new(
                        links::on_init::CommunicationMedium::Mobile,
                        sent.hint.clone(),
                        abdm::Timestamp::from(sent.expires_at).to_string(),
                    )),
                }),
            };
            (
                links::on_init::Endpoint::PATH,
                json(&answer(*answers, request_id, body, result.as_ref().err())),
            )
        }
        Call::OnLinkConfirm { answers, result } => {
            let body = links::on_confirm::Body {
                patient: result.as_ref().ok().map(|l| links::LinkedPatient {
                    reference_number: l.reference.clone(),
                    display: l.display.clone(),
                    care_contexts: contexts(&l.care_contexts),
                }),
            };
            (
                links::on_confirm::Endpoint::PATH,
                json(&answer(*answers, request_id, body, result.as_ref().err())),
            )
        }
        Call::OnConsentNotify {
            answers,
            consent_id,
        } => {
            let body = consents::hip_on_notify::Body {
                acknowledgement: Some(consents::Acknowledgement {
                    consent_id: consent_id.to_string(),
                    status: consents::AckStatus::Ok,
                }),
            };
            (
                consents::hip_on_notify::Endpoint::PATH,
                json(&answer(*answers, request_id, body, None)),
            )
        }
        Call::OnHiRequest {
            answers,
            transaction_id,
            result,
        } => {
            let body = hi::hip_on_request::Body {
                hi_request: result.as_ref().ok().map(|()| hi::SessionState {
                    transaction_id: *transaction_id,
                    session_status: hi::SessionStatus::Acknowledged,
                }),
            };
            (
                hi::hip_on_request::Endpoint::PATH,
                json(&answer(*answers, request_id, body, result.as_ref().err())),
            )
        }
        Call::HiTransferred(report) => (
            hi::notify::Endpoint::PATH,
            json(&Request::with_id(
                request_id,
                notify(report, ServiceKind::Hip, service_id, service_id),
            )),
        ),
        Call::SmsNotify {
            phone,
            name,
            info,
            hip_name,
        } => {
            let body = sms::notify::Body {
                notification: sms::notify::Notification {
                    phone_no: format!("+91-{phone}"),
                    receiver_name: Some(name.clone()),
                    care_context_info: info.clone(),
                    deeplink_url: None,
                    hip: wire::Organization {
                        id: service_id.to_string(),
                        name: Some(hip_name.clone()),
                    },
                },
            };
            (
                sms::notify::Endpoint::PATH,
                json(&Request::with_id(request_id, body)),
            )
        }
        Call::GenerateLinkToken { .. } | Call::ContextNotify { .. } => {
            unreachable!("v3's calls: the flows send them only on v3")
        }
        hiu => return super::hiu::prepare(service_id, hiu, request_id),
    };
    Prepared::new(path, body, Acting::Hip(service_id.to_string()))
}
