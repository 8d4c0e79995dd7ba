//! Each document is rendered to a page image by poppler, as a printer driver would, and read
//! back: its text by `pdftotext`, its QR by our own decoder, its Hindi by Tesseract's Hindi
//! model (unshaped Devanagari — broken conjuncts, matras in the wrong place — does not read back).

use std::path::{Path, PathBuf};
use std::process::Command;

use abdm::qr::{parse, AbhaQr, DateOfBirth, Scanned};
use chrono::NaiveDate;

use super::*;

struct Rendered {
    _dir: tempfile::TempDir,
    png: PathBuf,
    text: String,
}

fn tool(name: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} is needed for the print tests (scripts/setup installs it): {e}")
    });
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn render(pdf: &[u8]) -> Rendered {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let stem = dir.path().join("page");
    tool(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "200".as_ref(),
            "-png".as_ref(),
            "-singlefile".as_ref(),
            file.as_os_str(),
            stem.as_os_str(),
        ],
    );
    let text = tool(
        "pdftotext",
        &["-layout".as_ref(), file.as_os_str(), "-".as_ref()],
    );
    // Kept for a person to look at when a test fails.
    if let Ok(out) = std::env::var("PRINT_TEST_OUT") {
        let _ = std::fs::copy(
            stem.with_extension("png"),
            Path::new(&out).join(format!("{}.png", blake(pdf))),
        );
    }
    Rendered {
        png: stem.with_extension("png"),
        text,
        _dir: dir,
    }
}

fn blake(pdf: &[u8]) -> String {
    format!(
        "{:08x}",
        pdf.iter()
            .fold(0u32, |h, b| h.rotate_left(5) ^ u32::from(*b))
    )
}

fn qr_on(page: &Rendered) -> Scanned {
    let grey = desk_scan::decode::load(&page.png).unwrap();
    let payload = desk_scan::decode::decode(&grey).expect("the QR on the page does not decode");
    parse(&payload).unwrap()
}

/// What Tesseract reads on the page image: the glyphs drawn, not the text attached to them.
fn read_back(page: &Rendered, language: &str) -> String {
    tool(
        "tesseract",
        &[
            page.png.as_os_str(),
            "-".as_ref(),
            "-l".as_ref(),
            language.as_ref(),
        ],
    )
}

fn hindi_read_back(page: &Rendered) -> String {
    read_back(page, "hin")
}

fn poster(host: PhrHost) -> CounterPoster {
    CounterPoster {
        clinic_name: "Shanti Family Clinic".into(),
        hip_id: "IN2710000001_1".into(),
        counter_id: "DESK-2".into(),
        host,
    }
}

#[test]
fn the_counter_poster_scans_to_this_counter_and_reads_in_english_and_hindi() {
    let page = render(&counter_poster(&poster(PhrHost::Sandbox)).unwrap());
    assert_eq!(
        qr_on(&page),
        Scanned::Counter {
            hip_id: "IN2710000001_1".into(),
            counter_id: "DESK-2".into()
        }
    );
    for expected in [
        "Shanti Family Clinic",
        "Scan to share your health profile",
        "DESK-2",
        "ABDM SANDBOX",
    ] {
        assert!(
            page.text.contains(expected),
            "{expected:?} is not on the poster:\n{}",
            page.text
        );
    }
    let hindi = hindi_read_back(&page);
    for word in ["स्वास्थ्य", "प्रोफ़ाइल", "स्कैन", "अनुमति"]
    {
        assert!(
            hindi.contains(word),
            "{word:?} does not read back from the printed Hindi:\n{hindi}"
        );
    }

    let live = render(&counter_poster(&poster(PhrHost::Production)).unwrap());
    let url = desk_scan::decode::decode(&desk_scan::decode::load(&live.png).unwrap()).unwrap();
    assert!(
        url.starts_with("https://phr.abdm.gov.in/share-profile?"),
        "{url}"
    );
    assert!(
        !live.text.contains("SANDBOX"),
        "a live poster must not say sandbox"
    );
}

#[test]
fn a_counter_no_phone_could_use_is_refused_before_printing() {
    let mut p = poster(PhrHost::Sandbox);
    p.counter_id = "front desk".into();
    let err = counter_poster(&p).unwrap_err().to_string();
    assert!(err.contains("counter id"), "{err}");
}

#[test]
fn the_token_slip_shows_the_number_the_patient_and_the_time() {
    let slip = TokenSlip {
        clinic_name: "Shanti Family Clinic".into(),
        token: 17,
        patient_name: "Asha Kumari".into(),
        abha_number: Some("91-1234-5678-9012".into()),
        abha_address: Some("asha.k@sbx".into()),
        issued_at: NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(10, 42, 0)
            .unwrap(),
        counter: Some("DESK-2".into()),
    };
    let page = render(&token_slip(&slip).unwrap());
    for expected in [
        "17",
        "Asha Kumari",
        "91-1234-5678-9012",
        "asha.k@sbx",
        "01 Dec 2026, 10:42",
        "DESK-2",
    ] {
        assert!(
            page.text.contains(expected),
            "{expected:?} is not on the slip:\n{}",
            page.text
        );
    }
    let hindi = hindi_read_back(&page);
    assert!(
        hindi.contains("टोकन"),
        "the Hindi label does not read back:\n{hindi}"
    );
    let english = read_back(&page, "eng");
    for drawn in ["Asha Kumari", "17", "asha.k@sbx"] {
        assert!(
            english.contains(drawn),
            "{drawn:?} is not drawn on the slip:\n{english}"
        );
    }
}

#[test]
fn the_abha_card_carries_the_profile_in_print_and_in_its_qr() {
    let profile = AbhaQr {
        abha_number: Some("91-1234-5678-9012".into()),
        abha_address: Some("asha.k@sbx".into()),
        name: "Asha Kumari".into(),
        gender: "F".into(),
        date_of_birth: DateOfBirth {
            day: Some(12),
            month: Some(4),
            year: Some(1990),
            text: Some("12/4/1990".into()),
        },
        state_lgd: None,
        district_lgd: None,
        state: Some("Bihar".into()),
        district: Some("Patna".into()),
        mobile: Some("9812345610".into()),
        mobile_masked: false,
        address: None,
    };
    let page = render(&abha_card(&profile, "Shanti Family Clinic").unwrap());
    for expected in [
        "Asha Kumari",
        "91-1234-5678-9012",
        "asha.k@sbx",
        "12/4/1990",
        "Female",
    ] {
        assert!(
            page.text.contains(expected),
            "{expected:?} is not on the card:\n{}",
            page.text
        );
    }
    assert_eq!(qr_on(&page), Scanned::Abha(Box::new(profile)));
}

fn rx() -> Prescription {
    Prescription {
        clinic_name: "Shanti Family Clinic".into(),
        doctor: "Dr. Meera Iyer".into(),
        doctor_hpr_id: Some("71-4482-1190-2231".into()),
        date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        patient_name: "Asha Kumari".into(),
        patient_details: "Female, born 1990".into(),
        abha_number: Some("91-1234-5678-9012".into()),
        abha_address: Some("asha.kumari@sbx".into()),
        vitals: vec!["BP 150/95 mmHg".into(), "Pulse 88/min".into()],
        complaints: vec!["Headache for 3 days".into()],
        diagnoses: vec!["Essential hypertension".into()],
        lines: vec![
            RxLine {
                drug: "Amlodipine 5 mg tablet".into(),
                dose: "1 tablet".into(),
                frequency: "once a day".into(),
                duration: "30 days".into(),
                instructions: Some("after breakfast".into()),
            },
            RxLine {
                drug: "Paracetamol 500 mg tablet".into(),
                dose: "1 tablet".into(),
                frequency: "when needed".into(),
                duration: "5 days".into(),
                instructions: None,
            },
        ],
        investigations: vec!["Lipid profile".into()],
        advice: Some("Less salt; walk 30 minutes a day.".into()),
        follow_up: NaiveDate::from_ymd_opt(2026, 12, 31),
    }
}

#[test]
fn the_prescription_names_clinic_doctor_patient_abha_and_every_medicine() {
    let page = render(&prescription(&rx()).unwrap());
    let text = page.text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Shanti Family Clinic",
        "Dr. Meera Iyer · HPR 71-4482-1190-2231",
        "Asha Kumari",
        "01 Dec 2026",
        "ABHA 91-1234-5678-9012 · asha.kumari@sbx",
        "BP 150/95 mmHg",
        "Essential hypertension",
        "1. Amlodipine 5 mg tablet",
        "1 tablet · once a day · 30 days · after breakfast",
        "2. Paracetamol 500 mg tablet",
        "Lipid profile",
        "Less salt; walk 30 minutes a day.",
        "31 Dec 2026",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is not on the page: {text}"
        );
    }
    assert!(page.png.exists());
}

#[test]
fn a_prescription_longer_than_its_page_is_refused_in_words() {
    let mut long = rx();
    long.lines = (0..60)
        .map(|i| RxLine {
            drug: format!("Drug {i}"),
            ..rx().lines[0].clone()
        })
        .collect();
    let err = prescription(&long).unwrap_err().to_string();
    assert!(err.contains("does not fit on one page"), "{err}");
}

#[test]
fn a_long_record_runs_over_pages_and_keeps_every_line() {
    let r = RecordPrint {
        clinic_name: "Shanti Family Clinic".into(),
        title: "Discharge Summary Document".into(),
        header: vec![("Patient".into(), "Alex Oxlade · male".into())],
        sections: (0..8)
            .map(|s| PrintSection {
                title: format!("Section {s}"),
                lines: (0..12)
                    .map(|l| format!("Entry {s}.{l} — status: final"))
                    .collect(),
            })
            .collect(),
        footer: "Received through ABDM from SANDBOX-PEER-HIP".into(),
    };
    let pdf = record(&r).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("record.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = tool("pdftotext", &[file.as_os_str(), "-".as_ref()]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for s in 0..8 {
        for l in 0..12 {
            assert!(
                text.contains(&format!("Entry {s}.{l} — status: final")),
                "entry {s}.{l} lost"
            );
        }
    }
    assert!(
        text.contains("page 1 of 3") || text.contains("page 1 of 2"),
        "{text}"
    );
    assert!(
        !text.contains("page 1 of 1"),
        "96 entries do not fit on one page"
    );
}
