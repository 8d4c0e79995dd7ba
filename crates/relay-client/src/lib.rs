//! The desk side of the relay (`abdm-relay`): the stream protocol, sealing, and a client.
//!
//! The relay keeps every message ABDM sent a clinic, numbered per clinic (`seq`) and sealed to the
//! clinic's public key ([`seal`]), until the clinic acknowledges it. The client connects with the
//! clinic's token and the last message the consumer *committed* (`seq` and the relay's `id` of it),
//! opens each message with the clinic's private key, hands it to the consumer, and acknowledges it
//! only after the consumer returns — so a crash anywhere means the message comes again, and a
//! consumer that stores `seq` with its effects applies each message exactly once.
//!
//! Wire protocol (WebSocket), `GET {relay}/stream?after=<seq>&id=<id>` with
//! `Authorization: Bearer <clinic token>`: see [`frame`]. Messages up to `after` count as
//! acknowledged. When the relay's records and the desk's disagree (the desk is ahead, or names
//! another message as `after`), the relay answers 409 with a [`frame::Refusal`] and deletes
//! nothing: the desk shows [`Connection::Alarm`].

mod client;
pub mod frame;
pub mod push;
pub mod seal;

pub use client::{
    run, run_once, ClientConfig, Committed, Connection, Consumer, ConsumerError, Delivery,
    StreamError, MAX_FRAME,
};
pub use frame::{MessageHeader, MessageKind};
pub use push::{PushPathError, PushToken};
pub use seal::{ClinicKey, ClinicPublicKey, SealError, Sealer};
