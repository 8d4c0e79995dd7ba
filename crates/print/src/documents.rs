//! The three printouts. Sizes are the paper they go on: A4 for the poster, an 80 mm receipt roll
//! for the token slip (84 mm of it), a CR80 card (85.6 × 54 mm) for the ABHA card.

use abdm::qr::{card_payload, counter_url, AbhaQr, PhrHost};
use chrono::NaiveDateTime;
use printpdf::{Color, Mm, Op, PaintMode, PdfDocument, PdfPage, PdfSaveOptions, Pt, Rect, Rgb};

use crate::text::{Align, Style, Typesetter};
use crate::{qr, PrintError};

/// Points per millimetre.
const PT: f32 = 72.0 / 25.4;

/// The poster at a counter: patients scan it with an ABHA app to share their profile and get a
/// token number.
#[derive(Debug, Clone)]
pub struct CounterPoster {
    /// Shown at the top, as patients know the clinic.
    pub clinic_name: String,
    /// The facility's HIP id (its HFR id's HIP service).
    pub hip_id: String,
    /// Which counter: each counter has its own poster and queue context.
    pub counter_id: String,
    /// ABDM's sandbox or live ABDM; a sandbox poster says so in large letters.
    pub host: PhrHost,
}

/// The slip a patient gets with their token number.
#[derive(Debug, Clone)]
pub struct TokenSlip {
    /// The clinic's name as printed at the top.
    pub clinic_name: String,
    /// Today's token number.
    pub token: u32,
    /// The patient's name.
    pub patient_name: String,
    /// Dashed, when the patient has one.
    pub abha_number: Option<String>,
    /// `name@suffix`, when the patient has one.
    pub abha_address: Option<String>,
    /// When the token was given, in the clinic's local time.
    pub issued_at: NaiveDateTime,
    /// The counter the patient came through, if any.
    pub counter: Option<String>,
}

fn save(
    title: &str,
    width_mm: f32,
    height_mm: f32,
    build: impl FnOnce(&mut PdfDocument, &mut Vec<Op>) -> Result<(), PrintError>,
) -> Result<Vec<u8>, PrintError> {
    let mut doc = PdfDocument::new(title);
    let mut ops = Vec::new();
    build(&mut doc, &mut ops)?;
    let mut warnings = Vec::new();
    Ok(doc
        .with_pages(vec![PdfPage::new(Mm(width_mm), Mm(height_mm), ops)])
        .save(&PdfSaveOptions::default(), &mut warnings))
}

fn band(ops: &mut Vec<Op>, x: f32, y: f32, width: f32, height: f32, rgb: (f32, f32, f32)) {
    ops.push(Op::SetFillColor {
        col: Color::Rgb(Rgb::new(rgb.0, rgb.1, rgb.2, None)),
    });
    ops.push(Op::DrawRectangle {
        rectangle: Rect {
            x: Pt(x),
            y: Pt(y),
            width: Pt(width),
            height: Pt(height),
            mode: Some(PaintMode::Fill),
            winding_order: None,
        },
    });
}

/// The counter QR poster (A4).
pub fn counter_poster(p: &CounterPoster) -> Result<Vec<u8>, PrintError> {
    let url = counter_url(p.host, &p.hip_id, &p.counter_id)?;
    let (w, h) = (210.0 * PT, 297.0 * PT);
    save("Counter QR", 210.0, 297.0, |doc, ops| {
        let t = Typesetter::new(doc)?;
        let centre = w / 2.0;
        let mut y = h - 60.0;
        y = t.paragraph(
            ops,
            &p.clinic_name,
            centre,
            y,
            w - 80.0,
            Style::bold(28.0),
            Align::Centre,
        );
        y -= 8.0;
        t.line(
            ops,
            "Scan to share your health profile",
            centre,
            y,
            Style::bold(20.0),
            Align::Centre,
        );
        y -= 28.0;
        t.line(
            ops,
            "अपनी स्वास्थ्य प्रोफ़ाइल साझा करने के लिए स्कैन करें",
            centre,
            y,
            Style::bold(18.0),
            Align::Centre,
        );
        let size = 290.0;
        y -= size + 10.0;
        qr::draw(ops, &url, centre - size / 2.0, y, size)?;
        y -= 14.0;
        let counter = format!("Counter {} · HIP {}", p.counter_id, p.hip_id);
        t.line(
            ops,
            &counter,
            centre,
            y,
            Style::plain(11.0).grey(0.35),
            Align::Centre,
        );
        y -= 34.0;
        let steps_en = [
            "1. Open the ABHA app (or any ABDM health app) and choose Scan QR.",
            "2. Scan this code and choose your ABHA address.",
            "3. Allow sharing: your token number appears on your phone and at the desk.",
        ];
        let steps_hi = [
            "1. ABHA ऐप (या कोई भी ABDM स्वास्थ्य ऐप) खोलें और स्कैन QR चुनें।",
            "2. यह कोड स्कैन करें और अपना ABHA पता चुनें।",
            "3. साझा करने की अनुमति दें: आपका टोकन नंबर आपके फ़ोन पर और काउंटर पर दिखेगा।",
        ];
        for step in steps_en {
            y = t.paragraph(
                ops,
                step,
                60.0,
                y,
                w - 120.0,
                Style::plain(13.0),
                Align::Left,
            );
        }
        y -= 10.0;
        for step in steps_hi {
            y = t.paragraph(
                ops,
                step,
                60.0,
                y,
                w - 120.0,
                Style::plain(13.0),
                Align::Left,
            );
        }
        if p.host == PhrHost::Sandbox {
            band(ops, 0.0, 0.0, w, 36.0, (0.85, 0.2, 0.2));
            let style = Style::bold(14.0).grey(1.0);
            t.line(
                ops,
                "ABDM SANDBOX: for testing only, not for patients",
                centre,
                13.0,
                style,
                Align::Centre,
            );
        }
        Ok(())
    })
}

/// The token slip (80 mm receipt paper).
pub fn token_slip(s: &TokenSlip) -> Result<Vec<u8>, PrintError> {
    let (w, h) = (80.0 * PT, 84.0 * PT);
    save("Token slip", 80.0, 84.0, |doc, ops| {
        let t = Typesetter::new(doc)?;
        let centre = w / 2.0;
        let mut y = h - 26.0;
        y = t.paragraph(
            ops,
            &s.clinic_name,
            centre,
            y,
            w - 20.0,
            Style::bold(12.0),
            Align::Centre,
        );
        y -= 4.0;
        t.line(
            ops,
            "Token · टोकन",
            centre,
            y,
            Style::plain(11.0).grey(0.3),
            Align::Centre,
        );
        y -= 58.0;
        t.line(
            ops,
            &s.token.to_string(),
            centre,
            y,
            Style::bold(60.0),
            Align::Centre,
        );
        y -= 28.0;
        y = t.paragraph(
            ops,
            &s.patient_name,
            centre,
            y,
            w - 20.0,
            Style::bold(13.0),
            Align::Centre,
        );
        for line in [s.abha_number.as_deref(), s.abha_address.as_deref()]
            .into_iter()
            .flatten()
        {
            t.line(ops, line, centre, y, Style::plain(10.0), Align::Centre);
            y -= 14.0;
        }
        let when = s.issued_at.format("%d %b %Y, %H:%M").to_string();
        let issued = match &s.counter {
            Some(c) => format!("{when} · Counter {c}"),
            None => when,
        };
        t.line(
            ops,
            &issued,
            centre,
            y,
            Style::plain(9.0).grey(0.3),
            Align::Centre,
        );
        y -= 20.0;
        y = t.paragraph(
            ops,
            "Please wait until your number is called.",
            centre,
            y,
            w - 20.0,
            Style::plain(9.0),
            Align::Centre,
        );
        t.paragraph(
            ops,
            "कृपया अपना नंबर पुकारे जाने तक प्रतीक्षा करें।",
            centre,
            y,
            w - 20.0,
            Style::plain(9.0),
            Align::Centre,
        );
        Ok(())
    })
}

fn gender(code: &str) -> &'static str {
    match code {
        "M" => "Male · पुरुष",
        "F" => "Female · महिला",
        "O" => "Other · अन्य",
        _ => "Not stated",
    }
}

/// An ABHA card (CR80, 85.6 × 54 mm) from a linked profile; its QR is the card payload ABHA
/// apps and scanners read.
pub fn abha_card(profile: &AbhaQr, clinic_name: &str) -> Result<Vec<u8>, PrintError> {
    let (w, h) = (85.6 * PT, 54.0 * PT);
    save("ABHA card", 85.6, 54.0, |doc, ops| {
        let t = Typesetter::new(doc)?;
        band(ops, 0.0, h - 30.0, w, 30.0, (0.1, 0.3, 0.6));
        let white = Style::bold(8.5).grey(1.0);
        t.line(
            ops,
            "Ayushman Bharat Health Account (ABHA)",
            10.0,
            h - 13.0,
            white,
            Align::Left,
        );
        t.line(
            ops,
            "आयुष्मान भारत स्वास्थ्य खाता",
            10.0,
            h - 25.0,
            Style::plain(8.0).grey(1.0),
            Align::Left,
        );
        let qr_size = 84.0;
        qr::draw(
            ops,
            &card_payload(profile),
            w - qr_size - 4.0,
            12.0,
            qr_size,
        )?;
        let left = 10.0;
        let text_width = w - qr_size - 16.0;
        let mut y = h - 44.0;
        y = t.paragraph(
            ops,
            &profile.name,
            left,
            y,
            text_width,
            Style::bold(10.0),
            Align::Left,
        );
        y -= 1.0;
        for (label, value) in [
            ("ABHA number", profile.abha_number.as_deref()),
            ("ABHA address", profile.abha_address.as_deref()),
        ] {
            if let Some(value) = value {
                t.line(
                    ops,
                    label,
                    left,
                    y,
                    Style::plain(6.0).grey(0.4),
                    Align::Left,
                );
                t.line(ops, value, left, y - 9.0, Style::bold(8.0), Align::Left);
                y -= 21.0;
            }
        }
        let born = profile
            .date_of_birth
            .text
            .as_deref()
            .unwrap_or("not stated");
        t.line(
            ops,
            gender(&profile.gender),
            left,
            y,
            Style::plain(7.0),
            Align::Left,
        );
        t.line(
            ops,
            &format!("Born {born}"),
            left,
            y - 10.0,
            Style::plain(7.0),
            Align::Left,
        );
        let footer = format!("Printed at {clinic_name}");
        t.line(
            ops,
            &footer,
            left,
            5.0,
            Style::plain(5.0).grey(0.45),
            Align::Left,
        );
        Ok(())
    })
}

/// A prescription as the doctor signs it (A4): clinic, doctor, patient with ABHA, what was found
/// and the medicines, one numbered line each.
#[derive(Debug, Clone, Default)]
pub struct Prescription {
    /// The clinic's name, the page's header.
    pub clinic_name: String,
    /// The doctor.
    pub doctor: String,
    /// The doctor's HPR id, when known.
    pub doctor_hpr_id: Option<String>,
    /// The visit day.
    pub date: chrono::NaiveDate,
    /// The patient's name.
    pub patient_name: String,
    /// Gender and age or year of birth, as words ("F, born 1990").
    pub patient_details: String,
    /// Dashed, when the patient has one.
    pub abha_number: Option<String>,
    /// `name@suffix`, when the patient has one.
    pub abha_address: Option<String>,
    /// Vital signs, each with its unit ("BP 120/80 mmHg").
    pub vitals: Vec<String>,
    /// Complaints.
    pub complaints: Vec<String>,
    /// Diagnoses.
    pub diagnoses: Vec<String>,
    /// The medicines.
    pub lines: Vec<RxLine>,
    /// Investigations ordered.
    pub investigations: Vec<String>,
    /// Advice.
    pub advice: Option<String>,
    /// The follow-up visit.
    pub follow_up: Option<chrono::NaiveDate>,
}

/// One medicine.
#[derive(Debug, Clone, Default)]
pub struct RxLine {
    /// Drug and strength.
    pub drug: String,
    /// How much each time.
    pub dose: String,
    /// How often.
    pub frequency: String,
    /// For how long.
    pub duration: String,
    /// Anything else.
    pub instructions: Option<String>,
}

/// The prescription (A4, one page).
pub fn prescription(p: &Prescription) -> Result<Vec<u8>, PrintError> {
    let (w, h) = (210.0 * PT, 297.0 * PT);
    let margin = 18.0 * PT;
    let text_width = w - 2.0 * margin;
    save("Prescription", 210.0, 297.0, |doc, ops| {
        let t = Typesetter::new(doc)?;
        band(ops, 0.0, h - 30.0 * PT, w, 30.0 * PT, (0.12, 0.36, 0.62));
        t.line(
            ops,
            &p.clinic_name,
            margin,
            h - 17.0 * PT,
            Style::bold(18.0).grey(1.0),
            Align::Left,
        );
        let doctor = match &p.doctor_hpr_id {
            Some(hpr) => format!("{} · HPR {hpr}", p.doctor),
            None => p.doctor.clone(),
        };
        t.line(
            ops,
            &doctor,
            margin,
            h - 25.0 * PT,
            Style::plain(10.0).grey(1.0),
            Align::Left,
        );
        let mut y = h - 42.0 * PT;
        t.line(
            ops,
            &p.patient_name,
            margin,
            y,
            Style::bold(13.0),
            Align::Left,
        );
        t.line(
            ops,
            &p.date.format("%d %b %Y").to_string(),
            w - margin - t.width(&p.date.format("%d %b %Y").to_string(), 11.0),
            y,
            Style::plain(11.0),
            Align::Left,
        );
        y -= 15.0;
        let abha = [p.abha_number.as_deref(), p.abha_address.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        let details = if abha.is_empty() {
            p.patient_details.clone()
        } else {
            format!("{} · ABHA {abha}", p.patient_details)
        };
        y = t.paragraph(
            ops,
            &details,
            margin,
            y,
            text_width,
            Style::plain(10.0),
            Align::Left,
        );
        y -= 6.0;
        let section = |ops: &mut Vec<Op>, y: &mut f32, title: &str, items: &[String]| {
            if items.is_empty() {
                return;
            }
            t.line(
                ops,
                title,
                margin,
                *y,
                Style::bold(10.5).grey(0.3),
                Align::Left,
            );
            *y -= 14.0;
            for item in items {
                *y = t.paragraph(
                    ops,
                    item,
                    margin + 8.0,
                    *y,
                    text_width - 8.0,
                    Style::plain(10.5),
                    Align::Left,
                );
            }
            *y -= 6.0;
        };
        section(
            ops,
            &mut y,
            "Vitals",
            &[p.vitals.join(" · ")]
                .into_iter()
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>(),
        );
        section(ops, &mut y, "Complaints", &p.complaints);
        section(ops, &mut y, "Diagnosis", &p.diagnoses);
        t.line(ops, "Rx", margin, y - 6.0, Style::bold(20.0), Align::Left);
        y -= 30.0;
        for (i, line) in p.lines.iter().enumerate() {
            y = t.paragraph(
                ops,
                &format!("{}. {}", i + 1, line.drug),
                margin + 8.0,
                y,
                text_width - 8.0,
                Style::bold(11.0),
                Align::Left,
            );
            let mut how = format!("{} · {} · {}", line.dose, line.frequency, line.duration);
            if let Some(extra) = &line.instructions {
                how = format!("{how} · {extra}");
            }
            y = t.paragraph(
                ops,
                &how,
                margin + 20.0,
                y,
                text_width - 20.0,
                Style::plain(10.5),
                Align::Left,
            );
            y -= 4.0;
        }
        y -= 6.0;
        section(ops, &mut y, "Investigations", &p.investigations);
        section(
            ops,
            &mut y,
            "Advice",
            &p.advice.iter().cloned().collect::<Vec<_>>(),
        );
        if let Some(date) = p.follow_up {
            section(
                ops,
                &mut y,
                "Follow-up",
                &[date.format("%d %b %Y").to_string()],
            );
        }
        if y < 30.0 * PT {
            return Err(PrintError::TooLong("the prescription does not fit on one page: print the medicines in two visits' worth, or shorten the advice"));
        }
        t.line(
            ops,
            "Signature",
            w - margin - 40.0 * PT,
            22.0 * PT,
            Style::plain(9.0).grey(0.4),
            Align::Left,
        );
        Ok(())
    })
}

/// A record received from another hospital, printed for the doctor (A4, as many pages as it
/// takes): the header, every section's rows, what the bundle lacked, its files by name.
#[derive(Debug, Clone, Default)]
pub struct RecordPrint {
    /// The clinic printing it.
    pub clinic_name: String,
    /// The document's title.
    pub title: String,
    /// Labelled header lines (document type, date, patient, author, facility).
    pub header: Vec<(String, String)>,
    /// The sections, nested ones flattened in order.
    pub sections: Vec<PrintSection>,
    /// The footer: where it came from and until when it may be kept.
    pub footer: String,
}

/// One section of a printed record.
#[derive(Debug, Clone, Default)]
pub struct PrintSection {
    /// Its title (nested titles joined with " › ").
    pub title: String,
    /// One line per entry, in order.
    pub lines: Vec<String>,
}

/// The record printout.
pub fn record(r: &RecordPrint) -> Result<Vec<u8>, PrintError> {
    let (w, h) = (210.0 * PT, 297.0 * PT);
    let margin = 18.0 * PT;
    let bottom = 22.0 * PT;
    let text_width = w - 2.0 * margin;
    let mut doc = PdfDocument::new(&r.title);
    let t = Typesetter::new(&mut doc)?;
    let mut pages: Vec<Vec<Op>> = vec![Vec::new()];
    let mut y = h - margin;
    // Starts a new page when `height` more points would run into the footer.
    let room = |pages: &mut Vec<Vec<Op>>, y: &mut f32, height: f32| {
        if *y - height < bottom {
            pages.push(Vec::new());
            *y = h - margin;
        }
    };
    let ops = pages.last_mut().expect("a page");
    t.line(
        ops,
        &r.clinic_name,
        margin,
        y,
        Style::plain(9.0).grey(0.4),
        Align::Left,
    );
    y -= 24.0;
    y = t.paragraph(
        ops,
        &r.title,
        margin,
        y,
        text_width,
        Style::bold(16.0),
        Align::Left,
    );
    y -= 4.0;
    for (label, value) in &r.header {
        let text = format!("{label}: {value}");
        let height = t.wrap(&text, 10.0, text_width).len() as f32 * 14.5;
        room(&mut pages, &mut y, height);
        let ops = pages.last_mut().expect("a page");
        y = t.paragraph(
            ops,
            &text,
            margin,
            y,
            text_width,
            Style::plain(10.0),
            Align::Left,
        );
    }
    for section in &r.sections {
        y -= 8.0;
        room(&mut pages, &mut y, 30.0);
        let ops = pages.last_mut().expect("a page");
        y = t.paragraph(
            ops,
            &section.title,
            margin,
            y,
            text_width,
            Style::bold(11.5),
            Align::Left,
        );
        for line in &section.lines {
            let height = t.wrap(line, 9.5, text_width - 8.0).len() as f32 * 13.8;
            room(&mut pages, &mut y, height);
            let ops = pages.last_mut().expect("a page");
            y = t.paragraph(
                ops,
                line,
                margin + 8.0,
                y,
                text_width - 8.0,
                Style::plain(9.5),
                Align::Left,
            );
        }
    }
    let count = pages.len();
    let pages = pages
        .into_iter()
        .enumerate()
        .map(|(i, mut ops)| {
            let footer = format!("{} · page {} of {count}", r.footer, i + 1);
            t.paragraph(
                &mut ops,
                &footer,
                margin,
                14.0 * PT,
                text_width,
                Style::plain(8.0).grey(0.4),
                Align::Left,
            );
            PdfPage::new(Mm(210.0), Mm(297.0), ops)
        })
        .collect();
    let mut warnings = Vec::new();
    Ok(doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings))
}
