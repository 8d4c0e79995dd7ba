//! The reception screen: today's queue, find or create, tokens, the outbox, the connection.

use abdm::qr::{AbhaQr, DateOfBirth, Scanned};
use desk_core::view::{OutboxRow, PatientView, QueueRow};
use desk_core::{NewPatient, Reachability};
use relay_client::Connection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Session, UiError};

/// How the desk is connected, for the indicator in the corner.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// `online`, `connecting`, `offline` or `paused` (ABDM refuses the clinic's credentials).
    pub state: &'static str,
    /// Why, when not online (ABDM's or the network's words).
    pub reason: Option<String>,
}

/// Everything the reception screen shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reception {
    /// Today's queue by token.
    pub queue: Vec<QueueRow>,
    /// What waits to be sent to ABDM, oldest first.
    pub outbox: Vec<OutboxRow>,
    /// The connection.
    pub connection: ConnectionView,
}

/// A walk-in as the receptionist types it. With an ABHA number or address the patient is saved
/// at once and the ABHA verified with ABDM (by the outbox: offline too).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WalkIn {
    /// Full name.
    pub name: String,
    /// `M`, `F`, `O`.
    pub gender: String,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// 10 digits.
    pub mobile: Option<String>,
    /// An ABHA number or address, if the patient has one.
    pub abha: Option<String>,
}

impl Session {
    /// How the desk is connected now.
    pub fn connection(&self) -> ConnectionView {
        let status = self.desk().status().borrow().clone();
        if let Some(reason) = status.outbox_paused {
            ConnectionView {
                state: "paused",
                reason: Some(reason),
            }
        } else {
            match (&status.relay, &status.abdm) {
                (Connection::Offline { reason, .. }, _) | (_, Reachability::Offline { reason }) => {
                    ConnectionView {
                        state: "offline",
                        reason: Some(reason.clone()),
                    }
                }
                (Connection::Connecting, _) => ConnectionView {
                    state: "connecting",
                    reason: None,
                },
                _ => ConnectionView {
                    state: "online",
                    reason: None,
                },
            }
        }
    }

    /// What the reception screen shows now.
    pub fn reception(&self) -> Result<Reception, UiError> {
        let desk = self.desk();
        let connection = self.connection();
        Ok(Reception {
            queue: desk.queue_today()?,
            outbox: desk.outbox_newest(50)?,
            connection,
        })
    }

    /// Patients matching a name, mobile or ABHA (at most 20, newest first).
    pub fn find_patients(&self, query: &str) -> Result<Vec<PatientView>, UiError> {
        let mut found = self.desk().find_patients(query)?;
        found.truncate(20);
        Ok(found)
    }

    /// Registers a walk-in and gives them today's token.
    pub fn register_walk_in(&self, walk_in: WalkIn) -> Result<QueueRow, UiError> {
        let abha = walk_in
            .abha
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let patient = match abha {
            None => self.desk().register_patient(NewPatient {
                name: walk_in.name,
                gender: walk_in.gender,
                year_of_birth: walk_in.year_of_birth,
                mobile: walk_in.mobile,
                ..Default::default()
            })?,
            Some(abha) => {
                if walk_in.name.trim().is_empty() {
                    return Err(UiError::new(
                        "invalid-input",
                        "the patient's name is required",
                    ));
                }
                let (abha_number, abha_address) = match abdm::qr::parse(abha) {
                    Ok(Scanned::AbhaNumber { abha_number }) => (Some(abha_number), None),
                    Ok(Scanned::AbhaAddress { abha_address }) => (None, Some(abha_address)),
                    Ok(_) | Err(_) => {
                        return Err(UiError::new(
                            "invalid-input",
                            "this is not an ABHA number (14 digits, 91-1234-5678-9012) or an ABHA address (name@abdm)",
                        ))
                    }
                };
                self.desk().scan_and_pull(&AbhaQr {
                    abha_number,
                    abha_address,
                    name: walk_in.name.trim().into(),
                    gender: walk_in.gender,
                    date_of_birth: DateOfBirth {
                        year: walk_in.year_of_birth,
                        text: walk_in.year_of_birth.map(|y| y.to_string()),
                        ..Default::default()
                    },
                    mobile: walk_in.mobile.filter(|m| !m.trim().is_empty()),
                    ..Default::default()
                })?
            }
        };
        Ok(self.desk().give_token(patient.id)?)
    }

    /// Today's token for a patient already registered (the same one if they have it).
    pub fn give_token(&self, patient_id: Uuid) -> Result<QueueRow, UiError> {
        Ok(self.desk().give_token(patient_id)?)
    }

    /// Sends a failed outbox item again.
    pub fn retry_outbox(&self, id: u64) -> Result<(), UiError> {
        Ok(self.desk().retry_outbox(id)?)
    }
}
