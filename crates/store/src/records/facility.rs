use serde::{Deserialize, Serialize};

use crate::schema::kind;
use crate::{Id, Record};

/// The clinic as ABDM knows it (CARE's `HealthFacility`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HealthFacility {
    /// The HFR id; also the HIP/HIU service id once registered.
    pub hf_id: String,
    /// The facility's name.
    pub name: String,
    /// Linked to our bridge as HIP and HIU.
    pub registered: bool,
    /// The bridge URL registered with ABDM (the relay's public address).
    pub bridge_url: Option<String>,
    /// Whether ABDM accepted it.
    pub bridge_registered: bool,
}

impl Record for HealthFacility {
    const KIND: u8 = kind::FACILITY;
    fn id(&self) -> Id {
        Id::text("this")
    }
}
