//! The machinery every flow rides on, naming no flow and no wire format: the durable outbox,
//! the relay sync with parking, typed continuations, timers.

pub(crate) mod item;
pub(crate) mod outbox;
pub(crate) mod step;
pub(crate) mod sync;
pub(crate) mod timers;

pub use outbox::{OutboxItem, OutboxState, Work};
pub use step::{Job, Pending, Step};
pub use sync::Parked;
