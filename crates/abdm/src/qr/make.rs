//! The codes the desk prints: the counter QR patients scan to share their profile, and the
//! payload of an ABHA card printed from a linked profile. Both read back with [`super::parse`].

use super::{AbhaQr, QrError};
use serde_json::{json, Map, Value};

/// Where a patient's PHR app sends a scanned counter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhrHost {
    /// ABDM's sandbox (`phrsbx`): also what the embedded sandbox prints.
    Sandbox,
    /// Live ABDM.
    Production,
}

impl PhrHost {
    fn origin(self) -> &'static str {
        match self {
            PhrHost::Sandbox => "https://phrsbx.abdm.gov.in",
            PhrHost::Production => "https://phr.abdm.gov.in",
        }
    }
}

/// The counter QR's URL. ABDM returns `counter-id` as the share's context: 1–20 letters, digits,
/// `-` or `_` (no spaces, and not the facility id), so anything else is refused here, before a
/// poster is printed that no phone could use.
pub fn counter_url(host: PhrHost, hip_id: &str, counter_id: &str) -> Result<String, QrError> {
    let allowed = |s: &str, max: usize| {
        (1..=max).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !allowed(hip_id, 50) {
        return Err(QrError::Invalid {
            field: "HIP id",
            reason: "use the facility's HIP id: letters, digits, - and _ only".into(),
        });
    }
    if !allowed(counter_id, 20) {
        return Err(QrError::Invalid {
            field: "counter id",
            reason: "use 1 to 20 letters or digits (- and _ allowed, no spaces)".into(),
        });
    }
    Ok(format!(
        "{}/share-profile?hip-id={hip_id}&counter-id={counter_id}",
        host.origin()
    ))
}

/// An ABHA card's QR payload in the field names ABHA cards use (`hidn`, `hid`, `dob` …). A masked
/// mobile is left out: the card would otherwise print a number nobody can call.
pub fn card_payload(profile: &AbhaQr) -> String {
    let mut map = Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            map.insert(key.into(), Value::String(v.into()));
        }
    };
    put("hidn", profile.abha_number.as_deref());
    put("hid", profile.abha_address.as_deref());
    put("name", Some(&profile.name));
    put("gender", Some(&profile.gender));
    put("dob", profile.date_of_birth.text.as_deref());
    put("state name", profile.state.as_deref());
    put("dist name", profile.district.as_deref());
    put("statelgd", profile.state_lgd.as_deref());
    put("distlgd", profile.district_lgd.as_deref());
    put("address", profile.address.as_deref());
    if !profile.mobile_masked {
        put("mobile", profile.mobile.as_deref());
    }
    json!(map).to_string()
}
