//! The consent request form: what the doctor asks for, checked in plain words before anything
//! is sent (a known purpose and HI types, dates in order, a time to erase in the future, a
//! plausible frequency, the doctor's name, a patient with an ABHA address).

use chrono::{DateTime, Duration, Utc};
use desk_store::{ConsentAsk, Frequency, FrequencyUnit, Patient};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DeskError, Result};

/// The purposes of use a consent may name (code, words).
pub const PURPOSES: [(&str, &str); 6] = [
    ("CAREMGT", "Care Management"),
    ("BTG", "Break the Glass"),
    ("PUBHLTH", "Public Health"),
    ("HPAYMT", "Healthcare Payment"),
    ("DSRCH", "Disease Specific Healthcare Research"),
    ("PATRQT", "Self Requested"),
];

/// The HI types a consent may name.
pub const HI_TYPES: [&str; 8] = [
    "OPConsultation",
    "Prescription",
    "DischargeSummary",
    "DiagnosticReport",
    "ImmunizationRecord",
    "HealthDocumentRecord",
    "WellnessRecord",
    "Invoice",
];

/// The most care contexts one artefact may name here, as HIP or HIU (more is refused, not
/// processed).
pub const MAX_CARE_CONTEXTS: usize = 10_000;

/// A consent request as the doctor fills it in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewConsentRequest {
    /// The patient (must have an ABHA address here).
    pub patient_id: Uuid,
    /// Purpose code (`CAREMGT` when left out).
    pub purpose: Option<String>,
    /// HI types wanted.
    pub hi_types: Vec<String>,
    /// Records from (five years back when left out).
    pub from: Option<DateTime<Utc>>,
    /// Records to (now when left out).
    pub to: Option<DateTime<Utc>>,
    /// When the records must be erased here (30 days on when left out).
    pub erase_at: Option<DateTime<Utc>>,
    /// How often data may be fetched (once an hour when left out).
    pub frequency: Option<Frequency>,
    /// The doctor asking.
    pub requester_name: String,
    /// Their HPR id, when known.
    pub requester_id: Option<String>,
}

pub(crate) fn ask_of(input: &NewConsentRequest, patient: &Patient) -> Result<ConsentAsk> {
    let bad = |m: &str| Err(DeskError::Input(m.into()));
    let Some(address) = patient.abha_address.clone() else {
        return bad("the patient has no ABHA address here: link or create their ABHA first");
    };
    let code = input.purpose.as_deref().unwrap_or("CAREMGT");
    let Some((code, text)) = PURPOSES.iter().find(|(c, _)| *c == code) else {
        return Err(DeskError::Input(format!(
            "unknown purpose {code:?}: use one of {}",
            PURPOSES.map(|p| p.0).join(", ")
        )));
    };
    let mut hi_types: Vec<String> = Vec::new();
    for t in &input.hi_types {
        match HI_TYPES.iter().find(|k| k.eq_ignore_ascii_case(t.trim())) {
            Some(k) if !hi_types.iter().any(|h| h == k) => hi_types.push(k.to_string()),
            Some(_) => {}
            None => {
                return Err(DeskError::Input(format!(
                    "unknown kind of record {t:?}: use {}",
                    HI_TYPES.join(", ")
                )))
            }
        }
    }
    if hi_types.is_empty() {
        return bad("choose at least one kind of record to ask for");
    }
    let now = Utc::now();
    let from = input.from.unwrap_or(now - Duration::days(5 * 365));
    let to = input.to.unwrap_or(now);
    if from >= to {
        return bad("the records' start date must be before their end date");
    }
    let erase_at = input.erase_at.unwrap_or(now + Duration::days(30));
    if erase_at <= now {
        return bad("the time to erase the records must be in the future");
    }
    if erase_at > now + Duration::days(5 * 365) {
        return bad("records can be kept for five years at most");
    }
    let frequency = input.frequency.unwrap_or(Frequency {
        unit: FrequencyUnit::Hour,
        value: 1,
        repeats: 1,
    });
    if !(1..=1000).contains(&frequency.value) || !(1..=1000).contains(&frequency.repeats) {
        return bad("the frequency needs 1 to 1000 requests per 1 to 1000 units");
    }
    let requester_name = input.requester_name.trim();
    if requester_name.is_empty() {
        return bad("the name of the doctor asking is required");
    }
    Ok(ConsentAsk {
        patient: address,
        purpose_code: code.to_string(),
        purpose_text: text.to_string(),
        hi_types,
        from,
        to,
        erase_at,
        frequency,
        requester_name: requester_name.into(),
        requester_id: input
            .requester_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
    })
}
