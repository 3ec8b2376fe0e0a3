//! Planar YCbCr images: what a JPEG stores, scaled and written to WebP
//! without a detour through RGB (the planar route of [`crate::pipeline`]).
//!
//! A JPEG keeps a luma plane and two chroma planes, the chroma usually at
//! half the width (4:2:2) or half of both sides (4:2:0); a lossy WebP (VP8)
//! keeps luma and 4:2:0 chroma. Scaling each plane straight to its place in
//! the output skips the chroma upsampling and colour conversion after the
//! decode, and libwebp's conversion back and chroma averaging before the
//! encode, and it resamples 1.5 samples per output px instead of 3. Both
//! formats use BT.601 colours: JPEG at full range (0–255), VP8 at video range
//! (luma 16–235, chroma 16–240), which [`YcbcrPlanes::to_yuv420`] maps to.
//!
//! Chroma siting: JPEG (JFIF) and VP8 both centre a chroma sample on the
//! luma samples it covers, and the resampler maps plane extent to plane
//! extent, so centred samples stay centred.

use crate::error::{ProcessError, Result};
use crate::raster::resample_plane;

/// One plane of 8-bit samples, rows top to bottom without padding.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplePlane {
    /// Width in samples, ≥ 1.
    pub width: u32,
    /// Height in samples, ≥ 1.
    pub height: u32,
    /// `width × height` samples.
    pub data: Vec<u8>,
    /// How much of the plane the picture covers, in samples from the top
    /// left: fractional, at most the size and more than the size less one.
    /// A JPEG pads its picture out to whole samples: a 617 px tall 4:2:0
    /// picture has, at half scale, 155 chroma rows of which the picture
    /// covers 154.25. Scaling all 155 rows as the picture would shift its
    /// bottom by 3 px of the source (the planar route's PSNR test caught
    /// it: 2.4 dB lost).
    pub covered: (f64, f64),
}

impl SamplePlane {
    /// Wraps `data`, of which the picture covers `covered`; `None` unless
    /// `data` holds exactly `width × height ≥ 1` samples and `covered` is
    /// within one sample short of the size.
    pub fn new(width: u32, height: u32, data: Vec<u8>, covered: (f64, f64)) -> Option<SamplePlane> {
        let fits = |c: f64, side: u32| c <= f64::from(side) && c > f64::from(side) - 1.0;
        let sized = width > 0 && height > 0 && data.len() == width as usize * height as usize;
        (sized && fits(covered.0, width) && fits(covered.1, height)).then_some(SamplePlane {
            width,
            height,
            data,
            covered,
        })
    }

    /// Size in samples.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The covered part of this plane as the 4:2:0 chroma of a
    /// `full`-sized picture, each sample mapped through `curve`: resampled
    /// (Lanczos3) to `full`, then each 2×2 block averaged (the last column
    /// and row of an odd size average with themselves), which is how
    /// libwebp makes chroma from RGB. Resampling straight to the chroma
    /// size lost 2–6 dB of RGB PSNR on smooth colour, and so did one pass
    /// with the two steps' combined kernel at the output's scale (see the
    /// planar route's tests): where the plane has fewer samples than
    /// `full`, the first step interpolates at the plane's own spacing.
    fn scaled_to_chroma(&self, full: (u32, u32), curve: &[u8; 256]) -> Result<Vec<u8>> {
        let big = resample_plane(&self.data, self.size(), self.covered, full)?;
        let (w, h) = (full.0 as usize, full.1 as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut out = Vec::with_capacity(cw * ch);
        for y in 0..ch {
            let top = &big[2 * y * w..][..w];
            let bottom = &big[(2 * y + 1).min(h - 1) * w..][..w];
            for x in 0..cw {
                let (left, right) = (2 * x, (2 * x + 1).min(w - 1));
                let sum = u32::from(top[left])
                    + u32::from(top[right])
                    + u32::from(bottom[left])
                    + u32::from(bottom[right]);
                out.push(curve[((sum + 2) / 4) as usize]);
            }
        }
        Ok(out)
    }

    /// The covered part of this plane resampled (Lanczos3) to `to`
    /// samples, each mapped through `curve`.
    fn scaled(&self, to: (u32, u32), curve: &[u8; 256]) -> Result<Vec<u8>> {
        let mut out = resample_plane(&self.data, self.size(), self.covered, to)?;
        for sample in &mut out {
            *sample = curve[usize::from(*sample)];
        }
        Ok(out)
    }
}

/// A JPEG's decoded planes: full-range BT.601 YCbCr, each chroma plane at
/// the file's own sampling (covering the same picture as the luma).
#[derive(Debug, Clone, PartialEq)]
pub struct YcbcrPlanes {
    pub y: SamplePlane,
    pub cb: SamplePlane,
    pub cr: SamplePlane,
}

impl YcbcrPlanes {
    /// The image size in px (the luma plane's).
    pub fn size(&self) -> (u32, u32) {
        self.y.size()
    }

    /// The picture scaled to `width`×`height` px as a video-range 4:2:0
    /// picture: luma resampled to `width`×`height`, each chroma plane to
    /// `ceil(width / 2)`×`ceil(height / 2)`
    /// ([`SamplePlane::scaled_to_chroma`]).
    pub fn to_yuv420(&self, (width, height): (u32, u32)) -> Result<Yuv420> {
        if width == 0 || height == 0 {
            return Err(ProcessError::internal("a 4:2:0 picture of no pixels"));
        }
        Ok(Yuv420 {
            width,
            height,
            y: self.y.scaled((width, height), &VIDEO_LUMA)?,
            u: self.cb.scaled_to_chroma((width, height), &VIDEO_CHROMA)?,
            v: self.cr.scaled_to_chroma((width, height), &VIDEO_CHROMA)?,
        })
    }
}

/// A 4:2:0 picture at video range, as VP8 encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Yuv420 {
    /// Size in px, ≥ 1 each.
    pub width: u32,
    pub height: u32,
    /// `width × height` luma samples, 16–235.
    pub y: Vec<u8>,
    /// `ceil(width / 2) × ceil(height / 2)` Cb samples, 16–240.
    pub u: Vec<u8>,
    /// The same for Cr.
    pub v: Vec<u8>,
}

impl Yuv420 {
    /// Width and height of the chroma planes in samples.
    pub fn chroma_size(&self) -> (u32, u32) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }
}

/// Full-range luma to video range: `16 + 219 y / 255`, rounded.
static VIDEO_LUMA: [u8; 256] = video_range(219, 16 * 255);
/// Full-range chroma to video range: `128 + 224 (c − 128) / 255`
/// `= (224 c + 128 × 31) / 255`, rounded.
static VIDEO_CHROMA: [u8; 256] = video_range(224, 128 * (255 - 224));

/// The table of `(span s + offset) / 255` for each sample `s`, rounded
/// half up: `span` ≤ 255 and `span × 255 + offset` < 256 × 255.
const fn video_range(span: u32, offset: u32) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut s = 0;
    while s < 256 {
        table[s] = ((span * s as u32 + offset + 127) / 255) as u8;
        s += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_range_maps_the_ends_and_the_middle() {
        assert_eq!((VIDEO_LUMA[0], VIDEO_LUMA[255]), (16, 235));
        assert_eq!(
            (VIDEO_CHROMA[0], VIDEO_CHROMA[128], VIDEO_CHROMA[255]),
            (16, 128, 240)
        );
        for s in 0..256usize {
            let y = 16.0 + 219.0 * s as f64 / 255.0;
            let c = 128.0 + 224.0 * (s as f64 - 128.0) / 255.0;
            assert!((f64::from(VIDEO_LUMA[s]) - y).abs() <= 0.5, "luma {s}");
            assert!((f64::from(VIDEO_CHROMA[s]) - c).abs() <= 0.5, "chroma {s}");
        }
        assert!(VIDEO_LUMA.windows(2).all(|w| w[0] <= w[1]));
        assert!(VIDEO_CHROMA.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn planes_scale_to_their_places_in_a_4_2_0_picture() {
        let plane = |w: u32, h: u32, value: u8| {
            let covered = (f64::from(w), f64::from(h) - 0.5);
            SamplePlane::new(w, h, vec![value; (w * h) as usize], covered).unwrap()
        };
        // 4:2:2 planes of a flat colour, an odd output size.
        let planes = YcbcrPlanes {
            y: plane(400, 300, 255),
            cb: plane(200, 300, 0),
            cr: plane(200, 300, 128),
        };
        let picture = planes.to_yuv420((101, 75)).unwrap();
        assert_eq!(picture.chroma_size(), (51, 38));
        assert_eq!(picture.y.len(), 101 * 75);
        assert_eq!((picture.u.len(), picture.v.len()), (51 * 38, 51 * 38));
        assert!(picture.y.iter().all(|&s| s == 235));
        assert!(picture.u.iter().all(|&s| s == 16));
        assert!(picture.v.iter().all(|&s| s == 128));
        assert!(planes.to_yuv420((0, 10)).is_err());
        assert_eq!(SamplePlane::new(2, 2, vec![0; 3], (2.0, 2.0)), None);
        assert_eq!(SamplePlane::new(2, 2, vec![0; 4], (2.0, 1.0)), None);
        assert_eq!(SamplePlane::new(2, 2, vec![0; 4], (2.5, 2.0)), None);
    }
}
