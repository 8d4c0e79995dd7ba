//! The other hospitals in the simulated network: a peer HIP that holds records and a peer HIU
//! that asks our clinic for them.

pub(crate) mod hip;
pub(crate) mod hiu;
