//! Types shared by many v0.5 endpoints (the `components/schemas` of NHA's v0.5 OpenAPI), and the
//! request/callback envelopes every v0.5 gateway message travels in.

pub use crate::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every v0.5 request body: `requestId` and `timestamp` beside the operation's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request<T> {
    pub request_id: Uuid,
    pub timestamp: Timestamp,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Request<T> {
    /// A new request with a fresh id. Retries must reuse the id, so keep the value.
    pub fn new(body: T) -> Self {
        Self::with_id(Uuid::new_v4(), body)
    }

    pub fn with_id(request_id: Uuid, body: T) -> Self {
        Self {
            request_id,
            timestamp: Timestamp::now(),
            body,
        }
    }
}

/// Every v0.5 callback: a request of its own, plus `resp.requestId` naming the request it answers
/// and either the result fields or an `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Callback<T> {
    pub request_id: Uuid,
    pub timestamp: Timestamp,
    #[serde(flatten)]
    pub body: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    pub resp: RequestReference,
}

impl<T> Callback<T> {
    pub fn answering(request_id: Uuid, body: T) -> Self {
        Self {
            request_id: Uuid::new_v4(),
            timestamp: Timestamp::now(),
            body,
            error: None,
            resp: RequestReference { request_id },
        }
    }

    pub fn failed(request_id: Uuid, body: T, error: ErrorBody) -> Self {
        Self {
            error: Some(error),
            ..Self::answering(request_id, body)
        }
    }
}

/// `RequestReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestReference {
    pub request_id: Uuid,
}

/// `Error`: the spec types `code` as an integer (1000 or 10001); the live gateway also sends
/// other numbers and strings such as `"ABDM-1027: "`. Both are read; a number is written as a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorCode {
    Number(i64),
    Text(String),
}

impl ErrorCode {
    /// The code without decoration: `"ABDM-1027: "` → `"ABDM-1027"`, `1000` → `"1000"`.
    pub fn normalized(&self) -> String {
        match self {
            ErrorCode::Number(n) => n.to_string(),
            ErrorCode::Text(t) => t.trim().trim_end_matches(':').trim().to_string(),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.normalized())
    }
}

/// `PatientAuthPurpose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthPurpose {
    Link,
    Kyc,
    KycAndLink,
}

/// `AuthenticationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthMode {
    MobileOtp,
    Direct,
    Demographics,
    AadhaarOtp,
}

/// `PatientAuthRequester` and the `requester` of fetch-modes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    #[serde(rename = "type")]
    pub kind: ServiceKind,
    pub id: String,
}

/// HIP or HIU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ServiceKind {
    Hip,
    Hiu,
}

/// `PatientGender`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    M,
    F,
    O,
    U,
}

/// `IdentifierType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentifierType {
    Mobile,
    #[serde(rename = "MR")]
    MedicalRecord,
    NdhmHealthNumber,
    HealthId,
}

/// `Identifier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: IdentifierType,
    pub value: String,
}

/// `PatientAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pincode: Option<String>,
}

/// `CareContextRepresentation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CareContextRepresentation {
    pub reference_number: String,
    pub display: String,
}

/// `CareContext` (a reference alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CareContextReference {
    pub reference_number: String,
}

/// `CareContextDefinition`: a care context named with its patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CareContextDefinition {
    pub patient_reference: String,
    pub care_context_reference: String,
}

/// `ConsentStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConsentStatus {
    Granted,
    Expired,
    Denied,
    Requested,
    Revoked,
}

/// The kinds of health information ABDM moves. NHA's v0.5 spec lists the first four; ABDM added the
/// other four later and live gateways send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HiType {
    OPConsultation,
    Prescription,
    DischargeSummary,
    DiagnosticReport,
    ImmunizationRecord,
    HealthDocumentRecord,
    WellnessRecord,
    Invoice,
}

/// `Permission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    pub access_mode: AccessMode,
    pub date_range: DateRange,
    pub data_erase_at: Timestamp,
    pub frequency: Frequency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AccessMode {
    View,
    Store,
    Query,
    Stream,
}

/// `dateRange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// `frequency`: at most `repeats` times per `value` `unit`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frequency {
    pub unit: FrequencyUnit,
    pub value: u32,
    pub repeats: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FrequencyUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// `UsePurpose`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Purpose {
    pub text: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_uri: Option<String>,
}

impl Purpose {
    pub fn care_management() -> Self {
        Self {
            text: "Care Management".into(),
            code: "CAREMGT".into(),
            ref_uri: Some("http://terminology.hl7.org/ValueSet/v3-PurposeOfUse".into()),
        }
    }
}

/// `OrganizationRepresentation` / `OrganizationReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Organization {
    pub fn id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
        }
    }
}

/// `ConsentManagerPatientID`: the patient's ABHA address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientId {
    pub id: String,
}

/// `Requester` of a consent request: the doctor asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequester {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<RequesterIdentifier>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequesterIdentifier {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub system: String,
}

/// The consent artefact's `consentDetail`, as sent to the HIP (`hiu` absent) and the HIU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    pub consent_id: Uuid,
    pub created_at: Timestamp,
    pub patient: PatientId,
    pub care_contexts: Vec<CareContextDefinition>,
    pub purpose: Purpose,
    pub hip: Organization,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hiu: Option<Organization>,
    pub consent_manager: Organization,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<ConsentRequester>,
    pub hi_types: Vec<HiType>,
    pub permission: Permission,
}

/// `keyMaterial`: the Fidelius public key and nonce of one side of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMaterial {
    pub crypto_alg: String,
    pub curve: String,
    pub dh_public_key: DhPublicKey,
    pub nonce: String,
}

/// `keyObject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DhPublicKey {
    pub expiry: Timestamp,
    pub parameters: String,
    pub key_value: String,
}

impl KeyMaterial {
    /// The canonical ECDH/Curve25519 key material for a base64 public key and nonce.
    pub fn curve25519(key_value: String, nonce: String, expiry: Timestamp) -> Self {
        Self {
            crypto_alg: "ECDH".into(),
            curve: "Curve25519".into(),
            dh_public_key: DhPublicKey {
                expiry,
                parameters: "Curve25519/32byte random key".into(),
                key_value,
            },
            nonce,
        }
    }
}
