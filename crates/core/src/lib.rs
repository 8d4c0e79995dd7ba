//! `desk-core`: the clinic's desk without a window — every flow, the durable outbox, the relay
//! sync — behind an API that front ends (`deskctl`, the Tauri app) use through view types.
//!
//! Map (rooms by domain, each adding its own `impl Desk` block):
//! * [`desk`] — [`Desk`], [`DeskConfig`] (environment, CM id, ABHA-address suffix, service id),
//!   connection [`Status`];
//! * [`runtime`] — [`Desk::start`]: the outbox, the sync and the timers, started in one place;
//! * [`engine`] — the outbox (prepared calls and jobs), the relay sync with parking, typed
//!   continuations ([`engine::Step`]), timers. Names no flow and no wire format;
//! * [`gateway`] — the port: [`gateway::Call`], [`gateway::Event`], [`gateway::AbhaService`];
//!   `gateway::v0_5` is the only module that names `abdm`'s wire types;
//! * [`identity`] (M1), [`hip`] (M2), [`hiu`] (M3) — the flows;
//! * [`view`] — read models for front ends; [`error`] — [`DeskError`] with stable codes;
//!   [`labels`] — what each outbox item does, by key, for a front end's language.
//!
//! Invariants: one atomic store write per user action (effects, outbox item, pending request)
//! and one per relay message (effects and the relay `seq`); nothing slow runs inside a write;
//! input is checked before any network call.

pub mod desk;
pub mod engine;
pub mod error;
pub mod gateway;
pub mod hip;
pub mod hiu;
pub mod identity;
pub mod labels;
pub mod runtime;
pub mod view;

pub use desk::{Desk, DeskConfig, Environment, OutboxPolicy, Reachability, Status};
pub use error::{DeskError, Result};
pub use gateway::{AnyGateway, Gateway, Generation};
pub use identity::NewPatient;
pub use runtime::Running;
