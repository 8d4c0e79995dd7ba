//! `desk-core`: the clinic's desk without a window.
//!
//! * **Flows** (M1): register a patient (works offline), create an ABHA with Aadhaar OTP and the
//!   mobile branch, link an existing ABHA with mobile or Aadhaar OTP, scan-and-pull from an ABHA QR
//!   (fetch-modes → init → confirm with demographics → linking token), scan-and-share (a patient scans
//!   the counter QR; we answer with today's token number), facility and bridge registration.
//! * **Outbox**: every asynchronous ABDM call is stored first, with its REQUEST-ID fixed, and sent in
//!   order by [`Desk::run_outbox`]; a retry is the same request. Its state is what the receptionist
//!   sees: queued, sent, waiting for ABDM, done, failed with the reason.
//! * **Sync engine**: [`Desk::run_sync`] consumes the relay stream; each message is applied in one
//!   atomic store write together with its sequence number, so a crash anywhere applies it exactly
//!   once. Callbacks find their flow through the pending request stored under their `resp.requestId`.
//! * Input is checked before any network call ([`abdm::ids`]).

pub mod gateway;

use std::sync::Arc;
use std::time::Duration;

use abdm::healthid_v1 as hid;
use abdm::ids::{Aadhaar, AbhaId, IdError, Mobile};
use abdm::{AbdmError, AuthMode};
use desk_store::{
    AbhaProfile, HealthFacility, OutboxItem, OutboxState, Patient, Pending, Store, StoreError,
    Writer,
};
use relay_client::{Connection, Consumer, ConsumerError, Delivery};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

pub use gateway::{Call, Event, Gateway, SharedProfile, V05};

/// Errors in plain words for the desk.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("{0}")]
    Invalid(#[from] IdError),
    #[error("ABDM cannot be reached right now ({0}); try again when the connection is back")]
    Offline(String),
    #[error("ABDM said no: {message}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused {
        code: Option<String>,
        message: String,
    },
    #[error("this ABHA ({abha}) already belongs to another patient here: {other}")]
    AlreadyLinked { abha: String, other: String },
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AbdmError> for DeskError {
    fn from(e: AbdmError) -> Self {
        match e {
            AbdmError::Rejected { code, message, .. } => DeskError::Refused { code, message },
            AbdmError::Unreachable { detail, .. } => DeskError::Offline(detail),
            AbdmError::Unexpected { detail, .. } => DeskError::Refused {
                code: None,
                message: detail,
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, DeskError>;

/// Whether ABDM answers, as the desk last saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reachability {
    Unknown,
    Online,
    Offline { reason: String },
}

/// The connectivity the UI shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub relay: Connection,
    pub abdm: Reachability,
}

/// A patient typed in at the desk.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewPatient {
    pub name: String,
    pub gender: String,
    pub year_of_birth: Option<i32>,
    pub month_of_birth: Option<u32>,
    pub day_of_birth: Option<u32>,
    pub mobile: Option<String>,
    pub address: Option<String>,
}

/// What an ABHA QR code carries (parsed by the scan crate; here in the flows' terms).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QrProfile {
    pub abha_number: String,
    pub abha_address: Option<String>,
    pub name: String,
    pub gender: String,
    pub year_of_birth: Option<i32>,
    pub month_of_birth: Option<u32>,
    pub day_of_birth: Option<u32>,
    pub mobile: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
}

/// Pending steps (stored with each request so a restart continues where it was).
mod step {
    pub const PULL_MODES: &str = "pull:modes";
    pub const PULL_INIT: &str = "pull:init";
    pub const PULL_CONFIRM: &str = "pull:confirm";
}

pub struct Desk<G: Gateway> {
    /// How long to wait for ABDM's callback before telling the receptionist it did not come (ABDM
    /// redelivers a callback once, about 16 minutes late).
    answer_timeout: Duration,
    store: Arc<Store>,
    gateway: Arc<G>,
    /// The consent manager's ABHA-address suffix (`sbx`, `abdm`).
    cm_suffix: String,
    outbox_wake: Arc<Notify>,
    status: watch::Sender<Status>,
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

fn gender_of(text: &str) -> abdm::Gender {
    match text.trim().to_ascii_uppercase().chars().next() {
        Some('M') => abdm::Gender::M,
        Some('F') => abdm::Gender::F,
        Some('O') => abdm::Gender::O,
        _ => abdm::Gender::U,
    }
}

fn date_of_birth(y: Option<i32>, m: Option<u32>, d: Option<u32>) -> String {
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
        (Some(y), _, _) => format!("{y:04}"),
        _ => String::new(),
    }
}

impl<G: Gateway> Desk<G> {
    pub fn new(store: Arc<Store>, gateway: Arc<G>, cm_suffix: impl Into<String>) -> Self {
        let (status, _) = watch::channel(Status {
            relay: Connection::Connecting,
            abdm: Reachability::Unknown,
        });
        Self {
            answer_timeout: Duration::from_secs(20 * 60),
            store,
            gateway,
            cm_suffix: cm_suffix.into(),
            outbox_wake: Arc::new(Notify::new()),
            status,
        }
    }

    /// Changes how long the desk waits for ABDM's answers (default 20 minutes).
    pub fn with_answer_timeout(mut self, timeout: Duration) -> Self {
        self.answer_timeout = timeout;
        self
    }

    /// Marks requests ABDM never answered as failed, in plain words; a late answer is then logged
    /// and ignored. Returns how many gave up.
    pub fn expire_unanswered(&self) -> Result<usize> {
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(self.answer_timeout).unwrap_or(chrono::Duration::MAX);
        let overdue: Vec<Pending> = self
            .store
            .pendings()?
            .into_iter()
            .filter(|p| {
                chrono::DateTime::parse_from_rfc3339(&p.created_at)
                    .map(|t| t < cutoff)
                    .unwrap_or(false)
            })
            .collect();
        for p in &overdue {
            // Only requests that were sent: a queued one is still waiting for the network, not ABDM.
            let sent = p
                .outbox_id
                .and_then(|id| self.store.outbox_item(id).ok().flatten())
                .is_some_and(|i| i.state != OutboxState::Queued);
            if !sent {
                continue;
            }
            let minutes = self.answer_timeout.as_secs().div_ceil(60);
            self.store.write(|w| -> Result<()> {
                let reason =
                    format!("ABDM did not answer within {minutes} minutes; start this step again");
                Self::finish_outbox(
                    w,
                    p,
                    OutboxState::Failed {
                        reason: reason.clone(),
                    },
                )?;
                w.audit("ABDM did not answer", reason, p.patient_id)?;
                Ok(())
            })?;
        }
        Ok(overdue.len())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    fn set_abdm(&self, abdm: Reachability) {
        self.status.send_modify(|s| s.abdm = abdm);
    }

    /// Queues a call in the same write as the flow's other changes.
    fn enqueue(
        &self,
        w: &mut Writer<'_>,
        call: &Call,
        label: String,
        patient_id: Option<Uuid>,
        pending: Option<(&str, serde_json::Value)>,
    ) -> Result<Uuid> {
        let request_id = Uuid::new_v4();
        let prepared = self.gateway.prepare(call, request_id);
        let outbox_id = w.enqueue(OutboxItem {
            id: 0,
            request_id,
            path: prepared.path,
            acting: prepared.acting,
            body: prepared.body,
            label,
            patient_id,
            state: OutboxState::Queued,
            attempts: 0,
            last_error: None,
            created_at: desk_store::now(),
        })?;
        if let Some((step, context)) = pending {
            w.put_pending(&Pending {
                request_id,
                step: step.into(),
                patient_id,
                outbox_id: Some(outbox_id),
                context,
                created_at: desk_store::now(),
            });
        }
        Ok(request_id)
    }

    fn finish_outbox(w: &mut Writer<'_>, pending: &Pending, outcome: OutboxState) -> Result<()> {
        if let Some(id) = pending.outbox_id {
            if let Some(mut item) = w.outbox_item(id)? {
                item.state = outcome;
                w.put_outbox_item(&item);
            }
        }
        w.remove_pending(pending.request_id);
        Ok(())
    }

    // ----- Registration (local, works offline) -----

    /// Saves a walk-in patient at once; nothing needs ABDM.
    pub fn register_patient(&self, input: NewPatient) -> Result<Patient> {
        if input.name.trim().is_empty() {
            return Err(DeskError::NotFound("the patient's name is required".into()));
        }
        let mobile = input
            .mobile
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .map(Mobile::parse)
            .transpose()?;
        let now = desk_store::now();
        let patient = Patient {
            id: Uuid::new_v4(),
            name: input.name.trim().to_string(),
            gender: format!("{:?}", gender_of(&input.gender)),
            year_of_birth: input.year_of_birth,
            month_of_birth: input.month_of_birth,
            day_of_birth: input.day_of_birth,
            mobile: mobile.map(|m| m.digits().to_string()),
            abha_number: None,
            abha_address: None,
            address: input.address,
            district: None,
            state: None,
            pincode: None,
            created_at: now.clone(),
            updated_at: now,
        };
        self.store.write(|w| -> Result<()> {
            w.put_patient(&patient)?;
            w.audit("patient registered", &patient.name, Some(patient.id))?;
            Ok(())
        })?;
        Ok(patient)
    }

    /// Scan and pull: the ABHA card's QR code. The patient is saved (or updated) at once, offline
    /// too; verifying the ABHA with ABDM (fetch-modes → init → confirm → linking token) is queued.
    pub fn scan_and_pull(&self, qr: QrProfile) -> Result<Patient> {
        let number = abdm::ids::AbhaNumber::parse(&qr.abha_number)?;
        let address = qr
            .abha_address
            .as_deref()
            .map(|a| abdm::ids::AbhaAddress::parse(a, &self.cm_suffix))
            .transpose()?;
        let mobile = qr.mobile.as_deref().and_then(|m| Mobile::parse(m).ok());
        let id_for_abdm = address
            .as_ref()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| number.dashed().to_string());
        let patient = self.store.write(|w| -> Result<Patient> {
            let now = desk_store::now();
            let mut patient = match w.patient_by_abha(number.dashed())? {
                Some(p) => p,
                None => Patient::new(qr.name.clone()),
            };
            patient.name = qr.name.trim().to_string();
            patient.gender = format!("{:?}", gender_of(&qr.gender));
            patient.year_of_birth = qr.year_of_birth.or(patient.year_of_birth);
            patient.month_of_birth = qr.month_of_birth.or(patient.month_of_birth);
            patient.day_of_birth = qr.day_of_birth.or(patient.day_of_birth);
            patient.mobile = mobile
                .as_ref()
                .map(|m| m.digits().to_string())
                .or(patient.mobile.clone());
            patient.abha_number = Some(number.dashed().to_string());
            patient.abha_address = address
                .as_ref()
                .map(|a| a.as_str().to_string())
                .or(patient.abha_address.clone());
            patient.district = qr.district.clone().or(patient.district.clone());
            patient.state = qr.state.clone().or(patient.state.clone());
            patient.updated_at = now.clone();
            w.put_patient(&patient)?;
            let mut profile = w.abha_profile(number.dashed())?.unwrap_or_default();
            profile.abha_number = number.dashed().to_string();
            profile.abha_address = patient.abha_address.clone();
            profile.patient_id = Some(patient.id);
            profile.name = Some(patient.name.clone());
            profile.gender = Some(patient.gender.clone());
            profile.date_of_birth = Some(date_of_birth(
                patient.year_of_birth,
                patient.month_of_birth,
                patient.day_of_birth,
            ));
            profile.mobile = patient.mobile.clone();
            profile.district = patient.district.clone();
            profile.state = patient.state.clone();
            profile.updated_at = now;
            w.put_abha_profile(&profile);
            self.enqueue(
                w,
                &Call::FetchModes {
                    abha: id_for_abdm.clone(),
                },
                format!("Verify the ABHA of {} with ABDM", patient.name),
                Some(patient.id),
                Some((
                    step::PULL_MODES,
                    serde_json::json!({"abha": id_for_abdm, "number": number.dashed()}),
                )),
            )?;
            w.audit(
                "ABHA QR scanned",
                format!("{} ({})", patient.name, number),
                Some(patient.id),
            )?;
            Ok(patient)
        })?;
        self.outbox_wake.notify_one();
        Ok(patient)
    }

    // ----- Create an ABHA with Aadhaar OTP (patient present, online) -----

    /// Sends the Aadhaar OTP to the Aadhaar-linked mobile; returns the transaction id.
    pub async fn abha_create_start(&self, aadhaar: &str) -> Result<String> {
        let aadhaar = Aadhaar::parse(aadhaar)?;
        let txn: hid::TxnResponse = self
            .gateway
            .abha()
            .call::<hid::generate_otp::Endpoint, _>(
                &hid::generate_otp::Body {
                    aadhaar: aadhaar.digits().into(),
                },
                None,
            )
            .await?;
        Ok(txn.txn_id)
    }

    pub async fn abha_create_verify_aadhaar_otp(&self, txn_id: &str, otp: &str) -> Result<()> {
        let otp = abdm::ids::check_otp(otp)?;
        self.gateway
            .abha()
            .call::<hid::verify_otp::Endpoint, hid::TxnResponse>(
                &hid::OtpBody {
                    otp,
                    txn_id: txn_id.into(),
                },
                None,
            )
            .await?;
        Ok(())
    }

    /// The mobile for the ABHA; returns whether an OTP was sent to it (not when it is the Aadhaar-linked one).
    pub async fn abha_create_set_mobile(&self, txn_id: &str, mobile: &str) -> Result<bool> {
        let mobile = Mobile::parse(mobile)?;
        let answer: hid::TxnResponse = self
            .gateway
            .abha()
            .call::<hid::check_and_generate_mobile_otp::Endpoint, _>(
                &hid::generate_mobile_otp::Body {
                    mobile: mobile.digits().into(),
                    txn_id: txn_id.into(),
                },
                None,
            )
            .await?;
        Ok(answer.mobile_linked != Some(true))
    }

    pub async fn abha_create_verify_mobile_otp(&self, txn_id: &str, otp: &str) -> Result<()> {
        let otp = abdm::ids::check_otp(otp)?;
        self.gateway
            .abha()
            .call::<hid::verify_mobile_otp::Endpoint, hid::TxnResponse>(
                &hid::OtpBody {
                    otp,
                    txn_id: txn_id.into(),
                },
                None,
            )
            .await?;
        Ok(())
    }

    /// Creates the ABHA (or gets the existing one for this Aadhaar) and links it to the patient.
    pub async fn abha_create_finish(
        &self,
        txn_id: &str,
        patient_id: Uuid,
        preferred_address: Option<&str>,
    ) -> Result<AbhaProfile> {
        let preferred = preferred_address
            .map(|a| abdm::ids::AbhaAddress::parse(a, &self.cm_suffix))
            .transpose()?;
        let body = hid::create_health_id_with_pre_verified::Body {
            txn_id: txn_id.into(),
            health_id: preferred
                .map(|a| a.as_str().split('@').next().unwrap_or_default().to_string()),
            ..Default::default()
        };
        let profile: hid::Profile = self
            .gateway
            .abha()
            .call::<hid::create_health_id_with_pre_verified::Endpoint, _>(&body, None)
            .await?;
        let token = profile.token.clone();
        self.attach_profile(patient_id, &profile, token, "ABHA created")
    }

    // ----- Link an existing ABHA (mobile or Aadhaar OTP) -----

    /// Finds an ABHA by number or address; returns its name and the login methods it allows.
    pub async fn link_search(&self, id: &str) -> Result<(String, Vec<hid::AuthMethod>)> {
        let id = AbhaId::parse(id, &self.cm_suffix)?;
        let found: hid::search_by_health_id::Response = self
            .gateway
            .abha()
            .call::<hid::search_by_health_id::Endpoint, _>(
                &hid::search_by_health_id::Body {
                    health_id: id.as_str().into(),
                },
                None,
            )
            .await
            .map_err(|e| match e {
                AbdmError::Rejected { status: 404, .. } => {
                    DeskError::NotFound(format!("no ABHA {} exists", id.as_str()))
                }
                other => other.into(),
            })?;
        Ok((found.name.unwrap_or_default(), found.auth_methods))
    }

    /// Sends an OTP to the ABHA's mobile (or Aadhaar-linked mobile); returns the transaction id.
    pub async fn link_start(&self, id: &str, method: AuthMode) -> Result<String> {
        let id = AbhaId::parse(id, &self.cm_suffix)?;
        let auth_method = match method {
            AuthMode::AadhaarOtp => hid::AuthMethod::AadhaarOtp,
            _ => hid::AuthMethod::MobileOtp,
        };
        let txn: hid::TxnResponse = self
            .gateway
            .abha()
            .call::<hid::auth_init::Endpoint, _>(
                &hid::auth_init::Body {
                    auth_method,
                    health_id: id.as_str().into(),
                },
                None,
            )
            .await?;
        Ok(txn.txn_id)
    }

    /// Confirms with the OTP, reads the ABHA profile and links it to the patient.
    pub async fn link_finish(
        &self,
        txn_id: &str,
        otp: &str,
        method: AuthMode,
        patient_id: Uuid,
    ) -> Result<AbhaProfile> {
        let otp = abdm::ids::check_otp(otp)?;
        let body = hid::OtpBody {
            otp,
            txn_id: txn_id.into(),
        };
        let token: hid::TokenResponse = match method {
            AuthMode::AadhaarOtp => {
                self.gateway
                    .abha()
                    .call::<hid::confirm_with_aadhaar_otp::Endpoint, _>(&body, None)
                    .await?
            }
            _ => {
                self.gateway
                    .abha()
                    .call::<hid::confirm_with_mobile_otp::Endpoint, _>(&body, None)
                    .await?
            }
        };
        let profile: hid::Profile = self
            .gateway
            .abha()
            .call::<hid::account_profile::Endpoint, _>(&(), Some(&token.token))
            .await?;
        self.attach_profile(
            patient_id,
            &profile,
            Some(token.token),
            "existing ABHA linked",
        )
    }

    /// Stores an ABHA profile on a patient, refusing one that belongs to another patient here.
    fn attach_profile(
        &self,
        patient_id: Uuid,
        p: &hid::Profile,
        x_token: Option<String>,
        what: &str,
    ) -> Result<AbhaProfile> {
        let number =
            abdm::ids::AbhaNumber::parse(p.health_id_number.as_deref().unwrap_or_default())?;
        self.store.write(|w| -> Result<AbhaProfile> {
            let mut patient = w
                .patient(patient_id)?
                .ok_or_else(|| DeskError::NotFound("that patient is not registered here".into()))?;
            if let Some(other) = w.patient_by_abha(number.dashed())? {
                if other.id != patient_id {
                    return Err(DeskError::AlreadyLinked {
                        abha: number.dashed().into(),
                        other: other.name,
                    });
                }
            }
            let now = desk_store::now();
            let dob = date_of_birth(
                p.year_of_birth.as_deref().and_then(|y| y.parse().ok()),
                p.month_of_birth.as_deref().and_then(|m| m.parse().ok()),
                p.day_of_birth.as_deref().and_then(|d| d.parse().ok()),
            );
            let profile = AbhaProfile {
                abha_number: number.dashed().into(),
                abha_address: p.health_id.clone(),
                patient_id: Some(patient_id),
                name: p.name.clone(),
                first_name: p.first_name.clone(),
                middle_name: p.middle_name.clone(),
                last_name: p.last_name.clone(),
                gender: p.gender.clone(),
                date_of_birth: Some(dob),
                mobile: p.mobile.clone(),
                email: p.email.clone(),
                address: p.address.clone(),
                district: p.district_name.clone(),
                state: p.state_name.clone(),
                pincode: p.pincode.clone(),
                access_token: x_token,
                linking_token: w
                    .abha_profile(number.dashed())?
                    .and_then(|old| old.linking_token),
                updated_at: now.clone(),
            };
            patient.abha_number = Some(number.dashed().into());
            patient.abha_address = p.health_id.clone();
            if patient.mobile.is_none() {
                patient.mobile = p.mobile.clone();
            }
            patient.updated_at = now;
            w.put_patient(&patient)?;
            w.put_abha_profile(&profile);
            w.audit(
                what,
                format!("{} → {}", patient.name, number),
                Some(patient_id),
            )?;
            Ok(profile)
        })
    }

    // ----- The facility and the bridge -----

    /// Links the clinic's HFR id to our bridge as HIP and HIU, and remembers it.
    pub async fn register_facility(&self, hf_id: &str, name: &str) -> Result<HealthFacility> {
        self.gateway
            .abha()
            .register_facility(
                hf_id,
                name,
                &[abdm::ServiceKind::Hip, abdm::ServiceKind::Hiu],
            )
            .await?;
        self.store.write(|w| -> Result<HealthFacility> {
            let mut f = self.store.facility()?.unwrap_or_default();
            f.hf_id = hf_id.into();
            f.name = name.into();
            f.registered = true;
            w.put_facility(&f);
            w.audit(
                "facility registered with ABDM",
                format!("{name} ({hf_id})"),
                None,
            )?;
            Ok(f)
        })
    }

    /// Registers the relay as our bridge URL with the gateway.
    pub async fn register_bridge(&self, url: &str) -> Result<()> {
        self.gateway.abha().register_bridge(url).await?;
        self.store.write(|w| -> Result<()> {
            let mut f = self.store.facility()?.unwrap_or_default();
            f.bridge_url = Some(url.into());
            f.bridge_registered = true;
            w.put_facility(&f);
            w.audit("bridge URL registered with ABDM", url, None)?;
            Ok(())
        })
    }

    // ----- Outbox -----

    /// Sends queued calls in order, for as long as `stop` is false. A call ABDM refuses for good is
    /// marked failed with the reason; one that cannot get through waits, with growing pauses, and
    /// keeps the queue's order.
    pub async fn run_outbox(&self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(200);
        let mut last_expiry_check = std::time::Instant::now();
        while !*stop.borrow() {
            if last_expiry_check.elapsed() >= self.answer_timeout.min(Duration::from_secs(30)) {
                last_expiry_check = std::time::Instant::now();
                if let Err(e) = self.expire_unanswered() {
                    tracing::error!(error = %e, "cannot check for unanswered requests");
                }
            }
            let next = match self.store.next_queued() {
                Ok(item) => item,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox");
                    None
                }
            };
            let wait = match next {
                None => Duration::from_secs(5).min(self.answer_timeout),
                Some(item) => match self
                    .gateway
                    .send(&item.path, &item.body, &item.acting)
                    .await
                {
                    Ok(()) => {
                        backoff = Duration::from_millis(200);
                        self.set_abdm(Reachability::Online);
                        let result = self
                            .store
                            .write(|w| -> std::result::Result<(), StoreError> {
                                if let Some(mut it) = w.outbox_item(item.id)? {
                                    it.attempts += 1;
                                    it.last_error = None;
                                    it.state = if w.pending(it.request_id)?.is_some() {
                                        OutboxState::WaitingForAbdm {
                                            since: desk_store::now(),
                                        }
                                    } else {
                                        OutboxState::Done {
                                            at: desk_store::now(),
                                        }
                                    };
                                    w.put_outbox_item(&it);
                                }
                                Ok(())
                            });
                        if let Err(e) = result {
                            tracing::error!(error = %e, "cannot record a sent call");
                        }
                        continue;
                    }
                    Err(e) if e.is_retryable() => {
                        self.set_abdm(Reachability::Offline {
                            reason: e.to_string(),
                        });
                        let _ = self
                            .store
                            .write(|w| -> std::result::Result<(), StoreError> {
                                if let Some(mut it) = w.outbox_item(item.id)? {
                                    it.attempts += 1;
                                    it.last_error = Some(e.to_string());
                                    w.put_outbox_item(&it);
                                }
                                Ok(())
                            });
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        backoff
                    }
                    Err(e) => {
                        let reason = DeskError::from(e).to_string();
                        let _ = self
                            .store
                            .write(|w| -> std::result::Result<(), StoreError> {
                                if let Some(mut it) = w.outbox_item(item.id)? {
                                    it.attempts += 1;
                                    it.state = OutboxState::Failed {
                                        reason: reason.clone(),
                                    };
                                    w.put_outbox_item(&it);
                                    w.remove_pending(it.request_id);
                                    w.audit(
                                        "ABDM call failed",
                                        format!("{}: {reason}", it.label),
                                        it.patient_id,
                                    )?;
                                }
                                Ok(())
                            });
                        continue;
                    }
                },
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.outbox_wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    // ----- Sync engine -----

    /// Consumes the relay stream until `stop` turns true (reconnecting as needed).
    pub async fn run_sync(&self, relay: relay_client::ClientConfig, stop: watch::Receiver<bool>) {
        let (tx, mut rx) = watch::channel(Connection::Connecting);
        let status = self.status.clone();
        let forward = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let c = rx.borrow().clone();
                status.send_modify(|s| s.relay = c);
            }
        });
        let mut consumer = SyncConsumer { desk: self };
        relay_client::run(relay, &mut consumer, tx, stop).await;
        forward.abort();
    }

    /// Applies one relay message: its effects and its `seq` in one atomic write.
    pub fn apply(&self, delivery: &Delivery) -> Result<()> {
        let event = self.gateway.read(delivery);
        let seq = delivery.seq;
        self.store.write(|w| -> Result<()> {
            match event {
                Err(reason) => w.audit(
                    "unreadable message from ABDM ignored",
                    format!("{}: {reason}", delivery.path),
                    None,
                )?,
                Ok(event) => self.on_event(w, event)?,
            }
            w.set_relay_committed(seq);
            Ok(())
        })?;
        self.outbox_wake.notify_one();
        Ok(())
    }

    fn on_event(&self, w: &mut Writer<'_>, event: Event) -> Result<()> {
        let answers = match &event {
            Event::AuthModes { answers, .. }
            | Event::AuthStarted { answers, .. }
            | Event::AuthConfirmed { answers, .. }
            | Event::ContextsLinked { answers }
            | Event::Refused { answers, .. } => Some(*answers),
            _ => None,
        };
        let pending = match answers {
            Some(id) => match w.pending(id)? {
                Some(p) => Some(p),
                None => {
                    // Late, duplicated or foreign: logged and dropped, never fatal.
                    w.audit(
                        "callback for no pending request ignored",
                        id.to_string(),
                        None,
                    )?;
                    return Ok(());
                }
            },
            None => None,
        };
        match (event, pending) {
            (
                Event::ProfileShared {
                    request_id,
                    profile,
                },
                _,
            ) => self.on_share(w, request_id, profile)?,
            (Event::Refused { code, message, .. }, Some(p)) => {
                let reason = format!("ABDM said no: {message} ({code})");
                Self::finish_outbox(
                    w,
                    &p,
                    OutboxState::Failed {
                        reason: reason.clone(),
                    },
                )?;
                w.audit("ABDM refused a request", reason, p.patient_id)?;
            }
            (Event::AuthModes { modes, .. }, Some(p)) if p.step == step::PULL_MODES => {
                Self::finish_outbox(
                    w,
                    &p,
                    OutboxState::Done {
                        at: desk_store::now(),
                    },
                )?;
                if !modes.contains(&AuthMode::Demographics) {
                    w.audit(
                        "ABHA cannot be verified by demographics; use OTP",
                        p.context.to_string(),
                        p.patient_id,
                    )?;
                    return Ok(());
                }
                let abha = p.context["abha"].as_str().unwrap_or_default().to_string();
                let name = p
                    .patient_id
                    .and_then(|id| w.patient(id).ok().flatten())
                    .map(|x| x.name)
                    .unwrap_or_default();
                self.enqueue(
                    w,
                    &Call::AuthInit {
                        abha,
                        mode: AuthMode::Demographics,
                    },
                    format!("Verify the ABHA of {name}: start"),
                    p.patient_id,
                    Some((step::PULL_INIT, p.context.clone())),
                )?;
            }
            (Event::AuthStarted { transaction_id, .. }, Some(p)) if p.step == step::PULL_INIT => {
                Self::finish_outbox(
                    w,
                    &p,
                    OutboxState::Done {
                        at: desk_store::now(),
                    },
                )?;
                let patient = p
                    .patient_id
                    .and_then(|id| w.patient(id).ok().flatten())
                    .ok_or_else(|| {
                        DeskError::NotFound("the patient of this request is gone".into())
                    })?;
                let call = Call::ConfirmDemographics {
                    transaction_id,
                    name: patient.name.clone(),
                    gender: gender_of(&patient.gender),
                    date_of_birth: date_of_birth(
                        patient.year_of_birth,
                        patient.month_of_birth,
                        patient.day_of_birth,
                    ),
                };
                self.enqueue(
                    w,
                    &call,
                    format!("Verify the ABHA of {}: confirm", patient.name),
                    Some(patient.id),
                    Some((step::PULL_CONFIRM, p.context.clone())),
                )?;
            }
            (Event::AuthConfirmed { link_token, .. }, Some(p)) if p.step == step::PULL_CONFIRM => {
                Self::finish_outbox(
                    w,
                    &p,
                    OutboxState::Done {
                        at: desk_store::now(),
                    },
                )?;
                let number = p.context["number"].as_str().unwrap_or_default().to_string();
                if let Some(mut profile) = w.abha_profile(&number)? {
                    profile.linking_token = link_token;
                    profile.updated_at = desk_store::now();
                    w.put_abha_profile(&profile);
                }
                w.audit(
                    "ABHA verified with ABDM; linking token received",
                    number,
                    p.patient_id,
                )?;
            }
            (Event::ContextsLinked { .. }, Some(p)) => {
                Self::finish_outbox(
                    w,
                    &p,
                    OutboxState::Done {
                        at: desk_store::now(),
                    },
                )?;
                w.audit("care contexts linked", p.context.to_string(), p.patient_id)?;
            }
            (Event::Other { path }, _) => w.audit("message not handled yet", path, None)?,
            (event, p) => {
                w.audit(
                    "callback does not fit its request",
                    format!("{event:?} for {:?}", p.map(|p| p.step)),
                    None,
                )?;
            }
        }
        Ok(())
    }

    /// Scan and share: match or create the patient, give today's token (one per patient per day), answer.
    fn on_share(&self, w: &mut Writer<'_>, request_id: Uuid, s: SharedProfile) -> Result<()> {
        let number = match abdm::ids::AbhaNumber::parse(&s.abha_number) {
            Ok(n) => n,
            Err(e) => {
                w.audit(
                    "profile share with an invalid ABHA number refused",
                    e.to_string(),
                    None,
                )?;
                self.enqueue(
                    w,
                    &Call::ShareAnswer {
                        share_request_id: request_id,
                        abha_address: s.abha_address.clone(),
                        token: None,
                    },
                    "Answer a profile share (refused)".into(),
                    None,
                    None,
                )?;
                return Ok(());
            }
        };
        let now = desk_store::now();
        let mut patient = match w.patient_by_abha(number.dashed())? {
            Some(p) => p,
            None => Patient::new(String::new()),
        };
        patient.name = s.name.clone();
        patient.gender = s.gender.clone();
        patient.year_of_birth = Some(s.year_of_birth);
        patient.month_of_birth = s.month_of_birth.or(patient.month_of_birth);
        patient.day_of_birth = s.day_of_birth.or(patient.day_of_birth);
        patient.mobile = s.mobile.clone().or(patient.mobile.clone());
        patient.abha_number = Some(number.dashed().into());
        patient.abha_address = Some(s.abha_address.clone());
        patient.district = s.district.clone().or(patient.district.clone());
        patient.state = s.state.clone().or(patient.state.clone());
        patient.pincode = s.pincode.clone().or(patient.pincode.clone());
        patient.updated_at = now.clone();
        w.put_patient(&patient)?;
        let mut profile = w.abha_profile(number.dashed())?.unwrap_or_default();
        profile.abha_number = number.dashed().into();
        profile.abha_address = Some(s.abha_address.clone());
        profile.patient_id = Some(patient.id);
        profile.name = Some(s.name.clone());
        profile.gender = Some(s.gender.clone());
        profile.date_of_birth = Some(date_of_birth(
            Some(s.year_of_birth),
            s.month_of_birth,
            s.day_of_birth,
        ));
        profile.mobile = s.mobile.clone();
        profile.district = s.district;
        profile.state = s.state;
        profile.pincode = s.pincode;
        profile.updated_at = now;
        w.put_abha_profile(&profile);
        let (token, new) = w.token_for(patient.id, &today())?;
        self.enqueue(
            w,
            &Call::ShareAnswer {
                share_request_id: request_id,
                abha_address: s.abha_address,
                token: Some(token),
            },
            format!("Give {} token {token}", patient.name),
            Some(patient.id),
            None,
        )?;
        w.audit(
            if new {
                "scan and share: token given"
            } else {
                "scan and share again: same token"
            },
            format!("{} → token {token}", patient.name),
            Some(patient.id),
        )?;
        Ok(())
    }
}

struct SyncConsumer<'a, G: Gateway> {
    desk: &'a Desk<G>,
}

impl<G: Gateway> Consumer for SyncConsumer<'_, G> {
    async fn committed(&mut self) -> u64 {
        self.desk.store.relay_committed().unwrap_or(0)
    }

    async fn apply(&mut self, delivery: Delivery) -> std::result::Result<(), ConsumerError> {
        self.desk
            .apply(&delivery)
            .map_err(|e| ConsumerError(e.to_string()))
    }
}
