//! HEIC / HEIF (ISO/IEC 23008-12, HEVC-coded images): decoding and encoding
//! with the pure-Rust `heifer` crate.
//!
//! [`probe`] parses only the container boxes (`ftyp`, `meta`: item info,
//! properties, references): the size comes from the primary item's `ispe`
//! (or its `grid` output size), after its `clap` crop and `irot` rotation, as
//! the decoder applies them. No HEVC data is decoded.
//!
//! Decoding gives the primary image, with its alpha plane if any, converted to
//! sRGB when it carries an ICC profile or nclx colour information heifer can
//! convert (otherwise the samples as coded), at 8 bits per sample. Encoding is
//! HEVC 4:2:0 (BT.601, full range); it is slow (about 1 s per Mpx in wasm):
//! how large a result may be is decided by the request's cost budget
//! ([`crate::budget`]).

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::raster::{PixelLayout, Raster};
use heifer::heifer_isobmff::boxes::Property;
use heifer::heifer_isobmff::{HeifFile, ItemId};

/// Largest image heifer may assemble, in px: the caller's own limit is lower.
const MAX_DECODE_PIXELS: u64 = 1 << 28;

/// Whether an `auxC` type names an alpha plane (HEVC or MPEG-B CICP URN).
pub(crate) fn is_alpha_urn(urn: &str) -> bool {
    urn.trim_end_matches('\0') == "urn:mpeg:hevc:2015:auxid:1"
        || urn.trim_end_matches('\0') == "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
}

/// The alpha plane item of `image`, if any.
pub(crate) fn alpha_item(file: &HeifFile<'_>, image: ItemId) -> Option<ItemId> {
    file.referencing_items(image, b"auxl")
        .into_iter()
        .find(|&id| {
            file.item_properties(id).is_ok_and(|mut props| {
                props.any(|p| matches!(p, Property::AuxiliaryType(urn) if is_alpha_urn(urn)))
            })
        })
}

/// Size of an item as displayed (px): `ispe` or the grid's output size, then
/// `clap` and `irot` in association order. `None` when the item has no size.
pub(crate) fn display_size(file: &HeifFile<'_>, id: ItemId) -> Option<(u32, u32)> {
    let item = file.item(id).ok()?;
    let mut size = if item.item_type.0 == *b"grid" {
        file.grid(id)
            .ok()
            .map(|g| (g.output_width, g.output_height))
    } else {
        None
    };
    if size.is_none() {
        size = file.image_size(id).ok().flatten();
    }
    let (mut w, mut h) = size?;
    for prop in file.item_properties(id).ok()? {
        match prop {
            Property::CleanAperture { width, height, .. } => {
                let frac = |(n, d): (u32, u32)| n.checked_div(d).unwrap_or(0);
                let (cw, ch) = (frac(*width), frac(*height));
                if cw > 0 && ch > 0 && cw <= w && ch <= h {
                    (w, h) = (cw, ch);
                }
            }
            Property::Rotation(quarters) if quarters % 2 == 1 => (w, h) = (h, w),
            _ => {}
        }
    }
    Some((w, h))
}

/// Reads size and alpha from the container boxes (no HEVC data is decoded).
pub(crate) fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let err = |e: &dyn std::fmt::Display| decode_error(ImageFormat::Heic, e);
    let file = HeifFile::parse(bytes).map_err(|e| err(&e))?;
    let primary = file.primary_item().map_err(|e| err(&e))?;
    // A generic brand (mif1/msf1) may hold AV1: that is an AVIF.
    if primary.item_type.0 == *b"av01" {
        return super::avif::probe(bytes);
    }
    if !matches!(&primary.item_type.0, b"hvc1" | b"grid") {
        return Err(ProcessError::new(
            crate::error::ErrorCode::UnsupportedFormat,
            format!(
                "HEIF images coded as '{}' are not supported, only HEVC",
                String::from_utf8_lossy(&primary.item_type.0)
            ),
        ));
    }
    let (width, height) = display_size(&file, file.primary_id)
        .ok_or_else(|| err(&"the primary image has no size (ispe)"))?;
    Ok(SourceInfo {
        format: ImageFormat::Heic,
        width,
        height,
        frames: 1,
        quality: None,
        has_alpha: alpha_item(&file, file.primary_id).is_some(),
        orientation: 1,
    })
}

/// Decodes the primary image to 8-bit RGB, or RGBA when it has an alpha plane.
pub(crate) fn decode(bytes: &[u8]) -> Result<Raster> {
    let options = heifer::Options {
        max_threads: 1,
        max_pixels: MAX_DECODE_PIXELS,
    };
    let image = match heifer::decode_srgb_rgba8(bytes, &options) {
        // A colour space heifer cannot convert: keep the samples as coded.
        Err(heifer::Error::Unsupported(_)) => heifer::decode_rgba8(bytes, &options),
        other => other,
    }
    .map_err(|e| decode_error(ImageFormat::Heic, e))?;
    let (w, h) = (image.width, image.height);
    if image.has_alpha {
        Raster::new(w, h, PixelLayout::Rgba8, image.data)
    } else {
        let rgb = image
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Raster::new(w, h, PixelLayout::Rgb8, rgb)
    }
}

/// Encodes at `quality` (1–100), keeping alpha when some pixel is not opaque.
pub fn encode(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    let options = heifer::EncodeOptions {
        quality: quality.clamp(1, 100),
        max_threads: 1,
    };
    let (w, h) = raster.size();
    match raster.layout {
        PixelLayout::Rgb8 => heifer::encode_rgb8(w, h, &raster.data, &options),
        PixelLayout::Rgba8 => heifer::encode_rgba8(w, h, &raster.data, &options),
    }
    .map_err(|e| ProcessError::internal(format!("HEIC encoder: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32, alpha: bool) -> Raster {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 128]);
                if alpha {
                    data.push(if x < w / 2 { 255 } else { 0 });
                }
            }
        }
        let layout = if alpha {
            PixelLayout::Rgba8
        } else {
            PixelLayout::Rgb8
        };
        Raster::new(w, h, layout, data).unwrap()
    }

    #[test]
    fn round_trip() {
        for alpha in [false, true] {
            let src = gradient(64, 40, alpha);
            let bytes = encode(&src, 90).unwrap();
            assert_eq!(ImageFormat::sniff(&bytes), Some(ImageFormat::Heic));
            let info = probe(&bytes).unwrap();
            assert_eq!((info.width, info.height, info.has_alpha), (64, 40, alpha));
            let out = decode(&bytes).unwrap();
            assert_eq!(out.size(), (64, 40));
            assert_eq!(out.layout, src.layout);
            let ch = src.layout.channels();
            let mean_err: f64 = out
                .data
                .iter()
                .zip(&src.data)
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / out.data.len() as f64;
            assert!(mean_err < 6.0, "mean error {mean_err} (channels {ch})");
        }
    }

    #[test]
    fn garbage_is_a_client_error() {
        let err = probe(b"\0\0\0\x18ftypheic\0\0\0\0heicmif1garbage").unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert_eq!(
            decode(b"\0\0\0\x18ftypheic").unwrap_err().http_status(),
            400
        );
    }
}
