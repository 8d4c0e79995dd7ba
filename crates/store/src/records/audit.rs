use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{Id, Record, Result, Writer};

/// One line of the audit log: who did what, to which patient, when. Never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Gapless, in order.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// What happened, in a few words ("consent granted", "record viewed").
    pub action: String,
    /// The particulars.
    pub detail: String,
    /// The patient concerned.
    pub patient_id: Option<Uuid>,
    /// The staff member, when a person did it.
    #[serde(default)]
    pub staff: Option<String>,
}

impl Record for AuditEntry {
    const KIND: u8 = kind::AUDIT;
    fn id(&self) -> Id {
        Id::number(self.seq)
    }
}

impl Writer<'_> {
    /// Adds a line to the audit log.
    pub fn audit(
        &mut self,
        action: &str,
        detail: impl Into<String>,
        patient_id: Option<Uuid>,
    ) -> Result<()> {
        self.audit_by(action, detail, patient_id, None)
    }

    /// Adds a line naming the staff member who acted.
    pub fn audit_by(
        &mut self,
        action: &str,
        detail: impl Into<String>,
        patient_id: Option<Uuid>,
        staff: Option<&str>,
    ) -> Result<()> {
        let seq = self.next_counter("audit-seq")?;
        self.put(&AuditEntry {
            seq,
            at: Utc::now(),
            action: action.into(),
            detail: detail.into(),
            patient_id,
            staff: staff.map(String::from),
        });
        Ok(())
    }
}
