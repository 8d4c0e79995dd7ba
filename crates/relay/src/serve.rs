//! The accept loop: a cap on connections served at once, a deadline for each request's headers,
//! and a graceful end when the relay stops. (axum's own `serve` has neither a cap nor a header
//! deadline, and a public server needs both against slow or numerous clients.)

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::Shared;

const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

pub(crate) async fn serve(listener: TcpListener, router: Router, relay: Shared) {
    let permits = Arc::new(Semaphore::new(relay.config.max_connections));
    let mut closing = relay.closing.subscribe();
    loop {
        let (mut socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = closing.changed() => return,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            relay
                .metrics
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, limit = relay.config.max_connections, "too many connections: refused one");
            tokio::spawn(async move {
                let _ = socket.write_all(BUSY).await;
            });
            continue;
        };
        let _ = socket.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let header_timeout = relay.config.header_timeout;
        let mut closing = relay.closing.subscribe();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(64 * 1024);
            let connection = http
                .serve_connection(TokioIo::new(socket), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(permit);
        });
    }
}
