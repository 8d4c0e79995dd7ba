//! The consent manager's v0.5 endpoints: consent requests, artefacts, data requests, data-flow
//! notifications, and the answers of our HIP to the sandbox's own discovery and linking.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use uuid::Uuid;

use abdm::v0_5::{consent_requests, consents, health_information as hi, links};
use abdm::v0_5::{Callback, ConsentStatus, Request, ServiceKind};
use abdm::Operation;

use crate::app::{accepted, Shared};
use crate::cm::*;
use crate::domain::state::{ConsentPolicy, ConsentRequestRecord};
use crate::v0_5::gateway::callback_error;

pub(crate) async fn consent_request_init(
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

pub(crate) async fn consent_request_status(
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
pub(crate) async fn acknowledge(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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

pub(crate) async fn consent_fetch(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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

pub(crate) async fn hi_request(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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

pub(crate) async fn hip_on_request(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return r;
    }
    match app.parse::<Callback<hi::hip_on_request::Body>>(&body) {
        Ok(cb) => {
            let mut state = app.state();
            let answer = match (&cb.body.hi_request, &cb.error) {
                (Some(_), None) => "ACKNOWLEDGED".to_string(),
                (_, Some(e)) => e.message.clone(),
                (None, None) => "NO ANSWER".to_string(),
            };
            if let Some(r) = state
                .peer_hiu_reports
                .values_mut()
                .find(|r| r.request_id == cb.resp.request_id)
            {
                r.hip_answered = Some(answer);
            }
            state
                .bridge_answers
                .insert(cb.resp.request_id, to_json(&cb));
            accepted()
        }
        Err(r) => r,
    }
}

pub(crate) async fn hi_notify(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return r;
    }
    let request: Request<hi::notify::Body> = match app.parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let n = &request.body.notification;
    let mut state = app.state();
    if n.notifier.kind == ServiceKind::Hiu {
        state.hiu_notifications.push(to_json(&request.body));
    }
    if let Some(report) = state.peer_hiu_reports.get_mut(&n.transaction_id) {
        report.hip_notified =
            Some(format!("{:?}", n.status_notification.session_status).to_uppercase());
        report.hip_statuses = n
            .status_notification
            .status_responses
            .iter()
            .map(|s| {
                (
                    s.care_context_reference.clone(),
                    format!("{:?}", s.hi_status).to_uppercase(),
                    s.description.clone().unwrap_or_default(),
                )
            })
            .collect();
    }
    accepted()
}

/// Answers from our HIP to the sandbox's own requests (discover, link init): kept for the operator.
pub(crate) async fn bridge_answer(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
pub(crate) async fn link_on_confirm(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
