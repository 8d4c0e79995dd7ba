//! One line and a few fields per resource, for every resource type a hospital may send.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Index;

fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A CodeableConcept in words: its text, else the first coding's display, else its code.
pub(crate) fn concept(v: &Value) -> Option<String> {
    s(&v["text"])
        .or_else(|| {
            v["coding"]
                .as_array()?
                .iter()
                .find_map(|c| s(&c["display"]))
        })
        .or_else(|| v["coding"].as_array()?.iter().find_map(|c| s(&c["code"])))
}

pub(crate) fn human_name(v: &Value) -> Option<String> {
    let first = v.as_array()?.first()?;
    s(&first["text"]).or_else(|| {
        let mut parts: Vec<String> = first["prefix"]
            .as_array()
            .map(|p| p.iter().filter_map(s).collect())
            .unwrap_or_default();
        parts.extend(
            first["given"]
                .as_array()
                .map(|g| g.iter().filter_map(s).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        parts.extend(s(&first["family"]));
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}

/// The name of a Patient, Practitioner or Organization.
pub(crate) fn name_of(r: &Value) -> Option<String> {
    match r["resourceType"].as_str()? {
        "Organization" => s(&r["name"]),
        _ => human_name(&r["name"]),
    }
}

fn quantity(v: &Value) -> Option<String> {
    let value = s(&v["value"])?;
    Some(match s(&v["unit"]).or_else(|| s(&v["code"])) {
        Some(unit) => format!("{value} {unit}"),
        None => value,
    })
}

/// An Observation's (or component's) value[x].
fn value_x(v: &Value) -> Option<String> {
    quantity(&v["valueQuantity"])
        .or_else(|| concept(&v["valueCodeableConcept"]))
        .or_else(|| s(&v["valueString"]))
        .or_else(|| s(&v["valueBoolean"]))
        .or_else(|| s(&v["valueInteger"]))
        .or_else(|| s(&v["valueDateTime"]))
        .or_else(|| {
            let r = &v["valueRange"];
            Some(format!(
                "{}–{}",
                quantity(&r["low"])?,
                quantity(&r["high"])?
            ))
        })
        .or_else(|| {
            let r = &v["valueRatio"];
            Some(format!(
                "{}/{}",
                quantity(&r["numerator"])?,
                quantity(&r["denominator"])?
            ))
        })
}

fn period(v: &Value) -> Option<String> {
    s(&v["start"]).map(|start| match s(&v["end"]) {
        Some(end) => format!("{start} to {end}"),
        None => start,
    })
}

fn when(r: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| s(&r[*k]).or_else(|| period(&r[*k])))
}

fn narrative(r: &Value) -> Option<String> {
    let div = r["text"]["div"].as_str()?;
    let mut out = String::new();
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

struct Fields(BTreeMap<String, String>);

impl Fields {
    fn put(&mut self, key: &str, value: Option<String>) -> &mut Self {
        if let Some(v) = value {
            self.0.insert(key.into(), v);
        }
        self
    }
}

/// The summary line and fields of one resource.
pub(crate) fn row_for(index: &Index<'_>, r: &Value) -> (String, BTreeMap<String, String>) {
    let mut f = Fields(BTreeMap::new());
    let kind = r["resourceType"].as_str().unwrap_or("Unknown");
    let summary = match kind {
        "Condition" => {
            f.put("clinicalStatus", concept(&r["clinicalStatus"]))
                .put("verificationStatus", concept(&r["verificationStatus"]))
                .put(
                    "onset",
                    when(r, &["onsetDateTime", "onsetPeriod", "onsetString"]),
                )
                .put("recorded", s(&r["recordedDate"]))
                .put("severity", concept(&r["severity"]));
            concept(&r["code"])
        }
        "Observation" => {
            f.put("value", value_x(r))
                .put(
                    "effective",
                    when(r, &["effectiveDateTime", "effectivePeriod"]),
                )
                .put("status", s(&r["status"]));
            let components: Vec<String> = list(&r["component"])
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        concept(&c["code"]).unwrap_or_else(|| "component".into()),
                        value_x(c).unwrap_or_else(|| "no value".into())
                    )
                })
                .collect();
            if !components.is_empty() {
                f.put("components", Some(components.join("; ")));
            }
            let ranges: Vec<String> = list(&r["referenceRange"])
                .iter()
                .filter_map(|rr| match (quantity(&rr["low"]), quantity(&rr["high"])) {
                    (Some(l), Some(h)) => Some(format!("{l}–{h}")),
                    (Some(l), None) => Some(format!("≥ {l}")),
                    (None, Some(h)) => Some(format!("≤ {h}")),
                    _ => s(&rr["text"]),
                })
                .collect();
            if !ranges.is_empty() {
                f.put("referenceRange", Some(ranges.join("; ")));
            }
            f.put(
                "interpretation",
                list(&r["interpretation"]).first().and_then(concept),
            );
            let members: Vec<String> = list(&r["hasMember"])
                .iter()
                .filter_map(|m| index.resolve(m["reference"].as_str()?))
                .map(|m| row_for(index, m).0)
                .collect();
            if !members.is_empty() {
                f.put("members", Some(members.join("; ")));
            }
            let name = concept(&r["code"]).unwrap_or_else(|| "Observation".into());
            Some(match (value_x(r), f.0.get("components")) {
                (Some(v), _) => format!("{name}: {v}"),
                (None, Some(c)) => format!("{name}: {c}"),
                _ => name,
            })
        }
        "AllergyIntolerance" => {
            f.put("clinicalStatus", concept(&r["clinicalStatus"]))
                .put("criticality", s(&r["criticality"]))
                .put(
                    "reaction",
                    list(&r["reaction"])
                        .first()
                        .and_then(|x| list(&x["manifestation"]).first().and_then(concept)),
                );
            concept(&r["code"])
        }
        "MedicationRequest" | "MedicationStatement" | "MedicationAdministration" => {
            let medication = concept(&r["medicationCodeableConcept"])
                .or_else(|| {
                    let m = index.resolve(r["medicationReference"]["reference"].as_str()?)?;
                    concept(&m["code"])
                })
                .or_else(|| s(&r["medicationReference"]["display"]));
            let dosage = list(&r["dosageInstruction"])
                .first()
                .or(list(&r["dosage"]).first())
                .and_then(|d| s(&d["text"]));
            f.put("dosage", dosage)
                .put("status", s(&r["status"]))
                .put("authoredOn", s(&r["authoredOn"]))
                .put(
                    "effective",
                    when(r, &["effectiveDateTime", "effectivePeriod"]),
                )
                .put("reason", list(&r["reasonCode"]).first().and_then(concept));
            medication
        }
        "Procedure" => {
            f.put("status", s(&r["status"]))
                .put(
                    "performed",
                    when(
                        r,
                        &["performedDateTime", "performedPeriod", "performedString"],
                    ),
                )
                .put("outcome", concept(&r["outcome"]));
            concept(&r["code"])
        }
        "CarePlan" => {
            f.put("status", s(&r["status"]))
                .put("intent", s(&r["intent"]))
                .put("period", period(&r["period"]))
                .put("category", list(&r["category"]).first().and_then(concept));
            s(&r["title"]).or_else(|| s(&r["description"]))
        }
        "Appointment" => {
            f.put("status", s(&r["status"]))
                .put("start", s(&r["start"]))
                .put("end", s(&r["end"]));
            s(&r["description"])
                .or_else(|| list(&r["serviceType"]).first().and_then(concept))
                .or_else(|| concept(&r["appointmentType"]))
        }
        "DiagnosticReport" => {
            let results: Vec<String> = list(&r["result"])
                .iter()
                .filter_map(|x| index.resolve(x["reference"].as_str()?))
                .map(|o| row_for(index, o).0)
                .collect();
            f.put("status", s(&r["status"]))
                .put("conclusion", s(&r["conclusion"]))
                .put("issued", s(&r["issued"]))
                .put(
                    "effective",
                    when(r, &["effectiveDateTime", "effectivePeriod"]),
                );
            if !results.is_empty() {
                f.put("results", Some(results.join("; ")));
            }
            concept(&r["code"])
        }
        "DocumentReference" => {
            let a = &r["content"][0]["attachment"];
            f.put("contentType", s(&a["contentType"]))
                .put("date", s(&r["date"]))
                .put("status", s(&r["status"]));
            s(&r["description"])
                .or_else(|| concept(&r["type"]))
                .or_else(|| s(&a["title"]))
        }
        "Immunization" => {
            f.put("status", s(&r["status"]))
                .put(
                    "occurrence",
                    s(&r["occurrenceDateTime"]).or_else(|| s(&r["occurrenceString"])),
                )
                .put("lotNumber", s(&r["lotNumber"]))
                .put(
                    "dose",
                    list(&r["protocolApplied"]).first().and_then(|p| {
                        s(&p["doseNumberPositiveInt"]).or_else(|| s(&p["doseNumberString"]))
                    }),
                );
            concept(&r["vaccineCode"])
        }
        "ImmunizationRecommendation" => {
            let rec = list(&r["recommendation"])
                .first()
                .cloned()
                .unwrap_or(Value::Null);
            f.put("forecast", concept(&rec["forecastStatus"])).put(
                "due",
                list(&rec["dateCriterion"])
                    .first()
                    .and_then(|d| s(&d["value"])),
            );
            list(&rec["vaccineCode"])
                .first()
                .and_then(concept)
                .or_else(|| concept(&rec["targetDisease"]))
        }
        "ServiceRequest" => {
            f.put("status", s(&r["status"]))
                .put("intent", s(&r["intent"]))
                .put("authoredOn", s(&r["authoredOn"]));
            concept(&r["code"])
        }
        "FamilyMemberHistory" => {
            let conditions: Vec<String> = list(&r["condition"])
                .iter()
                .filter_map(|c| concept(&c["code"]))
                .collect();
            f.put(
                "conditions",
                (!conditions.is_empty()).then(|| conditions.join(", ")),
            );
            concept(&r["relationship"]).map(|rel| {
                if conditions.is_empty() {
                    rel
                } else {
                    format!("{rel}: {}", conditions.join(", "))
                }
            })
        }
        "Binary" => {
            f.put("contentType", s(&r["contentType"]));
            Some(format!(
                "File ({})",
                s(&r["contentType"]).unwrap_or_else(|| "unknown type".into())
            ))
        }
        "Invoice" => {
            f.put("status", s(&r["status"]))
                .put("date", s(&r["date"]))
                .put("totalNet", quantity_money(&r["totalNet"]))
                .put("totalGross", quantity_money(&r["totalGross"]))
                .put("lineItems", Some(list(&r["lineItem"]).len().to_string()));
            concept(&r["type"]).or_else(|| Some("Invoice".into()))
        }
        "ChargeItem" => {
            f.put("quantity", s(&r["quantity"]["value"]))
                .put("status", s(&r["status"]));
            concept(&r["code"])
        }
        "Specimen" => {
            f.put("collected", s(&r["collection"]["collectedDateTime"]))
                .put("status", s(&r["status"]));
            concept(&r["type"])
        }
        "Media" => {
            f.put("contentType", s(&r["content"]["contentType"]))
                .put("created", s(&r["createdDateTime"]));
            s(&r["content"]["title"])
                .or_else(|| concept(&r["type"]))
                .or_else(|| Some("Image".into()))
        }
        "ImagingStudy" => {
            f.put("started", s(&r["started"])).put(
                "modality",
                list(&r["modality"]).first().and_then(|m| s(&m["code"])),
            );
            s(&r["description"])
        }
        "AdverseEvent" => {
            f.put("date", s(&r["date"]))
                .put("seriousness", concept(&r["seriousness"]));
            concept(&r["event"])
        }
        "Encounter" => {
            f.put(
                "class",
                s(&r["class"]["display"]).or_else(|| s(&r["class"]["code"])),
            )
            .put("period", period(&r["period"]))
            .put("status", s(&r["status"]));
            list(&r["type"])
                .first()
                .and_then(concept)
                .or_else(|| f.0.get("class").cloned())
        }
        "Patient" | "Practitioner" | "Organization" | "RelatedPerson" => name_of(r),
        _ => None,
    };
    // The generic fallback: the narrative, then any code.
    let summary = summary
        .or_else(|| narrative(r))
        .or_else(|| concept(&r["code"]))
        .unwrap_or_else(|| format!("{kind} (no readable content)"));
    if let Some(text) = narrative(r) {
        if !f.0.contains_key("narrative") && kind != "Composition" {
            f.0.insert("narrative".into(), text);
        }
    }
    (summary, f.0)
}

fn quantity_money(v: &Value) -> Option<String> {
    Some(
        format!(
            "{} {}",
            s(&v["value"])?,
            s(&v["currency"]).unwrap_or_default()
        )
        .trim()
        .to_string(),
    )
}
