//! ABDM Desk's window: a thin shell. Each command is a few lines over `desk-app`, which holds
//! the behaviour and is tested without a window; this file only opens the session, hands its
//! answers to the UI and tells the UI when the connection changes.

use std::path::PathBuf;
use std::sync::Arc;

use desk_app::reception::{Reception, WalkIn};
use desk_app::session::KEYRING_SERVICE;
use desk_app::{Session, Settings, UiError};
use serde::Serialize;
use tauri::{Emitter, Manager, State};
use tokio::sync::OnceCell;

/// The session, opened once (in the background at start; a command that comes first waits).
struct App {
    dir: PathBuf,
    session: OnceCell<Arc<Session>>,
}

impl App {
    async fn session(&self) -> Result<&Arc<Session>, UiError> {
        self.session
            .get_or_try_init(|| async {
                let secrets = Arc::new(desk_store::KeyringSecrets::new(KEYRING_SERVICE));
                Session::open(&self.dir, secrets).await.map(Arc::new)
            })
            .await
    }
}

type Answer<T> = Result<T, UiError>;

#[tauri::command]
async fn reception(app: State<'_, App>) -> Answer<Reception> {
    app.session().await?.reception()
}

#[tauri::command]
async fn find_patients(
    app: State<'_, App>,
    query: String,
) -> Answer<Vec<desk_core::view::PatientView>> {
    app.session().await?.find_patients(&query)
}

#[tauri::command]
async fn register_walk_in(
    app: State<'_, App>,
    walk_in: WalkIn,
) -> Answer<desk_core::view::QueueRow> {
    app.session().await?.register_walk_in(walk_in)
}

#[tauri::command]
async fn give_token(
    app: State<'_, App>,
    patient_id: uuid::Uuid,
) -> Answer<desk_core::view::QueueRow> {
    app.session().await?.give_token(patient_id)
}

#[tauri::command]
async fn retry_outbox(app: State<'_, App>, id: u64) -> Answer<()> {
    app.session().await?.retry_outbox(id)
}

#[tauri::command]
async fn print_token_slip(app: State<'_, App>, patient_id: uuid::Uuid) -> Answer<PathBuf> {
    let path = app.session().await?.print_token_slip(patient_id)?;
    desk_app::printing::open_in_viewer(&path);
    Ok(path)
}

#[tauri::command]
async fn print_counter_poster(app: State<'_, App>) -> Answer<PathBuf> {
    let path = app.session().await?.print_counter_poster()?;
    desk_app::printing::open_in_viewer(&path);
    Ok(path)
}

/// The settings screen: never the client secret, only whether one is saved.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    settings: Settings,
    has_client_secret: bool,
    online: bool,
    embedded: bool,
}

fn settings_view(session: &Session) -> SettingsView {
    SettingsView {
        settings: session.settings(),
        has_client_secret: session.has_client_secret(),
        online: session.is_online(),
        embedded: session.sandbox_url().is_some(),
    }
}

#[tauri::command]
async fn settings(app: State<'_, App>) -> Answer<SettingsView> {
    Ok(settings_view(app.session().await?))
}

#[tauri::command]
async fn save_settings(app: State<'_, App>, settings: Settings) -> Answer<SettingsView> {
    let session = app.session().await?;
    session.save_settings(settings)?;
    Ok(settings_view(session))
}

#[tauri::command]
async fn save_client_secret(app: State<'_, App>, secret: String) -> Answer<SettingsView> {
    let session = app.session().await?;
    session.save_client_secret(&secret)?;
    Ok(settings_view(session))
}

#[tauri::command]
async fn set_online(app: State<'_, App>, online: bool) -> Answer<SettingsView> {
    let session = app.session().await?;
    session.set_online(online)?;
    Ok(settings_view(session))
}

#[tauri::command]
async fn audit_log(app: State<'_, App>) -> Answer<Vec<desk_core::view::AuditRow>> {
    Ok(app.session().await?.desk().audit_log()?)
}

/// For the window tests and the trainer: where the embedded sandbox is (its patient phone).
#[tauri::command]
async fn sandbox_url(app: State<'_, App>) -> Answer<Option<String>> {
    Ok(app.session().await?.sandbox_url())
}

fn data_dir(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    // `--data DIR` gives a desk its own folder (tests, a second clinic on one machine).
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data" {
            return args
                .next()
                .map(PathBuf::from)
                .ok_or_else(|| "--data needs a folder".into());
        }
    }
    Ok(app.path().app_data_dir()?)
}

fn try_main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            app.manage(App {
                dir: data_dir(app)?,
                session: OnceCell::new(),
            });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<App>();
                match state.session().await {
                    Ok(session) => {
                        // The connection indicator follows the desk's status as it changes.
                        let mut status = session.desk().status();
                        while status.changed().await.is_ok() {
                            if let Ok(view) = session.reception() {
                                let _ = handle.emit("connection", view.connection);
                            }
                        }
                    }
                    Err(e) => tracing::error!(code = %e.code, "the desk did not start: {e}"),
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            reception,
            find_patients,
            register_walk_in,
            give_token,
            retry_outbox,
            print_token_slip,
            print_counter_poster,
            settings,
            save_settings,
            save_client_secret,
            set_online,
            audit_log,
            sandbox_url,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))?;
    Ok(())
}

fn main() {
    if let Err(e) = try_main() {
        eprintln!("ABDM Desk could not start: {e}");
        std::process::exit(1);
    }
}
