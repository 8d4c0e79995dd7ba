//! `deskctl queue`: the outbox and the messages set aside.

use crate::open::DeskArgs;
use crate::Outcome;

/// Shows the outbox and the parked messages.
#[derive(clap::Args)]
pub struct Queue {
    #[command(flatten)]
    desk: DeskArgs,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

impl Queue {
    pub fn run(self) -> Outcome {
        let desk = self.desk.open(false)?;
        for row in desk.outbox()? {
            if self.json {
                println!(
                    "{}",
                    serde_json::json!({"kind": "call", "id": row.id, "label": row.label, "state": row.state, "words": row.words, "attempts": row.attempts, "lastError": row.last_error})
                );
            } else {
                println!("{:>4}  {:<22}  {}", row.id, row.words, row.label);
            }
        }
        for parked in desk.parked()? {
            if self.json {
                println!(
                    "{}",
                    serde_json::json!({"kind": "parked", "seq": parked.seq, "path": parked.path, "reason": parked.reason, "receivedAt": parked.received_at})
                );
            } else {
                println!(
                    "   -  set aside: {} ({}): {}",
                    parked.path, parked.received_at, parked.reason
                );
            }
        }
        Ok(())
    }
}
