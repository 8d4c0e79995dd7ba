use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{Id, Record, Result, Writer};

/// One day's token queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The last token given.
    pub next: u32,
    /// Each patient's token that day.
    pub by_patient: HashMap<Uuid, u32>,
    /// The tokens given in answer to a patient's scan of the counter QR (arrivals).
    #[serde(default)]
    pub shared: BTreeSet<u32>,
}

impl Record for TokenDay {
    const KIND: u8 = kind::TOKENS;
    fn id(&self) -> Id {
        Id::text(&self.date)
    }
}

impl Writer<'_> {
    /// The patient's token for `date`: the same one all day, a new number otherwise.
    /// `shared`: asked for by the patient's scan of the counter QR, not given at the desk.
    pub fn token_for(&mut self, patient: Uuid, date: &str, shared: bool) -> Result<(u32, bool)> {
        let mut day: TokenDay = self.get(&Id::text(date))?.unwrap_or_else(|| TokenDay {
            date: date.into(),
            ..TokenDay::default()
        });
        if let Some(n) = day.by_patient.get(&patient) {
            return Ok((*n, false));
        }
        day.next += 1;
        let n = day.next;
        day.by_patient.insert(patient, n);
        if shared {
            day.shared.insert(n);
        }
        self.put(&day);
        Ok((n, true))
    }
}
