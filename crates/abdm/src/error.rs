//! ABDM's error replies, normalised. ABDM answers errors in several envelopes (reference notes,
//! Appendix C): `{"error":{code,message}}`, WSO2's `{code,message,description}`, the registry's
//! `{code,message,details:[{code,message}]}`, a flat `{"<field>":"<message>"}`, or an empty body.

use serde_json::Value;

/// Why an ABDM call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AbdmError {
    /// ABDM answered and refused: status, ABDM's code when it gave one, and its message.
    #[error("ABDM refused the request (HTTP {status}{}): {message}", code.as_ref().map(|c| format!(", {c}")).unwrap_or_default())]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// ABDM's code (`ABDM-1100`, `900901`, …), when it gave one.
        code: Option<String>,
        /// ABDM's words.
        message: String,
    },
    /// ABDM refuses our client id or secret: nothing can be sent until they are fixed.
    #[error("ABDM does not accept this clinic's client id and secret: {message}")]
    Credentials {
        /// ABDM's words.
        message: String,
    },
    /// ABDM could not be reached, or the connection broke: worth retrying.
    #[error("could not reach ABDM at {url}: {detail}")]
    Unreachable {
        /// What was called.
        url: String,
        /// What failed (timed out, refused, …).
        detail: String,
    },
    /// ABDM answered with something we cannot read.
    #[error("unexpected answer from ABDM for {what}: {detail}")]
    Unexpected {
        /// What was read.
        what: String,
        /// Why it could not be.
        detail: String,
    },
}

impl AbdmError {
    /// Whether sending the same request again (same request id) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            AbdmError::Unreachable { .. } => true,
            AbdmError::Rejected { status, .. } => *status >= 500 || *status == 429,
            AbdmError::Unexpected { .. } | AbdmError::Credentials { .. } => false,
        }
    }

    /// Whether nothing was reached (no connection, or it broke): the network, not the call.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, AbdmError::Unreachable { .. })
    }

    /// Whether the gateway refused our credentials (not this call).
    pub fn is_credentials(&self) -> bool {
        matches!(self, AbdmError::Credentials { .. })
    }

    /// ABDM's code (`"ABDM-1100"`, `"900901"`, `"1000"` …), if it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AbdmError::Rejected { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Reads any of ABDM's error envelopes.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let (code, message) = parse_envelope(body);
        let message = message.unwrap_or_else(|| match status {
            401 => "not authorised (missing or invalid credentials or headers)".into(),
            404 => "not found".into(),
            429 => "too many requests".into(),
            s if s >= 500 => "ABDM had an internal error".into(),
            _ => "no reason given".into(),
        });
        AbdmError::Rejected {
            status,
            code,
            message,
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().trim_end_matches(':').trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_envelope(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let raw = String::from_utf8_lossy(body).trim().to_string();
        return (
            None,
            (!raw.is_empty()).then(|| raw.chars().take(200).collect()),
        );
    };
    let Some(object) = value.as_object() else {
        return (None, None);
    };
    if let Some(error) = object.get("error").and_then(Value::as_object) {
        return (
            error.get("code").and_then(text),
            error.get("message").and_then(text),
        );
    }
    if object.contains_key("code") || object.contains_key("message") {
        let mut message = object.get("message").and_then(text);
        let detail = object
            .get("details")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .and_then(Value::as_object);
        let code = detail
            .and_then(|d| d.get("code"))
            .and_then(text)
            .or_else(|| object.get("code").and_then(text));
        if let Some(detail_message) = detail.and_then(|d| d.get("message")).and_then(text) {
            message = Some(detail_message);
        } else if let Some(description) = object.get("description").and_then(text) {
            message = Some(match message {
                Some(m) => format!("{m}: {description}"),
                None => description,
            });
        }
        return (code, message);
    }
    // A flat `{"field": "message"}` (ABHA v3 adds a `timestamp`, which is no field).
    let flat: Vec<String> = object
        .iter()
        .filter(|(k, _)| k.as_str() != "timestamp")
        .filter_map(|(k, v)| text(v).map(|m| format!("{k}: {m}")))
        .collect();
    (None, (!flat.is_empty()).then(|| flat.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(status: u16, body: &str) -> (Option<String>, String) {
        match AbdmError::from_response(status, body.as_bytes()) {
            AbdmError::Rejected { code, message, .. } => (code, message),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn reads_every_envelope() {
        assert_eq!(
            parts(
                422,
                r#"{"error":{"code":"ABDM-1027: ","message":"You are blocked."}}"#
            ),
            (Some("ABDM-1027".into()), "You are blocked.".into())
        );
        assert_eq!(
            parts(
                400,
                r#"{"error":{"code":1441,"message":"Invalid auth confirm request."}}"#
            ),
            (Some("1441".into()), "Invalid auth confirm request.".into())
        );
        assert_eq!(
            parts(
                401,
                r#"{"code":"900901","message":"Invalid Credentials","description":"Access failure"}"#
            ),
            (
                Some("900901".into()),
                "Invalid Credentials: Access failure".into()
            )
        );
        assert_eq!(
            parts(
                400,
                r#"{"code":"HIS-400","message":"Invalid","details":[{"code":"HIS-1070","message":"Bridge ID cannot be blank"}]}"#
            ),
            (Some("HIS-1070".into()), "Bridge ID cannot be blank".into())
        );
        assert_eq!(
            parts(400, r#"{"loginId":"Invalid LoginId"}"#),
            (None, "loginId: Invalid LoginId".into())
        );
        // ABHA v3's field map, with its timestamp (no field), two fields at once.
        assert_eq!(
            parts(
                400,
                r#"{"txnId":"Invalid Transaction Id","otpValue":"Invalid OTP","timestamp":"2026-12-01 10:00:00"}"#
            ),
            (
                None,
                "otpValue: Invalid OTP; txnId: Invalid Transaction Id".into()
            )
        );
        // ABHA v3's flat error.
        assert_eq!(
            parts(
                403,
                r#"{"code":"ABDM-1094","message":"Access to this feature is restricted","timestamp":"2024-10-25 15:02:34"}"#
            ),
            (
                Some("ABDM-1094".into()),
                "Access to this feature is restricted".into()
            )
        );
        assert_eq!(
            parts(401, ""),
            (
                None,
                "not authorised (missing or invalid credentials or headers)".into()
            )
        );
        assert!(AbdmError::from_response(503, b"").is_retryable());
        assert!(!AbdmError::from_response(400, b"").is_retryable());
    }
}
