//! v3 calls as the v0.5 handlers take them: the same domain, another wire. Each function turns
//! a v3 body (with its `REQUEST-ID` and `TIMESTAMP` headers) into the v0.5 body, or says why it
//! cannot.

use serde_json::{json, Map, Value};

/// The v0.5 envelope: the request id and time move from the headers into the body.
pub fn envelope(mut body: Value, request_id: &str, timestamp: &str) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.insert("requestId".into(), request_id.into());
        o.insert("timestamp".into(), timestamp.into());
    }
    body
}

/// `response.requestId` → v0.5's `resp.requestId`, and a v3 error kept as is.
fn answering(v3: &Value, mut body: Map<String, Value>) -> Value {
    body.insert(
        "resp".into(),
        json!({"requestId": v3["response"]["requestId"]}),
    );
    if let Some(e) = v3.get("error").filter(|e| !e.is_null()) {
        body.insert("error".into(), e.clone());
    }
    Value::Object(body)
}

/// v3 identifier types under their v0.5 names.
fn id_type(t: &Value) -> Value {
    match t.as_str() {
        Some("ABHA_NUMBER") => "NDHM_HEALTH_NUMBER".into(),
        Some("ABHA_ADDRESS") => "HEALTH_ID".into(),
        _ => t.clone(),
    }
}

/// Per-HI-type groups as one v0.5 patient: each care context once.
fn one_patient(groups: &Value) -> Option<Value> {
    let groups = groups.as_array().filter(|g| !g.is_empty())?;
    let mut contexts: Vec<Value> = Vec::new();
    for c in groups
        .iter()
        .flat_map(|g| g["careContexts"].as_array().cloned().unwrap_or_default())
    {
        if !contexts
            .iter()
            .any(|k| k["referenceNumber"] == c["referenceNumber"])
        {
            contexts.push(json!({"referenceNumber": c["referenceNumber"],
                "display": c["display"].as_str().unwrap_or_default()}));
        }
    }
    Some(json!({"referenceNumber": groups[0]["referenceNumber"],
        "display": groups[0]["display"].as_str().unwrap_or_default(),
        "careContexts": contexts}))
}

/// Whether each group's `count` is its number of care contexts (`ABDM-1037` otherwise).
pub fn counts_agree(groups: &Value) -> bool {
    groups.as_array().is_some_and(|gs| {
        gs.iter().all(|g| {
            g["count"].as_u64().map(|n| n as usize) == g["careContexts"].as_array().map(Vec::len)
        })
    })
}

pub fn sms_notify(v3: &Value) -> Result<Value, String> {
    let n = &v3["notification"];
    let phone = n["phoneNo"]
        .as_str()
        .ok_or("notification.phoneNo is required")?;
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let ten = digits
        .strip_prefix("91")
        .filter(|d| d.len() == 10)
        .unwrap_or(&digits);
    Ok(
        json!({"notification": {"phoneNo": format!("+91-{ten}"), "careContextInfo": "records",
        "hip": {"id": n["hip"]["id"], "name": n["hip"]["name"]}}}),
    )
}

pub fn on_share(v3: &Value) -> Value {
    let a = &v3["acknowledgement"];
    let status = if a["status"] == "SUCCESS" {
        "SUCCESS"
    } else {
        "FAILURE"
    };
    let mut ack = Map::new();
    ack.insert("status".into(), status.into());
    ack.insert("healthId".into(), a["abhaAddress"].clone());
    if let Some(t) = a["profile"]["tokenNumber"].as_str() {
        ack.insert("tokenNumber".into(), t.into());
    }
    let mut body = Map::new();
    body.insert("acknowledgement".into(), Value::Object(ack));
    answering(v3, body)
}

pub fn on_discover(v3: &Value) -> Value {
    let mut body = Map::new();
    body.insert("transactionId".into(), v3["transactionId"].clone());
    if let Some(mut p) = one_patient(&v3["patient"]) {
        p["matchedBy"] = v3["matchedBy"]
            .as_array()
            .map(|m| m.iter().map(id_type).collect())
            .unwrap_or_default();
        body.insert("patient".into(), p);
    }
    answering(v3, body)
}

pub fn on_link_init(v3: &Value) -> Value {
    let mut body = Map::new();
    body.insert("transactionId".into(), v3["transactionId"].clone());
    if !v3["link"].is_null() {
        body.insert("link".into(), v3["link"].clone());
    }
    answering(v3, body)
}

pub fn on_link_confirm(v3: &Value) -> Value {
    let mut body = Map::new();
    if let Some(p) = one_patient(&v3["patient"]) {
        body.insert("patient".into(), p);
    }
    answering(v3, body)
}

pub fn hip_on_notify(v3: &Value) -> Value {
    let mut body = Map::new();
    body.insert("acknowledgement".into(), v3["acknowledgement"].clone());
    answering(v3, body)
}

pub fn hiu_on_notify(v3: &Value) -> Value {
    let mut body = Map::new();
    body.insert("acknowledgement".into(), v3["acknowledgement"].clone());
    answering(v3, body)
}

pub fn hip_on_request(v3: &Value) -> Value {
    let mut body = Map::new();
    if v3["error"].is_null() {
        body.insert("hiRequest".into(), v3["hiRequest"].clone());
    }
    answering(v3, body)
}

/// v3's HIU reports `RECEIVED` where v0.5 says `TRANSFERRED`.
pub fn hi_notify(v3: &Value) -> Value {
    let mut body = v3.clone();
    let status = &mut body["notification"]["statusNotification"]["sessionStatus"];
    if status == "RECEIVED" {
        *status = "TRANSFERRED".into();
    }
    body
}

pub fn consent_init(v3: &Value, bridge: &str) -> Value {
    let mut consent = v3["consent"].clone();
    if let Some(o) = consent.as_object_mut() {
        if o.get("careContexts").is_none_or(Value::is_null) {
            o.insert("careContexts".into(), json!([]));
        }
        if o.get("hip").is_some_and(Value::is_null) {
            o.remove("hip");
        }
        o.insert("consentNotificationUrl".into(), bridge.into());
    }
    json!({"consent": consent})
}
