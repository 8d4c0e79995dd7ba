//! Scan and pull (the ABHA card held to the webcam) and scan and share (the patient scans our
//! counter QR; we answer with today's token).

use abdm::ids::{AbhaAddress, AbhaNumber, Mobile};
use abdm::qr::AbhaQr;
use chrono::Utc;
use desk_store::{AbhaProfile, Gender, Id, Patient, Writer};
use uuid::Uuid;

use super::today;
use super::Step;
use crate::desk::Desk;
use crate::error::{DeskError, Result};
use crate::gateway::{Call, Gateway, SharedProfile};
use crate::labels::Label;
use crate::view::PatientView;

impl<G: Gateway> Desk<G> {
    /// Scan and pull: the patient is saved (or updated) from the card at once, offline too;
    /// verifying the ABHA with ABDM (fetch-modes → init → confirm → linking token) is queued.
    pub fn scan_and_pull(&self, qr: &AbhaQr) -> Result<PatientView> {
        let number = AbhaNumber::parse(qr.abha_number.as_deref().ok_or_else(|| {
            DeskError::Input(
                "this card shows no ABHA number; link the ABHA with an OTP instead".into(),
            )
        })?)?;
        let address = qr
            .abha_address
            .as_deref()
            .map(|a| AbhaAddress::parse(a, &self.config.abha_suffix))
            .transpose()?;
        let mobile = qr
            .mobile
            .as_deref()
            .filter(|_| !qr.mobile_masked)
            .and_then(|m| Mobile::parse(m).ok());
        let id_for_abdm = address
            .as_ref()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| number.dashed().to_string());
        let patient = self.store.write(|w| -> Result<Patient> {
            let mut patient = w
                .patient_by_abha(number.dashed())?
                .unwrap_or_else(|| Patient::new(""));
            patient.name = qr.name.trim().to_string();
            patient.gender = Gender::parse(&qr.gender);
            patient.year_of_birth = qr.date_of_birth.year.or(patient.year_of_birth);
            patient.month_of_birth = qr.date_of_birth.month.or(patient.month_of_birth);
            patient.day_of_birth = qr.date_of_birth.day.or(patient.day_of_birth);
            patient.mobile = mobile
                .as_ref()
                .map(|m| m.digits().to_string())
                .or(patient.mobile.clone());
            patient.abha_number = Some(number.dashed().to_string());
            patient.abha_address = address
                .as_ref()
                .map(|a| a.as_str().to_string())
                .or(patient.abha_address.clone());
            patient.district = qr.district.clone().or(patient.district.clone());
            patient.state = qr.state.clone().or(patient.state.clone());
            patient.updated_at = Utc::now();
            w.put_patient(&patient)?;
            let mut profile = w
                .get::<AbhaProfile>(&Id::blind(number.dashed()))?
                .unwrap_or_default();
            profile.abha_number = number.dashed().to_string();
            profile.abha_address = patient.abha_address.clone();
            profile.patient_id = Some(patient.id);
            profile.name = Some(patient.name.clone());
            profile.gender = Some(format!("{:?}", patient.gender));
            profile.date_of_birth = Some(patient.date_of_birth());
            profile.mobile = patient.mobile.clone();
            profile.district = patient.district.clone();
            profile.state = patient.state.clone();
            profile.updated_at = Some(Utc::now());
            w.put(&profile);
            if self.gateway.generation() == crate::gateway::Generation::V3 {
                // v3 verifies the card's demographics by giving the linking token for them.
                self.ask_linking_token(w, &patient, profile)?;
            } else {
                self.enqueue(
                    w,
                    &Call::FetchModes {
                        abha: id_for_abdm.clone(),
                    },
                    Label::new("verify-abha", &[&patient.name]),
                    Some(patient.id),
                    Some(crate::engine::Step::Identity(Step::PullModes {
                        abha: id_for_abdm.clone(),
                        number: number.dashed().to_string(),
                    })),
                )?;
            }
            w.audit(
                "ABHA card scanned",
                format!("{} ({})", patient.name, number),
                Some(patient.id),
            )?;
            Ok(patient)
        })?;
        self.wake_outbox();
        Ok(PatientView::of(&patient))
    }

    /// Scan and share: match or create the patient, give today's token (one per patient per
    /// day), answer ABDM.
    pub(crate) fn on_share(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        s: SharedProfile,
    ) -> Result<()> {
        let number = match AbhaNumber::parse(&s.abha_number) {
            Ok(n) => n,
            Err(e) => {
                w.audit(
                    "profile share with an invalid ABHA number refused",
                    e.to_string(),
                    None,
                )?;
                self.enqueue(
                    w,
                    &Call::ShareAnswer {
                        share_request_id: request_id,
                        abha_address: s.abha_address.clone(),
                        counter: s.counter.clone(),
                        token: None,
                    },
                    Label::new("share-refused", &[]),
                    None,
                    None,
                )?;
                return Ok(());
            }
        };
        let now = Utc::now();
        let mut patient = w
            .patient_by_abha(number.dashed())?
            .unwrap_or_else(|| Patient::new(""));
        patient.name = s.name.clone();
        patient.gender = s.gender;
        patient.year_of_birth = Some(s.year_of_birth);
        patient.month_of_birth = s.month_of_birth.or(patient.month_of_birth);
        patient.day_of_birth = s.day_of_birth.or(patient.day_of_birth);
        patient.mobile = s.mobile.clone().or(patient.mobile.clone());
        patient.abha_number = Some(number.dashed().into());
        patient.abha_address = Some(s.abha_address.clone());
        patient.district = s.district.clone().or(patient.district.clone());
        patient.state = s.state.clone().or(patient.state.clone());
        patient.pincode = s.pincode.clone().or(patient.pincode.clone());
        patient.updated_at = now;
        w.put_patient(&patient)?;
        let mut profile = w
            .get::<AbhaProfile>(&Id::blind(number.dashed()))?
            .unwrap_or_default();
        profile.abha_number = number.dashed().into();
        profile.abha_address = Some(s.abha_address.clone());
        profile.patient_id = Some(patient.id);
        profile.name = Some(s.name.clone());
        profile.gender = Some(format!("{:?}", s.gender));
        profile.date_of_birth = Some(patient.date_of_birth());
        profile.mobile = s.mobile.clone();
        profile.district = s.district;
        profile.state = s.state;
        profile.pincode = s.pincode;
        profile.updated_at = Some(now);
        w.put(&profile);
        let (token, new) = w.token_for(patient.id, &today(), true)?;
        self.enqueue(
            w,
            &Call::ShareAnswer {
                share_request_id: request_id,
                abha_address: s.abha_address,
                counter: s.counter,
                token: Some(token),
            },
            Label::new("give-token", &[&patient.name, &token]),
            Some(patient.id),
            None,
        )?;
        w.audit(
            if new {
                "scan and share: token given"
            } else {
                "scan and share again: same token"
            },
            format!("{} → token {token}", patient.name),
            Some(patient.id),
        )?;
        Ok(())
    }
}
