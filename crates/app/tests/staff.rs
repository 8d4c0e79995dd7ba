//! Staff at the desk, without a window: accounts sealed in a real store, roles, wrong PINs held
//! back, the idle lock, and training accounts kept to the training desk.

use std::sync::Arc;
use std::time::Duration;

use desk_app::staff::{Need, Staff};
use desk_store::{MemorySecrets, Role, StaffMember, Store};

fn store(dir: &std::path::Path) -> Arc<Store> {
    Arc::new(Store::open(&dir.join("desk"), &MemorySecrets::default()).unwrap())
}

#[test]
fn a_new_clinic_starts_with_an_admin_who_adds_the_others_and_roles_gate_the_screens() {
    let dir = tempfile::tempdir().unwrap();
    let staff = Staff::new(store(dir.path()), Duration::from_secs(300));
    let first = staff.add("Dr. Meera Rao", Role::Doctor, "2468", false);
    assert!(first.unwrap_err().message.contains("must be an admin"));
    staff.add("Anil", Role::Admin, "9753", false).unwrap();
    // No one signed in: nobody else can be added.
    let err = staff.add("Meera", Role::Doctor, "2468", false).unwrap_err();
    assert_eq!(err.code, "signed-out");

    staff.sign_in("  anil ", "9753", false).unwrap();
    staff.add("Meera", Role::Doctor, "2468", false).unwrap();
    staff.add("Sita", Role::Reception, "1357", false).unwrap();
    assert!(
        staff.add("meera", Role::Doctor, "0000", false).is_err(),
        "names are unique"
    );
    assert!(
        staff.add("Ravi", Role::Doctor, "12", false).is_err(),
        "PINs have 4+ characters"
    );
    assert!(staff.require(Need::Admin).is_ok());
    assert_eq!(staff.require(Need::Doctor).unwrap_err().code, "forbidden");

    staff.sign_in("Sita", "1357", false).unwrap();
    assert!(staff.require(Need::Desk).is_ok());
    assert_eq!(staff.require(Need::Doctor).unwrap_err().code, "forbidden");
    assert_eq!(staff.require(Need::Admin).unwrap_err().code, "forbidden");
    staff.sign_in("Meera", "2468", false).unwrap();
    assert_eq!(staff.require(Need::Doctor).unwrap().name, "Meera");
    staff.sign_out();
    assert_eq!(staff.require(Need::Desk).unwrap_err().code, "signed-out");
}

#[test]
fn pins_are_kept_hashed_and_wrong_ones_hold_the_name_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let staff = Staff::new(store.clone(), Duration::from_secs(300));
    staff.add("Anil", Role::Admin, "9753", false).unwrap();
    let kept = store
        .get::<StaffMember>(&StaffMember::key("Anil"))
        .unwrap()
        .unwrap();
    assert!(kept.pin_hash.starts_with("$argon2id$"), "{}", kept.pin_hash);
    assert!(!kept.pin_hash.contains("9753"));
    assert!(
        !format!("{kept:?}").contains(&kept.pin_hash),
        "Debug hides the hash"
    );

    assert_eq!(
        staff.sign_in("Nobody", "9753", false).unwrap_err().message,
        "wrong name or PIN"
    );
    for _ in 0..5 {
        assert_eq!(
            staff.sign_in("Anil", "0000", false).unwrap_err().message,
            "wrong name or PIN"
        );
    }
    // Held back now: even the right PIN is refused, with the wait in words.
    let held = staff.sign_in("Anil", "9753", false).unwrap_err();
    assert!(
        held.message.contains("try again in 5 minute"),
        "{}",
        held.message
    );
    assert!(staff.current().is_none());
    let wrong = store
        .all::<desk_store::AuditEntry>()
        .unwrap()
        .iter()
        .filter(|a| a.action == "wrong PIN at sign-in")
        .count();
    assert_eq!(wrong, 5);
}

#[test]
fn the_screen_locks_after_idle_time_and_activity_keeps_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let staff = Staff::new(store(dir.path()), Duration::from_millis(400));
    staff.add("Anil", Role::Admin, "9753", false).unwrap();
    staff.sign_in("Anil", "9753", false).unwrap();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            staff.require(Need::Desk).is_ok(),
            "each command is activity"
        );
    }
    std::thread::sleep(Duration::from_millis(600));
    assert!(staff.current().is_none());
    let err = staff.require(Need::Desk).unwrap_err();
    assert_eq!(err.code, "signed-out");
    assert!(err.message.contains("locked"), "{}", err.message);
}

#[test]
fn training_accounts_sign_in_only_on_the_training_desk() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    Staff::seed_training(&store).unwrap();
    let staff = Staff::new(store, Duration::from_secs(300));
    assert_eq!(staff.list(true).unwrap().len(), 3);
    staff.sign_in("Doctor", "2222", true).unwrap();
    assert!(staff.require(Need::Doctor).is_ok());
    // The same desk switched to real ABDM: the public PINs stop working, and a real admin can
    // be set up.
    let refused = staff.sign_in("Admin", "3333", false).unwrap_err();
    assert!(
        refused.message.contains("embedded sandbox"),
        "{}",
        refused.message
    );
    assert!(staff.list(false).unwrap().is_empty());
    staff.add("Anil", Role::Admin, "9753", false).unwrap();
    staff.sign_in("Anil", "9753", false).unwrap();
}
