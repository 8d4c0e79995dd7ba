//! A QR code drawn as vector squares: sharp at any size a printer or a phone camera sees.

use printpdf::{Color, Op, PaintMode, Pt, Rect, Rgb, WindingOrder};
use qrcode::{Color as Module, EcLevel, QrCode};

use crate::PrintError;

/// Draws `payload` as a QR code `size` points wide (the quiet zone of 4 modules inside it) with
/// its lower-left corner at (`x`, `y`).
pub fn draw(ops: &mut Vec<Op>, payload: &str, x: f32, y: f32, size: f32) -> Result<(), PrintError> {
    // M corrects 15 %: enough for a creased poster, and denser codes stay readable on phones.
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| PrintError::Qr(e.to_string()))?;
    let n = code.width();
    let module = size / (n + 8) as f32;
    let colors = code.to_colors();
    ops.push(Op::SetFillColor {
        col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)),
    });
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] != Module::Dark {
                col += 1;
                continue;
            }
            // One rectangle per horizontal run of dark modules.
            let start = col;
            while col < n && colors[row * n + col] == Module::Dark {
                col += 1;
            }
            ops.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x + (start + 4) as f32 * module),
                    y: Pt(y + size - (row + 5) as f32 * module),
                    width: Pt((col - start) as f32 * module),
                    height: Pt(module),
                    mode: Some(PaintMode::Fill),
                    winding_order: Some(WindingOrder::NonZero),
                },
            });
        }
    }
    Ok(())
}
