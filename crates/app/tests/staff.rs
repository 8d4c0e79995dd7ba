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
    let staff = Staff::new(store(dir.path()), Duration::from_secs(300), false).unwrap();
    let first = staff.add("Dr. Meera Rao", Role::Doctor, "2468");
    assert!(first.unwrap_err().message.contains("must be an admin"));
    staff.add("Anil", Role::Admin, "9753").unwrap();
    // No one signed in: nobody else can be added.
    let err = staff.add("Meera", Role::Doctor, "2468").unwrap_err();
    assert_eq!(err.code, "signed-out");

    staff.sign_in("  anil ", "9753").unwrap();
    staff.add("Meera", Role::Doctor, "2468").unwrap();
    staff.add("Sita", Role::Reception, "1357").unwrap();
    assert!(
        staff.add("meera", Role::Doctor, "0000").is_err(),
        "names are unique"
    );
    assert!(
        staff.add("Ravi", Role::Doctor, "12").is_err(),
        "PINs have 4+ characters"
    );
    assert!(staff.require(Need::Admin).is_ok());
    assert_eq!(staff.require(Need::Doctor).unwrap_err().code, "forbidden");

    staff.sign_in("Sita", "1357").unwrap();
    assert!(staff.require(Need::Desk).is_ok());
    assert_eq!(staff.require(Need::Doctor).unwrap_err().code, "forbidden");
    assert_eq!(staff.require(Need::Admin).unwrap_err().code, "forbidden");
    staff.sign_in("Meera", "2468").unwrap();
    assert_eq!(staff.require(Need::Doctor).unwrap().name, "Meera");
    staff.sign_out();
    assert_eq!(staff.require(Need::Desk).unwrap_err().code, "signed-out");
}

#[test]
fn pins_are_kept_hashed_and_wrong_ones_hold_the_name_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let staff = Staff::new(store.clone(), Duration::from_secs(300), false).unwrap();
    staff.add("Anil", Role::Admin, "9753").unwrap();
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
        staff.sign_in("Nobody", "9753").unwrap_err().message,
        "wrong name or PIN"
    );
    for _ in 0..5 {
        assert_eq!(
            staff.sign_in("Anil", "0000").unwrap_err().message,
            "wrong name or PIN"
        );
    }
    // Held back now: even the right PIN is refused, with the wait in words.
    let held = staff.sign_in("Anil", "9753").unwrap_err();
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
    let staff = Staff::new(store(dir.path()), Duration::from_millis(400), false).unwrap();
    staff.add("Anil", Role::Admin, "9753").unwrap();
    staff.sign_in("Anil", "9753").unwrap();
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
fn training_accounts_end_for_good_when_the_desk_leaves_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    Staff::seed_training(&store).unwrap();
    let staff = Staff::new(store.clone(), Duration::from_secs(300), true).unwrap();
    assert_eq!(staff.list().unwrap().len(), 3);
    staff.sign_in("Admin", "3333").unwrap();
    // An account a training admin adds is a training account too.
    staff.add("Mallory", Role::Admin, "4444").unwrap();
    staff.sign_in("Doctor", "2222").unwrap();
    assert!(staff.require(Need::Doctor).is_ok());

    // The desk switches to real ABDM: whoever was signed in is out, the public PINs and the
    // accounts made with them are gone, and a real admin can be set up.
    staff.set_training(false).unwrap();
    assert_eq!(staff.require(Need::Desk).unwrap_err().code, "signed-out");
    assert_eq!(
        staff.sign_in("Admin", "3333").unwrap_err().code,
        "wrong-pin"
    );
    assert_eq!(
        staff.sign_in("Mallory", "4444").unwrap_err().code,
        "wrong-pin"
    );
    assert!(staff.list().unwrap().is_empty());
    staff.add("Anil", Role::Admin, "9753").unwrap();
    // Back on the sandbox later, the training PINs do not return.
    staff.set_training(true).unwrap();
    assert_eq!(
        staff.sign_in("Admin", "3333").unwrap_err().code,
        "wrong-pin"
    );
    staff.sign_in("Anil", "9753").unwrap();

    // A desk that starts off the sandbox with old training accounts removes them at once.
    Staff::seed_training(&store).unwrap();
    let restarted = Staff::new(store, Duration::from_secs(300), false).unwrap();
    assert_eq!(restarted.list().unwrap().len(), 1);
}

#[test]
fn wrong_pins_sent_at_once_are_all_counted() {
    let dir = tempfile::tempdir().unwrap();
    let staff = Arc::new(Staff::new(store(dir.path()), Duration::from_secs(300), false).unwrap());
    staff.add("Anil", Role::Admin, "9753").unwrap();
    let guesses: Vec<_> = (0..8)
        .map(|i| {
            let staff = staff.clone();
            std::thread::spawn(move || {
                staff
                    .sign_in("Anil", &format!("00{i:02}"))
                    .unwrap_err()
                    .code
            })
        })
        .collect();
    let codes: Vec<String> = guesses.into_iter().map(|g| g.join().unwrap()).collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "wrong-pin").count(),
        5,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "held-back").count(),
        3,
        "{codes:?}"
    );
    assert_eq!(staff.sign_in("Anil", "9753").unwrap_err().code, "held-back");
}

#[test]
fn an_admin_removes_someone_who_left_but_never_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let staff = Staff::new(store(dir.path()), Duration::from_secs(300), false).unwrap();
    staff.add("Anil", Role::Admin, "9753").unwrap();
    staff.sign_in("Anil", "9753").unwrap();
    staff.add("Sita", Role::Reception, "1357").unwrap();
    assert_eq!(staff.remove("Anil").unwrap_err().code, "invalid-input");
    staff.remove("sita").unwrap();
    assert_eq!(staff.sign_in("Sita", "1357").unwrap_err().code, "wrong-pin");
    assert_eq!(staff.remove("Sita").unwrap_err().code, "not-found");
    // A receptionist removes no one.
    staff.add("Ravi", Role::Reception, "2468").unwrap();
    staff.sign_in("Ravi", "2468").unwrap();
    assert_eq!(staff.remove("Anil").unwrap_err().code, "forbidden");
}
