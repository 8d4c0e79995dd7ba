//! Asynchronous calls, as the flows name them.

use desk_store::{Gender, Secret};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hip::{DiscoveredPatient, LinkOtpSent, LinkedContexts, Refusal, TransferReport};
use super::hiu::DataAsk;

/// How a patient proves an ABHA is theirs to a HIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthMode {
    /// An OTP to the ABHA's mobile.
    MobileOtp,
    /// An OTP to the Aadhaar-linked mobile.
    AadhaarOtp,
    /// Name, gender and date of birth (scan and pull).
    Demographics,
}

/// A care context as linked: our reference, its label and the HI types it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextRef {
    /// Our reference (the consultation's id).
    pub reference: String,
    /// What the patient sees ("OPD visit, 1 Dec 2026").
    pub display: String,
    /// ABDM's names of the HI types its records are (`OPConsultation`, `Prescription`, …): v3
    /// groups care contexts by them.
    #[serde(default)]
    pub hi_types: Vec<String>,
}

/// An asynchronous ABDM call (answered later by a callback).
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// The connection test's question: any answer, through the relay, proves the way back.
    ConnectionProbe {
        /// An ABHA address no one has.
        abha: String,
    },
    /// v3: a linking token for the patient, by their demographics (one call; v0.5 proves the
    /// ABHA in three).
    GenerateLinkToken {
        /// Dashed.
        abha_number: Option<String>,
        /// `name@suffix`.
        abha_address: Option<String>,
        /// As on the ABHA.
        name: String,
        /// Gender.
        gender: Gender,
        /// Year of birth.
        year_of_birth: i32,
    },
    /// v3: a linked care context has records (sent after linking).
    ContextNotify {
        /// The patient's ABHA address.
        abha_address: String,
        /// Our patient reference.
        patient_reference: String,
        /// The care context.
        context: ContextRef,
    },
    /// Which ways of proving the ABHA it allows.
    FetchModes {
        /// ABHA address or number.
        abha: String,
    },
    /// Starts proving an ABHA.
    AuthInit {
        /// ABHA address or number.
        abha: String,
        /// How.
        mode: AuthMode,
    },
    /// Proves it by demographics.
    ConfirmDemographics {
        /// From the `AuthStarted` answer.
        transaction_id: String,
        /// Name.
        name: String,
        /// Gender.
        gender: Gender,
        /// `YYYY-MM-DD` or `YYYY`.
        date_of_birth: String,
    },
    /// Proves it by OTP.
    ConfirmOtp {
        /// From the `AuthStarted` answer.
        transaction_id: String,
        /// The OTP (scrubbed from the outbox once sent).
        otp: Secret,
    },
    /// Links care contexts to the patient's ABHA.
    AddContexts {
        /// The linking token.
        link_token: Secret,
        /// The patient's ABHA number (dashed), as the token was made for.
        abha_number: Option<String>,
        /// The patient's ABHA address.
        abha_address: Option<String>,
        /// Our patient reference.
        patient_reference: String,
        /// The patient's name.
        display: String,
        /// The care contexts.
        contexts: Vec<ContextRef>,
    },
    /// The answer to a profile share: the token number given, or a refusal.
    ShareAnswer {
        /// The share's request id.
        share_request_id: Uuid,
        /// The patient's ABHA address.
        abha_address: String,
        /// The counter the patient scanned.
        counter: Option<String>,
        /// The token, or `None` for a refusal.
        token: Option<u32>,
    },
    /// HIP: the answer to a discovery.
    OnDiscover {
        /// The discovery's request id.
        answers: Uuid,
        /// Its transaction.
        transaction_id: Uuid,
        /// The patient found, or why not.
        result: Result<DiscoveredPatient, Refusal>,
    },
    /// HIP: the answer to a link request (the OTP went out, or why not).
    OnLinkInit {
        /// The request's id.
        answers: Uuid,
        /// Its transaction.
        transaction_id: Uuid,
        /// The outcome.
        result: Result<LinkOtpSent, Refusal>,
    },
    /// HIP: the answer to a link confirmation.
    OnLinkConfirm {
        /// The confirmation's request id.
        answers: Uuid,
        /// The care contexts linked, or why not.
        result: Result<LinkedContexts, Refusal>,
    },
    /// HIP: consent notification received.
    OnConsentNotify {
        /// The notification's request id.
        answers: Uuid,
        /// The artefact.
        consent_id: Uuid,
    },
    /// HIP: a data request acknowledged, or refused.
    OnHiRequest {
        /// The request's id.
        answers: Uuid,
        /// Its transaction.
        transaction_id: Uuid,
        /// Acknowledged, or why not.
        result: Result<(), Refusal>,
    },
    /// HIP: how a transfer went.
    HiTransferred(TransferReport),
    /// HIP: tell the patient (by SMS through ABDM) that records can be found here.
    SmsNotify {
        /// 10 digits.
        phone: String,
        /// The patient's name.
        name: String,
        /// What was added ("2 visits").
        info: String,
        /// The clinic's name.
        hip_name: String,
    },
    /// HIU: ask the patient for consent.
    ConsentRequestInit {
        /// What is asked.
        ask: desk_store::ConsentAsk,
        /// Where the consent manager notifies us (our bridge URL).
        notification_url: String,
    },
    /// HIU: where does our consent request stand?
    ConsentRequestStatus {
        /// The consent manager's id of it.
        consent_request_id: String,
    },
    /// HIU: a consent notice received.
    HiuOnNotify {
        /// The notice's request id.
        answers: Uuid,
        /// The artefacts it named.
        consent_ids: Vec<Uuid>,
    },
    /// HIU: fetch a granted artefact.
    FetchConsent {
        /// Its id.
        consent_id: Uuid,
    },
    /// HIU: ask for the data an artefact grants.
    DataRequest(DataAsk),
    /// HIU: how a transfer to us went.
    HiuTransferred {
        /// Per care context.
        report: TransferReport,
        /// The HIP that sent it.
        hip_id: String,
    },
}
