//! PNG (ISO/IEC 15948): decoding through `image`'s PNG codec (header first),
//! encoding with adaptive filtering at the fast compression level.

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::raster::Raster;
use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::{ImageDecoder, ImageEncoder};
use std::io::Cursor;

/// Reads size and alpha from the header chunks.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Png, e))?;
    let (width, height) = decoder.dimensions();
    Ok(SourceInfo {
        format: ImageFormat::Png,
        width,
        height,
        frames: 1,
        quality: None,
        has_alpha: decoder.color_type().has_alpha(),
        orientation: 1,
    })
}

/// Decodes to 8-bit RGB or RGBA.
pub fn decode(bytes: &[u8]) -> Result<Raster> {
    let decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Png, e))?;
    super::webp::raster_from_decoder(decoder, ImageFormat::Png)
}

/// Encodes losslessly, keeping alpha when the image has any.
pub fn encode(raster: &Raster) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
    encoder
        .write_image(
            &raster.data,
            raster.width,
            raster.height,
            super::webp::extended_color_type(raster),
        )
        .map_err(|e| ProcessError::internal(format!("PNG encoder: {e}")))?;
    Ok(out)
}
