//! Schemas several v3 operations share. Those whose v3 schema is the v0.5 one are re-exported
//! from there (a change to one is a change to both).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

pub use crate::v0_5::common::{
    AccessMode, CareContextDefinition, ConsentStatus, DateRange, DhPublicKey, ErrorBody, ErrorCode,
    Frequency, FrequencyUnit, HiType, KeyMaterial, PatientId, Permission, Purpose,
    RequesterIdentifier,
};

/// A consent artefact's `permission` as read: `dataEraseAt` and `frequency` may sit beside it
/// instead (the HIU's `on-fetch`), so both are optional here and read from either place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadPermission {
    pub access_mode: AccessMode,
    pub date_range: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_erase_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
}

impl From<Permission> for ReadPermission {
    fn from(p: Permission) -> Self {
        Self {
            access_mode: p.access_mode,
            date_range: p.date_range,
            data_erase_at: Some(p.data_erase_at),
            frequency: Some(p.frequency),
        }
    }
}

/// An optional part a sender may send thin or broken (a consent detail on a revocation): read
/// when it reads, `None` when it does not, so the rest of the message still counts.
pub mod lenient {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Option::<serde_json::Value>::deserialize(d)?
            .and_then(|v| serde_json::from_value(v).ok()))
    }
}
pub use crate::Timestamp;

/// `response`: which request a callback (or our answer to one) answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseRef {
    pub request_id: Uuid,
}

/// A callback, or our answer to a gateway request: the operation's fields, then either a result
/// or `error`, and `response.requestId`. (NHA declares several of these with both the result and
/// `error` required; its prose, and the gateway, send one of them.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply<T> {
    #[serde(flatten)]
    pub body: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    pub response: ResponseRef,
}

impl<T> Reply<T> {
    /// A successful answer to `request_id`.
    pub fn answering(request_id: Uuid, body: T) -> Self {
        Self {
            body,
            error: None,
            response: ResponseRef { request_id },
        }
    }

    /// A refusal, with what the body still says.
    pub fn failed(request_id: Uuid, body: T, code: &str, message: impl Into<String>) -> Self {
        Self {
            error: Some(ErrorBody {
                code: ErrorCode::Text(code.into()),
                message: message.into(),
            }),
            ..Self::answering(request_id, body)
        }
    }
}

/// v3's genders (v0.5 had only M, F, O, U).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    M,
    F,
    O,
    D,
    T,
    U,
}

/// A HIP or HIU as consent bodies name it. NHA requires the `name` key but lets it be `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Service {
    /// A HIP named `name`.
    pub fn hip(id: impl Into<String>, name: Option<String>) -> Self {
        Self {
            id: id.into(),
            name,
            kind: Some("HIP".into()),
        }
    }

    /// A HIU named `name`.
    pub fn hiu(id: impl Into<String>, name: Option<String>) -> Self {
        Self {
            id: id.into(),
            name,
            kind: Some("HIU".into()),
        }
    }
}

/// `{referenceNumber, display}` of a care context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CareContext {
    pub reference_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// One group of a patient's care contexts, all of one HI type, with their count (1–20): v3 sends
/// a list of these where v0.5 sent one patient object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientContexts {
    pub reference_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub care_contexts: Vec<CareContext>,
    /// One string; some pages send a one-item array, read too.
    #[serde(deserialize_with = "one_hi_type")]
    pub hi_type: HiType,
    pub count: u32,
}

impl PatientContexts {
    /// Groups `contexts` (each with its HI type) by HI type, in first-seen order, as v3 sends them.
    pub fn grouped(
        reference: &str,
        display: Option<&str>,
        contexts: impl IntoIterator<Item = (HiType, CareContext)>,
    ) -> Vec<Self> {
        let mut groups: Vec<Self> = Vec::new();
        for (hi_type, context) in contexts {
            match groups.iter_mut().find(|g| g.hi_type == hi_type) {
                Some(group) => {
                    group.care_contexts.push(context);
                    group.count += 1;
                }
                None => groups.push(Self {
                    reference_number: reference.into(),
                    display: display.map(Into::into),
                    care_contexts: vec![context],
                    hi_type,
                    count: 1,
                }),
            }
        }
        groups
    }
}

/// One HI type, as a string or a one-item array.
pub(crate) fn one_hi_type<'de, D: Deserializer<'de>>(d: D) -> Result<HiType, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrList {
        One(HiType),
        List([HiType; 1]),
    }
    Ok(match OneOrList::deserialize(d)? {
        OneOrList::One(t) | OneOrList::List([t]) => t,
    })
}

/// Identifier types of v3 discovery (v0.5's `NDHM_HEALTH_NUMBER`/`HEALTH_ID` renamed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentifierType {
    #[serde(rename = "MR")]
    MedicalRecord,
    Mobile,
    AbhaNumber,
    AbhaAddress,
    Email,
}

/// `{type, value}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: IdentifierType,
    pub value: String,
}

/// The consent requester: the doctor asking. v3 requires the identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub name: String,
    pub identifier: RequesterIdentifier,
}

/// `consentDetail` of a consent artefact. The HIU's `on-fetch` example puts `dataEraseAt` and
/// `frequency` beside `permission` as well as inside it: both places are read, inside is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentDetail {
    pub schema_version: String,
    pub consent_id: Uuid,
    pub created_at: Timestamp,
    pub patient: PatientId,
    pub care_contexts: Vec<CareContextDefinition>,
    pub purpose: Purpose,
    pub hip: Service,
    pub hiu: Service,
    pub consent_manager: PatientId,
    pub requester: Requester,
    pub hi_types: Vec<HiType>,
    pub permission: ReadPermission,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<Timestamp>,
    /// `on-fetch`'s copy beside `permission` (NHA requires it there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_erase_at: Option<Timestamp>,
    /// `on-fetch`'s copy beside `permission` (NHA requires it there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
}

impl ConsentDetail {
    /// When the data must be erased, from inside `permission` or beside it.
    pub fn data_erase_at(&self) -> Option<Timestamp> {
        self.permission.data_erase_at.or(self.data_erase_at)
    }

    /// How often data may be asked for, from inside `permission` or beside it.
    pub fn frequency(&self) -> Option<Frequency> {
        self.permission.frequency.or(self.frequency)
    }
}

/// An ABHA number on the wire of linking: NHA declares a 14-digit JSON number; ABDM's pages and
/// patient share use the dashed string. Written as the number, read as either.
pub mod abha_number {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(number) => {
                let digits: String = number.chars().filter(char::is_ascii_digit).collect();
                match digits.parse::<u64>() {
                    Ok(n) if digits.len() == 14 => s.serialize_u64(n),
                    _ => Err(serde::ser::Error::custom("an ABHA number has 14 digits")),
                }
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let value = Option::<serde_json::Value>::deserialize(d)?;
        let digits: String = match value {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) => s.chars().filter(char::is_ascii_digit).collect(),
            Some(other) => {
                return Err(serde::de::Error::custom(format!(
                    "not an ABHA number: {other}"
                )))
            }
        };
        if digits.len() != 14 {
            return Err(serde::de::Error::custom("an ABHA number has 14 digits"));
        }
        Ok(Some(format!(
            "{}-{}-{}-{}",
            &digits[..2],
            &digits[2..6],
            &digits[6..10],
            &digits[10..]
        )))
    }
}

/// A count or year NHA types as a number in one file and a string in another: read as either.
pub mod number_or_text {
    use super::*;

    pub fn serialize<S: Serializer>(value: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(*value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| serde::de::Error::custom("not a whole number")),
            serde_json::Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("not a whole number: {s:?}"))),
            other => Err(serde::de::Error::custom(format!(
                "not a whole number: {other}"
            ))),
        }
    }
}
