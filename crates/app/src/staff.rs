//! Staff at the desk: who is signed in, with which role, and the screen lock after idle time.
//!
//! Accounts live sealed in the clinic's store with the PIN as an Argon2id hash; five wrong PINs
//! in a row hold that name back for five minutes. A training desk (embedded sandbox) has three
//! demo accounts whose PINs are public: they sign in only while the desk runs on the embedded
//! sandbox. The roles: reception (the reception desk), doctor (that, consultations and records
//! from elsewhere), admin (the reception desk, the clinic settings and the staff list).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Utc;
use desk_store::{Role, StaffMember, Store};
use serde::Serialize;

use crate::UiError;

/// Wrong PINs in a row before a name is held back.
const MAX_ATTEMPTS: u32 = 5;
/// How long it is held back.
const HOLD_BACK: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The training desk's demo accounts: name, role, PIN.
pub const TRAINING_STAFF: [(&str, Role, &str); 3] = [
    ("Reception", Role::Reception, "1111"),
    ("Doctor", Role::Doctor, "2222"),
    ("Admin", Role::Admin, "3333"),
];

/// What a screen needs of whoever is signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone signed in (every role works the reception desk).
    Desk,
    /// A doctor: consultations and records from elsewhere.
    Doctor,
    /// An admin: the clinic settings and the staff list.
    Admin,
}

impl Need {
    fn allows(self, role: Role) -> bool {
        match self {
            Need::Desk => true,
            Need::Doctor => role == Role::Doctor,
            Need::Admin => role == Role::Admin,
        }
    }
}

/// A staff member as screens show them (never the PIN's hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffView {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// A training account.
    pub training: bool,
}

impl StaffView {
    fn of(m: &StaffMember) -> Self {
        StaffView {
            name: m.name.clone(),
            role: m.role,
            training: m.training,
        }
    }
}

struct Current {
    who: StaffView,
    /// Both clocks: the monotonic one stops while the machine sleeps, the wall clock does not.
    last_seen: Instant,
    last_seen_wall: SystemTime,
}

impl Current {
    fn idle_for(&self) -> Duration {
        let wall = SystemTime::now()
            .duration_since(self.last_seen_wall)
            .unwrap_or_default();
        self.last_seen.elapsed().max(wall)
    }

    fn seen(&mut self) {
        self.last_seen = Instant::now();
        self.last_seen_wall = SystemTime::now();
    }
}

/// The desk's staff and who is signed in.
pub struct Staff {
    store: Arc<Store>,
    current: Mutex<Option<Current>>,
    idle_lock: Duration,
    /// Whether the desk runs on the embedded sandbox (training accounts work).
    training: AtomicBool,
    /// One sign-in or account change at a time: wrong PINs sent at once all count.
    accounts: Mutex<()>,
}

fn hash(pin: &str) -> Result<String, UiError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UiError::new("internal", format!("the PIN could not be hashed: {e}")))
}

fn check_pin(pin: &str) -> Result<(), UiError> {
    if pin.chars().count() < 4 {
        return Err(UiError::new(
            "invalid-input",
            "the PIN must have at least 4 characters",
        ));
    }
    Ok(())
}

fn wrong() -> UiError {
    UiError::new("wrong-pin", "wrong name or PIN")
}

impl Staff {
    /// The staff of `store`; the screen locks after `idle_lock` without a command; `training`:
    /// the desk runs on the embedded sandbox (otherwise training accounts are removed now).
    pub fn new(store: Arc<Store>, idle_lock: Duration, training: bool) -> Result<Staff, UiError> {
        let staff = Staff {
            store,
            current: Mutex::new(None),
            idle_lock,
            training: AtomicBool::new(training),
            accounts: Mutex::new(()),
        };
        if !training {
            staff.retire_training()?;
        }
        Ok(staff)
    }

    fn training(&self) -> bool {
        self.training.load(Ordering::SeqCst)
    }

    /// The desk now runs on the embedded sandbox or not. A change signs everyone out; leaving
    /// the sandbox removes the training accounts (and those they added) for good, so public PINs
    /// never reach real patients, whatever the desk is switched to later.
    pub fn set_training(&self, training: bool) -> Result<(), UiError> {
        if self.training.swap(training, Ordering::SeqCst) == training {
            return Ok(());
        }
        self.sign_out();
        if !training {
            self.retire_training()?;
        }
        Ok(())
    }

    fn retire_training(&self) -> Result<(), UiError> {
        let _accounts = self.accounts.lock().expect("accounts lock");
        self.store
            .write(|w| -> Result<(), desk_store::StoreError> {
                let retired: Vec<String> = w
                    .all::<StaffMember>()?
                    .into_iter()
                    .filter(|m| m.training)
                    .map(|m| m.name)
                    .collect();
                for name in &retired {
                    w.delete::<StaffMember>(&StaffMember::key(name))?;
                }
                if !retired.is_empty() {
                    w.audit(
                        "training accounts removed (the desk left the embedded sandbox)",
                        retired.join(", "),
                        None,
                    )?;
                }
                Ok(())
            })?;
        Ok(())
    }

    /// Adds the training desk's demo accounts (a new training desk only).
    pub fn seed_training(store: &Store) -> Result<(), UiError> {
        let members = TRAINING_STAFF
            .iter()
            .map(|(name, role, pin)| {
                Ok(StaffMember {
                    name: (*name).into(),
                    role: *role,
                    pin_hash: hash(pin)?,
                    added_at: Utc::now(),
                    failed_attempts: 0,
                    locked_until: None,
                    training: true,
                })
            })
            .collect::<Result<Vec<_>, UiError>>()?;
        store.write(|w| -> Result<(), desk_store::StoreError> {
            for m in &members {
                w.put(m);
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Everyone who may sign in here now.
    pub fn list(&self) -> Result<Vec<StaffView>, UiError> {
        let training = self.training();
        let mut all: Vec<StaffView> = self
            .store
            .all::<StaffMember>()?
            .iter()
            .filter(|m| training || !m.training)
            .map(StaffView::of)
            .collect();
        all.sort_by_key(|a| a.name.to_lowercase());
        Ok(all)
    }

    /// Adds a staff member. The first one (no account that can sign in now) must be an admin and
    /// needs no one signed in: that is how a new clinic starts. After that, only an admin adds;
    /// an account added by a training account is a training account too.
    pub fn add(&self, name: &str, role: Role, pin: &str) -> Result<StaffView, UiError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(UiError::new(
                "invalid-input",
                "the name must have 1 to 60 characters",
            ));
        }
        check_pin(pin)?;
        let _accounts = self.accounts.lock().expect("accounts lock");
        let by = if self.list()?.is_empty() {
            if role != Role::Admin {
                return Err(UiError::new(
                    "invalid-input",
                    "the first staff member must be an admin (who then adds the others)",
                ));
            }
            None
        } else {
            Some(self.require(Need::Admin)?)
        };
        let member = StaffMember {
            name: name.into(),
            role,
            pin_hash: hash(pin)?,
            added_at: Utc::now(),
            failed_attempts: 0,
            locked_until: None,
            training: by.as_ref().is_some_and(|b| b.training),
        };
        self.store.write(|w| -> Result<(), UiError> {
            if w.get::<StaffMember>(&StaffMember::key(name))?.is_some() {
                return Err(UiError::new(
                    "invalid-input",
                    format!("{name} is already on the staff list"),
                ));
            }
            w.put(&member);
            w.audit_by(
                "staff member added",
                format!("{name} ({role:?})"),
                None,
                by.as_ref().map(|b| b.name.as_str()),
            )?;
            Ok(())
        })?;
        Ok(StaffView::of(&member))
    }

    /// Removes a staff member (someone who left, or a PIN to set again: remove, then add). Only
    /// an admin does, never for themselves, so the desk always keeps an admin.
    pub fn remove(&self, name: &str) -> Result<(), UiError> {
        let _accounts = self.accounts.lock().expect("accounts lock");
        let admin = self.require(Need::Admin)?;
        let key = StaffMember::key(name);
        if key == StaffMember::key(&admin.name) {
            return Err(UiError::new(
                "invalid-input",
                "you cannot remove yourself: another admin can",
            ));
        }
        self.store.write(|w| -> Result<(), UiError> {
            let member = w.get::<StaffMember>(&key)?.ok_or_else(|| {
                UiError::new("not-found", format!("{name} is not on the staff list"))
            })?;
            w.delete::<StaffMember>(&key)?;
            w.audit_by(
                "staff member removed",
                format!("{} ({:?})", member.name, member.role),
                None,
                Some(&admin.name),
            )?;
            Ok(())
        })
    }

    /// Signs `name` in with `pin`.
    pub fn sign_in(&self, name: &str, pin: &str) -> Result<StaffView, UiError> {
        // Held across the check and the count: parallel guesses are counted one by one.
        let _accounts = self.accounts.lock().expect("accounts lock");
        let training = self.training();
        let key = StaffMember::key(name);
        let Some(mut member) = self.store.get::<StaffMember>(&key)? else {
            return Err(wrong());
        };
        if member.training && !training {
            return Err(UiError::new(
                "training-only",
                "training accounts sign in only on the embedded sandbox: ask the admin for an account",
            ));
        }
        let now = Utc::now();
        if let Some(until) = member.locked_until.filter(|u| *u > now) {
            let minutes = ((until - now).num_seconds() + 59) / 60;
            return Err(UiError::new(
                "held-back",
                format!(
                    "too many wrong PINs for {}: try again in {minutes} minute(s)",
                    member.name
                ),
            ));
        }
        let right = PasswordHash::new(&member.pin_hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(pin.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        let who = StaffView::of(&member);
        self.store
            .write(|w| -> Result<(), desk_store::StoreError> {
                if right {
                    member.failed_attempts = 0;
                    member.locked_until = None;
                    w.audit_by(
                        "signed in",
                        format!("{:?}", member.role),
                        None,
                        Some(&member.name),
                    )?;
                } else {
                    member.failed_attempts += 1;
                    if member.failed_attempts >= MAX_ATTEMPTS {
                        member.failed_attempts = 0;
                        member.locked_until = Some(now + HOLD_BACK);
                    }
                    w.audit("wrong PIN at sign-in", member.name.clone(), None)?;
                }
                w.put(&member);
                Ok(())
            })?;
        if !right {
            return Err(wrong());
        }
        *self.current.lock().expect("staff lock") = Some(Current {
            who: who.clone(),
            last_seen: Instant::now(),
            last_seen_wall: SystemTime::now(),
        });
        Ok(who)
    }

    /// Signs out (and locks the screen).
    pub fn sign_out(&self) {
        self.current.lock().expect("staff lock").take();
    }

    /// Who is signed in, unless the screen locked for idleness (then no one is).
    pub fn current(&self) -> Option<StaffView> {
        let current = self.current.lock().expect("staff lock");
        current
            .as_ref()
            .filter(|c| c.idle_for() <= self.idle_lock)
            .filter(|c| self.training() || !c.who.training)
            .map(|c| c.who.clone())
    }

    /// Whoever is signed in, if their role allows `need`; counts as activity.
    pub fn require(&self, need: Need) -> Result<StaffView, UiError> {
        let mut current = self.current.lock().expect("staff lock");
        let Some(c) = current.as_mut() else {
            return Err(UiError::new("signed-out", "sign in first"));
        };
        if c.idle_for() > self.idle_lock {
            current.take();
            return Err(UiError::new(
                "signed-out",
                "the screen locked after a while without use: sign in again",
            ));
        }
        if c.who.training && !self.training() {
            current.take();
            return Err(UiError::new(
                "signed-out",
                "training accounts work only on the embedded sandbox: sign in with your own account",
            ));
        }
        if !need.allows(c.who.role) {
            return Err(UiError::new(
                "forbidden",
                match need {
                    Need::Doctor => "only a doctor can open this",
                    _ => "only an admin can open this",
                },
            ));
        }
        c.seen();
        Ok(c.who.clone())
    }
}
