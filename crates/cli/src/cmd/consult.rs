//! `deskctl consult`: records a consultation from a JSON file (the fields of
//! `desk_core::hip::NewConsultation`; an attachment may name a `file` next to the JSON instead of
//! giving `data_base64`). Saved at once; linking to the patient's ABHA waits in the outbox.

use std::path::PathBuf;

use base64::Engine;
use serde_json::Value;

use crate::open::DeskArgs;
use crate::{Failure, Outcome};

/// Records a consultation.
#[derive(clap::Args)]
pub struct Consult {
    #[command(flatten)]
    desk: DeskArgs,
    /// The consultation, as JSON.
    #[arg(long)]
    file: PathBuf,
    /// The patient (overrides `patient_id` in the file).
    #[arg(long)]
    patient: Option<uuid::Uuid>,
}

/// Reads attachments given as files into `data_base64`.
fn inline_files(v: &mut Value, base: &std::path::Path) -> Result<(), Failure> {
    let Some(list) = v.get_mut("attachments").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for a in list {
        let Some(obj) = a.as_object_mut() else {
            continue;
        };
        if let Some(file) = obj.remove("file") {
            let name = file
                .as_str()
                .ok_or_else(|| Failure("an attachment's \"file\" must be a path".into()))?;
            let path = base.join(name);
            let meta = std::fs::metadata(&path)
                .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
            if meta.len() > desk_core::hip::MAX_ATTACHMENT_BYTES as u64 {
                return Err(Failure(format!(
                    "{} is too big to attach ({} MB at most)",
                    path.display(),
                    desk_core::hip::MAX_ATTACHMENT_BYTES / (1024 * 1024)
                )));
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
            obj.insert(
                "data_base64".into(),
                base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
            );
        }
    }
    Ok(())
}

impl Consult {
    pub fn run(self) -> Outcome {
        let text = std::fs::read_to_string(&self.file)
            .map_err(|e| Failure(format!("cannot read {}: {e}", self.file.display())))?;
        let mut json: Value = serde_json::from_str(&text)
            .map_err(|e| Failure(format!("{} is not valid JSON: {e}", self.file.display())))?;
        if let Some(p) = self.patient {
            json["patient_id"] = p.to_string().into();
        }
        inline_files(
            &mut json,
            self.file.parent().unwrap_or(std::path::Path::new(".")),
        )?;
        let input: desk_core::hip::NewConsultation = serde_json::from_value(json)
            .map_err(|e| Failure(format!("{}: {e}", self.file.display())))?;
        let desk = self.desk.open(false)?;
        let saved = desk.record_consultation(input)?;
        println!("saved {} ({})", saved.label, saved.id);
        println!(
            "{}",
            match saved.link.as_str() {
                "no_abha" => "the patient has no ABHA here: nothing to link",
                _ => "linking to the patient's ABHA is queued (deskctl run sends it)",
            }
        );
        Ok(())
    }
}
