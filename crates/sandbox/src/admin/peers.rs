//! The operator's side of consents and peers: a patient's decisions, the peer HIU's requests and
//! reports, patient-initiated discovery and linking from the PHR app.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use abdm::v0_5::{discovery, health_information as hi, links};
use abdm::v0_5::{
    AccessMode, CareContextDefinition, ConsentDetail, ConsentStatus, DateRange, Frequency,
    FrequencyUnit, HiType, Identifier, IdentifierType, KeyMaterial, Organization, PatientId,
    Permission, Purpose, Request, ServiceKind,
};
use abdm::{Operation, Timestamp};

use crate::app::Shared;
use crate::cm::*;
use crate::domain::state::{Artefact, PeerHiuReport};

pub(crate) async fn admin_decide(
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

pub(crate) async fn admin_consent_action(
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

/// A date range in a peer HIU request (RFC 3339).
#[derive(Deserialize, Clone, Copy)]
pub(crate) struct Range {
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PeerHiuRequest {
    abha: String,
    hip_id: String,
    #[serde(default)]
    hi_types: Vec<HiType>,
    /// Erase after this many seconds (default one day).
    erase_after_s: Option<u64>,
    /// Only these care contexts (default: every one linked at the HIP).
    #[serde(default)]
    care_contexts: Vec<String>,
    /// The consent's date range (default: ten years back to now).
    consent_range: Option<Range>,
    /// The data request's date range (default: the consent's).
    request_range: Option<Range>,
    /// The consent's frequency (default: 5 an hour).
    frequency: Option<Frequency>,
    /// Ask again under this artefact (granted before) instead of a new consent.
    consent_id: Option<Uuid>,
    /// Ask under a consent id no consent manager ever issued.
    #[serde(default)]
    unknown_consent: bool,
    /// Have the pages pushed here instead of to the peer HIU (a benchmark's sink).
    data_push_url: Option<String>,
}

fn bad(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

/// The artefact a peer HIU request asks under: a new one (granted, the HIP notified), one granted
/// before, or a made-up id.
fn peer_artefact(app: &Shared, req: &PeerHiuRequest) -> Result<Artefact, Response> {
    if let Some(id) = req.consent_id {
        return app
            .state()
            .artefacts
            .get(&id)
            .cloned()
            .ok_or_else(|| bad("no such consent artefact"));
    }
    let (address, links) = {
        let state = app.state();
        let a = state
            .account_by_id(&req.abha)
            .ok_or_else(|| bad("no such ABHA"))?;
        (a.address.clone(), a.links.get(&req.hip_id).cloned())
    };
    let Some((patient_ref, linked)) = links.filter(|l| !l.1.is_empty()) else {
        return Err(bad("the patient has no care contexts linked at that HIP"));
    };
    let contexts = if req.care_contexts.is_empty() {
        linked
    } else {
        req.care_contexts.clone()
    };
    let id = Uuid::new_v4();
    let now = chrono::Utc::now();
    let range = req.consent_range.unwrap_or(Range {
        from: now - chrono::Duration::days(3650),
        to: now,
    });
    let hi_types = if req.hi_types.is_empty() {
        vec![HiType::OPConsultation, HiType::Prescription]
    } else {
        req.hi_types.clone()
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
                from: Timestamp::from(range.from),
                to: Timestamp::from(range.to),
            },
            data_erase_at: Timestamp::from(
                now + chrono::Duration::seconds(req.erase_after_s.unwrap_or(86_400) as i64),
            ),
            frequency: req.frequency.unwrap_or(Frequency {
                unit: FrequencyUnit::Hour,
                value: 1,
                repeats: 5,
            }),
        },
    };
    let artefact = Artefact {
        id: if req.unknown_consent {
            Uuid::new_v4()
        } else {
            id
        },
        request_id: None,
        status: ConsentStatus::Granted,
        detail,
        hiu_id: PEER_HIU_ID.into(),
        uses: vec![],
    };
    if !req.unknown_consent {
        app.state().artefacts.insert(id, artefact.clone());
        notify_hip(app, &artefact, ConsentStatus::Granted);
    }
    Ok(artefact)
}

/// `POST /admin/peer-hiu/request`: the peer HIU asks our HIP for a patient's linked records.
pub(crate) async fn admin_peer_hiu_request(
    State(app): State<Shared>,
    Json(req): Json<PeerHiuRequest>,
) -> Response {
    let artefact = match peer_artefact(&app, &req) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let transaction_id = Uuid::new_v4();
    let key = fidelius::KeyMaterial::generate();
    let permission = &artefact.detail.permission;
    let range = req
        .request_range
        .map_or(permission.date_range, |r| DateRange {
            from: Timestamp::from(r.from),
            to: Timestamp::from(r.to),
        });
    let request = Request::new(hi::hip_request::Body {
        transaction_id,
        hi_request: hi::HiRequest {
            consent: hi::ConsentRef {
                id: artefact.id.to_string(),
            },
            date_range: range,
            data_push_url: req
                .data_push_url
                .clone()
                .unwrap_or_else(|| format!("{}/peer-hiu/transfer", app.base_url)),
            key_material: KeyMaterial::curve25519(
                key.public_key().to_base64(fidelius::KeyEncoding::Raw),
                key.nonce.to_base64(),
                permission.data_erase_at,
            ),
        },
    });
    {
        let mut state = app.state();
        state.peer_hiu_keys.insert(transaction_id, key.clone());
        state.peer_hiu_reports.insert(
            transaction_id,
            PeerHiuReport {
                transaction_id,
                consent_id: artefact.id,
                request_id: request.request_id,
                ..Default::default()
            },
        );
    }
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
        Json(json!({"consentId": artefact.id, "transactionId": transaction_id})),
    )
        .into_response()
}

/// `GET /admin/peer-hiu/bundles/{txn}`: the FHIR bundles the peer HIU decrypted, in page order.
pub(crate) async fn admin_bundles(State(app): State<Shared>, Path(txn): Path<Uuid>) -> Response {
    match app.state().peer_hiu_reports.get(&txn) {
        Some(r) => Json(json!(r.bundles.values().flatten().collect::<Vec<_>>())).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such transaction"})),
        )
            .into_response(),
    }
}

pub(crate) async fn admin_report(State(app): State<Shared>, Path(txn): Path<Uuid>) -> Response {
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
pub(crate) struct DiscoverRequest {
    abha: String,
    hip_id: String,
}

/// `POST /admin/discover`: the patient looks for their records at our HIP from the PHR app.
pub(crate) async fn admin_discover(
    State(app): State<Shared>,
    Json(req): Json<DiscoverRequest>,
) -> Response {
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
pub(crate) struct LinkInitRequest {
    abha: String,
    hip_id: String,
    transaction_id: Uuid,
    patient_reference: String,
    care_contexts: Vec<String>,
}

pub(crate) async fn admin_link_init(
    State(app): State<Shared>,
    Json(req): Json<LinkInitRequest>,
) -> Response {
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
pub(crate) struct LinkConfirmRequest {
    abha: String,
    hip_id: String,
    link_ref_number: String,
    token: String,
}

pub(crate) async fn admin_link_confirm(
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

pub(crate) async fn admin_answer(State(app): State<Shared>, Path(id): Path<Uuid>) -> Response {
    match app.state().bridge_answers.get(&id) {
        Some(v) if v.get("resp").is_some() => Json(v.clone()).into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no answer yet"})),
        )
            .into_response(),
    }
}
