//! JPEG (ITU T.81 / JFIF): decoding with shrink-on-load and encoding.
//!
//! Decoding uses `jpeg-decoder`, the pure-Rust decoder that scales in the IDCT
//! (1/2, 1/4, 1/8): a 12 MP photo bound for a 200 px thumbnail is decoded at
//! 1/8 scale, which is several times faster and needs far less memory than a
//! full decode. Encoding uses `jpeg-encoder` (baseline, 4:2:0).
//! `jpeg-decoder` uses its SIMD IDCT and colour conversion (x86 SSSE3, wasm32
//! simd128), which round differently (±1) from each other; the
//! `bit-identical` feature selects its portable code instead
//! (`platform_independent`), so the filter and `imgproc` agree to the byte.

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::raster::{Orientation, PixelLayout, Raster};
use jpeg_decoder::{Decoder, PixelFormat};

/// Reads size and estimated quality from the header.
pub(crate) fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let mut decoder = Decoder::new(bytes);
    decoder
        .read_info()
        .map_err(|e| decode_error(ImageFormat::Jpeg, e))?;
    let info = decoder
        .info()
        .ok_or_else(|| decode_error(ImageFormat::Jpeg, "no frame header"))?;
    Ok(SourceInfo {
        format: ImageFormat::Jpeg,
        width: u32::from(info.width),
        height: u32::from(info.height),
        frames: 1,
        quality: estimate_quality(bytes),
        has_alpha: false,
        orientation: 1,
    })
}

/// The IDCT scale (numerator over 8) to decode at so that both sides still
/// cover `min_size`: 1, 2, 4 or 8, the smallest that does.
///
/// 1/4 and 1/2 are true reduced IDCTs (the low-frequency 2×2 / 4×4 of each
/// block), good downscales in themselves, so they only need to cover
/// `min_size`. At 1/8 only each block's average is left (an 8×8 box filter,
/// which aliases), so that scale must cover **twice** `min_size`, leaving
/// Lanczos3 a real downscale after it (libvips' rule).
pub(crate) fn shrink_numerator(full: (u32, u32), min_size: (u32, u32)) -> u32 {
    for num in [1u32, 2, 4] {
        let headroom = if num == 1 { 2 } else { 1 };
        let scaled = |len: u32| u64::from((len * num).div_ceil(8));
        let need = |len: u32| u64::from(len) * headroom;
        if scaled(full.0) >= need(min_size.0) && scaled(full.1) >= need(min_size.1) {
            return num;
        }
    }
    8
}

/// Decodes to RGB, at a reduced scale when `min_size` allows.
pub(crate) fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    min_size: Option<(u32, u32)>,
) -> Result<Raster> {
    if let Some(min) = min_size {
        match shrink_numerator((info.width, info.height), min) {
            // 1/8 scale needs only the DC coefficients: far less work, and
            // progressive files skip their AC scans entirely.
            1 => {
                if let Some(raster) = super::jpeg_dc::decode_eighth(bytes) {
                    return Ok(raster);
                }
            }
            // A baseline file at 1/2: the same pixels as jpeg-decoder's,
            // with faster entropy decoding (`jpeg_region::decode_half`).
            4 => {
                if let Some(raster) = super::jpeg_region::decode_half(bytes) {
                    return Ok(raster);
                }
            }
            _ => {}
        }
    }
    decode_without_dc(bytes, info, min_size)
}

/// [`decode`] by `jpeg-decoder` alone, never from the DC coefficients: for
/// a file the DC decoder already declined.
pub(crate) fn decode_without_dc(
    bytes: &[u8],
    info: &SourceInfo,
    min_size: Option<(u32, u32)>,
) -> Result<Raster> {
    let mut decoder = Decoder::new(bytes);
    if let Some(min) = min_size {
        let num = shrink_numerator((info.width, info.height), min);
        if num < 8 {
            // jpeg-decoder picks the smallest scale whose width OR height reaches
            // the request, so asking for the exact scaled size selects `num`.
            let w = (info.width * num).div_ceil(8).min(u32::from(u16::MAX)) as u16;
            let h = (info.height * num).div_ceil(8).min(u32::from(u16::MAX)) as u16;
            decoder
                .scale(w, h)
                .map_err(|e| decode_error(ImageFormat::Jpeg, e))?;
        }
    }
    let pixels = decoder
        .decode()
        .map_err(|e| decode_error(ImageFormat::Jpeg, e))?;
    let meta = decoder
        .info()
        .ok_or_else(|| decode_error(ImageFormat::Jpeg, "no frame header"))?;
    let (w, h) = (u32::from(meta.width), u32::from(meta.height));
    let rgb = match meta.pixel_format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        // 9–16-bit grey (lossless JPEG): native-endian samples scaled from
        // the frame's sample precision to 8 bits.
        PixelFormat::L16 => {
            let max = (1u32 << sample_precision(bytes).unwrap_or(16).clamp(2, 16)) - 1;
            pixels
                .chunks_exact(2)
                .flat_map(|c| {
                    let v = u32::from(u16::from_ne_bytes([c[0], c[1]])).min(max);
                    let g = ((v * 255 + max / 2) / max) as u8;
                    [g, g, g]
                })
                .collect()
        }
        // Through the embedded CMYK profile when there is one, else the
        // plain formula; Adobe files are stored inverted.
        PixelFormat::CMYK32 => {
            let icc = super::metadata::extract(bytes, ImageFormat::Jpeg).icc;
            super::color::cmyk_to_rgb(
                &pixels,
                super::color::jpeg_is_adobe_inverted(bytes),
                icc.as_deref(),
            )
        }
    };
    Raster::new(w, h, PixelLayout::Rgb8, rgb)
}

/// Decodes only the `w`×`h` px at (`x`, `y`) ([`super::jpeg_region`]) when
/// that is faster than the whole image: baseline files, windows of at most
/// half the image. `None` otherwise (then decode whole and crop).
///
/// The window decoder transforms and converts without SIMD, about 1.2× the
/// cost per pixel of `jpeg-decoder`'s SIMD code (criterion, natively: a window
/// of all but an 8 px border took 131 ms against 110 ms for the whole 16 MP
/// decode), so a window of over half the image may gain nothing.
pub(crate) fn decode_window(
    bytes: &[u8],
    info: &SourceInfo,
    window: (u32, u32, u32, u32),
) -> Option<Raster> {
    let area = u64::from(window.2) * u64::from(window.3);
    if 2 * area > u64::from(info.width) * u64::from(info.height) {
        return None;
    }
    super::jpeg_region::decode_region(bytes, window)
}

/// Encodes as JPEG (4:2:0) at `quality` (1–100), baseline or `progressive`;
/// alpha is composited over white.
pub(crate) fn encode(raster: &Raster, quality: u8, progressive: bool) -> Result<Vec<u8>> {
    let rgb = raster.flatten([255, 255, 255]);
    let (w, h) = (
        u16::try_from(rgb.width).map_err(|_| ProcessError::too_large("JPEG side over 65535 px"))?,
        u16::try_from(rgb.height)
            .map_err(|_| ProcessError::too_large("JPEG side over 65535 px"))?,
    );
    let mut out = Vec::with_capacity(rgb.data.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_progressive(progressive);
    encoder
        .encode(&rgb.data, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ProcessError::internal(format!("JPEG encoder: {e}")))?;
    Ok(out)
}

/// Encodes an RGB raster as baseline JPEG as if it had first been turned
/// by `orientation`, reading the turned rows straight from `raster` instead
/// of copying it: a full-size quarter turn then needs one image in memory,
/// not two. The bytes are the same as [`encode`] of `raster.orient(orientation)`.
/// `None` when `raster` is not 8-bit RGB (the caller turns and encodes then).
pub(crate) fn encode_turned(
    raster: &Raster,
    orientation: Orientation,
    quality: u8,
) -> Option<Result<Vec<u8>>> {
    if raster.layout != PixelLayout::Rgb8 {
        return None;
    }
    let (ow, oh) = orientation.output_size(raster.size());
    let (Ok(w), Ok(h)) = (u16::try_from(ow), u16::try_from(oh)) else {
        return Some(Err(ProcessError::too_large("JPEG side over 65535 px")));
    };
    let mut out = Vec::with_capacity(raster.data.len() / 8);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    let view = TurnedRgb {
        raster,
        orientation,
        width: w,
        height: h,
    };
    Some(
        encoder
            .encode_image(view)
            .map_err(|e| ProcessError::internal(format!("JPEG encoder: {e}")))
            .map(|()| out),
    )
}

/// An RGB raster seen through an orientation, row by row, for the encoder.
struct TurnedRgb<'a> {
    raster: &'a Raster,
    orientation: Orientation,
    /// Turned width and height, px.
    width: u16,
    height: u16,
}

impl jpeg_encoder::ImageBuffer for TurnedRgb<'_> {
    fn get_jpeg_color_type(&self) -> jpeg_encoder::JpegColorType {
        jpeg_encoder::JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let (sw, sh) = (self.raster.width as usize, self.raster.height as usize);
        let dy = usize::from(y);
        // Source pixel of output (dx, dy) = start + dx * step (in pixels).
        let (start, step): (usize, isize) = match self.orientation {
            Orientation::Normal => (dy * sw, 1),
            Orientation::FlipH => (dy * sw + sw - 1, -1),
            Orientation::Rotate180 => ((sh - 1 - dy) * sw + sw - 1, -1),
            Orientation::FlipV => ((sh - 1 - dy) * sw, 1),
            // x = dy, y = dx
            Orientation::Transpose => (dy, sw as isize),
            // x = dy, y = h-1-dx
            Orientation::Rotate90 => ((sh - 1) * sw + dy, -(sw as isize)),
            // x = w-1-dy, y = h-1-dx
            Orientation::Transverse => ((sh - 1) * sw + sw - 1 - dy, -(sw as isize)),
            // x = w-1-dy, y = dx
            Orientation::Rotate270 => (sw - 1 - dy, sw as isize),
        };
        let data = &self.raster.data;
        let mut at = start as isize;
        for _ in 0..self.width {
            let i = at as usize * 3;
            let (l, cb, cr) = jpeg_encoder::rgb_to_ycbcr(data[i], data[i + 1], data[i + 2]);
            buffers[0].push(l);
            buffers[1].push(cb);
            buffers[2].push(cr);
            at += step;
        }
    }
}

/// The sample precision in bits (8, 12, 16 …) of the first frame header.
fn sample_precision(bytes: &[u8]) -> Option<u8> {
    super::exif::jpeg_segments(bytes)
        .find(|(marker, _)| matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF))
        .and_then(|(_, payload)| payload.first().copied())
}

/// The IJG standard luminance quantisation table (T.81 Annex K), in zig-zag order
/// as it appears in a DQT segment.
const STD_LUMA_ZIGZAG: [u16; 64] = [
    16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37,
    29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81,
    87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];

/// Estimates the IJG quality (1–100) a JPEG was saved with, from its first
/// luminance quantisation table. `None` when the table cannot be found.
///
/// IJG scales the standard table by `s = 5000/q` (q < 50) or `200 − 2q`; the
/// ratio of table sums gives `s` back.
pub fn estimate_quality(bytes: &[u8]) -> Option<u8> {
    let table = first_quant_table(bytes)?;
    let sum: u32 = table.iter().map(|&v| u32::from(v)).sum();
    let std_sum: u32 = STD_LUMA_ZIGZAG.iter().map(|&v| u32::from(v)).sum();
    let scale = f64::from(sum) * 100.0 / f64::from(std_sum);
    let q = if scale <= 100.0 {
        (200.0 - scale) / 2.0
    } else {
        5000.0 / scale
    };
    Some(q.round().clamp(1.0, 100.0) as u8)
}

/// The 64 values of quantisation table 0, from the DQT segments before the
/// first scan.
fn first_quant_table(bytes: &[u8]) -> Option<[u16; 64]> {
    super::exif::jpeg_segments(bytes)
        .filter(|(marker, _)| *marker == 0xDB)
        .find_map(|(_, payload)| {
            // A DQT segment holds one or more tables: Pq|Tq, then 64 values.
            let mut p = 0;
            while p < payload.len() {
                let (pq, tq) = (payload[p] >> 4, payload[p] & 0x0F);
                let size = if pq == 0 { 64 } else { 128 };
                let body = payload.get(p + 1..p + 1 + size)?;
                if tq == 0 {
                    let mut out = [0u16; 64];
                    for (i, v) in out.iter_mut().enumerate() {
                        *v = if pq == 0 {
                            u16::from(body[i])
                        } else {
                            u16::from_be_bytes([body[2 * i], body[2 * i + 1]])
                        };
                    }
                    return Some(out);
                }
                p += 1 + size;
            }
            None
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(w: u32, h: u32, q: u8) -> Vec<u8> {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 90]);
            }
        }
        encode(
            &Raster::new(w, h, PixelLayout::Rgb8, data).unwrap(),
            q,
            false,
        )
        .unwrap()
    }

    #[test]
    fn turned_encode_equals_turning_then_encoding() {
        // Odd sizes, so partial MCUs and both axes' edges are exercised.
        let (w, h) = (37u32, 23u32);
        let data: Vec<u8> = (0..w * h * 3)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let raster = Raster::new(w, h, PixelLayout::Rgb8, data).unwrap();
        for o in [
            Orientation::Normal,
            Orientation::FlipH,
            Orientation::Rotate180,
            Orientation::FlipV,
            Orientation::Transpose,
            Orientation::Rotate90,
            Orientation::Transverse,
            Orientation::Rotate270,
        ] {
            let turned = encode_turned(&raster, o, 85).unwrap().unwrap();
            let reference = encode(&raster.orient(o), 85, false).unwrap();
            assert!(turned == reference, "{o:?}: bytes differ");
        }
        let rgba = Raster::new(2, 2, PixelLayout::Rgba8, vec![0; 16]).unwrap();
        assert!(encode_turned(&rgba, Orientation::Rotate90, 85).is_none());
    }

    #[test]
    fn quality_estimate_round_trips() {
        for q in [30u8, 50, 75, 85, 95] {
            let est = estimate_quality(&sample(16, 16, q)).unwrap();
            assert!(
                (i32::from(est) - i32::from(q)).abs() <= 2,
                "q={q} est={est}"
            );
        }
    }

    #[test]
    fn shrink_keeps_both_sides_covered() {
        // 1/8 (576x324) needs twice the target: a 200 px thumbnail, not 400.
        assert_eq!(shrink_numerator((4608, 2592), (200, 113)), 1);
        assert_eq!(shrink_numerator((4608, 2592), (288, 162)), 1);
        assert_eq!(shrink_numerator((4608, 2592), (289, 162)), 2);
        assert_eq!(shrink_numerator((4608, 2592), (400, 226)), 2);
        // 1/4 and 1/2 just have to cover it: 1080 px from 4608 at 1/4 (1152).
        assert_eq!(shrink_numerator((4608, 2592), (1080, 608)), 2);
        assert_eq!(shrink_numerator((4608, 2592), (1153, 608)), 4);
        assert_eq!(shrink_numerator((4608, 2592), (2304, 1296)), 4);
        assert_eq!(shrink_numerator((4608, 2592), (4608, 2592)), 8);
        // A tall box must not be satisfied by the width alone.
        assert_eq!(shrink_numerator((1000, 1000), (100, 900)), 8);
    }

    #[test]
    fn sixteen_bit_grey_is_scaled_not_wrapped() {
        let bytes = crate::test_support::corpus("jpeg/jpeg_lossless_sel1.jpg");
        assert_eq!(sample_precision(&bytes), Some(16));
        let info = probe(&bytes).unwrap();
        let r = decode(&bytes, &info, None).unwrap();
        // Samples are 0–1284 of 65535: 0–5 in 8 bits, never wrapped to 255.
        assert!(r.data.iter().all(|&v| v <= 5));
        assert!(r.data.iter().any(|&v| v > 0));
    }

    #[test]
    fn decodes_at_reduced_scale() {
        let bytes = sample(64, 32, 90);
        let info = probe(&bytes).unwrap();
        assert_eq!((info.width, info.height), (64, 32));
        let full = decode(&bytes, &info, None).unwrap();
        assert_eq!(full.size(), (64, 32));
        let eighth = decode(&bytes, &info, Some((4, 2))).unwrap();
        assert_eq!(eighth.size(), (8, 4));
        let half = decode(&bytes, &info, Some((30, 10))).unwrap();
        assert_eq!(half.size(), (32, 16));
    }

    /// Windows up to half the image are decoded alone; larger ones are left
    /// to the whole decode.
    #[test]
    fn only_windows_up_to_half_the_image_are_decoded_alone() {
        let bytes = sample(64, 32, 90);
        let info = probe(&bytes).unwrap();
        let window = decode_window(&bytes, &info, (3, 0, 32, 32)).unwrap();
        assert_eq!(window.size(), (32, 32));
        assert!(decode_window(&bytes, &info, (3, 0, 33, 32)).is_none());
    }

    #[test]
    fn truncated_data_is_an_error() {
        let bytes = sample(64, 32, 90);
        assert!(probe(&bytes[..20]).is_err());
    }
}
