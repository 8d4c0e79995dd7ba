//! The ABHA ("health id") service, v1: registration with Aadhaar OTP (and the mobile-OTP branch),
//! search, login with Aadhaar or mobile OTP, and the account profile. OTPs are 6 digits, expire, allow
//! a few attempts, and arrive on the simulated patient's phone (`GET /phone`).

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use uuid::Uuid;

use abdm::healthid_v1 as hid;
use abdm::ids::{Aadhaar, AbhaAddress, Mobile};

use crate::app::Shared;
use crate::domain::state::{account_for, Account, Journey, JourneyKind, OtpCheck};

const X_TOKEN_TTL: Duration = Duration::from_secs(1800);
const OTP_WINDOW: Duration = Duration::from_secs(30 * 60);

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/healthid/v1/registration/aadhaar/generateOtp",
            post(generate_otp),
        )
        .route(
            "/healthid/v1/registration/aadhaar/resendAadhaarOtp",
            post(resend_aadhaar_otp),
        )
        .route(
            "/healthid/v1/registration/aadhaar/verifyOTP",
            post(verify_otp),
        )
        .route(
            "/healthid/v1/registration/aadhaar/generateMobileOTP",
            post(generate_mobile_otp),
        )
        .route(
            "/healthid/v2/registration/aadhaar/checkAndGenerateMobileOTP",
            post(check_and_generate_mobile_otp),
        )
        .route(
            "/healthid/v1/registration/aadhaar/verifyMobileOTP",
            post(verify_mobile_otp),
        )
        .route(
            "/healthid/v1/registration/aadhaar/createHealthIdWithPreVerified",
            post(create_health_id),
        )
        .route(
            "/healthid/v1/search/searchByHealthId",
            post(search_by_health_id),
        )
        .route("/healthid/v1/auth/init", post(auth_init))
        .route(
            "/healthid/v1/auth/confirmWithAadhaarOtp",
            post(confirm_with_aadhaar_otp),
        )
        .route(
            "/healthid/v1/auth/confirmWithMobileOTP",
            post(confirm_with_mobile_otp),
        )
        .route("/healthid/v1/account/profile", get(profile))
}

type Outcome = Result<Response, Response>;

fn done(result: Outcome) -> Response {
    result.unwrap_or_else(|r| r)
}

fn json<T: serde::Serialize>(value: T) -> Response {
    Json(value).into_response()
}

/// Authenticates, then parses the body.
fn accept<T: serde::de::DeserializeOwned>(
    app: &Shared,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, Response> {
    app.authorize(headers, false)?;
    app.parse(body)
}

pub(crate) fn invalid_txn(app: &Shared) -> Response {
    app.error(
        StatusCode::BAD_REQUEST,
        "ABDM-1030",
        "Invalid transaction id: start again",
    )
}

fn otp_failure(app: &Shared, check: OtpCheck) -> Result<(), Response> {
    match check {
        OtpCheck::Ok => Ok(()),
        OtpCheck::Wrong { attempts_left } => Err(app.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ABDM-1035",
            &format!("OTP does not match; {attempts_left} attempts left"),
        )),
        OtpCheck::Expired => Err(app.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ABDM-1036",
            "OTP expired; ask for a new one",
        )),
        OtpCheck::TooManyAttempts => Err(app.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ABDM-1100",
            "Too many wrong OTP attempts. Please try again in 30 minutes",
        )),
    }
}

/// Checks the OTP of a journey of the given kind.
pub(crate) fn check_journey_otp(
    app: &Shared,
    txn_id: &str,
    otp: &str,
    kinds: &[JourneyKind],
) -> Result<Journey, Response> {
    let mut state = app.state();
    let journey = state
        .journeys
        .get_mut(txn_id)
        .filter(|j| kinds.contains(&j.kind))
        .ok_or_else(|| invalid_txn(app))?;
    let check = journey
        .otp
        .as_mut()
        .ok_or_else(|| invalid_txn(app))?
        .check(otp);
    otp_failure(app, check)?;
    journey.otp = None;
    Ok(journey.clone())
}

pub(crate) async fn generate_otp(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let request: hid::generate_otp::Body = accept(&app, &headers, &body)?;
        let aadhaar = Aadhaar::parse(&request.aadhaar).map_err(|e| {
            app.error(
                StatusCode::BAD_REQUEST,
                "ABDM-1006",
                &format!("Invalid Aadhaar number: {e}"),
            )
        })?;
        let mut state = app.state();
        let recent = state
            .journeys
            .values()
            .filter(|j| {
                j.aadhaar.as_deref() == Some(aadhaar.digits()) && j.created.elapsed() < OTP_WINDOW
            })
            .map(|j| j.otp_sends)
            .sum::<u32>();
        if recent >= app.config.otp_sends {
            return Err(app.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ABDM-1100",
                "Too many OTP requests. Please try again in 30 minutes",
            ));
        }
        let resident = state.resident(&aadhaar);
        let txn_id = Uuid::new_v4().to_string();
        let otp = app.new_otp();
        state.send_sms(&resident.mobile,
            format!("{} is your Aadhaar OTP to create your ABHA. Valid for {} minutes. Do not share it.", otp.code, app.config.otp_ttl.as_secs() / 60),
            Some(otp.code.clone()), Some(txn_id.clone()));
        state.journeys.insert(
            txn_id.clone(),
            Journey {
                kind: JourneyKind::Registration,
                aadhaar: Some(aadhaar.digits().into()),
                account: None,
                otp: Some(otp),
                otp_sends: 1,
                aadhaar_verified: false,
                mobile: None,
                mobile_verified: false,
                created: Instant::now(),
            },
        );
        Ok(json(hid::TxnResponse {
            txn_id,
            mobile_linked: None,
        }))
    })())
}

async fn resend_aadhaar_otp(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let request: hid::resend_aadhaar_otp::Body = accept(&app, &headers, &body)?;
        let mut state = app.state();
        let journey = state
            .journeys
            .get(&request.txn_id)
            .filter(|j| j.kind == JourneyKind::Registration && !j.aadhaar_verified)
            .cloned()
            .ok_or_else(|| invalid_txn(&app))?;
        if journey.otp_sends >= app.config.otp_sends {
            return Err(app.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ABDM-1100",
                "Too many OTP requests. Please try again in 30 minutes",
            ));
        }
        let aadhaar = Aadhaar::parse(journey.aadhaar.as_deref().unwrap_or_default())
            .map_err(|_| invalid_txn(&app))?;
        let resident = state.resident(&aadhaar);
        let otp = app.new_otp();
        state.send_sms(
            &resident.mobile,
            format!(
                "{} is your Aadhaar OTP to create your ABHA (resent).",
                otp.code
            ),
            Some(otp.code.clone()),
            Some(request.txn_id.clone()),
        );
        let j = state.journeys.get_mut(&request.txn_id).expect("present");
        j.otp = Some(otp);
        j.otp_sends += 1;
        Ok(json(hid::TxnResponse {
            txn_id: request.txn_id,
            mobile_linked: None,
        }))
    })())
}

async fn verify_otp(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        let request: hid::OtpBody = accept(&app, &headers, &body)?;
        check_journey_otp(
            &app,
            &request.txn_id,
            &request.otp,
            &[JourneyKind::Registration],
        )?;
        app.state()
            .journeys
            .get_mut(&request.txn_id)
            .expect("present")
            .aadhaar_verified = true;
        Ok(json(hid::TxnResponse {
            txn_id: request.txn_id,
            mobile_linked: None,
        }))
    })())
}

/// Both mobile-OTP steps: v1 always sends an OTP; v2 skips it when the mobile is the Aadhaar-linked one.
fn mobile_otp(app: &Shared, headers: &HeaderMap, body: &Bytes, skip_if_linked: bool) -> Outcome {
    let request: hid::generate_mobile_otp::Body = accept(app, headers, body)?;
    let mobile = Mobile::parse(&request.mobile)
        .map_err(|e| app.error(StatusCode::BAD_REQUEST, "ABDM-1006", &e.to_string()))?;
    let mut state = app.state();
    let journey = state
        .journeys
        .get(&request.txn_id)
        .filter(|j| j.kind == JourneyKind::Registration)
        .cloned()
        .ok_or_else(|| invalid_txn(app))?;
    if !journey.aadhaar_verified {
        return Err(app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-2406",
            "Verify the Aadhaar OTP first",
        ));
    }
    let aadhaar = Aadhaar::parse(journey.aadhaar.as_deref().unwrap_or_default())
        .map_err(|_| invalid_txn(app))?;
    let linked = state.resident(&aadhaar).mobile == mobile.digits();
    let j = state.journeys.get_mut(&request.txn_id).expect("present");
    j.mobile = Some(mobile.digits().into());
    if skip_if_linked && linked {
        j.mobile_verified = true;
        return Ok(json(hid::TxnResponse {
            txn_id: request.txn_id,
            mobile_linked: Some(true),
        }));
    }
    let otp = app.new_otp();
    let code = otp.code.clone();
    j.otp = Some(otp);
    j.mobile_verified = false;
    state.send_sms(
        mobile.digits(),
        format!("{code} is your OTP to verify this mobile number for your ABHA."),
        Some(code),
        Some(request.txn_id.clone()),
    );
    Ok(json(hid::TxnResponse {
        txn_id: request.txn_id,
        mobile_linked: skip_if_linked.then_some(false),
    }))
}

async fn generate_mobile_otp(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done(mobile_otp(&app, &headers, &body, false))
}

async fn check_and_generate_mobile_otp(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done(mobile_otp(&app, &headers, &body, true))
}

async fn verify_mobile_otp(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        let request: hid::OtpBody = accept(&app, &headers, &body)?;
        if !app
            .state()
            .journeys
            .get(&request.txn_id)
            .map(|j| j.mobile.is_some())
            .unwrap_or(false)
        {
            return Err(invalid_txn(&app));
        }
        check_journey_otp(
            &app,
            &request.txn_id,
            &request.otp,
            &[JourneyKind::Registration],
        )?;
        app.state()
            .journeys
            .get_mut(&request.txn_id)
            .expect("present")
            .mobile_verified = true;
        Ok(json(hid::TxnResponse {
            txn_id: request.txn_id,
            mobile_linked: None,
        }))
    })())
}

pub fn profile_of(account: &Account) -> hid::Profile {
    hid::Profile {
        health_id_number: Some(account.number.clone()),
        health_id: Some(account.address.clone()),
        name: Some(account.name.clone()),
        first_name: Some(account.first_name.clone()),
        middle_name: None,
        last_name: Some(account.last_name.clone()),
        gender: Some(account.gender.clone()),
        year_of_birth: Some(account.year_of_birth.to_string()),
        month_of_birth: Some(account.month_of_birth.to_string()),
        day_of_birth: Some(account.day_of_birth.to_string()),
        mobile: Some(account.mobile.clone()),
        email: account.email.clone(),
        address: None,
        district_name: Some(account.district.clone()),
        state_name: Some(account.state.clone()),
        pincode: Some(account.pincode.clone()),
        auth_methods: if account.aadhaar.is_some() {
            vec![
                hid::AuthMethod::AadhaarOtp,
                hid::AuthMethod::MobileOtp,
                hid::AuthMethod::Demographics,
            ]
        } else {
            vec![hid::AuthMethod::MobileOtp, hid::AuthMethod::Demographics]
        },
        new: None,
        token: None,
    }
}

pub(crate) fn issue_x_token(app: &Shared, number: &str) -> String {
    let token = format!("xtoken.{}", Uuid::new_v4().simple());
    app.state().x_tokens.insert(
        token.clone(),
        (number.to_string(), Instant::now() + X_TOKEN_TTL),
    );
    token
}

async fn create_health_id(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    done((|| {
        let request: hid::create_health_id_with_pre_verified::Body = accept(&app, &headers, &body)?;
        let mut state = app.state();
        let journey = state
            .journeys
            .get(&request.txn_id)
            .filter(|j| j.kind == JourneyKind::Registration)
            .cloned()
            .ok_or_else(|| invalid_txn(&app))?;
        if !journey.aadhaar_verified || !journey.mobile_verified {
            return Err(app.error(
                StatusCode::BAD_REQUEST,
                "ABDM-2406",
                "Verify the Aadhaar OTP and the mobile number first",
            ));
        }
        let aadhaar = journey.aadhaar.clone().unwrap_or_default();
        // An Aadhaar with an ABHA already gets that ABHA back, marked not new (as ABDM does).
        if let Some(existing) = state.account_by_aadhaar(&aadhaar).cloned() {
            state.journeys.remove(&request.txn_id);
            drop(state);
            let mut profile = profile_of(&existing);
            profile.new = Some(false);
            profile.token = Some(issue_x_token(&app, &existing.number));
            return Ok(json(profile));
        }
        let resident = state.resident(&Aadhaar::parse(&aadhaar).map_err(|_| invalid_txn(&app))?);
        let address = match request
            .health_id
            .as_deref()
            .filter(|h| !h.trim().is_empty())
        {
            Some(chosen) => AbhaAddress::parse(chosen, &app.config.cm_id)
                .map_err(|e| app.error(StatusCode::BAD_REQUEST, "ABDM-1006", &e.to_string()))?
                .as_str()
                .to_string(),
            None => {
                let base: String = resident
                    .name
                    .to_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(".");
                let mut candidate = format!("{base}@{}", app.config.cm_id);
                let mut n = 1;
                while state.account_by_id(&candidate).is_some() {
                    n += 1;
                    candidate = format!("{base}{n}@{}", app.config.cm_id);
                }
                candidate
            }
        };
        if state.account_by_id(&address).is_some() {
            return Err(app.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ABDM-1101",
                "This ABHA Address already exists",
            ));
        }
        let number = state.new_abha_number(&aadhaar);
        let mut account = account_for(&resident, number.clone(), address);
        account.mobile = journey.mobile.clone().unwrap_or(resident.mobile.clone());
        account.email = request.email.clone();
        state.accounts.insert(number.clone(), account.clone());
        state.journeys.remove(&request.txn_id);
        drop(state);
        let mut profile = profile_of(&account);
        profile.new = Some(true);
        profile.token = Some(issue_x_token(&app, &number));
        tracing::info!(abha = %account.address, "ABHA created");
        Ok(json(profile))
    })())
}

async fn search_by_health_id(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let request: hid::search_by_health_id::Body = accept(&app, &headers, &body)?;
        let state = app.state();
        let account = state
            .account_by_id(&request.health_id)
            .ok_or_else(|| app.error(StatusCode::NOT_FOUND, "ABDM-1114", "User not found"))?;
        let profile = profile_of(account);
        Ok(json(hid::search_by_health_id::Response {
            auth_methods: profile.auth_methods,
            health_id: Some(account.address.clone()),
            health_id_number: Some(account.number.clone()),
            name: Some(account.name.clone()),
            status: Some("ACTIVE".into()),
        }))
    })())
}

pub(crate) async fn auth_init(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done((|| {
        let request: hid::auth_init::Body = accept(&app, &headers, &body)?;
        let mut state = app.state();
        let account = state
            .account_by_id(&request.health_id)
            .cloned()
            .ok_or_else(|| app.error(StatusCode::NOT_FOUND, "ABDM-1114", "User not found"))?;
        let kind = match request.auth_method {
            hid::AuthMethod::AadhaarOtp if account.aadhaar.is_some() => {
                JourneyKind::LoginAadhaarOtp
            }
            hid::AuthMethod::AadhaarOtp => {
                return Err(app.error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "ABDM-1119",
                    "Login via Aadhaar OTP is not allowed for this ABHA",
                ))
            }
            hid::AuthMethod::MobileOtp => JourneyKind::LoginMobileOtp,
            other => {
                return Err(app.error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "ABDM-1006",
                    &format!("{other:?} login is not supported by the sandbox"),
                ))
            }
        };
        let txn_id = Uuid::new_v4().to_string();
        let otp = app.new_otp();
        let what = if kind == JourneyKind::LoginAadhaarOtp {
            "Aadhaar OTP"
        } else {
            "OTP"
        };
        state.send_sms(
            &account.mobile,
            format!(
                "{} is your {what} to log in to your ABHA {}.",
                otp.code, account.address
            ),
            Some(otp.code.clone()),
            Some(txn_id.clone()),
        );
        state.journeys.insert(
            txn_id.clone(),
            Journey {
                kind,
                aadhaar: account.aadhaar.clone(),
                account: Some(account.number.clone()),
                otp: Some(otp),
                otp_sends: 1,
                aadhaar_verified: false,
                mobile: None,
                mobile_verified: false,
                created: Instant::now(),
            },
        );
        Ok(json(hid::TxnResponse {
            txn_id,
            mobile_linked: None,
        }))
    })())
}

fn confirm_login(app: &Shared, headers: &HeaderMap, body: &Bytes, kind: JourneyKind) -> Outcome {
    let request: hid::OtpBody = accept(app, headers, body)?;
    let journey = check_journey_otp(app, &request.txn_id, &request.otp, &[kind])?;
    app.state().journeys.remove(&request.txn_id);
    let number = journey.account.unwrap_or_default();
    Ok(json(hid::TokenResponse {
        token: issue_x_token(app, &number),
        refresh_token: None,
    }))
}

pub(crate) async fn confirm_with_aadhaar_otp(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done(confirm_login(
        &app,
        &headers,
        &body,
        JourneyKind::LoginAadhaarOtp,
    ))
}

pub(crate) async fn confirm_with_mobile_otp(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    done(confirm_login(
        &app,
        &headers,
        &body,
        JourneyKind::LoginMobileOtp,
    ))
}

async fn profile(State(app): State<Shared>, headers: HeaderMap) -> Response {
    done((|| {
        app.authorize(&headers, false)?;
        let token = headers
            .get("x-token")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_start_matches("Bearer ").trim().to_string())
            .ok_or_else(|| {
                app.error(StatusCode::UNAUTHORIZED, "ABDM-1130", "X-Token is missing")
            })?;
        let state = app.state();
        let (number, expires) =
            state.x_tokens.get(&token).cloned().ok_or_else(|| {
                app.error(StatusCode::UNAUTHORIZED, "ABDM-1130", "Invalid X-Token")
            })?;
        if Instant::now() > expires {
            return Err(app.error(StatusCode::UNAUTHORIZED, "ABDM-1131", "X-token expired"));
        }
        let account = state
            .accounts
            .get(&number)
            .ok_or_else(|| app.error(StatusCode::NOT_FOUND, "ABDM-1114", "User not found"))?;
        Ok(json(profile_of(account)))
    })())
}
