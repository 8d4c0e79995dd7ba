//! The gateway: sessions and keys, bridge and service registration, and the M1 calls a HIP makes
//! (patient authentication for linking, care-context linking, scan-and-share answers, SMS).
//! Every write answers 202 at once; the result goes to the caller's bridge as a callback.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use uuid::Uuid;

use abdm::v0_5::{links, profile, sessions, sms, user_auth};
use abdm::v0_5::{
    AuthMode, AuthPurpose, Callback, ErrorBody, ErrorCode, Identifier, IdentifierType,
    PatientAddress, Request, ServiceKind,
};
use abdm::{Operation, Timestamp};

use crate::app::{accepted, Shared};
use crate::domain::state::{AuthTransaction, OtpCheck, Service};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/gateway/v0.5/sessions", post(session))
        .route("/gateway/v0.5/certs", get(certs))
        .route(
            "/gateway/v0.5/.well-known/openid-configuration",
            get(openid),
        )
        .route("/gateway/v0.5/heartbeat", get(heartbeat))
        .route("/gateway/v1/bridges", patch(register_bridge))
        .route("/gateway/v1/bridges/getServices", get(services))
        .route(
            "/gateway/v1/bridges/MutipleHRPAddUpdateServices",
            post(add_update_services),
        )
        .route("/gateway/v0.5/users/auth/fetch-modes", post(fetch_modes))
        .route("/gateway/v0.5/users/auth/init", post(auth_init))
        .route("/gateway/v0.5/users/auth/confirm", post(auth_confirm))
        .route("/gateway/v0.5/links/link/add-contexts", post(add_contexts))
        .route("/gateway/v0.5/patients/profile/on-share", post(on_share))
        .route("/gateway/v1.0/patients/profile/on-share", post(on_share))
        .route("/gateway/v0.5/patients/sms/notify", post(sms_notify))
}

/// A callback error body, in the spec's numeric form (1000) with ABDM's own code in the message,
/// or with the live gateway's string codes when quirks are on.
pub fn callback_error(app: &Shared, code: &str, message: &str) -> ErrorBody {
    if app.faults().quirky_error_codes {
        ErrorBody {
            code: ErrorCode::Text(app.code(code)),
            message: message.into(),
        }
    } else {
        ErrorBody {
            code: ErrorCode::Number(1000),
            message: format!("{code}: {message}"),
        }
    }
}

pub(crate) async fn session(State(app): State<Shared>, body: Bytes) -> Response {
    let request: sessions::sessions::Body = match app.parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if request.grant_type != sessions::sessions::GrantType::ClientCredentials {
        return app.error(StatusCode::BAD_REQUEST, "ABDM-1920", "Invalid grant type");
    }
    let known = {
        let state = app.state();
        state
            .clients
            .get(&request.client_id)
            .map(|c| (c.secret == request.client_secret, c.generation))
    };
    match known {
        None => app.error(StatusCode::UNAUTHORIZED, "ABDM-1921", "Invalid client id"),
        Some((false, _)) => app.error(
            StatusCode::UNAUTHORIZED,
            "ABDM-1922",
            "Invalid client secret",
        ),
        Some((true, generation)) => Json(sessions::sessions::Response {
            access_token: app.issuer.session_token_at(
                &request.client_id,
                crate::tokens::now_secs(),
                generation,
            ),
            expires_in: app.issuer.session_ttl,
            refresh_expires_in: Some(1800),
            refresh_token: Some(Uuid::new_v4().to_string()),
            token_type: Some("bearer".into()),
        })
        .into_response(),
    }
}

pub(crate) async fn certs(State(app): State<Shared>) -> Json<Value> {
    Json(serde_json::to_value(app.issuer.jwks()).expect("JWKS serializes"))
}

pub(crate) async fn openid(State(app): State<Shared>) -> Json<Value> {
    Json(json!({"jwks_uri": format!("{}/gateway/v0.5/certs", app.base_url)}))
}

async fn heartbeat() -> Json<Value> {
    Json(json!({"timestamp": Timestamp::now(), "status": "UP", "error": null}))
}

pub(crate) async fn register_bridge(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, request): (String, sessions::bridges::Body) =
        match app.accept(&headers, &body, false) {
            Ok(x) => x,
            Err(r) => return r,
        };
    if url::Url::parse(&request.url)
        .map(|u| !matches!(u.scheme(), "http" | "https"))
        .unwrap_or(true)
    {
        return app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-1006",
            "Bridge url must be an http(s) URL",
        );
    }
    tracing::info!(client, url = %request.url, "bridge registered");
    app.state()
        .clients
        .get_mut(&client)
        .expect("authorized client exists")
        .bridge_url = Some(request.url);
    accepted()
}

pub(crate) async fn services(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let client = match app.authorize(&headers, false) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let state = app.state();
    let mut list: Vec<&Service> = state
        .services
        .values()
        .filter(|s| s.client_id == client)
        .collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    Json(serde_json::to_value(list).expect("services serialize")).into_response()
}

/// `POST /v1/bridges/MutipleHRPAddUpdateServices` (ABDM's facility service, spelled as it is):
/// links a health facility (HFR id) to this bridge as HIP and/or HIU. Answers 200 with a list.
pub(crate) async fn add_update_services(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, request): (String, Value) = match app.accept(&headers, &body, false) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let facility = request
        .get("facilityId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    let name = request
        .get("facilityName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let hrps = request
        .get("HRP")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if facility.is_empty() || hrps.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "HIS-400", "message": "Invalid request",
            "details": [{"code": "HIS-1070", "message": "facilityId and HRP are required"}]})),
        )
            .into_response();
    }
    let mut state = app.state();
    if let Some(existing) = state.services.get(&facility) {
        if existing.client_id != client {
            return Json(json!([{"error": {"code": "2500", "message": format!("Facility {facility} is already associated with another bridge")}}])).into_response();
        }
    }
    let types: Vec<ServiceKind> = hrps
        .iter()
        .filter_map(|h| h.get("type").and_then(Value::as_str))
        .filter_map(|t| match t {
            "HIP" => Some(ServiceKind::Hip),
            "HIU" => Some(ServiceKind::Hiu),
            _ => None,
        })
        .collect();
    state.services.insert(
        facility.clone(),
        Service {
            id: facility.clone(),
            name,
            types,
            active: true,
            client_id: client.clone(),
        },
    );
    Json(json!([{"servicesLinked": {"bridgeId": client, "facilityId": facility}}])).into_response()
}

/// The requester named in a users/auth query must be a service the caller owns (else: black hole).
fn requester_service(
    app: &Shared,
    client: &str,
    requester: &abdm::v0_5::Requester,
) -> Option<String> {
    let state = app.state();
    state
        .services
        .get(&requester.id)
        .filter(|s| s.client_id == client)
        .map(|s| s.id.clone())
}

async fn fetch_modes(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request): (String, Request<user_auth::fetch_modes::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(service) = requester_service(&app, &client, &request.body.query.requester) else {
        return accepted();
    };
    let known = app.state().account_by_id(&request.body.query.id).is_some();
    let path = user_auth::on_fetch_modes::Endpoint::PATH;
    let callback = if known {
        Callback::answering(
            request.request_id,
            user_auth::on_fetch_modes::Body {
                auth: Some(user_auth::on_fetch_modes::Modes {
                    purpose: request.body.query.purpose,
                    modes: vec![
                        AuthMode::MobileOtp,
                        AuthMode::AadhaarOtp,
                        AuthMode::Demographics,
                    ],
                }),
            },
        )
    } else {
        Callback::failed(
            request.request_id,
            user_auth::on_fetch_modes::Body { auth: None },
            callback_error(
                &app,
                "ABDM-1114",
                "No ABHA user found with this ABHA number or address",
            ),
        )
    };
    app.callback(
        &service,
        request.body.query.requester.kind,
        path,
        serde_json::to_value(callback).expect("serializes"),
    );
    accepted()
}

async fn auth_init(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request): (String, Request<user_auth::init::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let query = request.body.query;
    let Some(service) = requester_service(&app, &client, &query.requester) else {
        return accepted();
    };
    let mode = query.auth_mode.unwrap_or(AuthMode::Demographics);
    let path = user_auth::on_init::Endpoint::PATH;
    let callback = {
        let mut state = app.state();
        match state.account_by_id(&query.id).cloned() {
            None => Callback::failed(
                request.request_id,
                user_auth::on_init::Body { auth: None },
                callback_error(
                    &app,
                    "ABDM-1114",
                    "No ABHA user found with this ABHA number or address",
                ),
            ),
            Some(_) if mode == AuthMode::Direct => Callback::failed(
                request.request_id,
                user_auth::on_init::Body { auth: None },
                callback_error(
                    &app,
                    "ABDM-1006",
                    "DIRECT authentication is not supported by the sandbox",
                ),
            ),
            Some(account) => {
                let transaction_id = Uuid::new_v4().to_string();
                let otp = matches!(mode, AuthMode::MobileOtp | AuthMode::AadhaarOtp)
                    .then(|| app.new_otp());
                let hint = abdm::ids::Mobile::parse(&account.mobile)
                    .map(|m| m.masked())
                    .unwrap_or_default();
                if let Some(otp) = &otp {
                    let via = if mode == AuthMode::AadhaarOtp {
                        "Aadhaar-linked mobile"
                    } else {
                        "mobile"
                    };
                    state.send_sms(&account.mobile,
                        format!("{} is your OTP to link your ABHA {} with a health facility ({via}). Valid for {} minutes.",
                            otp.code, account.address, app.config.otp_ttl.as_secs() / 60),
                        Some(otp.code.clone()), Some(transaction_id.clone()));
                }
                let expiry = Timestamp::from(chrono::Utc::now() + app.config.otp_ttl).to_string();
                state.auth_transactions.insert(
                    transaction_id.clone(),
                    AuthTransaction {
                        account: account.number.clone(),
                        purpose: query.purpose,
                        mode,
                        requester: query.requester.clone(),
                        otp,
                        done: false,
                    },
                );
                Callback::answering(
                    request.request_id,
                    user_auth::on_init::Body {
                        auth: Some(user_auth::on_init::Auth {
                            transaction_id,
                            mode,
                            meta: Some(user_auth::on_init::Meta {
                                hint: (mode != AuthMode::Demographics).then_some(hint),
                                expiry: Some(expiry),
                            }),
                        }),
                    },
                )
            }
        }
    };
    app.callback(
        &service,
        query.requester.kind,
        path,
        serde_json::to_value(callback).expect("serializes"),
    );
    accepted()
}

fn demographics_match(
    account: &crate::domain::state::Account,
    d: &user_auth::confirm::Demographic,
) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let gender_ok = format!("{:?}", d.gender) == account.gender;
    let year_ok =
        d.date_of_birth.get(..4).and_then(|y| y.parse::<u32>().ok()) == Some(account.year_of_birth);
    norm(&d.name) == norm(&account.name) && gender_ok && year_ok
}

async fn auth_confirm(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request): (String, Request<user_auth::confirm::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let path = user_auth::on_confirm::Endpoint::PATH;
    let empty = || user_auth::on_confirm::Body { auth: None };
    let mut state = app.state();
    let Some(txn) = state
        .auth_transactions
        .get(&request.body.transaction_id)
        .cloned()
    else {
        // Unknown transaction: nobody to answer (the real gateway answers nothing useful either).
        return app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-1030",
            "Unknown transaction id",
        );
    };
    let Some(service) = state
        .services
        .get(&txn.requester.id)
        .filter(|s| s.client_id == client)
        .map(|s| s.id.clone())
    else {
        return accepted();
    };
    let account = state.accounts[&txn.account].clone();
    let credential = &request.body.credential;
    let outcome: Result<(), (&str, String)> = if txn.done {
        Err((
            "ABDM-2406",
            "This authentication was already confirmed".into(),
        ))
    } else if txn.mode == AuthMode::Demographics {
        match &credential.demographic {
            Some(d) if demographics_match(&account, d) => Ok(()),
            Some(_) => Err((
                "ABDM-1441",
                "Demographic details do not match the ABHA record".into(),
            )),
            None => Err((
                "ABDM-1006",
                "demographic details are required for DEMOGRAPHICS".into(),
            )),
        }
    } else {
        let entered = credential.auth_code.clone().unwrap_or_default();
        let txn = state
            .auth_transactions
            .get_mut(&request.body.transaction_id)
            .expect("present");
        match txn.otp.as_mut().map(|o| o.check(&entered)) {
            Some(OtpCheck::Ok) => Ok(()),
            Some(OtpCheck::Wrong { attempts_left }) => Err((
                "ABDM-1035",
                format!("OTP does not match; {attempts_left} attempts left"),
            )),
            Some(OtpCheck::Expired) => Err(("ABDM-1036", "OTP expired; ask for a new one".into())),
            Some(OtpCheck::TooManyAttempts) => Err((
                "ABDM-1100",
                "Too many wrong OTP attempts. Please try again in 30 minutes".into(),
            )),
            None => Err(("ABDM-1006", "no OTP was sent for this transaction".into())),
        }
    };
    let callback = match outcome {
        Err((code, message)) => Callback::failed(
            request.request_id,
            empty(),
            callback_error(&app, code, &message),
        ),
        Ok(()) => {
            state
                .auth_transactions
                .get_mut(&request.body.transaction_id)
                .expect("present")
                .done = true;
            let link_token = (txn.purpose != AuthPurpose::Kyc).then(|| {
                app.issuer
                    .link_token(&txn.requester.id, &account.address, 15_768_000)
            });
            let gender = account.wire_gender();
            Callback::answering(
                request.request_id,
                user_auth::on_confirm::Body {
                    auth: Some(user_auth::on_confirm::Auth {
                        access_token: link_token,
                        patient: Some(user_auth::on_confirm::Patient {
                            id: account.address.clone(),
                            name: account.name.clone(),
                            gender,
                            year_of_birth: account.year_of_birth as i32,
                            address: Some(PatientAddress {
                                line: None,
                                district: Some(account.district.clone()),
                                state: Some(account.state.clone()),
                                pincode: Some(account.pincode.clone()),
                            }),
                            identifiers: vec![
                                Identifier {
                                    kind: IdentifierType::Mobile,
                                    value: account.mobile.clone(),
                                },
                                Identifier {
                                    kind: IdentifierType::NdhmHealthNumber,
                                    value: account.number.clone(),
                                },
                                Identifier {
                                    kind: IdentifierType::HealthId,
                                    value: account.address.clone(),
                                },
                            ],
                        }),
                        validity: Some(user_auth::on_confirm::Validity {
                            purpose: txn.purpose,
                            requester: txn.requester.clone(),
                            expiry: Timestamp::from(
                                chrono::Utc::now() + chrono::Duration::days(182),
                            ),
                            limit: 1,
                        }),
                    }),
                },
            )
        }
    };
    drop(state);
    app.callback(
        &service,
        txn.requester.kind,
        path,
        serde_json::to_value(callback).expect("serializes"),
    );
    accepted()
}

pub(crate) async fn add_contexts(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, request): (String, Request<links::add_contexts::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(service) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let link = request.body.link;
    let path = links::on_add_contexts::Endpoint::PATH;
    let contexts: Vec<String> = link
        .patient
        .care_contexts
        .iter()
        .map(|c| c.reference_number.clone())
        .collect();
    let outcome = link_contexts(
        &app,
        &service,
        &link.access_token,
        &link.patient.reference_number,
        &contexts,
    );
    let callback = match outcome {
        Ok(_) => Callback::answering(
            request.request_id,
            links::on_add_contexts::Body {
                acknowledgement: Some(links::on_add_contexts::Acknowledgement {
                    status: "SUCCESS".into(),
                }),
            },
        ),
        Err((code, message)) => Callback::failed(
            request.request_id,
            links::on_add_contexts::Body {
                acknowledgement: None,
            },
            callback_error(&app, code, &message),
        ),
    };
    app.callback(
        &service,
        ServiceKind::Hip,
        path,
        serde_json::to_value(callback).expect("serializes"),
    );
    accepted()
}

/// Links care contexts with a link token, as both generations do: the token must be valid and
/// made for this HIP; returns the patient's ABHA address, or ABDM's code and words.
pub(crate) fn link_contexts(
    app: &Shared,
    service: &str,
    link_token: &str,
    patient_reference: &str,
    contexts: &[String],
) -> Result<String, (&'static str, String)> {
    let claims = app
        .issuer
        .verify_link(link_token)
        .map_err(|_| ("ABDM-1026", "Invalid link token".to_string()))?;
    if claims.hip_id != service {
        return Err((
            "ABDM-1063",
            "HIP id does not match the link token".to_string(),
        ));
    }
    if contexts.is_empty() {
        return Err((
            "ABDM-9999",
            "patient care contexts required in the payload".to_string(),
        ));
    }
    let mut state = app.state();
    let account = state
        .account_by_id_mut(&claims.sub)
        .ok_or(("ABDM-1114", "ABHA no longer exists".to_string()))?;
    let entry = account
        .links
        .entry(service.to_string())
        .or_insert_with(|| (patient_reference.to_string(), vec![]));
    for cc in contexts {
        if !entry.1.contains(cc) {
            entry.1.push(cc.clone());
        }
    }
    Ok(account.address.clone())
}

/// The HIP's answer to a profile share: recorded for the admin view (the PHR app would show the
/// token number to the patient).
pub(crate) async fn on_share(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = app.authorize(&headers, true) {
        return r;
    }
    let answer: Callback<profile::on_share::Body> = match app.parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut state = app.state();
    match state.shares.get_mut(&answer.resp.request_id) {
        Some(share) => {
            share.status = Some(format!("{:?}", answer.body.acknowledgement.status).to_uppercase());
            share.token_number = answer.body.acknowledgement.token_number.clone();
            share.error = answer
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.code, e.message));
            accepted()
        }
        None => app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-1506",
            "Invalid callback resp id",
        ),
    }
}

pub(crate) async fn sms_notify(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, request): (String, Request<sms::notify::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(service) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let n = &request.body.notification;
    let phone = abdm::ids::Mobile::parse(&n.phone_no);
    let callback = match phone {
        Ok(mobile) => {
            let link = n.deeplink_url.clone().unwrap_or_default();
            app.state().send_sms(
                mobile.digits(),
                format!(
                    "{} has records for you: {}. Link them in your ABHA app. {link}",
                    n.hip.name.clone().unwrap_or_else(|| n.hip.id.clone()),
                    n.care_context_info
                ),
                None,
                None,
            );
            Callback::answering(
                request.request_id,
                sms::on_notify::Body {
                    status: Some(sms::on_notify::SmsStatus::Acknowledged),
                },
            )
        }
        Err(e) => Callback::failed(
            request.request_id,
            sms::on_notify::Body {
                status: Some(sms::on_notify::SmsStatus::Errored),
            },
            callback_error(&app, "ABDM-1006", &e.to_string()),
        ),
    };
    app.callback(
        &service,
        ServiceKind::Hip,
        sms::on_notify::Endpoint::PATH,
        serde_json::to_value(callback).expect("serializes"),
    );
    accepted()
}

/// Admin: the patient scans a clinic's counter QR; the gateway pushes the profile to that HIP.
pub fn share_profile(
    app: &Shared,
    abha: &str,
    hip_id: &str,
    counter: Option<String>,
) -> Result<Uuid, String> {
    let (account, kind_ok) = {
        let state = app.state();
        let account = state
            .account_by_id(abha)
            .cloned()
            .ok_or_else(|| format!("no ABHA account {abha}"))?;
        let ok = state
            .services
            .get(hip_id)
            .map(|s| s.types.contains(&ServiceKind::Hip))
            .unwrap_or(false);
        (account, ok)
    };
    if !kind_ok {
        return Err(format!("{hip_id} is not a registered HIP"));
    }
    let gender = account.wire_gender();
    let request = Request::new(profile::share::Body {
        patient: profile::share::Patient {
            hip_code: counter,
            user_demographics: profile::share::Demographics {
                health_id: account.address.clone(),
                health_id_number: account.number.clone(),
                name: account.name.clone(),
                gender,
                year_of_birth: account.year_of_birth as i32,
                month_of_birth: Some(account.month_of_birth),
                day_of_birth: Some(account.day_of_birth),
                address: Some(PatientAddress {
                    line: None,
                    district: Some(account.district.clone()),
                    state: Some(account.state.clone()),
                    pincode: Some(account.pincode.clone()),
                }),
                identifiers: vec![Identifier {
                    kind: IdentifierType::Mobile,
                    value: account.mobile.clone(),
                }],
            },
        },
    });
    app.state().shares.insert(
        request.request_id,
        crate::domain::state::ShareRecord {
            request_id: request.request_id,
            hip_id: hip_id.into(),
            abha_address: account.address.clone(),
            status: None,
            token_number: None,
            error: None,
        },
    );
    app.callback(
        hip_id,
        ServiceKind::Hip,
        profile::share::Endpoint::PATH,
        serde_json::to_value(&request).expect("serializes"),
    );
    Ok(request.request_id)
}
