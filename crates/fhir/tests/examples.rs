//! The viewer reads what real hospitals send: every bundle in `shared/fhir-examples` (the ABDM
//! sandbox's published samples, legacy dialect), with every section entry accounted for.

use abdm_fhir::{read, ReadError, Section};
use serde_json::{json, Value};

fn examples() -> Vec<(String, Value)> {
    let dir = std::env::var_os("ABDM_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../../shared")
        })
        .join("fhir-examples");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            ));
        }
    }
    assert_eq!(out.len(), 7);
    out
}

/// Every entry of every (nested) section is either a row or listed as missing, in order.
fn check_accounted(name: &str, section: &Value, viewed: &Section) {
    let entries: Vec<&str> = section["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["reference"].as_str().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    let mut seen: Vec<&str> = viewed.rows.iter().map(|r| r.reference.as_str()).collect();
    seen.extend(viewed.missing.iter().map(String::as_str));
    seen.sort();
    let mut expected = entries.clone();
    expected.sort();
    assert_eq!(seen, expected, "{name}: section {:?}", viewed.title);
    let nested = section["section"].as_array().cloned().unwrap_or_default();
    assert_eq!(nested.len(), viewed.sections.len());
    for (s, v) in nested.iter().zip(&viewed.sections) {
        check_accounted(name, s, v);
    }
}

#[test]
fn every_example_renders_completely() {
    for (name, bundle) in examples() {
        let doc = read(&bundle).unwrap_or_else(|e| panic!("{name}: {e}"));
        let composition = &bundle["entry"][0]["resource"];
        let sections = composition["section"].as_array().unwrap();
        assert_eq!(sections.len(), doc.sections.len(), "{name}");
        for (s, v) in sections.iter().zip(&doc.sections) {
            check_accounted(&name, s, v);
            for row in &v.rows {
                assert!(
                    !row.summary.is_empty() && !row.summary.contains("no readable content"),
                    "{name}: {row:?}"
                );
            }
        }
        let patient = doc
            .patient
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no patient"));
        assert!(
            patient.name.as_deref().is_some_and(|n| !n.is_empty()),
            "{name}: patient name"
        );
        assert!(!doc.authors.is_empty(), "{name}: authors");
        assert!(doc.title.is_some() && doc.kind.is_some(), "{name}");
        // Legacy `Type/id` references all resolve: nothing is missing in these samples.
        assert!(
            doc.sections.iter().all(|s| s.missing.is_empty()),
            "{name}: {:?}",
            doc.warnings
        );
    }
}

#[test]
fn the_blood_pressure_panel_shows_both_components() {
    let (_, bundle) = examples()
        .into_iter()
        .find(|(n, _)| n.contains("Wellness"))
        .unwrap();
    let doc = read(&bundle).unwrap();
    let bp = doc
        .sections
        .iter()
        .flat_map(|s| &s.rows)
        .find(|r| r.summary.to_lowercase().contains("blood pressure"))
        .expect("a BP row");
    let components = &bp.fields["components"];
    assert!(
        components.contains("Systolic blood pressure: 107"),
        "{components}"
    );
    assert!(
        components.contains("Diastolic blood pressure: 60"),
        "{components}"
    );
}

#[test]
fn attachments_are_listed_and_extractable() {
    let mut pdfs = 0;
    for (name, bundle) in examples() {
        let doc = read(&bundle).unwrap();
        for a in &doc.attachments {
            let bytes = a.bytes().unwrap_or_else(|e| panic!("{name}: {a:?}: {e}"));
            assert_eq!(Some(bytes.len() as u64), a.size, "{name}");
            if a.content_type.as_deref() == Some("application/pdf") {
                assert!(bytes.starts_with(b"%PDF"), "{name}: not a PDF");
                pdfs += 1;
            }
        }
    }
    assert!(pdfs >= 2, "the samples carry PDFs");
}

#[test]
fn every_reference_dialect_resolves_and_dangling_ones_are_listed() {
    let bundle = json!({"resourceType": "Bundle", "type": "document", "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "name": [{"given": ["Kavya"], "family": "Nair"}]}},
        {"fullUrl": "urn:uuid:c1", "resource": {"resourceType": "Composition", "id": "c1", "title": "Consultation", "subject": {"reference": "urn:uuid:p1"},
            "section": [{"title": "Findings", "entry": [
                {"reference": "urn:uuid:o1"}, {"reference": "Condition/k1"}, {"reference": "https://hospital.example/fhir/Observation/o2"},
                {"reference": "urn:uuid:gone"}],
                "section": [{"title": "Nested", "entry": [{"reference": "urn:uuid:x1"}]}]}]}},
        {"fullUrl": "urn:uuid:o1", "resource": {"resourceType": "Observation", "id": "o1", "code": {"text": "Pulse"}, "valueQuantity": {"value": 72, "unit": "/min"}}},
        {"fullUrl": "Condition/k1", "resource": {"resourceType": "Condition", "id": "k1", "code": {"text": "Viral fever"}}},
        {"fullUrl": "urn:uuid:o2", "resource": {"resourceType": "Observation", "id": "o2", "code": {"coding": [{"code": "8310-5"}]}}},
        {"fullUrl": "urn:uuid:x1", "resource": {"resourceType": "SomethingNew", "id": "x1", "text": {"div": "<div><p>Custom <b>record</b></p></div>"}}}]});
    let doc = read(&bundle).unwrap();
    let section = &doc.sections[0];
    let summaries: Vec<&str> = section.rows.iter().map(|r| r.summary.as_str()).collect();
    assert_eq!(summaries, vec!["Pulse: 72 /min", "Viral fever", "8310-5"]);
    assert_eq!(section.missing, vec!["urn:uuid:gone"]);
    assert_eq!(
        section.sections[0].rows[0].summary, "Custom record",
        "unknown types fall back to their narrative"
    );
    assert_eq!(doc.patient.unwrap().name.as_deref(), Some("Kavya Nair"));
    assert!(doc
        .warnings
        .iter()
        .any(|w| w.contains("not the first entry")));
    assert!(doc.warnings.iter().any(|w| w.contains("urn:uuid:gone")));

    assert_eq!(
        read(&json!({"resourceType": "Patient"})),
        Err(ReadError::NotABundle("Patient".into()))
    );
    assert_eq!(
        read(&json!({"resourceType": "Bundle", "entry": []})),
        Err(ReadError::NoComposition)
    );
}
