//! `/metrics` in Prometheus's text format, on the metrics listener only.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::Shared;

pub(crate) async fn metrics(State(relay): State<Shared>) -> Response {
    let m = &relay.metrics;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    };
    counter(
        "relay_received_total",
        "Calls received.",
        m.received.load(Ordering::Relaxed),
    );
    counter(
        "relay_stored_total",
        "Messages stored (durable).",
        m.stored.load(Ordering::Relaxed),
    );
    counter(
        "relay_duplicates_total",
        "Redeliveries recognised and stored once.",
        m.duplicates.load(Ordering::Relaxed),
    );
    counter(
        "relay_delivered_total",
        "Messages acknowledged by desks.",
        m.delivered.load(Ordering::Relaxed),
    );
    out.push_str("# HELP relay_rejected_total Calls refused, by reason.\n# TYPE relay_rejected_total counter\n");
    for (reason, v) in [
        ("auth", &m.rejected_auth),
        ("input", &m.rejected_input),
        ("unknown", &m.rejected_unknown),
        ("mailbox_full", &m.rejected_full),
        ("connections", &m.rejected_connections),
    ] {
        out.push_str(&format!(
            "relay_rejected_total{{reason=\"{reason}\"}} {}\n",
            v.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP relay_mailbox_depth Messages waiting for each clinic.\n# TYPE relay_mailbox_depth gauge\n");
    let mut ids: Vec<&String> = relay.clinics.keys().collect();
    ids.sort();
    for id in &ids {
        out.push_str(&format!(
            "relay_mailbox_depth{{clinic=\"{id}\"}} {}\n",
            relay.store.mailbox(id).depth
        ));
    }
    out.push_str("# HELP relay_mailbox_bytes Bytes waiting for each clinic.\n# TYPE relay_mailbox_bytes gauge\n");
    for id in &ids {
        out.push_str(&format!(
            "relay_mailbox_bytes{{clinic=\"{id}\"}} {}\n",
            relay.store.mailbox(id).bytes
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], out).into_response()
}
