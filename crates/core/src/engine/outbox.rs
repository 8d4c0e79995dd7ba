//! The outbox: every ABDM call is stored first — its request id fixed — and sent from here, so a
//! crash or a network cut never loses it and a retry is the same request.
//!
//! * Two kinds of work: a prepared body (small calls), or a [`Job`] built when it is sent (never
//!   inside a store write).
//! * No network: the queue waits in order, with growing pauses, and counts no attempt.
//! * ABDM refuses the clinic's credentials: the whole queue pauses with the reason shown, and
//!   every item stays.
//! * 429 or 5xx: that item backs off on its own and, after `max_attempts`, is set aside (failed,
//!   with the reason, retryable by hand) so it never blocks the others.
//! * Any other refusal: failed with ABDM's reason.
//! * A finished item keeps no body: an OTP leaves no trace.

use chrono::{DateTime, Utc};
use desk_store::{kind, Id, StoreError, Writer};
use tokio::sync::watch;
use uuid::Uuid;

use crate::desk::{Desk, Reachability};
use crate::engine::step::{Job, Pending, Step};
use crate::error::{DeskError, Result};
use crate::gateway::{Call, Gateway, Outgoing};
use crate::labels::Label;

pub(crate) use super::item::{finish, put_item};
pub use super::item::{OutboxItem, OutboxState, Work};

fn failed(reason: impl Into<String>) -> OutboxState {
    OutboxState::Failed {
        reason: reason.into(),
        at: Utc::now(),
    }
}

impl<G: Gateway> Desk<G> {
    /// Queues a call in the same write as the flow's other changes; with a step, its answer
    /// continues the flow. Returns the request id.
    pub(crate) fn enqueue(
        &self,
        w: &mut Writer<'_>,
        call: &Call,
        label: Label,
        patient_id: Option<Uuid>,
        step: Option<Step>,
    ) -> Result<Uuid> {
        let request_id = Uuid::new_v4();
        let prepared = self.gateway.prepare(call, request_id);
        let id = self.enqueue_work(w, request_id, Work::Call(prepared), label, patient_id)?;
        if let Some(step) = step {
            w.put(&Pending {
                request_id,
                step,
                patient_id,
                outbox_id: id,
                created_at: Utc::now(),
            });
        }
        Ok(request_id)
    }

    /// Queues a job (built when it is sent).
    pub(crate) fn enqueue_job(
        &self,
        w: &mut Writer<'_>,
        job: Job,
        label: Label,
        patient_id: Option<Uuid>,
    ) -> Result<u64> {
        self.enqueue_work(w, Uuid::new_v4(), Work::Job(job), label, patient_id)
    }

    fn enqueue_work(
        &self,
        w: &mut Writer<'_>,
        request_id: Uuid,
        work: Work,
        label: Label,
        patient_id: Option<Uuid>,
    ) -> Result<u64> {
        let id = w.next_counter("outbox-seq")?;
        put_item(
            w,
            &OutboxItem {
                id,
                request_id,
                work,
                label: label.english,
                label_key: label.key,
                label_args: label.args,
                patient_id,
                state: OutboxState::Queued,
                attempts: 0,
                last_error: None,
                created_at: Utc::now(),
                sent_at: None,
                next_try_at: None,
            },
        );
        Ok(id)
    }

    /// Puts a failed item back in the queue (a person pressed "retry").
    pub fn retry_outbox(&self, id: u64) -> Result<()> {
        self.store.write(|w| -> Result<()> {
            let mut item = w
                .get::<OutboxItem>(&Id::number(id))?
                .ok_or_else(|| DeskError::NotFound(format!("no outbox item {id}")))?;
            if !matches!(item.state, OutboxState::Failed { .. }) || item.work == Work::Finished {
                return Err(DeskError::Input(
                    "only a failed call that still has its content can be sent again".into(),
                ));
            }
            item.state = OutboxState::Queued;
            item.attempts = 0;
            item.next_try_at = None;
            put_item(w, &item);
            w.audit(
                "outbox item queued again by hand",
                item.label.clone(),
                item.patient_id,
            )?;
            Ok(())
        })?;
        self.wake_outbox();
        Ok(())
    }

    /// The first queued item whose time has come, or when the next one is due.
    fn next_due(&self) -> Result<std::result::Result<OutboxItem, Option<DateTime<Utc>>>> {
        let now = Utc::now();
        let mut soonest: Option<DateTime<Utc>> = None;
        for raw in self.store.index_ids(kind::QUEUED, 1000)? {
            let id = u64::from_be_bytes(
                raw.as_slice()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("outbox queue index".into()))?,
            );
            let Some(item) = self.store.get::<OutboxItem>(&Id::number(id))? else {
                continue;
            };
            match item.next_try_at {
                Some(at) if at > now => soonest = Some(soonest.map_or(at, |s| s.min(at))),
                _ => return Ok(Ok(item)),
            }
        }
        Ok(Err(soonest))
    }

    /// Records the outcome of one send of `item`.
    fn record(
        &self,
        item: &OutboxItem,
        outcome: std::result::Result<(), abdm::AbdmError>,
    ) -> Result<()> {
        let policy = self.config.outbox;
        self.store.write(|w| -> Result<()> {
            let Some(mut it) = w.get::<OutboxItem>(&Id::number(item.id))? else {
                return Ok(());
            };
            let now = Utc::now();
            let is_job = matches!(it.work, Work::Job(_));
            if it.state != OutboxState::Queued {
                // ABDM answered (or refused) before this send was recorded: its state stands.
                it.sent_at = Some(now);
                put_item(w, &it);
                return Ok(());
            }
            match outcome {
                Ok(()) => {
                    it.sent_at = Some(now);
                    it.last_error = None;
                    if w.get::<Pending>(&Id::uuid(it.request_id))?.is_some() {
                        it.state = OutboxState::WaitingForAbdm { since: now };
                    } else {
                        it.state = OutboxState::Done { at: now };
                        it.work = Work::Finished;
                    }
                }
                // A job talks to others than ABDM (a hospital, the SMS provider, the relay):
                // when they cannot be reached it backs off alone instead of holding the queue.
                Err(e) if e.is_retryable() && (is_job || !e.is_unreachable()) => {
                    it.attempts += 1;
                    let reason = DeskError::from(e).to_string();
                    if it.attempts >= policy.max_attempts {
                        let why = format!("failed {} times; set aside: {reason}", it.attempts);
                        it.state = failed(why.clone());
                        self.job_failed(w, &it.work, &why)?;
                        if is_job {
                            it.work = Work::Finished; // Nothing to retry by hand; no OTP kept.
                        }
                        w.delete::<Pending>(&Id::uuid(it.request_id))?;
                        w.audit(
                            "call set aside",
                            format!("{}: {why}", it.label),
                            it.patient_id,
                        )?;
                    } else {
                        let wait = policy
                            .backoff_min
                            .saturating_mul(1 << it.attempts.min(20))
                            .min(policy.backoff_max);
                        it.next_try_at =
                            Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
                    }
                    it.last_error = Some(reason);
                }
                Err(e) if e.is_unreachable() => {
                    it.last_error = Some(DeskError::from(e).to_string())
                }
                Err(e) => {
                    let reason = DeskError::from(e).to_string();
                    it.state = failed(reason.clone());
                    self.job_failed(w, &it.work, &reason)?;
                    it.work = Work::Finished;
                    it.last_error = Some(reason.clone());
                    w.delete::<Pending>(&Id::uuid(it.request_id))?;
                    w.audit(
                        "call failed",
                        format!("{}: {reason}", it.label),
                        it.patient_id,
                    )?;
                }
            }
            put_item(w, &it);
            Ok(())
        })
    }

    async fn send_item(&self, item: &OutboxItem) -> std::result::Result<(), abdm::AbdmError> {
        match &item.work {
            Work::Call(prepared) => {
                let out = Outgoing {
                    request_id: item.request_id,
                    timestamp: abdm::Timestamp::now(),
                };
                self.gateway.send(prepared, out).await
            }
            Work::Job(job) => self.run_job(job).await,
            Work::Finished => Ok(()),
        }
    }

    /// Sends queued calls until `stop` turns true (see the module documentation).
    pub async fn run_outbox(&self, mut stop: watch::Receiver<bool>) {
        let policy = self.config.outbox;
        let mut backoff = policy.backoff_min;
        while !*stop.borrow() {
            let paused = self.status.borrow().outbox_paused.clone();
            if let Some(reason) = paused {
                tracing::warn!(%reason, "outbox paused");
                tokio::select! {
                    _ = tokio::time::sleep(policy.credentials_recheck) => {}
                    _ = self.outbox_wake.notified() => {}
                    _ = stop.changed() => {}
                }
                if self.gateway.check_credentials().await.is_ok() {
                    self.status.send_modify(|s| s.outbox_paused = None);
                    tracing::info!("ABDM accepts the credentials again; the outbox resumes");
                }
                continue;
            }
            let wait = match self.next_due() {
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox");
                    std::time::Duration::from_secs(5)
                }
                Ok(Err(soonest)) => soonest
                    .and_then(|at| (at - Utc::now()).to_std().ok())
                    .unwrap_or(std::time::Duration::from_secs(5))
                    .min(std::time::Duration::from_secs(5)),
                Ok(Ok(item)) => {
                    let outcome = self.send_item(&item).await;
                    match &outcome {
                        Err(e) if e.is_credentials() => {
                            let reason = crate::error::paused_words(e);
                            self.status
                                .send_modify(|s| s.outbox_paused = Some(reason.clone()));
                            let _ = self.store.write(|w| w.audit("outbox paused", reason, None));
                            continue;
                        }
                        _ if matches!(item.work, Work::Job(_)) => {}
                        Err(abdm::AbdmError::Unreachable { detail, .. }) => {
                            self.set_abdm(Reachability::Offline {
                                reason: detail.clone(),
                            });
                        }
                        _ => {
                            self.set_abdm(Reachability::Online);
                            backoff = policy.backoff_min;
                        }
                    }
                    let offline = matches!(item.work, Work::Call(_))
                        && matches!(outcome, Err(abdm::AbdmError::Unreachable { .. }));
                    if let Err(e) = self.record(&item, outcome) {
                        tracing::error!(error = %e, "cannot record an outbox item's outcome");
                    }
                    if !offline {
                        continue;
                    }
                    let wait = backoff;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.outbox_wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }
}
