//! The flows' view of ABDM, independent of the protocol generation: calls the desk makes and
//! events ABDM sends back. [`V05`] maps them onto ABDM v0.5 with the `abdm` crate; a v3 module will
//! map the same calls and events onto HIECM v3.

use abdm::client::Acting as WireActing;
use abdm::healthid_v1 as hid;
use abdm::v0_5::{links, profile, user_auth};
use abdm::{
    AbdmError, AuthMode, AuthPurpose, Callback, GatewayClient, Operation, Request, Requester,
    ServiceKind,
};
use relay_client::Delivery;
use serde_json::Value;
use uuid::Uuid;

/// An asynchronous ABDM call (answered later by a callback), as the flows name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    FetchModes {
        abha: String,
    },
    AuthInit {
        abha: String,
        mode: AuthMode,
    },
    ConfirmDemographics {
        transaction_id: String,
        name: String,
        gender: abdm::Gender,
        date_of_birth: String,
    },
    ConfirmOtp {
        transaction_id: String,
        otp: String,
    },
    AddContexts {
        link_token: String,
        patient_reference: String,
        display: String,
        contexts: Vec<(String, String)>,
    },
    /// The answer to a profile share: the token number given, or a refusal.
    ShareAnswer {
        share_request_id: Uuid,
        abha_address: String,
        token: Option<u32>,
    },
}

/// What ABDM told us, as the flows need it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    AuthModes {
        answers: Uuid,
        modes: Vec<AuthMode>,
    },
    AuthStarted {
        answers: Uuid,
        transaction_id: String,
    },
    AuthConfirmed {
        answers: Uuid,
        link_token: Option<String>,
    },
    ContextsLinked {
        answers: Uuid,
    },
    /// A patient scanned our counter QR.
    ProfileShared {
        request_id: Uuid,
        profile: SharedProfile,
    },
    /// A callback that reports an error.
    Refused {
        answers: Uuid,
        code: String,
        message: String,
    },
    /// Anything the desk does not handle yet (logged, acknowledged).
    Other {
        path: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SharedProfile {
    pub abha_number: String,
    pub abha_address: String,
    pub name: String,
    pub gender: String,
    pub year_of_birth: i32,
    pub month_of_birth: Option<u32>,
    pub day_of_birth: Option<u32>,
    pub mobile: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub pincode: Option<String>,
}

/// A call ready for the outbox: where it goes and exactly what is sent (request id included).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub path: String,
    pub body: Value,
    pub acting: desk_store::Acting,
}

/// One protocol generation.
#[allow(async_fn_in_trait)]
pub trait Gateway: Send + Sync + 'static {
    /// Builds the wire form of a call with its (stable) request id.
    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared;
    /// Sends a prepared call once.
    async fn send(
        &self,
        path: &str,
        body: &Value,
        acting: &desk_store::Acting,
    ) -> Result<(), AbdmError>;
    /// Reads a message the relay delivered.
    fn read(&self, delivery: &Delivery) -> Result<Event, String>;
    /// The synchronous ABHA service.
    fn abha(&self) -> &GatewayClient;
}

/// ABDM v0.5 (gateway) with health id v1.
pub struct V05 {
    client: GatewayClient,
    /// Our HIP/HIU service id.
    service_id: String,
}

impl V05 {
    pub fn new(client: GatewayClient, service_id: impl Into<String>) -> Self {
        Self {
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
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

impl Gateway for V05 {
    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared {
        let hip = desk_store::Acting::Hip(self.service_id.clone());
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
                            auth_mode: Some(*mode),
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
                                gender: *gender,
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
                            auth_code: Some(otp.clone()),
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
                            access_token: link_token.clone(),
                            patient: links::LinkedPatient {
                                reference_number: patient_reference.clone(),
                                display: display.clone(),
                                care_contexts: contexts
                                    .iter()
                                    .map(|(r, d)| abdm::CareContextRepresentation {
                                        reference_number: r.clone(),
                                        display: d.clone(),
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
            acting: hip,
        }
    }

    async fn send(
        &self,
        path: &str,
        body: &Value,
        acting: &desk_store::Acting,
    ) -> Result<(), AbdmError> {
        let acting = match acting {
            desk_store::Acting::Hip(id) => WireActing::Hip(id.clone()),
            desk_store::Acting::Hiu(id) => WireActing::Hiu(id.clone()),
            desk_store::Acting::None => WireActing::Bridge,
        };
        self.client.send_json(path, body, &acting).await
    }

    fn read(&self, d: &Delivery) -> Result<Event, String> {
        fn cb<T: serde::de::DeserializeOwned>(v: &Value) -> Result<Callback<T>, String> {
            serde_json::from_value(v.clone()).map_err(|e| format!("unreadable callback: {e}"))
        }
        let refused = |answers: Uuid, e: &abdm::ErrorBody| Event::Refused {
            answers,
            code: e.code.normalized(),
            message: e.message.clone(),
        };
        let path = d.path.as_str();
        Ok(if path == user_auth::on_fetch_modes::Endpoint::PATH {
            let c: Callback<user_auth::on_fetch_modes::Body> = cb(&d.body)?;
            match (c.body.auth, c.error) {
                (Some(a), None) => Event::AuthModes {
                    answers: c.resp.request_id,
                    modes: a.modes,
                },
                (_, Some(e)) => refused(c.resp.request_id, &e),
                (None, None) => return Err("on-fetch-modes with neither result nor error".into()),
            }
        } else if path == user_auth::on_init::Endpoint::PATH {
            let c: Callback<user_auth::on_init::Body> = cb(&d.body)?;
            match (c.body.auth, c.error) {
                (Some(a), None) => Event::AuthStarted {
                    answers: c.resp.request_id,
                    transaction_id: a.transaction_id,
                },
                (_, Some(e)) => refused(c.resp.request_id, &e),
                (None, None) => return Err("on-init with neither result nor error".into()),
            }
        } else if path == user_auth::on_confirm::Endpoint::PATH {
            let c: Callback<user_auth::on_confirm::Body> = cb(&d.body)?;
            match (c.body.auth, c.error) {
                (Some(a), None) => Event::AuthConfirmed {
                    answers: c.resp.request_id,
                    link_token: a.access_token,
                },
                (_, Some(e)) => refused(c.resp.request_id, &e),
                (None, None) => return Err("on-confirm with neither result nor error".into()),
            }
        } else if path == links::on_add_contexts::Endpoint::PATH {
            let c: Callback<links::on_add_contexts::Body> = cb(&d.body)?;
            match c.error {
                // ABDM-1056 "already linked" is success.
                Some(e)
                    if !e.message.contains("ABDM-1056") && e.code.normalized() != "ABDM-1056" =>
                {
                    refused(c.resp.request_id, &e)
                }
                _ => Event::ContextsLinked {
                    answers: c.resp.request_id,
                },
            }
        } else if path == profile::share::Endpoint::PATH || path == profile::share::V1_PATH {
            let r: Request<profile::share::Body> = serde_json::from_value(d.body.clone())
                .map_err(|e| format!("unreadable share: {e}"))?;
            let u = r.body.patient.user_demographics;
            let mobile = u
                .identifiers
                .iter()
                .find(|i| i.kind == abdm::IdentifierType::Mobile)
                .map(|i| i.value.clone());
            let address = u.address.unwrap_or_default();
            Event::ProfileShared {
                request_id: r.request_id,
                profile: SharedProfile {
                    abha_number: u.health_id_number,
                    abha_address: u.health_id,
                    name: u.name,
                    gender: format!("{:?}", u.gender),
                    year_of_birth: u.year_of_birth,
                    month_of_birth: u.month_of_birth,
                    day_of_birth: u.day_of_birth,
                    mobile,
                    district: address.district,
                    state: address.state,
                    pincode: address.pincode,
                },
            }
        } else {
            Event::Other {
                path: d.path.clone(),
            }
        })
    }

    fn abha(&self) -> &GatewayClient {
        &self.client
    }
}

/// Reads `TxnResponse` etc. from the ABHA service.
pub type Txn = hid::TxnResponse;
