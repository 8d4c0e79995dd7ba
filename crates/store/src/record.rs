//! One generic way to keep typed records: a record names its kind (a key prefix) and its id; the
//! store seals, keys and reads it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// A record's identity within its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    /// Bytes used as they are (ids, counters, dates).
    Raw(Vec<u8>),
    /// An identifier that must not appear in the files (an ABHA number or address): the key is
    /// its keyed hash.
    Blind(String),
}

impl Id {
    /// A UUID.
    pub fn uuid(id: Uuid) -> Self {
        Id::Raw(id.as_bytes().to_vec())
    }
    /// A number, ordered as numbers.
    pub fn number(n: u64) -> Self {
        Id::Raw(n.to_be_bytes().to_vec())
    }
    /// A short text (a date, a fixed name).
    pub fn text(s: &str) -> Self {
        Id::Raw(s.as_bytes().to_vec())
    }
    /// An identifier kept only as its keyed hash.
    pub fn blind(s: &str) -> Self {
        Id::Blind(s.to_string())
    }
}

/// A kind of record kept in the store.
pub trait Record: Serialize + DeserializeOwned {
    /// Its key prefix (one byte, unique across the application: see `schema`).
    const KIND: u8;
    /// Its id.
    fn id(&self) -> Id;
}
