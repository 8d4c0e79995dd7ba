//! Consultations, the clinic's own record of a visit: saved at once (offline too), each a care
//! context (reference = its id). For a patient with an ABHA they are linked by ABDM's
//! HIP-initiated flow: a linking token first (fetched by the identity steps when the patient has
//! none), then `add-contexts`, then an SMS to the patient.

use chrono::Utc;
use desk_store::{AbhaProfile, Consultation, Id, LinkState, Patient, Secret, Writer};
use uuid::Uuid;

use super::visit::{build, NewConsultation};
use super::{set_link_state, Step};
use crate::desk::Desk;
use crate::engine::Pending;
use crate::error::{DeskError, Result};
use crate::gateway::{AuthMode, Call, ContextRef, Gateway};
use crate::identity;
use crate::labels::Label;
use crate::view::ConsultationView;

/// How long after a v3 link-token request the desk waits before asking again: ABDM refuses a
/// repeat within about 6.2 minutes (`ABDM-1092`), so a little longer.
pub(crate) const LINK_TOKEN_GUARD: chrono::Duration = chrono::Duration::seconds(390);

/// What the patient sees of a visit in their PHR app.
pub(crate) fn visit_label(c: &Consultation) -> String {
    format!(
        "OPD visit, {} ({})",
        c.date.format("%-d %b %Y"),
        c.doctor.name
    )
}

pub(crate) fn context_ref(c: &Consultation) -> ContextRef {
    ContextRef {
        reference: c.id.to_string(),
        display: visit_label(c),
        hi_types: super::bundles::documents(c)
            .iter()
            .map(|d| d.hi_type().to_string())
            .collect(),
    }
}

/// A patient's consultations, oldest first.
pub(crate) fn consultations_of(w: &Writer<'_>, patient_id: Uuid) -> Result<Vec<Consultation>> {
    let mut all: Vec<Consultation> = w
        .all::<Consultation>()?
        .into_iter()
        .filter(|c| c.patient_id == patient_id)
        .collect();
    all.sort_by_key(|c| (c.date, c.recorded_at));
    Ok(all)
}

fn profile_of(w: &Writer<'_>, patient: &Patient) -> Result<Option<AbhaProfile>> {
    match &patient.abha_number {
        Some(n) => Ok(w.get::<AbhaProfile>(&Id::blind(n))?),
        None => Ok(None),
    }
}

impl<G: Gateway> Desk<G> {
    /// Saves a consultation at once (offline too) and, for a patient with an ABHA, queues its
    /// linking as a care context.
    pub fn record_consultation(&self, input: NewConsultation) -> Result<ConsultationView> {
        let c = self.store.write(|w| -> Result<Consultation> {
            let patient = w
                .get::<Patient>(&Id::uuid(input.patient_id))?
                .ok_or_else(|| DeskError::NotFound("that patient is not registered here".into()))?;
            let c = build(input, &patient)?;
            w.put(&c);
            w.audit_by(
                "consultation recorded",
                format!("{} for {}", visit_label(&c), patient.name),
                Some(patient.id),
                Some(&c.doctor.name),
            )?;
            if c.link == LinkState::Queued {
                self.link_waiting(w, patient.id)?;
            }
            Ok(c)
        })?;
        self.wake_outbox();
        Ok(self
            .store
            .get::<Consultation>(&Id::uuid(c.id))?
            .map(|c| ConsultationView::of(&c))
            .unwrap_or_else(|| ConsultationView::of(&c)))
    }

    /// A patient's consultations, newest first.
    pub fn consultations(&self, patient_id: Uuid) -> Result<Vec<ConsultationView>> {
        let mut all: Vec<ConsultationView> = self
            .store
            .all::<Consultation>()?
            .iter()
            .filter(|c| c.patient_id == patient_id)
            .map(ConsultationView::of)
            .collect();
        all.sort_by(|a, b| b.date.cmp(&a.date).then(b.recorded_at.cmp(&a.recorded_at)));
        Ok(all)
    }

    /// Queues linking again for a patient's consultations that failed or were recorded before the
    /// ABHA was added.
    pub fn link_consultations(&self, patient_id: Uuid) -> Result<usize> {
        let n = self.store.write(|w| -> Result<usize> {
            let patient = w
                .get::<Patient>(&Id::uuid(patient_id))?
                .ok_or_else(|| DeskError::NotFound("that patient is not registered here".into()))?;
            if patient.abha_number.is_none() {
                return Err(DeskError::Input(
                    "the patient has no ABHA here yet: add or create one first".into(),
                ));
            }
            let again: Vec<Uuid> = consultations_of(w, patient_id)?
                .into_iter()
                .filter(|c| matches!(c.link, LinkState::NoAbha | LinkState::Failed { .. }))
                .map(|c| c.id)
                .collect();
            set_link_state(w, &again, &LinkState::Queued)?;
            self.link_waiting(w, patient_id)?;
            Ok(again.len())
        })?;
        self.wake_outbox();
        Ok(n)
    }

    /// Finishes a linking-token request with the OTP ABDM sent to the patient's ABHA mobile (when
    /// the ABHA does not allow verification from its card).
    pub fn confirm_linking_otp(&self, patient_id: Uuid, otp: &str) -> Result<()> {
        let otp = abdm::ids::check_otp(otp)?;
        self.store.write(|w| -> Result<()> {
            let patient = w
                .get::<Patient>(&Id::uuid(patient_id))?
                .ok_or_else(|| DeskError::NotFound("that patient is not registered here".into()))?;
            let mut profile = profile_of(w, &patient)?
                .ok_or_else(|| DeskError::Input("the patient has no ABHA here".into()))?;
            let txn = profile.token_otp_txn.take().ok_or_else(|| {
                DeskError::Input("no OTP is awaited for this patient's ABHA".into())
            })?;
            let abha = profile
                .abha_address
                .clone()
                .unwrap_or_else(|| profile.abha_number.clone());
            let number = profile.abha_number.clone();
            w.put(&profile);
            self.enqueue(
                w,
                &Call::ConfirmOtp {
                    transaction_id: txn,
                    otp: Secret::new(otp),
                },
                Label::new("link-otp-confirm", &[&patient.name]),
                Some(patient_id),
                Some(crate::engine::Step::Identity(identity::Step::PullConfirm {
                    abha,
                    number,
                })),
            )?;
            Ok(())
        })?;
        self.wake_outbox();
        Ok(())
    }

    /// Links a patient's queued consultations: `add-contexts` when a linking token is at hand,
    /// else the token is fetched first (the contexts wait, nothing is lost).
    pub(crate) fn link_waiting(&self, w: &mut Writer<'_>, patient_id: Uuid) -> Result<()> {
        let Some(patient) = w.get::<Patient>(&Id::uuid(patient_id))? else {
            return Ok(());
        };
        let queued: Vec<Consultation> = consultations_of(w, patient_id)?
            .into_iter()
            .filter(|c| c.link == LinkState::Queued)
            .collect();
        if queued.is_empty() {
            return Ok(());
        }
        let Some(profile) = profile_of(w, &patient)? else {
            return Ok(());
        };
        let usable = profile
            .linking_token
            .as_ref()
            .filter(|t| t.expires_at > Utc::now() + chrono::Duration::minutes(1));
        if let Some(token) = usable {
            let ids: Vec<Uuid> = queued.iter().map(|c| c.id).collect();
            self.enqueue(
                w,
                &Call::AddContexts {
                    link_token: Secret::new(token.token.expose()),
                    abha_number: Some(profile.abha_number.clone()),
                    abha_address: profile.abha_address.clone(),
                    patient_reference: patient.id.to_string(),
                    display: patient.name.clone(),
                    contexts: queued.iter().map(context_ref).collect(),
                },
                Label::new("link-visits", &[&ids.len(), &patient.name]),
                Some(patient.id),
                Some(crate::engine::Step::Hip(Step::LinkContexts {
                    patient_id,
                    consultations: ids.clone(),
                })),
            )?;
            return set_link_state(w, &ids, &LinkState::Linking);
        }
        let fetching = profile.token_otp_txn.is_some()
            || w.all::<Pending>()?.iter().any(|p| {
                p.patient_id == Some(patient_id)
                    && matches!(p.step, crate::engine::Step::Identity(_))
            });
        if !fetching {
            self.ask_linking_token(w, &patient, profile)?;
        }
        Ok(())
    }

    /// Asks ABDM for a linking token: v0.5 proves the ABHA first (its modes, then demographics or
    /// an OTP); v3 gives the token for the patient's demographics in one call, and refuses a
    /// second within about six minutes (`ABDM-1092`), so a recent ask is waited for instead.
    pub(crate) fn ask_linking_token(
        &self,
        w: &mut Writer<'_>,
        patient: &desk_store::Patient,
        mut profile: AbhaProfile,
    ) -> Result<()> {
        let abha = profile
            .abha_address
            .clone()
            .unwrap_or_else(|| profile.abha_number.clone());
        let number = profile.abha_number.clone();
        let step = crate::engine::Step::Identity(identity::Step::PullModes {
            abha: abha.clone(),
            number: number.clone(),
        });
        if self.gateway.generation() == crate::gateway::Generation::V05 {
            let call = Call::FetchModes { abha };
            let label = Label::new("link-token", &[&patient.name]);
            self.enqueue(w, &call, label, Some(patient.id), Some(step))?;
            return Ok(());
        }
        let Some(year_of_birth) = patient.year_of_birth else {
            w.audit(
                "no linking token asked for: ABDM needs the patient's year of birth",
                number,
                Some(patient.id),
            )?;
            return Ok(());
        };
        let now = Utc::now();
        if profile
            .link_token_asked_at
            .is_some_and(|at| now - at < LINK_TOKEN_GUARD)
        {
            // A timer asks once ABDM's guard has passed.
            profile.link_token_wanted = true;
            w.put(&profile);
            return Ok(());
        }
        profile.link_token_asked_at = Some(now);
        profile.link_token_wanted = false;
        w.put(&profile);
        let call = Call::GenerateLinkToken {
            abha_number: Some(number.clone()),
            abha_address: profile.abha_address.clone(),
            name: patient.name.clone(),
            gender: patient.gender,
            year_of_birth,
        };
        let label = Label::new("link-token", &[&patient.name]);
        let step = crate::engine::Step::Identity(identity::Step::PullConfirm { abha, number });
        self.enqueue(w, &call, label, Some(patient.id), Some(step))?;
        Ok(())
    }

    /// ABDM linked the contexts: marked linked, audited, and the patient told by SMS.
    pub(crate) fn contexts_linked(
        &self,
        w: &mut Writer<'_>,
        patient_id: Uuid,
        consultations: &[Uuid],
    ) -> Result<()> {
        set_link_state(w, consultations, &LinkState::Linked { at: Utc::now() })?;
        let patient = w.get::<Patient>(&Id::uuid(patient_id))?;
        let name = patient.as_ref().map(|p| p.name.clone()).unwrap_or_default();
        w.audit(
            "care contexts linked to the ABHA",
            format!("{} visit(s) of {name}", consultations.len()),
            Some(patient_id),
        )?;
        self.announce_linked(w, patient_id, consultations)?;
        if let Some(phone) = patient.and_then(|p| p.mobile) {
            let hip_name = self.clinic_name()?;
            let info = match consultations.len() {
                1 => "1 visit".to_string(),
                n => format!("{n} visits"),
            };
            self.enqueue(
                w,
                &Call::SmsNotify {
                    phone,
                    name: name.clone(),
                    info,
                    hip_name,
                },
                Label::new("link-sms", &[&name]),
                Some(patient_id),
                Some(crate::engine::Step::Hip(Step::SmsNotify)),
            )?;
        }
        Ok(())
    }

    /// v3 wants each newly linked care context announced (`link/context/notify`: its records
    /// are there to be asked for), whichever way it was linked.
    pub(crate) fn announce_linked(
        &self,
        w: &mut Writer<'_>,
        patient_id: Uuid,
        consultations: &[Uuid],
    ) -> Result<()> {
        if self.gateway.generation() != crate::gateway::Generation::V3 {
            return Ok(());
        }
        let Some(patient) = w.get::<Patient>(&Id::uuid(patient_id))? else {
            return Ok(());
        };
        let Some(abha_address) = patient.abha_address.clone() else {
            return Ok(());
        };
        for id in consultations {
            let Some(c) = w.get::<Consultation>(&Id::uuid(*id))? else {
                continue;
            };
            let call = Call::ContextNotify {
                abha_address: abha_address.clone(),
                patient_reference: patient_id.to_string(),
                context: context_ref(&c),
            };
            let label = Label::new("link-notify", &[&patient.name]);
            let step = crate::engine::Step::Hip(Step::ContextNotify);
            self.enqueue(w, &call, label, Some(patient_id), Some(step))?;
        }
        Ok(())
    }

    /// The identity flow could not get a token by demographics: an OTP goes to the ABHA's mobile.
    pub(crate) fn linking_token_by_otp(
        &self,
        w: &mut Writer<'_>,
        patient_id: Option<Uuid>,
        abha: String,
        number: String,
    ) -> Result<()> {
        let name = patient_id
            .map(|id| w.get::<Patient>(&Id::uuid(id)))
            .transpose()?
            .flatten()
            .map(|p| p.name)
            .unwrap_or_default();
        self.enqueue(
            w,
            &Call::AuthInit {
                abha: abha.clone(),
                mode: AuthMode::MobileOtp,
            },
            Label::new("link-otp-mobile", &[&name]),
            patient_id,
            Some(crate::engine::Step::Identity(identity::Step::TokenOtp {
                abha,
                number,
            })),
        )?;
        Ok(())
    }
}
