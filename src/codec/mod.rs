//! Image formats: recognising them, reading their headers, decoding and encoding.
//!
//! Every decoder here follows the same two-phase contract: [`probe`] reads the
//! header only (format, size, frame count, estimated quality), the caller checks
//! its limits, and only then pixels are decoded. One module per format.

pub(crate) mod animation;
pub mod avif;
pub(crate) mod bmp;
pub(crate) mod color;
#[cfg(test)]
mod corpus_tests;
pub(crate) mod exif;
pub(crate) mod gif;
pub mod heic;
pub mod jpeg;
pub mod jpeg_dc;
pub(crate) mod jpeg_region;
mod jpeg_stream;
mod lanes;
pub(crate) mod metadata;
pub mod png;
pub(crate) mod webp;
pub mod yuv;

use crate::error::{ProcessError, Result};
use crate::raster::Raster;

/// The image formats of the BOS language (spec §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Bmp,
    Gif,
    Avif,
    Heic,
}

impl ImageFormat {
    /// The `Content-Type` of this format.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Bmp => "image/bmp",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Avif => "image/avif",
            ImageFormat::Heic => "image/heic",
        }
    }

    /// The name used in `format,f_<name>`.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Bmp => "bmp",
            ImageFormat::Gif => "gif",
            ImageFormat::Avif => "avif",
            ImageFormat::Heic => "heic",
        }
    }

    /// The upper-case name `image/info` reports (`JPEG`, `PNG` …).
    pub(crate) fn info_name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Png => "PNG",
            ImageFormat::Webp => "WEBP",
            ImageFormat::Bmp => "BMP",
            ImageFormat::Gif => "GIF",
            ImageFormat::Avif => "AVIF",
            ImageFormat::Heic => "HEIC",
        }
    }

    /// The format a `Content-Type` names, ignoring parameters and case.
    pub fn from_mime(content_type: &str) -> Option<ImageFormat> {
        let mime = content_type.split(';').next()?.trim().to_ascii_lowercase();
        Some(match mime.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => ImageFormat::Jpeg,
            "image/png" => ImageFormat::Png,
            "image/webp" => ImageFormat::Webp,
            "image/bmp" | "image/x-ms-bmp" => ImageFormat::Bmp,
            "image/gif" => ImageFormat::Gif,
            "image/avif" => ImageFormat::Avif,
            "image/heic" | "image/heif" => ImageFormat::Heic,
            _ => return None,
        })
    }

    /// Recognises a format from the first bytes of a file.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else if bytes.starts_with(b"BM") {
            Some(ImageFormat::Bmp)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageFormat::Gif)
        } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            match &bytes[8..12] {
                b"avif" | b"avis" => Some(ImageFormat::Avif),
                b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                    Some(ImageFormat::Heic)
                }
                _ => None,
            }
        } else {
            None
        }
    }

    /// Whether this build writes animations in the format.
    pub(crate) fn animates(self) -> bool {
        matches!(self, ImageFormat::Gif | ImageFormat::Webp)
    }

    /// Whether the encoder output can carry EXIF, XMP and an ICC profile.
    pub(crate) fn carries_metadata(self) -> bool {
        matches!(
            self,
            ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Webp
        )
    }
}

/// What the header of a source image says, before any pixel is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: ImageFormat,
    /// Width in px.
    pub width: u32,
    /// Height in px.
    pub height: u32,
    /// Frames (1 for still images).
    pub frames: u32,
    /// Estimated encoder quality 1–100 (JPEG only).
    pub quality: Option<u8>,
    /// Whether the image has an alpha channel.
    pub has_alpha: bool,
    /// EXIF Orientation, 1–8 (1 when absent).
    pub orientation: u16,
}

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Quality 1–100 (lossy formats only).
    pub(crate) quality: u8,
    /// Progressive JPEG, Adam7-interlaced PNG (`interlace,i_progressive`).
    pub(crate) progressive: bool,
}

impl EncodeOptions {
    /// Baseline output at `quality` (1–100).
    pub fn with_quality(quality: u8) -> EncodeOptions {
        EncodeOptions {
            quality,
            progressive: false,
        }
    }
}

/// Reads the header of `bytes`.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let format = ImageFormat::sniff(bytes)
        .ok_or_else(|| ProcessError::bad_image("the object is not a recognised image"))?;
    let info = match format {
        ImageFormat::Jpeg => jpeg::probe(bytes),
        ImageFormat::Png => png::probe(bytes),
        ImageFormat::Webp => webp::probe(bytes),
        ImageFormat::Bmp => bmp::probe(bytes),
        ImageFormat::Gif => gif::probe(bytes),
        ImageFormat::Avif => avif::probe(bytes),
        ImageFormat::Heic => heic::probe(bytes),
    }?;
    // HEIF containers (AVIF, HEIC) carry their rotation in `irot`/`imir`,
    // applied by the decoder; their EXIF orientation must then be ignored.
    let orientation = if matches!(format, ImageFormat::Avif | ImageFormat::Heic) {
        1
    } else {
        exif::read(bytes, format)
            .and_then(|e| e.orientation)
            .unwrap_or(1)
    };
    Ok(SourceInfo {
        orientation,
        ..info
    })
}

/// Decodes `bytes`, whose header was already probed as `info`.
///
/// `min_size` is the smallest size the caller needs; a JPEG may be decoded at
/// 1/2, 1/4 or 1/8 scale and a still WebP scaled by libwebp when that still
/// covers it (shrink-on-load).
pub fn decode(bytes: &[u8], info: &SourceInfo, min_size: Option<(u32, u32)>) -> Result<Raster> {
    match info.format {
        ImageFormat::Jpeg => jpeg::decode(bytes, info, min_size),
        ImageFormat::Png => png::decode(bytes),
        ImageFormat::Webp => webp::decode_scaled(bytes, min_size),
        ImageFormat::Bmp => bmp::decode(bytes),
        ImageFormat::Gif => gif::decode(bytes),
        ImageFormat::Avif => avif::decode(bytes, info),
        ImageFormat::Heic => heic::decode(bytes),
    }
}

/// Decodes only the `w`×`h` px at (`x`, `y`) of `bytes` (as stored, before
/// EXIF orientation), when the codec can do that faster than a whole decode
/// (a baseline JPEG, [`jpeg::decode_window`]); `None` otherwise, and for
/// anything that codec declines: then [`decode`] the whole image and crop.
pub fn decode_window(
    bytes: &[u8],
    info: &SourceInfo,
    window: (u32, u32, u32, u32),
) -> Option<Raster> {
    match info.format {
        ImageFormat::Jpeg => jpeg::decode_window(bytes, info, window),
        _ => None,
    }
}

/// Encodes `raster` as `format`.
pub fn encode(raster: &Raster, format: ImageFormat, options: &EncodeOptions) -> Result<Vec<u8>> {
    let quality = options.quality;
    match format {
        ImageFormat::Jpeg => jpeg::encode(raster, quality, options.progressive),
        ImageFormat::Png if options.progressive => png::encode_interlaced(raster),
        ImageFormat::Png => png::encode(raster),
        ImageFormat::Webp => webp::encode(raster, quality),
        ImageFormat::Bmp => bmp::encode(raster),
        ImageFormat::Gif => gif::encode(raster),
        ImageFormat::Avif => avif::encode(raster, quality),
        ImageFormat::Heic => heic::encode(raster, quality),
    }
}

/// Maps a decoder's error to a client error naming the format.
pub(crate) fn decode_error(format: ImageFormat, err: impl std::fmt::Display) -> ProcessError {
    ProcessError::bad_image(format!(
        "the {} image cannot be decoded: {err}",
        format.name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(
            ImageFormat::sniff(b"\xFF\xD8\xFF\xE0"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(ImageFormat::sniff(b"GIF89a"), Some(ImageFormat::Gif));
        assert_eq!(
            ImageFormat::sniff(b"\0\0\0\x1cftypavif"),
            Some(ImageFormat::Avif)
        );
        assert_eq!(
            ImageFormat::sniff(b"\0\0\0\x18ftypheic"),
            Some(ImageFormat::Heic)
        );
        assert_eq!(ImageFormat::sniff(b"<html>"), None);
        assert_eq!(ImageFormat::sniff(b""), None);
    }

    #[test]
    fn mime_types() {
        assert_eq!(
            ImageFormat::from_mime("image/JPEG; charset=x"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::from_mime("text/html"), None);
        for f in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
            assert_eq!(ImageFormat::from_mime(f.mime()), Some(f));
        }
    }

    #[test]
    fn probe_rejects_non_images() {
        let err = probe(b"hello world").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidImage);
        let err = probe(b"GIF89a\x01\0\x01\0").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidImage);
    }
}
