//! The writer: one bundle per NRCeS document type from the demo clinic, each checked by our own rules
//! (through our reader) and by an independent validator (Python fhir.resources 6.4.0, R4 4.0.1).

use abdm_fhir::write::{build, demo_record, DocumentType};
use serde_json::Value;

fn check_rules(kind: DocumentType, bundle: &Value) {
    let name = format!("{kind:?}");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "document", "{name}");
    assert!(
        bundle["identifier"]["value"].is_string() && bundle["timestamp"].is_string(),
        "{name}"
    );
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(
        entries[0]["resource"]["resourceType"], "Composition",
        "{name}: Composition first"
    );
    for e in entries {
        assert!(
            e["fullUrl"].as_str().unwrap().starts_with("urn:uuid:"),
            "{name}: {}",
            e["fullUrl"]
        );
        let profiles = e["resource"]["meta"]["profile"]
            .as_array()
            .unwrap_or_else(|| {
                panic!(
                    "{name}: {} without meta.profile",
                    e["resource"]["resourceType"]
                )
            });
        assert!(profiles[0]
            .as_str()
            .unwrap()
            .starts_with("https://nrces.in/ndhm/fhir/r4/StructureDefinition/"));
    }
    let composition = &entries[0]["resource"];
    assert_eq!(
        composition["meta"]["profile"][0].as_str().unwrap(),
        format!("https://nrces.in/ndhm/fhir/r4/StructureDefinition/{name}")
    );
    let (code, display) = kind.composition_type();
    match code {
        Some(c) => {
            assert_eq!(composition["type"]["coding"][0]["code"], c, "{name}");
            assert_eq!(
                composition["type"]["coding"][0]["system"],
                "http://snomed.info/sct"
            );
        }
        None => assert_eq!(composition["type"]["text"], display, "{name}"),
    }
    // No dangling references anywhere: every urn:uuid mentioned is an entry.
    let urls: std::collections::HashSet<&str> = entries
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    let text = serde_json::to_string(bundle).unwrap();
    for part in text.split("\"reference\":\"").skip(1) {
        let r = &part[..part.find('"').unwrap()];
        assert!(urls.contains(r), "{name}: dangling {r}");
    }
    // And our reader sees every section entry, with no warnings.
    let doc = abdm_fhir::read(bundle).unwrap();
    assert!(doc.warnings.is_empty(), "{name}: {:?}", doc.warnings);
    assert!(
        !doc.sections.is_empty()
            && doc
                .sections
                .iter()
                .all(|s| !s.rows.is_empty() && s.missing.is_empty()),
        "{name}"
    );
    assert_eq!(doc.patient.unwrap().name.as_deref(), Some("Asha Kumari"));
}

#[test]
fn every_document_type_follows_the_rules_and_is_deterministic() {
    let record = demo_record();
    for kind in DocumentType::ALL {
        let bundle = build(kind, &record, 7);
        check_rules(kind, &bundle);
        assert_eq!(
            bundle,
            build(kind, &record, 7),
            "{kind:?}: same seed, same bytes"
        );
        assert_ne!(bundle["id"], build(kind, &record, 8)["id"]);
        assert_eq!(DocumentType::from_hi_type(kind.hi_type()), Some(kind));
    }
}

#[test]
fn an_independent_validator_accepts_every_bundle() {
    let dir = std::env::temp_dir().join(format!("fhir-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = demo_record();
    let mut files = Vec::new();
    for kind in DocumentType::ALL {
        let path = dir.join(format!("{kind:?}.json"));
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(&build(kind, &record, 1)).unwrap(),
        )
        .unwrap();
        files.push(path);
    }
    let python = std::env::var("ABDM_FHIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(
            std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run under cargo"))
                .join("../../tools/fhir_validate.py"),
        )
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} (scripts/setup makes the fhir.resources venv): {e}")
        });
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report.lines().last().unwrap_or_default(),
        "8 passed, 0 failed",
        "{report}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
