//! Geometric operations on a [`Raster`]: cropping, masks, flips and rotations.
//!
//! Coordinates are in px from the top-left corner; sizes are checked by the
//! planner before these run, so they only assert what the planner promised.

use super::{PixelLayout, Raster};
use crate::error::{ProcessError, Result};

/// One of the eight EXIF orientations (1–8), as the transform that makes the
/// stored pixels display upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// 1: as stored.
    Normal,
    /// 2: mirror left–right.
    FlipH,
    /// 3: rotate 180°.
    Rotate180,
    /// 4: mirror top–bottom.
    FlipV,
    /// 5: transpose (mirror along the main diagonal).
    Transpose,
    /// 6: rotate 90° clockwise.
    Rotate90,
    /// 7: transverse (mirror along the anti-diagonal).
    Transverse,
    /// 8: rotate 270° clockwise (90° counter-clockwise).
    Rotate270,
}

impl Orientation {
    /// The orientation an EXIF `Orientation` value (1–8) asks for; anything else is `Normal`.
    pub fn from_exif(value: u16) -> Orientation {
        match value {
            2 => Orientation::FlipH,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipV,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// Whether width and height trade places.
    pub(crate) fn swaps_axes(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// The size after the transform of a `size` image.
    pub(crate) fn output_size(self, size: (u32, u32)) -> (u32, u32) {
        if self.swaps_axes() {
            (size.1, size.0)
        } else {
            size
        }
    }

    /// The rectangle (`x`, `y`, `w`, `h`) of a `stored`-size image that the
    /// transform turns into `rect` of its output: cropping the output to
    /// `rect` equals cropping the stored image to this, then transforming.
    /// `rect` must lie inside the output.
    pub(crate) fn source_rect(
        self,
        (sw, sh): (u32, u32),
        (x, y, w, h): (u32, u32, u32, u32),
    ) -> (u32, u32, u32, u32) {
        match self {
            Orientation::Normal => (x, y, w, h),
            Orientation::FlipH => (sw - x - w, y, w, h),
            Orientation::Rotate180 => (sw - x - w, sh - y - h, w, h),
            Orientation::FlipV => (x, sh - y - h, w, h),
            Orientation::Transpose => (y, x, h, w),
            Orientation::Rotate90 => (y, sh - x - w, h, w),
            Orientation::Transverse => (sw - y - h, sh - x - w, h, w),
            Orientation::Rotate270 => (sw - y - h, x, h, w),
        }
    }
}

impl Raster {
    /// The `w`×`h` rectangle whose top-left corner is (`x`, `y`). The planner
    /// guarantees the rectangle lies inside the image.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Result<Raster> {
        if x.saturating_add(w) > self.width || y.saturating_add(h) > self.height || w == 0 || h == 0
        {
            return Err(ProcessError::internal(format!(
                "crop {w}x{h}+{x}+{y} outside a {}x{} image",
                self.width, self.height
            )));
        }
        if (x, y, w, h) == (0, 0, self.width, self.height) {
            return Ok(self.clone());
        }
        let ch = self.layout.channels();
        let stride = self.width as usize * ch;
        let row_len = w as usize * ch;
        let mut data = Vec::with_capacity(row_len * h as usize);
        for row in y as usize..(y + h) as usize {
            let start = row * stride + x as usize * ch;
            data.extend_from_slice(&self.data[start..start + row_len]);
        }
        Raster::new(w, h, self.layout, data)
    }

    /// Applies an EXIF orientation transform.
    pub fn orient(&self, orientation: Orientation) -> Raster {
        if orientation == Orientation::Normal {
            return self.clone();
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let (out_w, out_h) = orientation.output_size(self.size());
        let ch = self.layout.channels();
        let mut data = vec![0u8; self.data.len()];
        let ow = out_w as usize;
        for y in 0..h {
            for x in 0..w {
                // Where the stored pixel (x, y) lands in the output.
                let (dx, dy) = match orientation {
                    Orientation::Normal => (x, y),
                    Orientation::FlipH => (w - 1 - x, y),
                    Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
                    Orientation::FlipV => (x, h - 1 - y),
                    Orientation::Transpose => (y, x),
                    Orientation::Rotate90 => (h - 1 - y, x),
                    Orientation::Transverse => (h - 1 - y, w - 1 - x),
                    Orientation::Rotate270 => (y, w - 1 - x),
                };
                let s = (y * w + x) * ch;
                let d = (dy * ow + dx) * ch;
                data[d..d + ch].copy_from_slice(&self.data[s..s + ch]);
            }
        }
        Raster {
            width: out_w,
            height: out_h,
            layout: self.layout,
            data,
        }
    }

    /// Rotates clockwise by `degrees` (any angle). Multiples of 90° are exact
    /// transposes; other angles grow the canvas to the rotated bounding box
    /// ([`rotated_size`]) and fill the corners with `fill` (RGBA), sampling
    /// bilinearly.
    pub(crate) fn rotate(&self, degrees: i32, fill: [u8; 4]) -> Raster {
        match degrees.rem_euclid(360) {
            0 => return self.clone(),
            90 => return self.orient(Orientation::Rotate90),
            180 => return self.orient(Orientation::Rotate180),
            270 => return self.orient(Orientation::Rotate270),
            _ => {}
        }
        let (out_w, out_h) = rotated_size(self.size(), degrees);
        let src = if fill[3] == 255 && self.layout == PixelLayout::Rgb8 {
            std::borrow::Cow::Borrowed(self)
        } else {
            std::borrow::Cow::Owned(self.clone().with_alpha())
        };
        let ch = src.layout.channels();
        let theta = f64::from(degrees).to_radians();
        let (sin, cos) = theta.sin_cos();
        let (cx_src, cy_src) = (f64::from(self.width) / 2.0, f64::from(self.height) / 2.0);
        let (cx_dst, cy_dst) = (f64::from(out_w) / 2.0, f64::from(out_h) / 2.0);
        let (sw, sh) = (self.width as i64, self.height as i64);
        let mut data = Vec::with_capacity(out_w as usize * out_h as usize * ch);
        let fill = &fill[..ch];
        let mut px = [0f64; 4];
        for y in 0..out_h {
            let dy = f64::from(y) + 0.5 - cy_dst;
            for x in 0..out_w {
                let dx = f64::from(x) + 0.5 - cx_dst;
                // Inverse rotation (counter-clockwise) maps the output pixel to the source.
                let sx = dx * cos + dy * sin + cx_src - 0.5;
                let sy = -dx * sin + dy * cos + cy_src - 0.5;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                px[..ch].fill(0.0);
                let mut weight_in = 0.0;
                for (ox, oy, wgt) in [
                    (0, 0, (1.0 - fx) * (1.0 - fy)),
                    (1, 0, fx * (1.0 - fy)),
                    (0, 1, (1.0 - fx) * fy),
                    (1, 1, fx * fy),
                ] {
                    let (xx, yy) = (x0 + ox, y0 + oy);
                    let sample: &[u8] = if xx >= 0 && yy >= 0 && xx < sw && yy < sh {
                        weight_in += wgt;
                        let i = (yy as usize * self.width as usize + xx as usize) * ch;
                        &src.data[i..i + ch]
                    } else {
                        fill
                    };
                    for c in 0..ch {
                        px[c] += wgt * f64::from(sample[c]);
                    }
                }
                if weight_in == 0.0 {
                    data.extend_from_slice(fill);
                } else {
                    data.extend(px[..ch].iter().map(|v| v.round().clamp(0.0, 255.0) as u8));
                }
            }
        }
        Raster {
            width: out_w,
            height: out_h,
            layout: src.layout,
            data,
        }
    }

    /// Keeps the disc of radius `r` px centred on the image, on a transparent
    /// `2r`×`2r` square (the planner caps `r` at half the shorter side).
    pub(crate) fn circle(&self, r: u32) -> Result<Raster> {
        let side = (2 * r).clamp(1, self.width.min(self.height));
        let x = (self.width - side) / 2;
        let y = (self.height - side) / 2;
        let mut out = self.crop(x, y, side, side)?.with_alpha();
        let radius = f64::from(side) / 2.0;
        apply_coverage(&mut out, |px, py| {
            let d = ((px - radius).powi(2) + (py - radius).powi(2)).sqrt();
            (radius - d + 0.5).clamp(0.0, 1.0)
        });
        Ok(out)
    }

    /// Rounds the four corners with radius `r` px (capped at half the shorter
    /// side); the cut-off corners become transparent.
    pub(crate) fn rounded_corners(&self, r: u32) -> Raster {
        let r = f64::from(r.min(self.width.min(self.height) / 2));
        let mut out = self.clone().with_alpha();
        if r < 1.0 {
            return out;
        }
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        apply_coverage(&mut out, |px, py| {
            // Distance from the nearest corner circle's centre, for pixels in a corner square.
            let cx = if px < r {
                r
            } else if px > w - r {
                w - r
            } else {
                return 1.0;
            };
            let cy = if py < r {
                r
            } else if py > h - r {
                h - r
            } else {
                return 1.0;
            };
            let d = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            (r - d + 0.5).clamp(0.0, 1.0)
        });
        out
    }
}

/// Multiplies each pixel's alpha by `coverage(centre_x, centre_y)` in 0–1
/// (anti-aliased edges). `raster` must be RGBA.
fn apply_coverage(raster: &mut Raster, coverage: impl Fn(f64, f64) -> f64) {
    let w = raster.width as usize;
    for (i, px) in raster.data.chunks_exact_mut(4).enumerate() {
        let (x, y) = ((i % w) as f64 + 0.5, (i / w) as f64 + 0.5);
        let c = coverage(x, y);
        if c < 1.0 {
            px[3] = (f64::from(px[3]) * c).round() as u8;
        }
    }
}

/// The canvas size after rotating a `size` image by `degrees` clockwise: the
/// bounding box of the rotated rectangle, rounded to whole px.
pub fn rotated_size(size: (u32, u32), degrees: i32) -> (u32, u32) {
    match degrees.rem_euclid(360) {
        0 | 180 => return size,
        90 | 270 => return (size.1, size.0),
        _ => {}
    }
    let theta = f64::from(degrees).to_radians();
    let (sin, cos) = (theta.sin().abs(), theta.cos().abs());
    let (w, h) = (f64::from(size.0), f64::from(size.1));
    let bw = (w * cos + h * sin - 1e-6).ceil().max(1.0);
    let bh = (w * sin + h * cos - 1e-6).ceil().max(1.0);
    (bw as u32, bh as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For every orientation and every rectangle of a 5×3 image's output,
    /// cropping after the transform equals transforming the crop of
    /// [`Orientation::source_rect`] (what a windowed decode relies on).
    #[test]
    fn source_rect_commutes_with_the_transform() {
        let data = (0..15u8).flat_map(|i| [i, 0, 0]).collect();
        let stored = Raster::new(5, 3, PixelLayout::Rgb8, data).unwrap();
        for exif in 1..=8 {
            let o = Orientation::from_exif(exif);
            let turned = stored.orient(o);
            let (ow, oh) = turned.size();
            for (x, y) in (0..ow).flat_map(|x| (0..oh).map(move |y| (x, y))) {
                for (w, h) in (1..=ow - x).flat_map(|w| (1..=oh - y).map(move |h| (w, h))) {
                    let (sx, sy, sw, sh) = o.source_rect((5, 3), (x, y, w, h));
                    let direct = turned.crop(x, y, w, h).unwrap();
                    let windowed = stored.crop(sx, sy, sw, sh).unwrap().orient(o);
                    assert_eq!(direct, windowed, "{o:?} {:?}", (x, y, w, h));
                }
            }
        }
    }

    /// A 3×2 image whose pixels are numbered 0..6 in the red channel.
    fn numbered() -> Raster {
        let data = (0..6u8).flat_map(|i| [i, 0, 0]).collect();
        Raster::new(3, 2, PixelLayout::Rgb8, data).unwrap()
    }

    fn reds(r: &Raster) -> Vec<u8> {
        r.data
            .chunks_exact(r.layout.channels())
            .map(|p| p[0])
            .collect()
    }

    #[test]
    fn crop_copies_the_rectangle() {
        let c = numbered().crop(1, 0, 2, 2).unwrap();
        assert_eq!(c.size(), (2, 2));
        assert_eq!(reds(&c), vec![1, 2, 4, 5]);
        assert!(numbered().crop(2, 0, 2, 1).is_err());
    }

    /// Stored 3×2:   0 1 2
    ///               3 4 5
    #[test]
    fn all_eight_orientations() {
        let cases: &[(u16, (u32, u32), &[u8])] = &[
            (1, (3, 2), &[0, 1, 2, 3, 4, 5]),
            (2, (3, 2), &[2, 1, 0, 5, 4, 3]),
            (3, (3, 2), &[5, 4, 3, 2, 1, 0]),
            (4, (3, 2), &[3, 4, 5, 0, 1, 2]),
            (5, (2, 3), &[0, 3, 1, 4, 2, 5]),
            (6, (2, 3), &[3, 0, 4, 1, 5, 2]),
            (7, (2, 3), &[5, 2, 4, 1, 3, 0]),
            (8, (2, 3), &[2, 5, 1, 4, 0, 3]),
        ];
        for (value, size, want) in cases {
            let o = numbered().orient(Orientation::from_exif(*value));
            assert_eq!(o.size(), *size, "orientation {value}");
            assert_eq!(reds(&o), *want, "orientation {value}");
        }
    }

    #[test]
    fn right_angles_are_exact() {
        assert_eq!(reds(&numbered().rotate(90, [0; 4])), vec![3, 0, 4, 1, 5, 2]);
        assert_eq!(
            reds(&numbered().rotate(-90, [0; 4])),
            vec![2, 5, 1, 4, 0, 3]
        );
        assert_eq!(numbered().rotate(360, [0; 4]), numbered());
        assert_eq!(
            numbered().rotate(-180, [0; 4]),
            numbered().rotate(180, [0; 4])
        );
    }

    #[test]
    fn any_angle_grows_the_canvas_and_fills_corners() {
        assert_eq!(rotated_size((100, 100), 45), (142, 142));
        assert_eq!(rotated_size((200, 100), 30), (224, 187));
        assert_eq!(rotated_size((200, 100), -30), (224, 187));
        let img = Raster::filled(100, 100, [200, 10, 10, 255]);
        let r = img.rotate(45, [0, 0, 0, 0]);
        assert_eq!(r.size(), (142, 142));
        assert_eq!(r.layout, PixelLayout::Rgba8);
        // Corner: transparent fill; centre: the image.
        assert_eq!(&r.data[..4], &[0, 0, 0, 0]);
        let c = (71 * 142 + 71) * 4;
        assert_eq!(&r.data[c..c + 4], &[200, 10, 10, 255]);
        // Opaque fill keeps RGB.
        let r = img.rotate(30, [255, 255, 255, 255]);
        assert_eq!(r.layout, PixelLayout::Rgb8);
        assert_eq!(&r.data[..3], &[255, 255, 255]);
    }

    #[test]
    fn rotation_is_clockwise() {
        // A bright pixel at the top-middle moves to the right side after +30°.
        let mut img = Raster::filled(41, 41, [0, 0, 0, 255]);
        for y in 0..5 {
            let i = (y * 41 + 20) * 3;
            img.data[i] = 255;
        }
        let r = img.rotate(30, [0, 0, 0, 255]);
        let (w, h) = r.size();
        let (mut sx, mut n) = (0.0, 0.0);
        for y in 0..h {
            for x in 0..w {
                if r.data[((y * w + x) * 3) as usize] > 128 {
                    sx += f64::from(x);
                    n += 1.0;
                }
            }
        }
        assert!(n > 0.0);
        assert!(sx / n > f64::from(w) / 2.0 + 3.0, "bright spot moved right");
    }

    #[test]
    fn circle_is_a_transparent_square_around_a_disc() {
        let img = Raster::filled(60, 40, [9, 9, 9, 255]);
        let c = img.circle(20).unwrap();
        assert_eq!(c.size(), (40, 40));
        assert_eq!(c.data[3], 0, "corner transparent");
        let centre = (20 * 40 + 20) * 4;
        assert_eq!(c.data[centre + 3], 255, "centre opaque");
        // A radius larger than the image is capped to the inscribed circle.
        assert_eq!(img.circle(500).unwrap().size(), (40, 40));
    }

    #[test]
    fn rounded_corners_cut_only_the_corners() {
        let img = Raster::filled(50, 30, [9, 9, 9, 255]);
        let r = img.rounded_corners(10);
        assert_eq!(r.size(), (50, 30));
        assert_eq!(r.data[3], 0);
        let edge_middle = (25 * 4) + 3; // top row, middle
        assert_eq!(r.data[edge_middle], 255);
        let last = r.data.len() - 1;
        assert_eq!(r.data[last], 0);
    }
}
