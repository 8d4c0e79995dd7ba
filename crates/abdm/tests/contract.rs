//! Contract tests: an example of every request and callback type serializes to JSON that NHA's
//! OpenAPI accepts (checked by an independent validator, Python `openapi-schema-validator`, over the
//! YAML in `shared/abdm-openapi/`), and parses back unchanged.

use std::path::PathBuf;
use std::process::Command;

use abdm::healthid_v1 as hid;
use abdm::v0_5::*;
use abdm::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

#[path = "contract/v3.rs"]
mod v3_examples;

fn shared_dir() -> PathBuf {
    std::env::var_os("ABDM_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        })
}

#[derive(Default)]
struct Examples {
    lines: Vec<Value>,
}

impl Examples {
    /// Records an example body for an operation and checks that it parses back unchanged.
    fn add<O: Operation>(&mut self, body: O::Body)
    where
        O::Body: PartialEq + std::fmt::Debug,
    {
        self.add_as::<O>(body, None)
    }

    /// As `add`, validated against another path's schema (for endpoints the spec names otherwise).
    fn add_as<O: Operation>(&mut self, body: O::Body, spec_path: Option<&str>)
    where
        O::Body: PartialEq + std::fmt::Debug,
    {
        let json = round_trip(&body);
        let mut line = serde_json::json!({
            "method": O::METHOD.as_str(), "path": O::PATH, "kind": "request", "body": json,
        });
        // v3 operations name their headers: the validator holds them to NHA's required ones.
        if !O::HEADERS.is_empty() {
            line["headers"] = O::HEADERS.into();
        }
        if let Some(p) = spec_path {
            line["spec_path"] = p.into();
        }
        self.lines.push(line);
    }

    /// A synchronous response body (ABHA service, sessions, certs).
    fn response<O: Operation, R: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        &mut self,
        body: R,
    ) {
        let json = round_trip(&body);
        self.lines.push(serde_json::json!({
            "method": O::METHOD.as_str(), "path": O::PATH, "kind": "response", "status": 200, "body": json,
        }));
    }
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> Value {
    let json = serde_json::to_value(value).unwrap();
    let back: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(&back, value, "parses back unchanged");
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        json,
        "serializes to the same JSON"
    );
    json
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn hip() -> Requester {
    Requester {
        kind: ServiceKind::Hip,
        id: "IN2910000123_1".into(),
    }
}

fn permission() -> Permission {
    Permission {
        access_mode: AccessMode::View,
        date_range: DateRange {
            from: ts("2024-01-01T00:00:00.000Z"),
            to: ts("2026-11-24T10:00:00.000Z"),
        },
        data_erase_at: ts("2026-12-24T10:00:00.000Z"),
        frequency: Frequency {
            unit: FrequencyUnit::Hour,
            value: 1,
            repeats: 0,
        },
    }
}

fn consent_detail(with_hiu: bool) -> ConsentDetail {
    ConsentDetail {
        schema_version: Some("v0.5".into()),
        consent_id: Uuid::new_v4(),
        created_at: ts("2026-11-24T09:30:00.123Z"),
        patient: PatientId {
            id: "asha.kumari@sbx".into(),
        },
        care_contexts: vec![CareContextDefinition {
            patient_reference: "PAT-0007".into(),
            care_context_reference: "OPD-2026-11-20-0007".into(),
        }],
        purpose: Purpose::care_management(),
        hip: Organization {
            id: "IN2910000123_1".into(),
            name: Some("Sharma Clinic".into()),
        },
        hiu: with_hiu.then(|| Organization::id("IN2910000456_2")),
        consent_manager: Organization::id("sbx"),
        requester: Some(ConsentRequester {
            name: "Dr. Meera Iyer".into(),
            identifier: Some(RequesterIdentifier {
                kind: "REGNO".into(),
                value: "MH/2011/45678".into(),
                system: "https://www.mciindia.org".into(),
            }),
        }),
        hi_types: vec![HiType::OPConsultation, HiType::Prescription],
        permission: permission(),
    }
}

fn key_material() -> KeyMaterial {
    let keys = fidelius_like_key();
    KeyMaterial::curve25519(keys.0, keys.1, ts("2026-11-25T10:00:00.000Z"))
}

/// A syntactically realistic key and nonce (base64 of 65 and 32 bytes).
fn fidelius_like_key() -> (String, String) {
    (
        "BB04xHqLeETgD3AqSJkyslLqPc7Okixj+KGnai8iStNGYGviGXYCbIPSnpjv8A/t9RUksQ5ZY/vT9w7K0i64x1g="
            .into(),
        "jNC8deuICBuR5kxKY2qQRcFBr1hqjQSZChGdhJ/bqH0=".into(),
    )
}

fn error() -> ErrorBody {
    ErrorBody {
        code: ErrorCode::Number(1000),
        message: "Invalid OTP".into(),
    }
}

fn v0_5_examples(ex: &mut Examples) {
    use health_information as hi;
    let rid = Uuid::new_v4();

    ex.add::<sessions::sessions::Endpoint>(sessions::sessions::Body {
        client_id: "SBX_0001".into(),
        client_secret: "not-a-real-secret".into(),
        grant_type: sessions::sessions::GrantType::ClientCredentials,
        refresh_token: None,
    });
    ex.response::<sessions::sessions::Endpoint, _>(sessions::sessions::Response {
        access_token: "eyJhbGciOiJSUzI1NiJ9.e30.sig".into(),
        expires_in: 1200,
        refresh_expires_in: Some(1800),
        refresh_token: Some("eyJ.refresh.sig".into()),
        token_type: Some("bearer".into()),
    });
    ex.response::<sessions::certs::Endpoint, _>(sessions::certs::Response {
        keys: vec![sessions::certs::Jwk {
            kid: "gw-rs256-1".into(),
            kty: "RSA".into(),
            alg: "RS256".into(),
            key_use: Some("sig".into()),
            n: "sXchGZ0o".into(),
            e: "AQAB".into(),
        }],
    });

    // User auth.
    ex.add::<user_auth::fetch_modes::Endpoint>(Request::new(user_auth::fetch_modes::Body {
        query: user_auth::fetch_modes::Query {
            id: "asha.kumari@sbx".into(),
            purpose: AuthPurpose::KycAndLink,
            requester: hip(),
        },
    }));
    ex.add::<user_auth::on_fetch_modes::Endpoint>(Callback::answering(
        rid,
        user_auth::on_fetch_modes::Body {
            auth: Some(user_auth::on_fetch_modes::Modes {
                purpose: AuthPurpose::KycAndLink,
                modes: vec![
                    AuthMode::MobileOtp,
                    AuthMode::AadhaarOtp,
                    AuthMode::Demographics,
                ],
            }),
        },
    ));
    ex.add::<user_auth::on_fetch_modes::Endpoint>(Callback::failed(
        rid,
        user_auth::on_fetch_modes::Body { auth: None },
        error(),
    ));
    ex.add::<user_auth::init::Endpoint>(Request::new(user_auth::init::Body {
        query: user_auth::init::Query {
            id: "91-1234-5678-9012".into(),
            purpose: AuthPurpose::Link,
            auth_mode: Some(AuthMode::MobileOtp),
            requester: hip(),
        },
    }));
    ex.add::<user_auth::on_init::Endpoint>(Callback::answering(
        rid,
        user_auth::on_init::Body {
            auth: Some(user_auth::on_init::Auth {
                transaction_id: Uuid::new_v4().to_string(),
                mode: AuthMode::MobileOtp,
                meta: Some(user_auth::on_init::Meta {
                    hint: Some("******3210".into()),
                    expiry: Some("2026-11-24T10:10:00.000Z".into()),
                }),
            }),
        },
    ));
    ex.add::<user_auth::confirm::Endpoint>(Request::new(user_auth::confirm::Body {
        transaction_id: Uuid::new_v4().to_string(),
        credential: user_auth::confirm::Credential {
            auth_code: Some("482913".into()),
            demographic: None,
        },
    }));
    ex.add::<user_auth::confirm::Endpoint>(Request::new(user_auth::confirm::Body {
        transaction_id: Uuid::new_v4().to_string(),
        credential: user_auth::confirm::Credential {
            auth_code: None,
            demographic: Some(user_auth::confirm::Demographic {
                name: "Asha Kumari".into(),
                gender: Gender::F,
                date_of_birth: "1990-04-12".into(),
                identifier: Some(Identifier {
                    kind: IdentifierType::Mobile,
                    value: "9876543210".into(),
                }),
            }),
        },
    }));
    ex.add::<user_auth::on_confirm::Endpoint>(Callback::answering(
        rid,
        user_auth::on_confirm::Body {
            auth: Some(user_auth::on_confirm::Auth {
                access_token: Some("eyJhbGciOiJSUzUxMiJ9.link.sig".into()),
                patient: Some(user_auth::on_confirm::Patient {
                    id: "asha.kumari@sbx".into(),
                    name: "Asha Kumari".into(),
                    gender: Gender::F,
                    year_of_birth: 1990,
                    address: Some(PatientAddress {
                        line: Some("12 MG Road".into()),
                        district: Some("Pune".into()),
                        state: Some("Maharashtra".into()),
                        pincode: Some("411001".into()),
                    }),
                    identifiers: vec![Identifier {
                        kind: IdentifierType::NdhmHealthNumber,
                        value: "91-1234-5678-9012".into(),
                    }],
                }),
                validity: Some(user_auth::on_confirm::Validity {
                    purpose: AuthPurpose::Link,
                    requester: hip(),
                    expiry: ts("2027-05-24T10:00:00.000Z"),
                    limit: 1,
                }),
            }),
        },
    ));

    // Linking.
    let linked = links::LinkedPatient {
        reference_number: "PAT-0007".into(),
        display: "Asha Kumari".into(),
        care_contexts: vec![CareContextRepresentation {
            reference_number: "OPD-2026-11-20-0007".into(),
            display: "OPD visit, 20 Nov 2026".into(),
        }],
    };
    ex.add::<links::add_contexts::Endpoint>(Request::new(links::add_contexts::Body {
        link: links::add_contexts::Link {
            access_token: "eyJ.link.sig".into(),
            patient: linked.clone(),
        },
    }));
    ex.add::<links::on_add_contexts::Endpoint>(Callback::answering(
        rid,
        links::on_add_contexts::Body {
            acknowledgement: Some(links::on_add_contexts::Acknowledgement {
                status: "SUCCESS".into(),
            }),
        },
    ));
    ex.add::<links::init::Endpoint>(Request::new(links::init::Body {
        transaction_id: Uuid::new_v4(),
        patient: links::init::Patient {
            id: "asha.kumari@sbx".into(),
            reference_number: "PAT-0007".into(),
            care_contexts: vec![CareContextReference {
                reference_number: "OPD-2026-11-20-0007".into(),
            }],
        },
    }));
    ex.add::<links::on_init::Endpoint>(Callback::answering(
        rid,
        links::on_init::Body {
            transaction_id: Uuid::new_v4(),
            link: Some(links::on_init::Link {
                reference_number: Uuid::new_v4().to_string(),
                authentication_type: links::on_init::AuthenticationType::Direct,
                meta: Some(links::on_init::Meta::new(
                    links::on_init::CommunicationMedium::Mobile,
                    "******3210".into(),
                    "2026-11-24T10:15:00.000Z".into(),
                )),
            }),
        },
    ));
    ex.add::<links::confirm::Endpoint>(Request::new(links::confirm::Body {
        confirmation: links::confirm::Confirmation {
            link_ref_number: Uuid::new_v4().to_string(),
            token: "271828".into(),
        },
    }));
    ex.add::<links::on_confirm::Endpoint>(Callback::answering(
        rid,
        links::on_confirm::Body {
            patient: Some(linked),
        },
    ));

    // Discovery.
    ex.add::<discovery::discover::Endpoint>(Request::new(discovery::discover::Body {
        transaction_id: Uuid::new_v4(),
        patient: discovery::discover::Patient {
            id: "asha.kumari@sbx".into(),
            name: "Asha Kumari".into(),
            gender: Gender::F,
            year_of_birth: 1990,
            verified_identifiers: vec![
                Identifier {
                    kind: IdentifierType::Mobile,
                    value: "+91-9876543210".into(),
                },
                Identifier {
                    kind: IdentifierType::NdhmHealthNumber,
                    value: "91-1234-5678-9012".into(),
                },
            ],
            unverified_identifiers: vec![Identifier {
                kind: IdentifierType::MedicalRecord,
                value: "MR-88".into(),
            }],
        },
    }));
    ex.add::<discovery::on_discover::Endpoint>(Callback::answering(
        rid,
        discovery::on_discover::Body {
            transaction_id: Uuid::new_v4(),
            patient: Some(discovery::on_discover::Patient {
                reference_number: "PAT-0007".into(),
                display: "Asha Kumari".into(),
                care_contexts: vec![CareContextRepresentation {
                    reference_number: "OPD-2026-11-20-0007".into(),
                    display: "OPD visit".into(),
                }],
                matched_by: vec![IdentifierType::Mobile],
            }),
        },
    ));

    // Scan and share.
    ex.add::<profile::share::Endpoint>(Request::new(profile::share::Body {
        patient: profile::share::Patient {
            hip_code: Some("COUNTER-1".into()),
            user_demographics: profile::share::Demographics {
                health_id: "asha.kumari@sbx".into(),
                health_id_number: "91-1234-5678-9012".into(),
                name: "Asha Kumari".into(),
                gender: Gender::F,
                year_of_birth: 1990,
                month_of_birth: Some(4),
                day_of_birth: Some(12),
                address: Some(PatientAddress {
                    line: None,
                    district: Some("Pune".into()),
                    state: Some("Maharashtra".into()),
                    pincode: Some("411001".into()),
                }),
                identifiers: vec![Identifier {
                    kind: IdentifierType::Mobile,
                    value: "9876543210".into(),
                }],
            },
        },
    }));
    ex.add::<profile::on_share::Endpoint>(Callback::answering(
        rid,
        profile::on_share::Body {
            acknowledgement: profile::on_share::Acknowledgement {
                status: profile::on_share::ShareStatus::Success,
                health_id: "asha.kumari@sbx".into(),
                token_number: Some("17".into()),
            },
        },
    ));

    // SMS.
    ex.add::<sms::notify::Endpoint>(Request::new(sms::notify::Body {
        notification: sms::notify::Notification {
            phone_no: "+91-9876543210".into(),
            receiver_name: Some("Asha Kumari".into()),
            care_context_info: "OPD visit, 20 Nov 2026".into(),
            deeplink_url: Some("https://abdm.example/link?ref=PAT-0007".into()),
            hip: Organization {
                id: "IN2910000123_1".into(),
                name: Some("Sharma Clinic".into()),
            },
        },
    }));
    ex.add::<sms::on_notify::Endpoint>(Callback::answering(
        rid,
        sms::on_notify::Body {
            status: Some(sms::on_notify::SmsStatus::Acknowledged),
        },
    ));

    // Consents.
    let detail = consent_detail(false);
    ex.add::<consents::hip_notify::Endpoint>(Request::new(consents::hip_notify::Body {
        notification: consents::hip_notify::Notification {
            status: ConsentStatus::Granted,
            consent_id: detail.consent_id,
            consent_detail: detail,
            signature: "c2lnbmF0dXJl".into(),
            grant_acknowledgement: Some(false),
        },
    }));
    ex.add::<consents::hip_on_notify::Endpoint>(Callback::answering(
        rid,
        consents::hip_on_notify::Body {
            acknowledgement: Some(consents::Acknowledgement {
                consent_id: Uuid::new_v4().to_string(),
                status: consents::AckStatus::Ok,
            }),
        },
    ));
    ex.add::<consents::hiu_notify::Endpoint>(Request::new(consents::hiu_notify::Body {
        notification: consents::hiu_notify::Notification {
            consent_request_id: Uuid::new_v4().to_string(),
            status: ConsentStatus::Granted,
            consent_artefacts: vec![consents::ArtefactReference {
                id: Uuid::new_v4().to_string(),
            }],
        },
    }));
    ex.add::<consents::hiu_on_notify::Endpoint>(Callback::answering(
        rid,
        consents::hiu_on_notify::Body {
            acknowledgement: vec![consents::Acknowledgement {
                consent_id: Uuid::new_v4().to_string(),
                status: consents::AckStatus::Ok,
            }],
        },
    ));
    ex.add::<consents::fetch::Endpoint>(Request::new(consents::fetch::Body {
        consent_id: Uuid::new_v4().to_string(),
    }));
    ex.add::<consents::on_fetch::Endpoint>(Callback::answering(
        rid,
        consents::on_fetch::Body {
            consent: Some(consents::on_fetch::Artefact {
                status: ConsentStatus::Granted,
                consent_detail: consent_detail(true),
                signature: "c2ln".into(),
            }),
        },
    ));

    // Consent requests.
    ex.add::<consent_requests::init::Endpoint>(Request::new(consent_requests::init::Body {
        consent: consent_requests::init::Consent {
            purpose: Purpose::care_management(),
            patient: PatientId {
                id: "asha.kumari@sbx".into(),
            },
            hip: None,
            hiu: Organization::id("IN2910000123_1"),
            care_contexts: vec![],
            requester: ConsentRequester {
                name: "Dr. Meera Iyer".into(),
                identifier: None,
            },
            hi_types: vec![
                HiType::OPConsultation,
                HiType::DiagnosticReport,
                HiType::DischargeSummary,
            ],
            permission: permission(),
            consent_notification_url: "https://relay.example/clinics/c1".into(),
        },
    }));
    ex.add::<consent_requests::on_init::Endpoint>(Callback::answering(
        rid,
        consent_requests::on_init::Body {
            consent_request: Some(consent_requests::on_init::ConsentRequestId {
                id: Uuid::new_v4(),
            }),
        },
    ));
    ex.add::<consent_requests::status::Endpoint>(Request::new(consent_requests::status::Body {
        consent_request_id: Uuid::new_v4().to_string(),
    }));
    ex.add::<consent_requests::on_status::Endpoint>(Callback::answering(
        rid,
        consent_requests::on_status::Body {
            consent_request: Some(consent_requests::on_status::State {
                id: Uuid::new_v4().to_string(),
                status: ConsentStatus::Granted,
                consent_artefacts: vec![consents::ArtefactReference {
                    id: Uuid::new_v4().to_string(),
                }],
            }),
        },
    ));

    // Data flow.
    let hi_request = hi::HiRequest {
        consent: hi::ConsentRef {
            id: Uuid::new_v4().to_string(),
        },
        date_range: DateRange {
            from: ts("2024-01-01T00:00:00.000Z"),
            to: ts("2026-11-24T10:00:00.000Z"),
        },
        data_push_url: "https://relay.example/clinics/c1/v0.5/health-information/transfer".into(),
        key_material: key_material(),
    };
    ex.add::<hi::cm_request::Endpoint>(Request::new(hi::cm_request::Body {
        hi_request: hi_request.clone(),
    }));
    let session = hi::SessionState {
        transaction_id: Uuid::new_v4(),
        session_status: hi::SessionStatus::Requested,
    };
    ex.add::<hi::hiu_on_request::Endpoint>(Callback::answering(
        rid,
        hi::hiu_on_request::Body {
            hi_request: Some(session.clone()),
        },
    ));
    ex.add_as::<hi::hiu_on_request::Endpoint>(
        Callback::answering(
            rid,
            hi::hiu_on_request::Body {
                hi_request: Some(session),
            },
        ),
        Some(hi::hiu_on_request::CM_PATH),
    );
    ex.add::<hi::hip_request::Endpoint>(Request::new(hi::hip_request::Body {
        transaction_id: Uuid::new_v4(),
        hi_request,
    }));
    ex.add::<hi::hip_on_request::Endpoint>(Callback::answering(
        rid,
        hi::hip_on_request::Body {
            hi_request: Some(hi::SessionState {
                transaction_id: Uuid::new_v4(),
                session_status: hi::SessionStatus::Acknowledged,
            }),
        },
    ));
    ex.add::<hi::notify::Endpoint>(Request::new(hi::notify::Body {
        notification: hi::notify::Notification {
            consent_id: Uuid::new_v4(),
            transaction_id: Uuid::new_v4(),
            done_at: ts("2026-11-24T10:01:02.345Z"),
            notifier: hi::notify::Notifier {
                kind: ServiceKind::Hip,
                id: "IN2910000123_1".into(),
            },
            status_notification: hi::notify::StatusNotification {
                session_status: hi::notify::TransferStatus::Transferred,
                hip_id: "IN2910000123_1".into(),
                status_responses: vec![hi::notify::StatusResponse {
                    care_context_reference: "OPD-2026-11-20-0007".into(),
                    hi_status: hi::notify::HiStatus::Delivered,
                    description: Some("delivered".into()),
                }],
            },
        },
    }));
    ex.add::<hi::transfer::Endpoint>(hi::transfer::Body {
        page_number: 1,
        page_count: 2,
        transaction_id: Uuid::new_v4(),
        entries: vec![hi::transfer::Entry {
            content: Some("juZA40OK+F70lnEXBKgZIRf0+zxazW1XZeL1kpGA".into()),
            link: None,
            media: "application/fhir+json".into(),
            checksum: "9e107d9d372bb6826bd81d3542a419d6".into(),
            care_context_reference: "OPD-2026-11-20-0007".into(),
        }],
        key_material: key_material(),
    });
}

fn healthid_examples(ex: &mut Examples) {
    let txn = Uuid::new_v4().to_string();
    let txn_response = hid::TxnResponse {
        txn_id: txn.clone(),
        mobile_linked: None,
    };
    ex.add::<hid::generate_otp::Endpoint>(hid::generate_otp::Body {
        aadhaar: "999941057058".into(),
    });
    ex.response::<hid::generate_otp::Endpoint, _>(txn_response.clone());
    ex.add::<hid::resend_aadhaar_otp::Endpoint>(hid::resend_aadhaar_otp::Body {
        txn_id: txn.clone(),
    });
    ex.add::<hid::verify_otp::Endpoint>(hid::OtpBody {
        otp: "482913".into(),
        txn_id: txn.clone(),
    });
    ex.response::<hid::verify_otp::Endpoint, _>(txn_response.clone());
    ex.add::<hid::generate_mobile_otp::Endpoint>(hid::generate_mobile_otp::Body {
        mobile: "9876543210".into(),
        txn_id: txn.clone(),
    });
    ex.add_as::<hid::check_and_generate_mobile_otp::Endpoint>(
        hid::generate_mobile_otp::Body {
            mobile: "9876543210".into(),
            txn_id: txn.clone(),
        },
        Some(hid::generate_mobile_otp::Endpoint::PATH),
    );
    ex.add::<hid::verify_mobile_otp::Endpoint>(hid::OtpBody {
        otp: "271828".into(),
        txn_id: txn.clone(),
    });
    ex.add::<hid::create_health_id_with_pre_verified::Endpoint>(
        hid::create_health_id_with_pre_verified::Body {
            txn_id: txn.clone(),
            health_id: Some("asha.kumari".into()),
            email: Some("asha@example.in".into()),
            first_name: Some("Asha".into()),
            ..Default::default()
        },
    );
    let profile = hid::Profile {
        health_id_number: Some("91-1234-5678-9012".into()),
        health_id: Some("asha.kumari@sbx".into()),
        name: Some("Asha Kumari".into()),
        first_name: Some("Asha".into()),
        last_name: Some("Kumari".into()),
        gender: Some("F".into()),
        year_of_birth: Some("1990".into()),
        month_of_birth: Some("4".into()),
        day_of_birth: Some("12".into()),
        mobile: Some("9876543210".into()),
        district_name: Some("Pune".into()),
        state_name: Some("Maharashtra".into()),
        auth_methods: vec![hid::AuthMethod::AadhaarOtp, hid::AuthMethod::MobileOtp],
        new: Some(true),
        token: Some("eyJ.x-token.sig".into()),
        ..Default::default()
    };
    ex.response::<hid::create_health_id_with_pre_verified::Endpoint, _>(profile.clone());
    ex.add::<hid::search_by_health_id::Endpoint>(hid::search_by_health_id::Body {
        health_id: "91-1234-5678-9012".into(),
    });
    ex.response::<hid::search_by_health_id::Endpoint, _>(hid::search_by_health_id::Response {
        auth_methods: vec![hid::AuthMethod::AadhaarOtp, hid::AuthMethod::MobileOtp],
        health_id: Some("asha.kumari@sbx".into()),
        health_id_number: Some("91-1234-5678-9012".into()),
        name: Some("Asha Kumari".into()),
        status: Some("ACTIVE".into()),
    });
    ex.add::<hid::auth_init::Endpoint>(hid::auth_init::Body {
        auth_method: hid::AuthMethod::MobileOtp,
        health_id: "asha.kumari@sbx".into(),
    });
    ex.add::<hid::confirm_with_aadhaar_otp::Endpoint>(hid::OtpBody {
        otp: "482913".into(),
        txn_id: txn.clone(),
    });
    ex.response::<hid::confirm_with_aadhaar_otp::Endpoint, _>(hid::TokenResponse {
        token: "eyJ.x.sig".into(),
        refresh_token: None,
    });
    ex.add::<hid::confirm_with_mobile_otp::Endpoint>(hid::OtpBody {
        otp: "271828".into(),
        txn_id: txn,
    });
    ex.response::<hid::account_profile::Endpoint, _>(hid::Profile {
        new: None,
        token: None,
        ..profile
    });
}

#[test]
fn every_example_matches_nha_openapi() {
    let mut ex = Examples::default();
    v0_5_examples(&mut ex);
    healthid_examples(&mut ex);
    v3_examples::add(&mut ex);

    let (summary, output) = validate(&ex.lines);
    // Every example has a schema in NHA's specs: none may be skipped.
    assert_eq!(
        summary,
        format!("{} passed, 0 failed, 0 skipped", ex.lines.len()),
        "{output}"
    );
}

/// Runs the validator over `lines`; returns its closing summary and whole output.
fn validate(lines: &[Value]) -> (String, String) {
    let dir = std::env::temp_dir().join(format!(
        "abdm-contract-{}-{}",
        std::process::id(),
        Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("examples.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let python = std::env::var("ABDM_PYTHON").unwrap_or_else(|_| "python3".into());
    let validator = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
        .join("../../tools/openapi_validate.py");
    let output = Command::new(&python)
        .arg(&validator)
        .arg(shared_dir().join("abdm-openapi"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (run scripts/setup): {e}"));
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let summary = stdout.lines().last().unwrap_or_default().to_string();
    (summary, stdout + &String::from_utf8_lossy(&output.stderr))
}

#[test]
fn the_v3_check_refuses_what_nha_refuses_and_forgives_only_its_listed_quirks() {
    let request_id = Uuid::new_v4().to_string();
    let line = |path: &str, headers: &[&str], body: Value| {
        serde_json::json!({"method": "POST", "path": path, "kind": "request",
            "headers": headers, "body": body})
    };
    let linking = serde_json::json!({"abhaAddress": "asha@sbx", "patient": [{"referenceNumber": "P1",
        "display": "Asha", "careContexts": [{"referenceNumber": "C1", "display": "Visit"}],
        "hiTypes": "Prescription", "count": 1}]});
    let bad = [
        // The link token's header left out.
        line(
            v3::hip_linking::carecontext::Endpoint::PATH,
            &["REQUEST-ID", "TIMESTAMP", "X-CM-ID", "X-HIP-ID"],
            linking.clone(),
        ),
        // Neither the consent request nor an error: not an either/or quirk.
        line(
            v3::consent::on_init::Endpoint::PATH,
            v3::consent::on_init::Endpoint::HEADERS,
            serde_json::json!({"response": {"requestId": request_id}}),
        ),
        // An error code outside ABDM's pattern.
        line(
            v3::consent::on_init::Endpoint::PATH,
            v3::consent::on_init::Endpoint::HEADERS,
            serde_json::json!({"error": {"code": "OOPS", "message": "x"},
                "response": {"requestId": request_id}}),
        ),
        // A HI type NHA does not list.
        line(
            v3::hip_linking::carecontext::Endpoint::PATH,
            v3::hip_linking::carecontext::Endpoint::HEADERS,
            serde_json::json!({"abhaAddress": "asha@sbx", "patient": [{"referenceNumber": "P1",
                "display": "Asha", "careContexts": [], "hiTypes": "XRay", "count": 1}]}),
        ),
    ];
    let (summary, output) = validate(&bad);
    assert_eq!(summary, "0 passed, 4 failed, 0 skipped", "{output}");
    assert!(
        output.contains("required header X-LINK-TOKEN missing"),
        "{output}"
    );

    // What the gateway sends: one side of an either/or body, and a REVOKED notice without detail.
    let good = [
        line(
            v3::hip_linking::carecontext::Endpoint::PATH,
            v3::hip_linking::carecontext::Endpoint::HEADERS,
            linking,
        ),
        line(
            v3::consent::on_init::Endpoint::PATH,
            v3::consent::on_init::Endpoint::HEADERS,
            serde_json::json!({"error": {"code": "ABDM-1051: ", "message": "Invalid ABHA"},
                "response": {"requestId": request_id}}),
        ),
        line(
            v3::consent::hip_notify::Endpoint::PATH,
            v3::consent::hip_notify::Endpoint::HEADERS,
            serde_json::json!({"notification": {"status": "REVOKED",
                "consentId": Uuid::new_v4().to_string()}}),
        ),
    ];
    let (summary, output) = validate(&good);
    assert_eq!(summary, "3 passed, 0 failed, 0 skipped", "{output}");
    // …but a GRANTED one must carry its artefact.
    let (summary, output) = validate(&[line(
        v3::consent::hip_notify::Endpoint::PATH,
        v3::consent::hip_notify::Endpoint::HEADERS,
        serde_json::json!({"notification": {"status": "GRANTED",
            "consentId": Uuid::new_v4().to_string()}}),
    )]);
    assert_eq!(summary, "0 passed, 1 failed, 0 skipped", "{output}");
}

#[test]
fn callbacks_read_what_the_live_gateway_sends() {
    // A numeric v0.5 error code, a naive timestamp and no result object (reference notes, B.1).
    let raw = r#"{"requestId":"5f7a535d-a3fd-416b-b069-c97d021fbacd","timestamp":"2022-05-15T15:16:48.277264",
        "auth":null,"error":{"code":1441,"message":"Invalid auth confirm request."},
        "resp":{"requestId":"3e2ea6e4-0f2b-4e3a-9d0d-9d6e1c0f8f11"}}"#;
    let cb: Callback<user_auth::on_confirm::Body> = serde_json::from_str(raw).unwrap();
    assert!(cb.body.auth.is_none());
    assert_eq!(cb.error.unwrap().code.normalized(), "1441");
    assert_eq!(cb.timestamp.to_string(), "2022-05-15T15:16:48.277Z");

    // The string form with ABDM's trailing colon.
    let raw = r#"{"requestId":"5f7a535d-a3fd-416b-b069-c97d021fbacd","timestamp":"2026-11-24T10:00:00Z",
        "error":{"code":"ABDM-1027: ","message":"You are blocked."},"resp":{"requestId":"3e2ea6e4-0f2b-4e3a-9d0d-9d6e1c0f8f11"}}"#;
    let cb: Callback<user_auth::on_init::Body> = serde_json::from_str(raw).unwrap();
    assert_eq!(cb.error.unwrap().code.normalized(), "ABDM-1027");

    // A callback without `resp` is not one of ours to correlate: refuse it.
    let raw = r#"{"requestId":"5f7a535d-a3fd-416b-b069-c97d021fbacd","timestamp":"2026-11-24T10:00:00Z"}"#;
    assert!(serde_json::from_str::<Callback<user_auth::on_init::Body>>(raw).is_err());
}

#[test]
fn operations_name_their_callbacks() {
    assert_eq!(
        user_auth::fetch_modes::Endpoint::CALLBACK,
        Some(user_auth::on_fetch_modes::Endpoint::PATH)
    );
    assert_eq!(
        consent_requests::init::Endpoint::CALLBACK,
        Some(consent_requests::on_init::Endpoint::PATH)
    );
    assert_eq!(
        health_information::cm_request::Endpoint::CALLBACK,
        Some(health_information::hiu_on_request::Endpoint::PATH)
    );
    assert_eq!(
        health_information::hip_request::Endpoint::SERVER,
        Server::Bridge
    );
}
