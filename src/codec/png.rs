//! PNG (ISO/IEC 15948): decoding through `image`'s PNG codec (header first),
//! encoding with adaptive filtering at the fast compression level.

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::limits::{MAX_SOURCE_PIXELS, MAX_SOURCE_SIDE};
use crate::raster::Raster;
use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::{ImageDecoder, ImageEncoder};
use std::io::Cursor;

/// Reads size and alpha from the header chunks.
pub(crate) fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    // A header past the limits is answered from IHDR alone: the png crate
    // computes buffer sizes in `usize`, which overflow in wasm32 for
    // 100000x100000 RGBA and would read as a corrupt image, not a too-large one.
    if let Some((width, height, color_type)) = ihdr(bytes) {
        if width > MAX_SOURCE_SIDE
            || height > MAX_SOURCE_SIDE
            || u64::from(width) * u64::from(height) > MAX_SOURCE_PIXELS
        {
            return Ok(SourceInfo {
                format: ImageFormat::Png,
                width,
                height,
                frames: 1,
                quality: None,
                has_alpha: matches!(color_type, 4 | 6),
                orientation: 1,
            });
        }
    }
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

/// Width, height and colour type from the IHDR chunk that must follow the
/// signature, if it is there.
fn ihdr(bytes: &[u8]) -> Option<(u32, u32, u8)> {
    let chunk = bytes.get(8..8 + 8 + 13)?;
    if &chunk[4..8] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&chunk[8..12]), be(&chunk[12..16]), chunk[17]))
}

/// Decodes to 8-bit RGB or RGBA.
pub(crate) fn decode(bytes: &[u8]) -> Result<Raster> {
    let decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Png, e))?;
    super::webp::raster_from_decoder(decoder, ImageFormat::Png)
}

/// Encodes losslessly, keeping alpha when the image has any.
pub(crate) fn encode(raster: &Raster) -> Result<Vec<u8>> {
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

/// Adam7 passes: (x start, y start, x step, y step).
pub const ADAM7: [(usize, usize, usize, usize); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

/// Encodes as an Adam7-interlaced PNG (`interlace,i_progressive`): the seven
/// passes' scanlines, each with the `Sub` filter, in one zlib stream.
pub(crate) fn encode_interlaced(raster: &Raster) -> Result<Vec<u8>> {
    let ch = raster.layout.channels();
    let (w, h) = (raster.width as usize, raster.height as usize);
    let mut raw = Vec::with_capacity(raster.data.len() + h * 7 * 2);
    for (x0, y0, dx, dy) in ADAM7 {
        if x0 >= w || y0 >= h {
            continue;
        }
        let pass_w = (w - x0).div_ceil(dx);
        for y in (y0..h).step_by(dy) {
            raw.push(1); // filter type Sub
            let start = raw.len();
            for i in 0..pass_w {
                let s = (y * w + x0 + i * dx) * ch;
                raw.extend_from_slice(&raster.data[s..s + ch]);
            }
            // Sub: each byte minus the byte one pixel to the left (right to left).
            for i in (start + ch..raw.len()).rev() {
                raw[i] = raw[i].wrapping_sub(raw[i - ch]);
            }
        }
    }
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 3);
    let mut out = Vec::with_capacity(compressed.len() + 64);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&raster.width.to_be_bytes());
    ihdr.extend_from_slice(&raster.height.to_be_bytes());
    let colour_type = if ch == 4 { 6 } else { 2 };
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 1]); // 8-bit, deflate, adaptive, Adam7
    write_chunk(&mut out, b"IHDR", &ihdr);
    write_chunk(&mut out, b"IDAT", &compressed);
    write_chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::PixelLayout;

    #[test]
    fn interlaced_png_decodes_to_the_same_pixels() {
        for (layout, ch) in [(PixelLayout::Rgb8, 3), (PixelLayout::Rgba8, 4)] {
            for (w, h) in [(1, 1), (3, 2), (9, 7), (33, 17)] {
                let data = (0..w * h * ch).map(|i| (i * 37 % 251) as u8).collect();
                let img = Raster::new(w as u32, h as u32, layout, data).unwrap();
                let png = encode_interlaced(&img).unwrap();
                assert_eq!(png[28], 1, "IHDR says Adam7");
                let back = decode(&png).unwrap();
                assert_eq!(back, img, "{w}x{h} {layout:?}");
            }
        }
    }
}
