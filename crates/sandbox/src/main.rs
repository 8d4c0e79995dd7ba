//! `abdm-sandbox`: run our offline ABDM on a port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use abdm_sandbox::{ClientSpec, ConsentPolicy, Sandbox, SandboxConfig};
use clap::Parser;

/// An offline ABDM for development and tests: gateway, ABHA service, consent manager, peer HIP and
/// HIU, in both generations at once (v0.5 with health id v1 below /gateway and /healthid; HIECM v3
/// below /api/hiecm with ABHA v3 below /abha/api). A client is answered in the generation of its
/// own calls. Default client: abdm-desk / sandbox-secret, service IN2710000001_1.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "ABDM_SANDBOX_LISTEN", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Delay before each callback, in milliseconds (the real sandbox takes about 1900).
    #[arg(long, default_value_t = 1900)]
    callback_delay_ms: u64,
    /// Redeliver a refused callback once after this many seconds (0: never). ABDM: about 960.
    #[arg(long, default_value_t = 960)]
    redeliver_after_s: u64,
    /// Use this fixed OTP instead of random ones (development only).
    #[arg(long)]
    dev_otp: Option<String>,
    /// OTP validity in seconds.
    #[arg(long, default_value_t = 600)]
    otp_ttl_s: u64,
    /// How the simulated patients answer consent requests.
    #[arg(long, value_enum, default_value_t = ConsentPolicy::Grant)]
    consent_policy: ConsentPolicy,
    /// Write every HTTP exchange to this JSONL file (secrets left out).
    #[arg(long)]
    exchange_log: Option<PathBuf>,
    /// FHIR bundles (*.json) the peer HIP serves; a built-in demo set by default.
    #[arg(long)]
    records: Option<PathBuf>,
    /// Another ABDM client besides the desk's, as ID:SECRET[:SERVICE] (repeatable).
    #[arg(long = "client")]
    clients: Vec<String>,
    /// The generation clients are answered in before their first call says which they speak:
    /// `v0.5` or `v3`.
    #[arg(long, default_value = "v0.5", value_parser = generation)]
    generation: abdm::Generation,
    /// v3: seconds another link token for the same patient and HIP is refused (ABDM-1092).
    #[arg(long, default_value_t = 368)]
    link_token_guard_s: u64,
    /// ABHA v3's RSA key size (the real service's is 4096).
    #[arg(long, default_value_t = 2048)]
    abha_key_bits: usize,
}

fn generation(text: &str) -> Result<abdm::Generation, String> {
    abdm::Generation::parse(text).ok_or_else(|| format!("{text:?}: use v0.5 or v3"))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if let Some(otp) = &args.dev_otp {
        if abdm::ids::check_otp(otp).is_err() {
            eprintln!("abdm-sandbox: --dev-otp must be 6 digits");
            std::process::exit(2);
        }
    }
    let mut clients = vec![ClientSpec {
        generation: args.generation,
        ..ClientSpec::desk_default()
    }];
    for spec in &args.clients {
        match ClientSpec::parse(spec) {
            Ok(c) => clients.push(ClientSpec {
                generation: args.generation,
                ..c
            }),
            Err(e) => {
                eprintln!("abdm-sandbox: {e}");
                std::process::exit(2);
            }
        }
    }
    let config = SandboxConfig {
        clients,
        listen: args.listen,
        callback_delay: Duration::from_millis(args.callback_delay_ms),
        redelivery_after: (args.redeliver_after_s > 0)
            .then(|| Duration::from_secs(args.redeliver_after_s)),
        dev_otp: args.dev_otp,
        otp_ttl: Duration::from_secs(args.otp_ttl_s),
        consent_policy: args.consent_policy,
        exchange_log: args.exchange_log,
        records_dir: args.records,
        link_token_guard: Duration::from_secs(args.link_token_guard_s),
        abha_key_bits: args.abha_key_bits.clamp(2048, 4096),
        ..SandboxConfig::default()
    };
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("abdm-sandbox: cannot listen on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    println!("ABDM sandbox at {}", sandbox.url());
    println!("  gateway      {}", sandbox.gateway_url());
    println!("  ABHA service {}", sandbox.healthid_url());
    println!("  patient phone {}/phone", sandbox.url());
    let _ = tokio::signal::ctrl_c().await;
    sandbox.stop().await;
}
