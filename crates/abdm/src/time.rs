//! Time as ABDM writes it, in every generation.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `TimestampSchema`: UTC with milliseconds and `Z` (`YYYY-MM-DDThh:mm:ss.sssZ`) when written;
/// when read, any RFC 3339 time, or a naive ISO time taken as UTC (the sandbox sends those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Now, to the millisecond (what the wire carries, so a value survives a round trip).
    pub fn now() -> Self {
        Self(Utc::now().trunc_subsecs(3))
    }

    /// Reads any RFC 3339 time, or a naive ISO time as UTC.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Self(t.with_timezone(&Utc)));
        }
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| Self(n.and_utc()))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a timestamp: {text:?}")))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t)
    }
}
