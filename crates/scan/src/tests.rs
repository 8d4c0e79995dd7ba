use super::*;

/// A code rendered the way a phone screen shows it, then rotated and placed in a larger grey frame.
#[test]
fn decodes_a_rendered_abha_code_in_a_frame() {
    let payload = r#"{"hidn":"91-1234-5678-9012","phr":"asha.kumari@sbx","name":"Asha Kumari","gender":"F","dob":"12/4/1990","address":"12 MG Road, Pune"}"#;
    let code = qrcode::QrCode::new(payload.as_bytes()).unwrap();
    let qr = code
        .render::<image::Luma<u8>>()
        .module_dimensions(6, 6)
        .build();
    let mut frame = image::GrayImage::from_pixel(1280, 720, image::Luma([140]));
    let qr = image::imageops::rotate90(&qr);
    image::imageops::overlay(&mut frame, &qr, 300, 80);
    let found = decode::decode(&frame).expect("the code is found");
    assert_eq!(found, payload);
    match parse(&found).unwrap() {
        Scanned::Abha(a) => assert_eq!(a.name, "Asha Kumari"),
        other => panic!("{other:?}"),
    }
    // A frame without a code yields nothing rather than a misread.
    assert_eq!(
        decode::decode(&image::GrayImage::from_pixel(640, 480, image::Luma([90]))),
        None
    );
}

/// Renders `payload` as a QR code with `px` pixels per module and a 4-module quiet zone.
fn rendered(payload: &str, px: u32) -> image::GrayImage {
    qrcode::QrCode::new(payload.as_bytes())
        .unwrap()
        .render::<image::Luma<u8>>()
        .module_dimensions(px, px)
        .build()
}

/// Warps `code` onto a `w × h` desk-grey frame so that its corners land on `quad` (top-left,
/// top-right, bottom-right, bottom-left): a card held at a slant.
fn on_a_slant(code: &image::GrayImage, w: u32, h: u32, quad: [(f64, f64); 4]) -> image::GrayImage {
    use crate::detect::homography::Homography;
    let (cw, ch) = (code.width() as f64, code.height() as f64);
    let corners = [(0.0, 0.0), (cw, 0.0), (cw, ch), (0.0, ch)];
    // Frame → code, to pull each frame pixel from the code.
    let pts: Vec<_> = quad
        .iter()
        .zip(corners)
        .map(|(q, c)| (q.0, q.1, c.0, c.1))
        .collect();
    let back = Homography::fit(&pts).unwrap();
    image::GrayImage::from_fn(w, h, |x, y| {
        let (u, v) = back.map(x as f64 + 0.5, y as f64 + 0.5);
        if u >= 0.0 && v >= 0.0 && u < cw && v < ch {
            *code.get_pixel(u as u32, v as u32)
        } else {
            image::Luma([120])
        }
    })
}

const LONG_CARD: &str = r#"{"hidn":"91-5512-3344-7788","hid":"ravi.shankar.iyer1967@abdm","name":"Ravi Shankar Iyer","gender":"M","statelgd":"33","distlgd":"603","dob":"4/11/1967","district_name":"Chennai","state name":"TAMIL NADU","mobile":"9840012345","address":"Flat No 12, B Wing, Ganga Heights, 2nd Cross, 4th Main, Near Water Tank, Anna Nagar West, Chennai, Tamil Nadu, PIN 600040"}"#;

#[test]
fn reads_a_large_code_held_at_a_slant() {
    let code = rendered(LONG_CARD, 5);
    let quad = [
        (420.0, 120.0),
        (860.0, 170.0),
        (830.0, 640.0),
        (380.0, 560.0),
    ];
    let frame = on_a_slant(&code, 1280, 720, quad);
    let found = decode::find(&frame).expect("the slanted code is found");
    assert_eq!(found.text, LONG_CARD);
    assert!(
        found.version >= 10,
        "an ABHA card with an address is a large code, got v{}",
        found.version
    );
    // The reported outline is where the symbol is (within a couple of modules).
    let quiet = 4.0 * 5.0;
    let symbol_fraction = quiet / code.width() as f64;
    let expected_tl = (
        quad[0].0 + (quad[2].0 - quad[0].0) * symbol_fraction,
        quad[0].1 + (quad[2].1 - quad[0].1) * symbol_fraction,
    );
    let (x, y) = found.corners[0];
    assert!(
        (x as f64 - expected_tl.0).abs() < 15.0 && (y as f64 - expected_tl.1).abs() < 15.0,
        "{:?} vs {expected_tl:?}",
        found.corners[0]
    );
}

#[test]
fn finder_lookalikes_are_not_read() {
    // Three finder patterns with random modules between them: a logo, not a code.
    let n = 45usize;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed & 1 == 1
    };
    let mut modules = vec![vec![false; n]; n];
    for row in modules.iter_mut() {
        for m in row.iter_mut() {
            *m = noise();
        }
    }
    for (r0, c0) in [(0, 0), (0, n - 7), (n - 7, 0)] {
        for r in 0..7 {
            for c in 0..7 {
                let ring = r == 0 || r == 6 || c == 0 || c == 6;
                let core = (2..5).contains(&r) && (2..5).contains(&c);
                modules[r0 + r][c0 + c] = ring || core;
            }
        }
    }
    let px = 6u32;
    let side = (n as u32 + 8) * px;
    let logo = image::GrayImage::from_fn(side, side, |x, y| {
        let (c, r) = ((x / px) as i64 - 4, (y / px) as i64 - 4);
        let dark = (0..n as i64).contains(&r)
            && (0..n as i64).contains(&c)
            && modules[r as usize][c as usize];
        image::Luma([if dark { 20 } else { 235 }])
    });
    let mut frame = image::GrayImage::from_pixel(1280, 720, image::Luma([150]));
    image::imageops::overlay(&mut frame, &logo, 300, 100);
    assert_eq!(decode::find(&frame), None);
}

#[test]
fn the_preview_scanner_shows_frames_and_reports_the_card_once() {
    use crate::preview::{ScanEvent, Scanner, PREVIEW_WIDTH};
    use crate::source::Pictures;
    let dir = tempfile::tempdir().unwrap();
    let blank = image::GrayImage::from_pixel(1280, 720, image::Luma([128]));
    blank.save(dir.path().join("frame-0.png")).unwrap();
    let card = on_a_slant(
        &rendered(LONG_CARD, 5),
        1280,
        720,
        [
            (400.0, 100.0),
            (840.0, 110.0),
            (850.0, 600.0),
            (390.0, 590.0),
        ],
    );
    card.save(dir.path().join("frame-1.png")).unwrap();
    card.save(dir.path().join("frame-2.png")).unwrap();
    std::fs::write(dir.path().join("frame-3.png"), b"not a picture").unwrap();

    let path = dir.path().to_path_buf();
    let scanner = Scanner::start(move || Ok(Box::new(Pictures::open(&path)?) as _));
    let mut previews = Vec::new();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    loop {
        match scanner
            .events()
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the scanner keeps talking")
        {
            ScanEvent::Preview(p) => previews.push(p),
            ScanEvent::Found {
                number,
                scanned,
                outline,
                ..
            } => found.push((number, scanned, outline)),
            ScanEvent::Error(e) => errors.push(e),
            ScanEvent::Ended => break,
        }
    }
    assert_eq!(previews.len(), 3, "one preview per readable frame");
    assert!(previews
        .iter()
        .all(|p| p.image.width() == PREVIEW_WIDTH && p.image.height() == 360));
    assert_eq!(
        found.len(),
        1,
        "the same card in two frames is reported once"
    );
    let (number, scanned, outline) = &found[0];
    assert_eq!(*number, 1);
    match scanned {
        Ok(Scanned::Abha(card)) => assert_eq!(card.name, "Ravi Shankar Iyer"),
        other => panic!("{other:?}"),
    }
    assert!(outline
        .iter()
        .all(|&(x, y)| (0.0..640.0).contains(&x) && (0.0..360.0).contains(&y)));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("frame-3.png"), "{}", errors[0]);
}

#[test]
fn an_empty_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = crate::source::Pictures::open(dir.path())
        .err()
        .expect("no pictures");
    assert!(err.to_string().contains("no pictures"), "{err}");
}

/// Whatever a camera delivers — noise, stripes, blank, tiny or odd-sized frames — the detector
/// answers without panicking and reads nothing out of noise.
#[test]
fn arbitrary_frames_never_panic_or_misread() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..400 {
        let w = 1 + (next() % 240) as usize;
        let h = 1 + (next() % 180) as usize;
        let style = round % 4;
        let grey: Vec<u8> = (0..w * h)
            .map(|i| match style {
                0 => next() as u8, // noise
                1 => {
                    if (i % w / (1 + round % 7)) % 2 == 0 {
                        20
                    } else {
                        235
                    }
                } // stripes
                2 => (next() % 2 * 255) as u8, // salt and pepper
                _ => 128,          // blank
            })
            .collect();
        assert_eq!(
            crate::detect::detect(&grey, w, h),
            None,
            "round {round}: {w}×{h}"
        );
    }
    // A buffer that does not match its stated size is refused, not read past.
    assert_eq!(crate::detect::detect(&[0u8; 10], 100, 100), None);
}
