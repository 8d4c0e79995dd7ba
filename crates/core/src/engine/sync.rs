//! The relay stream, applied: each message's effects and its `seq` in one atomic store write, so
//! a crash anywhere applies it exactly once. A message the desk cannot apply (unreadable, unknown,
//! referring to something gone) is parked with its reason and its `seq` committed: never retried
//! forever, never dropped silently; a later version can replay it.

use chrono::{DateTime, Utc};
use desk_store::{kind, Id, Record, Writer};
use relay_client::{Committed, Connection, Consumer, ConsumerError, Delivery, MessageKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::desk::Desk;
use crate::engine::outbox::finish;
use crate::engine::step::{Pending, Step};
use crate::error::{DeskError, Result};
use crate::gateway::{Answer, Event, Gateway, Incoming};

/// A relay message set aside because it could not be applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parked {
    /// Its relay `seq`.
    pub seq: u64,
    /// The path ABDM called.
    pub path: String,
    /// Callback or data push.
    pub kind: MessageKind,
    /// When the relay received it.
    pub received_at: String,
    /// The call's `REQUEST-ID` header, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The body, when it could be read (sealed at rest like everything).
    pub body: Option<Value>,
    /// Why it was set aside.
    pub reason: String,
    /// When.
    pub parked_at: DateTime<Utc>,
}

impl Record for Parked {
    const KIND: u8 = kind::PARKED;
    fn id(&self) -> Id {
        Id::number(self.seq)
    }
}

fn committed(w: &Writer<'_>) -> Result<u64> {
    Ok(w.meta_u64("relay-seq")?)
}

fn commit(w: &mut Writer<'_>, d: &Delivery) {
    w.set_meta_u64("relay-seq", d.seq);
    w.set_meta_u64("relay-id", d.id);
}

impl<G: Gateway> Desk<G> {
    /// Consumes the relay stream until `stop` turns true (reconnecting as needed).
    pub async fn run_sync(&self, relay: relay_client::ClientConfig, stop: watch::Receiver<bool>) {
        let (tx, mut rx) = watch::channel(Connection::Connecting);
        let status = self.status.clone();
        let forward = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let c = rx.borrow().clone();
                status.send_modify(|s| s.relay = c);
            }
        });
        let mut consumer = SyncConsumer { desk: self };
        relay_client::run(relay, &mut consumer, tx, stop).await;
        forward.abort();
    }

    /// The last relay message committed.
    pub fn relay_committed(&self) -> Result<Committed> {
        Ok(Committed {
            seq: self.store.meta_u64("relay-seq")?,
            id: self.store.meta_u64("relay-id")?,
        })
    }

    /// Applies one relay message, or parks it.
    pub fn apply(&self, d: &Delivery) -> Result<()> {
        let body = match &d.body {
            Ok(body) => body,
            Err(reason) => return self.park(d, None, reason),
        };
        let mut event = match self.gateway.read(&d.path, d.request_id.as_deref(), body) {
            Ok(event) => event,
            Err(reason) => return self.park(d, Some(body), &reason),
        };
        // A data push counts only as one: it came by one of our push paths, which the relay
        // names (never a callback that merely looks like a push).
        if let Event::Request {
            request: Incoming::DataPushed(push),
            ..
        } = &mut event
        {
            if d.kind != MessageKind::Push {
                return self.park(d, None, "a data push that did not come by a push path");
            }
            push.path_id = d.service_id.clone();
        }
        let applied = self.store.write(|w| -> Result<()> {
            if committed(w)? >= d.seq {
                return Ok(()); // Already applied: a resend after a lost ack.
            }
            self.on_event(w, event)?;
            commit(w, d);
            Ok(())
        });
        match applied {
            Ok(()) => {
                self.wake_outbox();
                Ok(())
            }
            // The disk failed: the message comes again after a reconnect.
            Err(e) if e.is_storage() => Err(e),
            Err(e) => self.park(d, Some(body), &e.to_string()),
        }
    }

    fn park(&self, d: &Delivery, body: Option<&Value>, reason: &str) -> Result<()> {
        tracing::warn!(seq = d.seq, path = %d.path, %reason, "a relay message was parked");
        self.store.write(|w| -> Result<()> {
            if committed(w)? >= d.seq {
                return Ok(());
            }
            w.put(&Parked {
                seq: d.seq,
                path: d.path.clone(),
                kind: d.kind,
                received_at: d.received_at.clone(),
                request_id: d.request_id.clone(),
                // A large push that cannot be applied is not worth keeping: whoever holds a push
                // URL could otherwise fill the desk's disk with junk pages.
                body: body
                    .filter(|b| {
                        d.kind != MessageKind::Push
                            || serde_json::to_vec(b).map_or(0, |v| v.len()) <= 1 << 20
                    })
                    .cloned(),
                reason: reason.to_string(),
                parked_at: Utc::now(),
            });
            w.audit(
                "message from ABDM set aside",
                format!("{}: {reason}", d.path),
                None,
            )?;
            commit(w, d);
            Ok(())
        })
    }

    /// Tries every parked message again (at start-up, after an upgrade); returns how many were
    /// applied now.
    pub fn replay_parked(&self) -> Result<usize> {
        let mut applied = 0;
        for parked in self.store.all::<Parked>()? {
            let Some(body) = &parked.body else { continue };
            let Ok(event) = self
                .gateway
                .read(&parked.path, parked.request_id.as_deref(), body)
            else {
                continue;
            };
            let done = self.store.write(|w| -> Result<()> {
                self.on_event(w, event)?;
                w.delete::<Parked>(&Id::number(parked.seq))?;
                w.audit("parked message applied", parked.path.clone(), None)?;
                Ok(())
            });
            match done {
                Ok(()) => applied += 1,
                Err(e) if e.is_storage() => return Err(e),
                Err(e) => {
                    tracing::info!(seq = parked.seq, reason = %e, "a parked message still does not apply")
                }
            }
        }
        Ok(applied)
    }

    /// A refused or unanswered call: its room marks what it was for.
    pub(crate) fn refused(&self, w: &mut Writer<'_>, step: &Step, reason: &str) -> Result<()> {
        match step {
            Step::Hip(step) => self.hip_refused(w, step, reason),
            Step::Hiu(step) => self.hiu_refused(w, step, reason),
            Step::Identity(_) => Ok(()),
        }
    }

    /// Routes one event to its room. Answers find their flow by the pending request; a late,
    /// duplicated or foreign answer is logged and ignored.
    fn on_event(&self, w: &mut Writer<'_>, event: Event) -> Result<()> {
        match event {
            Event::Answer {
                in_reply_to,
                answer,
            } => {
                let Some(pending) = w.get::<Pending>(&Id::uuid(in_reply_to))? else {
                    w.audit(
                        "answer for no waiting request ignored (late, repeated or not ours)",
                        in_reply_to.to_string(),
                        None,
                    )?;
                    return Ok(());
                };
                if pending.step == Step::Identity(crate::identity::Step::ConnectionProbe) {
                    return self.probe_answered(w, &pending);
                }
                if let Answer::Refused { code, message } = &answer {
                    let reason = crate::error::refusal_words(Some(code), message);
                    finish(
                        w,
                        &pending,
                        crate::engine::OutboxState::Failed {
                            reason: reason.clone(),
                            at: Utc::now(),
                        },
                    )?;
                    self.refused(w, &pending.step, &reason)?;
                    self.refused_with_code(w, &pending.step, code)?;
                    w.audit("ABDM refused a request", reason, pending.patient_id)?;
                    return Ok(());
                }
                match pending.step.clone() {
                    Step::Identity(step) => self.identity_answer(w, &pending, step, answer),
                    Step::Hip(step) => self.hip_answer(w, &pending, step, answer),
                    Step::Hiu(step) => self.hiu_answer(w, &pending, step, answer),
                }
            }
            Event::Request {
                request_id,
                request,
            } => match request {
                Incoming::ProfileShared(profile) => self.on_share(w, request_id, profile),
                hiu @ (Incoming::HiuConsent(_) | Incoming::DataPushed(_)) => {
                    self.hiu_request(w, request_id, hiu)
                }
                hip => self.hip_request(w, request_id, hip),
            },
        }
    }
}

struct SyncConsumer<'a, G: Gateway> {
    desk: &'a Desk<G>,
}

impl<G: Gateway> Consumer for SyncConsumer<'_, G> {
    async fn committed(&mut self) -> Committed {
        self.desk.relay_committed().unwrap_or_default()
    }

    async fn apply(&mut self, delivery: Delivery) -> std::result::Result<(), ConsumerError> {
        self.desk
            .apply(&delivery)
            .map_err(|e: DeskError| ConsumerError(e.to_string()))
    }
}
