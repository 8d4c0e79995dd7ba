//! The clinic's internet line, with the embedded sandbox: a loopback TCP proxy between the desk
//! and "the internet" (the sandbox's ABDM and the relay). Pulling it refuses new connections and
//! cuts the open ones, exactly what a dropped line does to the desk; the sandbox and the relay
//! keep talking to each other, as ABDM and a cloud relay would.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One proxied address.
pub struct Cable {
    /// Where the desk connects.
    pub addr: SocketAddr,
    plugged: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Cable {
    /// Starts a proxy on a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Cable> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let (plugged, watch) = watch::channel(true);
        let watch = Arc::new(watch);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut plugged = (*watch).clone();
                if !*plugged.borrow() {
                    drop(inbound); // Unplugged: the connection is reset at once.
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = plugged.wait_for(|p| !*p) => {} // Pulled: cut mid-stream.
                    }
                });
            }
        });
        Ok(Cable {
            addr,
            plugged,
            task,
        })
    }

    /// Plugs the line in or pulls it out.
    pub fn set_plugged(&self, plugged: bool) {
        self.plugged.send_replace(plugged);
    }

    /// Whether the line is in.
    pub fn is_plugged(&self) -> bool {
        *self.plugged.borrow()
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        self.task.abort();
    }
}
