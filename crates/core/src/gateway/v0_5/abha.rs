//! Health id v1 as the [`AbhaService`].

use std::sync::Arc;

use abdm::healthid_v1 as hid;
use abdm::ids::{Aadhaar, AbhaId, Mobile};
use abdm::{AbdmError, GatewayClient};
use desk_store::Gender;

use crate::gateway::{AbhaAccount, AbhaService, AccountChoice, EnrolStep, Found, LoginMethod, Txn};

/// The ABHA service, health id v1.
pub struct HealthIdV1 {
    client: Arc<GatewayClient>,
}

impl HealthIdV1 {
    pub(crate) fn new(client: Arc<GatewayClient>) -> Self {
        Self { client }
    }
}

fn account(p: hid::Profile) -> AbhaAccount {
    AbhaAccount {
        number: p.health_id_number.unwrap_or_default(),
        address: p.health_id,
        name: p.name,
        first_name: p.first_name,
        middle_name: p.middle_name,
        last_name: p.last_name,
        gender: Gender::parse(p.gender.as_deref().unwrap_or_default()),
        year_of_birth: p.year_of_birth.and_then(|y| y.parse().ok()),
        month_of_birth: p.month_of_birth.and_then(|m| m.parse().ok()),
        day_of_birth: p.day_of_birth.and_then(|d| d.parse().ok()),
        mobile: p.mobile,
        email: p.email,
        address_line: p.address,
        district: p.district_name,
        state: p.state_name,
        pincode: p.pincode,
        new: p.new.unwrap_or(false),
    }
}

fn otp_body(txn: &Txn, otp: &str) -> hid::OtpBody {
    hid::OtpBody {
        otp: otp.to_string(),
        txn_id: txn.0.clone(),
    }
}

impl AbhaService for HealthIdV1 {
    async fn enrol_request_otp(&self, aadhaar: &Aadhaar) -> Result<Txn, AbdmError> {
        let body = hid::generate_otp::Body {
            aadhaar: aadhaar.digits().into(),
        };
        let txn = self
            .client
            .call::<hid::generate_otp::Endpoint>(&body, None)
            .await?;
        Ok(Txn(txn.txn_id))
    }

    async fn enrol_resend_otp(&self, txn: &Txn) -> Result<Txn, AbdmError> {
        let body = hid::resend_aadhaar_otp::Body {
            txn_id: txn.0.clone(),
        };
        let txn = self
            .client
            .call::<hid::resend_aadhaar_otp::Endpoint>(&body, None)
            .await?;
        Ok(Txn(txn.txn_id))
    }

    async fn enrol_verify_aadhaar_otp(
        &self,
        txn: &Txn,
        otp: &str,
        mobile: &Mobile,
    ) -> Result<EnrolStep, AbdmError> {
        self.client
            .call::<hid::verify_otp::Endpoint>(&otp_body(txn, otp), None)
            .await?;
        let body = hid::generate_mobile_otp::Body {
            mobile: mobile.digits().into(),
            txn_id: txn.0.clone(),
        };
        let answer = self
            .client
            .call::<hid::check_and_generate_mobile_otp::Endpoint>(&body, None)
            .await?;
        Ok(EnrolStep {
            mobile_otp_sent: answer.mobile_linked != Some(true),
        })
    }

    async fn enrol_verify_mobile_otp(&self, txn: &Txn, otp: &str) -> Result<(), AbdmError> {
        self.client
            .call::<hid::verify_mobile_otp::Endpoint>(&otp_body(txn, otp), None)
            .await
            .map(|_| ())
    }

    async fn enrol_address_suggestions(&self, _txn: &Txn) -> Result<Vec<String>, AbdmError> {
        // Health id v1 has no suggestion service: the desk suggests from the name.
        Ok(Vec::new())
    }

    async fn enrol_finish(
        &self,
        txn: &Txn,
        address: Option<&str>,
    ) -> Result<AbhaAccount, AbdmError> {
        let body = hid::create_health_id_with_pre_verified::Body {
            txn_id: txn.0.clone(),
            health_id: address.map(|a| a.split('@').next().unwrap_or_default().to_string()),
            ..Default::default()
        };
        let profile = self
            .client
            .call::<hid::create_health_id_with_pre_verified::Endpoint>(&body, None)
            .await?;
        Ok(account(profile))
    }

    async fn search(&self, id: &AbhaId) -> Result<Option<Found>, AbdmError> {
        let body = hid::search_by_health_id::Body {
            health_id: id.as_str().into(),
        };
        match self
            .client
            .call::<hid::search_by_health_id::Endpoint>(&body, None)
            .await
        {
            Ok(found) => Ok(Some(Found {
                name: found.name.unwrap_or_default(),
                methods: found
                    .auth_methods
                    .into_iter()
                    .filter_map(|m| match m {
                        hid::AuthMethod::MobileOtp => Some(LoginMethod::MobileOtp),
                        hid::AuthMethod::AadhaarOtp => Some(LoginMethod::AadhaarOtp),
                        _ => None,
                    })
                    .collect(),
            })),
            Err(AbdmError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn login_request_otp(&self, id: &AbhaId, method: LoginMethod) -> Result<Txn, AbdmError> {
        let body = hid::auth_init::Body {
            auth_method: match method {
                LoginMethod::AadhaarOtp => hid::AuthMethod::AadhaarOtp,
                LoginMethod::MobileOtp => hid::AuthMethod::MobileOtp,
            },
            health_id: id.as_str().into(),
        };
        let txn = self
            .client
            .call::<hid::auth_init::Endpoint>(&body, None)
            .await?;
        Ok(Txn(txn.txn_id))
    }

    async fn login_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
        method: LoginMethod,
    ) -> Result<AbhaAccount, AbdmError> {
        let body = otp_body(txn, otp);
        let token = match method {
            LoginMethod::AadhaarOtp => {
                self.client
                    .call::<hid::confirm_with_aadhaar_otp::Endpoint>(&body, None)
                    .await?
            }
            LoginMethod::MobileOtp => {
                self.client
                    .call::<hid::confirm_with_mobile_otp::Endpoint>(&body, None)
                    .await?
            }
        };
        // The user's X-token is used for this one read and never kept.
        let profile = self
            .client
            .call::<hid::account_profile::Endpoint>(&(), Some(&token.token))
            .await?;
        Ok(account(profile))
    }

    async fn login_mobile_request_otp(&self, _: &Mobile) -> Result<Txn, AbdmError> {
        Err(not_in_v1("login by mobile number"))
    }

    async fn login_mobile_verify_otp(
        &self,
        _: &Txn,
        _: &str,
    ) -> Result<Vec<AccountChoice>, AbdmError> {
        Err(not_in_v1("login by mobile number"))
    }

    async fn login_mobile_choose(&self, _: &Txn, _: &str) -> Result<AbhaAccount, AbdmError> {
        Err(not_in_v1("login by mobile number"))
    }

    async fn login_aadhaar_request_otp(&self, _: &Aadhaar) -> Result<Txn, AbdmError> {
        Err(not_in_v1("login by Aadhaar number"))
    }
}

/// A v3 journey health id v1 does not have (the desk offers it only on v3).
fn not_in_v1(what: &str) -> AbdmError {
    AbdmError::Unexpected {
        what: what.into(),
        detail: "ABDM v0.5's ABHA service (health id v1) has no such journey: use the ABHA number or address".into(),
    }
}
