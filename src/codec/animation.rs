//! Animations: every frame of a GIF or animated WebP as a full canvas.
//!
//! [`decode_animation`] composes frames (disposal and blending applied), so
//! each [`Frame`] can be processed like a still image; [`encode_animation`]
//! writes them back. Formats without animation decode as one frame and encode
//! only the first frame (first-frame policy).
//!
//! Memory: an animation holds `frames × width × height × 4` bytes at most; the
//! caller checks `width × height × frames` from [`super::probe`] first.

use super::{ImageFormat, SourceInfo};
use crate::error::Result;
use crate::raster::Raster;

/// One frame of an animation: the whole canvas as it is displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The full canvas (every frame has the animation's size).
    pub(crate) raster: Raster,
    /// How long the frame is shown, in ms (GIF stores centiseconds: multiples of 10).
    pub(crate) delay_ms: u32,
}

/// A decoded animation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Animation {
    /// The frames in display order, ≥ 1.
    pub(crate) frames: Vec<Frame>,
    /// How many times the animation plays; 0 = forever.
    pub(crate) loop_count: u16,
}

/// Decodes every frame of `bytes`, whose header was probed as `info`.
///
/// GIF and WebP give all their frames; other formats give one frame with delay 0.
pub fn decode_animation(bytes: &[u8], info: &SourceInfo) -> Result<Animation> {
    match info.format {
        ImageFormat::Gif => super::gif::decode_animation(bytes, info),
        ImageFormat::Webp => super::webp::decode_animation(bytes, info),
        _ => Ok(Animation {
            frames: vec![Frame {
                raster: super::decode(bytes, info, None)?,
                delay_ms: 0,
            }],
            loop_count: 0,
        }),
    }
}

/// Encodes `animation` as `format` at `quality` (1–100, lossy formats only).
///
/// GIF and WebP keep every frame, its delay and the loop count; other formats
/// encode the first frame only.
pub fn encode_animation(
    animation: &Animation,
    format: ImageFormat,
    quality: u8,
) -> Result<Vec<u8>> {
    match format {
        ImageFormat::Gif => super::gif::encode_animation(animation),
        ImageFormat::Webp => super::webp::encode_animation(animation, quality),
        other => {
            let first = animation.frames.first().ok_or_else(|| {
                crate::error::ProcessError::internal("encoding an animation without frames")
            })?;
            super::encode(
                &first.raster,
                other,
                &super::EncodeOptions::with_quality(quality),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::PixelLayout;

    fn frame(i: u8, alpha: bool, delay_ms: u32) -> Frame {
        let (w, h) = (24u32, 16u32);
        let layout = if alpha {
            PixelLayout::Rgba8
        } else {
            PixelLayout::Rgb8
        };
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let on = (x / 8) as u8 == i;
                data.extend_from_slice(&[if on { 250 } else { 10 }, (y * 10) as u8, 40 * i]);
                if alpha {
                    data.push(if x == 0 { 0 } else { 255 });
                }
            }
        }
        Frame {
            raster: Raster::new(w, h, layout, data).unwrap(),
            delay_ms,
        }
    }

    fn three_frames(alpha: bool) -> Animation {
        Animation {
            frames: vec![
                frame(0, alpha, 100),
                frame(1, alpha, 200),
                frame(2, alpha, 50),
            ],
            loop_count: 3,
        }
    }

    fn round_trip(format: ImageFormat, alpha: bool) {
        let src = three_frames(alpha);
        let bytes = encode_animation(&src, format, 90).unwrap();
        let info = super::super::probe(&bytes).unwrap();
        assert_eq!(info.format, format);
        assert_eq!((info.width, info.height, info.frames), (24, 16, 3));
        let out = decode_animation(&bytes, &info).unwrap();
        assert_eq!(out.frames.len(), 3);
        assert_eq!(out.loop_count, 3);
        let delays: Vec<u32> = out.frames.iter().map(|f| f.delay_ms).collect();
        assert_eq!(delays, vec![100, 200, 50]);
        for (a, b) in out.frames.iter().zip(&src.frames) {
            assert_eq!(a.raster.size(), (24, 16));
            // The bright column block moves: compare one pixel in the middle of each block.
            let (fa, fb) = (a.raster.clone().with_alpha(), b.raster.clone().with_alpha());
            for x in [4usize, 12, 20] {
                let i = (8 * 24 + x) * 4;
                assert!(fa.data[i].abs_diff(fb.data[i]) < 40, "x={x}");
            }
            if alpha {
                assert_eq!(fa.data[3], 0, "transparent column kept");
            }
        }
    }

    #[test]
    fn gif_round_trip_keeps_frames_and_delays() {
        round_trip(ImageFormat::Gif, false);
        round_trip(ImageFormat::Gif, true);
    }

    #[test]
    fn webp_round_trip_keeps_frames_and_delays() {
        round_trip(ImageFormat::Webp, false);
        round_trip(ImageFormat::Webp, true);
    }

    #[test]
    fn still_formats_take_the_first_frame() {
        let src = three_frames(false);
        let bytes = encode_animation(&src, ImageFormat::Png, 0).unwrap();
        let info = super::super::probe(&bytes).unwrap();
        let out = decode_animation(&bytes, &info).unwrap();
        assert_eq!(out.frames.len(), 1);
        assert_eq!(out.frames[0].raster, src.frames[0].raster);
    }
}
