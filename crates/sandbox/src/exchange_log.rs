//! The exchange log: every HTTP exchange with the outside world, one JSON object per line:
//! `{"ts","direction":"inbound"|"outbound","method","path","status","headers","body"}` plus
//! `response` (the JSON we answered, for synchronous calls) and `operation` (the spec path of a
//! callback, whose `path` is the path at the bridge). `headers` are ABDM's own (v3 moved the
//! request id, the time and the routing there). Secrets are left out, keeping each value's shape
//! so the log still validates against NHA's OpenAPI: tokens become `<redacted>`, OTPs and Aadhaar
//! digits are masked.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{json, Value};

pub struct ExchangeLog {
    file: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
}

const TOKEN_KEYS: &[&str] = &[
    "clientSecret",
    "accessToken",
    "refreshToken",
    "token",
    "linkToken",
    "password",
    "keyValue",
];
const DIGIT_KEYS: &[&str] = &["otp", "authCode", "aadhaar"];

/// Blanks secrets in place, keeping their type and rough shape.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                // v3 sends the linking OTP as a JSON number (`confirmation.token`).
                if let Value::Number(_) = v {
                    if key == "token" || DIGIT_KEYS.contains(&key.as_str()) {
                        *v = Value::from(999_999);
                    }
                    continue;
                }
                if let Value::String(s) = v {
                    if TOKEN_KEYS.contains(&key.as_str()) && !s.is_empty() {
                        // Keep public keys (keyValue) visible: they are not secrets.
                        if key != "keyValue" {
                            *s = "<redacted>".into();
                        }
                        continue;
                    }
                    if DIGIT_KEYS.contains(&key.as_str()) {
                        let keep = if key == "aadhaar" { 4 } else { 0 };
                        let n = s.chars().count();
                        *s = s
                            .chars()
                            .enumerate()
                            .map(|(i, c)| {
                                if c.is_ascii_digit() && i + keep < n {
                                    '9'
                                } else {
                                    c
                                }
                            })
                            .collect();
                        continue;
                    }
                }
                redact(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// The headers ABDM's exchanges are about, by lower-case name.
const HEADERS: &[&str] = &[
    "authorization",
    "request-id",
    "timestamp",
    "x-cm-id",
    "x-hip-id",
    "x-hiu-id",
    "x-link-token",
    "x-token",
    "t-token",
    "r-token",
    "transaction_id",
    "content-type",
];
/// Those that carry a secret: only their presence (and `Bearer`) is logged.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-link-token",
    "x-token",
    "t-token",
    "r-token",
];

/// ABDM's headers of an exchange, secrets masked.
pub fn headers_value<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut out = serde_json::Map::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if !HEADERS.contains(&name.as_str()) {
            continue;
        }
        let shown = if SECRET_HEADERS.contains(&name.as_str()) {
            if value.trim_start().starts_with("Bearer ") {
                "Bearer <redacted>".to_string()
            } else {
                "<redacted>".to_string()
            }
        } else {
            value.to_string()
        };
        out.insert(name, Value::String(shown));
    }
    Value::Object(out)
}

fn body_value(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            redact(&mut v);
            v
        }
        Err(_) => {
            Value::String(String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned())
        }
    }
}

impl ExchangeLog {
    pub fn open(path: Option<&Path>) -> std::io::Result<Self> {
        let file = match path {
            Some(p) => Some(Mutex::new(std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ))),
            None => None,
        };
        Ok(Self { file })
    }

    fn write(&self, line: Value) {
        if let Some(file) = &self.file {
            let mut f = file.lock().expect("exchange log lock");
            // A full disk must not take the simulator down; the log is a diagnostic.
            let _ = writeln!(f, "{line}").and_then(|_| f.flush());
        }
    }

    pub fn inbound(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: Value,
        body: &[u8],
        response: &[u8],
    ) {
        let mut line = json!({
            "ts": abdm::Timestamp::now(), "direction": "inbound", "method": method, "path": path,
            "status": status, "headers": headers, "body": body_value(body),
        });
        let response = body_value(response);
        if !response.is_null() {
            line["response"] = response;
        }
        self.write(line);
    }

    pub fn outbound(
        &self,
        method: &str,
        path: &str,
        operation: &str,
        status: Option<u16>,
        headers: Value,
        body: &Value,
    ) {
        let mut body = body.clone();
        redact(&mut body);
        self.write(json!({
            "ts": abdm::Timestamp::now(), "direction": "outbound", "method": method, "path": path,
            "operation": operation, "status": status, "headers": headers, "body": body,
        }));
    }
}
