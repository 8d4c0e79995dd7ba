//! ABHA ("health id") service v1 (`healthid-1.0.yaml`): registration with Aadhaar OTP, search,
//! login (auth init and confirm) and the account profile. Synchronous: every call answers 200 with
//! its result. Calls carry the gateway session token; account calls add `X-Token: Bearer <user token>`.

// Wire types mirror NHA's OpenAPI schemas field for field (each module names its operation and
// spec file): the spec is their documentation, so fields and variants carry docs only where our
// type says something the spec does not.
#![allow(missing_docs)]

use serde::{Deserialize, Serialize};

/// `TxnResponse`: the transaction id that threads an OTP journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxnResponse {
    pub txn_id: String,
    /// Only `checkAndGenerateMobileOTP`: whether the mobile is already the Aadhaar-linked one (then no
    /// OTP is sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_linked: Option<bool>,
}

/// `{otp, txnId}`, the body of every OTP verification.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtpBody {
    pub otp: String,
    pub txn_id: String,
}

crate::debug_showing!(OtpBody { txn_id });

/// The ABHA profile as the service returns it (`UserDTO`, `CreateAccountJwtResponse`): every field
/// optional because each endpoint returns a different subset.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pincode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_methods: Vec<AuthMethod>,
    /// Present on create: whether a new ABHA was made (false: the Aadhaar already had one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
    /// Present on create: the user's X-token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

crate::debug_showing!(Profile {
    health_id_number,
    health_id,
    name,
    gender,
    year_of_birth,
    auth_methods,
    new
});

/// Login methods of an ABHA account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthMethod {
    AadhaarOtp,
    MobileOtp,
    Password,
    Demographics,
    AadhaarBio,
}

pub mod generate_otp {
    //! `POST /v1/registration/aadhaar/generateOtp` — "Generate Aadhaar OTP on registrered mobile
    //! number" (`AadharOtpGenerateRequestPayLoad` → `TxnResponse`).
    use super::*;

    #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Body {
        /// 12 digits.
        pub aadhaar: String,
    }

    crate::debug_showing!(Body {});

    pub type Response = TxnResponse;
    crate::operation!(Post "/v1/registration/aadhaar/generateOtp", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod resend_aadhaar_otp {
    //! `POST /v1/registration/aadhaar/resendAadhaarOtp` — "Resend Aadhaar OTP on registrered mobile
    //! number to create Health ID".
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub txn_id: String,
    }

    pub type Response = TxnResponse;
    crate::operation!(Post "/v1/registration/aadhaar/resendAadhaarOtp", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod verify_otp {
    //! `POST /v1/registration/aadhaar/verifyOTP` — "Verify Aadhaar OTP and continue for mobile
    //! verification" (`VerifyAadhaarOtp` → `TxnResponse`).
    use super::*;

    pub type Body = OtpBody;
    pub type Response = TxnResponse;
    crate::operation!(Post "/v1/registration/aadhaar/verifyOTP", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod generate_mobile_otp {
    //! `POST /v1/registration/aadhaar/generateMobileOTP` — "Generate Mobile OTP for verification"
    //! (`GenerateMobileOTPForTxnRequest` → `TxnResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub mobile: String,
        pub txn_id: String,
    }

    pub type Response = TxnResponse;
    crate::operation!(Post "/v1/registration/aadhaar/generateMobileOTP", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod check_and_generate_mobile_otp {
    //! `POST /v2/registration/aadhaar/checkAndGenerateMobileOTP` — the v2 form of
    //! [`super::generate_mobile_otp`] with the same body: sends an OTP only when the mobile differs
    //! from the Aadhaar-linked one, and says which (`mobileLinked`). Not in NHA's v1 spec.
    use super::*;

    pub type Body = super::generate_mobile_otp::Body;
    pub type Response = TxnResponse;
    crate::operation!(Post "/v2/registration/aadhaar/checkAndGenerateMobileOTP", HealthId, Body, response = Response, spec = "ABDM v2 docs (not in NHA's healthid v1 OpenAPI)");
}

pub mod verify_mobile_otp {
    //! `POST /v1/registration/aadhaar/verifyMobileOTP` — "Verify Mobile OTP in an existing
    //! transaction" (`VerifyMobileRequest` → `TxnResponse`).
    use super::*;

    pub type Body = OtpBody;
    pub type Response = TxnResponse;
    crate::operation!(Post "/v1/registration/aadhaar/verifyMobileOTP", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod create_health_id_with_pre_verified {
    //! `POST /v1/registration/aadhaar/createHealthIdWithPreVerified` — "Create Health ID using
    //! pre-verified Aadhaar & Mobile" (`CreateAccountWithPreVerifiedAadhaar` → `CreateAccountJwtResponse`).
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub txn_id: String,
        /// The chosen ABHA address (the part before `@`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub health_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub email: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub first_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub middle_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_name: Option<String>,
    }

    pub type Response = Profile;
    crate::operation!(Post "/v1/registration/aadhaar/createHealthIdWithPreVerified", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod search_by_health_id {
    //! `POST /v1/search/searchByHealthId` — "Search a user by Health ID Number"
    //! (`SearchByHealthIdRequest` → `SearchResponseSingle`): an ABHA number or address.
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub health_id: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Response {
        #[serde(default)]
        pub auth_methods: Vec<AuthMethod>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub health_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub health_id_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<String>,
    }

    crate::operation!(Post "/v1/search/searchByHealthId", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod auth_init {
    //! `POST /v1/auth/init` — "Initiate authentication" for login (`AuthInitRequest` → `TxnResponse`).
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Body {
        pub auth_method: AuthMethod,
        /// Lower-case `healthid`, as the spec spells it.
        #[serde(rename = "healthid")]
        pub health_id: String,
    }

    pub type Response = TxnResponse;
    crate::operation!(Post "/v1/auth/init", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

/// `JwtResponse`: the user's X-token after login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

crate::debug_showing!(TokenResponse {});

pub mod confirm_with_aadhaar_otp {
    //! `POST /v1/auth/confirmWithAadhaarOtp` — login with the Aadhaar OTP
    //! (`AuthAccountAadhaarOTPRequest` → `JwtResponse`).
    use super::*;

    pub type Body = OtpBody;
    pub type Response = TokenResponse;
    crate::operation!(Post "/v1/auth/confirmWithAadhaarOtp", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod confirm_with_mobile_otp {
    //! `POST /v1/auth/confirmWithMobileOTP` — login with the mobile OTP
    //! (`AuthAccountMobileOTPRequest` → `JwtResponse`).
    use super::*;

    pub type Body = OtpBody;
    pub type Response = TokenResponse;
    crate::operation!(Post "/v1/auth/confirmWithMobileOTP", HealthId, Body, response = Response, spec = "healthid-1.0.yaml");
}

pub mod account_profile {
    //! `GET /v1/account/profile` — "Get account information" (`UserDTO`), with `X-Token`.
    use super::*;

    pub type Response = Profile;
    crate::operation!(Get "/v1/account/profile", HealthId, (), response = Response, spec = "healthid-1.0.yaml");
}
