//! GIF (87a/89a): header walk, decoding with frame composition, encoding.
//!
//! [`probe`] walks the block structure (extensions and image descriptors,
//! skipping every data sub-block) to count frames without decoding any LZW
//! data, so the caller can check width × height × frames first.
//!
//! Decoding uses the `gif` crate (the one `image` uses) and composes frames on
//! an RGBA canvas of the logical screen size, honouring the disposal methods
//! (none/keep, restore to background = transparent, restore to previous).
//! Parts of frames outside the logical screen are clipped, as browsers do; a
//! single frame may allocate at most [`FRAME_MEMORY_FLOOR`] bytes or the
//! canvas size, whichever is larger. Encoding quantises to a 256-colour palette
//! per frame through `image`'s GIF encoder (NeuQuant).

use super::animation::{Animation, Frame};
use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::limits::{MAX_SOURCE_PIXELS, MAX_SOURCE_SIDE};
use crate::raster::{PixelLayout, Raster};
use gif::{ColorOutput, DecodeOptions, DisposalMethod, MemoryLimit};
use std::io::Cursor;
use std::num::NonZeroU64;

/// Smallest per-frame output buffer the decoder may allocate, in bytes (4 MiB);
/// otherwise the limit is the canvas size × 4.
pub const FRAME_MEMORY_FLOOR: u64 = 4 << 20;

/// NeuQuant sampling speed for encoding, 1 (best) – 30 (fastest).
const ENCODE_SPEED: i32 = 10;

fn bad(msg: &str) -> crate::error::ProcessError {
    decode_error(ImageFormat::Gif, msg)
}

/// What the header walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GifHeader {
    /// Logical screen size in px.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Image descriptors found (≥ 1).
    pub(crate) frames: u32,
    /// Whether any graphic control extension declares a transparent index.
    pub(crate) transparency: bool,
}

/// Skips a chain of data sub-blocks starting at `pos`; returns the position
/// after the terminator, or `None` when the data ends first.
fn skip_sub_blocks(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = usize::from(*bytes.get(pos)?);
        pos += 1;
        if len == 0 {
            return Some(pos);
        }
        pos += len;
    }
}

/// Walks the GIF block structure without decoding pixel data.
///
/// A file truncated inside a frame's data still counts that frame (its size was
/// declared); a file without any image descriptor is rejected.
pub(crate) fn walk(bytes: &[u8]) -> Result<GifHeader> {
    if bytes.len() < 13 || !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        return Err(bad("not a GIF file or truncated header"));
    }
    let width = u32::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    let height = u32::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    if width == 0 || height == 0 {
        return Err(bad("the logical screen has a zero side"));
    }
    let packed = bytes[10];
    let mut pos = 13usize;
    if packed & 0x80 != 0 {
        pos += 3 << ((packed & 0x07) + 1);
    }
    let mut frames = 0u32;
    let mut transparency = false;
    while let Some(&block) = bytes.get(pos) {
        match block {
            0x21 => {
                let Some(&label) = bytes.get(pos + 1) else {
                    break;
                };
                if label == 0xF9 {
                    if let (Some(&4), Some(&flags)) = (bytes.get(pos + 2), bytes.get(pos + 3)) {
                        transparency |= flags & 0x01 != 0;
                    }
                }
                match skip_sub_blocks(bytes, pos + 2) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            0x2C => {
                let Some(desc) = bytes.get(pos + 1..pos + 10) else {
                    break;
                };
                let (fw, fh) = (
                    u16::from_le_bytes([desc[4], desc[5]]),
                    u16::from_le_bytes([desc[6], desc[7]]),
                );
                if fw == 0 || fh == 0 {
                    return Err(bad("a frame has a zero side"));
                }
                // A frame may declare more than the logical screen; decoding it
                // costs its own area, so it is held to the source limits here,
                // before anything is allocated.
                let (fw, fh) = (u32::from(fw), u32::from(fh));
                if fw > MAX_SOURCE_SIDE
                    || fh > MAX_SOURCE_SIDE
                    || u64::from(fw) * u64::from(fh) > MAX_SOURCE_PIXELS
                {
                    return Err(ProcessError::too_large(format!(
                        "a GIF frame declares {fw}x{fh} px, past the source limits \
                         ({MAX_SOURCE_SIDE} px a side, {MAX_SOURCE_PIXELS} px)"
                    )));
                }
                frames += 1;
                let flags = desc[8];
                pos += 10;
                if flags & 0x80 != 0 {
                    pos += 3 << ((flags & 0x07) + 1);
                }
                // LZW minimum code size, then the image data sub-blocks.
                match skip_sub_blocks(bytes, pos + 1) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
            // Trailer, or a byte no decoder can interpret: the stream ends here.
            _ => break,
        }
    }
    if frames == 0 {
        return Err(bad("the file contains no image"));
    }
    Ok(GifHeader {
        width,
        height,
        frames,
        transparency,
    })
}

/// Reads the logical screen size, frame count and transparency (no pixel decoded).
pub fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let header = walk(bytes)?;
    Ok(SourceInfo {
        format: ImageFormat::Gif,
        width: header.width,
        height: header.height,
        frames: header.frames,
        quality: None,
        has_alpha: header.transparency,
        orientation: 1,
    })
}

/// Composes GIF frames onto an RGBA canvas, one frame at a time.
struct Composer<'a> {
    decoder: gif::Decoder<Cursor<&'a [u8]>>,
    width: usize,
    height: usize,
    /// RGBA, straight alpha, `width × height × 4`.
    canvas: Vec<u8>,
    /// The canvas before the last frame, when that frame is restored to previous.
    saved: Option<Vec<u8>>,
    /// How to dispose of the last frame: method and clipped rectangle (x0, y0, x1, y1).
    pending: Option<(DisposalMethod, (usize, usize, usize, usize))>,
}

impl<'a> Composer<'a> {
    fn new(bytes: &'a [u8]) -> Result<Composer<'a>> {
        let header = walk(bytes)?;
        let canvas_bytes = u64::from(header.width) * u64::from(header.height) * 4;
        let limit = NonZeroU64::new(canvas_bytes.max(FRAME_MEMORY_FLOOR))
            .ok_or_else(|| bad("empty canvas"))?;
        let mut options = DecodeOptions::new();
        options.set_color_output(ColorOutput::RGBA);
        options.set_memory_limit(MemoryLimit::Bytes(limit));
        let decoder = options
            .read_info(Cursor::new(bytes))
            .map_err(|e| decode_error(ImageFormat::Gif, e))?;
        let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
        if width == 0 || height == 0 {
            return Err(bad("the logical screen has a zero side"));
        }
        Ok(Composer {
            decoder,
            width,
            height,
            canvas: vec![0; width * height * 4],
            saved: None,
            pending: None,
        })
    }

    fn loop_count(&self) -> u16 {
        match self.decoder.repeat() {
            gif::Repeat::Infinite => 0,
            // No NETSCAPE extension means "play once".
            gif::Repeat::Finite(0) => 1,
            gif::Repeat::Finite(n) => n,
        }
    }

    /// Composes the next frame; returns its delay in ms, or `None` at the end.
    fn next_frame(&mut self) -> Result<Option<u32>> {
        // Dispose of the previous frame first.
        match self.pending.take() {
            Some((DisposalMethod::Background, (x0, y0, x1, y1))) => {
                for y in y0..y1 {
                    let row = (y * self.width + x0) * 4..(y * self.width + x1) * 4;
                    self.canvas[row].fill(0);
                }
            }
            Some((DisposalMethod::Previous, _)) => {
                if let Some(saved) = self.saved.take() {
                    self.canvas = saved;
                }
            }
            _ => {}
        }
        let frame = match self.decoder.read_next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(None),
            Err(e) => return Err(decode_error(ImageFormat::Gif, e)),
        };
        let (left, top) = (usize::from(frame.left), usize::from(frame.top));
        let (fw, fh) = (usize::from(frame.width), usize::from(frame.height));
        if frame.buffer.len() < fw * fh * 4 {
            return Err(bad("frame data is shorter than its declared size"));
        }
        let x0 = left.min(self.width);
        let y0 = top.min(self.height);
        let x1 = (left + fw).min(self.width);
        let y1 = (top + fh).min(self.height);
        if frame.dispose == DisposalMethod::Previous {
            self.saved = Some(self.canvas.clone());
        }
        for y in y0..y1 {
            let src_row = (y - top) * fw;
            for x in x0..x1 {
                let s = (src_row + x - left) * 4;
                let px = &frame.buffer[s..s + 4];
                if px[3] != 0 {
                    let d = (y * self.width + x) * 4;
                    self.canvas[d..d + 4].copy_from_slice(px);
                }
            }
        }
        self.pending = Some((frame.dispose, (x0, y0, x1, y1)));
        Ok(Some(u32::from(frame.delay) * 10))
    }

    /// The canvas as a raster: RGB when every pixel is opaque, else RGBA.
    fn snapshot(&self) -> Result<Raster> {
        rgba_to_raster(self.width as u32, self.height as u32, self.canvas.clone())
    }
}

/// Wraps RGBA pixels, dropping the alpha channel when every pixel is opaque.
pub(crate) fn rgba_to_raster(width: u32, height: u32, rgba: Vec<u8>) -> Result<Raster> {
    if rgba.chunks_exact(4).all(|p| p[3] == 255) {
        let rgb = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Raster::new(width, height, PixelLayout::Rgb8, rgb)
    } else {
        Raster::new(width, height, PixelLayout::Rgba8, rgba)
    }
}

/// Decodes the first frame on the logical screen (transparent where it does
/// not cover it): RGB when fully opaque, else RGBA.
pub fn decode(bytes: &[u8]) -> Result<Raster> {
    let mut composer = Composer::new(bytes)?;
    match composer.next_frame()? {
        Some(_) => composer.snapshot(),
        None => Err(bad("the file contains no image")),
    }
}

/// Decodes every frame as a full canvas with its delay (ms, from the file's
/// centiseconds) and the loop count (0 = forever).
///
/// The caller has checked width × height × frames from [`probe`]; frames beyond
/// the declared count are not decoded.
pub fn decode_animation(bytes: &[u8], info: &SourceInfo) -> Result<Animation> {
    let mut composer = Composer::new(bytes)?;
    let mut frames = Vec::new();
    while frames.len() < info.frames as usize {
        match composer.next_frame() {
            Ok(Some(delay_ms)) => frames.push(Frame {
                raster: composer.snapshot()?,
                delay_ms,
            }),
            Ok(None) => break,
            // A truncated last frame ends an animation whose first frames are good.
            Err(e) if frames.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    if frames.is_empty() {
        return Err(bad("the file contains no image"));
    }
    Ok(Animation {
        loop_count: composer.loop_count(),
        frames,
    })
}

/// Encodes one image (palette of up to 256 colours; alpha becomes a
/// transparent index where it is below 128).
pub fn encode(raster: &Raster) -> Result<Vec<u8>> {
    encode_animation(&Animation {
        frames: vec![Frame {
            raster: raster.clone(),
            delay_ms: 0,
        }],
        loop_count: 1,
    })
}

/// Encodes an animation; delays are rounded to centiseconds (max 655 350 ms),
/// loop count 0 = forever. Every frame must have the size of the first one.
pub fn encode_animation(animation: &Animation) -> Result<Vec<u8>> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let first = animation
        .frames
        .first()
        .ok_or_else(|| ProcessError::internal("GIF encoder: no frames"))?;
    let (w, h) = first.raster.size();
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(ProcessError::too_large(format!(
            "a gif is at most 65535 px on each side, the result is {w}x{h}"
        )));
    }
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, ENCODE_SPEED);
        if animation.frames.len() > 1 || animation.loop_count != 1 {
            let repeat = match animation.loop_count {
                0 => Repeat::Infinite,
                n => Repeat::Finite(n),
            };
            encoder
                .set_repeat(repeat)
                .map_err(|e| ProcessError::internal(format!("GIF encoder: {e}")))?;
        }
        for frame in &animation.frames {
            if frame.raster.size() != (w, h) {
                return Err(ProcessError::internal(
                    "GIF encoder: frames of different sizes",
                ));
            }
            let rgba = frame.raster.clone().with_alpha();
            let buffer = image::RgbaImage::from_raw(w, h, rgba.data)
                .ok_or_else(|| ProcessError::internal("GIF encoder: bad frame buffer"))?;
            let delay = image::Delay::from_numer_denom_ms(frame.delay_ms.min(655_350), 1);
            encoder
                .encode_frame(image::Frame::from_parts(buffer, 0, 0, delay))
                .map_err(|e| ProcessError::internal(format!("GIF encoder: {e}")))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2x1 GIF89a, global palette black/white, one uncompressed-ish frame.
    fn tiny() -> Vec<u8> {
        let raster = Raster::new(2, 1, PixelLayout::Rgb8, vec![0, 0, 0, 255, 255, 255]).unwrap();
        encode(&raster).unwrap()
    }

    #[test]
    fn still_round_trip() {
        let mut data = Vec::new();
        for y in 0..20u32 {
            for x in 0..30u32 {
                data.extend_from_slice(&[
                    if x < 15 { 255 } else { 0 },
                    0,
                    if y < 10 { 255 } else { 0 },
                ]);
            }
        }
        let src = Raster::new(30, 20, PixelLayout::Rgb8, data).unwrap();
        let bytes = encode(&src).unwrap();
        let info = probe(&bytes).unwrap();
        assert_eq!((info.width, info.height, info.frames), (30, 20, 1));
        let out = decode(&bytes).unwrap();
        assert_eq!(out.size(), (30, 20));
        assert_eq!(out.layout, PixelLayout::Rgb8);
        // Four flat colours survive quantisation closely.
        for (a, b) in out.data.iter().zip(&src.data) {
            assert!(a.abs_diff(*b) <= 8, "{a} vs {b}");
        }
    }

    #[test]
    fn transparency_round_trip() {
        let src = Raster::new(2, 1, PixelLayout::Rgba8, vec![255, 0, 0, 255, 0, 0, 0, 0]).unwrap();
        let bytes = encode(&src).unwrap();
        assert!(probe(&bytes).unwrap().has_alpha);
        let out = decode(&bytes).unwrap();
        assert_eq!(out.layout, PixelLayout::Rgba8);
        assert_eq!(out.data[3], 255);
        assert_eq!(out.data[7], 0);
    }

    #[test]
    fn walk_counts_frames_without_decoding() {
        let bytes = tiny();
        assert_eq!(walk(&bytes).unwrap().frames, 1);
        // Corrupt the LZW data: the walk still counts the frame, decoding fails cleanly.
        let mut broken = bytes.clone();
        let n = broken.len();
        for b in &mut broken[n - 6..n - 2] {
            *b = 0xFF;
        }
        assert!(walk(&broken).is_ok());
        // Truncated header and zero-sized screen are rejected.
        assert!(walk(b"GIF89a\x01\0").is_err());
        assert!(walk(b"GIF89a\0\0\x01\0\0\0\0;").is_err());
        // A declared huge frame is refused from its descriptor, not allocated.
        let bomb = b"GIF89a\x20\0\x20\0\0\0\0,\0\0\0\0\xff\xff\xff\xff\0\x02\x02\x4c\x01\0;";
        assert_eq!(
            walk(bomb).unwrap_err().code,
            crate::error::ErrorCode::ImageTooLarge
        );
        let ok = b"GIF89a\x20\0\x20\0\0\0\0,\0\0\0\0\x10\0\x10\0\0\x02\x02\x4c\x01\0;";
        assert_eq!(walk(ok).unwrap().frames, 1);
    }
}
