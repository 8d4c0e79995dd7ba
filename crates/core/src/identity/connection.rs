//! The connection test an admin runs from the clinic settings: each step proven in turn, up to a
//! callback that really came back from ABDM through the relay.

use std::time::Duration;

use desk_store::Id;
use relay_client::Connection;
use serde::Serialize;
use tokio::time::Instant;

use crate::desk::Desk;
use crate::engine::outbox::finish;
use crate::engine::outbox::OutboxItem;
use crate::engine::{OutboxState, Pending};
use crate::error::Result;
use crate::gateway::{Call, Gateway};
use crate::labels::Label;

/// The steps, in the order they are proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CheckStep {
    /// ABDM gives the clinic a session: the client id and secret are right.
    Credentials,
    /// The facility's service is registered with ABDM as HIP and HIU.
    Facility,
    /// ABDM's callbacks for the clinic go to the relay.
    Bridge,
    /// The relay lets this desk in and streams to it.
    Relay,
    /// A question to ABDM was answered by a callback that arrived through the relay.
    Callback,
}

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Which step.
    pub step: CheckStep,
    /// Whether it was proven.
    pub ok: bool,
    /// What was seen, or why it failed, in plain words.
    pub detail: String,
}

/// How long each wait of the test lasts.
#[derive(Debug, Clone, Copy)]
pub struct CheckWaits {
    /// For the relay to stream to the desk.
    pub relay: Duration,
    /// For ABDM's callback (the real sandbox can take several seconds).
    pub callback: Duration,
}

impl Default for CheckWaits {
    fn default() -> Self {
        CheckWaits {
            relay: Duration::from_secs(10),
            callback: Duration::from_secs(45),
        }
    }
}

impl<G: Gateway> Desk<G> {
    /// Runs the connection test, registering the facility (`hf_id`, `name`) and the bridge
    /// (`bridge_url`) on the way, as ABDM keeps whatever it was last told. `report` hears each
    /// step as it is proven; the test stops at the first step that fails (the later ones depend
    /// on it). The answer lists the steps tried.
    #[tracing::instrument(skip(self, report))]
    pub async fn test_connection(
        &self,
        hf_id: &str,
        name: &str,
        bridge_url: &str,
        waits: CheckWaits,
        report: impl Fn(&Check),
    ) -> Result<Vec<Check>> {
        let mut checks = Vec::new();
        let mut record = |step: CheckStep, outcome: std::result::Result<String, String>| {
            let check = Check {
                step,
                ok: outcome.is_ok(),
                detail: outcome.unwrap_or_else(|e| e),
            };
            report(&check);
            let ok = check.ok;
            checks.push(check);
            ok
        };
        let words = |e: abdm::AbdmError| crate::DeskError::from(e).to_string();

        let credentials = self.gateway.check_credentials().await;
        if !record(
            CheckStep::Credentials,
            credentials
                .map(|()| "ABDM accepted the client id and secret".into())
                .map_err(words),
        ) {
            return self.tested(checks);
        }
        let facility = self.register_facility(hf_id, name).await;
        if !record(
            CheckStep::Facility,
            facility
                .map(|f| format!("{} ({}) is registered as HIP and HIU", f.name, f.hf_id))
                .map_err(|e| e.to_string()),
        ) {
            return self.tested(checks);
        }
        let bridge = self.register_bridge(bridge_url).await;
        if !record(
            CheckStep::Bridge,
            bridge
                .map(|()| format!("ABDM calls the clinic back at {bridge_url}"))
                .map_err(|e| e.to_string()),
        ) {
            return self.tested(checks);
        }
        if !record(CheckStep::Relay, self.relay_streams(waits.relay).await) {
            return self.tested(checks);
        }
        let callback = self.probe_callback(waits.callback).await?;
        record(CheckStep::Callback, callback);
        self.tested(checks)
    }

    fn tested(&self, checks: Vec<Check>) -> Result<Vec<Check>> {
        let passed = checks.iter().all(|c| c.ok) && checks.len() == 5;
        let last = checks.last().map(|c| c.detail.clone()).unwrap_or_default();
        self.store.write(|w| {
            w.audit(
                if passed {
                    "connection test passed"
                } else {
                    "connection test failed"
                },
                last,
                None,
            )
        })?;
        Ok(checks)
    }

    /// Waits until the relay streams to the desk.
    async fn relay_streams(&self, wait: Duration) -> std::result::Result<String, String> {
        let mut status = self.status();
        let deadline = Instant::now() + wait;
        loop {
            let relay = status.borrow_and_update().relay.clone();
            match relay {
                Connection::Online { .. } => {
                    return Ok("the relay let this desk in and streams to it".into())
                }
                other if Instant::now() >= deadline => {
                    return Err(match other {
                        Connection::Offline { reason, .. } => format!("the relay: {reason}"),
                        _ => "the relay did not answer: check its URL and this desk's token".into(),
                    })
                }
                _ => {}
            }
            let _ = tokio::time::timeout_at(deadline, status.changed()).await;
        }
    }

    /// Asks ABDM which ways an ABHA that no one has can be verified. ABDM's answer (a refusal,
    /// "not found") comes as a callback: through the bridge, the relay and the sync. Waits for
    /// it; on time-out the question is withdrawn from the outbox.
    async fn probe_callback(&self, wait: Duration) -> Result<std::result::Result<String, String>> {
        let abha = format!(
            "abdm-desk-connection-test@{}",
            self.config.environment.cm_id()
        );
        let request_id = self.store.write(|w| {
            self.enqueue(
                w,
                &Call::ConnectionProbe { abha },
                Label::new("connection-test", &[]),
                None,
                Some(crate::engine::Step::Identity(super::Step::ConnectionProbe)),
            )
        })?;
        self.wake_outbox();
        let outbox_id = self
            .store
            .get::<Pending>(&Id::uuid(request_id))?
            .map(|p| p.outbox_id);
        let sent = Instant::now();
        let deadline = sent + wait;
        while Instant::now() < deadline {
            if self.store.get::<Pending>(&Id::uuid(request_id))?.is_none() {
                // Gone: answered (done), or given up by the outbox (failed, with its reason).
                let item = outbox_id
                    .map(|id| self.store.get::<OutboxItem>(&Id::number(id)))
                    .transpose()?
                    .flatten();
                return Ok(match item.map(|i| i.state) {
                    Some(OutboxState::Done { .. }) => Ok(format!(
                        "ABDM's callback arrived through the relay after {:.1} s",
                        sent.elapsed().as_secs_f32()
                    )),
                    Some(OutboxState::Failed { reason, .. }) => {
                        Err(format!("ABDM did not take the test question: {reason}"))
                    }
                    _ => Err("the test question was withdrawn before ABDM answered".into()),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.store.write(|w| -> Result<()> {
            if let Some(pending) = w.get::<Pending>(&Id::uuid(request_id))? {
                finish(
                    w,
                    &pending,
                    OutboxState::Failed {
                        reason: "no callback came: the connection test gave up".into(),
                        at: chrono::Utc::now(),
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(Err(format!(
            "no callback came back within {} s: ABDM may not have the bridge URL yet, or the relay does not forward the facility's callbacks to this desk",
            wait.as_secs()
        )))
    }

    /// ABDM answered the connection test's question (any answer, a refusal too, proves the way).
    pub(crate) fn probe_answered(
        &self,
        w: &mut desk_store::Writer<'_>,
        pending: &Pending,
    ) -> Result<()> {
        finish(
            w,
            pending,
            OutboxState::Done {
                at: chrono::Utc::now(),
            },
        )
    }
}
