//! QR codes for the otpauth URI, drawn as SVG with the standard four-module quiet zone
//! (the library's own SVG leaves one module, which some phone cameras do not read).

use qrcode_generator::QrCodeEcc;

use crate::error::ApiError;

const QUIET_ZONE_MODULES: usize = 4;

/// An SVG image of the QR code for `text`, medium error correction, scalable by the viewer.
pub fn qr_svg(text: &str) -> Result<String, ApiError> {
    let matrix = qrcode_generator::to_matrix_from_str(text, QrCodeEcc::Medium)
        .map_err(|error| ApiError::internal(format!("QR encoding failed: {error}")))?;
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
pub(crate) mod tests {
    use super::*;

    /// Rasterises our own SVG (unit squares on a white field) so a real decoder can read it.
    pub(crate) fn decode_svg(svg: &str) -> String {
        let size: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|number| number.parse().ok())
            .expect("viewBox");
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut dark = vec![vec![false; size]; size];
        for square in path.split('M').filter(|part| !part.is_empty()) {
            let coordinates = square.trim_end_matches("h1v1h-1z");
            let (x, y) = coordinates.split_once(' ').unwrap();
            dark[y.parse::<usize>().unwrap()][x.parse::<usize>().unwrap()] = true;
        }
        let scale = 4;
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(size * scale, size * scale, |x, y| {
                if dark[y / scale][x / scale] {
                    0
                } else {
                    255
                }
            });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code in the image");
        grids[0].decode().expect("decodable").1
    }

    #[test]
    fn the_svg_decodes_to_exactly_the_text() {
        let uri = "otpauth://totp/custadmin:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=custadmin&algorithm=SHA1&digits=6&period=30";
        let svg = qr_svg(uri).unwrap();
        assert!(svg.starts_with("<svg"));
        assert_eq!(decode_svg(&svg), uri);
    }
}
