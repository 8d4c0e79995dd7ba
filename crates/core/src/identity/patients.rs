//! Patients at the desk: registered at once, offline too, and found again.

use abdm::ids::Mobile;
use chrono::Utc;
use desk_store::{Gender, Id, Patient};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{DeskError, Result};
use crate::gateway::Gateway;
use crate::view::{PatientView, QueueRow};

/// A patient typed in at the desk.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewPatient {
    /// Full name.
    pub name: String,
    /// `M`, `F`, `O` (anything else: unknown).
    pub gender: String,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Month of birth.
    pub month_of_birth: Option<u32>,
    /// Day of birth.
    pub day_of_birth: Option<u32>,
    /// 10 digits (optional).
    pub mobile: Option<String>,
    /// Postal address.
    pub address: Option<String>,
}

impl<G: Gateway> Desk<G> {
    /// Saves a walk-in patient at once; nothing needs ABDM.
    pub fn register_patient(&self, input: NewPatient) -> Result<PatientView> {
        if input.name.trim().is_empty() {
            return Err(DeskError::Input("the patient's name is required".into()));
        }
        if let Some(y) = input.year_of_birth {
            let this_year = chrono::Datelike::year(&Utc::now());
            if !(1900..=this_year).contains(&y) {
                return Err(DeskError::Input(format!(
                    "the year of birth must be between 1900 and {this_year}"
                )));
            }
        }
        let mobile = input
            .mobile
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .map(Mobile::parse)
            .transpose()?;
        let patient = Patient {
            gender: Gender::parse(&input.gender),
            year_of_birth: input.year_of_birth,
            month_of_birth: input.month_of_birth,
            day_of_birth: input.day_of_birth,
            mobile: mobile.map(|m| m.digits().to_string()),
            address: input.address.filter(|a| !a.trim().is_empty()),
            ..Patient::new(input.name.trim())
        };
        self.store.write(|w| -> Result<()> {
            w.put_patient(&patient)?;
            w.audit("patient registered", &patient.name, Some(patient.id))?;
            Ok(())
        })?;
        Ok(PatientView::of(&patient))
    }

    /// One patient.
    pub fn patient(&self, id: Uuid) -> Result<Option<PatientView>> {
        Ok(self
            .store
            .get::<Patient>(&Id::uuid(id))?
            .map(|p| PatientView::of(&p)))
    }

    /// Patients whose name, mobile or ABHA matches what was typed (empty: everyone), newest first.
    pub fn find_patients(&self, query: &str) -> Result<Vec<PatientView>> {
        let q = query.trim().to_lowercase();
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let mut found: Vec<Patient> = self
            .store
            .all::<Patient>()?
            .into_iter()
            .filter(|p| {
                q.is_empty()
                    || p.name.to_lowercase().contains(&q)
                    || (digits.len() >= 4
                        && (p.mobile.as_deref().is_some_and(|m| m.contains(&digits))
                            || p.abha_number
                                .as_deref()
                                .is_some_and(|n| n.replace('-', "").contains(&digits))))
                    || p.abha_address.as_deref().is_some_and(|a| a.contains(&q))
            })
            .collect();
        found.sort_by_key(|p| std::cmp::Reverse(p.updated_at));
        Ok(found.iter().map(PatientView::of).collect())
    }

    /// Puts a patient in today's queue and returns their token: the one they already have if
    /// they came earlier today.
    pub fn give_token(&self, patient_id: Uuid) -> Result<QueueRow> {
        let patient = self
            .store
            .get::<Patient>(&Id::uuid(patient_id))?
            .ok_or_else(|| DeskError::NotFound("this patient is not registered here".into()))?;
        let today = super::today();
        let token = self.store.write(|w| -> Result<u32> {
            let (token, new) = w.token_for(patient.id, &today, false)?;
            if new {
                w.audit(
                    "token given",
                    format!("{} → token {token}", patient.name),
                    Some(patient.id),
                )?;
            }
            Ok(token)
        })?;
        let day: desk_store::TokenDay = self.store.get(&Id::text(&today))?.unwrap_or_default();
        Ok(QueueRow {
            token,
            patient: PatientView::of(&patient),
            arrived_by_scan: day.shared.contains(&token),
        })
    }

    /// Today's queue (the clinic's local date), by token.
    pub fn queue_today(&self) -> Result<Vec<QueueRow>> {
        self.queue(&super::today())
    }
}
