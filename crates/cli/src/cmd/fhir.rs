//! `deskctl fhir render` and `deskctl fhir export`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::{Failure, Outcome};

/// FHIR documents.
#[derive(clap::Subcommand)]
pub enum FhirCommand {
    /// Prints the viewer model of a FHIR document bundle: title, type, patient, sections with a row
    /// per entry and the references that do not resolve, attachments, warnings.
    Render {
        /// JSON output (the only format for now).
        #[arg(long)]
        json: bool,
        /// The bundle.
        file: PathBuf,
    },
    /// Writes one bundle per NRCeS document type (8) from the demo clinic's records.
    Export {
        /// Use the built-in demo clinic.
        #[arg(long)]
        demo: bool,
        /// Where to write them.
        #[arg(long)]
        out: PathBuf,
        /// Seed for the bundles' ids (the same seed gives the same files).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

impl FhirCommand {
    pub fn run(self) -> Outcome {
        match self {
            FhirCommand::Render { json: _, file } => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?;
                let bundle: Value = serde_json::from_str(&text)
                    .map_err(|e| Failure(format!("{} is not JSON: {e}", file.display())))?;
                let document = abdm_fhir::read(&bundle)
                    .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
                println!(
                    "{}",
                    serde_json::to_string(&document).expect("the viewer model serializes")
                );
                Ok(())
            }
            FhirCommand::Export { demo, out, seed } => {
                if !demo {
                    return Err(Failure("only --demo is available here; a desk exports its consultations when it shares them".into()));
                }
                std::fs::create_dir_all(&out)
                    .map_err(|e| Failure(format!("cannot create {}: {e}", out.display())))?;
                let record = abdm_fhir::write::demo_record();
                for kind in abdm_fhir::write::DocumentType::ALL {
                    let path = out.join(format!("{kind:?}.json"));
                    let bundle = abdm_fhir::write::build(kind, &record, seed);
                    std::fs::write(
                        &path,
                        serde_json::to_vec_pretty(&bundle).expect("bundles serialize"),
                    )
                    .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
                    // A closed pipe (`| head`) is not an error worth a panic.
                    let _ = writeln!(std::io::stdout(), "{}", path.display());
                }
                Ok(())
            }
        }
    }
}
