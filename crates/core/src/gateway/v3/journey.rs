//! What an ABHA v3 journey keeps between its calls.

use abdm::ids::Mobile;
use desk_store::Secret;

/// How long a journey is kept: ABDM's OTPs and transactions are good for 10 minutes, its user
/// tokens for 30.
pub(super) const JOURNEY_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// What a journey holds between calls, by the transaction the desk was given.
#[derive(Default)]
pub(super) struct Journey {
    /// When it began (a journey left half-way is forgotten after [`JOURNEY_LIFETIME`]).
    pub(super) started: Option<std::time::Instant>,
    /// ABDM's current transaction id (each answer may give a new one).
    pub(super) txn: String,
    /// The login id as sent (sealed), to ask for the OTP again.
    pub(super) sealed_login_id: Option<String>,
    /// The OTP request, to ask again.
    pub(super) scope: Vec<String>,
    /// After a mobile login, the token that picks one of the mobile's ABHAs (zeroed when dropped),
    /// used once.
    pub(super) t_token: Option<Secret>,
    /// The ABHA numbers that mobile's OTP offered: only one of them may be chosen.
    pub(super) offered: Vec<String>,
    /// The ABHA number the journey must end with (a mobile login's choice).
    pub(super) chosen: Option<String>,
    /// The user's X-token, once ABDM gave it (zeroed when dropped).
    pub(super) x_token: Option<Secret>,
    /// Whether the enrolment created a new ABHA.
    pub(super) new: bool,
}

/// Whether the mobile ABDM holds (perhaps masked: `******0903`) is the one typed.
pub(super) fn same_mobile(held: Option<&str>, typed: &Mobile) -> bool {
    let Some(held) = held else { return false };
    let digits: String = held.chars().filter(char::is_ascii_digit).collect();
    let typed = typed.digits();
    if held.contains('*') || held.contains('X') || held.contains('x') {
        !digits.is_empty() && typed.ends_with(&digits)
    } else {
        digits.ends_with(typed)
    }
}
