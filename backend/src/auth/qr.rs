//! QR codes for the otpauth URI, drawn as SVG with the standard four-module quiet zone
//! (the library's own SVG leaves one module, which some phone cameras do not read).

use qrcode_generator::QrCodeEcc;

const QUIET_ZONE_MODULES: usize = 4;

/// The text does not fit in a QR code.
#[derive(Debug, thiserror::Error)]
#[error("QR encoding failed: {0}")]
pub struct QrError(String);

/// An SVG image of the QR code for `text`, medium error correction, scalable by the viewer.
pub fn qr_svg(text: &str) -> Result<String, QrError> {
    let matrix = qrcode_generator::to_matrix_from_str(text, QrCodeEcc::Medium)
        .map_err(|error| QrError(error.to_string()))?;
    let size = matrix.len() + 2 * QUIET_ZONE_MODULES;
    let mut path = String::with_capacity(matrix.len() * matrix.len() * 4);
    for (row_index, row) in matrix.iter().enumerate() {
        for (column_index, dark) in row.iter().enumerate() {
            if *dark {
                let x = column_index + QUIET_ZONE_MODULES;
                let y = row_index + QUIET_ZONE_MODULES;
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"{pixels}\" height=\"{pixels}\" shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>",
        pixels = size * 6
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_has_a_four_module_quiet_zone() {
        let svg = qr_svg("otpauth://totp/custadmin:alice?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(svg.starts_with("<svg"));
        // The first dark module of the finder pattern sits at (4, 4); decoding is tested
        // through the API with an independent decoder (tests/api/two_factor.rs).
        assert!(svg.contains("d=\"M4 4h1v1h-1z"), "{svg}");
    }
}
