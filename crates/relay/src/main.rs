//! `abdm-relay`: run the bridge-URL server.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use abdm_relay::{hex, sha256, Clinic, RelayConfig, RelayServer};
use clap::{Parser, Subcommand};

/// The clinic's bridge URL: receives ABDM's callbacks and data pushes, stores them durably per
/// clinic (sealed to each clinic's key), and streams them to each clinic's desk app (which
/// acknowledges what it committed).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[arg(long, env = "ABDM_RELAY_LISTEN", default_value = "127.0.0.1:8091")]
    listen: SocketAddr,
    /// Serve /metrics here (never on the public listener), e.g. 127.0.0.1:9091.
    #[arg(long, env = "ABDM_RELAY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Where the mailboxes live.
    #[arg(long, env = "ABDM_RELAY_DATA", default_value = "relay-data")]
    data_dir: PathBuf,
    /// The gateway's JWKS URL (https, or http on this computer), e.g.
    /// https://dev.abdm.gov.in/gateway/v0.5/certs.
    #[arg(long, env = "ABDM_RELAY_JWKS_URL")]
    jwks_url: Option<String>,
    /// ABDM v3 serves its JWKS only behind a session bearer: the client id to get one with (its
    /// secret in ABDM_RELAY_JWKS_CLIENT_SECRET, never on the command line).
    #[arg(long, env = "ABDM_RELAY_JWKS_CLIENT_ID")]
    jwks_client_id: Option<String>,
    /// The consent manager's id for that session: `sbx` or `abdm`.
    #[arg(long, env = "ABDM_RELAY_CM_ID", default_value = "sbx")]
    cm_id: String,
    /// The issuer callback tokens must carry (default: the central-registry realm on the JWKS URL's
    /// origin).
    #[arg(long, env = "ABDM_RELAY_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The client id callback tokens must name.
    #[arg(long, env = "ABDM_RELAY_GATEWAY_CLIENT", default_value = abdm::jwt::GATEWAY_CLIENT)]
    gateway_client: String,
    /// Accept gateway tokens this many seconds past expiry (ABDM redelivers after ~16 minutes).
    #[arg(long, env = "ABDM_RELAY_JWT_LEEWAY_S", default_value_t = 1200)]
    jwt_leeway_s: u64,
    /// The path part of the bridge URL registered with ABDM.
    #[arg(long, env = "ABDM_RELAY_BASE_PATH", default_value = "/")]
    base_path: String,
    /// A clinic: ID:TOKEN_SHA256:PUBLIC_KEY:SERVICE[,SERVICE] (repeatable; `;`-separated in the
    /// env variable).
    #[arg(long = "clinic", env = "ABDM_RELAY_CLINICS", value_delimiter = ';')]
    clinics: Vec<String>,
    /// Largest request body, in MiB (at most 64).
    #[arg(long, default_value_t = 16)]
    body_limit_mib: usize,
    /// Refuse new messages for a clinic once this many wait undelivered.
    #[arg(long, default_value_t = 1_000_000)]
    max_mailbox: u64,
    /// … or once this many MiB wait.
    #[arg(long, default_value_t = 1024)]
    max_mailbox_mib: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Remember request ids this many hours to store a redelivered callback once (ABDM redelivers
    /// after ~16 minutes; each id costs the log store ~100 bytes of memory).
    #[arg(long, env = "ABDM_RELAY_DEDUPE_WINDOW_H", default_value_t = 48)]
    dedupe_window_h: u64,
    /// An acknowledged message is off the disk within this many minutes.
    #[arg(long, default_value_t = 60)]
    erase_within_min: u64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prints the SHA-256 of a clinic token read from standard input (for --clinic).
    HashToken,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match try_main(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("abdm-relay: {message}");
            ExitCode::from(2)
        }
    }
}

async fn try_main(args: Args) -> Result<(), String> {
    if let Some(Command::HashToken) = args.command {
        let mut token = String::new();
        std::io::stdin()
            .read_to_string(&mut token)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        println!("{}", hex(&sha256(token.trim().as_bytes())));
        return Ok(());
    }
    let jwks_url = args
        .jwks_url
        .ok_or("--jwks-url (the gateway's certs URL) is required")?;
    let clinics: Vec<Clinic> = args
        .clinics
        .iter()
        .map(|c| Clinic::parse(c))
        .collect::<Result<_, _>>()?;
    if clinics.is_empty() {
        return Err("at least one --clinic is required".into());
    }
    let jwks_client = match args.jwks_client_id {
        None => None,
        Some(client_id) => Some(abdm_relay::JwksClient {
            client_id,
            client_secret: std::env::var("ABDM_RELAY_JWKS_CLIENT_SECRET").map_err(|_| {
                "--jwks-client-id needs its secret in ABDM_RELAY_JWKS_CLIENT_SECRET".to_string()
            })?,
            cm_id: args.cm_id,
        }),
    };
    let config = RelayConfig {
        listen: args.listen,
        jwks_client,
        metrics_listen: args.metrics_listen,
        jwt_issuer: args.jwt_issuer,
        gateway_client: args.gateway_client,
        jwt_leeway: Duration::from_secs(args.jwt_leeway_s),
        base_path: args.base_path,
        body_limit: args.body_limit_mib * 1024 * 1024,
        max_mailbox: args.max_mailbox,
        max_mailbox_bytes: args.max_mailbox_mib * 1024 * 1024,
        max_connections: args.max_connections,
        dedupe_window: Duration::from_secs(args.dedupe_window_h * 3600),
        erase_within: Duration::from_secs(args.erase_within_min * 60),
        ..RelayConfig::new(args.data_dir, jwks_url, clinics)
    };
    let server = RelayServer::start(config).await?;
    println!("abdm-relay listening on {}", server.url());
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    Ok(())
}
