//! Printouts as PDF files in the app's `prints` folder, for the system viewer to print.

use std::io::Write;
use std::path::PathBuf;

use abdm::qr::PhrHost;
use desk_print::{CounterPoster, TokenSlip};
use uuid::Uuid;

use crate::settings::EnvironmentChoice;
use crate::{Session, UiError};

impl Session {
    fn save_print(&self, name: &str, pdf: &[u8]) -> Result<PathBuf, UiError> {
        let failed = |e: std::io::Error| {
            UiError::new("printing", format!("the PDF could not be saved: {e}"))
        };
        let dir = self.dir().join("prints");
        std::fs::create_dir_all(&dir).map_err(failed)?;
        let path = dir.join(name);
        let mut file = std::fs::File::create(&path).map_err(failed)?;
        file.write_all(pdf).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        Ok(path)
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

/// Opens a saved PDF with the desktop's viewer (`xdg-open`), which prints it. Set
/// `ABDM_DESK_NO_VIEWER` to leave it saved only (tests, machines without a desktop).
pub fn open_in_viewer(path: &std::path::Path) {
    if std::env::var_os("ABDM_DESK_NO_VIEWER").is_some() {
        return;
    }
    if let Err(e) = std::process::Command::new("xdg-open").arg(path).spawn() {
        tracing::warn!(error = %e, "no PDF viewer could be opened");
    }
}
