//! ABHA v3 login: by ABHA number or address (an OTP to its mobile or the Aadhaar's), by Aadhaar
//! number, and by mobile number, where one mobile may hold several ABHAs: the OTP gives a T-token
//! and the list, and `verify/user` with the one chosen gives the user's token.

use abdm::ids::AbhaId;
use abdm::v3::abha::{self as m1, journeys};
use abdm::v3::headers::T_TOKEN;
use abdm::AbdmError;
use desk_store::Secret;

use super::abha::{refused, unexpected, AbhaV3};
use crate::gateway::{AccountChoice, LoginMethod, Txn};

impl AbhaV3 {
    /// An OTP for the ABHA `id`; an address logs in by its number (the search names it).
    pub(super) async fn login_otp(
        &self,
        id: &AbhaId,
        method: LoginMethod,
    ) -> Result<Txn, AbdmError> {
        let number = match id {
            AbhaId::Number(n) => n.dashed().to_string(),
            AbhaId::Address(a) => {
                let body = m1::phr_search::Body {
                    abha_address: a.as_str().to_string(),
                };
                let found = self
                    .client()
                    .call_v3::<m1::phr_search::Endpoint>(&body, &[])
                    .await?;
                found
                    .health_id_number
                    .ok_or_else(|| refused("this ABHA address has no ABHA number to log in with"))?
            }
        };
        let journey = match method {
            LoginMethod::MobileOtp => journeys::LOGIN_ABHA_NUMBER,
            LoginMethod::AadhaarOtp => journeys::LOGIN_ABHA_NUMBER_AADHAAR,
        };
        let sealed = self.seal(&number).await?;
        self.request_otp::<m1::login_request_otp::Endpoint>(None, sealed, journey)
            .await
    }

    /// Checks a login OTP with the journey's scope.
    pub(super) async fn verify_login(
        &self,
        txn: &Txn,
        otp: &str,
    ) -> Result<m1::login_verify::Response, AbdmError> {
        let (current, scope) = {
            let journeys = self.journeys();
            let j = journeys
                .get(&txn.0)
                .ok_or_else(|| refused("this ABHA step has expired: start again"))?;
            (j.txn.clone(), j.scope.clone())
        };
        let body = m1::login_verify::Body {
            scope,
            auth_data: m1::AuthData::otp(current, self.seal(otp).await?, None),
        };
        let verified = self
            .client()
            .call_v3::<m1::login_verify::Endpoint>(&body, &[])
            .await?;
        if verified.auth_result != "success" {
            return Err(refused(&verified.message));
        }
        Ok(verified)
    }

    /// Keeps the user's token for the journey's next call.
    pub(super) fn keep_user_token(&self, txn: &Txn, token: String) {
        if let Some(j) = self.journeys().get_mut(&txn.0) {
            j.x_token = Some(Secret::new(token));
        }
    }

    /// A mobile login's OTP: the ABHAs on that mobile (the token that picks one is kept).
    pub(super) async fn mobile_accounts(
        &self,
        txn: &Txn,
        otp: &str,
    ) -> Result<Vec<AccountChoice>, AbdmError> {
        let verified = self.verify_login(txn, otp).await?;
        let token = verified
            .token
            .clone()
            .ok_or_else(|| unexpected("the ABHA login", "no token in the answer"))?;
        if let Some(j) = self.journeys().get_mut(&txn.0) {
            j.t_token = Some(Secret::new(token));
            j.txn = verified.txn_id.clone();
            j.offered = verified
                .accounts
                .iter()
                .map(|a| a.abha_number.clone())
                .collect();
        }
        Ok(verified
            .accounts
            .into_iter()
            .map(|a| AccountChoice {
                abha_number: a.abha_number,
                abha_address: a.preferred_abha_address,
                name: a.name,
            })
            .collect())
    }

    /// The ABHA chosen after a mobile login: its user token is kept for the profile.
    pub(super) async fn choose_account(
        &self,
        txn: &Txn,
        abha_number: &str,
    ) -> Result<(), AbdmError> {
        let (current, t_token) = {
            let mut journeys = self.journeys();
            let j = journeys
                .get_mut(&txn.0)
                .ok_or_else(|| refused("this ABHA step has expired: start again"))?;
            if !j.offered.iter().any(|n| n == abha_number) {
                return Err(refused("that ABHA is not one of this mobile's"));
            }
            // Used once: a failure after this starts the journey again.
            let t = j
                .t_token
                .take()
                .ok_or_else(|| refused("verify the mobile OTP first, again"))?;
            j.chosen = Some(abha_number.to_string());
            (j.txn.clone(), t.expose().to_string())
        };
        let body = m1::login_verify_user::Body {
            abha_number: abha_number.to_string(),
            txn_id: current,
        };
        let tokens = self
            .client()
            .call_v3::<m1::login_verify_user::Endpoint>(
                &body,
                &[(T_TOKEN, format!("Bearer {t_token}"))],
            )
            .await?;
        self.keep_user_token(txn, tokens.token.clone());
        Ok(())
    }
}
