//! The consent manager's decisions, acting for patients: granting or denying a request into
//! artefacts, their expiry at `dataEraseAt`, revocation, and the checks a data request must pass.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use uuid::Uuid;

use abdm::v0_5::consents;
use abdm::v0_5::{
    CareContextDefinition, ConsentDetail, ConsentStatus, DateRange, Frequency, FrequencyUnit,
    Organization, PatientId, Request, ServiceKind,
};
use abdm::{Operation, Timestamp};

use crate::app::Shared;
use crate::cm::*;
use crate::domain::state::Artefact;

/// The patient's decision on a consent request: artefacts (one, for the peer HIP) and a notification
/// to the HIU; a granted artefact expires by itself at `dataEraseAt`.
pub(crate) fn decide(app: &Shared, request_id: Uuid, grant: bool) -> Result<(), String> {
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

pub(crate) fn schedule_expiry(app: &Shared, artefact: Uuid, at: chrono::DateTime<chrono::Utc>) {
    let app = app.clone();
    tokio::spawn(async move {
        let wait = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait).await;
        let _ = end_artefact(&app, artefact, ConsentStatus::Expired);
    });
}

/// Revokes or expires an artefact and tells its HIU (and HIP, when the HIP is a bridge).
pub(crate) fn end_artefact(app: &Shared, id: Uuid, status: ConsentStatus) -> Result<(), String> {
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

pub(crate) fn notify_hip(app: &Shared, artefact: &Artefact, status: ConsentStatus) {
    // The HIU stays in the detail for v3, which names it; v0.5's form leaves it out.
    let detail = artefact.detail.clone();
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

pub(crate) fn frequency_window(f: &Frequency) -> Duration {
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
pub(crate) fn check_request(
    artefact: &mut Artefact,
    range: &DateRange,
) -> Result<(), (&'static str, String)> {
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
