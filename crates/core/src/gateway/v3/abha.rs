//! ABHA v3 as the [`AbhaService`]: every identifier and OTP sealed with RSA-OAEP to the service's
//! certificate (fetched once), the user's token kept in memory for the journey that got it, and
//! never an Aadhaar number or OTP in the clear beyond the call that sends it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use abdm::ids::{Aadhaar, AbhaId, Mobile};
use abdm::v3::abha::{self as m1, journeys, AbhaPublicKey};
use abdm::v3::headers::{TRANSACTION_ID, X_TOKEN};
use abdm::{AbdmError, GatewayClient};
use desk_store::{Gender, Secret};

use super::journey::{same_mobile, Journey, JOURNEY_LIFETIME};
use crate::gateway::{AbhaAccount, AbhaService, AccountChoice, EnrolStep, Found, LoginMethod, Txn};

/// The ABHA service, v3.
pub struct AbhaV3 {
    client: Arc<GatewayClient>,
    key: tokio::sync::Mutex<Option<AbhaPublicKey>>,
    journeys: Mutex<HashMap<String, Journey>>,
}

pub(super) fn unexpected(what: &str, detail: impl Into<String>) -> AbdmError {
    AbdmError::Unexpected {
        what: what.into(),
        detail: detail.into(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(super) fn refused(message: &str) -> AbdmError {
    AbdmError::Rejected {
        status: 422,
        code: None,
        message: message.into(),
    }
}

impl AbhaV3 {
    pub(super) fn client(&self) -> &GatewayClient {
        &self.client
    }

    pub(crate) fn new(client: Arc<GatewayClient>) -> Self {
        Self {
            client,
            key: tokio::sync::Mutex::new(None),
            journeys: Mutex::new(HashMap::new()),
        }
    }

    /// Seals `plain` to the service's certificate (read once, then kept).
    pub(super) async fn seal(&self, plain: &str) -> Result<String, AbdmError> {
        let mut key = self.key.lock().await;
        if key.is_none() {
            let cert = self
                .client
                .call_v3::<m1::public_certificate::Endpoint>(&(), &[])
                .await?;
            let read = AbhaPublicKey::from_certificate(&cert.public_key)
                .map_err(|e| unexpected("the ABHA service's certificate", e.to_string()))?;
            *key = Some(read);
        }
        key.as_ref()
            .expect("set above")
            .seal(plain)
            .map_err(|e| unexpected("the ABHA service's certificate", e.to_string()))
    }

    /// The journeys under way, those abandoned past their lifetime forgotten first.
    pub(super) fn journeys(&self) -> std::sync::MutexGuard<'_, HashMap<String, Journey>> {
        let mut journeys = self.journeys.lock().expect("ABHA journeys lock");
        journeys.retain(|_, j| j.started.is_none_or(|s| s.elapsed() < JOURNEY_LIFETIME));
        journeys
    }

    pub(super) fn current(&self, txn: &Txn) -> Result<String, AbdmError> {
        self.journeys()
            .get(&txn.0)
            .map(|j| j.txn.clone())
            .ok_or_else(|| refused("this ABHA step has expired: start again"))
    }

    /// Sends an OTP request and starts (or continues) the journey `txn`.
    pub(super) async fn request_otp<O>(
        &self,
        journey: Option<&Txn>,
        sealed_login_id: String,
        (scope, hint, system): (&[&str], &str, &str),
    ) -> Result<Txn, AbdmError>
    where
        O: abdm::Operation<Body = m1::OtpRequest, Response = m1::OtpSent>,
    {
        let current = journey.map(|t| self.current(t)).transpose()?;
        let body = m1::OtpRequest {
            txn_id: current,
            scope: strings(scope),
            login_hint: hint.into(),
            login_id: sealed_login_id.clone(),
            otp_system: system.into(),
        };
        let sent = self.client.call_v3::<O>(&body, &[]).await?;
        let key = journey.map(|t| t.0.clone()).unwrap_or(sent.txn_id.clone());
        let mut journeys = self.journeys();
        let j = journeys.entry(key.clone()).or_default();
        j.started.get_or_insert_with(std::time::Instant::now);
        j.txn = sent.txn_id;
        j.sealed_login_id = Some(sealed_login_id);
        j.scope = body.scope;
        Ok(Txn(key))
    }

    /// The profile of the journey's user.
    pub(super) async fn profile(&self, txn: &Txn) -> Result<AbhaAccount, AbdmError> {
        let (token, new, chosen) = {
            let journeys = self.journeys();
            let j = journeys
                .get(&txn.0)
                .ok_or_else(|| refused("this ABHA step has expired: start again"))?;
            (
                j.x_token.as_ref().map(|t| t.expose().to_string()),
                j.new,
                j.chosen.clone(),
            )
        };
        let token = token.ok_or_else(|| refused("ABDM has not confirmed this ABHA yet"))?;
        let p = self
            .client
            .call_v3::<m1::account::Endpoint>(&(), &[(X_TOKEN, token)])
            .await?;
        self.journeys().remove(&txn.0);
        if chosen.is_some_and(|c| c != p.abha_number) {
            return Err(unexpected(
                "the ABHA login",
                "ABDM gave the profile of another ABHA than the one chosen",
            ));
        }
        let name = Some(p.name).filter(|n| !n.is_empty());
        Ok(AbhaAccount {
            number: p.abha_number,
            address: Some(p.preferred_abha_address).filter(|a| !a.is_empty()),
            first_name: name
                .as_ref()
                .and_then(|n| n.split_whitespace().next().map(String::from)),
            name,
            middle_name: None,
            last_name: None,
            gender: Gender::parse(&p.gender),
            year_of_birth: p.year_of_birth.parse().ok(),
            month_of_birth: p.month_of_birth.parse().ok(),
            day_of_birth: p.day_of_birth.parse().ok(),
            mobile: p.mobile,
            email: None,
            address_line: Some(p.address).filter(|a| !a.is_empty()),
            district: Some(p.district_name).filter(|d| !d.is_empty()),
            state: Some(p.state_name).filter(|s| !s.is_empty()),
            pincode: Some(p.pincode).filter(|s| !s.is_empty()),
            new,
        })
    }
}

impl AbhaService for AbhaV3 {
    async fn enrol_request_otp(&self, aadhaar: &Aadhaar) -> Result<Txn, AbdmError> {
        let sealed = self.seal(aadhaar.digits()).await?;
        self.request_otp::<m1::enrol_request_otp::Endpoint>(None, sealed, journeys::ENROL)
            .await
    }

    async fn enrol_resend_otp(&self, txn: &Txn) -> Result<Txn, AbdmError> {
        // v3 has no resend: the same request again (the Aadhaar kept sealed, never in clear).
        let sealed = self
            .journeys()
            .get(&txn.0)
            .and_then(|j| j.sealed_login_id.clone())
            .ok_or_else(|| refused("this ABHA step has expired: start again"))?;
        let sent = self
            .client
            .call_v3::<m1::enrol_request_otp::Endpoint>(
                &m1::OtpRequest {
                    txn_id: None,
                    scope: strings(journeys::ENROL.0),
                    login_hint: journeys::ENROL.1.into(),
                    login_id: sealed,
                    otp_system: journeys::ENROL.2.into(),
                },
                &[],
            )
            .await?;
        if let Some(j) = self.journeys().get_mut(&txn.0) {
            j.txn = sent.txn_id;
        }
        Ok(txn.clone())
    }

    async fn enrol_verify_aadhaar_otp(
        &self,
        txn: &Txn,
        otp: &str,
        mobile: &Mobile,
    ) -> Result<EnrolStep, AbdmError> {
        // v3 verifies the OTP and creates the ABHA in one call.
        let current = self.current(txn)?;
        let body = m1::enrol_by_aadhaar::Body {
            auth_data: m1::AuthData::otp(
                current,
                self.seal(otp).await?,
                Some(mobile.digits().to_string()),
            ),
            consent: Default::default(),
        };
        let created = self
            .client
            .call_v3::<m1::enrol_by_aadhaar::Endpoint>(&body, &[])
            .await?;
        let same = same_mobile(created.abha_profile.mobile.as_deref(), mobile);
        {
            let mut journeys = self.journeys();
            let j = journeys.entry(txn.0.clone()).or_default();
            j.txn = created.txn_id;
            j.x_token = Some(Secret::new(created.tokens.token));
            j.new = created.is_new;
        }
        if same {
            return Ok(EnrolStep {
                mobile_otp_sent: false,
            });
        }
        let sealed = self.seal(mobile.digits()).await?;
        self.request_otp::<m1::enrol_request_otp::Endpoint>(
            Some(txn),
            sealed,
            journeys::ENROL_MOBILE,
        )
        .await?;
        Ok(EnrolStep {
            mobile_otp_sent: true,
        })
    }

    async fn enrol_verify_mobile_otp(&self, txn: &Txn, otp: &str) -> Result<(), AbdmError> {
        let current = self.current(txn)?;
        let body = m1::enrol_auth_by_abdm::Body {
            scope: strings(journeys::ENROL_MOBILE.0),
            auth_data: m1::AuthData::otp(current, self.seal(otp).await?, None),
        };
        let result = self
            .client
            .call_v3::<m1::enrol_auth_by_abdm::Endpoint>(&body, &[])
            .await?;
        if result.auth_result != "success" {
            return Err(refused(&result.message));
        }
        if let Some(j) = self.journeys().get_mut(&txn.0) {
            j.txn = result.txn_id;
        }
        Ok(())
    }

    async fn enrol_address_suggestions(&self, txn: &Txn) -> Result<Vec<String>, AbdmError> {
        let current = self.current(txn)?;
        let answer = self
            .client
            .call_v3::<m1::enrol_suggestion::Endpoint>(&(), &[(TRANSACTION_ID, current)])
            .await?;
        Ok(answer.abha_address_list)
    }

    async fn enrol_finish(
        &self,
        txn: &Txn,
        address: Option<&str>,
    ) -> Result<AbhaAccount, AbdmError> {
        if let Some(address) = address {
            let current = self.current(txn)?;
            let body = m1::enrol_abha_address::Body {
                txn_id: current,
                // The suggestions come without the suffix, and so does the choice.
                abha_address: address.split('@').next().unwrap_or(address).to_string(),
                preferred: 1,
            };
            self.client
                .call_v3::<m1::enrol_abha_address::Endpoint>(&body, &[])
                .await?;
        }
        self.profile(txn).await
    }

    async fn search(&self, id: &AbhaId) -> Result<Option<Found>, AbdmError> {
        let AbhaId::Address(address) = id else {
            // v3 looks up no ABHA number without the holder's consent: the login OTP shows
            // whether it exists.
            return Ok(Some(Found {
                name: id.as_str().to_string(),
                methods: vec![LoginMethod::MobileOtp, LoginMethod::AadhaarOtp],
            }));
        };
        let body = m1::phr_search::Body {
            abha_address: address.as_str().to_string(),
        };
        match self
            .client
            .call_v3::<m1::phr_search::Endpoint>(&body, &[])
            .await
        {
            Ok(found) => Ok(Some(Found {
                name: found
                    .full_name
                    .unwrap_or_else(|| found.abha_address.clone()),
                methods: found
                    .auth_methods
                    .iter()
                    .filter_map(|m| match m.as_str() {
                        "MOBILE_OTP" => Some(LoginMethod::MobileOtp),
                        "AADHAAR_OTP" => Some(LoginMethod::AadhaarOtp),
                        _ => None,
                    })
                    .collect(),
            })),
            Err(AbdmError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn login_request_otp(&self, id: &AbhaId, method: LoginMethod) -> Result<Txn, AbdmError> {
        self.login_otp(id, method).await
    }

    async fn login_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
        _: LoginMethod,
    ) -> Result<AbhaAccount, AbdmError> {
        let token = self.verify_login(txn, otp).await?.token;
        let token =
            token.ok_or_else(|| unexpected("the ABHA login", "no user token in the answer"))?;
        self.keep_user_token(txn, token);
        self.profile(txn).await
    }

    async fn login_mobile_request_otp(&self, mobile: &Mobile) -> Result<Txn, AbdmError> {
        let sealed = self.seal(mobile.digits()).await?;
        self.request_otp::<m1::login_request_otp::Endpoint>(None, sealed, journeys::LOGIN_MOBILE)
            .await
    }

    async fn login_mobile_verify_otp(
        &self,
        txn: &Txn,
        otp: &str,
    ) -> Result<Vec<AccountChoice>, AbdmError> {
        self.mobile_accounts(txn, otp).await
    }

    async fn login_mobile_choose(&self, txn: &Txn, number: &str) -> Result<AbhaAccount, AbdmError> {
        self.choose_account(txn, number).await?;
        self.profile(txn).await
    }

    async fn login_aadhaar_request_otp(&self, aadhaar: &Aadhaar) -> Result<Txn, AbdmError> {
        let sealed = self.seal(aadhaar.digits()).await?;
        self.request_otp::<m1::login_request_otp::Endpoint>(None, sealed, journeys::LOGIN_AADHAAR)
            .await
    }
}
