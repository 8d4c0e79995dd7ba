//! The consent manager acting for patients, with the peer HIP and peer HIU behind it.
//!
//! Our clinic as **HIU** (M3): consent requests are granted, denied or left for the operator by
//! policy; artefacts carry `dataEraseAt` and expire then (or are revoked on demand); data requests are
//! checked against the artefact and answered by the peer HIP, which pushes Fidelius-encrypted FHIR to
//! the HIU's `dataPushUrl` (optionally in pages, optionally corrupted).
//!
//! Our clinic as **HIP** (M2): the operator (a test, or the demo) asks for a patient's records as the
//! peer HIU; the consent manager notifies our HIP of the artefact, sends it the data request with the
//! peer HIU's key material, and the peer HIU decrypts and checks what arrives (`GET
//! /admin/peer-hiu/reports/{transactionId}`). Patient-initiated discovery and linking are driven the
//! same way (`/admin/discover`, `/admin/link/init`, `/admin/link/confirm`).

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use abdm::v0_5::{consent_requests, consents, discovery, health_information as hi, links};
use abdm::v0_5::{
    AccessMode, Callback, CareContextDefinition, ConsentDetail, ConsentStatus, DateRange,
    Frequency, FrequencyUnit, HiType, Identifier, IdentifierType, KeyMaterial, Organization,
    PatientId, Permission, Purpose, Request, ServiceKind,
};
use abdm::{Operation, Timestamp};

use crate::app::{accepted, Shared};
use crate::gateway::callback_error;
use crate::records::{demo_bundle, load_dir};
use crate::state::{
    Artefact, ConsentPolicy, ConsentRequestRecord, PeerHiuReport, PushCorruption, ReceivedEntry,
};

pub const PEER_HIP_ID: &str = "SANDBOX-PEER-HIP";
pub const PEER_HIU_ID: &str = "SANDBOX-PEER-HIU";

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/gateway/v0.5/consent-requests/init",
            post(consent_request_init),
        )
        .route(
            "/gateway/v0.5/consent-requests/status",
            post(consent_request_status),
        )
        .route("/gateway/v0.5/consents/hiu/on-notify", post(acknowledge))
        .route("/gateway/v0.5/consents/hip/on-notify", post(acknowledge))
        .route("/gateway/v0.5/consents/fetch", post(consent_fetch))
        .route(
            "/gateway/v0.5/health-information/cm/request",
            post(hi_request),
        )
        .route(
            "/gateway/v0.5/health-information/hip/on-request",
            post(hip_on_request),
        )
        .route("/gateway/v0.5/health-information/notify", post(hi_notify))
        .route(
            "/gateway/v0.5/care-contexts/on-discover",
            post(bridge_answer),
        )
        .route("/gateway/v0.5/links/link/on-init", post(bridge_answer))
        .route("/gateway/v0.5/links/link/on-confirm", post(link_on_confirm))
        .route("/peer-hiu/transfer", post(peer_hiu_transfer))
        .route(
            "/admin/consent-requests/{id}/{decision}",
            post(admin_decide),
        )
        .route("/admin/consents/{id}/{action}", post(admin_consent_action))
        .route("/admin/peer-hiu/request", post(admin_peer_hiu_request))
        .route("/admin/peer-hiu/reports/{txn}", get(admin_report))
        .route("/admin/discover", post(admin_discover))
        .route("/admin/link/init", post(admin_link_init))
        .route("/admin/link/confirm", post(admin_link_confirm))
        .route("/admin/answers/{request_id}", get(admin_answer))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire types serialize")
}

fn authorized(app: &Shared, headers: &HeaderMap) -> Result<String, Response> {
    app.authorize(headers, true)
}

/// The care contexts a patient has at the peer HIP (made up on first use, stable afterwards).
fn peer_care_contexts(app: &Shared, abha: &str) -> Option<(String, String, Vec<String>)> {
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

async fn consent_request_init(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, request): (String, Request<consent_requests::init::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let consent = request.body.consent.clone();
    let hiu = consent.hiu.id.clone();
    let owned = app
        .state()
        .services
        .get(&hiu)
        .map(|s| s.client_id == client && s.types.contains(&ServiceKind::Hiu))
        .unwrap_or(false);
    if !owned {
        return accepted(); // Unknown HIU: black hole.
    }
    let path = consent_requests::on_init::Endpoint::PATH;
    let p = &consent.permission;
    let problem = if peer_care_contexts(&app, &consent.patient.id).is_none() {
        Some(("ABDM-1051", "Invalid ABHA address: no such patient"))
    } else if consent.hi_types.is_empty() {
        Some(("ABDM-1006", "hiTypes must not be empty"))
    } else if p.date_range.from > p.date_range.to {
        Some(("ABDM-1006", "dateRange.from is after dateRange.to"))
    } else if p.data_erase_at.0 <= chrono::Utc::now() {
        Some(("ABDM-1006", "dataEraseAt must be in the future"))
    } else {
        None
    };
    if let Some((code, message)) = problem {
        let cb = Callback::failed(
            request.request_id,
            consent_requests::on_init::Body {
                consent_request: None,
            },
            callback_error(&app, code, message),
        );
        app.callback(&hiu, ServiceKind::Hiu, path, to_json(&cb));
        return accepted();
    }
    let id = Uuid::new_v4();
    app.state().consent_requests.insert(
        id,
        ConsentRequestRecord {
            id,
            hiu_id: hiu.clone(),
            patient: consent.patient.id.clone(),
            status: ConsentStatus::Requested,
            artefacts: vec![],
            body: Some(consent),
        },
    );
    let cb = Callback::answering(
        request.request_id,
        consent_requests::on_init::Body {
            consent_request: Some(consent_requests::on_init::ConsentRequestId { id }),
        },
    );
    app.callback(&hiu, ServiceKind::Hiu, path, to_json(&cb));
    let policy = app.config.consent_policy;
    if policy != ConsentPolicy::Manual {
        let app = app.clone();
        tokio::spawn(async move {
            tokio::time::sleep(app.config.consent_delay).await;
            if let Err(e) = decide(&app, id, policy == ConsentPolicy::Grant) {
                tracing::warn!(error = %e, "consent decision not applied");
            }
        });
    }
    accepted()
}

/// The patient's decision on a consent request: artefacts (one, for the peer HIP) and a notification
/// to the HIU; a granted artefact expires by itself at `dataEraseAt`.
fn decide(app: &Shared, request_id: Uuid, grant: bool) -> Result<(), String> {
    let (hiu, artefact) = {
        let mut state = app.state();
        let record = state
            .consent_requests
            .get(&request_id)
            .cloned()
            .ok_or("no such consent request")?;
        if record.status != ConsentStatus::Requested {
            return Err(format!("consent request is already {:?}", record.status));
        }
        let consent = record.body.clone().ok_or("consent request has no body")?;
        let artefact = grant.then(|| {
            let id = Uuid::new_v4();
            (id, consent)
        });
        let record = state
            .consent_requests
            .get_mut(&request_id)
            .expect("present");
        record.status = if grant {
            ConsentStatus::Granted
        } else {
            ConsentStatus::Denied
        };
        if let Some((id, _)) = &artefact {
            record.artefacts.push(*id);
        }
        (record.hiu_id.clone(), artefact)
    };
    let mut artefact_refs = vec![];
    if let Some((id, consent)) = artefact {
        let (address, patient_ref, contexts) =
            peer_care_contexts(app, &consent.patient.id).ok_or("patient vanished")?;
        let detail = ConsentDetail {
            schema_version: Some("v0.5".into()),
            consent_id: id,
            created_at: Timestamp::now(),
            patient: PatientId { id: address },
            care_contexts: contexts
                .iter()
                .map(|c| CareContextDefinition {
                    patient_reference: patient_ref.clone(),
                    care_context_reference: c.clone(),
                })
                .collect(),
            purpose: consent.purpose.clone(),
            hip: Organization {
                id: PEER_HIP_ID.into(),
                name: Some("Sandbox Peer Hospital".into()),
            },
            hiu: Some(consent.hiu.clone()),
            consent_manager: Organization::id(app.config.cm_id.clone()),
            requester: Some(consent.requester.clone()),
            hi_types: consent.hi_types.clone(),
            permission: consent.permission.clone(),
        };
        let erase_at = detail.permission.data_erase_at.0;
        app.state().artefacts.insert(
            id,
            Artefact {
                id,
                request_id: Some(request_id),
                status: ConsentStatus::Granted,
                detail,
                hiu_id: hiu.clone(),
                uses: vec![],
            },
        );
        artefact_refs.push(consents::ArtefactReference { id: id.to_string() });
        schedule_expiry(app, id, erase_at);
    }
    let notify = Request::new(consents::hiu_notify::Body {
        notification: consents::hiu_notify::Notification {
            consent_request_id: request_id.to_string(),
            status: if grant {
                ConsentStatus::Granted
            } else {
                ConsentStatus::Denied
            },
            consent_artefacts: artefact_refs,
        },
    });
    app.callback(
        &hiu,
        ServiceKind::Hiu,
        consents::hiu_notify::Endpoint::PATH,
        to_json(&notify),
    );
    Ok(())
}

fn schedule_expiry(app: &Shared, artefact: Uuid, at: chrono::DateTime<chrono::Utc>) {
    let app = app.clone();
    tokio::spawn(async move {
        let wait = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait).await;
        let _ = end_artefact(&app, artefact, ConsentStatus::Expired);
    });
}

/// Revokes or expires an artefact and tells its HIU (and HIP, when the HIP is a bridge).
fn end_artefact(app: &Shared, id: Uuid, status: ConsentStatus) -> Result<(), String> {
    let artefact = {
        let mut state = app.state();
        let artefact = state
            .artefacts
            .get_mut(&id)
            .ok_or("no such consent artefact")?;
        if artefact.status != ConsentStatus::Granted {
            return Err(format!("consent artefact is already {:?}", artefact.status));
        }
        artefact.status = status;
        artefact.clone()
    };
    if artefact.hiu_id != PEER_HIU_ID {
        let notify = Request::new(consents::hiu_notify::Body {
            notification: consents::hiu_notify::Notification {
                consent_request_id: artefact
                    .request_id
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                status,
                consent_artefacts: vec![consents::ArtefactReference { id: id.to_string() }],
            },
        });
        app.callback(
            &artefact.hiu_id,
            ServiceKind::Hiu,
            consents::hiu_notify::Endpoint::PATH,
            to_json(&notify),
        );
    }
    if artefact.detail.hip.id != PEER_HIP_ID {
        notify_hip(app, &artefact, status);
    }
    Ok(())
}

fn notify_hip(app: &Shared, artefact: &Artefact, status: ConsentStatus) {
    let mut detail = artefact.detail.clone();
    detail.hiu = None;
    let notify = Request::new(consents::hip_notify::Body {
        notification: consents::hip_notify::Notification {
            status,
            consent_id: artefact.id,
            consent_detail: detail,
            signature: STANDARD.encode(format!("sandbox-signature:{}", artefact.id)),
            grant_acknowledgement: Some(false),
        },
    });
    app.callback(
        &artefact.detail.hip.id,
        ServiceKind::Hip,
        consents::hip_notify::Endpoint::PATH,
        to_json(&notify),
    );
}

async fn consent_request_status(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (client, request): (String, Request<consent_requests::status::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(hiu) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let record = Uuid::parse_str(&request.body.consent_request_id)
        .ok()
        .and_then(|id| app.state().consent_requests.get(&id).cloned());
    let path = consent_requests::on_status::Endpoint::PATH;
    let cb = match record.filter(|r| r.hiu_id == hiu) {
        Some(r) => Callback::answering(
            request.request_id,
            consent_requests::on_status::Body {
                consent_request: Some(consent_requests::on_status::State {
                    id: r.id.to_string(),
                    status: r.status,
                    consent_artefacts: r
                        .artefacts
                        .iter()
                        .map(|a| consents::ArtefactReference { id: a.to_string() })
                        .collect(),
                }),
            },
        ),
        None => Callback::failed(
            request.request_id,
            consent_requests::on_status::Body {
                consent_request: None,
            },
            callback_error(&app, "ABDM-1001", "No consent request found with this id"),
        ),
    };
    app.callback(&hiu, ServiceKind::Hiu, path, to_json(&cb));
    accepted()
}

/// `on-notify` acknowledgements: accepted and logged.
async fn acknowledge(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return r;
    }
    match app.parse::<Value>(&body) {
        Ok(v) if v.get("resp").is_some() => accepted(),
        Ok(_) => app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-1006",
            "Bad Request, invalid request Body: resp is required",
        ),
        Err(r) => r,
    }
}

async fn consent_fetch(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request): (String, Request<consents::fetch::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(hiu) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let artefact = Uuid::parse_str(&request.body.consent_id)
        .ok()
        .and_then(|id| app.state().artefacts.get(&id).cloned());
    let cb = match artefact.filter(|a| a.hiu_id == hiu) {
        Some(a) => Callback::answering(
            request.request_id,
            consents::on_fetch::Body {
                consent: Some(consents::on_fetch::Artefact {
                    status: a.status,
                    consent_detail: a.detail,
                    signature: STANDARD.encode(format!("sandbox-signature:{}", a.id)),
                }),
            },
        ),
        None => Callback::failed(
            request.request_id,
            consents::on_fetch::Body { consent: None },
            callback_error(&app, "ABDM-1001", "No consent artefact found with this id"),
        ),
    };
    app.callback(
        &hiu,
        ServiceKind::Hiu,
        consents::on_fetch::Endpoint::PATH,
        to_json(&cb),
    );
    accepted()
}

fn frequency_window(f: &Frequency) -> Duration {
    let unit = match f.unit {
        FrequencyUnit::Hour => 3600,
        FrequencyUnit::Day => 86_400,
        FrequencyUnit::Week => 7 * 86_400,
        FrequencyUnit::Month => 30 * 86_400,
        FrequencyUnit::Year => 365 * 86_400,
    };
    Duration::from_secs(unit * u64::from(f.value.max(1)))
}

/// Checks a data request against its artefact: granted, unexpired, range inside, frequency.
fn check_request(artefact: &mut Artefact, range: &DateRange) -> Result<(), (&'static str, String)> {
    let p = &artefact.detail.permission;
    match artefact.status {
        ConsentStatus::Granted => {}
        ConsentStatus::Expired => return Err(("ABDM-1061", "Consent artefact has expired".into())),
        other => {
            return Err((
                "ABDM-1062",
                format!("Consent artefact is {other:?}, not granted"),
            ))
        }
    }
    if p.data_erase_at.0 <= chrono::Utc::now() {
        return Err(("ABDM-1061", "Consent artefact has expired".into()));
    }
    if range.from < p.date_range.from || range.to > p.date_range.to {
        return Err((
            "ABDM-1063",
            "Requested date range is outside the consented range".into(),
        ));
    }
    let window = frequency_window(&p.frequency);
    artefact.uses.retain(|t| t.elapsed() < window);
    // `repeats` more requests are allowed after the first within each window.
    if artefact.uses.len() as u32 > p.frequency.repeats {
        return Err((
            "ABDM-1064",
            format!(
                "Consent allows {} request(s) per {:?}",
                p.frequency.repeats + 1,
                p.frequency.unit
            ),
        ));
    }
    artefact.uses.push(Instant::now());
    Ok(())
}

async fn hi_request(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, request): (String, Request<hi::cm_request::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some(hiu) = app.acting_service(&headers, &client) else {
        return accepted();
    };
    let hi_request = request.body.hi_request;
    let path = hi::hiu_on_request::Endpoint::PATH;
    let artefact_id = Uuid::parse_str(&hi_request.consent.id).ok();
    let checked = {
        let mut state = app.state();
        match artefact_id
            .and_then(|id| state.artefacts.get_mut(&id))
            .filter(|a| a.hiu_id == hiu)
        {
            None => Err((
                "ABDM-1001",
                "No consent artefact found with this id".to_string(),
            )),
            Some(artefact) => {
                check_request(artefact, &hi_request.date_range).map(|()| artefact.clone())
            }
        }
    };
    let artefact = match checked {
        Ok(a) => a,
        Err((code, message)) => {
            let cb = Callback::failed(
                request.request_id,
                hi::hiu_on_request::Body { hi_request: None },
                callback_error(&app, code, &message),
            );
            app.callback(&hiu, ServiceKind::Hiu, path, to_json(&cb));
            return accepted();
        }
    };
    let transaction_id = Uuid::new_v4();
    app.state()
        .hi_sessions
        .insert(transaction_id, (artefact.id, hiu.clone()));
    let cb = Callback::answering(
        request.request_id,
        hi::hiu_on_request::Body {
            hi_request: Some(hi::SessionState {
                transaction_id,
                session_status: hi::SessionStatus::Requested,
            }),
        },
    );
    app.callback(&hiu, ServiceKind::Hiu, path, to_json(&cb));
    // The peer HIP answers after the HIU has had the acknowledgement.
    let app2 = app.clone();
    tokio::spawn(async move {
        tokio::time::sleep(app2.config.callback_delay * 2).await;
        if let Err(e) = peer_hip_push(&app2, transaction_id, &artefact, &hi_request).await {
            tracing::warn!(error = %e, "peer HIP push failed");
        }
    });
    accepted()
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The peer HIP: builds a bundle per care context and HI type, encrypts it for the HIU, pushes it in
/// pages to `dataPushUrl`.
async fn peer_hip_push(
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
    let (corruption, pages) = {
        let mut faults = app.faults();
        (faults.corrupt_next_push.take(), faults.push_pages.max(1))
    };
    let mut entries = Vec::new();
    for cc in &artefact.detail.care_contexts {
        for hi_type in &artefact.detail.hi_types {
            let bundles: Vec<Value> = if stored.is_empty() {
                vec![demo_bundle(
                    *hi_type,
                    &name,
                    &number,
                    &cc.care_context_reference,
                    &date,
                )]
            } else {
                stored
                    .iter()
                    .filter(|r| r.hi_type.is_none() || r.hi_type == Some(*hi_type))
                    .map(|r| r.bundle.clone())
                    .collect()
            };
            for bundle in bundles {
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
                    care_context_reference: cc.care_context_reference.clone(),
                });
            }
        }
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
    let token = app.issuer.gateway_token();
    for (i, chunk) in chunks.into_iter().enumerate() {
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
            .bearer_auth(&token)
            .json(&value)
            .send()
            .await;
        let status = result.as_ref().ok().map(|r| r.status().as_u16());
        app.log.outbound(
            "POST",
            &url_path,
            hi::transfer::Endpoint::PATH,
            status,
            &value,
        );
        match status {
            Some(s) if (200..300).contains(&s) => {}
            other => return Err(format!("data push refused by the HIU ({other:?})")),
        }
    }
    Ok(())
}

async fn hip_on_request(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return r;
    }
    match app.parse::<Callback<hi::hip_on_request::Body>>(&body) {
        Ok(cb) => {
            app.state()
                .bridge_answers
                .insert(cb.resp.request_id, to_json(&cb));
            accepted()
        }
        Err(r) => r,
    }
}

async fn hi_notify(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return r;
    }
    let request: Request<hi::notify::Body> = match app.parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let n = &request.body.notification;
    let mut state = app.state();
    if let Some(report) = state.peer_hiu_reports.get_mut(&n.transaction_id) {
        report.hip_notified =
            Some(format!("{:?}", n.status_notification.session_status).to_uppercase());
    }
    accepted()
}

/// Answers from our HIP to the sandbox's own requests (discover, link init): kept for the operator.
async fn bridge_answer(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return r;
    }
    match app.parse::<Value>(&body) {
        Ok(v) => match v["resp"]["requestId"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
        {
            Some(id) => {
                app.state().bridge_answers.insert(id, v);
                accepted()
            }
            None => app.error(
                StatusCode::BAD_REQUEST,
                "ABDM-1506",
                "Invalid callback resp id",
            ),
        },
        Err(r) => r,
    }
}

/// A confirmed patient-initiated link: the consent manager records the linked care contexts.
async fn link_on_confirm(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let (client, cb): (String, Callback<links::on_confirm::Body>) =
        match app.accept(&headers, &body, true) {
            Ok(x) => x,
            Err(r) => return r,
        };
    let hip = app.acting_service(&headers, &client);
    let mut state = app.state();
    let abha = state
        .bridge_answers
        .get(&cb.resp.request_id)
        .and_then(|v| v["abha"].as_str().map(String::from));
    if let (Some(patient), Some(hip), Some(abha)) = (&cb.body.patient, hip, abha) {
        if let Some(account) = state.account_by_id_mut(&abha) {
            let entry = account
                .links
                .entry(hip)
                .or_insert_with(|| (patient.reference_number.clone(), vec![]));
            for cc in &patient.care_contexts {
                if !entry.1.contains(&cc.reference_number) {
                    entry.1.push(cc.reference_number.clone());
                }
            }
        }
    }
    state
        .bridge_answers
        .insert(cb.resp.request_id, to_json(&cb));
    accepted()
}

/// The peer HIU's data-push URL: decrypt with the key it sent, check checksum and FHIR shape.
async fn peer_hiu_transfer(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok());
    if abdm::jwt::bearer(token)
        .ok()
        .and_then(|t| app.issuer.verify_session(t).ok())
        .is_none()
    {
        return crate::app::wso2(StatusCode::UNAUTHORIZED, "900901", "Invalid Credentials");
    }
    let push: hi::transfer::Body = match app.parse(&body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let key = app.state().peer_hiu_keys.get(&push.transaction_id).cloned();
    let Some(key) = key else {
        return app.error(
            StatusCode::BAD_REQUEST,
            "ABDM-1030",
            "Unknown transaction id",
        );
    };
    let mut report = PeerHiuReport::default();
    let sender = fidelius::PublicKey::parse(&push.key_material.dh_public_key.key_value);
    let nonce = fidelius::Nonce::parse(&push.key_material.nonce);
    let session = match (sender, nonce) {
        (Ok(s), Ok(n)) => {
            fidelius::Session::derive(&key.secret, &s, &key.nonce, &n).map_err(|e| e.to_string())
        }
        (Err(e), _) | (_, Err(e)) => Err(format!("key material: {e}")),
    };
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
    stored.pages_received.push(push.page_number);
    stored.page_count = Some(push.page_count);
    stored.entries.extend(report.entries);
    stored.errors.extend(report.errors);
    accepted()
}

fn md5_raw(data: &[u8]) -> Vec<u8> {
    use md5::{Digest, Md5};
    Md5::digest(data).to_vec()
}

/// Checks what a FHIR document bundle must be: a Bundle of type document, Composition first, every
/// resource profiled, every section reference resolvable.
fn fhir_shape(
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

async fn admin_decide(
    State(app): State<Shared>,
    Path((id, decision)): Path<(Uuid, String)>,
) -> Response {
    let grant = match decision.as_str() {
        "grant" => true,
        "deny" => false,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "use grant or deny"})),
            )
                .into_response()
        }
    };
    match decide(&app, id, grant) {
        Ok(()) => Json(json!({"status": decision})).into_response(),
        Err(e) => (StatusCode::CONFLICT, Json(json!({"error": e}))).into_response(),
    }
}

async fn admin_consent_action(
    State(app): State<Shared>,
    Path((id, action)): Path<(Uuid, String)>,
) -> Response {
    let status = match action.as_str() {
        "revoke" => ConsentStatus::Revoked,
        "expire" => ConsentStatus::Expired,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "use revoke or expire"})),
            )
                .into_response()
        }
    };
    match end_artefact(&app, id, status) {
        Ok(()) => Json(json!({"status": format!("{status:?}").to_uppercase()})).into_response(),
        Err(e) => (StatusCode::CONFLICT, Json(json!({"error": e}))).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PeerHiuRequest {
    abha: String,
    hip_id: String,
    #[serde(default)]
    hi_types: Vec<HiType>,
    /// Erase after this many seconds (default one day).
    erase_after_s: Option<u64>,
}

/// `POST /admin/peer-hiu/request`: the peer HIU asks our HIP for a patient's linked records.
async fn admin_peer_hiu_request(
    State(app): State<Shared>,
    Json(req): Json<PeerHiuRequest>,
) -> Response {
    let (address, links) = {
        let state = app.state();
        match state.account_by_id(&req.abha) {
            Some(a) => (a.address.clone(), a.links.get(&req.hip_id).cloned()),
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": "no such ABHA"})),
                )
                    .into_response()
            }
        }
    };
    let Some((patient_ref, contexts)) = links.filter(|l| !l.1.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "the patient has no care contexts linked at that HIP"})),
        )
            .into_response();
    };
    let id = Uuid::new_v4();
    let now = chrono::Utc::now();
    let hi_types = if req.hi_types.is_empty() {
        vec![HiType::OPConsultation, HiType::Prescription]
    } else {
        req.hi_types
    };
    let detail = ConsentDetail {
        schema_version: Some("v0.5".into()),
        consent_id: id,
        created_at: Timestamp::now(),
        patient: PatientId { id: address },
        care_contexts: contexts
            .iter()
            .map(|c| CareContextDefinition {
                patient_reference: patient_ref.clone(),
                care_context_reference: c.clone(),
            })
            .collect(),
        purpose: Purpose::care_management(),
        hip: Organization::id(req.hip_id.clone()),
        hiu: Some(Organization {
            id: PEER_HIU_ID.into(),
            name: Some("Sandbox Peer HIU".into()),
        }),
        consent_manager: Organization::id(app.config.cm_id.clone()),
        requester: Some(abdm::v0_5::ConsentRequester {
            name: "Dr. Peer Sandbox".into(),
            identifier: None,
        }),
        hi_types,
        permission: Permission {
            access_mode: AccessMode::View,
            date_range: DateRange {
                from: Timestamp::from(now - chrono::Duration::days(3650)),
                to: Timestamp::now(),
            },
            data_erase_at: Timestamp::from(
                now + chrono::Duration::seconds(req.erase_after_s.unwrap_or(86_400) as i64),
            ),
            frequency: Frequency {
                unit: FrequencyUnit::Hour,
                value: 1,
                repeats: 5,
            },
        },
    };
    let artefact = Artefact {
        id,
        request_id: None,
        status: ConsentStatus::Granted,
        detail,
        hiu_id: PEER_HIU_ID.into(),
        uses: vec![],
    };
    app.state().artefacts.insert(id, artefact.clone());
    notify_hip(&app, &artefact, ConsentStatus::Granted);

    let transaction_id = Uuid::new_v4();
    let key = fidelius::KeyMaterial::generate();
    {
        let mut state = app.state();
        state.peer_hiu_keys.insert(transaction_id, key.clone());
        state.peer_hiu_reports.insert(
            transaction_id,
            PeerHiuReport {
                transaction_id,
                consent_id: id,
                ..Default::default()
            },
        );
    }
    let request = Request::new(hi::hip_request::Body {
        transaction_id,
        hi_request: hi::HiRequest {
            consent: hi::ConsentRef { id: id.to_string() },
            date_range: artefact.detail.permission.date_range,
            data_push_url: format!("{}/peer-hiu/transfer", app.base_url),
            key_material: KeyMaterial::curve25519(
                key.public_key().to_base64(fidelius::KeyEncoding::Raw),
                key.nonce.to_base64(),
                artefact.detail.permission.data_erase_at,
            ),
        },
    });
    let app2 = app.clone();
    let hip = req.hip_id.clone();
    tokio::spawn(async move {
        // After the consent notification has reached the HIP.
        tokio::time::sleep(app2.config.callback_delay * 2).await;
        app2.callback(
            &hip,
            ServiceKind::Hip,
            hi::hip_request::Endpoint::PATH,
            to_json(&request),
        );
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({"consentId": id, "transactionId": transaction_id})),
    )
        .into_response()
}

async fn admin_report(State(app): State<Shared>, Path(txn): Path<Uuid>) -> Response {
    match app.state().peer_hiu_reports.get(&txn) {
        Some(r) => Json(json!(r)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such transaction"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscoverRequest {
    abha: String,
    hip_id: String,
}

/// `POST /admin/discover`: the patient looks for their records at our HIP from the PHR app.
async fn admin_discover(State(app): State<Shared>, Json(req): Json<DiscoverRequest>) -> Response {
    let Some(account) = app.state().account_by_id(&req.abha).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "no such ABHA"})),
        )
            .into_response();
    };
    let gender = account.wire_gender();
    let request = Request::new(discovery::discover::Body {
        transaction_id: Uuid::new_v4(),
        patient: discovery::discover::Patient {
            id: account.address.clone(),
            name: account.name.clone(),
            gender,
            year_of_birth: account.year_of_birth as i32,
            verified_identifiers: vec![
                Identifier {
                    kind: IdentifierType::Mobile,
                    value: account.mobile.clone(),
                },
                Identifier {
                    kind: IdentifierType::NdhmHealthNumber,
                    value: account.number.clone(),
                },
                Identifier {
                    kind: IdentifierType::HealthId,
                    value: account.address.clone(),
                },
            ],
            unverified_identifiers: vec![],
        },
    });
    app.callback(
        &req.hip_id,
        ServiceKind::Hip,
        discovery::discover::Endpoint::PATH,
        to_json(&request),
    );
    (
        StatusCode::ACCEPTED,
        Json(
            json!({"requestId": request.request_id, "transactionId": request.body.transaction_id}),
        ),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkInitRequest {
    abha: String,
    hip_id: String,
    transaction_id: Uuid,
    patient_reference: String,
    care_contexts: Vec<String>,
}

async fn admin_link_init(State(app): State<Shared>, Json(req): Json<LinkInitRequest>) -> Response {
    let request = Request::new(links::init::Body {
        transaction_id: req.transaction_id,
        patient: links::init::Patient {
            id: req.abha.clone(),
            reference_number: req.patient_reference,
            care_contexts: req
                .care_contexts
                .into_iter()
                .map(|c| abdm::v0_5::CareContextReference {
                    reference_number: c,
                })
                .collect(),
        },
    });
    app.callback(
        &req.hip_id,
        ServiceKind::Hip,
        links::init::Endpoint::PATH,
        to_json(&request),
    );
    (
        StatusCode::ACCEPTED,
        Json(json!({"requestId": request.request_id})),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkConfirmRequest {
    abha: String,
    hip_id: String,
    link_ref_number: String,
    token: String,
}

async fn admin_link_confirm(
    State(app): State<Shared>,
    Json(req): Json<LinkConfirmRequest>,
) -> Response {
    let request = Request::new(links::confirm::Body {
        confirmation: links::confirm::Confirmation {
            link_ref_number: req.link_ref_number,
            token: req.token,
        },
    });
    // Remember whose link this is, for when the confirmation comes back.
    app.state()
        .bridge_answers
        .insert(request.request_id, json!({"abha": req.abha}));
    app.callback(
        &req.hip_id,
        ServiceKind::Hip,
        links::confirm::Endpoint::PATH,
        to_json(&request),
    );
    (
        StatusCode::ACCEPTED,
        Json(json!({"requestId": request.request_id})),
    )
        .into_response()
}

async fn admin_answer(State(app): State<Shared>, Path(id): Path<Uuid>) -> Response {
    match app.state().bridge_answers.get(&id) {
        Some(v) if v.get("resp").is_some() => Json(v.clone()).into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no answer yet"})),
        )
            .into_response(),
    }
}
