//! What the simulator knows and decides, apart from how a generation writes it: its state
//! (residents, ABHA accounts, OTP journeys, clients and services, consents), the consent
//! manager's decisions, and the peer HIP's records.

pub(crate) mod consent;
pub(crate) mod records;
pub(crate) mod state;
