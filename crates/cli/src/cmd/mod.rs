//! One module per command.

pub mod clinic_key;
pub mod demo;
pub mod fhir;
pub mod qr;
pub mod queue;
pub mod run;
