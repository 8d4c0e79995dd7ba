//! What the outbox stores: its items, the work each sends and where it stands.

use chrono::{DateTime, Utc};
use desk_store::{kind, Id, Record, Writer};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::step::Pending;
use crate::error::Result;
use crate::gateway::Prepared;

use super::step::Job;

/// What an item sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Work {
    /// A body prepared when the item was queued.
    Call(Prepared),
    /// Built at send time.
    Job(Job),
    /// Nothing any more: the item finished and its body was removed.
    Finished,
}

/// What a receptionist sees of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent.
    Queued,
    /// Sent; ABDM's answer has not come.
    WaitingForAbdm {
        /// When it was sent.
        since: DateTime<Utc>,
    },
    /// Done.
    Done {
        /// When.
        at: DateTime<Utc>,
    },
    /// Refused, timed out or given up on.
    Failed {
        /// Why, in plain words.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
}

/// One queued ABDM call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// In queue order.
    pub id: u64,
    /// Fixed for the item's life.
    pub request_id: Uuid,
    /// What is sent.
    pub work: Work,
    /// Plain words for the queue screen ("Verify the ABHA of Asha Kumari").
    pub label: String,
    /// The same as a key and arguments a front end words in its language (older items: none).
    #[serde(default)]
    pub label_key: Option<String>,
    /// The key's arguments.
    #[serde(default)]
    pub label_args: Vec<String>,
    /// The patient concerned.
    pub patient_id: Option<Uuid>,
    /// Where it stands.
    pub state: OutboxState,
    /// Tries ABDM answered with 429/5xx.
    pub attempts: u32,
    /// The last failure, in plain words.
    pub last_error: Option<String>,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// When last sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Not before this (its own backoff).
    pub next_try_at: Option<DateTime<Utc>>,
}

impl Record for OutboxItem {
    const KIND: u8 = kind::OUTBOX;
    fn id(&self) -> Id {
        Id::number(self.id)
    }
}

/// Saves an item and keeps the index of queued items in step.
pub(crate) fn put_item(w: &mut Writer<'_>, item: &OutboxItem) {
    let id = Id::number(item.id);
    if item.state == OutboxState::Queued {
        w.put_index(kind::QUEUED, &id, &[]);
    } else {
        w.remove_index(kind::QUEUED, &id);
    }
    w.put(item);
}

/// Finishes the item that sent `pending` and forgets the pending request.
pub(crate) fn finish(w: &mut Writer<'_>, pending: &Pending, outcome: OutboxState) -> Result<()> {
    if let Some(mut item) = w.get::<OutboxItem>(&Id::number(pending.outbox_id))? {
        item.state = outcome;
        item.work = Work::Finished;
        put_item(w, &item);
    }
    w.delete::<Pending>(&Id::uuid(pending.request_id))?;
    Ok(())
}
