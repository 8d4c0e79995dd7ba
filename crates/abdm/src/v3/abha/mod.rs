//! ABHA v3 (M1), synchronous calls to the ABHA service with the gateway's bearer, `REQUEST-ID` and
//! `TIMESTAMP` (reference notes `abdm-v3.md` §2; NHA's enrolment file is
//! `abdm-openapi/newer-abha-v3-enrollment.abdm-docs.yaml`, the rest is documented only in ABDM's
//! pages). Every identifier and OTP travels sealed with RSA-OAEP ([`crypto`]).

pub mod crypto;

use serde::{Deserialize, Serialize};

use super::headers::{REQUEST_ID, TIMESTAMP, TRANSACTION_ID, T_TOKEN, X_TOKEN};

pub use crypto::{AbhaPrivateKey, AbhaPublicKey, OaepError};

/// Headers of every ABHA call.
const ABHA: &[&str] = &[REQUEST_ID, TIMESTAMP];
/// An enrolment call without a body names its transaction in a header.
const ABHA_TXN: &[&str] = &[REQUEST_ID, TIMESTAMP, TRANSACTION_ID];
/// A profile call with the user's token.
const ABHA_USER: &[&str] = &[REQUEST_ID, TIMESTAMP, X_TOKEN];
/// Choosing an account after a mobile login.
const ABHA_PICK: &[&str] = &[REQUEST_ID, TIMESTAMP, T_TOKEN];

const DOCS: &str = "ABDM's ABHA v3 pages (reference notes abdm-v3.md §2)";
const ENROLMENT: &str = "newer-abha-v3-enrollment.abdm-docs.yaml";

/// `{txnId, message}`: an OTP went out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpSent {
    pub txn_id: String,
    #[serde(default)]
    pub message: String,
}

/// An OTP request: enrolment, login and profile use the same shape; `scope`, `loginHint` and
/// `otpSystem` say which journey it is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn_id: Option<String>,
    pub scope: Vec<String>,
    pub login_hint: String,
    /// Sealed.
    pub login_id: String,
    pub otp_system: String,
}

crate::debug_showing!(OtpRequest {
    scope,
    login_hint,
    otp_system
});

/// `authData` with an OTP.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthData {
    pub auth_methods: Vec<String>,
    pub otp: OtpValue,
}

crate::debug_showing!(AuthData { auth_methods });

impl AuthData {
    /// An OTP answer (`otp_value` sealed).
    pub fn otp(txn_id: String, otp_value: String, mobile: Option<String>) -> Self {
        Self {
            auth_methods: vec!["otp".into()],
            otp: OtpValue {
                time_stamp: None,
                txn_id,
                otp_value,
                mobile,
            },
        }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<String>,
    pub txn_id: String,
    /// Sealed.
    pub otp_value: String,
    /// Plain, 10 digits: the mobile the person gave (enrolment only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
}

/// The user's tokens: X-token and its refresh token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub token: String,
    #[serde(default)]
    pub expires_in: u64,
    /// Sometimes missing from the real service's answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub refresh_expires_in: u64,
}

crate::debug_showing!(Tokens {
    expires_in,
    refresh_expires_in
});

/// `ABHAProfile` of an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledProfile {
    #[serde(rename = "ABHANumber")]
    pub abha_number: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub middle_name: String,
    #[serde(default)]
    pub last_name: String,
    /// `dd-mm-yyyy`.
    pub dob: String,
    pub gender: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default)]
    pub phr_address: Vec<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub district_name: String,
    #[serde(default)]
    pub state_name: String,
    #[serde(default)]
    pub pin_code: String,
    #[serde(default)]
    pub abha_status: String,
}

/// One account offered after an OTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(rename = "ABHANumber")]
    pub abha_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_abha_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
}

pub mod public_certificate {
    //! `GET /v3/profile/public/certificate`: the RSA key every identifier and OTP is sealed to.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        /// Base64 DER `SubjectPublicKeyInfo`.
        pub public_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub encryption_algorithm: Option<String>,
    }

    crate::operation!(Get "/v3/profile/public/certificate", HealthId, (), response = Response,
        spec = DOCS, headers = ABHA);
}

pub mod enrol_request_otp {
    //! `POST /v3/enrollment/request/otp`: an OTP to the Aadhaar-linked mobile (scope
    //! `abha-enrol`), or to a new mobile to verify (`abha-enrol`, `mobile-verify`).
    use super::*;

    crate::operation!(Post "/v3/enrollment/request/otp", HealthId, OtpRequest, response = OtpSent,
        spec = ENROLMENT, headers = ABHA);
}

pub mod enrol_by_aadhaar {
    //! `POST /v3/enrollment/enrol/byAadhaar`: verifies the Aadhaar OTP and creates the ABHA in
    //! one call. It creates an account: never retried blindly.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub auth_data: AuthData,
        pub consent: Consent,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Consent {
        /// `abha-enrollment`.
        pub code: String,
        pub version: String,
    }

    impl Default for Consent {
        fn default() -> Self {
            Self {
                code: "abha-enrollment".into(),
                version: "1.4".into(),
            }
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        #[serde(default)]
        pub message: String,
        pub txn_id: String,
        pub tokens: Tokens,
        #[serde(rename = "ABHAProfile")]
        pub abha_profile: EnrolledProfile,
        /// `false`: this Aadhaar already had an ABHA, which is returned.
        #[serde(default)]
        pub is_new: bool,
    }

    crate::operation!(Post "/v3/enrollment/enrol/byAadhaar", HealthId, Body, response = Response,
        spec = ENROLMENT, headers = ABHA);
}

/// `{txnId, authResult, message, accounts}` of an OTP check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResult {
    pub txn_id: String,
    /// `success` or `failed`.
    pub auth_result: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
}

pub mod enrol_auth_by_abdm {
    //! `POST /v3/enrollment/auth/byAbdm`: verifies the OTP sent to a new mobile.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub scope: Vec<String>,
        pub auth_data: AuthData,
    }

    crate::operation!(Post "/v3/enrollment/auth/byAbdm", HealthId, Body, response = AuthResult,
        spec = ENROLMENT, headers = ABHA);
}

pub mod enrol_suggestion {
    //! `GET /v3/enrollment/enrol/suggestion`, with `TRANSACTION_ID`: ABHA addresses to offer.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        pub txn_id: String,
        pub abha_address_list: Vec<String>,
    }

    crate::operation!(Get "/v3/enrollment/enrol/suggestion", HealthId, (), response = Response,
        spec = ENROLMENT, headers = ABHA_TXN);
}

pub mod enrol_abha_address {
    //! `POST /v3/enrollment/enrol/abha-address`: the address the person chose (without `@sbx`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub txn_id: String,
        pub abha_address: String,
        /// `1`: the preferred address.
        pub preferred: u8,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        pub txn_id: String,
        pub health_id_number: String,
        pub preferred_abha_address: String,
    }

    crate::operation!(Post "/v3/enrollment/enrol/abha-address", HealthId, Body,
        response = Response, spec = ENROLMENT, headers = ABHA);
}

pub mod login_request_otp {
    //! `POST /v3/profile/login/request/otp`: login by ABHA number (`abha-number`), mobile
    //! (`mobile`), Aadhaar (`aadhaar`) or a search result (`index`).
    use super::*;

    crate::operation!(Post "/v3/profile/login/request/otp", HealthId, OtpRequest,
        response = OtpSent, spec = DOCS, headers = ABHA);
}

pub mod login_verify {
    //! `POST /v3/profile/login/verify`: the OTP. After a mobile login the token is a T-token and
    //! `accounts` lists the ABHAs on that mobile: one is picked with `login_verify_user`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub scope: Vec<String>,
        pub auth_data: AuthData,
    }

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        pub txn_id: String,
        pub auth_result: String,
        #[serde(default)]
        pub message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub token: Option<String>,
        #[serde(default)]
        pub expires_in: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub refresh_token: Option<String>,
        #[serde(default)]
        pub refresh_expires_in: u64,
        #[serde(default)]
        pub accounts: Vec<Account>,
    }

    crate::debug_showing!(Response {
        txn_id,
        auth_result,
        accounts
    });

    crate::operation!(Post "/v3/profile/login/verify", HealthId, Body, response = Response,
        spec = DOCS, headers = ABHA);
}

pub mod login_verify_user {
    //! `POST /v3/profile/login/verify/user`, with `T-token: Bearer …`: the account picked.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        #[serde(rename = "ABHANumber")]
        pub abha_number: String,
        #[serde(rename = "txnId")]
        pub txn_id: String,
    }

    crate::operation!(Post "/v3/profile/login/verify/user", HealthId, Body, response = Tokens,
        spec = DOCS, headers = ABHA_PICK);
}

pub mod abha_search {
    //! `POST /v3/profile/account/abha/search`: the ABHAs on a mobile, for a person who does not
    //! know their number; one is then logged into by its `index`.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        pub scope: Vec<String>,
        /// Sealed.
        pub mobile: String,
    }

    /// An array of one element.
    pub type Response = Vec<Found>;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Found {
        #[serde(rename = "txnId")]
        pub txn_id: String,
        #[serde(rename = "ABHA")]
        pub abha: Vec<Match>,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Match {
        pub index: u32,
        /// Masked but the last digits.
        #[serde(rename = "ABHANumber")]
        pub abha_number: String,
        pub name: String,
        #[serde(default)]
        pub gender: String,
        #[serde(default)]
        pub auth_methods: Vec<String>,
    }

    crate::operation!(Post "/v3/profile/account/abha/search", HealthId, Body, response = Response,
        spec = DOCS, headers = ABHA);
}

pub mod phr_search {
    //! `POST /v3/phr/web/login/abha/search`: an ABHA address's holder, number and the ways to
    //! log in it allows (the address goes plain, with its `@sbx`/`@abdm`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub abha_address: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub health_id_number: Option<String>,
        pub abha_address: String,
        #[serde(default)]
        pub auth_methods: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub full_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<String>,
    }

    crate::operation!(Post "/v3/phr/web/login/abha/search", HealthId, Body, response = Response,
        spec = DOCS, headers = ABHA);
}

pub mod account {
    //! `GET /v3/profile/account`, with `X-token` (bare): the whole profile.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        #[serde(rename = "ABHANumber")]
        pub abha_number: String,
        #[serde(default)]
        pub preferred_abha_address: String,
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub gender: String,
        #[serde(default)]
        pub year_of_birth: String,
        #[serde(default)]
        pub month_of_birth: String,
        #[serde(default)]
        pub day_of_birth: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mobile: Option<String>,
        #[serde(default)]
        pub address: String,
        #[serde(default)]
        pub district_name: String,
        #[serde(default)]
        pub state_name: String,
        #[serde(default)]
        pub pincode: String,
        #[serde(default)]
        pub status: String,
    }

    crate::operation!(Get "/v3/profile/account", HealthId, (), response = Response, spec = DOCS,
        headers = ABHA_USER);
}

pub mod abha_card {
    //! `GET /v3/profile/account/abha-card`, with `X-token`: the card as an image (any 2xx).
    crate::operation!(Get "/v3/profile/account/abha-card", HealthId, (), spec = super::DOCS,
        headers = super::ABHA_USER);
}

pub mod qr_code {
    //! `GET /v3/profile/account/qrCode`, with `X-token`: the account's QR as an image.
    crate::operation!(Get "/v3/profile/account/qrCode", HealthId, (), spec = super::DOCS,
        headers = super::ABHA_USER);
}

/// Scopes, hints and OTP systems of the journeys the desk runs.
pub mod journeys {
    /// Enrolment by Aadhaar OTP.
    pub const ENROL: (&[&str], &str, &str) = (&["abha-enrol"], "aadhaar", "aadhaar");
    /// Verifying a new mobile during enrolment.
    pub const ENROL_MOBILE: (&[&str], &str, &str) =
        (&["abha-enrol", "mobile-verify"], "mobile", "abdm");
    /// Login by ABHA number, OTP to the ABHA's mobile.
    pub const LOGIN_ABHA_NUMBER: (&[&str], &str, &str) =
        (&["abha-login", "mobile-verify"], "abha-number", "abdm");
    /// Login by ABHA number, OTP to the Aadhaar-linked mobile.
    pub const LOGIN_ABHA_NUMBER_AADHAAR: (&[&str], &str, &str) =
        (&["abha-login", "aadhaar-verify"], "abha-number", "aadhaar");
    /// Login by mobile number.
    pub const LOGIN_MOBILE: (&[&str], &str, &str) =
        (&["abha-login", "mobile-verify"], "mobile", "abdm");
    /// Login by Aadhaar number.
    pub const LOGIN_AADHAAR: (&[&str], &str, &str) =
        (&["abha-login", "aadhaar-verify"], "aadhaar", "aadhaar");
}
