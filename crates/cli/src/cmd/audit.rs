//! `deskctl audit`: the audit log — every registration, discovery, link, consent and share, with
//! who asked, what and when.

use crate::open::DeskArgs;
use crate::Outcome;

/// Prints the audit log, oldest first.
#[derive(clap::Args)]
pub struct Audit {
    #[command(flatten)]
    desk: DeskArgs,
    /// One JSON object per line (for export) instead of text.
    #[arg(long)]
    json: bool,
}

impl Audit {
    pub fn run(self) -> Outcome {
        let desk = self.desk.open(false)?;
        for row in desk.audit_log()? {
            if self.json {
                println!("{}", serde_json::to_string(&row)?);
            } else {
                println!(
                    "{:>6}  {}  {}: {}",
                    row.seq,
                    row.at.format("%Y-%m-%d %H:%M:%S"),
                    row.action,
                    row.detail
                );
            }
        }
        Ok(())
    }
}
