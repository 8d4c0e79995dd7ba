//! What ABDM tells the desk, as the flows need it.

use desk_store::{Gender, Secret};
use uuid::Uuid;

use super::hip::{ConsentNotice, DiscoverQuery, HiRequest, LinkConfirmRequest, LinkInitRequest};
use super::hiu::{DataPush, FetchedArtefact, HiuConsentNotice};
use super::AuthMode;

/// A message from ABDM.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The answer to one of our calls.
    Answer {
        /// The request id of our call.
        in_reply_to: Uuid,
        /// What it says.
        answer: Answer,
    },
    /// A request ABDM (or a patient through it) makes of the clinic.
    Request {
        /// Its request id (our answer names it).
        request_id: Uuid,
        /// What is asked.
        request: Incoming,
    },
}

/// An answer to one of our calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The ways the ABHA allows.
    AuthModes(Vec<AuthMode>),
    /// A proof started.
    AuthStarted {
        /// Threads the confirmation.
        transaction_id: String,
    },
    /// Proven; a linking token when ABDM gave one.
    AuthConfirmed {
        /// The HIP linking token.
        link_token: Option<Secret>,
    },
    /// Care contexts linked (or already linked).
    ContextsLinked,
    /// ABDM acknowledged (an SMS sent, a notification taken).
    Acknowledged,
    /// HIU: the consent manager took our consent request.
    ConsentRequested {
        /// Its id there.
        consent_request_id: String,
    },
    /// HIU: where our consent request stands.
    ConsentRequestState(HiuConsentNotice),
    /// HIU: a fetched artefact.
    Artefact(Box<FetchedArtefact>),
    /// HIU: our data request was taken.
    DataRequested {
        /// ABDM's transaction.
        transaction_id: Uuid,
    },
    /// An error answer.
    Refused {
        /// ABDM's code.
        code: String,
        /// ABDM's message.
        message: String,
    },
}

/// A request made of the clinic.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A patient scanned our counter QR.
    ProfileShared(SharedProfile),
    /// HIP: a patient looks for records here.
    Discover(DiscoverQuery),
    /// HIP: a patient asks to link care contexts.
    LinkInit(LinkInitRequest),
    /// HIP: the patient confirms a link with the OTP.
    LinkConfirm(LinkConfirmRequest),
    /// HIP: a consent artefact granted, revoked or expired.
    Consent(ConsentNotice),
    /// HIP: a request for data under an artefact.
    HealthInformation(HiRequest),
    /// HIU: our consent request was decided, or an artefact ended.
    HiuConsent(HiuConsentNotice),
    /// HIU: a page of data pushed to us.
    DataPushed(Box<DataPush>),
}

/// The profile a patient shares by scanning the counter QR.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedProfile {
    /// Dashed.
    pub abha_number: String,
    /// `name@suffix`.
    pub abha_address: String,
    /// Full name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Year of birth.
    pub year_of_birth: i32,
    /// Month of birth.
    pub month_of_birth: Option<u32>,
    /// Day of birth.
    pub day_of_birth: Option<u32>,
    /// 10 digits.
    pub mobile: Option<String>,
    /// District.
    pub district: Option<String>,
    /// State.
    pub state: Option<String>,
    /// PIN code.
    pub pincode: Option<String>,
    /// The counter scanned.
    pub counter: Option<String>,
}
