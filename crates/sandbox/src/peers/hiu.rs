//! The peer HIU: another hospital asking our clinic (as HIP) for records. Its push URL decrypts
//! with its own key and checks what arrives — independently of the desk's own M2 code. It takes
//! no ABDM token (a HIP must never send its session to a hospital).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use abdm::v0_5::health_information as hi;

use crate::app::{accepted, Shared};
use crate::cm::*;
use crate::domain::state::{PeerHiuReport, ReceivedEntry};

/// The peer HIU's data-push URL: decrypt with the key it sent, check checksum and FHIR shape.
pub(crate) async fn peer_hiu_transfer(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // No gateway token is asked for: a HIP must not hand its ABDM session to a hospital; the
    // transaction's key material is what makes a push ours.
    let _ = headers;
    let push: hi::transfer::Body = match app.parse(&body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let delay = app.faults().peer_hiu_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let key = app.state().peer_hiu_keys.get(&push.transaction_id).cloned();
    let Some(key) = key else {
        return app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-1030",
            "Unknown transaction id",
        );
    };
    {
        let mut state = app.state();
        if let Some(r) = state.peer_hiu_reports.get_mut(&push.transaction_id) {
            if r.pages_received.contains(&push.page_number) {
                // The same page again (a HIP resuming): kept once.
                r.repeated_pages.push(push.page_number);
                return accepted();
            }
        }
    }
    let mut report = PeerHiuReport::default();
    let mut bundles = Vec::new();
    let pair = format!(
        "{}|{}",
        push.key_material.dh_public_key.key_value, push.key_material.nonce
    );
    let sender = fidelius::PublicKey::parse(&push.key_material.dh_public_key.key_value);
    let nonce = fidelius::Nonce::parse(&push.key_material.nonce);
    let session = match (sender, nonce) {
        (Ok(s), Ok(n)) => {
            fidelius::Session::derive(&key.secret, &s, &key.nonce, &n).map_err(|e| e.to_string())
        }
        (Err(e), _) | (_, Err(e)) => Err(format!("key material: {e}")),
    };
    if push.entries.len() > 1 {
        report.errors.push(format!(
            "page {}: {} entries under one key and nonce (AES-GCM nonce reuse)",
            push.page_number,
            push.entries.len()
        ));
    }
    match session {
        Err(e) => report.errors.push(e),
        Ok(session) => {
            for entry in &push.entries {
                let Some(content) = &entry.content else {
                    report.errors.push(format!(
                        "{}: link entries are not fetched by the sandbox",
                        entry.care_context_reference
                    ));
                    continue;
                };
                match session.open_base64(content) {
                    Err(e) => report
                        .errors
                        .push(format!("{}: {e}", entry.care_context_reference)),
                    Ok(plain) => {
                        let hex = md5_hex(&plain);
                        let b64 = STANDARD.encode(md5_raw(&plain));
                        let checksum_ok = entry.checksum == hex || entry.checksum == b64;
                        if !checksum_ok {
                            report.errors.push(format!(
                                "{}: checksum does not match the content",
                                entry.care_context_reference
                            ));
                        }
                        let bundle: Option<Value> = serde_json::from_slice(&plain).ok();
                        let (resource_type, composition_type) = fhir_shape(
                            bundle.as_ref(),
                            &mut report.errors,
                            &entry.care_context_reference,
                        );
                        bundles.extend(bundle);
                        report.entries.push(ReceivedEntry {
                            care_context_reference: entry.care_context_reference.clone(),
                            resource_type,
                            composition_type,
                            checksum_ok,
                            bytes: plain.len(),
                        });
                    }
                }
            }
        }
    }
    let mut state = app.state();
    let stored = state
        .peer_hiu_reports
        .entry(push.transaction_id)
        .or_insert_with(|| PeerHiuReport {
            transaction_id: push.transaction_id,
            ..Default::default()
        });
    if !stored.sender_keys.insert(pair) {
        stored.errors.push(format!(
            "page {}: a key and nonce pair used before in this transfer",
            push.page_number
        ));
    }
    stored.pages_received.push(push.page_number);
    stored.page_count = Some(push.page_count);
    stored.entries.extend(report.entries);
    stored.errors.extend(report.errors);
    stored.bundles.insert(push.page_number, bundles);
    accepted()
}

pub(crate) fn md5_raw(data: &[u8]) -> Vec<u8> {
    use md5::{Digest, Md5};
    Md5::digest(data).to_vec()
}

/// Checks what a FHIR document bundle must be: a Bundle of type document, Composition first, every
/// resource profiled, every section reference resolvable.
pub(crate) fn fhir_shape(
    bundle: Option<&Value>,
    errors: &mut Vec<String>,
    cc: &str,
) -> (Option<String>, Option<String>) {
    let Some(bundle) = bundle else {
        errors.push(format!("{cc}: content is not JSON"));
        return (None, None);
    };
    let resource_type = bundle["resourceType"].as_str().map(String::from);
    if resource_type.as_deref() != Some("Bundle") || bundle["type"] != "document" {
        errors.push(format!("{cc}: not a FHIR document Bundle"));
    }
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    let first = entries.first().map(|e| &e["resource"]);
    let composition_type = first
        .filter(|r| r["resourceType"] == "Composition")
        .map(|r| {
            r["type"]["coding"][0]["code"]
                .as_str()
                .or(r["type"]["text"].as_str())
                .unwrap_or_default()
                .to_string()
        });
    if composition_type.is_none() {
        errors.push(format!("{cc}: the first entry is not a Composition"));
    }
    let urls: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| e["fullUrl"].as_str())
        .collect();
    for e in &entries {
        if e["resource"]["meta"]["profile"]
            .as_array()
            .is_none_or(|p| p.is_empty())
        {
            errors.push(format!(
                "{cc}: {} has no meta.profile",
                e["resource"]["resourceType"]
            ));
        }
    }
    if let Some(sections) = first.and_then(|c| c["section"].as_array()) {
        for r in sections
            .iter()
            .flat_map(|s| s["entry"].as_array().cloned().unwrap_or_default())
        {
            if let Some(reference) = r["reference"].as_str() {
                if !urls.contains(reference) {
                    errors.push(format!(
                        "{cc}: section reference {reference} does not resolve"
                    ));
                }
            }
        }
    }
    (resource_type, composition_type)
}
