//! `abdm-relay`: run the bridge-URL server.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use abdm_relay::{hex, sha256, Clinic, RelayConfig, RelayServer};
use clap::{Parser, Subcommand};

/// The clinic's bridge URL: receives ABDM's callbacks and data pushes, stores them durably per
/// clinic, and streams them to each clinic's desk app (which acknowledges what it committed).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[arg(long, env = "ABDM_RELAY_LISTEN", default_value = "127.0.0.1:8091")]
    listen: SocketAddr,
    /// Where the mailboxes live.
    #[arg(long, env = "ABDM_RELAY_DATA", default_value = "relay-data")]
    data_dir: PathBuf,
    /// The gateway's JWKS URL, e.g. https://dev.abdm.gov.in/gateway/v0.5/certs.
    #[arg(long, env = "ABDM_RELAY_JWKS_URL")]
    jwks_url: Option<String>,
    /// Accept gateway tokens this many seconds past expiry (ABDM redelivers after ~16 minutes).
    #[arg(long, env = "ABDM_RELAY_JWT_LEEWAY_S", default_value_t = 1200)]
    jwt_leeway_s: u64,
    /// The path part of the bridge URL registered with ABDM.
    #[arg(long, env = "ABDM_RELAY_BASE_PATH", default_value = "/")]
    base_path: String,
    /// A clinic: ID:TOKEN_SHA256:SERVICE[,SERVICE] (repeatable; `;`-separated in the env variable).
    #[arg(long = "clinic", env = "ABDM_RELAY_CLINICS", value_delimiter = ';')]
    clinics: Vec<String>,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 16)]
    body_limit_mib: usize,
    /// Refuse new messages for a clinic once this many wait undelivered.
    #[arg(long, default_value_t = 1_000_000)]
    max_mailbox: u64,
    /// Remember request ids this many hours to store a redelivered callback once (ABDM redelivers
    /// after ~16 minutes; each id costs the log store ~100 bytes of memory).
    #[arg(long, env = "ABDM_RELAY_DEDUPE_WINDOW_H", default_value_t = 48)]
    dedupe_window_h: u64,
    /// How mailboxes are stored: `log` (append-only log, the fastest) or `sled`.
    #[arg(long, env = "ABDM_RELAY_STORE", default_value = "log")]
    store: abdm_relay::StoreKind,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prints the SHA-256 of a clinic token read from standard input (for --clinic).
    HashToken,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if let Some(Command::HashToken) = args.command {
        let mut token = String::new();
        std::io::stdin()
            .read_to_string(&mut token)
            .expect("read standard input");
        println!("{}", hex(&sha256(token.trim().as_bytes())));
        return;
    }
    let fail = |message: String| -> ! {
        eprintln!("abdm-relay: {message}");
        std::process::exit(2)
    };
    let jwks_url = args
        .jwks_url
        .unwrap_or_else(|| fail("--jwks-url (the gateway's certs URL) is required".into()));
    let clinics: Vec<Clinic> = args
        .clinics
        .iter()
        .map(|c| Clinic::parse(c))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| fail(e));
    if clinics.is_empty() {
        fail("at least one --clinic is required".into());
    }
    let config = RelayConfig {
        listen: args.listen,
        jwt_leeway: Duration::from_secs(args.jwt_leeway_s),
        base_path: args.base_path,
        body_limit: args.body_limit_mib * 1024 * 1024,
        max_mailbox: args.max_mailbox,
        store: args.store,
        dedupe_window: Duration::from_secs(args.dedupe_window_h * 3600),
        ..RelayConfig::new(args.data_dir, jwks_url, clinics)
    };
    let server = RelayServer::start(config).await.unwrap_or_else(|e| fail(e));
    println!("abdm-relay listening on {}", server.url());
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
}
