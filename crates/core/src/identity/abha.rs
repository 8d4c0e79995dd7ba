//! ABHA creation with Aadhaar OTP and linking an existing ABHA: patient present, online, run
//! through the generation's [`AbhaService`]. No OTP, Aadhaar number or user token is kept.

use abdm::ids::{Aadhaar, AbhaAddress, AbhaId, AbhaNumber, Mobile};
use chrono::Utc;
use desk_store::{AbhaProfile, Id, Patient};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{DeskError, Result};
use crate::gateway::{AbhaAccount, AbhaService, AccountChoice, Found, Gateway, LoginMethod, Txn};
use crate::view::AbhaView;

impl<G: Gateway> Desk<G> {
    /// Sends the Aadhaar OTP to the Aadhaar-linked mobile; returns the transaction.
    pub async fn abha_create_start(&self, aadhaar: &str) -> Result<Txn> {
        let aadhaar = Aadhaar::parse(aadhaar)?;
        Ok(self.gateway.abha().enrol_request_otp(&aadhaar).await?)
    }

    /// Sends the Aadhaar OTP again.
    pub async fn abha_create_resend(&self, txn: &Txn) -> Result<Txn> {
        Ok(self.gateway.abha().enrol_resend_otp(txn).await?)
    }

    /// Checks the Aadhaar OTP and sets the mobile the ABHA will have; returns whether an OTP went
    /// to that mobile (not when it is the Aadhaar-linked one).
    pub async fn abha_create_verify_aadhaar_otp(
        &self,
        txn: &Txn,
        otp: &str,
        mobile: &str,
    ) -> Result<bool> {
        let otp = abdm::ids::check_otp(otp)?;
        let mobile = Mobile::parse(mobile)?;
        let step = self
            .gateway
            .abha()
            .enrol_verify_aadhaar_otp(txn, &otp, &mobile)
            .await?;
        Ok(step.mobile_otp_sent)
    }

    /// Checks the OTP sent to the new mobile.
    pub async fn abha_create_verify_mobile_otp(&self, txn: &Txn, otp: &str) -> Result<()> {
        let otp = abdm::ids::check_otp(otp)?;
        Ok(self
            .gateway
            .abha()
            .enrol_verify_mobile_otp(txn, &otp)
            .await?)
    }

    /// ABHA addresses to offer: ABDM's suggestions, or made from the patient's name.
    pub async fn abha_address_suggestions(
        &self,
        txn: &Txn,
        patient_id: Uuid,
    ) -> Result<Vec<String>> {
        let mut suggestions = self.gateway.abha().enrol_address_suggestions(txn).await?;
        if suggestions.is_empty() {
            if let Some(p) = self.store.get::<Patient>(&Id::uuid(patient_id))? {
                let base: String = p
                    .name
                    .to_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(".");
                let base: String = base
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                    .collect();
                let year = p
                    .year_of_birth
                    .map(|y| format!("{:02}", y % 100))
                    .unwrap_or_default();
                for candidate in [
                    base.clone(),
                    format!("{base}{year}"),
                    format!("{base}.{year}"),
                ] {
                    if (4..=32).contains(&candidate.len()) && !suggestions.contains(&candidate) {
                        suggestions.push(candidate);
                    }
                }
            }
        }
        Ok(suggestions)
    }

    /// Creates the ABHA (or gets the Aadhaar's existing one) and links it to the patient.
    pub async fn abha_create_finish(
        &self,
        txn: &Txn,
        patient_id: Uuid,
        preferred_address: Option<&str>,
    ) -> Result<AbhaView> {
        let preferred = preferred_address
            .filter(|a| !a.trim().is_empty())
            .map(|a| AbhaAddress::parse(a, &self.config.abha_suffix))
            .transpose()?;
        let account = self
            .gateway
            .abha()
            .enrol_finish(txn, preferred.as_ref().map(|a| a.as_str()))
            .await?;
        let what = if account.new {
            "ABHA created"
        } else {
            "existing ABHA of this Aadhaar linked"
        };
        self.attach_account(patient_id, &account, what)
    }

    /// Finds an ABHA by number or address: its holder's name and the ways to log in it allows.
    pub async fn link_search(&self, id: &str) -> Result<Found> {
        let id = AbhaId::parse(id, &self.config.abha_suffix)?;
        self.gateway
            .abha()
            .search(&id)
            .await?
            .ok_or_else(|| DeskError::NotFound(format!("no ABHA {} exists", id.as_str())))
    }

    /// Sends a login OTP for an existing ABHA.
    pub async fn link_start(&self, id: &str, method: LoginMethod) -> Result<Txn> {
        let id = AbhaId::parse(id, &self.config.abha_suffix)?;
        Ok(self.gateway.abha().login_request_otp(&id, method).await?)
    }

    /// Confirms with the OTP, reads the ABHA and links it to the patient.
    pub async fn link_finish(
        &self,
        txn: &Txn,
        otp: &str,
        method: LoginMethod,
        patient_id: Uuid,
    ) -> Result<AbhaView> {
        let otp = abdm::ids::check_otp(otp)?;
        let account = self
            .gateway
            .abha()
            .login_verify_otp(txn, &otp, method)
            .await?;
        self.attach_account(patient_id, &account, "existing ABHA linked")
    }

    /// Starts linking an ABHA found by the patient's mobile number (ABDM v3: one mobile may hold
    /// several ABHAs; the OTP goes to that mobile).
    pub async fn link_start_by_mobile(&self, mobile: &str) -> Result<Txn> {
        self.needs_v3("Linking by mobile number")?;
        let mobile = Mobile::parse(mobile)?;
        Ok(self
            .gateway
            .abha()
            .login_mobile_request_otp(&mobile)
            .await?)
    }

    /// The mobile's OTP: the ABHAs on it, for the patient to say which is theirs.
    pub async fn link_mobile_accounts(&self, txn: &Txn, otp: &str) -> Result<Vec<AccountChoice>> {
        let otp = abdm::ids::check_otp(otp)?;
        Ok(self
            .gateway
            .abha()
            .login_mobile_verify_otp(txn, &otp)
            .await?)
    }

    /// Links the ABHA the patient chose among their mobile's.
    pub async fn link_finish_choice(
        &self,
        txn: &Txn,
        abha_number: &str,
        patient_id: Uuid,
    ) -> Result<AbhaView> {
        let number = AbhaNumber::parse(abha_number)?;
        let account = self
            .gateway
            .abha()
            .login_mobile_choose(txn, number.dashed())
            .await?;
        self.attach_account(
            patient_id,
            &account,
            "existing ABHA linked (found by mobile)",
        )
    }

    /// Starts linking the ABHA of an Aadhaar number: an OTP to the Aadhaar-linked mobile, then
    /// [`Desk::link_finish`] with [`LoginMethod::AadhaarOtp`] (ABDM v3).
    pub async fn link_start_by_aadhaar(&self, aadhaar: &str) -> Result<Txn> {
        self.needs_v3("Linking by Aadhaar number")?;
        let aadhaar = Aadhaar::parse(aadhaar)?;
        Ok(self
            .gateway
            .abha()
            .login_aadhaar_request_otp(&aadhaar)
            .await?)
    }

    fn needs_v3(&self, what: &str) -> Result<()> {
        if self.gateway.generation() == crate::gateway::Generation::V05 {
            return Err(DeskError::Input(format!(
                "{what} needs ABDM v3 (Clinic settings → ABDM version); with v0.5 use the ABHA number or address"
            )));
        }
        Ok(())
    }

    /// Stores an ABHA on a patient, refusing one that belongs to another patient here.
    fn attach_account(&self, patient_id: Uuid, a: &AbhaAccount, what: &str) -> Result<AbhaView> {
        let number = AbhaNumber::parse(&a.number)?;
        self.store.write(|w| -> Result<AbhaView> {
            let mut patient = w
                .get::<Patient>(&Id::uuid(patient_id))?
                .ok_or_else(|| DeskError::NotFound("that patient is not registered here".into()))?;
            if let Some(other) = w.patient_by_abha(number.dashed())? {
                if other.id != patient_id {
                    return Err(DeskError::AlreadyLinked {
                        abha: number.dashed().into(),
                        other: other.name,
                    });
                }
            }
            let previous = w.get::<AbhaProfile>(&Id::blind(number.dashed()))?;
            let asked = previous.as_ref().and_then(|p| p.link_token_asked_at);
            let profile = AbhaProfile {
                abha_number: number.dashed().into(),
                abha_address: a.address.clone(),
                patient_id: Some(patient_id),
                name: a.name.clone(),
                first_name: a.first_name.clone(),
                middle_name: a.middle_name.clone(),
                last_name: a.last_name.clone(),
                gender: Some(format!("{:?}", a.gender)),
                date_of_birth: Some(
                    Patient {
                        year_of_birth: a.year_of_birth,
                        month_of_birth: a.month_of_birth,
                        day_of_birth: a.day_of_birth,
                        ..Patient::new("")
                    }
                    .date_of_birth(),
                ),
                mobile: a.mobile.clone(),
                email: a.email.clone(),
                address: a.address_line.clone(),
                district: a.district.clone(),
                state: a.state.clone(),
                pincode: a.pincode.clone(),
                token_otp_txn: previous.as_ref().and_then(|p| p.token_otp_txn.clone()),
                linking_token: previous.and_then(|p| p.linking_token),
                link_token_asked_at: asked,
                link_token_wanted: false,
                confirmed_by_abdm_at: Some(Utc::now()),
                updated_at: Some(Utc::now()),
            };
            patient.abha_number = Some(number.dashed().into());
            patient.abha_address = a.address.clone();
            if patient.mobile.is_none() {
                patient.mobile = a.mobile.clone().filter(|m| Mobile::parse(m).is_ok());
            }
            patient.updated_at = Utc::now();
            w.put_patient(&patient)?;
            w.put(&profile);
            w.audit(
                what,
                format!("{} → {}", patient.name, number),
                Some(patient_id),
            )?;
            Ok(AbhaView::of(&profile))
        })
    }
}
