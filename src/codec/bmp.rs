//! BMP (Windows / OS/2 bitmap): decoding and encoding through `image`'s BMP
//! codec. The header is read first; pixels only after the caller's limits.
//!
//! Decoded: 1/4/8-bit palette (incl. RLE4/RLE8), 16/24/32-bit (incl. bit
//! fields and alpha masks). Encoded: uncompressed 24-bit RGB or 32-bit RGBA.

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::raster::Raster;
use image::codecs::bmp::{BmpDecoder, BmpEncoder};
use image::{ImageDecoder, ImageEncoder};
use std::io::Cursor;

/// Reads size and alpha from the file and info headers (no pixel is decoded).
pub fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let decoder =
        BmpDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Bmp, e))?;
    let (width, height) = decoder.dimensions();
    Ok(SourceInfo {
        format: ImageFormat::Bmp,
        width,
        height,
        frames: 1,
        quality: None,
        has_alpha: decoder.color_type().has_alpha(),
        orientation: 1,
    })
}

/// Decodes to 8-bit RGB, or RGBA when the file has an alpha channel.
pub fn decode(bytes: &[u8]) -> Result<Raster> {
    let decoder =
        BmpDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Bmp, e))?;
    super::webp::raster_from_decoder(decoder, ImageFormat::Bmp)
}

/// Encodes uncompressed: 24-bit for RGB rasters, 32-bit with alpha for RGBA.
pub fn encode(raster: &Raster) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    BmpEncoder::new(&mut out)
        .write_image(
            &raster.data,
            raster.width,
            raster.height,
            super::webp::extended_color_type(raster),
        )
        .map_err(|e| ProcessError::internal(format!("BMP encoder: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::PixelLayout;

    fn pattern(w: u32, h: u32, layout: PixelLayout) -> Raster {
        let ch = layout.channels();
        let data = (0..(w * h) as usize * ch)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        Raster::new(w, h, layout, data).unwrap()
    }

    #[test]
    fn round_trip_is_lossless() {
        for layout in [PixelLayout::Rgb8, PixelLayout::Rgba8] {
            let src = pattern(13, 7, layout);
            let bytes = encode(&src).unwrap();
            let info = probe(&bytes).unwrap();
            assert_eq!((info.width, info.height, info.frames), (13, 7, 1));
            assert_eq!(info.has_alpha, layout == PixelLayout::Rgba8);
            assert_eq!(decode(&bytes).unwrap(), src);
        }
    }

    #[test]
    fn truncated_file_is_a_client_error() {
        let bytes = encode(&pattern(16, 16, PixelLayout::Rgb8)).unwrap();
        let err = decode(&bytes[..bytes.len() / 2]).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert!(probe(b"BM\0\0").is_err());
    }
}
