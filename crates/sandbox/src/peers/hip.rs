//! The peer HIP: another hospital holding the demo patients' records. It builds a bundle per care
//! context and HI type, encrypts it for the requesting HIU and pushes it in pages to its
//! `dataPushUrl`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use uuid::Uuid;

use abdm::v0_5::health_information as hi;
use abdm::v0_5::KeyMaterial;
use abdm::{Operation, Timestamp};

use crate::app::Shared;
use crate::cm::*;
use crate::domain::records::{demo_bundle, load_dir};
use crate::domain::state::{Artefact, PushCorruption};

/// The care contexts a patient has at the peer HIP (made up on first use, stable afterwards).
pub(crate) fn peer_care_contexts(
    app: &Shared,
    abha: &str,
) -> Option<(String, String, Vec<String>)> {
    let mut state = app.state();
    let account = state.account_by_id_mut(abha)?;
    let entry = account
        .links
        .entry(PEER_HIP_ID.to_string())
        .or_insert_with(|| {
            let stem = account.number.replace('-', "");
            (
                format!("PEER-PAT-{}", &stem[10..]),
                vec![
                    format!("PEER-OPD-{}-1", &stem[10..]),
                    format!("PEER-LAB-{}-2", &stem[10..]),
                ],
            )
        });
    Some((account.address.clone(), entry.0.clone(), entry.1.clone()))
}

pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The peer HIP: builds a bundle per care context and HI type, encrypts it for the HIU, pushes it in
/// pages to `dataPushUrl`.
pub(crate) async fn peer_hip_push(
    app: &Shared,
    transaction_id: Uuid,
    artefact: &Artefact,
    request: &hi::HiRequest,
) -> Result<(), String> {
    let requester_key = fidelius::PublicKey::parse(&request.key_material.dh_public_key.key_value)
        .map_err(|e| e.to_string())?;
    let requester_nonce =
        fidelius::Nonce::parse(&request.key_material.nonce).map_err(|e| e.to_string())?;
    let sender = fidelius::KeyMaterial::generate();
    let session = fidelius::Session::derive(
        &sender.secret,
        &requester_key,
        &sender.nonce,
        &requester_nonce,
    )
    .map_err(|e| e.to_string())?;
    let (name, number) = {
        let state = app.state();
        let account = state
            .account_by_id(&artefact.detail.patient.id)
            .ok_or("patient vanished")?;
        (account.name.clone(), account.number.clone())
    };
    let stored = match &app.config.records_dir {
        Some(dir) => load_dir(dir).map_err(|e| e.to_string())?,
        None => vec![],
    };
    let date = request.date_range.to.0.format("%Y-%m-%d").to_string();
    let (corruption, pages, drop_page) = {
        let mut faults = app.faults();
        (
            faults.corrupt_next_push.take(),
            faults.push_pages.max(1),
            faults.drop_next_push_page.take(),
        )
    };
    // What goes, per care context: the built-in demo bundle per HI type, or — with a records
    // directory — each stored bundle the consent's HI types allow, once, the care contexts taking
    // turns.
    let contexts = &artefact.detail.care_contexts;
    let mut items: Vec<(String, Value)> = Vec::new();
    if stored.is_empty() {
        for cc in contexts {
            for hi_type in &artefact.detail.hi_types {
                let b = demo_bundle(*hi_type, &name, &number, &cc.care_context_reference, &date);
                items.push((cc.care_context_reference.clone(), b));
            }
        }
    } else {
        let allowed = stored.iter().filter(|r| {
            r.hi_type
                .is_some_and(|t| artefact.detail.hi_types.contains(&t))
        });
        for (i, r) in allowed.enumerate() {
            let cc = &contexts[i % contexts.len().max(1)];
            items.push((cc.care_context_reference.clone(), r.bundle.clone()));
        }
    }
    let session = match corruption {
        Some(PushCorruption::Key) => fidelius::Session::derive(
            &sender.secret,
            &fidelius::KeyMaterial::generate().public_key(),
            &sender.nonce,
            &requester_nonce,
        )
        .map_err(|e| e.to_string())?,
        _ => session,
    };
    let mut entries = Vec::new();
    for (cc, bundle) in items {
        let plaintext = serde_json::to_vec(&bundle).expect("bundle serializes");
        let mut content = session.seal(&plaintext);
        let mut checksum = md5_hex(&plaintext);
        match corruption {
            Some(PushCorruption::Tag) if entries.is_empty() => {
                let last = content.len() - 1;
                content[last] ^= 0x01;
            }
            Some(PushCorruption::Checksum) if entries.is_empty() => {
                checksum = md5_hex(b"not the content")
            }
            _ => {}
        }
        entries.push(hi::transfer::Entry {
            content: Some(STANDARD.encode(content)),
            link: None,
            media: "application/fhir+json".into(),
            checksum,
            care_context_reference: cc,
        });
    }
    let key_material = KeyMaterial::curve25519(
        sender.public_key().to_base64(fidelius::KeyEncoding::X509),
        sender.nonce.to_base64(),
        Timestamp::from(chrono::Utc::now() + chrono::Duration::days(2)),
    );
    let per_page = entries.len().div_ceil(pages as usize).max(1);
    let chunks: Vec<Vec<hi::transfer::Entry>> =
        entries.chunks(per_page).map(|c| c.to_vec()).collect();
    let page_count = chunks.len() as u32;
    for (i, chunk) in chunks.into_iter().enumerate() {
        if drop_page == Some(i as u32 + 1) {
            continue;
        }
        let body = hi::transfer::Body {
            page_number: i as u32 + 1,
            page_count,
            transaction_id,
            entries: chunk,
            key_material: key_material.clone(),
        };
        let value = to_json(&body);
        let url_path = url::Url::parse(&request.data_push_url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let result = app
            .http
            .post(&request.data_push_url)
            .json(&value)
            .send()
            .await;
        let status = result.as_ref().ok().map(|r| r.status().as_u16());
        let operation = match app.speaks(&artefact.hiu_id) {
            abdm::Generation::V05 => hi::transfer::Endpoint::PATH,
            abdm::Generation::V3 => abdm::v3::data_flow::transfer::Endpoint::PATH,
        };
        let headers = crate::exchange_log::headers_value([("content-type", "application/json")]);
        app.log
            .outbound("POST", &url_path, operation, status, headers, &value);
        match status {
            Some(s) if (200..300).contains(&s) => {}
            other => return Err(format!("data push refused by the HIU ({other:?})")),
        }
    }
    Ok(())
}
