//! Examples of every v3 type, validated against NHA's v3 files (`abdm-openapi/v3/`), headers
//! included.

use abdm::v3::*;
use uuid::Uuid;

use super::{ts, Examples};

fn permission() -> Permission {
    Permission {
        access_mode: AccessMode::View,
        date_range: DateRange {
            from: ts("2024-12-01T00:00:00.000Z"),
            to: ts("2026-12-01T10:00:00.000Z"),
        },
        data_erase_at: ts("2026-12-31T10:00:00.000Z"),
        frequency: Frequency {
            unit: FrequencyUnit::Hour,
            value: 1,
            repeats: 0,
        },
    }
}

fn requester() -> Requester {
    Requester {
        name: "Dr. Meera Rao".into(),
        identifier: RequesterIdentifier {
            kind: "REGNO".into(),
            value: "MCI-12345".into(),
            system: "https://www.mciindia.org".into(),
        },
    }
}

fn detail(consent_id: Uuid) -> ConsentDetail {
    ConsentDetail {
        schema_version: "v3".into(),
        consent_id,
        created_at: ts("2026-12-01T09:30:00.123Z"),
        patient: PatientId {
            id: "asha.kumari@sbx".into(),
        },
        care_contexts: vec![CareContextDefinition {
            patient_reference: "PAT-0007".into(),
            care_context_reference: "OPD-2026-11-20-0007".into(),
        }],
        purpose: Purpose::care_management(),
        hip: Service::hip("IN2910000123_1", Some("Sharma Clinic".into())),
        hiu: Service::hiu("IN2910000456_1", None),
        consent_manager: PatientId { id: "sbx".into() },
        requester: requester(),
        hi_types: vec![HiType::OPConsultation, HiType::Prescription],
        permission: permission().into(),
        last_updated: None,
        data_erase_at: None,
        frequency: None,
    }
}

fn groups() -> Vec<PatientContexts> {
    let context = |r: &str| CareContext {
        reference_number: r.into(),
        display: Some("OPD visit, 20 Nov 2026".into()),
    };
    PatientContexts::grouped(
        "PAT-0007",
        Some("Asha Kumari"),
        [
            (HiType::OPConsultation, context("OPD-2026-11-20-0007")),
            (HiType::Prescription, context("RX-2026-11-20-0007")),
            (HiType::OPConsultation, context("OPD-2026-11-27-0007")),
        ],
    )
}

fn key_material() -> KeyMaterial {
    KeyMaterial::curve25519(
        "BFN7KTdOmx3M+g==".into(),
        "3JuLNHQyWpoHRVJ8X6C1tkAsJ2B8Zb0xzW3h9o0rX1A=".into(),
        ts("2026-12-01T10:30:00.000Z"),
    )
}

pub fn add(ex: &mut Examples) {
    let answered = Uuid::new_v4();
    let consent_id = Uuid::new_v4();
    let txn = Uuid::new_v4();

    // Gateway.
    ex.add::<gateway::sessions::Endpoint>(gateway::sessions::Body::new("SBX_0042", "s3cret"));
    ex.add::<gateway::bridge_url::Endpoint>(gateway::bridge_url::Body {
        url: "https://relay.example.in/bridge/clinic-7".into(),
    });
    ex.response::<gateway::bridge_services::Endpoint, _>(gateway::bridge_services::Response {
        bridge: gateway::bridge_services::Bridge {
            id: "SBX_0042".into(),
            name: "Sharma Clinic bridge".into(),
            url: "https://relay.example.in/bridge/clinic-7".into(),
            active: true,
            blocklisted: false,
        },
        services: vec![gateway::bridge_services::Service {
            id: "IN2910000123_1".into(),
            name: "Sharma Clinic".into(),
            types: vec!["HIP".into(), "HIU".into()],
            active: true,
        }],
    });
    ex.response::<gateway::bridge_service::Endpoint, _>(gateway::bridge_service::Response {
        bridge_id: "SBX_0042".into(),
        service_id: "IN2910000123_1".into(),
        name: "Sharma Clinic".into(),
        is_hip: true,
        is_hiu: true,
        active: true,
    });
    ex.response::<gateway::certs::Endpoint, _>(gateway::certs::Response {
        keys: vec![gateway::certs::Jwk {
            kid: "AlRb5W".into(),
            kty: "RSA".into(),
            alg: "RS256".into(),
            key_use: Some("sig".into()),
            n: "sXch".into(),
            e: "AQAB".into(),
            x5c: vec!["MIIC".into()],
            x5t: Some("x5t".into()),
        }],
    });
    ex.response::<gateway::openid_configuration::Endpoint, _>(
        gateway::openid_configuration::Response {
            jwks_uri: "https://dev.abdm.gov.in/api/hiecm/gateway/v3/certs".into(),
        },
    );

    // Link token and HIP-initiated linking.
    ex.add::<link_token::generate_token::Endpoint>(link_token::generate_token::Body {
        abha_number: Some("91-1234-5678-9012".into()),
        abha_address: Some("asha.kumari@sbx".into()),
        name: "Asha Kumari".into(),
        gender: Gender::F,
        year_of_birth: 1990,
    });
    ex.add::<link_token::on_generate_token::Endpoint>(Reply::answering(
        answered,
        link_token::on_generate_token::Body {
            abha_address: Some("asha.kumari@sbx".into()),
            link_token: Some("eyJhbGciOiJSUzUxMiJ9.e30.sig".into()),
        },
    ));
    ex.add::<link_token::on_generate_token::Endpoint>(Reply::failed(
        answered,
        Default::default(),
        "ABDM-1092",
        "Duplicate Link token request",
    ));
    ex.add::<hip_linking::carecontext::Endpoint>(hip_linking::carecontext::Body {
        abha_number: Some("91-1234-5678-9012".into()),
        abha_address: "asha.kumari@sbx".into(),
        patient: groups()
            .into_iter()
            .map(hip_linking::carecontext::Group::new)
            .collect(),
    });
    ex.add::<hip_linking::on_carecontext::Endpoint>(Reply::answering(
        answered,
        hip_linking::on_carecontext::Body {
            abha_address: Some("asha.kumari@sbx".into()),
            status: Some(hip_linking::on_carecontext::LINKED.into()),
        },
    ));
    ex.add::<hip_linking::on_carecontext::Endpoint>(Reply::failed(
        answered,
        Default::default(),
        "ABDM-1038: ",
        "ABHA address and Link token mismatch",
    ));
    ex.add::<hip_linking::context_notify::Endpoint>(hip_linking::context_notify::Body {
        notification: hip_linking::context_notify::Notification {
            patient: PatientId {
                id: "asha.kumari@sbx".into(),
            },
            care_context: CareContextDefinition {
                patient_reference: "PAT-0007".into(),
                care_context_reference: "OPD-2026-11-20-0007".into(),
            },
            hi_types: vec![HiType::OPConsultation],
            date: ts("2026-11-20T10:34:00.387Z"),
            hip: PatientId {
                id: "IN2910000123_1".into(),
            },
        },
    });
    let ack = |status: &str| hip_linking::Acknowledgement {
        status: status.into(),
    };
    ex.add::<hip_linking::on_context_notify::Endpoint>(Reply::answering(
        answered,
        hip_linking::on_context_notify::Body {
            acknowledgement: ack("SUCCESS"),
        },
    ));
    ex.add::<hip_linking::sms_notify::Endpoint>(hip_linking::sms_notify::Body {
        notification: hip_linking::sms_notify::Notification {
            phone_no: "919876543210".into(),
            hip: hip_linking::sms_notify::Hip {
                id: "IN2910000123_1".into(),
                name: "Sharma Clinic".into(),
            },
        },
    });
    ex.add::<hip_linking::on_sms_notify::Endpoint>(Reply::answering(
        answered,
        hip_linking::on_sms_notify::Body {
            acknowledgement: ack("SUCCESS"),
        },
    ));

    // Patient-initiated linking.
    ex.add::<user_linking::discover::Endpoint>(user_linking::discover::Body {
        transaction_id: txn,
        patient: user_linking::discover::Patient {
            id: "asha.kumari@sbx".into(),
            name: "Asha Kumari".into(),
            gender: Gender::F,
            year_of_birth: 1990,
            verified_identifiers: vec![Identifier {
                kind: IdentifierType::Mobile,
                value: "+9198765*****".into(),
            }],
            unverified_identifiers: vec![Identifier {
                kind: IdentifierType::MedicalRecord,
                value: "PAT-0007".into(),
            }],
        },
    });
    ex.add::<user_linking::on_discover::Endpoint>(Reply::answering(
        answered,
        user_linking::on_discover::Body {
            transaction_id: txn,
            patient: groups(),
            matched_by: vec![IdentifierType::Mobile],
        },
    ));
    ex.add::<user_linking::on_discover::Endpoint>(Reply::failed(
        answered,
        user_linking::on_discover::Body {
            transaction_id: txn,
            patient: vec![],
            matched_by: vec![],
        },
        "ABDM-1012",
        "No records found against the ABHA address",
    ));
    ex.add::<user_linking::init::Endpoint>(user_linking::init::Body {
        transaction_id: txn,
        abha_address: "asha.kumari@sbx".into(),
        patient: groups(),
    });
    ex.add::<user_linking::on_init::Endpoint>(Reply::answering(
        answered,
        user_linking::on_init::Body {
            transaction_id: txn,
            link: Some(user_linking::on_init::Link {
                reference_number: Uuid::new_v4(),
                authentication_type: "DIRECT".into(),
                meta: user_linking::on_init::Meta {
                    communication_medium: "MOBILE".into(),
                    communication_hint: Some("OTP".into()),
                    communication_expiry: ts("2026-12-01T10:10:00.000Z"),
                },
            }),
        },
    ));
    ex.add::<user_linking::confirm::Endpoint>(user_linking::confirm::Body {
        confirmation: user_linking::confirm::Confirmation {
            link_ref_number: Uuid::new_v4(),
            token: "482913".into(),
        },
    });
    ex.add::<user_linking::on_confirm::Endpoint>(Reply::answering(
        answered,
        user_linking::on_confirm::Body { patient: groups() },
    ));

    // Scan and share.
    ex.add::<patient_share::share::Endpoint>(patient_share::share::Body {
        intent: "PROFILE_SHARE".into(),
        meta_data: patient_share::share::MetaData {
            hip_id: "IN2910000123_1".into(),
            context: "OPD1".into(),
            hpr_id: None,
            latitude: Some(20.5937),
            longitude: Some(78.9629),
        },
        profile: patient_share::share::Profile {
            patient: patient_share::share::Patient {
                abha_number: Some("91-1234-5678-9012".into()),
                abha_address: "asha.kumari@sbx".into(),
                name: "Asha Kumari".into(),
                gender: Gender::F,
                day_of_birth: Some(5),
                month_of_birth: Some(1),
                year_of_birth: 1990,
                address: patient_share::share::Address {
                    line: Some("12 MG Road".into()),
                    district: Some("Pune".into()),
                    state: "MAHARASHTRA".into(),
                    pincode: "411001".into(),
                },
                phone_number: Some("9876543210".into()),
            },
        },
    });
    ex.add::<patient_share::on_share::Endpoint>(Reply::answering(
        answered,
        patient_share::on_share::Body {
            acknowledgement: patient_share::on_share::Acknowledgement {
                status: "SUCCESS".into(),
                abha_address: "asha.kumari@sbx".into(),
                profile: Some(patient_share::on_share::TokenProfile {
                    context: "OPD1".into(),
                    token_number: "42".into(),
                    expiry: 1800,
                }),
            },
        },
    ));

    // Consent, HIP side.
    ex.add::<consent::hip_notify::Endpoint>(consent::hip_notify::Body {
        notification: consent::hip_notify::Notification {
            status: ConsentStatus::Granted,
            consent_id,
            consent_detail: Some(detail(consent_id)),
            signature: Some("c2lnbmF0dXJl".into()),
            grant_acknowledgement: false,
        },
    });
    ex.add::<consent::hip_notify::Endpoint>(consent::hip_notify::Body {
        notification: consent::hip_notify::Notification {
            status: ConsentStatus::Revoked,
            consent_id,
            consent_detail: None,
            signature: None,
            grant_acknowledgement: false,
        },
    });
    let consent_ack = consent::ConsentAck {
        status: "OK".into(),
        consent_id,
    };
    ex.add::<consent::hip_on_notify::Endpoint>(Reply::answering(
        answered,
        consent::hip_on_notify::Body {
            acknowledgement: consent_ack.clone(),
        },
    ));

    // Consent, HIU side.
    ex.add::<consent::request_init::Endpoint>(consent::request_init::Body {
        consent: consent::request_init::Consent {
            purpose: Purpose::care_management(),
            patient: PatientId {
                id: "asha.kumari@sbx".into(),
            },
            hip: None,
            hiu: Service::hiu("IN2910000123_1", Some("Sharma Clinic".into())),
            care_contexts: None,
            requester: requester(),
            hi_types: vec![HiType::Prescription, HiType::DiagnosticReport],
            permission: permission(),
        },
    });
    let request_id = Uuid::new_v4();
    ex.add::<consent::on_init::Endpoint>(Reply::answering(
        answered,
        consent::on_init::Body {
            consent_request: Some(consent::IdRef { id: request_id }),
        },
    ));
    ex.add::<consent::on_init::Endpoint>(Reply::failed(
        answered,
        Default::default(),
        "ABDM-1051",
        "Invalid ABHA number or address",
    ));
    ex.add::<consent::request_status::Endpoint>(consent::request_status::Body {
        consent_request_id: request_id,
    });
    ex.add::<consent::on_status::Endpoint>(Reply::answering(
        answered,
        consent::on_status::Body {
            consent_request: Some(consent::on_status::Status {
                id: request_id,
                status: ConsentStatus::Requested,
                consent_artefacts: vec![],
            }),
        },
    ));
    ex.add::<consent::hiu_notify::Endpoint>(consent::hiu_notify::Body {
        notification: consent::hiu_notify::Notification {
            consent_request_id: Some(request_id),
            status: ConsentStatus::Granted,
            reason: None,
            consent_artefacts: vec![consent::IdRef { id: consent_id }],
        },
    });
    ex.add::<consent::hiu_on_notify::Endpoint>(Reply::answering(
        answered,
        consent::hiu_on_notify::Body {
            acknowledgement: vec![consent_ack],
        },
    ));
    ex.add::<consent::fetch::Endpoint>(consent::fetch::Body { consent_id });
    let mut fetched = detail(consent_id);
    fetched.last_updated = Some(ts("2026-12-01T09:31:00.000Z"));
    fetched.data_erase_at = fetched.permission.data_erase_at;
    fetched.frequency = fetched.permission.frequency;
    ex.add::<consent::on_fetch::Endpoint>(Reply::answering(
        answered,
        consent::on_fetch::Body {
            consent: Some(consent::on_fetch::Artefact {
                status: ConsentStatus::Granted,
                consent_detail: Some(fetched),
                signature: "c2lnbmF0dXJl".into(),
            }),
        },
    ));

    // Data flow.
    let hi_request = data_flow::HiRequest {
        consent: consent::IdRef { id: consent_id },
        date_range: permission().date_range,
        data_push_url: "https://relay.example.in/push/abc".into(),
        key_material: key_material(),
    };
    ex.add::<data_flow::hip_request::Endpoint>(data_flow::hip_request::Body {
        transaction_id: txn,
        hi_request: hi_request.clone(),
    });
    let session = |status: &str| data_flow::Session {
        transaction_id: txn,
        session_status: status.into(),
    };
    ex.add::<data_flow::hip_on_request::Endpoint>(Reply::answering(
        answered,
        data_flow::hip_on_request::Body {
            hi_request: session("ACKNOWLEDGED"),
        },
    ));
    ex.add::<data_flow::hiu_request::Endpoint>(data_flow::hiu_request::Body { hi_request });
    ex.add::<data_flow::hiu_on_request::Endpoint>(Reply::answering(
        answered,
        data_flow::hiu_on_request::Body {
            hi_request: Some(session("REQUESTED")),
        },
    ));
    ex.add::<data_flow::notify::Endpoint>(data_flow::notify::Body {
        notification: data_flow::notify::Notification {
            consent_id,
            transaction_id: txn,
            done_at: ts("2026-12-01T10:05:00.000Z"),
            notifier: data_flow::notify::Notifier {
                kind: "HIP".into(),
                id: "IN2910000123_1".into(),
            },
            status_notification: data_flow::notify::StatusNotification {
                session_status: "TRANSFERRED".into(),
                hip_id: "IN2910000123_1".into(),
                status_responses: vec![data_flow::notify::StatusResponse {
                    care_context_reference: "OPD-2026-11-20-0007".into(),
                    hi_status: "DELIVERED".into(),
                    description: Some("Delivered".into()),
                }],
            },
        },
    });
    ex.add::<data_flow::transfer::Endpoint>(data_flow::transfer::Body {
        page_number: 1,
        page_count: 1,
        transaction_id: txn,
        entries: vec![data_flow::transfer::Entry {
            content: Some("c2VhbGVk".into()),
            link: None,
            media: "application/fhir+json".into(),
            checksum: "9e107d9d372bb6826bd81d3542a419d6".into(),
            care_context_reference: "OPD-2026-11-20-0007".into(),
        }],
        key_material: key_material(),
    });
    ex.response::<data_flow::request_status::Endpoint, _>(data_flow::request_status::Response {
        transaction_id: txn,
        status: "TRANSFERRED".into(),
    });
}
