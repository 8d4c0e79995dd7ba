//! What each outbox item does, in words: a key a front end words in its own language (its
//! translation files name `outbox.label.<key>`, `{0}`, `{1}` standing for the arguments) and the
//! English kept with the item for `deskctl` and the audit log.

use serde::{Deserialize, Serialize};

/// Every key with its English. `ui/check-locales.mjs` reads this table: each key must have its
/// words in both of the app's languages.
pub const LABELS: &[(&str, &str)] = &[
    (
        "connection-test",
        "Connection test: ask ABDM for a callback",
    ),
    ("verify-abha-start", "Verify the ABHA of {0}: start"),
    ("verify-abha-confirm", "Verify the ABHA of {0}: confirm"),
    ("verify-abha", "Verify the ABHA of {0} with ABDM"),
    ("share-refused", "Answer a profile share (refused)"),
    ("give-token", "Give {0} token {1}"),
    ("link-otp-confirm", "Link records of {0}: confirm the OTP"),
    ("link-visits", "Link {0} visit(s) of {1} to the ABHA"),
    (
        "link-token",
        "Link records of {0}: ask ABDM for a linking token",
    ),
    ("link-sms", "Tell {0} by SMS that records were linked"),
    ("link-notify", "Tell ABDM a visit of {0} has records"),
    (
        "link-otp-mobile",
        "Link records of {0}: OTP to the ABHA's mobile",
    ),
    ("consent-ask", "Ask {0} for consent to their records"),
    ("consent-status", "Ask where a consent request stands"),
    ("consent-ack", "Acknowledge a consent notice"),
    ("consent-fetch", "Fetch a granted consent"),
    ("push-path-open", "Open a way in for records from {0}"),
    ("push-path-close", "Close a way in for records"),
    ("data-ask", "Ask {0} for the records"),
    ("records-receive", "Check and store the records received"),
    ("records-arrived", "Tell ABDM how the records arrived"),
    (
        "records-not-arrived",
        "Tell ABDM the records did not arrive",
    ),
    ("link-otp-sms", "Text the link OTP to {0}"),
    ("link-request-answer", "Answer {0}'s link request"),
    ("link-confirm-answer", "Answer a link confirmation"),
    ("discover-answer", "Answer {0}'s search for records"),
    ("data-request-answer", "Answer a data request from {0}"),
    (
        "data-request-refused",
        "Tell ABDM a data request from {0} was refused",
    ),
    ("data-request-answer-unnamed", "Answer a data request"),
    (
        "data-request-refused-unnamed",
        "Tell ABDM a data request was refused",
    ),
    ("records-send", "Send records to {0}"),
    ("records-send-unnamed", "Send the records asked for"),
    ("records-sent", "Tell ABDM the records were sent"),
    ("transfer-stopped", "Tell ABDM a transfer stopped"),
];

/// An outbox item's words: a key from [`LABELS`] with its arguments. There is no English-only
/// label, so every item reads in each of the app's languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The key. Every label made now has one; stored items from before keys existed have none.
    pub(crate) key: Option<String>,
    /// The arguments, in order.
    pub(crate) args: Vec<String>,
    /// The English.
    pub(crate) english: String,
}

impl Label {
    /// The words of `key` with `args` in place of `{0}`, `{1}`…
    ///
    /// # Panics
    /// When `key` is not in [`LABELS`] (a programming error the tests catch).
    pub fn new(key: &'static str, args: &[&dyn std::fmt::Display]) -> Label {
        let template = LABELS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| panic!("no outbox label {key:?}"));
        debug_assert_eq!(
            template.matches('{').count(),
            args.len(),
            "outbox label {key:?} takes as many arguments as its English has placeholders"
        );
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let mut english = template.to_string();
        for (i, a) in args.iter().enumerate() {
            english = english.replace(&format!("{{{i}}}"), a);
        }
        Label {
            key: Some(key.into()),
            args,
            english,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_its_placeholders_are_numbered_from_zero() {
        let mut keys: Vec<&str> = LABELS.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), LABELS.len(), "a key appears twice");
        for (key, template) in LABELS {
            let n = template.matches('{').count();
            for i in 0..n {
                assert!(
                    template.contains(&format!("{{{i}}}")),
                    "{key}: {{{i}}} missing"
                );
            }
        }
        let l = Label::new("give-token", &[&"Asha Kumari", &7]);
        assert_eq!(l.english, "Give Asha Kumari token 7");
        assert_eq!(l.args, ["Asha Kumari", "7"]);
    }
}
