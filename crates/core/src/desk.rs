//! The desk: its configuration, its parts, and the connection state a front end shows.

use std::sync::Arc;
use std::time::Duration;

use desk_store::{Secrets, Store};
use relay_client::Connection;
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

use crate::gateway::{AnyGateway, Gateway};

/// Which ABDM the clinic talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    /// Our offline simulator, embedded in the app (the default for a new clinic).
    #[default]
    EmbeddedSandbox,
    /// ABDM's own sandbox.
    AbdmSandbox,
    /// Live ABDM.
    Production,
}

impl Environment {
    /// The consent manager's id (`X-CM-ID`).
    pub fn cm_id(self) -> &'static str {
        match self {
            Environment::EmbeddedSandbox | Environment::AbdmSandbox => "sbx",
            Environment::Production => "abdm",
        }
    }
}

/// How the outbox retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPolicy {
    /// Tries of a call ABDM answers with 429 or 5xx before it is set aside.
    pub max_attempts: u32,
    /// First wait after a failure.
    pub backoff_min: Duration,
    /// Longest wait.
    pub backoff_max: Duration,
    /// While ABDM refuses the credentials, how often they are tried again.
    pub credentials_recheck: Duration,
}

impl Default for OutboxPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(300),
            credentials_recheck: Duration::from_secs(60),
        }
    }
}

/// What a desk is configured with; nothing sandbox-specific is assumed elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskConfig {
    /// Which ABDM.
    pub environment: Environment,
    /// `X-CM-ID` (`sbx`, `abdm`).
    pub cm_id: String,
    /// The suffix of ABHA addresses typed without one (`sbx`, `abdm`).
    pub abha_suffix: String,
    /// The clinic's HIP/HIU service id (its HFR id).
    pub service_id: String,
    /// How long to wait for ABDM's callback, counted from the send (ABDM redelivers a callback
    /// once, about 16 minutes late).
    pub answer_timeout: Duration,
    /// Retries.
    pub outbox: OutboxPolicy,
    /// The clinic's SMS provider (`POST {"to", "text"}`), for link OTPs; none: patients link
    /// at the desk instead.
    pub sms_url: Option<String>,
    /// How long a patient-initiated link OTP is valid.
    pub link_otp_valid_for: Duration,
    /// How long to wait for the rest of a push once a page came, before failing it.
    pub push_wait: Duration,
    /// Whether health data may be pushed to this computer or a private network (only the
    /// embedded sandbox's peer hospitals live there).
    pub allow_local_push: bool,
}

impl DeskConfig {
    /// The settings of `environment` for the clinic `service_id`.
    pub fn new(environment: Environment, service_id: impl Into<String>) -> Self {
        Self {
            environment,
            cm_id: environment.cm_id().into(),
            abha_suffix: environment.cm_id().into(),
            service_id: service_id.into(),
            answer_timeout: Duration::from_secs(20 * 60),
            outbox: OutboxPolicy::default(),
            sms_url: None,
            link_otp_valid_for: Duration::from_secs(10 * 60),
            push_wait: Duration::from_secs(10 * 60),
            allow_local_push: environment == Environment::EmbeddedSandbox,
        }
    }
}

/// Whether ABDM answers, as the desk last saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reachability {
    /// Not tried yet.
    Unknown,
    /// Calls go through.
    Online,
    /// Calls do not get through.
    Offline {
        /// Why.
        reason: String,
    },
}

/// The connectivity a front end shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The relay stream.
    pub relay: Connection,
    /// ABDM itself.
    pub abdm: Reachability,
    /// Set while ABDM refuses the clinic's credentials: the outbox waits, nothing is lost.
    pub outbox_paused: Option<String>,
}

/// The clinic's desk without a window: every flow, the outbox, the relay sync. Front ends use its
/// methods and the view types ([`crate::view`]); see `lib.rs` for the map.
pub struct Desk<G: Gateway = AnyGateway> {
    pub(crate) config: DeskConfig,
    pub(crate) store: Arc<Store>,
    /// Where per-consent keys go (deleting one erases its records).
    pub(crate) secrets: Arc<dyn Secrets>,
    /// The relay, once started (push paths are opened there).
    pub(crate) relay: std::sync::Mutex<Option<relay_client::ClientConfig>>,
    pub(crate) gateway: Arc<G>,
    /// For the SMS provider (ABDM calls go through the gateway).
    pub(crate) http: reqwest::Client,
    pub(crate) outbox_wake: Notify,
    pub(crate) status: watch::Sender<Status>,
}

impl<G: Gateway> Desk<G> {
    /// A desk over its store, its secrets and a gateway.
    pub fn new(
        config: DeskConfig,
        store: Arc<Store>,
        secrets: Arc<dyn Secrets>,
        gateway: Arc<G>,
    ) -> Self {
        let (status, _) = watch::channel(Status {
            relay: Connection::Connecting,
            abdm: Reachability::Unknown,
            outbox_paused: None,
        });
        Self {
            config,
            store,
            secrets,
            gateway,
            relay: std::sync::Mutex::new(None),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap_or_default(),
            outbox_wake: Notify::new(),
            status,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DeskConfig {
        &self.config
    }

    /// The store, for tools and tests (front ends use the views).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The gateway in use.
    pub fn gateway(&self) -> &G {
        &self.gateway
    }

    /// Connection state, as it changes.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    pub(crate) fn set_abdm(&self, abdm: Reachability) {
        self.status.send_if_modified(|s| {
            let changed = s.abdm != abdm;
            s.abdm = abdm;
            changed
        });
    }

    /// Wakes the outbox (something was queued).
    pub(crate) fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }
}
