//! Text on a page: split into script runs, shaped by rustybuzz, placed glyph by glyph.
//!
//! printpdf writes glyph ids but does not shape: Devanagari needs its conjuncts and reordered
//! matras from the font's OpenType tables, which is what rustybuzz applies. Each glyph is placed
//! at its shaped position (printpdf merges same-baseline glyphs back into one `TJ`), and carries
//! the text it stands for so that a PDF's text can still be copied and searched.

use printpdf::{
    Codepoint, Color, FontId, Op, ParsedFont, PdfDocument, PdfFontHandle, Pt, Rgb, TextItem,
    TextMatrix, TextRenderingMode,
};
use rustybuzz::{Face, UnicodeBuffer};

use crate::PrintError;

static LATIN: &[u8] = include_bytes!("../../../assets/fonts/NotoSans-Regular.ttf");
static DEVANAGARI: &[u8] = include_bytes!("../../../assets/fonts/NotoSansDevanagari-Regular.ttf");

/// Which of the embedded faces a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Devanagari,
}

fn script_of(c: char) -> Option<Script> {
    match c {
        '\u{0900}'..='\u{097F}' | '\u{A8E0}'..='\u{A8FF}' | '\u{1CD0}'..='\u{1CFF}' => {
            Some(Script::Devanagari)
        }
        // Joiners, spaces and common punctuation stay with the run they are in.
        '\u{200C}' | '\u{200D}' | ' ' | ',' | '.' | ':' | '-' | '(' | ')' => None,
        _ => Some(Script::Latin),
    }
}

/// How a line sits on its x coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
}

/// A text style: size in points, bold (drawn with an outline of the glyph), colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub size: f32,
    pub bold: bool,
    pub grey: f32,
}

impl Style {
    pub const fn plain(size: f32) -> Style {
        Style {
            size,
            bold: false,
            grey: 0.0,
        }
    }
    pub const fn bold(size: f32) -> Style {
        Style {
            size,
            bold: true,
            grey: 0.0,
        }
    }
    pub const fn grey(self, grey: f32) -> Style {
        Style { grey, ..self }
    }
}

struct Shaped {
    font: FontId,
    /// (glyph id, x, y offset in points from the line's start, text it stands for)
    glyphs: Vec<(u16, f32, f32, Option<String>)>,
}

struct Font {
    face: Face<'static>,
    id: FontId,
}

/// The faces of a document, registered with it once.
pub struct Typesetter {
    latin: Font,
    devanagari: Font,
}

impl Typesetter {
    pub fn new(doc: &mut PdfDocument) -> Result<Typesetter, PrintError> {
        let load = |doc: &mut PdfDocument, bytes: &'static [u8], name: &'static str| {
            let face = Face::from_slice(bytes, 0).ok_or(PrintError::Font(name))?;
            let parsed =
                ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(PrintError::Font(name))?;
            Ok::<_, PrintError>(Font {
                face,
                id: doc.add_font(&parsed),
            })
        };
        Ok(Typesetter {
            latin: load(doc, LATIN, "Noto Sans")?,
            devanagari: load(doc, DEVANAGARI, "Noto Sans Devanagari")?,
        })
    }

    fn runs(text: &str) -> Vec<(Script, &str)> {
        let mut runs: Vec<(Script, usize, usize)> = Vec::new();
        for (i, c) in text.char_indices() {
            let end = i + c.len_utf8();
            match (script_of(c), runs.last_mut()) {
                (None, Some(last)) => last.2 = end,
                (Some(s), Some(last)) if last.0 == s => last.2 = end,
                (s, _) => runs.push((s.unwrap_or(Script::Latin), i, end)),
            }
        }
        runs.into_iter().map(|(s, a, b)| (s, &text[a..b])).collect()
    }

    fn shape(&self, text: &str, size: f32) -> (Vec<Shaped>, f32) {
        let mut pen = 0.0f32;
        let mut out = Vec::new();
        for (script, run) in Self::runs(text) {
            let font = match script {
                Script::Latin => &self.latin,
                Script::Devanagari => &self.devanagari,
            };
            let mut buffer = UnicodeBuffer::new();
            buffer.push_str(run);
            buffer.guess_segment_properties();
            let shaped = rustybuzz::shape(&font.face, &[], buffer);
            let scale = size / f32::from(font.face.units_per_em() as u16);
            let infos = shaped.glyph_infos();
            let mut glyphs = Vec::with_capacity(infos.len());
            for (i, (info, pos)) in infos.iter().zip(shaped.glyph_positions()).enumerate() {
                // The text a glyph stands for: its own character when the font maps one to it,
                // else its whole cluster (a conjunct), given to the cluster's first glyph only.
                let start = info.cluster as usize;
                let end = infos
                    .iter()
                    .map(|g| g.cluster as usize)
                    .filter(|&c| c > start)
                    .min()
                    .unwrap_or(run.len());
                let cluster = &run[start..end];
                let first_of_cluster = i == 0 || infos[i - 1].cluster != info.cluster;
                let gid = info.glyph_id as u16;
                let single = cluster.chars().count() == 1;
                let actual = (first_of_cluster || single).then(|| cluster.to_string());
                glyphs.push((
                    gid,
                    pen + pos.x_offset as f32 * scale,
                    pos.y_offset as f32 * scale,
                    actual,
                ));
                pen += pos.x_advance as f32 * scale;
            }
            out.push(Shaped {
                font: font.id.clone(),
                glyphs,
            });
        }
        (out, pen)
    }

    /// The width of `text` set at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text, size).1
    }

    /// Lines of at most `width` points, broken at spaces (a word longer than the line stands
    /// alone rather than being cut).
    pub fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(&candidate, size) > width {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Sets one line with its baseline at `y` points from the bottom of the page.
    pub fn line(&self, ops: &mut Vec<Op>, text: &str, x: f32, y: f32, style: Style, align: Align) {
        let (runs, width) = self.shape(text, style.size);
        let left = match align {
            Align::Left => x,
            Align::Centre => x - width / 2.0,
        };
        let grey = Color::Rgb(Rgb::new(style.grey, style.grey, style.grey, None));
        ops.push(Op::StartTextSection);
        ops.push(Op::SetFillColor { col: grey.clone() });
        if style.bold {
            // No bold face is shipped: the glyph's outline drawn over its fill thickens it.
            ops.push(Op::SetTextRenderingMode {
                mode: TextRenderingMode::FillStroke,
            });
            ops.push(Op::SetOutlineColor { col: grey });
            ops.push(Op::SetOutlineThickness {
                pt: Pt(style.size / 30.0),
            });
        }
        for run in runs {
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(run.font.clone()),
                size: Pt(style.size),
            });
            for (gid, dx, dy, actual) in run.glyphs {
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(Pt(left + dx), Pt(y + dy)),
                });
                let glyph = match actual {
                    Some(text) => Codepoint::with_cid(gid, 0.0, text),
                    None => Codepoint::new(gid, 0.0),
                };
                ops.push(Op::ShowText {
                    items: vec![TextItem::GlyphIds(vec![glyph])],
                });
            }
        }
        if style.bold {
            ops.push(Op::SetTextRenderingMode {
                mode: TextRenderingMode::Fill,
            });
        }
        ops.push(Op::EndTextSection);
    }

    /// Sets `text` wrapped to `width`, first baseline at `y`; returns the baseline below the
    /// last line.
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &self,
        ops: &mut Vec<Op>,
        text: &str,
        x: f32,
        y: f32,
        width: f32,
        style: Style,
        align: Align,
    ) -> f32 {
        let mut y = y;
        for line in self.wrap(text, style.size, width) {
            self.line(ops, &line, x, y, style, align);
            y -= style.size * 1.45;
        }
        y
    }
}
