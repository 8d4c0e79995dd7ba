//! Printouts as PDF files in the app's `prints` folder, for the system viewer to print.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use abdm::qr::{AbhaQr, DateOfBirth, PhrHost};
use desk_print::{CounterPoster, TokenSlip};
use uuid::Uuid;

use crate::settings::EnvironmentChoice;
use crate::{Session, UiError};

impl Session {
    pub(crate) fn save_print(&self, name: &str, pdf: &[u8]) -> Result<PathBuf, UiError> {
        let failed = |e: std::io::Error| {
            UiError::new("printing", format!("the PDF could not be saved: {e}"))
        };
        let dir = self.dir().join("prints");
        std::fs::create_dir_all(&dir).map_err(failed)?;
        prune_old_prints(&dir);
        let path = dir.join(name);
        // Printouts name patients: readable by this user only, and gone after a day.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(failed)?;
        file.write_all(pdf).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        Ok(path)
    }

    /// Removes the files made from records received under a consent (printouts, exports,
    /// attachments), or from every received record with `None`: once a consent ends, nothing
    /// decrypted from it stays on disk.
    pub(crate) fn remove_record_files(&self, consent_id: Option<Uuid>) {
        let prefix = match consent_id {
            Some(id) => format!("record-{}-", &id.to_string()[..8]),
            None => "record-".into(),
        };
        if let Ok(entries) = std::fs::read_dir(self.dir().join("prints")) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// The patient's token slip (giving them today's token if they have none yet).
    pub fn print_token_slip(&self, patient_id: Uuid) -> Result<PathBuf, UiError> {
        let row = self.give_token(patient_id)?;
        let settings = self.settings();
        let now = chrono::Local::now().naive_local();
        let pdf = desk_print::token_slip(&TokenSlip {
            clinic_name: settings.clinic_name,
            token: row.token,
            patient_name: row.patient.name,
            abha_number: row.patient.abha_number,
            abha_address: row.patient.abha_address,
            issued_at: now,
            counter: Some(settings.counter_id),
        })?;
        self.save_print(
            &format!("token-{}-{}.pdf", now.format("%Y-%m-%d"), row.token),
            &pdf,
        )
    }

    /// The counter QR poster for this desk's counter.
    pub fn print_counter_poster(&self) -> Result<PathBuf, UiError> {
        let settings = self.settings();
        let host = match settings.environment {
            EnvironmentChoice::Production => PhrHost::Production,
            _ => PhrHost::Sandbox,
        };
        let pdf = desk_print::counter_poster(&CounterPoster {
            clinic_name: settings.clinic_name,
            hip_id: settings.hip_id,
            counter_id: settings.counter_id.clone(),
            host,
        })?;
        self.save_print(&format!("counter-{}.pdf", settings.counter_id), &pdf)
    }
}

impl Session {
    /// An ABHA card for a patient whose ABHA is linked here.
    pub fn print_abha_card(&self, patient_id: Uuid) -> Result<PathBuf, UiError> {
        let patient = self
            .desk()
            .patient(patient_id)?
            .ok_or_else(|| UiError::new("not-found", "this patient is not registered here"))?;
        let confirmed = match patient.abha_number.as_deref() {
            None => {
                return Err(UiError::new(
                    "not-found",
                    "this patient has no ABHA yet: create or link one first",
                ))
            }
            Some(number) => self.desk().abha(number)?.is_some_and(|a| a.confirmed),
        };
        // A card says ABDM vouches for the name beside the number: not before ABDM has.
        if !confirmed {
            return Err(UiError::new(
                "not-confirmed",
                "ABDM has not confirmed this ABHA yet: print the card once it is verified",
            ));
        }
        let profile = AbhaQr {
            abha_number: patient.abha_number.clone(),
            abha_address: patient.abha_address.clone(),
            name: patient.name.clone(),
            gender: patient.gender.clone(),
            date_of_birth: DateOfBirth {
                text: Some(patient.date_of_birth.clone()).filter(|d| !d.is_empty()),
                ..Default::default()
            },
            // No mobile: a card left on a counter should not give the patient's number away.
            ..Default::default()
        };
        let pdf = desk_print::abha_card(&profile, &self.settings().clinic_name)?;
        let number = patient.abha_number.unwrap_or_default().replace('-', "");
        self.save_print(&format!("abha-card-{number}.pdf"), &pdf)
    }
}

/// Printouts are for the printer, not an archive: those older than a day are removed.
fn prune_old_prints(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 24 * 3600));
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Opens a saved PDF with the desktop's viewer (`xdg-open`), which prints it. Set
/// `ABDM_DESK_NO_VIEWER` to leave it saved only (tests, machines without a desktop).
/// Returns whether a viewer was started.
pub fn open_in_viewer(path: &std::path::Path) -> bool {
    if std::env::var_os("ABDM_DESK_NO_VIEWER").is_some() {
        return false;
    }
    match std::process::Command::new("xdg-open").arg(path).spawn() {
        Ok(mut child) => {
            // Reaped on a thread of its own: xdg-open returns once the viewer is up.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "no PDF viewer could be opened");
            false
        }
    }
}
