//! Step transitions with a fake gateway (no network, no relay): each answer moves a flow to its
//! next step or ends it; answers that fit nothing are parked, not lost; a later reader replays
//! them. The fake records every call the desk would make.

use std::sync::{Arc, Mutex};

use abdm::ids::{Aadhaar, AbhaId, Mobile};
use abdm::qr::{AbhaQr, DateOfBirth};
use abdm::AbdmError;
use desk_core::gateway::{
    AbhaAccount, AbhaService, Acting, Answer, AuthMode, Call, EnrolStep, Event, Found, Gateway,
    Generation, LoginMethod, Outgoing, Prepared, Txn,
};
use desk_core::{Desk, DeskConfig, Environment};
use desk_store::{MemorySecrets, Secret, Store};
use relay_client::{Delivery, MessageKind};
use serde_json::{json, Value};
use uuid::Uuid;

/// A gateway that records calls and reads a tiny test format: `{"inReplyTo", "answer": …}`.
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<(Uuid, Call)>>,
    sent: Mutex<Vec<Uuid>>,
    /// While false, `read` does not understand `/later` (as an older version would not).
    knows_later: Mutex<bool>,
}

struct NoAbha;

fn unsupported() -> AbdmError {
    AbdmError::Unexpected {
        what: "fake".into(),
        detail: "not in this test".into(),
    }
}

impl AbhaService for NoAbha {
    async fn enrol_request_otp(&self, _: &Aadhaar) -> Result<Txn, AbdmError> {
        Err(unsupported())
    }
    async fn enrol_resend_otp(&self, _: &Txn) -> Result<Txn, AbdmError> {
        Err(unsupported())
    }
    async fn login_mobile_request_otp(&self, _: &Mobile) -> Result<Txn, AbdmError> {
        Err(unsupported())
    }
    async fn login_mobile_verify_otp(
        &self,
        _: &Txn,
        _: &str,
    ) -> Result<Vec<desk_core::gateway::AccountChoice>, AbdmError> {
        Err(unsupported())
    }
    async fn login_mobile_choose(&self, _: &Txn, _: &str) -> Result<AbhaAccount, AbdmError> {
        Err(unsupported())
    }
    async fn login_aadhaar_request_otp(&self, _: &Aadhaar) -> Result<Txn, AbdmError> {
        Err(unsupported())
    }
    async fn enrol_verify_aadhaar_otp(
        &self,
        _: &Txn,
        _: &str,
        _: &Mobile,
    ) -> Result<EnrolStep, AbdmError> {
        Err(unsupported())
    }
    async fn enrol_verify_mobile_otp(&self, _: &Txn, _: &str) -> Result<(), AbdmError> {
        Err(unsupported())
    }
    async fn enrol_address_suggestions(&self, _: &Txn) -> Result<Vec<String>, AbdmError> {
        Err(unsupported())
    }
    async fn enrol_finish(&self, _: &Txn, _: Option<&str>) -> Result<AbhaAccount, AbdmError> {
        Err(unsupported())
    }
    async fn search(&self, _: &AbhaId) -> Result<Option<Found>, AbdmError> {
        Err(unsupported())
    }
    async fn login_request_otp(&self, _: &AbhaId, _: LoginMethod) -> Result<Txn, AbdmError> {
        Err(unsupported())
    }
    async fn login_verify_otp(
        &self,
        _: &Txn,
        _: &str,
        _: LoginMethod,
    ) -> Result<AbhaAccount, AbdmError> {
        Err(unsupported())
    }
}

static NO_ABHA: NoAbha = NoAbha;

impl Gateway for Fake {
    type Abha = NoAbha;
    fn generation(&self) -> Generation {
        Generation::V05
    }
    fn prepare(&self, call: &Call, request_id: Uuid) -> Prepared {
        self.calls.lock().unwrap().push((request_id, call.clone()));
        Prepared::new("/fake", json!({"call": format!("{call:?}")}), Acting::None)
    }
    async fn send(&self, _: &Prepared, out: Outgoing) -> Result<(), AbdmError> {
        self.sent.lock().unwrap().push(out.request_id);
        Ok(())
    }
    fn read(&self, path: &str, _: Option<&str>, body: &Value) -> Result<Event, String> {
        if path == "/later" && !*self.knows_later.lock().unwrap() {
            return Err("this version does not know /later".into());
        }
        let in_reply_to: Uuid =
            serde_json::from_value(body["inReplyTo"].clone()).map_err(|e| e.to_string())?;
        let answer = match body["answer"].as_str() {
            Some("modes") => Answer::AuthModes(
                serde_json::from_value::<Vec<String>>(body["modes"].clone())
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|m| match m.as_str() {
                        "DEMOGRAPHICS" => AuthMode::Demographics,
                        "AADHAAR_OTP" => AuthMode::AadhaarOtp,
                        _ => AuthMode::MobileOtp,
                    })
                    .collect(),
            ),
            Some("started") => Answer::AuthStarted {
                transaction_id: body["txn"].as_str().unwrap_or_default().into(),
            },
            Some("confirmed") => Answer::AuthConfirmed {
                link_token: body["token"].as_str().map(Secret::new),
            },
            Some("refused") => Answer::Refused {
                code: body["code"].as_str().unwrap_or_default().into(),
                message: "no".into(),
            },
            other => return Err(format!("unknown answer {other:?}")),
        };
        Ok(Event::Answer {
            in_reply_to,
            answer,
        })
    }
    fn abha(&self) -> &NoAbha {
        &NO_ABHA
    }
    async fn check_credentials(&self) -> Result<(), AbdmError> {
        Ok(())
    }
    async fn register_facility(&self, _: &str, _: &str) -> Result<(), AbdmError> {
        Ok(())
    }
    async fn register_bridge(&self, _: &str) -> Result<(), AbdmError> {
        Ok(())
    }
    fn page_body(&self, _: &desk_core::gateway::hip::DataPage) -> Value {
        Value::Null
    }
}

struct World {
    desk: Desk<Fake>,
    seq: u64,
    _dir: testkit::TempDir,
}

impl World {
    fn new() -> Self {
        let dir = testkit::TempDir::new("steps");
        let secrets = Arc::new(MemorySecrets::default());
        let store = Arc::new(Store::open(&dir.0.join("desk"), &secrets).unwrap());
        let desk = Desk::new(
            DeskConfig::new(Environment::EmbeddedSandbox, "IN-TEST"),
            store,
            secrets,
            Arc::new(Fake::default()),
        );
        Self {
            desk,
            seq: 0,
            _dir: dir,
        }
    }

    fn last_call(&self) -> (Uuid, Call) {
        self.desk
            .gateway()
            .calls
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap()
    }

    fn deliver(&mut self, path: &str, body: Value) {
        self.seq += 1;
        self.desk
            .apply(&Delivery {
                seq: self.seq,
                id: self.seq * 7,
                received_at: "2026-12-01T10:00:00.000Z".into(),
                path: path.into(),
                service_id: None,
                kind: MessageKind::Gateway,
                request_id: None,
                body: Ok(body),
            })
            .unwrap();
    }

    fn states(&self) -> Vec<&'static str> {
        self.desk
            .outbox()
            .unwrap()
            .iter()
            .map(|r| r.state)
            .collect()
    }
}

fn card() -> AbhaQr {
    AbhaQr {
        abha_number: Some("91-1234-5678-9012".into()),
        abha_address: Some("asha.kumari@sbx".into()),
        name: "Asha Kumari".into(),
        gender: "F".into(),
        date_of_birth: DateOfBirth {
            year: Some(1990),
            month: Some(4),
            day: Some(12),
            text: None,
        },
        state_lgd: None,
        district_lgd: None,
        state: None,
        district: None,
        mobile: None,
        mobile_masked: false,
        address: None,
    }
}

#[test]
fn scan_and_pull_goes_modes_then_init_then_confirm_then_keeps_the_token() {
    let mut w = World::new();
    w.desk.scan_and_pull(&card()).unwrap();
    let (id, call) = w.last_call();
    assert_eq!(
        call,
        Call::FetchModes {
            abha: "asha.kumari@sbx".into()
        }
    );
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "modes", "modes": ["DEMOGRAPHICS", "MOBILE_OTP"]}),
    );
    let (id, call) = w.last_call();
    assert_eq!(
        call,
        Call::AuthInit {
            abha: "asha.kumari@sbx".into(),
            mode: AuthMode::Demographics
        }
    );
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "started", "txn": "T-1"}),
    );
    let (id, call) = w.last_call();
    let Call::ConfirmDemographics {
        transaction_id,
        name,
        date_of_birth,
        ..
    } = call
    else {
        panic!("{call:?}")
    };
    assert_eq!(
        (
            transaction_id.as_str(),
            name.as_str(),
            date_of_birth.as_str()
        ),
        ("T-1", "Asha Kumari", "1990-04-12")
    );
    // A linking token with an expiry an hour away.
    let exp = chrono::Utc::now().timestamp() + 3600;
    let payload = base64_url(&json!({"exp": exp}).to_string());
    let token = format!("e30.{payload}.c2ln");
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "confirmed", "token": token}),
    );
    assert_eq!(w.states(), vec!["done", "done", "done"]);
    assert!(
        w.desk
            .abha("91-1234-5678-9012")
            .unwrap()
            .unwrap()
            .can_link_records
    );
    // The same answer again (a redelivery) finds nothing waiting: ignored and audited.
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "confirmed", "token": "x"}),
    );
    assert!(w
        .desk
        .audit_log()
        .unwrap()
        .iter()
        .any(|a| a.action.contains("answer for no waiting request")));
    assert!(w.desk.parked().unwrap().is_empty());
}

#[test]
fn an_abha_without_demographic_auth_asks_for_an_otp_and_a_refusal_fails_the_step() {
    let mut w = World::new();
    let patient = w.desk.scan_and_pull(&card()).unwrap();
    let (id, _) = w.last_call();
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "modes", "modes": ["MOBILE_OTP"]}),
    );
    // No card check: an OTP to the ABHA's mobile instead, which the receptionist types.
    assert_eq!(w.states(), vec!["done", "queued"]);
    let (id, call) = w.last_call();
    assert!(
        matches!(
            call,
            Call::AuthInit {
                mode: AuthMode::MobileOtp,
                ..
            }
        ),
        "{call:?}"
    );
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "started", "txn": "T-OTP"}),
    );
    let abha = w.desk.abha("91-1234-5678-9012").unwrap().unwrap();
    assert!(abha.waiting_for_otp);
    let short = w.desk.confirm_linking_otp(patient.id, "12").unwrap_err();
    assert!(short.to_string().contains("OTP"), "{short}");
    w.desk.confirm_linking_otp(patient.id, "123456").unwrap();
    let (_, call) = w.last_call();
    assert!(
        matches!(&call, Call::ConfirmOtp { transaction_id, .. } if transaction_id == "T-OTP"),
        "{call:?}"
    );
    assert!(
        !w.desk
            .abha("91-1234-5678-9012")
            .unwrap()
            .unwrap()
            .waiting_for_otp
    );

    // Modes the desk cannot use: it stops and says so.
    w.desk.scan_and_pull(&card()).unwrap();
    let (id, _) = w.last_call();
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "modes", "modes": ["AADHAAR_OTP"]}),
    );
    assert!(w
        .desk
        .audit_log()
        .unwrap()
        .iter()
        .any(|a| a.action.contains("allows no verification the desk can do")));

    w.desk.scan_and_pull(&card()).unwrap();
    let (id, _) = w.last_call();
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "refused", "code": "ABDM-1114"}),
    );
    let row = w.desk.outbox().unwrap().pop().unwrap();
    assert_eq!(row.state, "failed");
    assert!(row.words.contains("No ABHA exists"), "{}", row.words);
}

#[test]
fn an_answer_that_fits_no_step_and_an_unknown_message_are_parked_with_their_seq_committed() {
    let mut w = World::new();
    w.desk.scan_and_pull(&card()).unwrap();
    let (id, _) = w.last_call();
    // A "started" answer to a fetch-modes request does not fit.
    w.deliver(
        "/x",
        json!({"inReplyTo": id, "answer": "started", "txn": "T"}),
    );
    w.deliver(
        "/later",
        json!({"inReplyTo": id, "answer": "modes", "modes": ["DEMOGRAPHICS"]}),
    );
    w.seq += 1;
    w.desk
        .apply(&Delivery {
            seq: w.seq,
            id: 1,
            received_at: "2026-12-01T10:00:00.000Z".into(),
            path: "/x".into(),
            service_id: None,
            kind: MessageKind::Gateway,
            request_id: None,
            body: Err("the sealed message does not open with this clinic's key".into()),
        })
        .unwrap();
    let parked = w.desk.parked().unwrap();
    assert_eq!(parked.len(), 3, "{parked:?}");
    assert!(
        parked[0].reason.contains("does not fit"),
        "{}",
        parked[0].reason
    );
    assert!(
        parked[1].reason.contains("does not know"),
        "{}",
        parked[1].reason
    );
    assert_eq!(
        w.desk.relay_committed().unwrap().seq,
        3,
        "never offered again"
    );
    // Nothing changed for the parked answer: the request still waits.
    assert_eq!(w.states(), vec!["queued"]);
    // A later version understands `/later`: replaying applies it.
    *w.desk.gateway().knows_later.lock().unwrap() = true;
    assert_eq!(w.desk.replay_parked().unwrap(), 1);
    assert_eq!(w.desk.parked().unwrap().len(), 2);
    let (_, call) = w.last_call();
    assert!(matches!(call, Call::AuthInit { .. }), "{call:?}");
}

#[test]
fn secrets_never_show_in_debug_output() {
    let otp = Call::ConfirmOtp {
        transaction_id: "T".into(),
        otp: Secret::new("493817"),
    };
    let token = Call::AddContexts {
        link_token: Secret::new("eyJ.secret-link-token.sig"),
        abha_number: None,
        abha_address: None,
        patient_reference: "P".into(),
        display: "D".into(),
        contexts: vec![],
    };
    for shown in [format!("{otp:?}"), format!("{token:?}")] {
        assert!(
            !shown.contains("493817") && !shown.contains("secret-link-token"),
            "{shown}"
        );
    }
    let prepared = Prepared {
        link_token: Some("eyJ.secret-link-token.sig".into()),
        ..Prepared::new(
            "/v0.5/users/auth/confirm",
            json!({"credential": {"authCode": "493817"}}),
            Acting::None,
        )
    };
    let shown = format!("{prepared:?}");
    assert!(!shown.contains("493817") && !shown.contains("secret-link-token"));
    let aadhaar = Aadhaar::parse(&abdm_sandbox::aadhaar_with_check("82345678901")).unwrap();
    assert!(!format!("{aadhaar:?}").contains("8234567890"));
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
