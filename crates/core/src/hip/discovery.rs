//! Patient-initiated discovery: who is the patient looking for records here? The HIP spec's rules,
//! strictest first:
//!
//! 1. A verified ABHA number or ABHA address recorded on one patient here: that patient.
//! 2. Otherwise a verified mobile number, and then the demographics must agree: the name (fuzzy:
//!    Jaro–Winkler ≥ 0.85 on the words in any order), the gender, and the year of birth within two
//!    years; a patient here who has another ABHA is never a candidate. Candidates are ranked: one whose unverified medical-record number is ours first, then
//!    an exact name and year, then the rest; two at the same rank are **ambiguous** and refused —
//!    the desk never guesses whose records to offer.
//! 3. Nothing else matches (a name alone is not an identity).

use desk_store::{Gender, LinkState, Patient, Writer};
use uuid::Uuid;

use super::consultations::{consultations_of, context_ref};
use super::refusal;
use crate::desk::Desk;
use crate::error::Result;
use crate::gateway::hip::{DiscoverQuery, DiscoveredPatient, IdKind, Refusal};
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

use super::names::name_words;
pub use super::names::{name_similarity, NAME_THRESHOLD};
/// How far the year of birth may be off.
pub const YEAR_TOLERANCE: i32 = 2;

/// What a discovery offered, kept for the link request that follows it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Offer {
    /// Who asked.
    pub abha_address: String,
    /// Our patient reference.
    pub patient: String,
    /// The visits offered.
    pub care_contexts: Vec<String>,
}

/// The patient the rules pick, and what matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// The patient's id.
    pub patient_id: Uuid,
    /// What matched.
    pub by: Vec<IdKind>,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The last ten digits of an Indian mobile number in any of its spellings.
fn mobile(s: &str) -> String {
    let d = digits(s);
    d[d.len().saturating_sub(10)..].to_string()
}

/// Applies the rules (see the module documentation) to the patients here.
pub fn match_patient(
    query: &DiscoverQuery,
    patients: &[Patient],
) -> std::result::Result<Matched, Refusal> {
    // 1. A verified ABHA.
    let abha_number = query
        .verified
        .iter()
        .find(|i| i.kind == IdKind::AbhaNumber)
        .map(|i| digits(&i.value));
    let addresses: Vec<String> = query
        .verified
        .iter()
        .filter(|i| i.kind == IdKind::AbhaAddress)
        .map(|i| i.value.trim().to_lowercase())
        .chain(std::iter::once(query.abha_address.trim().to_lowercase()))
        .filter(|a| !a.is_empty())
        .collect();
    let by_abha: Vec<(&Patient, IdKind)> = patients
        .iter()
        .filter_map(|p| {
            let number = p.abha_number.as_deref().map(digits);
            if number.is_some() && number == abha_number {
                return Some((p, IdKind::AbhaNumber));
            }
            p.abha_address
                .as_deref()
                .map(str::to_lowercase)
                .filter(|a| addresses.contains(a))
                .map(|_| (p, IdKind::AbhaAddress))
        })
        .collect();
    match by_abha.as_slice() {
        [(p, kind)] => {
            return Ok(Matched {
                patient_id: p.id,
                by: vec![*kind],
            })
        }
        [] => {}
        _ => {
            return Err(refusal(
                "HIP-1001",
                "More than one patient here matches this ABHA; the clinic must sort this out",
            ))
        }
    }
    // 2. A verified mobile, and the demographics agree.
    let Some(phone) = query
        .verified
        .iter()
        .find(|i| i.kind == IdKind::Mobile)
        .map(|i| mobile(&i.value))
        .filter(|m| m.len() == 10)
    else {
        return Err(refusal("ABDM-1010", "Patient not found"));
    };
    let records: Vec<String> = query
        .unverified
        .iter()
        .chain(&query.verified)
        .filter(|i| i.kind == IdKind::MedicalRecord)
        .map(|i| i.value.trim().to_lowercase())
        .collect();
    let mut ranked: Vec<(u8, &Patient)> = patients
        .iter()
        .filter(|p| p.mobile.as_deref().map(mobile).as_deref() == Some(phone.as_str()))
        // Someone here with another ABHA is someone else, however alike.
        .filter(|p| p.abha_address.is_none() && p.abha_number.is_none())
        .filter(|p| p.gender != Gender::U && p.gender == query.gender)
        .filter(|p| match (p.year_of_birth, query.year_of_birth) {
            (Some(a), Some(b)) => (a - b).abs() <= YEAR_TOLERANCE,
            _ => false,
        })
        .filter(|p| name_similarity(&p.name, &query.name) >= NAME_THRESHOLD)
        .map(|p| {
            let rank = if records.contains(&p.id.to_string()) {
                0
            } else if name_words(&p.name) == name_words(&query.name)
                && p.year_of_birth == query.year_of_birth
            {
                1
            } else {
                2
            };
            (rank, p)
        })
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    match ranked.as_slice() {
        [] => Err(refusal("ABDM-1010", "Patient not found")),
        [(_, p)] => Ok(Matched {
            patient_id: p.id,
            by: vec![IdKind::Mobile],
        }),
        [(r1, p), (r2, _), ..] if r1 < r2 => Ok(Matched {
            patient_id: p.id,
            by: if *r1 == 0 {
                vec![IdKind::Mobile, IdKind::MedicalRecord]
            } else {
                vec![IdKind::Mobile]
            },
        }),
        _ => Err(refusal(
            "HIP-1001",
            "More than one patient here matches these details; ask at the clinic to link the records",
        )),
    }
}

impl<G: Gateway> Desk<G> {
    /// `care-contexts/discover`: find the patient, offer the visits not linked yet.
    pub(crate) fn on_discover(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        query: DiscoverQuery,
    ) -> Result<()> {
        let patients = w.all::<Patient>()?;
        let outcome = match_patient(&query, &patients).and_then(|m| {
            let patient = patients
                .iter()
                .find(|p| p.id == m.patient_id)
                .expect("matched among these");
            let open: Vec<_> = consultations_of(w, patient.id)
                .map_err(|e| refusal("HIP-1000", e.to_string()))?
                .iter()
                .filter(|c| !matches!(c.link, LinkState::Linked { .. }))
                .map(context_ref)
                .collect();
            if open.is_empty() {
                return Err(refusal(
                    "ABDM-1012",
                    "No records here that are not linked already",
                ));
            }
            Ok(DiscoveredPatient {
                reference: patient.id.to_string(),
                display: patient.name.clone(),
                care_contexts: open,
                matched_by: m.by,
            })
        });
        if let Ok(p) = &outcome {
            // What link/init may ask for in this transaction: this patient, these visits.
            let offer = Offer {
                abha_address: query.abha_address.trim().to_lowercase(),
                patient: p.reference.clone(),
                care_contexts: p
                    .care_contexts
                    .iter()
                    .map(|c| c.reference.clone())
                    .collect(),
            };
            w.put_index(
                desk_store::kind::HIP_INDEX,
                &desk_store::Id::text(&format!("offer:{}", query.transaction_id)),
                &serde_json::to_vec(&offer).expect("an offer serializes"),
            );
        }
        let (what, detail, patient_id) = match &outcome {
            Ok(p) => (
                "discovery: patient found",
                format!(
                    "{} asked; matched {} by {:?}; {} visit(s) offered",
                    query.abha_address,
                    p.display,
                    p.matched_by,
                    p.care_contexts.len()
                ),
                Uuid::parse_str(&p.reference).ok(),
            ),
            Err(r) => (
                "discovery: nothing offered",
                format!("{} asked: {}", query.abha_address, r.message),
                None,
            ),
        };
        w.audit(what, detail, patient_id)?;
        self.enqueue(
            w,
            &Call::OnDiscover {
                answers: request_id,
                transaction_id: query.transaction_id,
                result: outcome,
            },
            Label::new("discover-answer", &[&query.abha_address]),
            patient_id,
            None,
        )?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
