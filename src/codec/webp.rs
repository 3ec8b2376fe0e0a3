//! WebP (RFC 9649): decoding lossy and lossless files through `image-webp`,
//! lossy encoding through libwebp (`webp` crate; compiled for wasm32 by clang
//! against wasi-libc), lossless only when asked for later.

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::raster::{PixelLayout, Raster};
use image::codecs::webp::WebPDecoder;
use image::{DynamicImage, ExtendedColorType, ImageDecoder};
use std::io::Cursor;

/// Reads size and alpha from the RIFF header.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let decoder =
        WebPDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Webp, e))?;
    let (width, height) = decoder.dimensions();
    Ok(SourceInfo {
        format: ImageFormat::Webp,
        width,
        height,
        frames: 1,
        quality: None,
        has_alpha: decoder.color_type().has_alpha(),
        orientation: 1,
    })
}

/// Decodes to 8-bit RGB or RGBA (the first frame of an animation).
pub fn decode(bytes: &[u8]) -> Result<Raster> {
    let decoder =
        WebPDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Webp, e))?;
    raster_from_decoder(decoder, ImageFormat::Webp)
}

/// Encodes lossy WebP at `quality` (1–100), keeping alpha when present.
pub fn encode(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    let encoder = match raster.layout {
        PixelLayout::Rgb8 => webp::Encoder::from_rgb(&raster.data, raster.width, raster.height),
        PixelLayout::Rgba8 => webp::Encoder::from_rgba(&raster.data, raster.width, raster.height),
    };
    let memory = encoder
        .encode_simple(false, f32::from(quality.clamp(1, 100)))
        .map_err(|e| ProcessError::internal(format!("WebP encoder: {e:?}")))?;
    Ok(memory.to_vec())
}

/// Runs an `image` decoder to an 8-bit RGB or RGBA raster.
pub(crate) fn raster_from_decoder(
    decoder: impl ImageDecoder,
    format: ImageFormat,
) -> Result<Raster> {
    let has_alpha = decoder.color_type().has_alpha();
    let image = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(format, e))?;
    let (w, h) = (image.width(), image.height());
    if has_alpha {
        Raster::new(w, h, PixelLayout::Rgba8, image.into_rgba8().into_raw())
    } else {
        Raster::new(w, h, PixelLayout::Rgb8, image.into_rgb8().into_raw())
    }
}

/// The `image` colour type of a raster.
pub(crate) fn extended_color_type(raster: &Raster) -> ExtendedColorType {
    match raster.layout {
        PixelLayout::Rgb8 => ExtendedColorType::Rgb8,
        PixelLayout::Rgba8 => ExtendedColorType::Rgba8,
    }
}
