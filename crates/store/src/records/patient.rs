use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::schema::kind;
use crate::{Id, Record, Result, Store, StoreError, Writer};

/// Gender as ABDM writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Gender {
    /// Male.
    M,
    /// Female.
    F,
    /// Other.
    O,
    /// Unknown.
    #[default]
    U,
}

impl Gender {
    /// Reads `M`/`male`/`F`/… leniently; anything else is unknown.
    pub fn parse(text: &str) -> Self {
        match text.trim().to_ascii_uppercase().chars().next() {
            Some('M') => Gender::M,
            Some('F') => Gender::F,
            Some('O') | Some('T') => Gender::O,
            _ => Gender::U,
        }
    }
}

/// A patient at this clinic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    /// The clinic's own id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Year of birth.
    pub year_of_birth: Option<i32>,
    /// Month of birth (1–12).
    pub month_of_birth: Option<u32>,
    /// Day of birth.
    pub day_of_birth: Option<u32>,
    /// 10 digits.
    pub mobile: Option<String>,
    /// ABHA number, dashed.
    pub abha_number: Option<String>,
    /// ABHA address (`name@sbx`).
    pub abha_address: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// PIN code.
    pub pincode: Option<String>,
    /// When registered here.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Patient {
    /// A new patient with only a name; the rest is filled in by the flow that creates it.
    pub fn new(name: impl Into<String>) -> Self {
        let now = Utc::now();
        Self {
            id: Uuid::new_v4(),
            name: name.into(),
            gender: Gender::U,
            year_of_birth: None,
            month_of_birth: None,
            day_of_birth: None,
            mobile: None,
            abha_number: None,
            abha_address: None,
            address: None,
            district: None,
            state: None,
            pincode: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// `YYYY-MM-DD`, `YYYY`, or empty.
    pub fn date_of_birth(&self) -> String {
        match (self.year_of_birth, self.month_of_birth, self.day_of_birth) {
            (Some(y), Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
            (Some(y), _, _) => format!("{y:04}"),
            _ => String::new(),
        }
    }
}

impl Record for Patient {
    const KIND: u8 = kind::PATIENT;
    fn id(&self) -> Id {
        Id::uuid(self.id)
    }
}

fn patient_id(bytes: &[u8]) -> Result<Uuid> {
    Uuid::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("ABHA index: {e}")))
}

impl Store {
    /// The patient an ABHA number or address belongs to at this clinic.
    pub fn patient_by_abha(&self, id: &str) -> Result<Option<Patient>> {
        match self.index(kind::ABHA_INDEX, &Id::blind(id))? {
            Some(pid) => self.get(&Id::uuid(patient_id(&pid)?)),
            None => Ok(None),
        }
    }
}

impl Writer<'_> {
    /// Saves a patient and keeps the ABHA index in step.
    pub fn put_patient(&mut self, patient: &Patient) -> Result<()> {
        if let Some(old) = self.get::<Patient>(&Id::uuid(patient.id))? {
            for id in [old.abha_number, old.abha_address].into_iter().flatten() {
                self.remove_index(kind::ABHA_INDEX, &Id::blind(&id));
            }
        }
        for id in [&patient.abha_number, &patient.abha_address]
            .into_iter()
            .flatten()
        {
            self.put_index(kind::ABHA_INDEX, &Id::blind(id), patient.id.as_bytes());
        }
        self.put(patient);
        Ok(())
    }

    /// The patient an ABHA number or address belongs to (seeing this change's own writes).
    pub fn patient_by_abha(&self, id: &str) -> Result<Option<Patient>> {
        match self.index(kind::ABHA_INDEX, &Id::blind(id))? {
            Some(pid) => self.get(&Id::uuid(patient_id(&pid)?)),
            None => Ok(None),
        }
    }
}
