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
];

/// An outbox item's words: a key from [`LABELS`] with its arguments, or only English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The key, when the words are in [`LABELS`].
    pub key: Option<String>,
    /// The arguments, in order.
    pub args: Vec<String>,
    /// The English.
    pub english: String,
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

impl From<String> for Label {
    fn from(english: String) -> Label {
        Label {
            key: None,
            args: Vec::new(),
            english,
        }
    }
}

impl From<&str> for Label {
    fn from(english: &str) -> Label {
        english.to_string().into()
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
