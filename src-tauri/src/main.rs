//! ABDM Desk's window: a thin shell. Each command is a few lines over `desk-app`, which holds
//! the behaviour and is tested without a window; this file only opens the session, hands its
//! answers to the UI and tells the UI when the connection changes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use desk_app::reception::{Reception, WalkIn};
use desk_app::session::KEYRING_SERVICE;
use desk_app::staff::{Need, Staff, StaffView};
use desk_app::{Session, Settings, UiError};
use desk_core::gateway::{Found, LoginMethod, Txn};
use serde::Serialize;
use tauri::{Emitter, Manager, State};

/// The session, opened in the background at start (a command that comes first waits for it).
/// A failed start is tried again after `RETRY_START`, or at once after the settings change —
/// not on every refresh of the screen. Settings that change the connection close the session;
/// the next one opens on the same store.
struct App {
    dir: PathBuf,
    handle: tauri::AppHandle,
    /// Opened once per process (sled allows one opening of a database at a time); the staff
    /// sign in against it also when the session cannot start.
    home: tokio::sync::OnceCell<Home>,
    slot: tokio::sync::Mutex<Slot>,
}

struct Home {
    store: Arc<desk_store::Store>,
    staff: Arc<Staff>,
}

#[derive(Default)]
struct Slot {
    session: Option<Arc<Session>>,
    failed: Option<(Instant, UiError)>,
}

/// The screen locks after this long without a command.
const IDLE_LOCK: Duration = Duration::from_secs(10 * 60);

const RETRY_START: Duration = Duration::from_secs(15);

impl App {
    async fn session(&self) -> Result<Arc<Session>, UiError> {
        let mut slot = self.slot.lock().await;
        if let Some(session) = &slot.session {
            return Ok(session.clone());
        }
        if let Some((at, e)) = &slot.failed {
            if at.elapsed() < RETRY_START {
                return Err(e.clone());
            }
        }
        match self.open().await {
            Ok(session) => {
                slot.failed = None;
                slot.session = Some(session.clone());
                self.follow(&session);
                Ok(session)
            }
            Err(e) => {
                tracing::error!(code = %e.code, "the desk did not start: {e}");
                slot.failed = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    async fn home(&self) -> Result<&Home, UiError> {
        self.home
            .get_or_try_init(|| async {
                let dir = self.dir.clone();
                let secrets: Arc<dyn desk_store::Secrets> = Arc::new(keyring());
                let store = blocking(move || Session::open_store(&dir, &secrets)).await?;
                let training = self.training();
                let staff = blocking({
                    let store = store.clone();
                    move || Staff::new(store, IDLE_LOCK, training)
                })
                .await?;
                let staff = Arc::new(staff);
                Ok(Home { store, staff })
            })
            .await
    }

    /// Whoever is signed in, if their role allows `need` (a command is activity: the idle lock
    /// counts from the last one).
    async fn allow(&self, need: Need) -> Result<StaffView, UiError> {
        self.home().await?.staff.require(need)
    }

    /// The session, for someone whose role allows `need`.
    async fn session_for(&self, need: Need) -> Result<Arc<Session>, UiError> {
        self.allow(need).await?;
        self.session().await
    }

    /// A training desk (the embedded sandbox), as the saved settings say.
    fn training(&self) -> bool {
        Settings::load(&self.dir).is_ok_and(|s| s.is_training())
    }

    async fn open(&self) -> Result<Arc<Session>, UiError> {
        let secrets: Arc<dyn desk_store::Secrets> = Arc::new(keyring());
        let store = self.home().await?.store.clone();
        Ok(Arc::new(Session::open_on(&self.dir, secrets, store).await?))
    }

    /// The connection settings changed: the session closes and a new one opens with them.
    async fn reconnect(&self) {
        let mut slot = self.slot.lock().await;
        slot.failed = None;
        if let Some(session) = slot.session.take() {
            session.close().await;
        }
        drop(slot);
        // Leaving the sandbox ends the training accounts; any change of it signs everyone out.
        if let Some(home) = self.home.get() {
            if let Err(e) = home.staff.set_training(self.training()) {
                tracing::error!("the staff list could not follow the new environment: {e}");
            }
        }
        let _ = self.session().await;
    }

    /// Tells the UI what changes while `session` lives: its connection (`connection`) and the
    /// reception view after each saved change (`reception`: arrivals, tokens, outbox progress).
    fn follow(&self, session: &Arc<Session>) {
        let handle = self.handle.clone();
        let session = Arc::downgrade(session);
        tauri::async_runtime::spawn(async move {
            let Some((mut status, mut changes)) = session
                .upgrade()
                .map(|s| (s.desk().status(), s.store().changes()))
            else {
                return;
            };
            let mut first = true;
            loop {
                if !first {
                    tokio::select! {
                        changed = status.changed() => if changed.is_err() { return },
                        changed = changes.changed() => {
                            if changed.is_err() { return }
                            // A burst of writes is one refresh.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            changes.borrow_and_update();
                        }
                    }
                }
                first = false;
                // The session is held only for the moment of the update: it ends when closed.
                let Some(live) = session.upgrade() else {
                    return;
                };
                let _ = handle.emit("connection", live.connection());
                // Patients' names go to the window only while someone is signed in.
                let app = handle.state::<App>();
                if app.home.get().is_some_and(|h| h.staff.current().is_some()) {
                    match live.reception() {
                        Ok(view) => drop(handle.emit("reception", view)),
                        Err(e) => tracing::warn!("the reception view could not be read: {e}"),
                    }
                }
            }
        });
    }
}

/// Runs keyring and store work off the async workers (the OS keyring may block on D-Bus).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| UiError::new("internal", format!("a background task failed: {e}")))?
}

type Answer<T> = Result<T, UiError>;

#[tauri::command]
async fn reception(app: State<'_, App>) -> Answer<Reception> {
    app.session_for(Need::Desk).await?.reception()
}

#[tauri::command]
async fn find_patients(
    app: State<'_, App>,
    query: String,
) -> Answer<Vec<desk_core::view::PatientView>> {
    app.session_for(Need::Desk).await?.find_patients(&query)
}

#[tauri::command]
async fn register_walk_in(
    app: State<'_, App>,
    walk_in: WalkIn,
) -> Answer<desk_core::view::QueueRow> {
    app.session_for(Need::Desk).await?.register_walk_in(walk_in)
}

#[tauri::command]
async fn give_token(
    app: State<'_, App>,
    patient_id: uuid::Uuid,
) -> Answer<desk_core::view::QueueRow> {
    app.session_for(Need::Desk).await?.give_token(patient_id)
}

#[tauri::command]
async fn retry_outbox(app: State<'_, App>, id: u64) -> Answer<()> {
    app.session_for(Need::Desk).await?.retry_outbox(id)
}

#[tauri::command]
async fn print_token_slip(app: State<'_, App>, patient_id: uuid::Uuid) -> Answer<Printed> {
    Ok(Printed::open(
        app.session_for(Need::Desk)
            .await?
            .print_token_slip(patient_id)?,
    ))
}

#[tauri::command]
async fn print_counter_poster(app: State<'_, App>) -> Answer<Printed> {
    Ok(Printed::open(
        app.session_for(Need::Desk).await?.print_counter_poster()?,
    ))
}

/// A printout saved, and whether the system viewer was opened to print it.
#[derive(Serialize)]
struct Printed {
    path: PathBuf,
    opened: bool,
}

impl Printed {
    fn open(path: PathBuf) -> Printed {
        let opened = desk_app::printing::open_in_viewer(&path);
        Printed { path, opened }
    }
}

/// The settings screen: never the client secret, only whether one is saved.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    settings: Settings,
    has_client_secret: bool,
    has_relay_token: bool,
    online: bool,
    embedded: bool,
}

/// The settings screen, also when the desk could not start (wrong settings must be fixable).
async fn settings_view(app: &App) -> Answer<SettingsView> {
    let (has_client_secret, has_relay_token) = blocking(|| {
        let keyring = keyring();
        Ok((
            desk_app::session::has_client_secret(&keyring),
            desk_app::session::has_relay_token(&keyring),
        ))
    })
    .await?;
    Ok(match app.session().await {
        Ok(session) => SettingsView {
            settings: session.settings(),
            has_client_secret,
            has_relay_token,
            online: session.is_online(),
            embedded: session.sandbox_url().is_some(),
        },
        // A damaged settings file must not lock the admin out: the defaults, to save over it.
        Err(_) => SettingsView {
            settings: Settings::load(&app.dir).unwrap_or_default(),
            has_client_secret,
            has_relay_token,
            online: false,
            embedded: false,
        },
    })
}

fn keyring() -> desk_store::KeyringSecrets {
    desk_store::KeyringSecrets::new(KEYRING_SERVICE)
}

#[tauri::command]
async fn settings(app: State<'_, App>) -> Answer<SettingsView> {
    app.allow(Need::Admin).await?;
    settings_view(&app).await
}

/// Saved at once; settings that change the connection reconnect the desk with them.
#[tauri::command]
async fn save_settings(app: State<'_, App>, settings: Settings) -> Answer<SettingsView> {
    app.allow(Need::Admin).await?;
    let reconnect = match app.session_for(Need::Admin).await {
        Ok(session) => {
            let reconnect = session.settings().reconnects(&settings);
            session.save_settings(settings)?;
            reconnect
        }
        Err(_) => {
            settings.save(&app.dir)?;
            true
        }
    };
    if reconnect {
        app.reconnect().await;
    }
    settings_view(&app).await
}

#[tauri::command]
async fn save_client_secret(app: State<'_, App>, secret: String) -> Answer<SettingsView> {
    app.allow(Need::Admin).await?;
    blocking(move || desk_app::session::save_client_secret(&keyring(), &secret)).await?;
    app.reconnect().await;
    settings_view(&app).await
}

#[tauri::command]
async fn save_relay_token(app: State<'_, App>, token: String) -> Answer<SettingsView> {
    app.allow(Need::Admin).await?;
    blocking(move || desk_app::session::save_relay_token(&keyring(), &token)).await?;
    app.reconnect().await;
    settings_view(&app).await
}

/// The public half of the clinic's relay key (made on first use), for the relay's operator.
#[tauri::command]
async fn relay_public_key(app: State<'_, App>) -> Answer<String> {
    app.allow(Need::Admin).await?;
    blocking(|| desk_app::session::relay_public_key(&keyring())).await
}

/// Registers the facility and the bridge and proves each step up to a callback through the
/// relay; each step arrives as a `connection-test` event as it is proven.
#[tauri::command]
async fn test_connection(
    app: State<'_, App>,
    window: tauri::Window,
) -> Answer<Vec<desk_core::identity::Check>> {
    app.session_for(Need::Admin)
        .await?
        .test_connection(|check| drop(window.emit("connection-test", check)))
        .await
}

#[tauri::command]
async fn set_online(app: State<'_, App>, online: bool) -> Answer<SettingsView> {
    let session = app.session_for(Need::Admin).await?;
    session.set_online(online)?;
    settings_view(&app).await
}

#[tauri::command]
async fn audit_log(app: State<'_, App>) -> Answer<Vec<desk_core::view::AuditRow>> {
    Ok(app
        .session_for(Need::Admin)
        .await?
        .desk()
        .audit_newest(50)?)
}

#[tauri::command]
async fn print_abha_card(app: State<'_, App>, patient_id: uuid::Uuid) -> Answer<Printed> {
    Ok(Printed::open(
        app.session_for(Need::Desk)
            .await?
            .print_abha_card(patient_id)?,
    ))
}

/// Starts the card scanner; its frames and findings arrive as `scan` events.
#[tauri::command]
async fn start_scan(app: State<'_, App>, window: tauri::Window) -> Answer<()> {
    app.session_for(Need::Desk)
        .await?
        .start_scan(move |update| drop(window.emit("scan", update)));
    Ok(())
}

#[tauri::command]
async fn stop_scan(app: State<'_, App>) -> Answer<()> {
    app.session_for(Need::Desk).await?.stop_scan();
    Ok(())
}

#[tauri::command]
async fn confirm_scan(
    app: State<'_, App>,
    abha_number: String,
) -> Answer<desk_core::view::QueueRow> {
    app.session_for(Need::Desk)
        .await?
        .confirm_scan(&abha_number)
}

// Creating an ABHA with Aadhaar OTP, step by step; `txn` is ABDM's transaction id.

#[tauri::command]
async fn abha_create_start(app: State<'_, App>, aadhaar: String) -> Answer<String> {
    Ok(app
        .session_for(Need::Desk)
        .await?
        .desk()
        .abha_create_start(&aadhaar)
        .await?
        .0)
}

#[tauri::command]
async fn abha_create_resend(app: State<'_, App>, txn: String) -> Answer<String> {
    Ok(app
        .session_for(Need::Desk)
        .await?
        .desk()
        .abha_create_resend(&Txn(txn))
        .await?
        .0)
}

/// `true` when a second OTP went to the mobile given (not the Aadhaar-linked one).
#[tauri::command]
async fn abha_create_verify(
    app: State<'_, App>,
    txn: String,
    otp: String,
    mobile: String,
) -> Answer<bool> {
    let session = app.session_for(Need::Desk).await?;
    let desk = session.desk();
    Ok(desk
        .abha_create_verify_aadhaar_otp(&Txn(txn), &otp, &mobile)
        .await?)
}

#[tauri::command]
async fn abha_create_verify_mobile(app: State<'_, App>, txn: String, otp: String) -> Answer<()> {
    Ok(app
        .session_for(Need::Desk)
        .await?
        .desk()
        .abha_create_verify_mobile_otp(&Txn(txn), &otp)
        .await?)
}

#[tauri::command]
async fn abha_create_suggestions(
    app: State<'_, App>,
    txn: String,
    patient_id: uuid::Uuid,
) -> Answer<Vec<String>> {
    let session = app.session_for(Need::Desk).await?;
    let desk = session.desk();
    Ok(desk.abha_address_suggestions(&Txn(txn), patient_id).await?)
}

#[tauri::command]
async fn abha_create_finish(
    app: State<'_, App>,
    txn: String,
    patient_id: uuid::Uuid,
    address: Option<String>,
) -> Answer<desk_core::view::AbhaView> {
    let session = app.session_for(Need::Desk).await?;
    let desk = session.desk();
    Ok(desk
        .abha_create_finish(&Txn(txn), patient_id, address.as_deref())
        .await?)
}

// Linking an existing ABHA with an OTP to its mobile or its Aadhaar's.

#[tauri::command]
async fn link_search(app: State<'_, App>, id: String) -> Answer<Found> {
    Ok(app
        .session_for(Need::Desk)
        .await?
        .desk()
        .link_search(&id)
        .await?)
}

#[tauri::command]
async fn link_start(app: State<'_, App>, id: String, method: LoginMethod) -> Answer<String> {
    Ok(app
        .session_for(Need::Desk)
        .await?
        .desk()
        .link_start(&id, method)
        .await?
        .0)
}

#[tauri::command]
async fn link_finish(
    app: State<'_, App>,
    txn: String,
    otp: String,
    method: LoginMethod,
    patient_id: uuid::Uuid,
) -> Answer<desk_core::view::AbhaView> {
    let session = app.session_for(Need::Desk).await?;
    let desk = session.desk();
    Ok(desk
        .link_finish(&Txn(txn), &otp, method, patient_id)
        .await?)
}

/// ABDM v3: an ABHA found by the patient's mobile number (one mobile may hold several).
#[tauri::command]
async fn link_start_by_mobile(app: State<'_, App>, mobile: String) -> Answer<String> {
    let session = app.session_for(Need::Desk).await?;
    Ok(session.desk().link_start_by_mobile(&mobile).await?.0)
}

/// The mobile's OTP: the ABHAs on it, for the patient to choose.
#[tauri::command]
async fn link_mobile_accounts(
    app: State<'_, App>,
    txn: String,
    otp: String,
) -> Answer<Vec<desk_core::gateway::AccountChoice>> {
    let session = app.session_for(Need::Desk).await?;
    Ok(session.desk().link_mobile_accounts(&Txn(txn), &otp).await?)
}

#[tauri::command]
async fn link_finish_choice(
    app: State<'_, App>,
    txn: String,
    abha_number: String,
    patient_id: uuid::Uuid,
) -> Answer<desk_core::view::AbhaView> {
    let session = app.session_for(Need::Desk).await?;
    let desk = session.desk();
    Ok(desk
        .link_finish_choice(&Txn(txn), &abha_number, patient_id)
        .await?)
}

/// ABDM v3: the ABHA of an Aadhaar number, by an OTP to the Aadhaar-linked mobile.
#[tauri::command]
async fn link_start_by_aadhaar(app: State<'_, App>, aadhaar: String) -> Answer<String> {
    let session = app.session_for(Need::Desk).await?;
    Ok(session.desk().link_start_by_aadhaar(&aadhaar).await?.0)
}

/// The sign-in screen: who is signed in (no one once the screen locked), who may sign in, and
/// the desk's language.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StaffState {
    signed_in: Option<StaffView>,
    staff: Vec<StaffView>,
    training: bool,
    language: desk_app::settings::Language,
}

async fn staff_view(app: &App) -> Answer<StaffState> {
    let staff = &app.home().await?.staff;
    let training = app.training();
    Ok(StaffState {
        signed_in: staff.current(),
        staff: staff.list()?,
        training,
        language: Settings::load(&app.dir).unwrap_or_default().language,
    })
}

#[tauri::command]
async fn staff_state(app: State<'_, App>) -> Answer<StaffState> {
    staff_view(&app).await
}

#[tauri::command]
async fn sign_in(app: State<'_, App>, name: String, pin: String) -> Answer<StaffState> {
    let staff = app.home().await?.staff.clone();
    blocking(move || staff.sign_in(&name, &pin)).await?;
    staff_view(&app).await
}

#[tauri::command]
async fn sign_out(app: State<'_, App>) -> Answer<StaffState> {
    app.home().await?.staff.sign_out();
    // The camera does not go on running behind a locked screen.
    if let Some(session) = app.slot.lock().await.session.clone() {
        session.stop_scan();
    }
    staff_view(&app).await
}

/// Adds a staff member (an admin does; the first one, an admin, needs no one signed in).
#[tauri::command]
async fn add_staff(
    app: State<'_, App>,
    name: String,
    role: desk_store::Role,
    pin: String,
) -> Answer<StaffState> {
    let staff = app.home().await?.staff.clone();
    blocking(move || staff.add(&name, role, &pin).map(drop)).await?;
    staff_view(&app).await
}

/// Removes a staff member (an admin does, never for themselves).
#[tauri::command]
async fn remove_staff(app: State<'_, App>, name: String) -> Answer<StaffState> {
    app.home().await?.staff.remove(&name)?;
    staff_view(&app).await
}

/// The desk's language: anyone may switch it, also on the sign-in screen.
#[tauri::command]
async fn set_language(app: State<'_, App>, language: desk_app::settings::Language) -> Answer<()> {
    let running = app.slot.lock().await.session.clone();
    match running {
        Some(session) => {
            session.save_settings(Settings {
                language,
                ..session.settings()
            })?;
        }
        None => Settings {
            language,
            ..Settings::load(&app.dir)?
        }
        .save(&app.dir)?,
    }
    Ok(())
}

// The doctor's desk.

#[tauri::command]
async fn record_consultation(
    app: State<'_, App>,
    consultation: desk_core::hip::NewConsultation,
) -> Answer<desk_core::view::ConsultationView> {
    let doctor = app.allow(Need::Doctor).await?;
    app.session()
        .await?
        .record_consultation(&doctor, consultation)
}

#[tauri::command]
async fn chart(app: State<'_, App>, patient_id: uuid::Uuid) -> Answer<desk_app::doctor::Chart> {
    app.session_for(Need::Doctor).await?.chart(patient_id)
}

#[tauri::command]
async fn print_prescription(
    app: State<'_, App>,
    patient_id: uuid::Uuid,
    consultation_id: uuid::Uuid,
) -> Answer<Printed> {
    let session = app.session_for(Need::Doctor).await?;
    Ok(Printed::open(
        session.print_prescription(patient_id, consultation_id)?,
    ))
}

// Records from elsewhere (doctors only: the reception role never reaches them).

#[tauri::command]
async fn ask_for_records(
    app: State<'_, App>,
    patient_id: uuid::Uuid,
) -> Answer<desk_core::view::ConsentRequestView> {
    let doctor = app.allow(Need::Doctor).await?;
    app.session().await?.ask_for_records(&doctor, patient_id)
}

#[tauri::command]
async fn patient_records(
    app: State<'_, App>,
    patient_id: uuid::Uuid,
) -> Answer<desk_app::records::PatientRecords> {
    app.session_for(Need::Doctor)
        .await?
        .patient_records(patient_id)
}

#[tauri::command]
async fn open_record(
    app: State<'_, App>,
    record_id: uuid::Uuid,
) -> Answer<desk_core::view::RecordView> {
    let doctor = app.allow(Need::Doctor).await?;
    app.session().await?.open_record(&doctor, record_id)
}

#[tauri::command]
async fn record_attachment(
    app: State<'_, App>,
    record_id: uuid::Uuid,
    index: usize,
) -> Answer<desk_app::records::AttachmentData> {
    let doctor = app.allow(Need::Doctor).await?;
    app.session()
        .await?
        .record_attachment(&doctor, record_id, index)
}

/// An attachment the window cannot show (a PDF), opened with the system viewer.
#[tauri::command]
async fn open_record_attachment(
    app: State<'_, App>,
    record_id: uuid::Uuid,
    index: usize,
) -> Answer<Printed> {
    let doctor = app.allow(Need::Doctor).await?;
    let session = app.session().await?;
    Ok(Printed::open(
        session.save_record_attachment(&doctor, record_id, index)?,
    ))
}

#[tauri::command]
async fn print_record(app: State<'_, App>, record_id: uuid::Uuid) -> Answer<Printed> {
    let doctor = app.allow(Need::Doctor).await?;
    let session = app.session().await?;
    Ok(Printed::open(session.print_record(&doctor, record_id)?))
}

#[tauri::command]
async fn export_record(app: State<'_, App>, record_id: uuid::Uuid) -> Answer<Printed> {
    let doctor = app.allow(Need::Doctor).await?;
    let path = app.session().await?.export_record(&doctor, record_id)?;
    // Saved for the doctor to keep or send on; not opened.
    Ok(Printed {
        path,
        opened: false,
    })
}

/// For the window tests and the trainer: where the embedded sandbox is (its patient phone).
#[tauri::command]
async fn sandbox_url(app: State<'_, App>) -> Answer<Option<String>> {
    Ok(app.session_for(Need::Desk).await?.sandbox_url())
}

/// The UI calls this once its first screen is painted; with `ABDM_DESK_BENCH` set the time is
/// printed for the start-up benchmark (`scripts/app-bench`).
#[tauri::command]
fn painted() {
    if std::env::var_os("ABDM_DESK_BENCH").is_some() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        println!("painted {}", now.as_millis());
    }
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

/// Large buffers go back to the system when they are freed. glibc otherwise raises its mmap
/// threshold to the size of the largest block freed so far (up to 32 MiB), after which blocks
/// that size are carved from a heap arena and stay resident once freed: a PIN check (Argon2's
/// 19 MiB) or a received 10 MB record would leave its size behind. Blocks from 256 KiB up are
/// mapped fresh, so they also come zeroed without being written (sled's unused 512 KiB metric
/// histograms stay untouched; Cargo.toml).
fn give_large_buffers_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called once, before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// WebKitGTK paints the desk without its GPU compositing unless `ABDM_DESK_GPU_COMPOSITING=1`.
/// A clinic's forms and tables need no compositor, and on the machines clinics have (no GPU, or
/// a driver WebKit's compositor shows blank windows with) it composites in software: about
/// 70 MiB more at idle and a screen change several times slower (BENCHMARKS.md). The switch is
/// WebKit's own variable, so the programs the app starts (the PDF viewer) inherit it too.
fn paint_without_gpu_compositing() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("ABDM_DESK_GPU_COMPOSITING").is_none_or(|v| v != "1")
        && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none()
    {
        // Before any thread starts and before WebKit reads it.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

fn try_main() -> Result<(), Box<dyn std::error::Error>> {
    give_large_buffers_back();
    paint_without_gpu_compositing();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            app.manage(App {
                dir: data_dir(app)?,
                handle: app.handle().clone(),
                home: Default::default(),
                slot: Default::default(),
            });
            let handle = app.handle().clone();
            // Started at once: the first screen finds the desk ready or starting.
            tauri::async_runtime::spawn(async move {
                let _ = handle.state::<App>().session().await;
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
            save_relay_token,
            relay_public_key,
            record_consultation,
            ask_for_records,
            patient_records,
            open_record,
            record_attachment,
            open_record_attachment,
            print_record,
            export_record,
            chart,
            print_prescription,
            staff_state,
            sign_in,
            sign_out,
            add_staff,
            remove_staff,
            set_language,
            test_connection,
            set_online,
            audit_log,
            sandbox_url,
            painted,
            print_abha_card,
            start_scan,
            stop_scan,
            confirm_scan,
            abha_create_start,
            abha_create_resend,
            abha_create_verify,
            abha_create_verify_mobile,
            abha_create_suggestions,
            abha_create_finish,
            link_search,
            link_start,
            link_finish,
            link_start_by_mobile,
            link_mobile_accounts,
            link_finish_choice,
            link_start_by_aadhaar,
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
