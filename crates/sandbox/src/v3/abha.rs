//! ABHA v3 over the same registry as health id v1: its own RSA key pair (2048 bits by default,
//! 4096 as the real service's with `abha_key_bits`), every identifier and OTP opened with RSA-OAEP
//! (SHA-1) — any other
//! padding gets the real service's uninformative `{"loginId":"Invalid LoginId"}` — and
//! enrolment that verifies the Aadhaar OTP and creates the ABHA in one call.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use abdm::ids::{Aadhaar, AbhaAddress, AbhaNumber, Mobile};
use abdm::v3::abha::{self as m1, AbhaPrivateKey};
use abdm::Operation;

use crate::app::Shared;
use crate::domain::state::{account_for, Account, JourneyKind};
use crate::v0_5::healthid as v1;

const BASE: &str = "/abha/api";

/// The service's key pair, one per size, made once per process: a key can take seconds to find
/// on a busy machine, so it is begun when a client first speaks v3 ([`prepare_key`]).
fn key_of(bits: usize) -> &'static AbhaPrivateKey {
    static KEYS: [OnceLock<AbhaPrivateKey>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = if bits >= 4096 { &KEYS[1] } else { &KEYS[0] };
    slot.get_or_init(|| AbhaPrivateKey::generate(bits))
}

/// Starts making the key in the background, so the first ABHA v3 call rarely waits for it.
pub(super) fn prepare_key(bits: usize) {
    std::thread::spawn(move || {
        key_of(bits);
    });
}

pub fn routes() -> Router<Shared> {
    let at = |path: &str| format!("{BASE}{path}");
    Router::new()
        .route(
            &at(m1::public_certificate::Endpoint::PATH),
            get(certificate),
        )
        .route(
            &at(m1::enrol_request_otp::Endpoint::PATH),
            post(enrol_request_otp),
        )
        .route(&at(m1::enrol_by_aadhaar::Endpoint::PATH), post(by_aadhaar))
        .route(&at(m1::enrol_auth_by_abdm::Endpoint::PATH), post(by_abdm))
        .route(&at(m1::enrol_suggestion::Endpoint::PATH), get(suggestion))
        .route(
            &at(m1::enrol_abha_address::Endpoint::PATH),
            post(abha_address),
        )
        .route(
            &at(m1::login_request_otp::Endpoint::PATH),
            post(login_request_otp),
        )
        .route(&at(m1::login_verify::Endpoint::PATH), post(login_verify))
        .route(
            &at(m1::login_verify_user::Endpoint::PATH),
            post(verify_user),
        )
        .route(&at(m1::phr_search::Endpoint::PATH), post(phr_search))
        .route(&at(m1::account::Endpoint::PATH), get(account))
}

type Outcome = Result<Response, Response>;

/// The field-map error shape (always 400).
fn field(name: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({name: message, "timestamp": abdm::Timestamp::now()})),
    )
        .into_response()
}

/// The call's headers and body, as every ABHA v3 call starts.
fn accept<T: serde::de::DeserializeOwned>(
    app: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, Response> {
    app.authorize(headers, false)?;
    if headers.get("request-id").is_none() || headers.get("timestamp").is_none() {
        return Err(field("REQUEST-ID", "REQUEST-ID and TIMESTAMP are required"));
    }
    app.parse(body)
}

/// Opens a sealed value; a value not sealed with OAEP-SHA1 to our key is an invalid login id.
fn open(app: &Shared, sealed: &str) -> Result<String, Response> {
    key_of(app.config.abha_key_bits)
        .open(sealed)
        .map_err(|_| field("loginId", "Invalid LoginId"))
}

/// Runs a v1 handler of the same registry with a v1 body; its JSON answer, or its refusal.
async fn v1_call<F, Fut>(
    app: &Shared,
    headers: &HeaderMap,
    handler: F,
    body: Value,
) -> Result<Value, Response>
where
    F: FnOnce(State<Shared>, HeaderMap, Bytes) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let bytes = Bytes::from(serde_json::to_vec(&body).expect("JSON"));
    let response = handler(State(app.clone()), headers.clone(), bytes).await;
    if !response.status().is_success() {
        return Err(response);
    }
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn masked(mobile: &str) -> String {
    let tail: String = mobile
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("******{tail}")
}

async fn certificate(State(app): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = app.authorize(&headers, false) {
        return r;
    }
    Json(m1::public_certificate::Response {
        public_key: key_of(app.config.abha_key_bits).public().to_certificate(),
        encryption_algorithm: Some("RSA/ECB/OAEPWithSHA-1AndMGF1Padding".into()),
    })
    .into_response()
}

async fn enrol_request_otp(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = async {
        let r: m1::OtpRequest = accept(&app, &headers, &body)?;
        let plain = open(&app, &r.login_id)?;
        if r.scope.iter().any(|s| s == "mobile-verify") {
            // A new mobile for an ABHA just created: an OTP to it.
            let mobile = Mobile::parse(&plain).map_err(|_| field("loginId", "Invalid LoginId"))?;
            let txn = r.txn_id.unwrap_or_default();
            let mut state = app.state();
            let j = state
                .journeys
                .get_mut(&txn)
                .filter(|j| j.kind == JourneyKind::Registration && j.account.is_some())
                .ok_or_else(|| field("txnId", "Invalid Transaction Id"))?;
            let otp = app.new_otp();
            let code = otp.code.clone();
            j.otp = Some(otp);
            j.mobile = Some(mobile.digits().into());
            j.mobile_verified = false;
            state.send_sms(
                mobile.digits(),
                format!("{code} is your OTP to verify this mobile number for your ABHA."),
                Some(code),
                Some(txn.clone()),
            );
            let message = format!("OTP sent to {}", masked(mobile.digits()));
            return Ok::<_, Response>(
                Json(m1::OtpSent {
                    txn_id: txn,
                    message,
                })
                .into_response(),
            );
        }
        let aadhaar = Aadhaar::parse(&plain).map_err(|_| field("loginId", "Invalid LoginId"))?;
        let sent = v1_call(
            &app,
            &headers,
            v1::generate_otp,
            json!({"aadhaar": aadhaar.digits()}),
        )
        .await?;
        let txn = sent["txnId"].as_str().unwrap_or_default().to_string();
        let mobile = app.state().resident(&aadhaar).mobile;
        let message = format!(
            "OTP sent to Aadhaar registered mobile number ending with {}",
            masked(&mobile)
        );
        Ok(Json(m1::OtpSent {
            txn_id: txn,
            message,
        })
        .into_response())
    };
    run.await.unwrap_or_else(|r| r)
}

fn enrolled_profile(a: &Account) -> m1::EnrolledProfile {
    m1::EnrolledProfile {
        abha_number: a.number.clone(),
        first_name: a.first_name.clone(),
        middle_name: String::new(),
        last_name: a.last_name.clone(),
        dob: format!(
            "{:02}-{:02}-{}",
            a.day_of_birth, a.month_of_birth, a.year_of_birth
        ),
        gender: a.gender.clone(),
        mobile: Some(a.mobile.clone()),
        phr_address: vec![a.address.clone()],
        address: String::new(),
        district_name: a.district.clone(),
        state_name: a.state.clone(),
        pin_code: a.pincode.clone(),
        abha_status: "ACTIVE".into(),
    }
}

fn tokens(app: &Shared, number: &str) -> m1::Tokens {
    m1::Tokens {
        token: v1::issue_x_token(app, number),
        expires_in: 1800,
        refresh_token: Some(format!("rtoken.{}", uuid::Uuid::new_v4().simple())),
        refresh_expires_in: 1_296_000,
    }
}

/// Verifies the Aadhaar OTP and creates the ABHA (or returns the Aadhaar's existing one).
async fn by_aadhaar(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Outcome {
        let r: m1::enrol_by_aadhaar::Body = accept(&app, &headers, &body)?;
        let otp = open(&app, &r.auth_data.otp.otp_value)?;
        let txn = r.auth_data.otp.txn_id.clone();
        v1::check_journey_otp(&app, &txn, &otp, &[JourneyKind::Registration])?;
        let mut state = app.state();
        let journey = state
            .journeys
            .get(&txn)
            .cloned()
            .ok_or_else(|| v1::invalid_txn(&app))?;
        let aadhaar = journey.aadhaar.clone().unwrap_or_default();
        let (account, new) = match state.account_by_aadhaar(&aadhaar).cloned() {
            Some(existing) => (existing, false),
            None => {
                let resident =
                    state.resident(&Aadhaar::parse(&aadhaar).map_err(|_| v1::invalid_txn(&app))?);
                let base: String = resident
                    .name
                    .to_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(".");
                let mut address = format!("{base}@{}", app.config.cm_id);
                let mut n = 1;
                while state.account_by_id(&address).is_some() {
                    n += 1;
                    address = format!("{base}{n}@{}", app.config.cm_id);
                }
                let number = state.new_abha_number(&aadhaar);
                let account = account_for(&resident, number.clone(), address);
                state.accounts.insert(number, account.clone());
                (account, true)
            }
        };
        let j = state.journeys.get_mut(&txn).expect("present");
        j.aadhaar_verified = true;
        j.account = Some(account.number.clone());
        drop(state);
        Ok(Json(m1::enrol_by_aadhaar::Response {
            message: if new {
                "Account created successfully"
            } else {
                "This account already exist"
            }
            .into(),
            txn_id: txn,
            tokens: tokens(&app, &account.number),
            abha_profile: enrolled_profile(&account),
            is_new: new,
        })
        .into_response())
    };
    run().unwrap_or_else(|r| r)
}

/// Verifies the OTP sent to the new mobile, which becomes the ABHA's.
async fn by_abdm(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Outcome {
        let r: m1::enrol_auth_by_abdm::Body = accept(&app, &headers, &body)?;
        let otp = open(&app, &r.auth_data.otp.otp_value)?;
        let txn = r.auth_data.otp.txn_id.clone();
        let journey = v1::check_journey_otp(&app, &txn, &otp, &[JourneyKind::Registration])?;
        let (Some(number), Some(mobile)) = (journey.account.clone(), journey.mobile.clone()) else {
            return Err(v1::invalid_txn(&app));
        };
        let mut state = app.state();
        if let Some(a) = state.accounts.get_mut(&number) {
            a.mobile = mobile;
        }
        if let Some(j) = state.journeys.get_mut(&txn) {
            j.mobile_verified = true;
        }
        Ok(Json(m1::AuthResult {
            txn_id: txn,
            auth_result: "success".into(),
            message: "Mobile number is now successfully linked to your Account".into(),
            accounts: vec![m1::Account {
                abha_number: number,
                preferred_abha_address: None,
                name: None,
                gender: None,
                dob: None,
            }],
        })
        .into_response())
    };
    run().unwrap_or_else(|r| r)
}

/// The journey's ABHA, by the transaction naming it.
fn journey_account(app: &Shared, txn: &str) -> Result<Account, Response> {
    let state = app.state();
    state
        .journeys
        .get(txn)
        .and_then(|j| j.account.clone())
        .and_then(|n| state.accounts.get(&n).cloned())
        .ok_or_else(|| field("txnId", "Invalid Transaction Id"))
}

async fn suggestion(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let run = || -> Outcome {
        app.authorize(&headers, false)?;
        let txn = headers
            .get("transaction_id")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| field("TRANSACTION_ID", "Invalid Transaction Id"))?
            .to_string();
        let account = journey_account(&app, &txn)?;
        let first = account.first_name.to_lowercase();
        let last = account.last_name.to_lowercase();
        let state = app.state();
        let list: Vec<String> = [
            format!("{first}.{last}"),
            format!("{first}{last}{}", account.year_of_birth),
            format!(
                "{first}.{last}.{:02}{:02}",
                account.day_of_birth, account.month_of_birth
            ),
        ]
        .into_iter()
        .map(|a| a.trim_matches('.').to_string())
        .filter(|a| {
            state
                .account_by_id(&format!("{a}@{}", app.config.cm_id))
                .is_none()
        })
        .collect();
        Ok(Json(m1::enrol_suggestion::Response {
            txn_id: txn,
            abha_address_list: list,
        })
        .into_response())
    };
    run().unwrap_or_else(|r| r)
}

async fn abha_address(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Outcome {
        let r: m1::enrol_abha_address::Body = accept(&app, &headers, &body)?;
        let account = journey_account(&app, &r.txn_id)?;
        let address = AbhaAddress::parse(&r.abha_address, &app.config.cm_id)
            .map_err(|e| app.error(StatusCode::BAD_REQUEST, "ABDM-1006", &e.to_string()))?;
        let mut state = app.state();
        if state
            .account_by_id(address.as_str())
            .is_some_and(|a| a.number != account.number)
        {
            return Err(app.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ABDM-1101",
                "This ABHA Address already exists",
            ));
        }
        if let Some(a) = state.accounts.get_mut(&account.number) {
            a.address = address.as_str().to_string();
        }
        Ok(Json(m1::enrol_abha_address::Response {
            txn_id: r.txn_id,
            health_id_number: account.number,
            preferred_abha_address: address.as_str().to_string(),
        })
        .into_response())
    };
    run().unwrap_or_else(|r| r)
}

async fn login_request_otp(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = async {
        let r: m1::OtpRequest = accept(&app, &headers, &body)?;
        let plain = open(&app, &r.login_id)?;
        let not_found = || {
            app.error(
                StatusCode::NOT_FOUND,
                "ABDM-1114",
                "No ABHA user registered with this login id.",
            )
        };
        let plain = match r.login_hint.as_str() {
            // The number must come dashed: 14 bare digits are refused (observed).
            "abha-number" if plain.len() == 17 && AbhaNumber::parse(&plain).is_ok() => plain,
            "abha-number" => return Err(field("loginId", "LoginId is invalid")),
            "aadhaar" => {
                let aadhaar =
                    Aadhaar::parse(&plain).map_err(|_| field("loginId", "LoginId is invalid"))?;
                let state = app.state();
                let account = state
                    .account_by_aadhaar(aadhaar.digits())
                    .ok_or_else(not_found)?;
                account.number.clone()
            }
            "mobile" => {
                let mobile =
                    Mobile::parse(&plain).map_err(|_| field("loginId", "LoginId is invalid"))?;
                return mobile_login_otp(&app, mobile.digits()).ok_or_else(not_found);
            }
            _ => return Err(field("loginHint", "Invalid Login Hint")),
        };
        let method = if r.otp_system == "aadhaar" {
            "AADHAAR_OTP"
        } else {
            "MOBILE_OTP"
        };
        let sent = v1_call(
            &app,
            &headers,
            v1::auth_init,
            json!({"healthid": plain, "authMethod": method}),
        )
        .await?;
        let txn = sent["txnId"].as_str().unwrap_or_default().to_string();
        let message = "OTP is sent to the mobile registered with this ABHA".to_string();
        Ok(Json(m1::OtpSent {
            txn_id: txn,
            message,
        })
        .into_response())
    };
    run.await.unwrap_or_else(|r| r)
}

async fn login_verify(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = async {
        let r: m1::login_verify::Body = accept(&app, &headers, &body)?;
        let otp = open(&app, &r.auth_data.otp.otp_value)?;
        let txn = r.auth_data.otp.txn_id.clone();
        let (kind, number, mobile) = {
            let state = app.state();
            let j = state
                .journeys
                .get(&txn)
                .ok_or_else(|| field("txnId", "Invalid Transaction Id"))?;
            (
                j.kind,
                j.account.clone().unwrap_or_default(),
                j.mobile.clone(),
            )
        };
        if let (JourneyKind::LoginMobileOtp, true, Some(mobile)) = (kind, number.is_empty(), mobile)
        {
            return mobile_login_verify(&app, &txn, &otp, &mobile);
        }
        let v1_body = json!({"otp": otp, "txnId": txn});
        let answer = if kind == JourneyKind::LoginAadhaarOtp {
            v1_call(&app, &headers, v1::confirm_with_aadhaar_otp, v1_body).await?
        } else {
            v1_call(&app, &headers, v1::confirm_with_mobile_otp, v1_body).await?
        };
        let account = app.state().accounts.get(&number).cloned();
        Ok(Json(json!({"txnId": txn, "authResult": "success", "message": "OTP verified successfully",
            "token": answer["token"], "expiresIn": 1800,
            "refreshToken": format!("rtoken.{}", uuid::Uuid::new_v4().simple()),
            "refreshExpiresIn": 1_296_000,
            "accounts": account.map(|a| vec![json!({"ABHANumber": a.number,
                "preferredAbhaAddress": a.address, "name": a.name, "gender": a.gender})]).unwrap_or_default()}))
        .into_response())
    };
    run.await.unwrap_or_else(|r| r)
}

async fn phr_search(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Outcome {
        let r: m1::phr_search::Body = accept(&app, &headers, &body)?;
        let state = app.state();
        let a = state
            .account_by_id(&r.abha_address)
            .ok_or_else(|| app.error(StatusCode::NOT_FOUND, "ABDM-1114", "User not found"))?;
        let mut methods = vec!["MOBILE_OTP".to_string()];
        if a.aadhaar.is_some() {
            methods.insert(0, "AADHAAR_OTP".into());
        }
        Ok(Json(m1::phr_search::Response {
            health_id_number: Some(a.number.clone()),
            abha_address: a.address.clone(),
            auth_methods: methods,
            full_name: Some(a.name.clone()),
            status: Some("ACTIVE".into()),
        })
        .into_response())
    };
    run().unwrap_or_else(|r| r)
}

/// The profile, for a bare `X-token` (2026 rule: `Bearer ` is refused as an expired token).
async fn account(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let run = || -> Outcome {
        app.authorize(&headers, false)?;
        let Some(token) = headers.get("x-token").and_then(|v| v.to_str().ok()) else {
            return Err(StatusCode::UNAUTHORIZED.into_response());
        };
        if token.starts_with("Bearer ") {
            return Err(app.error(StatusCode::UNAUTHORIZED, "ABDM-1094", "X-token expired"));
        }
        let state = app.state();
        let (number, expires) =
            state.x_tokens.get(token).cloned().ok_or_else(|| {
                app.error(StatusCode::UNAUTHORIZED, "ABDM-1130", "Invalid X-Token")
            })?;
        if std::time::Instant::now() > expires {
            return Err(app.error(StatusCode::UNAUTHORIZED, "ABDM-1131", "X-Token Expired"));
        }
        let a = state
            .accounts
            .get(&number)
            .ok_or_else(|| app.error(StatusCode::NOT_FOUND, "ABDM-1114", "User not found"))?;
        Ok(Json(m1::account::Response {
            abha_number: a.number.clone(),
            preferred_abha_address: a.address.clone(),
            name: a.name.clone(),
            gender: a.gender.clone(),
            year_of_birth: a.year_of_birth.to_string(),
            month_of_birth: a.month_of_birth.to_string(),
            day_of_birth: a.day_of_birth.to_string(),
            mobile: Some(a.mobile.clone()),
            address: String::new(),
            district_name: a.district.clone(),
            state_name: a.state.clone(),
            pincode: a.pincode.clone(),
            status: "ACTIVE".into(),
        })
        .into_response())
    };
    run().unwrap_or_else(|r| r)
}

/// How long a mobile login's T-token picks an account.
const T_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// A mobile login: an OTP to the mobile, if any ABHA is on it.
fn mobile_login_otp(app: &Shared, mobile: &str) -> Option<Response> {
    let mut state = app.state();
    if !state.accounts.values().any(|a| a.mobile == mobile) {
        return None;
    }
    let txn = uuid::Uuid::new_v4().to_string();
    let otp = app.new_otp();
    state.send_sms(
        mobile,
        format!("{} is your OTP to log in to your ABHA.", otp.code),
        Some(otp.code.clone()),
        Some(txn.clone()),
    );
    state.journeys.insert(
        txn.clone(),
        crate::domain::state::Journey {
            kind: JourneyKind::LoginMobileOtp,
            aadhaar: None,
            account: None,
            otp: Some(otp),
            otp_sends: 1,
            aadhaar_verified: false,
            mobile: Some(mobile.to_string()),
            mobile_verified: false,
            created: std::time::Instant::now(),
        },
    );
    let message = format!("OTP sent to {}", masked(mobile));
    Some(
        Json(m1::OtpSent {
            txn_id: txn,
            message,
        })
        .into_response(),
    )
}

/// A mobile login's OTP checked: a T-token and the ABHAs on that mobile to choose from.
fn mobile_login_verify(app: &Shared, txn: &str, otp: &str, mobile: &str) -> Outcome {
    v1::check_journey_otp(app, txn, otp, &[JourneyKind::LoginMobileOtp])?;
    let mut state = app.state();
    state.journeys.remove(txn);
    let token = format!("ttoken.{}", uuid::Uuid::new_v4().simple());
    let until = std::time::Instant::now() + T_TOKEN_TTL;
    state
        .t_tokens
        .insert(token.clone(), (mobile.to_string(), until));
    let accounts: Vec<Value> = state
        .accounts
        .values()
        .filter(|a| a.mobile == mobile)
        .map(|a| {
            json!({"ABHANumber": a.number, "preferredAbhaAddress": a.address,
            "name": a.name, "gender": a.gender})
        })
        .collect();
    Ok(Json(
        json!({"txnId": txn, "authResult": "success", "message": "OTP verified successfully",
        "token": token, "expiresIn": T_TOKEN_TTL.as_secs(), "accounts": accounts}),
    )
    .into_response())
}

/// `POST /v3/profile/login/verify/user` with `T-token: Bearer …`: the ABHA chosen among the
/// mobile's, and the user's token for it.
async fn verify_user(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let run = || -> Outcome {
        let r: m1::login_verify_user::Body = accept(&app, &headers, &body)?;
        let token = headers
            .get("t-token")
            .and_then(|v| v.to_str().ok())
            .map(|t| t.trim().trim_start_matches("Bearer ").trim().to_string())
            .ok_or_else(|| StatusCode::UNAUTHORIZED.into_response())?;
        let (mobile, until) =
            app.state().t_tokens.get(&token).cloned().ok_or_else(|| {
                app.error(StatusCode::UNAUTHORIZED, "ABDM-1129", "Invalid T-Token")
            })?;
        if std::time::Instant::now() > until {
            return Err(app.error(StatusCode::UNAUTHORIZED, "ABDM-1128", "T-Token Expired"));
        }
        let number = AbhaNumber::parse(&r.abha_number)
            .map_err(|_| field("ABHANumber", "Invalid ABHA Number"))?;
        let mine = app
            .state()
            .accounts
            .get(number.dashed())
            .is_some_and(|a| a.mobile == mobile);
        if !mine {
            return Err(app.error(
                StatusCode::UNAUTHORIZED,
                "ABDM-1129",
                "This ABHA is not one of this mobile's",
            ));
        }
        app.state().t_tokens.remove(&token);
        Ok(Json(tokens(&app, number.dashed())).into_response())
    };
    run().unwrap_or_else(|r| r)
}
