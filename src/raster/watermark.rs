//! Watermark pixels: text rendered with anti-aliased glyphs (`ab_glyph`),
//! outline, shadow and halo effects, the mixed image + text layout, placement
//! on the 3×3 grid or tiled, and alpha compositing.
//!
//! Overlays are straight-alpha RGBA [`Raster`]s. Coverage masks are `f32` in
//! 0–1, one per pixel. The filter (wasm32) and `imgproc` (native) make the
//! same bytes (the blur kernel is the one `blur` uses).

use super::{PixelLayout, Raster};
use crate::error::{ProcessError, Result};
use crate::limits::MAX_OUTPUT_SIDE;
use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

/// The built-in font's bytes: Open Sans Regular (Apache-2.0), from Debian's
/// `fonts-open-sans`; see `fonts/`.
pub static DEFAULT_FONT: &[u8] = include_bytes!("../../fonts/OpenSans-Regular.ttf");

/// `style_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FontStyle {
    Normal,
    Italic,
    Bold,
}

/// `effect_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEffect {
    /// A copy of the text in the shadow colour, offset by (`shx`, `shy`).
    HardShadow,
    /// A blurred halo (the text dilated by 2 px, then blurred) in the shadow colour.
    SoftOutline,
}

/// The text part of a watermark. Colours are straight RGBA (alpha = opacity).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextPart {
    pub(crate) text: String,
    /// Font name from `type_`; `None` is the built-in font.
    pub(crate) font: Option<String>,
    /// Font size in px, 1–1024.
    pub(crate) size: u32,
    pub(crate) color: [u8; 4],
    pub(crate) style: FontStyle,
    /// Outline width in px (0: none).
    pub(crate) stroke_width: u32,
    pub(crate) stroke_color: [u8; 4],
    pub(crate) effect: Option<TextEffect>,
    /// Shadow offset in px, each 0–10.
    pub(crate) shadow_offset: (u32, u32),
    pub(crate) shadow_color: [u8; 4],
    /// Blur of the outline / halo: radius and sigma, each 1–50.
    pub(crate) blur: (u32, u32),
}

/// `align_` of a mixed watermark: where the text sits against the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Top,
    Centre,
    Bottom,
}

/// Horizontal shear of synthetic italics (px right per px up).
const ITALIC_SLANT: f32 = 0.2;

/// A coverage mask: `w`×`h` values in 0–1.
#[derive(Debug, Clone)]
struct Mask {
    w: usize,
    h: usize,
    data: Vec<f32>,
}

impl Mask {
    fn new(w: usize, h: usize) -> Mask {
        Mask {
            w,
            h,
            data: vec![0.0; w * h],
        }
    }

    /// The mask moved right by `dx` and down by `dy` px (whole pixels).
    fn shifted(&self, dx: usize, dy: usize) -> Mask {
        let mut out = Mask::new(self.w, self.h);
        for y in dy..self.h {
            for x in dx..self.w {
                out.data[y * self.w + x] = self.data[(y - dy) * self.w + (x - dx)];
            }
        }
        out
    }

    /// Grows the shape by `r` px (Euclidean, anti-aliased edge): each pixel
    /// outside gets `clamp(r + 0.5 - distance, 0, 1)`.
    fn dilated(&self, r: f32) -> Mask {
        let d2 = distance_squared(self);
        let mut out = self.clone();
        for (o, d2) in out.data.iter_mut().zip(&d2) {
            let grown = (r + 0.5 - d2.sqrt()).clamp(0.0, 1.0);
            if grown > *o {
                *o = grown;
            }
        }
        out
    }

    /// Gaussian blur (standard deviation `sigma`, kernel cut at `radius`).
    fn blurred(&self, radius: u32, sigma: u32) -> Mask {
        let r = radius as i64;
        let kernel = super::adjust::gaussian_kernel(radius, f64::from(sigma));
        let (w, h) = (self.w as i64, self.h as i64);
        let mut tmp = vec![0f32; self.data.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, wgt) in kernel.iter().enumerate() {
                    let sx = x + k as i64 - r;
                    if (0..w).contains(&sx) {
                        acc += wgt * self.data[(y * w + sx) as usize];
                    }
                }
                tmp[(y * w + x) as usize] = acc;
            }
        }
        let mut out = Mask::new(self.w, self.h);
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (k, wgt) in kernel.iter().enumerate() {
                    let sy = y + k as i64 - r;
                    if (0..h).contains(&sy) {
                        acc += wgt * tmp[(sy * w + x) as usize];
                    }
                }
                out.data[(y * w + x) as usize] = acc.min(1.0);
            }
        }
        out
    }
}

/// Squared Euclidean distance from each pixel to the nearest pixel whose
/// coverage is at least one half (Felzenszwalb–Huttenlocher, two 1-D passes).
fn distance_squared(mask: &Mask) -> Vec<f32> {
    const INF: f32 = 1e20;
    let (w, h) = (mask.w, mask.h);
    let mut grid: Vec<f32> = mask
        .data
        .iter()
        .map(|&c| if c >= 0.5 { 0.0 } else { INF })
        .collect();
    let mut f = vec![0f32; w.max(h)];
    let mut d = vec![0f32; w.max(h)];
    for x in 0..w {
        for y in 0..h {
            f[y] = grid[y * w + x];
        }
        edt_1d(&f[..h], &mut d[..h]);
        for y in 0..h {
            grid[y * w + x] = d[y];
        }
    }
    for y in 0..h {
        f[..w].copy_from_slice(&grid[y * w..(y + 1) * w]);
        edt_1d(&f[..w], &mut d[..w]);
        grid[y * w..(y + 1) * w].copy_from_slice(&d[..w]);
    }
    grid
}

fn edt_1d(f: &[f32], d: &mut [f32]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let mut v = vec![0usize; n];
    let mut z = vec![0f32; n + 1];
    let mut k = 0usize;
    z[0] = f32::NEG_INFINITY;
    z[1] = f32::INFINITY;
    let sq = |i: usize| (i * i) as f32;
    for q in 1..n {
        loop {
            let p = v[k];
            let s = ((f[q] + sq(q)) - (f[p] + sq(p))) / (2.0 * q as f32 - 2.0 * p as f32);
            if s <= z[k] && k > 0 {
                k -= 1;
                continue;
            }
            if s <= z[k] {
                // k == 0: replace the first parabola.
                v[0] = q;
                z[0] = f32::NEG_INFINITY;
                z[1] = f32::INFINITY;
                break;
            }
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = f32::INFINITY;
            break;
        }
    }
    k = 0;
    for (q, out) in d.iter_mut().enumerate() {
        while z[k + 1] < q as f32 {
            k += 1;
        }
        let p = v[k];
        let diff = q as f32 - p as f32;
        *out = diff * diff + f[p];
    }
}

/// Paints `mask` in `color` (straight RGBA) over the `f32` RGBA canvas.
fn paint(canvas: &mut [f32], mask: &Mask, color: [u8; 4]) {
    let ca = f32::from(color[3]) / 255.0;
    let rgb = [
        f32::from(color[0]),
        f32::from(color[1]),
        f32::from(color[2]),
    ];
    for (px, &m) in canvas.chunks_exact_mut(4).zip(&mask.data) {
        let a = m * ca;
        if a <= 0.0 {
            continue;
        }
        let under = px[3] * (1.0 - a);
        let out_a = a + under;
        for c in 0..3 {
            px[c] = (rgb[c] * a + px[c] * under) / out_a;
        }
        px[3] = out_a;
    }
}

fn bad_font(error: impl std::fmt::Display) -> ProcessError {
    ProcessError::internal(format!("watermark: the font cannot be read: {error}"))
}

/// Renders one line of text with its effects on a transparent canvas just
/// large enough for it. `font` is a TrueType/OpenType font or collection
/// (its first face). Fails with `ImageTooLarge` past 9 999 px on a side.
pub fn render_text(part: &TextPart, font: &[u8]) -> Result<Raster> {
    let font = FontRef::try_from_slice_and_index(font, 0).map_err(bad_font)?;
    let units = font
        .units_per_em()
        .ok_or_else(|| bad_font("no units per em"))?;
    // `size` is the em size in px.
    let scale = PxScale::from(part.size as f32 * font.height_unscaled() / units);
    let scaled = font.as_scaled(scale);
    let (ascent, descent) = (scaled.ascent(), scaled.descent());
    let mut caret = 0f32;
    let mut glyphs = Vec::new();
    let mut previous = None;
    for c in part.text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(caret, 0.0)));
        caret += scaled.h_advance(id);
        previous = Some(id);
    }
    let text_w = caret.ceil().max(1.0);
    let text_h = (ascent - descent).ceil().max(1.0);
    let bold = if part.style == FontStyle::Bold {
        (part.size as f32 / 30.0).max(0.6)
    } else {
        0.0
    };
    let slant = if part.style == FontStyle::Italic {
        (text_h * ITALIC_SLANT).ceil()
    } else {
        0.0
    };
    let stroke = part.stroke_width as f32;
    let blur = if part.effect == Some(TextEffect::SoftOutline) || part.stroke_width > 0 {
        part.blur.0 as f32
    } else {
        0.0
    };
    let halo = if part.effect == Some(TextEffect::SoftOutline) {
        2.0 + stroke + blur
    } else {
        0.0
    };
    let pad = (bold + stroke + blur + halo + 1.0).ceil();
    let (shx, shy) = match part.effect {
        Some(TextEffect::HardShadow) => (part.shadow_offset.0 as f32, part.shadow_offset.1 as f32),
        _ => (0.0, 0.0),
    };
    let w = text_w + slant + 2.0 * pad + shx;
    let h = text_h + 2.0 * pad + shy;
    if w > MAX_OUTPUT_SIDE as f32 || h > MAX_OUTPUT_SIDE as f32 {
        return Err(ProcessError::too_large(format!(
            "watermark: the text would be {w}x{h} px, at most {MAX_OUTPUT_SIDE} are allowed on a side"
        )));
    }
    let (w, h) = (w as usize, h as usize);
    let baseline = pad + ascent;
    let mut text = Mask::new(w, h);
    for glyph in glyphs {
        let mut glyph = glyph;
        glyph.position = point(glyph.position.x + pad, baseline);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue; // a space, or a glyph without outline
        };
        let bounds = outlined.px_bounds();
        let (bx, by) = (bounds.min.x as i64, bounds.min.y as i64);
        outlined.draw(|gx, gy, c| {
            let (x, y) = (bx + i64::from(gx), by + i64::from(gy));
            if x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h {
                let v = &mut text.data[y as usize * w + x as usize];
                *v = (*v + c).min(1.0);
            }
        });
    }
    if slant > 0.0 {
        text = sheared(&text, baseline, ITALIC_SLANT);
    }
    if bold > 0.0 {
        text = text.dilated(bold);
    }
    let mut canvas = vec![0f32; w * h * 4];
    let body = if part.stroke_width > 0 {
        let mut outline = text.dilated(stroke);
        if part.blur.0 > 0 && (part.effect == Some(TextEffect::SoftOutline) || blur > 0.0) {
            outline = outline.blurred(part.blur.0, part.blur.1);
        }
        Some(outline)
    } else {
        None
    };
    let silhouette = match &body {
        Some(outline) => union(outline, &text),
        None => text.clone(),
    };
    match part.effect {
        Some(TextEffect::SoftOutline) => {
            let halo_mask = silhouette.dilated(2.0).blurred(part.blur.0, part.blur.1);
            paint(&mut canvas, &halo_mask, part.shadow_color);
        }
        Some(TextEffect::HardShadow) => {
            let shadow = silhouette.shifted(shx as usize, shy as usize);
            paint(&mut canvas, &shadow, part.shadow_color);
        }
        None => {}
    }
    if let Some(outline) = &body {
        paint(&mut canvas, outline, part.stroke_color);
    }
    paint(&mut canvas, &text, part.color);
    let data = canvas
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let v = if i % 4 == 3 { v * 255.0 } else { v };
            v.round().clamp(0.0, 255.0) as u8
        })
        .collect();
    Raster::new(w as u32, h as u32, PixelLayout::Rgba8, data)
}

fn union(a: &Mask, b: &Mask) -> Mask {
    let mut out = a.clone();
    for (o, v) in out.data.iter_mut().zip(&b.data) {
        *o = o.max(*v);
    }
    out
}

/// Shears rows right by `(baseline - y) × slant` px (linear interpolation).
fn sheared(mask: &Mask, baseline: f32, slant: f32) -> Mask {
    let mut out = Mask::new(mask.w, mask.h);
    for y in 0..mask.h {
        let shift = (baseline - y as f32 - 0.5) * slant;
        let whole = shift.floor();
        let frac = shift - whole;
        let whole = whole as i64;
        for x in 0..mask.w as i64 {
            let sample = |sx: i64| -> f32 {
                if (0..mask.w as i64).contains(&sx) {
                    mask.data[y * mask.w + sx as usize]
                } else {
                    0.0
                }
            };
            let sx = x - whole;
            out.data[y * mask.w + x as usize] = sample(sx) * (1.0 - frac) + sample(sx - 1) * frac;
        }
    }
    out
}

/// Lays out a mixed watermark: image and text side by side (`text_first`
/// swaps them), `interval` px apart, the shorter one aligned top, centre or
/// bottom against the taller.
pub fn mixed_layout(
    image: &Raster,
    text: &Raster,
    text_first: bool,
    align: Align,
    interval: u32,
) -> Result<Raster> {
    let w = image.width + interval + text.width;
    let h = image.height.max(text.height);
    if w > MAX_OUTPUT_SIDE {
        return Err(ProcessError::too_large(format!(
            "watermark: image and text side by side would be {w} px wide, at most {MAX_OUTPUT_SIDE} are allowed"
        )));
    }
    let mut canvas = Raster::filled(w, h, [0, 0, 0, 0]);
    let top = |part_h: u32| -> i64 {
        let room = i64::from(h - part_h);
        match align {
            Align::Top => 0,
            Align::Centre => room / 2,
            Align::Bottom => room,
        }
    };
    let (first, second) = if text_first {
        (text, image)
    } else {
        (image, text)
    };
    let first_left = 0;
    let second_left = i64::from(first.width + interval);
    copy_into(&mut canvas, first, first_left, top(first.height));
    copy_into(&mut canvas, second, second_left, top(second.height));
    Ok(canvas)
}

/// Copies an RGBA `part` into the RGBA `canvas` at (`left`, `top`).
fn copy_into(canvas: &mut Raster, part: &Raster, left: i64, top: i64) {
    let part = part.clone().with_alpha();
    let cw = canvas.width as usize;
    for y in 0..part.height as usize {
        let d = ((top as usize + y) * cw + left as usize) * 4;
        let s = y * part.width as usize * 4;
        let n = part.width as usize * 4;
        canvas.data[d..d + n].copy_from_slice(&part.data[s..s + n]);
    }
}

/// Where the watermark's top-left corner goes on a `base`-sized image, for
/// anchor `gravity` (1–9) and the offsets: `x`/`y` are margins inward from
/// the anchored edges (default 10) or shifts right/down on a centre line
/// (default 0); `voffset` moves the middle row down.
pub fn anchor_position(
    base: (u32, u32),
    mark: (u32, u32),
    gravity: u8,
    x: Option<i32>,
    y: Option<i32>,
    voffset: i32,
) -> (i64, i64) {
    let col = (gravity.clamp(1, 9) - 1) % 3;
    let row = (gravity.clamp(1, 9) - 1) / 3;
    let (bw, bh) = (i64::from(base.0), i64::from(base.1));
    let (mw, mh) = (i64::from(mark.0), i64::from(mark.1));
    let edge_x = i64::from(x.unwrap_or(10));
    let edge_y = i64::from(y.unwrap_or(10));
    let left = match col {
        0 => edge_x,
        1 => (bw - mw).div_euclid(2) + i64::from(x.unwrap_or(0)),
        _ => bw - mw - edge_x,
    };
    let top = match row {
        0 => edge_y,
        1 => (bh - mh).div_euclid(2) + i64::from(y.unwrap_or(0)) + i64::from(voffset),
        _ => bh - mh - edge_y,
    };
    (left, top)
}

/// Top-left corners of the tiles covering a `base`-sized image: a grid
/// starting at (0, 0), one tile every watermark width plus `gap_x` and
/// height plus `gap_y` (steps of at least 1 px).
pub fn tile_positions(
    base: (u32, u32),
    mark: (u32, u32),
    gap_x: i32,
    gap_y: i32,
) -> Vec<(i64, i64)> {
    let step_x = (i64::from(mark.0) + i64::from(gap_x)).max(1);
    let step_y = (i64::from(mark.1) + i64::from(gap_y)).max(1);
    let mut out = Vec::new();
    let mut top = 0;
    while top < i64::from(base.1) {
        let mut left = 0;
        while left < i64::from(base.0) {
            out.push((left, top));
            left += step_x;
        }
        top += step_y;
    }
    out
}

/// Composites the straight-alpha RGBA `mark` over `base` at (`left`, `top`)
/// with `opacity` percent (1–100); what falls outside the base is cut off.
pub fn composite(base: &mut Raster, mark: &Raster, left: i64, top: i64, opacity: u32) {
    let ch = base.layout.channels();
    let mch = mark.layout.channels();
    let (bw, bh) = (i64::from(base.width), i64::from(base.height));
    let x0 = left.max(0);
    let x1 = (left + i64::from(mark.width)).min(bw);
    let y0 = top.max(0);
    let y1 = (top + i64::from(mark.height)).min(bh);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let opacity = opacity.min(100);
    for y in y0..y1 {
        for x in x0..x1 {
            let m = (((y - top) * i64::from(mark.width) + (x - left)) as usize) * mch;
            let src = &mark.data[m..m + mch];
            let sa = if mch == 4 { u32::from(src[3]) } else { 255 };
            // alpha in 0–255 × 100
            let a = sa * opacity;
            if a == 0 {
                continue;
            }
            let b = ((y * bw + x) as usize) * ch;
            let dst = &mut base.data[b..b + ch];
            if ch == 3 {
                for c in 0..3 {
                    let v = u32::from(src[c]) * a + u32::from(dst[c]) * (25_500 - a);
                    dst[c] = ((v + 12_750) / 25_500) as u8;
                }
            } else {
                let da = u32::from(dst[3]) * 100;
                // out_a = a + da·(1 − a), all scaled by 25 500.
                let under = da * (25_500 - a) / 25_500;
                let out_a = a + under;
                for c in 0..3 {
                    let v = u32::from(src[c]) * a + u32::from(dst[c]) * under;
                    dst[c] = ((v + out_a / 2) / out_a) as u8;
                }
                dst[3] = ((out_a + 50) / 100).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> TextPart {
        TextPart {
            text: s.into(),
            font: None,
            size: 30,
            color: [0, 0, 0, 255],
            style: FontStyle::Normal,
            stroke_width: 0,
            stroke_color: [0, 0, 0, 255],
            effect: None,
            shadow_offset: (2, 2),
            shadow_color: [0, 0, 0, 255],
            blur: (3, 2),
        }
    }

    fn coverage(r: &Raster) -> u64 {
        r.data.chunks_exact(4).map(|p| u64::from(p[3])).sum()
    }

    #[test]
    fn text_has_antialiased_glyphs() {
        let r = render_text(&text("Hello"), DEFAULT_FONT).unwrap();
        assert!(r.width > 60 && r.width < 100, "{}", r.width);
        assert!(r.height > 30 && r.height < 50, "{}", r.height);
        let alphas: Vec<u8> = r.data.chunks_exact(4).map(|p| p[3]).collect();
        assert!(alphas.contains(&255), "solid stems");
        assert!(alphas.iter().any(|&a| a > 20 && a < 235), "soft edges");
        assert!(alphas.iter().filter(|&&a| a == 0).count() > alphas.len() / 2);
        let bigger = render_text(
            &TextPart {
                size: 60,
                ..text("Hello")
            },
            DEFAULT_FONT,
        )
        .unwrap();
        assert!(bigger.width > r.width * 3 / 2);
    }

    #[test]
    fn effects_add_ink() {
        let plain = coverage(&render_text(&text("Ab"), DEFAULT_FONT).unwrap());
        for (name, part) in [
            (
                "bold",
                TextPart {
                    style: FontStyle::Bold,
                    ..text("Ab")
                },
            ),
            (
                "stroke",
                TextPart {
                    stroke_width: 3,
                    stroke_color: [255, 0, 0, 255],
                    ..text("Ab")
                },
            ),
            (
                "shadow",
                TextPart {
                    effect: Some(TextEffect::HardShadow),
                    ..text("Ab")
                },
            ),
            (
                "halo",
                TextPart {
                    effect: Some(TextEffect::SoftOutline),
                    ..text("Ab")
                },
            ),
        ] {
            let r = render_text(&part, DEFAULT_FONT).unwrap();
            assert!(coverage(&r) > plain * 11 / 10, "{name}");
        }
        let italic = render_text(
            &TextPart {
                style: FontStyle::Italic,
                ..text("Ab")
            },
            DEFAULT_FONT,
        )
        .unwrap();
        let c = coverage(&italic);
        assert!(
            c > plain * 9 / 10 && c < plain * 11 / 10,
            "italic keeps the ink"
        );
        // A red outline around black text: red pixels exist.
        let r = render_text(
            &TextPart {
                stroke_width: 3,
                stroke_color: [255, 0, 0, 255],
                ..text("Ab")
            },
            DEFAULT_FONT,
        )
        .unwrap();
        assert!(r
            .data
            .chunks_exact(4)
            .any(|p| p[0] > 200 && p[1] < 50 && p[3] > 200));
    }

    #[test]
    fn huge_text_is_refused() {
        let err = render_text(
            &TextPart {
                size: 1024,
                ..text(&"W".repeat(150))
            },
            DEFAULT_FONT,
        )
        .unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::ImageTooLarge);
    }

    #[test]
    fn anchors_and_offsets() {
        let b = (100, 80);
        let m = (20, 10);
        let cases = [
            (1, (10, 10)),
            (2, (40, 10)),
            (3, (70, 10)),
            (4, (10, 35)),
            (5, (40, 35)),
            (6, (70, 35)),
            (7, (10, 60)),
            (8, (40, 60)),
            (9, (70, 60)),
        ];
        for (g, want) in cases {
            assert_eq!(anchor_position(b, m, g, None, None, 0), want, "g_{g}");
        }
        assert_eq!(anchor_position(b, m, 9, Some(0), Some(-5), 0), (80, 75));
        assert_eq!(anchor_position(b, m, 5, Some(3), Some(-4), 0), (43, 31));
        assert_eq!(anchor_position(b, m, 4, None, None, 7), (10, 42));
    }

    #[test]
    fn composite_blends_and_clips() {
        let mut base = Raster::filled(4, 4, [0, 0, 0, 255]);
        let mark = Raster::filled(2, 2, [200, 100, 50, 255]).with_alpha();
        composite(&mut base, &mark, 3, 3, 50);
        assert_eq!(
            &base.data[(3 * 4 + 3) * 3..(3 * 4 + 3) * 3 + 3],
            &[100, 50, 25]
        );
        assert_eq!(&base.data[0..3], &[0, 0, 0]);
        let mut rgba = Raster::filled(2, 2, [0, 0, 0, 0]);
        composite(&mut rgba, &mark, -1, -1, 100);
        assert_eq!(&rgba.data[0..4], &[200, 100, 50, 255]);
        assert_eq!(&rgba.data[4..8], &[0, 0, 0, 0]);
    }

    #[test]
    fn tiles_cover_the_image() {
        let t = tile_positions((100, 50), (30, 20), 10, 5);
        assert_eq!(t.len(), 3 * 2);
        assert_eq!(t[1], (40, 0));
        assert_eq!(t[3], (0, 25));
    }

    #[test]
    fn distance_transform_is_euclidean() {
        let mut m = Mask::new(7, 7);
        m.data[3 * 7 + 3] = 1.0;
        let d = distance_squared(&m);
        assert_eq!(d[3 * 7 + 3], 0.0);
        assert_eq!(d[3 * 7 + 6], 9.0);
        assert_eq!(d[0], 18.0);
    }
}
