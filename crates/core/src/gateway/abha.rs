//! The ABHA service's journeys, generation-neutral: enrolment by Aadhaar OTP (with the mobile
//! branch and address choice), search, and login by OTP. Synchronous and patient-present: nothing
//! here is queued, and no OTP or Aadhaar number is kept.

use std::future::Future;

use abdm::ids::{Aadhaar, AbhaId, Mobile};
use abdm::AbdmError;
use desk_store::Gender;
use serde::{Deserialize, Serialize};

/// A transaction id threading one journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Txn(pub String);

/// How an existing ABHA's owner logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LoginMethod {
    /// OTP to the mobile registered with the ABHA.
    MobileOtp,
    /// OTP to the Aadhaar-linked mobile.
    AadhaarOtp,
}

/// An ABHA account as the ABHA service returns it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AbhaAccount {
    /// Dashed.
    pub number: String,
    /// `name@suffix`.
    pub address: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Gender.
    pub gender: Gender,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Month of birth.
    pub month_of_birth: Option<u32>,
    /// Day of birth.
    pub day_of_birth: Option<u32>,
    /// Mobile (possibly masked).
    pub mobile: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Postal address.
    pub address_line: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// PIN code.
    pub pincode: Option<String>,
    /// False when the Aadhaar already had this ABHA.
    pub new: bool,
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// The account holder's name.
    pub name: String,
    /// The ways to log in it allows.
    pub methods: Vec<LoginMethod>,
}

/// One of the ABHAs on a mobile number, to choose from after a mobile login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountChoice {
    /// Dashed.
    pub abha_number: String,
    /// `name@suffix`.
    pub abha_address: Option<String>,
    /// The holder's name.
    pub name: Option<String>,
}

/// After the Aadhaar OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolStep {
    /// An OTP went to the mobile given (it is not the Aadhaar-linked one): verify it next.
    pub mobile_otp_sent: bool,
}

/// The ABHA service of one generation.
pub trait AbhaService: Send + Sync + 'static {
    /// Sends the Aadhaar OTP to the Aadhaar-linked mobile.
    fn enrol_request_otp(
        &self,
        aadhaar: &Aadhaar,
    ) -> impl Future<Output = Result<Txn, AbdmError>> + Send;
    /// Sends the Aadhaar OTP again.
    fn enrol_resend_otp(&self, txn: &Txn) -> impl Future<Output = Result<Txn, AbdmError>> + Send;
    /// Verifies the Aadhaar OTP and gives the mobile the ABHA is to have.
    fn enrol_verify_aadhaar_otp(
        &self,
        txn: &Txn,
        otp: &str,
        mobile: &Mobile,
    ) -> impl Future<Output = Result<EnrolStep, AbdmError>> + Send;
    /// Verifies the OTP sent to that mobile.
    fn enrol_verify_mobile_otp(
        &self,
        txn: &Txn,
        otp: &str,
    ) -> impl Future<Output = Result<(), AbdmError>> + Send;
    /// ABHA addresses the patient may choose.
    fn enrol_address_suggestions(
        &self,
        txn: &Txn,
    ) -> impl Future<Output = Result<Vec<String>, AbdmError>> + Send;
    /// Creates the ABHA (or returns the Aadhaar's existing one), with the chosen address.
    fn enrol_finish(
        &self,
        txn: &Txn,
        address: Option<&str>,
    ) -> impl Future<Output = Result<AbhaAccount, AbdmError>> + Send;
    /// Finds an ABHA by number or address (`None`: no such ABHA).
    fn search(&self, id: &AbhaId) -> impl Future<Output = Result<Option<Found>, AbdmError>> + Send;
    /// Sends a login OTP.
    fn login_request_otp(
        &self,
        id: &AbhaId,
        method: LoginMethod,
    ) -> impl Future<Output = Result<Txn, AbdmError>> + Send;
    /// Verifies the login OTP and reads the account.
    fn login_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
        method: LoginMethod,
    ) -> impl Future<Output = Result<AbhaAccount, AbdmError>> + Send;
    /// Sends a login OTP to a mobile number (one mobile may hold several ABHAs).
    fn login_mobile_request_otp(
        &self,
        mobile: &Mobile,
    ) -> impl Future<Output = Result<Txn, AbdmError>> + Send;
    /// Verifies it: the ABHAs on that mobile, to choose from.
    fn login_mobile_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
    ) -> impl Future<Output = Result<Vec<AccountChoice>, AbdmError>> + Send;
    /// The chosen ABHA's account.
    fn login_mobile_choose(
        &self,
        txn: &Txn,
        abha_number: &str,
    ) -> impl Future<Output = Result<AbhaAccount, AbdmError>> + Send;
    /// Sends a login OTP to the Aadhaar-linked mobile of the ABHA of an Aadhaar number (then
    /// [`AbhaService::login_verify_otp`] with the Aadhaar OTP).
    fn login_aadhaar_request_otp(
        &self,
        aadhaar: &Aadhaar,
    ) -> impl Future<Output = Result<Txn, AbdmError>> + Send;
}

/// An ABHA service chosen at run time.
pub enum AnyAbha {
    /// Health id v1.
    V1(super::v0_5::HealthIdV1),
    /// ABHA v3.
    V3(super::v3::AbhaV3),
}

/// Calls `$body` on whichever service `$self` holds, as `$s`.
macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnyAbha::V1($s) => $body,
            AnyAbha::V3($s) => $body,
        }
    };
}

impl AbhaService for AnyAbha {
    async fn enrol_request_otp(&self, aadhaar: &Aadhaar) -> Result<Txn, AbdmError> {
        each!(self, s => s.enrol_request_otp(aadhaar).await)
    }
    async fn enrol_resend_otp(&self, txn: &Txn) -> Result<Txn, AbdmError> {
        each!(self, s => s.enrol_resend_otp(txn).await)
    }
    async fn enrol_verify_aadhaar_otp(
        &self,
        txn: &Txn,
        otp: &str,
        mobile: &Mobile,
    ) -> Result<EnrolStep, AbdmError> {
        each!(self, s => s.enrol_verify_aadhaar_otp(txn, otp, mobile).await)
    }
    async fn enrol_verify_mobile_otp(&self, txn: &Txn, otp: &str) -> Result<(), AbdmError> {
        each!(self, s => s.enrol_verify_mobile_otp(txn, otp).await)
    }
    async fn enrol_address_suggestions(&self, txn: &Txn) -> Result<Vec<String>, AbdmError> {
        each!(self, s => s.enrol_address_suggestions(txn).await)
    }
    async fn enrol_finish(
        &self,
        txn: &Txn,
        address: Option<&str>,
    ) -> Result<AbhaAccount, AbdmError> {
        each!(self, s => s.enrol_finish(txn, address).await)
    }
    async fn search(&self, id: &AbhaId) -> Result<Option<Found>, AbdmError> {
        each!(self, s => s.search(id).await)
    }
    async fn login_request_otp(&self, id: &AbhaId, method: LoginMethod) -> Result<Txn, AbdmError> {
        each!(self, s => s.login_request_otp(id, method).await)
    }
    async fn login_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
        method: LoginMethod,
    ) -> Result<AbhaAccount, AbdmError> {
        each!(self, s => s.login_verify_otp(txn, otp, method).await)
    }
    async fn login_mobile_request_otp(&self, mobile: &Mobile) -> Result<Txn, AbdmError> {
        each!(self, s => s.login_mobile_request_otp(mobile).await)
    }
    async fn login_mobile_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
    ) -> Result<Vec<AccountChoice>, AbdmError> {
        each!(self, s => s.login_mobile_verify_otp(txn, otp).await)
    }
    async fn login_mobile_choose(&self, txn: &Txn, number: &str) -> Result<AbhaAccount, AbdmError> {
        each!(self, s => s.login_mobile_choose(txn, number).await)
    }
    async fn login_aadhaar_request_otp(&self, aadhaar: &Aadhaar) -> Result<Txn, AbdmError> {
        each!(self, s => s.login_aadhaar_request_otp(aadhaar).await)
    }
}
