//! ABDM v0.5 (gateway) with health id v1: the only module of the desk, besides `v3`, that names
//! `abdm`'s wire types.

mod abha;

use std::sync::Arc;

use abdm::client::Acting as WireActing;
use abdm::v0_5::{self as wire, links, profile, user_auth};
use abdm::v0_5::{AuthPurpose, Callback, Request, Requester, ServiceKind};
use abdm::{AbdmError, GatewayClient, Operation};
use desk_store::{Gender, Secret};
use serde_json::Value;
use uuid::Uuid;

pub use abha::HealthIdV1;

use super::{
    Acting, Answer, AnyAbha, AuthMode, Call, Event, Gateway, Generation, Incoming, Outgoing,
    Prepared, SharedProfile,
};

/// ABDM v0.5 with health id v1.
pub struct V05 {
    client: Arc<GatewayClient>,
    /// Our HIP/HIU service id.
    service_id: String,
    abha: AnyAbha,
}

impl V05 {
    /// The gateway behind `client`, acting for `service_id`.
    pub fn new(client: GatewayClient, service_id: impl Into<String>) -> Self {
        let client = Arc::new(client);
        Self {
            abha: AnyAbha::V1(HealthIdV1::new(client.clone())),
            client,
            service_id: service_id.into(),
        }
    }

    fn requester(&self) -> Requester {
        Requester {
            kind: ServiceKind::Hip,
            id: self.service_id.clone(),
        }
    }

    pub(crate) fn abha_any(&self) -> &AnyAbha {
        &self.abha
    }
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

fn wire_mode(mode: AuthMode) -> wire::AuthMode {
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

fn gender(g: wire::Gender) -> Gender {
    match g {
        wire::Gender::M => Gender::M,
        wire::Gender::F => Gender::F,
        wire::Gender::O => Gender::O,
        wire::Gender::U => Gender::U,
    }
}

impl Gateway for V05 {
    type Abha = HealthIdV1;

    fn generation(&self) -> Generation {
        Generation::V05
    }

    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared {
        let (path, body) = match call {
            Call::FetchModes { abha } => (
                user_auth::fetch_modes::Endpoint::PATH,
                json(&Request::with_id(
                    request_id,
                    user_auth::fetch_modes::Body {
                        query: user_auth::fetch_modes::Query {
                            id: abha.clone(),
                            purpose: AuthPurpose::KycAndLink,
                            requester: self.requester(),
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
                            requester: self.requester(),
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
                contexts,
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
                                care_contexts: contexts
                                    .iter()
                                    .map(|c| wire::CareContextRepresentation {
                                        reference_number: c.reference.clone(),
                                        display: c.display.clone(),
                                    })
                                    .collect(),
                            },
                        },
                    },
                )),
            ),
            Call::ShareAnswer {
                share_request_id,
                abha_address,
                token,
            } => {
                let status = if token.is_some() {
                    profile::on_share::ShareStatus::Success
                } else {
                    profile::on_share::ShareStatus::Failure
                };
                let mut callback = Callback::answering(
                    *share_request_id,
                    profile::on_share::Body {
                        acknowledgement: profile::on_share::Acknowledgement {
                            status,
                            health_id: abha_address.clone(),
                            token_number: token.map(|t| t.to_string()),
                        },
                    },
                );
                callback.request_id = request_id;
                (profile::on_share::Endpoint::PATH, json(&callback))
            }
        };
        Prepared {
            path: path.to_string(),
            body,
            acting: Acting::Hip(self.service_id.clone()),
        }
    }

    async fn send(&self, prepared: &Prepared, out: Outgoing) -> Result<(), AbdmError> {
        let acting = match &prepared.acting {
            Acting::Hip(id) => WireActing::Hip(id.clone()),
            Acting::Hiu(id) => WireActing::Hiu(id.clone()),
            Acting::None => WireActing::Bridge,
        };
        // v0.5 carries the request id and the time in the body: the id as prepared, the time now.
        let mut body = prepared.body.clone();
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "requestId".into(),
                Value::String(out.request_id.to_string()),
            );
            object.insert("timestamp".into(), Value::String(out.timestamp.to_string()));
        }
        self.client.send_json(&prepared.path, &body, &acting).await
    }

    fn read(&self, path: &str, body: &Value) -> Result<Event, String> {
        fn cb<T: serde::de::DeserializeOwned>(v: &Value) -> Result<Callback<T>, String> {
            serde_json::from_value(v.clone()).map_err(|e| format!("unreadable callback: {e}"))
        }
        let answer = |c_resp: Uuid, answer: Answer| Event::Answer {
            in_reply_to: c_resp,
            answer,
        };
        let refused = |e: &wire::ErrorBody| Answer::Refused {
            code: e.code.normalized(),
            message: e.message.clone(),
        };
        if path == user_auth::on_fetch_modes::Endpoint::PATH {
            let c: Callback<user_auth::on_fetch_modes::Body> = cb(body)?;
            return Ok(answer(
                c.resp.request_id,
                match (c.body.auth, c.error) {
                    (_, Some(e)) => refused(&e),
                    (Some(a), None) => Answer::AuthModes(
                        a.modes
                            .into_iter()
                            .filter_map(|m| match m {
                                wire::AuthMode::MobileOtp => Some(AuthMode::MobileOtp),
                                wire::AuthMode::AadhaarOtp => Some(AuthMode::AadhaarOtp),
                                wire::AuthMode::Demographics => Some(AuthMode::Demographics),
                                _ => None,
                            })
                            .collect(),
                    ),
                    (None, None) => {
                        return Err("on-fetch-modes with neither result nor error".into())
                    }
                },
            ));
        }
        if path == user_auth::on_init::Endpoint::PATH {
            let c: Callback<user_auth::on_init::Body> = cb(body)?;
            return Ok(answer(
                c.resp.request_id,
                match (c.body.auth, c.error) {
                    (_, Some(e)) => refused(&e),
                    (Some(a), None) => Answer::AuthStarted {
                        transaction_id: a.transaction_id,
                    },
                    (None, None) => return Err("on-init with neither result nor error".into()),
                },
            ));
        }
        if path == user_auth::on_confirm::Endpoint::PATH {
            let c: Callback<user_auth::on_confirm::Body> = cb(body)?;
            return Ok(answer(
                c.resp.request_id,
                match (c.body.auth, c.error) {
                    (_, Some(e)) => refused(&e),
                    (Some(a), None) => Answer::AuthConfirmed {
                        link_token: a.access_token.map(Secret::new),
                    },
                    (None, None) => return Err("on-confirm with neither result nor error".into()),
                },
            ));
        }
        if path == links::on_add_contexts::Endpoint::PATH {
            let c: Callback<links::on_add_contexts::Body> = cb(body)?;
            return Ok(answer(
                c.resp.request_id,
                match c.error {
                    // ABDM-1056 "already linked" is success.
                    Some(e)
                        if !e.message.contains("ABDM-1056")
                            && e.code.normalized() != "ABDM-1056" =>
                    {
                        refused(&e)
                    }
                    _ => Answer::ContextsLinked,
                },
            ));
        }
        if path == profile::share::Endpoint::PATH || path == profile::share::V1_PATH {
            let r: Request<profile::share::Body> = serde_json::from_value(body.clone())
                .map_err(|e| format!("unreadable share: {e}"))?;
            let u = r.body.patient.user_demographics;
            let mobile = u
                .identifiers
                .iter()
                .find(|i| i.kind == wire::IdentifierType::Mobile)
                .map(|i| i.value.clone());
            let address = u.address.unwrap_or_default();
            return Ok(Event::Request {
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
            });
        }
        Err(format!("{path} is not a message this desk handles"))
    }

    fn abha(&self) -> &HealthIdV1 {
        match &self.abha {
            AnyAbha::V1(h) => h,
        }
    }

    async fn check_credentials(&self) -> Result<(), AbdmError> {
        self.client.session_token().await.map(|_| ())
    }

    async fn register_facility(&self, hf_id: &str, name: &str) -> Result<(), AbdmError> {
        self.client
            .register_facility(hf_id, name, &[ServiceKind::Hip, ServiceKind::Hiu])
            .await
    }

    async fn register_bridge(&self, url: &str) -> Result<(), AbdmError> {
        self.client.register_bridge(url).await
    }
}
