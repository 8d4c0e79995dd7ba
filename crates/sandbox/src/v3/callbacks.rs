//! What the gateway sends a bridge, from the v0.5 form the domain writes to the v3 form a v3
//! client gets: the v3 path, the body, and the `REQUEST-ID` header (v0.5's body `requestId`).

use serde_json::{json, Map, Value};

use abdm::v0_5::{consent_requests, consents, discovery, health_information as hi, links};
use abdm::v0_5::{profile, sms};
use abdm::v3;
use abdm::Operation;

/// A callback in its v3 form.
pub struct Outgoing {
    pub path: &'static str,
    pub request_id: String,
    pub body: Value,
}

/// v3 codes are strings (`ABDM-1026`); the spec's numeric v0.5 form carries it in the message.
fn error(v05: &Value) -> Option<Value> {
    let e = v05.get("error").filter(|e| !e.is_null())?;
    let message = e["message"].as_str().unwrap_or_default();
    Some(match e["code"].as_str() {
        Some(code) => json!({"code": code, "message": message}),
        None => match message.split_once(": ") {
            Some((code, rest)) if code.starts_with("ABDM-") => {
                json!({"code": code, "message": rest})
            }
            _ => json!({"code": "ABDM-9999", "message": message}),
        },
    })
}

/// `resp.requestId` → `response.requestId`, the error as v3 writes it.
fn reply(v05: &Value, mut body: Map<String, Value>) -> Value {
    body.insert(
        "response".into(),
        json!({"requestId": v05["resp"]["requestId"]}),
    );
    if let Some(e) = error(v05) {
        body.insert("error".into(), e);
    }
    Value::Object(body)
}

fn id_type(t: &Value) -> Value {
    match t.as_str() {
        Some("NDHM_HEALTH_NUMBER") => "ABHA_NUMBER".into(),
        Some("HEALTH_ID") => "ABHA_ADDRESS".into(),
        _ => t.clone(),
    }
}

fn identifiers(list: &Value) -> Value {
    Value::Array(
        list.as_array()
            .into_iter()
            .flatten()
            .map(|i| json!({"type": id_type(&i["type"]), "value": i["value"]}))
            .collect(),
    )
}

/// v0.5's consent detail as v3 requires it (schema v3, both services, the requester's id).
fn detail(d: &Value, hiu: Option<&str>) -> Value {
    let mut d = d.clone();
    let o = d.as_object_mut().expect("a consent detail is an object");
    o.insert("schemaVersion".into(), "v3".into());
    let service = |s: Option<&Value>, kind: &str, fallback: &str| {
        let s = s.filter(|s| !s.is_null());
        json!({"id": s.map(|s| s["id"].clone()).unwrap_or_else(|| fallback.into()),
            "name": s.and_then(|s| s.get("name")).cloned().unwrap_or(Value::Null),
            "type": kind})
    };
    let hip = service(o.get("hip"), "HIP", "");
    let hiu = service(o.get("hiu"), "HIU", hiu.unwrap_or_default());
    o.insert("hip".into(), hip);
    o.insert("hiu".into(), hiu);
    let requester = o.get("requester").cloned().unwrap_or(Value::Null);
    let identifier = requester
        .get("identifier")
        .filter(|i| !i.is_null())
        .cloned()
        .unwrap_or_else(|| json!({"type": "REGNO", "value": "unregistered", "system": "https://www.mciindia.org"}));
    o.insert(
        "requester".into(),
        json!({"name": requester["name"].as_str().unwrap_or("unnamed"), "identifier": identifier}),
    );
    if let Some(cm) = o.get_mut("consentManager") {
        *cm = json!({"id": cm["id"]});
    }
    d
}

/// The v3 form of a v0.5 callback to `path`, or `None` when v3 has no such message.
pub fn to_v3(path: &str, v05: &Value, service_id: &str) -> Option<Outgoing> {
    let request_id = v05["requestId"].as_str().unwrap_or_default().to_string();
    let (path, body) = match path {
        p if p == links::on_add_contexts::Endpoint::PATH => {
            let mut body = Map::new();
            if v05["error"].is_null() {
                body.insert(
                    "status".into(),
                    v3::hip_linking::on_carecontext::LINKED.into(),
                );
                if let Some(a) = v05["abhaAddress"].as_str() {
                    body.insert("abhaAddress".into(), a.into());
                }
            }
            (
                v3::hip_linking::on_carecontext::Endpoint::PATH,
                reply(v05, body),
            )
        }
        p if p == sms::on_notify::Endpoint::PATH => {
            let ok = v05["error"].is_null();
            let mut body = Map::new();
            body.insert(
                "acknowledgement".into(),
                json!({"status": if ok { "SUCCESS" } else { "ERRORED" }}),
            );
            (
                v3::hip_linking::on_sms_notify::Endpoint::PATH,
                reply(v05, body),
            )
        }
        p if p == profile::share::Endpoint::PATH || p == profile::share::V1_PATH => {
            let u = &v05["patient"]["userDemographics"];
            let mobile = u["identifiers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|i| i["type"] == "MOBILE")
                .map(|i| i["value"].clone())
                .unwrap_or(Value::Null);
            let text = |v: &Value| match v {
                Value::Number(n) => Value::String(n.to_string()),
                other => other.clone(),
            };
            let address = &u["address"];
            let body = json!({"intent": "PROFILE_SHARE",
                "metaData": {"hipId": service_id,
                    "context": v05["patient"]["hipCode"].as_str().unwrap_or_default(),
                    "hprId": null, "latitude": null, "longitude": null},
                "profile": {"patient": {"abhaNumber": u["healthIdNumber"],
                    "abhaAddress": u["healthId"], "name": u["name"], "gender": u["gender"],
                    "dayOfBirth": text(&u["dayOfBirth"]), "monthOfBirth": text(&u["monthOfBirth"]),
                    "yearOfBirth": text(&u["yearOfBirth"]),
                    "address": {"line": address["line"], "district": address["district"],
                        "state": address["state"].as_str().unwrap_or_default(),
                        "pincode": address["pincode"].as_str().unwrap_or_default()},
                    "phoneNumber": mobile}}});
            (v3::patient_share::share::Endpoint::PATH, body)
        }
        p if p == discovery::discover::Endpoint::PATH => {
            let patient = &v05["patient"];
            let body = json!({"transactionId": v05["transactionId"],
                "patient": {"id": patient["id"], "name": patient["name"],
                    "gender": patient["gender"], "yearOfBirth": patient["yearOfBirth"],
                    "verifiedIdentifiers": identifiers(&patient["verifiedIdentifiers"]),
                    "unverifiedIdentifiers": identifiers(&patient["unverifiedIdentifiers"])}});
            (v3::user_linking::discover::Endpoint::PATH, body)
        }
        p if p == links::init::Endpoint::PATH => {
            let patient = &v05["patient"];
            let contexts: Vec<Value> = patient["careContexts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| json!({"referenceNumber": c["referenceNumber"], "display": ""}))
                .collect();
            let body = json!({"transactionId": v05["transactionId"], "abhaAddress": patient["id"],
                "patient": [{"referenceNumber": patient["referenceNumber"], "display": "",
                    "careContexts": contexts, "hiType": "OPConsultation",
                    "count": contexts.len()}]});
            (v3::user_linking::init::Endpoint::PATH, body)
        }
        p if p == links::confirm::Endpoint::PATH => {
            let c = &v05["confirmation"];
            let token: u64 = c["token"].as_str().and_then(|t| t.parse().ok())?;
            let body =
                json!({"confirmation": {"linkRefNumber": c["linkRefNumber"], "token": token}});
            (v3::user_linking::confirm::Endpoint::PATH, body)
        }
        p if p == consents::hip_notify::Endpoint::PATH => {
            let n = &v05["notification"];
            let body = json!({"notification": {"status": n["status"], "consentId": n["consentId"],
                "consentDetail": detail(&n["consentDetail"], None),
                "signature": n["signature"], "grantAcknowledgement": false}});
            (v3::consent::hip_notify::Endpoint::PATH, body)
        }
        p if p == hi::hip_request::Endpoint::PATH => {
            let body =
                json!({"transactionId": v05["transactionId"], "hiRequest": v05["hiRequest"]});
            (v3::data_flow::hip_request::Endpoint::PATH, body)
        }
        p if p == consent_requests::on_init::Endpoint::PATH => {
            let mut body = Map::new();
            if !v05["consentRequest"].is_null() {
                body.insert("consentRequest".into(), v05["consentRequest"].clone());
            }
            (v3::consent::on_init::Endpoint::PATH, reply(v05, body))
        }
        p if p == consent_requests::on_status::Endpoint::PATH => {
            let mut body = Map::new();
            if !v05["consentRequest"].is_null() {
                body.insert("consentRequest".into(), v05["consentRequest"].clone());
            }
            (v3::consent::on_status::Endpoint::PATH, reply(v05, body))
        }
        p if p == consents::hiu_notify::Endpoint::PATH => {
            let n = &v05["notification"];
            let body = json!({"notification": {"consentRequestId": n["consentRequestId"],
                "status": n["status"], "reason": null,
                "consentArtefacts": n["consentArtefacts"]}});
            (v3::consent::hiu_notify::Endpoint::PATH, body)
        }
        p if p == consents::on_fetch::Endpoint::PATH => {
            let mut body = Map::new();
            let c = &v05["consent"];
            if !c.is_null() {
                let mut d = detail(&c["consentDetail"], None);
                // NHA's on-fetch also wants these beside `permission`.
                d["dataEraseAt"] = d["permission"]["dataEraseAt"].clone();
                d["frequency"] = d["permission"]["frequency"].clone();
                d["lastUpdated"] = d["createdAt"].clone();
                body.insert(
                    "consent".into(),
                    json!({"status": c["status"], "consentDetail": d, "signature": c["signature"]}),
                );
            }
            (v3::consent::on_fetch::Endpoint::PATH, reply(v05, body))
        }
        p if p == hi::hiu_on_request::Endpoint::PATH || p == hi::hiu_on_request::CM_PATH => {
            let mut body = Map::new();
            if !v05["hiRequest"].is_null() {
                body.insert("hiRequest".into(), v05["hiRequest"].clone());
            }
            (
                v3::data_flow::hiu_on_request::Endpoint::PATH,
                reply(v05, body),
            )
        }
        _ => return None,
    };
    Some(Outgoing {
        path,
        request_id,
        body,
    })
}
