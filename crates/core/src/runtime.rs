//! The one place the desk's loops start: the outbox, the relay sync and the timers. Every front
//! end, test and benchmark uses [`Desk::start`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::desk::Desk;
use crate::gateway::Gateway;

/// The running loops of a desk.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops every loop and waits for them.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

impl<G: Gateway> Desk<G> {
    /// Starts the outbox, the relay sync (when a relay is given) and the timers; first tries any
    /// parked message again (a newer version may now apply it).
    pub fn start(self: &Arc<Self>, relay: Option<relay_client::ClientConfig>) -> Running {
        match self.replay_parked() {
            Ok(n) if n > 0 => tracing::info!(applied = n, "parked messages applied"),
            Err(e) => tracing::error!(error = %e, "cannot replay parked messages"),
            _ => {}
        }
        // Records whose consent ended while the desk was off are made unreadable before anything
        // else runs.
        if let Err(e) = self.archive_due() {
            tracing::error!(error = %e, "cannot archive records whose consent ended");
        }
        *self.relay.lock().expect("relay config") = relay.clone();
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let desk = self.clone();
        let rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move { desk.run_outbox(rx).await }));
        if let Some(relay) = relay {
            let desk = self.clone();
            let rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move { desk.run_sync(relay, rx).await }));
        }
        let desk = self.clone();
        let mut rx = stop_rx;
        let every = (desk.config.answer_timeout.min(desk.config.push_wait) / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(30));
        tasks.push(tokio::spawn(async move {
            loop {
                desk.tick();
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = rx.changed() => break,
                }
            }
        }));
        Running { stop, tasks }
    }
}
