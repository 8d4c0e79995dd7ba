//! Mailbox storage behind a small trait: the append-only log ([`crate::LogStore`]) keeps it; a
//! PostgreSQL store could keep the same contract for several relay instances.
//!
//! The contract:
//! * `append` resolves only when the message is durable (the relay answers 202 after it); it is
//!   atomic: the per-clinic sequence number, the message and its dedupe key are stored together or
//!   not at all; sequence numbers are assigned in commit order without gaps;
//! * a dedupe key seen within the window returns the earlier `seq` and stores nothing;
//! * `ack(up_to)` deletes messages `≤ up_to` (never past the last) and is idempotent; the id of
//!   the last acknowledged message is kept, so a desk resuming from it can be recognised;
//! * `read_after` returns only durable messages, in order, bounded in count and bytes;
//! * push paths (token hash → clinic, expiry) are durable once `set_push_path` resolves.
//!
//! Concurrent appends must share one flush (group commit): one fsync per message would cap a relay
//! at a few thousand messages a second.

use std::future::Future;
use std::pin::Pin;

/// A storage failure (the relay answers 503 and ABDM retries).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The disk or the log failed.
    #[error("storage failed: {0}")]
    Storage(String),
}

/// The outcome of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The message's `seq` (the earlier one for a redelivery).
    pub seq: u64,
    /// False when the dedupe key was already stored (a redelivery).
    pub new: bool,
}

/// A figure of a clinic's mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailboxState {
    /// The highest `seq` assigned.
    pub last: u64,
    /// The highest acknowledged `seq`.
    pub acked: u64,
    /// The relay id of message `acked`.
    pub acked_id: u64,
    /// Messages waiting.
    pub depth: u64,
    /// Bytes waiting.
    pub bytes: u64,
}

/// A store operation that completes when it is durable.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Makes a message's stored bytes once its `seq` is known.
pub type Build = Box<dyn FnOnce(u64) -> Vec<u8> + Send>;

/// The relay's mailboxes (see the module documentation for the contract).
pub trait Store: Send + Sync + 'static {
    /// Stores a message for `clinic` unless `dedupe_key` was seen; resolves once it is durable.
    fn append(
        &self,
        clinic: &str,
        dedupe_key: &str,
        id: u64,
        build: Build,
    ) -> StoreFuture<'_, Appended>;
    /// Up to `max_count` messages with `seq > after`, in order, about `max_bytes` at most (always
    /// at least one when one waits).
    fn read_after(
        &self,
        clinic: &str,
        after: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Deletes messages `≤ up_to`; resolves with how many were deleted.
    fn ack(&self, clinic: &str, up_to: u64) -> StoreFuture<'_, u64>;
    /// The clinic's counters.
    fn mailbox(&self, clinic: &str) -> MailboxState;
    /// The relay id of a waiting message.
    fn message_id(&self, clinic: &str, seq: u64) -> Option<u64>;
    /// Forgets dedupe keys recorded before `unix_secs`.
    fn prune_dedupe(&self, unix_secs: u64) -> Result<u64, StoreError>;
    /// Opens (`expires_at` > 0) or closes (0) a push path.
    fn set_push_path(&self, hash: [u8; 32], clinic: &str, expires_at: u64) -> StoreFuture<'_, ()>;
    /// The clinic and expiry of a push path, if it is known.
    fn push_path(&self, hash: &[u8; 32]) -> Option<(String, u64)>;
}

/// Seconds since 1970.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
