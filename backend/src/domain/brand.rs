//! The hosting company's brand beside its name: a primary colour and a logo, each checked once
//! when the configuration is read, so a bad one stops start-up instead of reaching customers.

use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A primary colour that white text stays readable on (WCAG 2.x, 4.5:1: the header and the
/// primary buttons carry white text on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrandColor {
    red: u8,
    green: u8,
    blue: u8,
}

/// The least contrast white text needs on the brand colour: WCAG 2.x level AA for normal text.
pub const MIN_CONTRAST_WITH_WHITE: f64 = 4.5;

/// What is wrong with a brand colour, said to the operator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BrandColorError {
    #[error("must be a colour written #rrggbb, such as #0b5cad")]
    Format,
    #[error(
        "{color} gives white text a contrast of only {ratio}:1; it needs at least \
         {MIN_CONTRAST_WITH_WHITE}:1, so choose a darker shade"
    )]
    TooLight { color: String, ratio: String },
}

impl BrandColor {
    /// `#rrggbb` (either case), refused unless white text on it has at least 4.5:1 contrast.
    pub fn parse(raw: &str) -> Result<Self, BrandColorError> {
        let hex = raw
            .trim()
            .strip_prefix('#')
            .filter(|hex| hex.len() == 6 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
            .ok_or(BrandColorError::Format)?;
        let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex digits");
        let color = Self {
            red: channel(0),
            green: channel(2),
            blue: channel(4),
        };
        let ratio = contrast_ratio(color.relative_luminance(), WHITE_LUMINANCE);
        if ratio < MIN_CONTRAST_WITH_WHITE {
            return Err(BrandColorError::TooLight {
                color: color.to_string(),
                // Cut, not rounded: 4.497 must not read as the 4.50 it falls short of.
                ratio: format!("{:.2}", (ratio * 100.0).floor() / 100.0),
            });
        }
        Ok(color)
    }

    /// WCAG 2.x relative luminance: 0 for black, 1 for white.
    pub fn relative_luminance(&self) -> f64 {
        relative_luminance(self.red, self.green, self.blue)
    }
}

impl std::fmt::Display for BrandColor {
    /// `#rrggbb` in lower case, as CSS and `GET /config` take it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "#{:02x}{:02x}{:02x}",
            self.red, self.green, self.blue
        )
    }
}

const WHITE_LUMINANCE: f64 = 1.0;

/// WCAG 2.x relative luminance of an sRGB colour.
pub fn relative_luminance(red: u8, green: u8, blue: u8) -> f64 {
    // The sRGB transfer function undone, channel by channel (WCAG 2.2's 0.04045 threshold).
    let linear = |channel: u8| {
        let value = f64::from(channel) / 255.0;
        if value <= 0.04045 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
}

/// WCAG 2.x contrast ratio of two relative luminances, from 1 (none) to 21 (black on white).
pub fn contrast_ratio(first: f64, second: f64) -> f64 {
    let (lighter, darker) = if first >= second {
        (first, second)
    } else {
        (second, first)
    };
    (lighter + 0.05) / (darker + 0.05)
}

/// The largest logo file taken: a header logo needs far less, and it is held in memory.
pub const MAX_LOGO_BYTES: u64 = 512 * 1024;

/// What a logo file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoFormat {
    Svg,
    Png,
}

impl LogoFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Svg => "image/svg+xml",
            Self::Png => "image/png",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Svg => "svg",
            Self::Png => "png",
        }
    }
}

/// The operator's logo, held in memory and served under a name that changes with its content
/// (so browsers may cache it for ever).
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    format: LogoFormat,
    bytes: Arc<[u8]>,
    file_name: String,
}

/// What is wrong with a logo file, said to the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("is larger than {} KiB", MAX_LOGO_BYTES / 1024)]
    TooLarge,
    #[error("is neither a PNG image nor an SVG document")]
    UnknownFormat,
    #[error("is not a well-formed SVG document: {0}")]
    BadSvg(String),
}

/// Every PNG file starts with these eight bytes.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

impl Logo {
    /// Takes a PNG (by its signature) or an SVG (XML whose root element is `svg`).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, LogoError> {
        if bytes.len() as u64 > MAX_LOGO_BYTES {
            return Err(LogoError::TooLarge);
        }
        let format = if bytes.starts_with(PNG_SIGNATURE) {
            LogoFormat::Png
        } else {
            check_svg(&bytes)?;
            LogoFormat::Svg
        };
        let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes));
        let file_name = format!("logo-{}.{}", &digest[..16], format.extension());
        Ok(Self {
            format,
            bytes: bytes.into(),
            file_name,
        })
    }

    pub fn format(&self) -> LogoFormat {
        self.format
    }

    pub fn bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// `logo-<first 16 hex digits of its SHA-256>.<svg|png>`.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }
}

impl std::fmt::Debug for Logo {
    /// The name and size, not the bytes.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Logo")
            .field("file_name", &self.file_name)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

fn check_svg(bytes: &[u8]) -> Result<(), LogoError> {
    let text = std::str::from_utf8(bytes).map_err(|_| LogoError::UnknownFormat)?;
    // Anything not even starting like markup is some other file, not a broken SVG.
    if !text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        return Err(LogoError::UnknownFormat);
    }
    let document =
        roxmltree::Document::parse(text).map_err(|error| LogoError::BadSvg(error.to_string()))?;
    let root = document.root_element();
    if root.tag_name().name() != "svg" {
        return Err(LogoError::BadSvg(format!(
            "its root element is <{}>, not <svg>",
            root.tag_name().name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio_with_white(hex: &str) -> f64 {
        let color = u32::from_str_radix(hex, 16).unwrap();
        let [_, red, green, blue] = color.to_be_bytes();
        contrast_ratio(relative_luminance(red, green, blue), WHITE_LUMINANCE)
    }

    #[test]
    fn the_contrast_of_known_colours_with_white_is_wcag_s() {
        assert!((ratio_with_white("000000") - 21.0).abs() < 1e-9);
        assert!((ratio_with_white("ffffff") - 1.0).abs() < 1e-9);
        // The usual reference values: #767676 is the lightest grey that passes AA.
        assert!((ratio_with_white("767676") - 4.54).abs() < 0.005);
        assert!((ratio_with_white("777777") - 4.48).abs() < 0.005);
        assert!((ratio_with_white("0b5cad") - 6.67).abs() < 0.005);
        assert_eq!(contrast_ratio(0.0, 1.0), contrast_ratio(1.0, 0.0));
    }

    #[test]
    fn a_brand_colour_needs_four_and_a_half_to_one_with_white_text() {
        assert_eq!(BrandColor::parse("#767676").unwrap().to_string(), "#767676");
        assert_eq!(
            BrandColor::parse(" #0B5CAD ").unwrap().to_string(),
            "#0b5cad"
        );
        assert_eq!(
            BrandColor::parse("#777777").unwrap_err().to_string(),
            "#777777 gives white text a contrast of only 4.47:1; it needs at least 4.5:1, so \
             choose a darker shade"
        );
        assert!(matches!(
            BrandColor::parse("#ffbf47"),
            Err(BrandColorError::TooLight { .. })
        ));
    }

    #[test]
    fn a_brand_colour_is_written_hash_and_six_hex_digits() {
        for bad in [
            "", "#", "0b5cad", "#0b5ca", "#0b5cad0", "#0b5cag", "#fff", "red", "#+b5cad",
        ] {
            assert_eq!(
                BrandColor::parse(bad),
                Err(BrandColorError::Format),
                "{bad:?}"
            );
        }
    }

    const SVG: &str = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#;

    #[test]
    fn a_png_or_an_svg_is_a_logo_named_by_its_content() {
        let png = [PNG_SIGNATURE, b"rest of the image"].concat();
        let logo = Logo::from_bytes(png.clone()).unwrap();
        assert_eq!(logo.format(), LogoFormat::Png);
        assert_eq!(logo.format().content_type(), "image/png");
        let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(&png));
        assert_eq!(logo.file_name(), format!("logo-{}.png", &digest[..16]));

        let svg = Logo::from_bytes(SVG.as_bytes().to_vec()).unwrap();
        assert_eq!(svg.format(), LogoFormat::Svg);
        assert!(svg.file_name().starts_with("logo-") && svg.file_name().ends_with(".svg"));
        let changed = Logo::from_bytes(SVG.replace("10", "12").into_bytes()).unwrap();
        assert_ne!(
            svg.file_name(),
            changed.file_name(),
            "new content, new name"
        );
        assert!(
            !format!("{svg:?}").contains("rect"),
            "Debug shows no content"
        );
    }

    #[test]
    fn anything_else_is_refused_as_a_logo() {
        assert_eq!(
            Logo::from_bytes(b"GIF89a...".to_vec()),
            Err(LogoError::UnknownFormat)
        );
        assert_eq!(Logo::from_bytes(Vec::new()), Err(LogoError::UnknownFormat));
        assert_eq!(
            Logo::from_bytes(vec![0xff, 0xd8, 0xff]),
            Err(LogoError::UnknownFormat),
            "a JPEG"
        );
        assert!(matches!(
            Logo::from_bytes(b"<svg><rect></svg>".to_vec()),
            Err(LogoError::BadSvg(_))
        ));
        assert_eq!(
            Logo::from_bytes(b"<html><body/></html>".to_vec()),
            Err(LogoError::BadSvg(
                "its root element is <html>, not <svg>".into()
            ))
        );
        let padded = format!("{SVG}<!--{}-->", "x".repeat(MAX_LOGO_BYTES as usize));
        assert_eq!(
            Logo::from_bytes(padded.into_bytes()),
            Err(LogoError::TooLarge)
        );
    }
}
