//! `deskctl`: desk-core without a window, for demos, tests, servers and power users.
//!
//! `main → try_main → Result`: commands return errors instead of exiting, so servers started by a
//! command are stopped and temporary folders removed on every path.

mod cmd;
mod open;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What went wrong, in plain words (printed as `deskctl: …`).
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// A command's result.
pub type Outcome = Result<(), Failure>;

#[derive(Parser)]
#[command(version, about = "ABDM Desk without a window")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every flow end to end against an embedded sandbox and relay on loopback, printing each step.
    Demo(cmd::demo::Demo),
    /// Runs a headless desk: sends the outbox and applies the relay stream until stopped.
    Run(cmd::run::Run),
    /// Shows the outbox (every ABDM call and its state) and the messages set aside.
    Queue(cmd::queue::Queue),
    /// Records a consultation from a JSON file (saved at once; its linking waits in the outbox).
    Consult(cmd::consult::Consult),
    /// Prints the audit log (--json: one JSON object per line, for export).
    Audit(cmd::audit::Audit),
    /// Prints the clinic's relay public key (for the relay's --clinic), creating the key if needed.
    ClinicKey(cmd::clinic_key::ClinicKey),
    /// QR codes from the webcam, in photos or in saved webcam frames.
    Qr {
        #[command(subcommand)]
        command: cmd::qr::QrCommand,
    },
    /// FHIR documents.
    Fhir {
        #[command(subcommand)]
        command: cmd::fhir::FhirCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match try_main(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("deskctl: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn try_main(args: Args) -> Outcome {
    match args.command {
        Command::Demo(demo) => demo.run().await,
        Command::Run(run) => run.run().await,
        Command::Queue(queue) => queue.run(),
        Command::ClinicKey(key) => key.run(),
        Command::Consult(consult) => consult.run(),
        Command::Audit(audit) => audit.run(),
        Command::Qr { command } => command.run(),
        Command::Fhir { command } => command.run(),
    }
}
