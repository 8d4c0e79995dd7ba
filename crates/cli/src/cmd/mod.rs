//! One module per command.

pub mod audit;
pub mod clinic_key;
pub mod consult;
pub mod demo;
pub mod fhir;
pub mod qr;
pub mod queue;
pub mod run;
