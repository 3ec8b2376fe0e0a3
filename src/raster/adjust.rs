//! Pixel adjustments on a [`Raster`]: blur, sharpen, brightness, contrast and
//! grayscale. Colour channels change; alpha is left as it is (blur and sharpen
//! filter alpha too, so edges of transparent images stay consistent).

use super::{PixelLayout, Raster};

impl Raster {
    /// Gaussian blur with standard deviation `sigma` px, the kernel cut at
    /// `radius` px on each side (separable, edges clamped).
    pub(crate) fn gaussian_blur(&self, radius: u32, sigma: f64) -> Raster {
        let kernel = gaussian_kernel(radius, sigma);
        let ch = self.layout.channels();
        let (w, h) = (self.width as usize, self.height as usize);
        // Horizontal pass into f32, vertical pass back to u8.
        let mut tmp = vec![0f32; self.data.len()];
        let r = kernel.len() / 2;
        for y in 0..h {
            let row = &self.data[y * w * ch..(y + 1) * w * ch];
            let out = &mut tmp[y * w * ch..(y + 1) * w * ch];
            for x in 0..w {
                for c in 0..ch {
                    let mut acc = 0f32;
                    for (k, wgt) in kernel.iter().enumerate() {
                        let sx = (x + k).saturating_sub(r).min(w - 1);
                        acc += wgt * f32::from(row[sx * ch + c]);
                    }
                    out[x * ch + c] = acc;
                }
            }
        }
        let mut data = vec![0u8; self.data.len()];
        let stride = w * ch;
        // Vertical pass row by row, accumulating whole rows (cache friendly).
        let mut acc = vec![0f32; stride];
        for y in 0..h {
            acc.fill(0.0);
            for (k, wgt) in kernel.iter().enumerate() {
                let sy = (y + k).saturating_sub(r).min(h - 1);
                let src = &tmp[sy * stride..(sy + 1) * stride];
                for (a, s) in acc.iter_mut().zip(src) {
                    *a += wgt * s;
                }
            }
            for (d, a) in data[y * stride..(y + 1) * stride].iter_mut().zip(&acc) {
                *d = a.round().clamp(0.0, 255.0) as u8;
            }
        }
        Raster {
            data,
            ..self.clone_header()
        }
    }

    /// Unsharp mask: adds the difference from a Gaussian blur (`radius`,
    /// `sigma` px) back, with amount 1. Alpha is kept.
    pub(crate) fn sharpen(&self, radius: u32, sigma: f64) -> Raster {
        let blurred = self.gaussian_blur(radius, sigma);
        let ch = self.layout.channels();
        let mut data = self.data.clone();
        for (i, (d, b)) in data.iter_mut().zip(&blurred.data).enumerate() {
            if ch == 4 && i % 4 == 3 {
                continue;
            }
            let v = 2 * i32::from(*d) - i32::from(*b);
            *d = v.clamp(0, 255) as u8;
        }
        Raster {
            data,
            ..self.clone_header()
        }
    }

    /// Brightness: adds `amount` % of full scale (−100–100) to each colour channel.
    pub(crate) fn brighten(&self, amount: i32) -> Raster {
        let delta = (f64::from(amount) * 2.55).round() as i32;
        self.map_colour(|v| (i32::from(v) + delta).clamp(0, 255) as u8)
    }

    /// Contrast, −100–100: 0 unchanged, −100 flat grey, 100 almost a threshold.
    /// Values are stretched around mid-grey (128) by `(100 + c) / 100` for
    /// c ≤ 0 and `100 / (101 − c)` for c > 0.
    pub(crate) fn contrast(&self, amount: i32) -> Raster {
        let factor = if amount <= 0 {
            f64::from(100 + amount) / 100.0
        } else {
            100.0 / f64::from(101 - amount)
        };
        self.map_colour(|v| {
            ((f64::from(v) - 128.0) * factor + 128.0)
                .round()
                .clamp(0.0, 255.0) as u8
        })
    }

    /// Grayscale by Rec. 601 luma (`0.299 R + 0.587 G + 0.114 B`), kept as RGB(A).
    pub(crate) fn grayscale(&self) -> Raster {
        let ch = self.layout.channels();
        let mut data = self.data.clone();
        for px in data.chunks_exact_mut(ch) {
            let y =
                (299 * u32::from(px[0]) + 587 * u32::from(px[1]) + 114 * u32::from(px[2]) + 500)
                    / 1000;
            px[..3].fill(y as u8);
        }
        Raster {
            data,
            ..self.clone_header()
        }
    }

    /// Applies `f` to every colour channel through a lookup table.
    fn map_colour(&self, f: impl Fn(u8) -> u8) -> Raster {
        let lut: Vec<u8> = (0..=255u8).map(f).collect();
        let mut data = self.data.clone();
        match self.layout {
            PixelLayout::Rgb8 => data.iter_mut().for_each(|v| *v = lut[*v as usize]),
            PixelLayout::Rgba8 => data.chunks_exact_mut(4).for_each(|px| {
                for v in &mut px[..3] {
                    *v = lut[*v as usize];
                }
            }),
        }
        Raster {
            data,
            ..self.clone_header()
        }
    }

    /// A copy of the size and layout, with no pixels.
    fn clone_header(&self) -> Raster {
        Raster {
            width: self.width,
            height: self.height,
            layout: self.layout,
            data: Vec::new(),
        }
    }
}

/// A normalised 1-D Gaussian kernel of `2 × radius + 1` taps.
pub(super) fn gaussian_kernel(radius: u32, sigma: f64) -> Vec<f32> {
    let sigma = sigma.max(0.1);
    let r = radius as i64;
    let mut k: Vec<f64> = (-r..=r)
        .map(|i| (-(i as f64).powi(2) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k.into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge() -> Raster {
        // Left half black, right half white, 20×4.
        let data = (0..4)
            .flat_map(|_| (0..20).flat_map(|x| if x < 10 { [0u8; 3] } else { [255u8; 3] }))
            .collect();
        Raster::new(20, 4, PixelLayout::Rgb8, data).unwrap()
    }

    fn red_at(r: &Raster, x: usize) -> u8 {
        r.data[x * r.layout.channels()]
    }

    #[test]
    fn kernel_is_normalised_and_symmetric() {
        let k = gaussian_kernel(3, 1.5);
        assert_eq!(k.len(), 7);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(k[0], k[6]);
        assert!(k[3] > k[2]);
    }

    #[test]
    fn blur_softens_an_edge_and_keeps_flat_areas() {
        let b = edge().gaussian_blur(3, 2.0);
        assert_eq!(b.size(), (20, 4));
        assert_eq!(red_at(&b, 0), 0);
        assert_eq!(red_at(&b, 19), 255);
        assert!(red_at(&b, 9) > 0 && red_at(&b, 9) < 128);
        assert!(red_at(&b, 10) > 128 && red_at(&b, 10) < 255);
    }

    #[test]
    fn sharpen_overshoots_at_an_edge() {
        let grey = edge().contrast(-50); // 64 / 191 so overshoot is visible
        let s = grey.sharpen(3, 2.0);
        assert!(red_at(&s, 9) < red_at(&grey, 9));
        assert!(red_at(&s, 10) > red_at(&grey, 10));
        assert_eq!(red_at(&s, 0), red_at(&grey, 0));
    }

    #[test]
    fn brightness_and_contrast() {
        let img = Raster::new(2, 1, PixelLayout::Rgb8, vec![100, 100, 100, 200, 200, 200]).unwrap();
        assert_eq!(img.brighten(0), img);
        assert_eq!(red_at(&img.brighten(10), 0), 126);
        assert_eq!(red_at(&img.brighten(-100), 0), 0);
        assert_eq!(img.contrast(0), img);
        assert_eq!(red_at(&img.contrast(-100), 1), 128);
        let more = img.contrast(50);
        assert!(red_at(&more, 0) < 100 && red_at(&more, 1) > 200);
    }

    #[test]
    fn alpha_is_untouched_by_colour_changes() {
        let img = Raster::new(1, 1, PixelLayout::Rgba8, vec![100, 150, 200, 77]).unwrap();
        for out in [img.brighten(50), img.contrast(40), img.grayscale()] {
            assert_eq!(out.data[3], 77);
        }
        let g = img.grayscale();
        assert_eq!(&g.data[..3], &[141, 141, 141]);
    }
}
