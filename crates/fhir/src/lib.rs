//! FHIR R4 document bundles as ABDM moves them.
//!
//! [`read`] turns any bundle a hospital sends into a [`Document`] a doctor can read: the Composition's
//! header, its sections (nested too) with one row per entry, a `missing` list for references that do
//! not resolve, every attachment, and warnings. It walks `serde_json::Value` and never trusts the
//! sender's dialect: references resolve by exact `fullUrl`, then `Type/id`, then the `urn:uuid:`
//! suffix against `id` (real bundles come as legacy projecteka, IG v2 `Type/id` and IG v6 `urn:uuid`).
//! Unknown resource types get a generic row, never silence.

mod summary;
pub mod write;

use std::collections::{BTreeMap, HashMap};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;

/// Why a bundle or an attachment could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReadError {
    /// The JSON is not a Bundle; holds the `resourceType` it has (empty when none).
    #[error("this is not a FHIR Bundle (resourceType is {0:?})")]
    NotABundle(String),
    /// The bundle has no Composition entry.
    #[error("the bundle has no Composition, so it is not a document")]
    NoComposition,
    /// The attachment carries no inline `data`.
    #[error("the attachment has no inline data")]
    NoData,
    /// The attachment's `data` does not decode as base64.
    #[error("the attachment's data is not valid base64")]
    BadData,
}

/// A code with its words, from the first `coding` of a CodeableConcept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    /// The first coding's `code`.
    pub code: Option<String>,
    /// The first coding's `display`, else the concept's `text`.
    pub display: Option<String>,
}

/// One of the patient's identifiers, e.g. an ABHA number or a medical record number.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    /// The namespace the value belongs to, a URI such as `https://healthid.abdm.gov.in`.
    pub system: Option<String>,
    /// The identifier as the sender wrote it.
    pub value: Option<String>,
}

/// Who the document is about: the Composition's subject, else the bundle's first Patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientHeader {
    /// The first name's `text`, else its prefix, given and family names joined.
    pub name: Option<String>,
    /// Every identifier on the Patient, in the order sent.
    pub identifiers: Vec<Identifier>,
    /// FHIR administrative gender as sent: `male`, `female`, `other` or `unknown`.
    pub gender: Option<String>,
    /// `birthDate` as sent (a FHIR date, usually `YYYY-MM-DD`).
    pub birth_date: Option<String>,
}

/// One section entry that resolved to a resource in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The reference exactly as the section entry wrote it.
    pub reference: String,
    /// The resolved resource's `resourceType`, or `Unknown` when it has none.
    pub resource_type: String,
    /// One line for the doctor.
    pub summary: String,
    /// Further details in words, keyed by FHIR element name (e.g. `onset`, `status`).
    pub fields: BTreeMap<String, String>,
}

/// A Composition section with its resolved entries and any nested sections.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    /// The section's `title`, else its code's display or text.
    pub title: Option<String>,
    /// The first coding's code (SNOMED in NRCeS bundles).
    pub code: Option<String>,
    /// One row per entry that resolved, in the section's order.
    pub rows: Vec<Row>,
    /// References that resolve to nothing in the bundle.
    pub missing: Vec<String>,
    /// Nested sections, read the same way.
    pub sections: Vec<Section>,
}

/// A file in the bundle: DocumentReference content, a report's presentedForm, Media or Binary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The resource holding it (its `fullUrl`).
    pub reference: String,
    /// The attachment's title, else the DocumentReference's description or the report's code text.
    pub title: Option<String>,
    /// MIME type as declared, e.g. `application/pdf`.
    pub content_type: Option<String>,
    /// Bytes of the inline data (or the declared size when there is none inline).
    pub size: Option<u64>,
    #[serde(skip)]
    data: Option<String>,
}

impl Attachment {
    /// The attachment's bytes. Some senders base64-encode a file twice (the ABDM sandbox's own
    /// samples do): binary content that decodes to base64 text is decoded once more.
    pub fn bytes(&self) -> Result<Vec<u8>, ReadError> {
        let data = self.data.as_deref().ok_or(ReadError::NoData)?;
        let once = decode_b64(data).ok_or(ReadError::BadData)?;
        let textual = self
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/") || t.contains("json") || t.contains("xml"));
        if !textual
            && once.len() >= 8
            && once
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=\r\n".contains(b))
        {
            if let Some(twice) = std::str::from_utf8(&once).ok().and_then(decode_b64) {
                return Ok(twice);
            }
        }
        Ok(once)
    }
}

/// A document bundle read for a doctor: the Composition's header, sections and attachments.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// The Composition's `title`.
    pub title: Option<String>,
    /// The Composition's document type (serialised as `type`).
    #[serde(rename = "type")]
    pub kind: Option<Coding>,
    /// The Composition's `status`, e.g. `final`.
    pub status: Option<String>,
    /// The Composition's `date` as sent (a FHIR dateTime).
    pub date: Option<String>,
    /// Each author's name, else its display text, else the raw reference.
    pub authors: Vec<String>,
    /// The custodian organisation's name, else its display text, else the raw reference.
    pub custodian: Option<String>,
    /// The patient; None when the bundle has no Patient to show.
    pub patient: Option<PatientHeader>,
    /// The Composition's encounter as labelled fields; None when absent or not in the bundle.
    pub encounter: Option<BTreeMap<String, String>>,
    /// The Composition's top-level sections, in order.
    pub sections: Vec<Section>,
    /// Every attachment anywhere in the bundle, in entry order.
    pub attachments: Vec<Attachment>,
    /// Problems found while reading (unresolved references, odd structure), to show the doctor.
    pub warnings: Vec<String>,
}

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// The bundle's resources and how to find them.
pub(crate) struct Index<'a> {
    entries: Vec<(&'a str, &'a Value)>,
    by_full_url: HashMap<&'a str, usize>,
    by_type_id: HashMap<(String, String), usize>,
    by_id: HashMap<String, usize>,
}

impl<'a> Index<'a> {
    fn new(bundle: &'a Value, warnings: &mut Vec<String>) -> Self {
        let mut index = Index {
            entries: vec![],
            by_full_url: HashMap::new(),
            by_type_id: HashMap::new(),
            by_id: HashMap::new(),
        };
        for (i, entry) in bundle["entry"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let resource = &entry["resource"];
            let full_url = entry["fullUrl"].as_str().unwrap_or_default();
            if !full_url.is_empty() && index.by_full_url.insert(full_url, i).is_some() {
                warnings.push(format!("two entries share the fullUrl {full_url}"));
            }
            if let (Some(t), Some(id)) =
                (resource["resourceType"].as_str(), resource["id"].as_str())
            {
                index.by_type_id.insert((t.to_string(), id.to_string()), i);
                index.by_id.entry(id.to_string()).or_insert(i);
            }
            index.entries.push((full_url, resource));
        }
        index
    }

    /// Exact `fullUrl`, then `Type/id` (also at the end of an absolute URL), then `urn:uuid:` against `id`.
    pub(crate) fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let r = reference.trim();
        if let Some(&i) = self.by_full_url.get(r) {
            return Some(self.entries[i].1);
        }
        let parts: Vec<&str> = r.trim_end_matches('/').rsplitn(3, '/').collect();
        if parts.len() >= 2 {
            if let Some(&i) = self
                .by_type_id
                .get(&(parts[1].to_string(), parts[0].to_string()))
            {
                return Some(self.entries[i].1);
            }
        }
        if let Some(id) = r.strip_prefix("urn:uuid:") {
            if let Some(&i) = self.by_id.get(id) {
                return Some(self.entries[i].1);
            }
            // A bundle whose fullUrls are urn:uuid but whose references are bare ids, or the reverse.
            if let Some(&i) = self.by_full_url.get(format!("urn:uuid:{id}").as_str()) {
                return Some(self.entries[i].1);
            }
        }
        None
    }

    pub(crate) fn display(&self, reference: &Value) -> Option<String> {
        let r = reference["reference"].as_str();
        let resolved = r.and_then(|r| self.resolve(r));
        resolved
            .and_then(summary::name_of)
            .or_else(|| reference["display"].as_str().map(String::from))
            .or(r.map(String::from))
    }
}

/// Reads any bundle into the viewer model.
pub fn read(bundle: &Value) -> Result<Document, ReadError> {
    let resource_type = bundle["resourceType"].as_str().unwrap_or_default();
    if resource_type != "Bundle" {
        return Err(ReadError::NotABundle(resource_type.to_string()));
    }
    let mut warnings = Vec::new();
    if bundle["type"].as_str() != Some("document") {
        warnings.push(format!(
            "the bundle's type is {:?}, not \"document\"",
            bundle["type"].as_str().unwrap_or_default()
        ));
    }
    let index = Index::new(bundle, &mut warnings);
    let position = index
        .entries
        .iter()
        .position(|(_, r)| r["resourceType"] == "Composition")
        .ok_or(ReadError::NoComposition)?;
    if position != 0 {
        warnings.push("the Composition is not the first entry".into());
    }
    let composition = index.entries[position].1;

    let kind = composition.get("type").map(|t| Coding {
        code: t["coding"][0]["code"].as_str().map(String::from),
        display: t["coding"][0]["display"]
            .as_str()
            .or(t["text"].as_str())
            .map(String::from),
    });
    let authors = composition["author"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| index.display(a))
        .collect();
    let custodian = composition.get("custodian").and_then(|c| index.display(c));
    let subject = composition["subject"]["reference"].as_str();
    let patient_resource = subject.and_then(|s| index.resolve(s)).or_else(|| {
        index
            .entries
            .iter()
            .map(|(_, r)| *r)
            .find(|r| r["resourceType"] == "Patient")
    });
    if subject.is_some() && subject.and_then(|s| index.resolve(s)).is_none() {
        warnings.push(format!(
            "the Composition's subject {} is not in the bundle",
            subject.unwrap_or_default()
        ));
    }
    let patient = patient_resource.map(|p| PatientHeader {
        name: summary::human_name(&p["name"]),
        identifiers: p["identifier"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|i| Identifier {
                system: i["system"].as_str().map(String::from),
                value: i["value"].as_str().map(String::from),
            })
            .collect(),
        gender: p["gender"].as_str().map(String::from),
        birth_date: p["birthDate"].as_str().map(String::from),
    });
    let encounter = composition["encounter"]["reference"]
        .as_str()
        .and_then(|r| index.resolve(r))
        .map(|e| summary::row_for(&index, e).1);

    let sections = composition["section"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| read_section(&index, s, &mut warnings))
        .collect();
    let attachments = collect_attachments(&index);
    Ok(Document {
        title: composition["title"].as_str().map(String::from),
        kind,
        status: composition["status"].as_str().map(String::from),
        date: composition["date"].as_str().map(String::from),
        authors,
        custodian,
        patient,
        encounter,
        sections,
        attachments,
        warnings,
    })
}

fn read_section(index: &Index<'_>, section: &Value, warnings: &mut Vec<String>) -> Section {
    let code = section["code"]["coding"][0]["code"]
        .as_str()
        .map(String::from);
    let title = section["title"]
        .as_str()
        .map(String::from)
        .or_else(|| {
            section["code"]["coding"][0]["display"]
                .as_str()
                .map(String::from)
        })
        .or_else(|| section["code"]["text"].as_str().map(String::from));
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for entry in section["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let reference = entry["reference"].as_str().unwrap_or_default().to_string();
        match index.resolve(&reference) {
            Some(resource) => {
                let (summary, fields) = summary::row_for(index, resource);
                rows.push(Row {
                    reference,
                    resource_type: resource["resourceType"]
                        .as_str()
                        .unwrap_or("Unknown")
                        .to_string(),
                    summary,
                    fields,
                });
            }
            None => {
                warnings.push(format!(
                    "section {:?}: {reference:?} is not in the bundle",
                    title.as_deref().unwrap_or("untitled")
                ));
                missing.push(reference);
            }
        }
    }
    let sections = section["section"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| read_section(index, s, warnings))
        .collect();
    Section {
        title,
        code,
        rows,
        missing,
        sections,
    }
}

fn collect_attachments(index: &Index<'_>) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (full_url, resource) in &index.entries {
        let reference = if full_url.is_empty() {
            format!(
                "{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            )
        } else {
            full_url.to_string()
        };
        let mut push = |a: &Value, fallback_title: Option<&str>| {
            let mut attachment = Attachment {
                reference: reference.clone(),
                title: a["title"].as_str().or(fallback_title).map(String::from),
                content_type: a["contentType"].as_str().map(String::from),
                size: a["size"].as_u64(),
                data: a["data"].as_str().map(String::from),
            };
            if let Ok(bytes) = attachment.bytes() {
                attachment.size = Some(bytes.len() as u64);
            }
            out.push(attachment);
        };
        match resource["resourceType"].as_str().unwrap_or_default() {
            "DocumentReference" => {
                for c in resource["content"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    push(&c["attachment"], resource["description"].as_str());
                }
            }
            "DiagnosticReport" => {
                for a in resource["presentedForm"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    push(a, resource["code"]["text"].as_str());
                }
            }
            "Media" => push(&resource["content"], None),
            "Binary" => push(resource, None),
            _ => {}
        }
    }
    out
}
