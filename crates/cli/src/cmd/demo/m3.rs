//! The demo's M3 part: the clinic as Health Information User.

use std::path::Path;
use std::time::Duration;

use desk_core::hiu::{NewConsentRequest, HI_TYPES};
use desk_core::Desk;
use desk_store::{DataRequest, DataRequestState};

use super::step;
use crate::{Failure, Outcome};

/// What NHA's v0.5 consent schema names (the other HI types came later; with `--records` the
/// demo asks for every type, as ABDM's live gateway accepts).
const V05_HI_TYPES: [&str; 4] = [
    "OPConsultation",
    "Prescription",
    "DischargeSummary",
    "DiagnosticReport",
];

pub(super) async fn run(desk: &Desk, every_type: bool, out: Option<&Path>) -> Outcome {
    step(
        12,
        "Dr. Iyer asks for Asha's records from other hospitals; Asha approves on her phone",
    );
    let asha = desk
        .find_patients("Asha Kumari")?
        .into_iter()
        .find(|p| p.abha_address.is_some())
        .ok_or_else(|| Failure("Asha's ABHA is not linked".into()))?;
    let hi_types: Vec<String> = if every_type {
        HI_TYPES.iter().map(|t| t.to_string()).collect()
    } else {
        V05_HI_TYPES.iter().map(|t| t.to_string()).collect()
    };
    let asked = desk.request_records(NewConsentRequest {
        patient_id: asha.id,
        hi_types,
        from: Some(chrono::Utc::now() - chrono::Duration::days(20 * 365)),
        erase_at: Some(chrono::Utc::now() + chrono::Duration::days(1)),
        requester_name: "Dr. Meera Iyer".into(),
        requester_id: Some("71-4325-7890-1234".into()),
        ..Default::default()
    })?;
    println!(
        "    consent request sent ({}): {}",
        asked.hi_types.join(", "),
        asked.status
    );
    let mut settled = None;
    for _ in 0..600 {
        let requests = desk.store().all::<DataRequest>()?;
        if let Some(r) = requests.into_iter().find(|r| {
            matches!(
                r.state,
                DataRequestState::Done { .. } | DataRequestState::Failed { .. }
            )
        }) {
            settled = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = settled.ok_or_else(|| Failure("no records arrived".into()))?;
    match &r.state {
        DataRequestState::Done { records, .. } => println!(
            "    granted; {records} record(s) arrived in {} page(s), every checksum and tag verified",
            r.page_count.unwrap_or(0)
        ),
        DataRequestState::Failed { reason } => return Err(Failure(format!("the transfer failed: {reason}"))),
        _ => unreachable!("settled above"),
    }

    step(
        13,
        "The doctor reads them (each opening is in the audit log)",
    );
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure(format!("cannot create {}: {e}", dir.display())))?;
    }
    let received = desk.received_records(asha.id)?;
    let mut n = 0;
    for consent in &received {
        for row in &consent.records {
            n += 1;
            let view = desk.open_record(row.id, Some("dr.iyer"))?;
            let rows: usize = view.document.sections.iter().map(|s| s.rows.len()).sum();
            println!(
                "    {n}. {} from {}: {} section(s), {rows} row(s), {} attachment(s)",
                row.title,
                consent.hip,
                view.document.sections.len(),
                view.document.attachments.len()
            );
            if let Some(dir) = out {
                let bytes = desk.export_record(row.id, Some("dr.iyer"))?;
                let write = |name: String, data: &[u8]| {
                    std::fs::write(dir.join(&name), data)
                        .map_err(|e| Failure(format!("cannot write {name}: {e}")))
                };
                write(format!("{n}.bundle.json"), &bytes)?;
                write(
                    format!("{n}.view.json"),
                    serde_json::to_string(&view.document)
                        .expect("the viewer model serializes")
                        .as_bytes(),
                )?;
            }
        }
    }
    if let Some(dir) = out {
        println!("    wrote {n} bundle(s) and view(s) to {}", dir.display());
    }
    Ok(())
}
