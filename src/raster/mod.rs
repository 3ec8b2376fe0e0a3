//! Decoded pixels and the geometric operations on them.
//!
//! A [`Raster`] is 8-bit sRGB, either RGB or RGBA (straight, not premultiplied
//! alpha), rows top to bottom without padding. Resampling is
//! `fast_image_resize` with Lanczos3 (its wasm32 `simd128` path in the filter).

mod adjust;
pub mod blind_watermark;
mod geometry;
pub(crate) mod watermark;

pub(crate) use geometry::rotated_size;
pub use geometry::Orientation;

use crate::error::{ProcessError, Result};
use fast_image_resize as fir;

/// Channel layout of a [`Raster`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    /// 3 bytes per pixel.
    Rgb8,
    /// 4 bytes per pixel, straight alpha.
    Rgba8,
}

impl PixelLayout {
    pub(crate) fn channels(self) -> usize {
        match self {
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 => 4,
        }
    }

    fn fir_type(self) -> fir::PixelType {
        match self {
            PixelLayout::Rgb8 => fir::PixelType::U8x3,
            PixelLayout::Rgba8 => fir::PixelType::U8x4,
        }
    }
}

/// An image in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    /// Width in px, ≥ 1.
    pub width: u32,
    /// Height in px, ≥ 1.
    pub height: u32,
    pub layout: PixelLayout,
    /// `width × height × channels` bytes.
    pub data: Vec<u8>,
}

impl Raster {
    /// Wraps pixel data, checking its length.
    pub fn new(width: u32, height: u32, layout: PixelLayout, data: Vec<u8>) -> Result<Raster> {
        let expected = width as usize * height as usize * layout.channels();
        if width == 0 || height == 0 || data.len() != expected {
            return Err(ProcessError::internal(format!(
                "pixel buffer of {} bytes does not match {width}x{height}x{}",
                data.len(),
                layout.channels()
            )));
        }
        Ok(Raster {
            width,
            height,
            layout,
            data,
        })
    }

    /// A `width`×`height` canvas filled with `rgba`.
    pub fn filled(width: u32, height: u32, rgba: [u8; 4]) -> Raster {
        let (layout, px): (PixelLayout, &[u8]) = if rgba[3] == 255 {
            (PixelLayout::Rgb8, &rgba[..3])
        } else {
            (PixelLayout::Rgba8, &rgba[..])
        };
        let data = px.repeat(width as usize * height as usize);
        Raster {
            width,
            height,
            layout,
            data,
        }
    }

    /// Size in px.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Resamples to exactly `width`×`height` (aspect ratio as given).
    pub fn resize(&self, width: u32, height: u32) -> Result<Raster> {
        self.resample(width, height, None)
    }

    /// Resamples to cover `width`×`height` and keeps the part at `align`
    /// (0–100 % along the axis that is cut; 50 = centred) (resize `m_fill`).
    pub fn resize_fill(&self, width: u32, height: u32, align: u8) -> Result<Raster> {
        let a = f64::from(align.min(100)) / 100.0;
        self.resample(width, height, Some((a, a)))
    }

    fn resample(&self, width: u32, height: u32, centre: Option<(f64, f64)>) -> Result<Raster> {
        if (width, height) == self.size() && centre.is_none() {
            return Ok(self.clone());
        }
        let data = resample_samples(
            &self.data,
            self.size(),
            self.layout.fir_type(),
            (width, height),
            centre.map_or(Scope::Crop(None), Scope::Fill),
        )?;
        Raster::new(width, height, self.layout, data)
    }

    /// Places this image centred on a `width`×`height` canvas of `rgba` (resize `m_pad`).
    pub fn pad(&self, width: u32, height: u32, rgba: [u8; 4]) -> Raster {
        let mut canvas = Raster::filled(width, height, rgba);
        if self.layout == PixelLayout::Rgba8 {
            canvas = canvas.with_alpha();
        }
        let src = if canvas.layout == PixelLayout::Rgba8 {
            self.clone().with_alpha()
        } else {
            self.clone()
        };
        let ch = canvas.layout.channels();
        let left = (width.saturating_sub(src.width) / 2) as usize;
        let top = (height.saturating_sub(src.height) / 2) as usize;
        let copy_w = src.width.min(width) as usize;
        let copy_h = src.height.min(height) as usize;
        let dst_stride = width as usize * ch;
        let src_stride = src.width as usize * ch;
        for row in 0..copy_h {
            let d = (top + row) * dst_stride + left * ch;
            let s = row * src_stride;
            canvas.data[d..d + copy_w * ch].copy_from_slice(&src.data[s..s + copy_w * ch]);
        }
        canvas
    }

    /// The same image as RGBA (opaque alpha added if it had none).
    pub(crate) fn with_alpha(self) -> Raster {
        match self.layout {
            PixelLayout::Rgba8 => self,
            PixelLayout::Rgb8 => {
                let mut data = Vec::with_capacity(self.data.len() / 3 * 4);
                for px in self.data.chunks_exact(3) {
                    data.extend_from_slice(&[px[0], px[1], px[2], 255]);
                }
                Raster {
                    layout: PixelLayout::Rgba8,
                    data,
                    ..self
                }
            }
        }
    }

    /// The same image as RGB, composited over `background` where it had alpha.
    pub fn flatten(&self, background: [u8; 3]) -> std::borrow::Cow<'_, Raster> {
        match self.layout {
            PixelLayout::Rgb8 => std::borrow::Cow::Borrowed(self),
            PixelLayout::Rgba8 => {
                let mut data = Vec::with_capacity(self.data.len() / 4 * 3);
                for px in self.data.chunks_exact(4) {
                    let a = u32::from(px[3]);
                    for c in 0..3 {
                        let v = (u32::from(px[c]) * a + u32::from(background[c]) * (255 - a) + 127)
                            / 255;
                        data.push(v as u8);
                    }
                }
                std::borrow::Cow::Owned(Raster {
                    width: self.width,
                    height: self.height,
                    layout: PixelLayout::Rgb8,
                    data,
                })
            }
        }
    }
}

/// Resamples one plane of 8-bit samples (`size` in samples, rows without
/// padding) to `to`, with the same Lanczos3 as [`Raster::resize`], for the
/// planes of [`crate::codec::yuv`]. Only the top-left `covered` part of the
/// plane (in samples, fractional; at most `size`) is the picture: the
/// rest pads the plane's last samples, and the output maps onto the
/// covered part alone.
pub(crate) fn resample_plane(
    data: &[u8],
    size: (u32, u32),
    covered: (f64, f64),
    to: (u32, u32),
) -> Result<Vec<u8>> {
    let whole = covered == (f64::from(size.0), f64::from(size.1));
    if size == to && whole {
        return Ok(data.to_vec());
    }
    let scope = Scope::Crop((!whole).then_some(covered));
    resample_samples(data, size, fir::PixelType::U8, to, scope)
}

/// What part of the source [`resample_samples`] maps onto the output.
enum Scope {
    /// The top-left `w`×`h` px (fractional), or the whole source.
    Crop(Option<(f64, f64)>),
    /// The part of the cover that `m_fill` keeps, at this position (0–1 on
    /// each axis).
    Fill((f64, f64)),
}

/// Lanczos3 from `size` to `to` px of `pixel_type`, over `scope` of the source.
fn resample_samples(
    data: &[u8],
    size: (u32, u32),
    pixel_type: fir::PixelType,
    to: (u32, u32),
    scope: Scope,
) -> Result<Vec<u8>> {
    let src = fir::images::ImageRef::new(size.0, size.1, data, pixel_type)
        .map_err(|e| ProcessError::internal(format!("resize source: {e}")))?;
    let mut dst = fir::images::Image::new(to.0, to.1, pixel_type);
    let mut options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    match scope {
        Scope::Crop(Some((w, h))) => options = options.crop(0.0, 0.0, w, h),
        Scope::Crop(None) => {}
        Scope::Fill(centre) => options = options.fit_into_destination(Some(centre)),
    }
    #[allow(unused_mut)]
    let mut resizer = fir::Resizer::new();
    // With the `bit-identical` feature: the portable (scalar) kernels
    // everywhere, so the filter (wasm32) and `imgproc` (native) give
    // byte-identical output whatever SIMD the CPU has. Without it (the
    // default) the fastest kernels the CPU has (simd128 in the filter);
    // `cargo xtask bench` measures both.
    #[cfg(feature = "bit-identical")]
    // SAFETY: `None` selects code that runs on every CPU.
    unsafe {
        resizer.set_cpu_extensions(fir::CpuExtensions::None)
    };
    resizer
        .resize(&src, &mut dst, &options)
        .map_err(|e| ProcessError::internal(format!("resize: {e}")))?;
    Ok(dst.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Raster {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 128]);
            }
        }
        Raster::new(w, h, PixelLayout::Rgb8, data).unwrap()
    }

    #[test]
    fn resize_gives_requested_size() {
        let r = gradient(64, 32).resize(16, 8).unwrap();
        assert_eq!(r.size(), (16, 8));
        assert_eq!(r.data.len(), 16 * 8 * 3);
        // The horizontal gradient survives: left is darker than right.
        assert!(r.data[0] < r.data[(15 * 3) as usize]);
    }

    #[test]
    fn fill_crops_to_the_box() {
        let r = gradient(60, 40).resize_fill(10, 10, 50).unwrap();
        assert_eq!(r.size(), (10, 10));
        // align moves the cut along the cut axis (x here): 0 keeps the dark left.
        let left = gradient(60, 40).resize_fill(10, 10, 0).unwrap();
        let right = gradient(60, 40).resize_fill(10, 10, 100).unwrap();
        assert!(left.data[0] < r.data[0] && r.data[0] < right.data[0]);
    }

    #[test]
    fn pad_centres_on_canvas() {
        let img = Raster::filled(2, 2, [0, 0, 0, 255]);
        let padded = img.pad(4, 2, [255, 255, 255, 255]);
        assert_eq!(padded.size(), (4, 2));
        let row: Vec<u8> = padded.data[..12].to_vec();
        assert_eq!(row, vec![255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn flatten_composites_over_background() {
        let img = Raster::new(1, 1, PixelLayout::Rgba8, vec![0, 0, 0, 0]).unwrap();
        assert_eq!(img.flatten([255, 255, 255]).data, vec![255, 255, 255]);
        let img = Raster::new(1, 1, PixelLayout::Rgba8, vec![10, 20, 30, 255]).unwrap();
        assert_eq!(img.flatten([255, 255, 255]).data, vec![10, 20, 30]);
    }

    #[test]
    fn buffer_length_is_checked() {
        assert!(Raster::new(2, 2, PixelLayout::Rgb8, vec![0; 11]).is_err());
        assert!(Raster::new(0, 2, PixelLayout::Rgb8, vec![]).is_err());
    }
}
