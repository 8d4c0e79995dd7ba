//! The ABHA QR payload: every variant in use (the ABHA card, the PHR app), the clinic's counter QR
//! (scan and share), and a bare ABHA number or address, read into one typed value or a precise
//! error; and the codes the desk prints ([`counter_url`], [`card_payload`]). Generation-neutral:
//! v0.5 and v3 cards print the same payloads.

mod make;

pub use make::{card_payload, counter_url, PhrHost};

use crate::ids::{AbhaAddress, AbhaNumber};
use serde::Serialize;
use serde_json::{Map, Value};

/// What a scanned code is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scanned {
    /// An ABHA card or PHR-app profile QR.
    Abha(Box<AbhaQr>),
    /// A clinic's counter QR (`…/share-profile?hip-id=…&counter-id=…`).
    Counter {
        /// The clinic's HIP id.
        hip_id: String,
        /// Which counter of the clinic.
        counter_id: String,
    },
    /// Just an ABHA number (typed or printed).
    AbhaNumber {
        /// Dashed.
        abha_number: String,
    },
    /// Just an ABHA address.
    AbhaAddress {
        /// `name@suffix`, lower case.
        abha_address: String,
    },
}

/// The profile an ABHA QR carries. Fields a card may mask or leave out are optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AbhaQr {
    /// Dashed; absent on a PHR address not linked to an ABHA number.
    pub abha_number: Option<String>,
    /// `name@suffix`; absent on cards that show only the number.
    pub abha_address: Option<String>,
    /// The holder's name as printed.
    pub name: String,
    /// `M`, `F`, `O` or `U`.
    pub gender: String,
    /// As printed, possibly partly masked.
    pub date_of_birth: DateOfBirth,
    /// The state's LGD code.
    pub state_lgd: Option<String>,
    /// The district's LGD code.
    pub district_lgd: Option<String>,
    /// The state's name.
    pub state: Option<String>,
    /// The district's name.
    pub district: Option<String>,
    /// As printed: possibly masked (`984x1x2x6x`).
    pub mobile: Option<String>,
    /// Whether the card masks the mobile (then it is not usable as one).
    pub mobile_masked: bool,
    /// The address line as printed.
    pub address: Option<String>,
}

/// A date of birth as the card gives it: parts that are masked (`xx/9/19xx`) are `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DateOfBirth {
    /// Day of the month, when not masked.
    pub day: Option<u32>,
    /// Month (1–12), when not masked.
    pub month: Option<u32>,
    /// Year, when not masked.
    pub year: Option<i32>,
    /// The text as printed.
    pub text: Option<String>,
}

/// Why a scanned code cannot be used, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// Nothing was read.
    #[error("the code is empty")]
    Empty,
    /// Not an ABHA card, ABHA identifier or counter code.
    #[error("this QR code is not an ABHA card, an ABHA number or a clinic counter code")]
    Unrecognised,
    /// ABHA card JSON that does not parse.
    #[error("the ABHA QR is damaged: {0}")]
    BadJson(String),
    /// A field every card has is missing.
    #[error("the ABHA QR has no {0}")]
    Missing(&'static str),
    /// A field has a value it cannot have.
    #[error("the ABHA QR's {field} is not valid: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A counter code without both ids.
    #[error("the counter QR needs both hip-id and counter-id")]
    BadCounter,
}

fn text(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match map.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.trim() != "-" => {
            Some(s.trim().to_string())
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn part<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.chars().any(|c| !c.is_ascii_digit()) {
        return None; // masked, e.g. `xx` or `19xx`
    }
    s.parse().ok()
}

/// `d/m/yyyy`, `dd-mm-yyyy`, `yyyy-mm-dd`, a bare year, with any part masked by `x`.
fn date_of_birth(raw: Option<String>) -> Result<DateOfBirth, QrError> {
    let Some(raw) = raw else {
        return Ok(DateOfBirth::default());
    };
    let parts: Vec<&str> = raw.split(['/', '-', '.']).map(str::trim).collect();
    let (d, m, y) = match parts.as_slice() {
        [y] => (None, None, part::<i32>(y)),
        [a, b, c] if a.len() == 4 => (part::<u32>(c), part::<u32>(b), part::<i32>(a)),
        [d, m, y] => (part::<u32>(d), part::<u32>(m), part::<i32>(y)),
        _ => {
            return Err(QrError::Invalid {
                field: "date of birth",
                reason: format!("{raw:?} is not a date"),
            })
        }
    };
    let bad = |reason: &str| {
        Err(QrError::Invalid {
            field: "date of birth",
            reason: format!("{raw:?}: {reason}"),
        })
    };
    if d.is_some_and(|d| !(1..=31).contains(&d)) {
        return bad("no such day");
    }
    if m.is_some_and(|m| !(1..=12).contains(&m)) {
        return bad("no such month");
    }
    if y.is_some_and(|y| !(1900..=2100).contains(&y)) {
        return bad("no such year");
    }
    let all_masked = d.is_none() && m.is_none() && y.is_none();
    if all_masked && !raw.to_ascii_lowercase().contains('x') {
        return bad("not a date");
    }
    Ok(DateOfBirth {
        day: d,
        month: m,
        year: y,
        text: Some(raw),
    })
}

fn abha_json(map: &Map<String, Value>) -> Result<AbhaQr, QrError> {
    let abha_number = text(map, &["hidn", "abhaNumber", "healthIdNumber"])
        .map(|n| {
            AbhaNumber::parse(&n)
                .map(|n| n.dashed().to_string())
                .map_err(|e| QrError::Invalid {
                    field: "ABHA number",
                    reason: e.to_string(),
                })
        })
        .transpose()?;
    let abha_address = text(map, &["hid", "phr", "abhaAddress", "healthId"])
        .map(|a| {
            AbhaAddress::parse_qualified(&a)
                .map(|a| a.as_str().to_string())
                .map_err(|e| QrError::Invalid {
                    field: "ABHA address",
                    reason: e.to_string(),
                })
        })
        .transpose()?;
    if abha_number.is_none() && abha_address.is_none() {
        return Err(QrError::Missing("ABHA number or address"));
    }
    let name = text(map, &["name"]).ok_or(QrError::Missing("name"))?;
    let gender = match text(map, &["gender"]).map(|g| g.to_ascii_uppercase()) {
        Some(g) if ["M", "F", "O", "U"].contains(&g.as_str()) => g,
        Some(g) if g.starts_with("MALE") => "M".into(),
        Some(g) if g.starts_with("FEMALE") => "F".into(),
        Some(g) => {
            return Err(QrError::Invalid {
                field: "gender",
                reason: format!("{g:?} is not M, F or O"),
            })
        }
        None => "U".into(),
    };
    let mobile = text(map, &["mobile", "phoneNumber"]);
    let mobile_masked = mobile.as_deref().is_some_and(|m| {
        m.chars()
            .any(|c| !c.is_ascii_digit() && c != '+' && c != '-' && c != ' ')
    });
    if let Some(m) = mobile.as_deref().filter(|_| !mobile_masked) {
        crate::ids::Mobile::parse(m).map_err(|e| QrError::Invalid {
            field: "mobile",
            reason: e.to_string(),
        })?;
    }
    Ok(AbhaQr {
        abha_number,
        abha_address,
        name,
        gender,
        date_of_birth: date_of_birth(text(map, &["dob", "dateOfBirth"]))?,
        state_lgd: text(map, &["statelgd"]),
        district_lgd: text(map, &["distlgd"]),
        state: text(map, &["state name", "state_name", "stateName"]),
        district: text(map, &["dist name", "district_name", "districtName"]),
        mobile,
        mobile_masked,
        address: text(map, &["address"]),
    })
}

/// Reads a scanned (or typed) code.
pub fn parse(payload: &str) -> Result<Scanned, QrError> {
    let p = payload.trim().trim_start_matches('\u{feff}');
    if p.is_empty() {
        return Err(QrError::Empty);
    }
    if p.starts_with('{') {
        let value: Value = serde_json::from_str(p).map_err(|e| QrError::BadJson(e.to_string()))?;
        let map = value.as_object().ok_or(QrError::Unrecognised)?;
        return abha_json(map).map(|a| Scanned::Abha(Box::new(a)));
    }
    if let Ok(url) = url::Url::parse(p) {
        if url.path().ends_with("share-profile") {
            let q = |k: &str| {
                url.query_pairs()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            return match (q("hip-id"), q("counter-id")) {
                (Some(hip_id), Some(counter_id)) => Ok(Scanned::Counter { hip_id, counter_id }),
                _ => Err(QrError::BadCounter),
            };
        }
        if url.scheme() == "http" || url.scheme() == "https" {
            return Err(QrError::Unrecognised);
        }
    }
    if p.contains('@') {
        return AbhaAddress::parse_qualified(p)
            .map(|a| Scanned::AbhaAddress {
                abha_address: a.as_str().into(),
            })
            .map_err(|e| QrError::Invalid {
                field: "ABHA address",
                reason: e.to_string(),
            });
    }
    if p.chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        return AbhaNumber::parse(p)
            .map(|n| Scanned::AbhaNumber {
                abha_number: n.dashed().into(),
            })
            .map_err(|e| QrError::Invalid {
                field: "ABHA number",
                reason: e.to_string(),
            });
    }
    Err(QrError::Unrecognised)
}

#[cfg(test)]
mod tests;
