//! `resize` (and its alias `pxresize`): image scaling, spec §4.1.
//!
//! | key | range | default | meaning |
//! |---|---|---|---|
//! | `m` | `lfit` `mfit` `fill` `pad` `fixed` | `lfit` | scaling mode |
//! | `w`, `h` | 1–4096 px | – | target box |
//! | `l`, `s` | 1–4096 px | – | target long / short side (used when neither `w` nor `h` is given) |
//! | `p` | 1–1000 % | – | scale both sides; multiplies `w`/`h`/`l`/`s` when combined with them |
//! | `wp`, `hp` | 1–1000 % | – | scale the width / height only (aspect ratio not kept) |
//! | `limit` | 0, 1 | 1 | 1: never enlarge; a resize that would enlarge leaves the image as it is |
//! | `color` | `RRGGBB` or `RRGGBBAA` hex | `FFFFFF` | canvas colour for `m_pad` |
//! | `align` | 0–100 % | 50 | `m_fill`: where the cut is taken along the longer axis (0 left/top, 50 centre, 100 right/bottom) |
//! | `radius`, `sigma` | 1–50 px | – | an unsharp mask applied after scaling (both needed) |
//!
//! Priority when several size keys are given (CLONE DECISION, after [TOS]):
//! `w`/`h` → `l`/`s` → `wp`/`hp` → `p` alone. Sizes are rounded half up, minimum 1 px.
//! `align`, `radius` and `sigma` have no BOS description (spec §4.1, UNCONFIRMED);
//! CLONE DECISIONS: `align` positions the `m_fill` cut, and `radius`/`sigma`
//! sharpen the scaled result like `sharpen,r_,s_` (the usual thumbnail
//! practice), only when the image was actually scaled.

use super::adjust::Sharpen;
use super::{step, PixelAction, ScaleNeed, Step, StepCost};
use crate::budget::Work;
use crate::command::Params;
use crate::error::{ProcessError, Result};
use crate::raster::Raster;
use std::sync::Arc;

/// Scaling mode (`m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeMode {
    /// Keep the aspect ratio; the largest image inside the box.
    Lfit,
    /// Keep the aspect ratio; the smallest image covering the box.
    Mfit,
    /// `mfit`, then cut the centred box out of it.
    Fill,
    /// `lfit`, then extend the canvas to the box, centred, filled with `color`.
    Pad,
    /// Exactly the box, aspect ratio ignored.
    Fixed,
}

/// A validated `resize` action.
#[derive(Debug, Clone, PartialEq)]
pub struct ResizeSpec {
    pub(crate) mode: ResizeMode,
    /// Target width in px, 1–4096.
    pub(crate) w: Option<u32>,
    /// Target height in px, 1–4096.
    pub(crate) h: Option<u32>,
    /// Target long side in px, 1–4096.
    pub(crate) l: Option<u32>,
    /// Target short side in px, 1–4096.
    pub(crate) s: Option<u32>,
    /// Percentage for both sides, 1–1000.
    pub(crate) p: Option<u32>,
    /// Percentage for the width only, 1–1000.
    pub(crate) wp: Option<u32>,
    /// Percentage for the height only, 1–1000.
    pub(crate) hp: Option<u32>,
    /// Never enlarge (default true).
    pub(crate) limit: bool,
    /// Canvas colour for `pad`, RGBA.
    pub(crate) color: [u8; 4],
    /// Position of the `fill` cut, 0–100 % (50 = centred).
    pub(crate) align: u8,
    /// Unsharp mask after scaling: (radius, sigma) in px, 1–50.
    pub(crate) sharpen: Option<(u32, u32)>,
}

/// What a resize does to an image of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeOutcome {
    /// Nothing: `limit_1` and the request would enlarge.
    Unchanged,
    /// Scale to exactly `w`×`h`.
    Scale { w: u32, h: u32 },
    /// Scale to `w`×`h`, then keep the centred `crop_w`×`crop_h` part.
    Fill {
        w: u32,
        h: u32,
        crop_w: u32,
        crop_h: u32,
        /// Position of the cut, 0–100 % along the axis that is cut.
        align: u8,
    },
    /// Scale to `w`×`h`, then centre on a `canvas_w`×`canvas_h` canvas of `color`.
    Pad {
        w: u32,
        h: u32,
        canvas_w: u32,
        canvas_h: u32,
        color: [u8; 4],
    },
}

impl ResizeOutcome {
    /// The size of the result for a source of `src` size.
    pub fn output_size(&self, src: (u32, u32)) -> (u32, u32) {
        match *self {
            ResizeOutcome::Unchanged => src,
            ResizeOutcome::Scale { w, h } => (w, h),
            ResizeOutcome::Fill { crop_w, crop_h, .. } => (crop_w, crop_h),
            ResizeOutcome::Pad {
                canvas_w, canvas_h, ..
            } => (canvas_w, canvas_h),
        }
    }

    /// The largest side of any image this step produces, intermediates included.
    pub fn largest_side(&self, src: (u32, u32)) -> u32 {
        match *self {
            ResizeOutcome::Unchanged => src.0.max(src.1),
            ResizeOutcome::Scale { w, h } | ResizeOutcome::Fill { w, h, .. } => w.max(h),
            ResizeOutcome::Pad {
                w,
                h,
                canvas_w,
                canvas_h,
                ..
            } => w.max(h).max(canvas_w).max(canvas_h),
        }
    }
}

impl Step for ResizeOutcome {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        ResizeOutcome::output_size(self, input)
    }
    fn largest_side(&self, input: (u32, u32)) -> u32 {
        ResizeOutcome::largest_side(self, input)
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        Ok(match *self {
            ResizeOutcome::Unchanged => raster,
            ResizeOutcome::Scale { w, h } => raster.resize(w, h)?,
            ResizeOutcome::Fill {
                crop_w,
                crop_h,
                align,
                ..
            } => raster.resize_fill(crop_w, crop_h, align)?,
            ResizeOutcome::Pad {
                w,
                h,
                canvas_w,
                canvas_h,
                color,
            } => raster.resize(w, h)?.pad(canvas_w, canvas_h, color),
        })
    }
    fn scale_need(&self) -> ScaleNeed {
        match *self {
            ResizeOutcome::Unchanged => ScaleNeed::Commutes { swaps_axes: false },
            ResizeOutcome::Scale { w, h }
            | ResizeOutcome::Fill { w, h, .. }
            | ResizeOutcome::Pad { w, h, .. } => ScaleNeed::ScalesTo { w, h },
        }
    }
    fn cost(&self) -> Option<StepCost> {
        match self {
            ResizeOutcome::Unchanged => None,
            _ => StepCost::once(Work::Resize, "resize"),
        }
    }
    fn plain_scale(&self) -> Option<(u32, u32)> {
        match *self {
            ResizeOutcome::Scale { w, h } => Some((w, h)),
            _ => None,
        }
    }
}

/// Parses `resize` and `pxresize`.
pub fn parse(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(ResizeSpec::parse(params)?))
}

impl PixelAction for ResizeSpec {
    /// `pxresize` is an alias: its messages from planning say `resize`.
    fn name(&self) -> &'static str {
        "resize"
    }

    /// The resize, and the unsharp mask of `radius`/`sigma` when the image
    /// was actually scaled.
    fn plan(&self, size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        let outcome = self.outcome(size.0, size.1);
        Ok(match self.sharpen {
            Some((radius, sigma)) if outcome != ResizeOutcome::Unchanged => {
                vec![step(outcome), step(Sharpen { radius, sigma })]
            }
            _ => vec![step(outcome)],
        })
    }
}

const SIDE: (i64, i64) = (1, 4096);
const PERCENT: (i64, i64) = (1, 1000);

impl ResizeSpec {
    pub fn parse(params: &mut Params<'_>) -> Result<ResizeSpec> {
        let name = params.action();
        let mode = params
            .take_enum(
                "m",
                &[
                    ("lfit", ResizeMode::Lfit),
                    ("mfit", ResizeMode::Mfit),
                    ("fill", ResizeMode::Fill),
                    ("pad", ResizeMode::Pad),
                    ("fixed", ResizeMode::Fixed),
                ],
            )?
            .unwrap_or(ResizeMode::Lfit);
        let side = |p: &mut Params<'_>, k: &str| -> Result<Option<u32>> {
            Ok(p.take_int(k, SIDE.0, SIDE.1)?.map(|v| v as u32))
        };
        let pct = |p: &mut Params<'_>, k: &str| -> Result<Option<u32>> {
            Ok(p.take_int(k, PERCENT.0, PERCENT.1)?.map(|v| v as u32))
        };
        let w = side(params, "w")?;
        let h = side(params, "h")?;
        let l = side(params, "l")?;
        let s = side(params, "s")?;
        let p = pct(params, "p")?;
        let wp = pct(params, "wp")?;
        let hp = pct(params, "hp")?;
        let limit = params.take_int("limit", 0, 1)?.unwrap_or(1) == 1;
        let align = params.take_int("align", 0, 100)?.unwrap_or(50) as u8;
        let sharpen = match (
            params.take_int("radius", 1, 50)?,
            params.take_int("sigma", 1, 50)?,
        ) {
            (Some(r), Some(s)) => Some((r as u32, s as u32)),
            (None, None) => None,
            _ => {
                return Err(ProcessError::missing(format!(
                    "{name}: radius and sigma go together"
                )))
            }
        };
        let color = match params.take("color") {
            None => [255, 255, 255, 255],
            Some(raw) => parse_hex_color(raw).ok_or_else(|| {
                ProcessError::invalid(format!(
                    "{name}: color_{raw} is not a colour (expected RRGGBB or RRGGBBAA hex)"
                ))
            })?,
        };
        let needs_box = matches!(mode, ResizeMode::Fill | ResizeMode::Pad | ResizeMode::Fixed);
        if needs_box && (w.is_none() || h.is_none()) {
            let m = match mode {
                ResizeMode::Fill => "fill",
                ResizeMode::Pad => "pad",
                _ => "fixed",
            };
            return Err(ProcessError::missing(format!(
                "{name}: m_{m} needs both w and h"
            )));
        }
        if [w, h, l, s, p, wp, hp].iter().all(Option::is_none) {
            return Err(ProcessError::missing(format!(
                "{name}: needs at least one of w, h, l, s, p, wp, hp"
            )));
        }
        Ok(ResizeSpec {
            mode,
            w,
            h,
            l,
            s,
            p,
            wp,
            hp,
            limit,
            color,
            align,
            sharpen,
        })
    }

    /// Decides what this resize does to a `src_w`×`src_h` image.
    pub fn outcome(&self, src_w: u32, src_h: u32) -> ResizeOutcome {
        let (sw, sh) = (f64::from(src_w.max(1)), f64::from(src_h.max(1)));
        let pct = self.p.map_or(1.0, |p| f64::from(p) / 100.0);

        if self.w.is_some() || self.h.is_some() {
            let bw = self.w.map(|v| f64::from(v) * pct);
            let bh = self.h.map(|v| f64::from(v) * pct);
            let sx = bw.map(|b| b / sw);
            let sy = bh.map(|b| b / sh);
            if self.mode == ResizeMode::Fixed {
                let (bw, bh) = (bw.unwrap_or(sw), bh.unwrap_or(sh));
                if self.limit && (bw > sw || bh > sh) {
                    return ResizeOutcome::Unchanged;
                }
                return ResizeOutcome::Scale {
                    w: round_side(bw),
                    h: round_side(bh),
                };
            }
            let covering = matches!(self.mode, ResizeMode::Mfit | ResizeMode::Fill);
            let scale = combine(sx, sy, covering);
            if self.limit && scale > 1.0 {
                return ResizeOutcome::Unchanged;
            }
            let (w, h) = (round_side(sw * scale), round_side(sh * scale));
            return match self.mode {
                ResizeMode::Fill => ResizeOutcome::Fill {
                    w,
                    h,
                    crop_w: round_side(bw.unwrap_or(sw * scale)).min(w),
                    crop_h: round_side(bh.unwrap_or(sh * scale)).min(h),
                    align: self.align,
                },
                ResizeMode::Pad => ResizeOutcome::Pad {
                    w,
                    h,
                    canvas_w: round_side(bw.unwrap_or(sw * scale)).max(w),
                    canvas_h: round_side(bh.unwrap_or(sh * scale)).max(h),
                    color: self.color,
                },
                _ => ResizeOutcome::Scale { w, h },
            };
        }

        if self.l.is_some() || self.s.is_some() {
            let (long, short) = (sw.max(sh), sw.min(sh));
            let sl = self.l.map(|l| f64::from(l) * pct / long);
            let ss = self.s.map(|s| f64::from(s) * pct / short);
            let scale = combine(sl, ss, self.mode == ResizeMode::Mfit);
            if self.limit && scale > 1.0 {
                return ResizeOutcome::Unchanged;
            }
            return ResizeOutcome::Scale {
                w: round_side(sw * scale),
                h: round_side(sh * scale),
            };
        }

        if self.wp.is_some() || self.hp.is_some() {
            let fx = self.wp.map_or(1.0, |v| f64::from(v) / 100.0);
            let fy = self.hp.map_or(1.0, |v| f64::from(v) / 100.0);
            if self.limit && (fx > 1.0 || fy > 1.0) {
                return ResizeOutcome::Unchanged;
            }
            return ResizeOutcome::Scale {
                w: round_side(sw * fx),
                h: round_side(sh * fy),
            };
        }

        if self.limit && pct > 1.0 {
            return ResizeOutcome::Unchanged;
        }
        ResizeOutcome::Scale {
            w: round_side(sw * pct),
            h: round_side(sh * pct),
        }
    }
}

/// Combines per-side scale factors: the smaller to fit inside, the larger to cover.
fn combine(a: Option<f64>, b: Option<f64>, covering: bool) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) if covering => a.max(b),
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 1.0,
    }
}

/// Rounds half up to whole pixels, at least 1 px. A tiny epsilon absorbs
/// binary-fraction noise, so 600 × (500/600) is 500 and not 499.
fn round_side(v: f64) -> u32 {
    let r = (v + 0.5 + 1e-9).floor();
    if r < 1.0 {
        1
    } else if r > f64::from(u32::MAX) {
        u32::MAX
    } else {
        r as u32
    }
}

/// Parses `RRGGBB` or `RRGGBBAA`.
pub fn parse_hex_color(raw: &str) -> Option<[u8; 4]> {
    if !(raw.len() == 6 || raw.len() == 8) || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&raw[i..i + 2], 16).ok();
    let alpha = if raw.len() == 8 { byte(6)? } else { 255 };
    Some([byte(0)?, byte(2)?, byte(4)?, alpha])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, Styles};

    fn spec(cmd: &str) -> ResizeSpec {
        let command = Command::parse(&format!("image/{cmd}"), &Styles::new()).unwrap();
        command.actions[0]
            .pixel::<ResizeSpec>()
            .unwrap_or_else(|| panic!("{:?}", command.actions[0]))
            .clone()
    }

    /// (source size, command, expected outcome size) — the spec's worked examples first.
    #[test]
    fn output_sizes() {
        let cases: &[((u32, u32), &str, (u32, u32))] = &[
            ((600, 400), "resize,m_lfit,w_500,h_300", (450, 300)),
            ((600, 400), "resize,m_mfit,w_500,h_300", (500, 333)),
            ((600, 400), "resize,m_lfit,w_200", (200, 133)),
            ((600, 400), "resize,m_lfit,h_100", (150, 100)),
            ((600, 400), "resize,w_300", (300, 200)),
            ((600, 400), "resize,m_fill,w_100,h_100", (100, 100)),
            ((600, 400), "resize,m_pad,w_100,h_100", (100, 100)),
            ((600, 400), "resize,m_fixed,w_100,h_300", (100, 300)),
            ((600, 400), "resize,p_50", (300, 200)),
            ((600, 400), "resize,w_100,h_100,p_200", (200, 133)),
            ((600, 400), "resize,l_300", (300, 200)),
            ((600, 400), "resize,s_100", (150, 100)),
            ((600, 400), "resize,wp_50", (300, 400)),
            ((600, 400), "resize,hp_25", (600, 100)),
            // limit_1 (default): no enlargement, the image stays as it is.
            ((600, 400), "resize,m_lfit,w_900,h_800", (600, 400)),
            ((600, 400), "resize,p_200", (600, 400)),
            // limit_0: the spec's geometry for a larger box.
            ((600, 400), "resize,m_lfit,w_900,h_800,limit_0", (900, 600)),
            ((600, 400), "resize,m_mfit,w_900,h_800,limit_0", (1200, 800)),
            // Rounding never reaches 0.
            ((4000, 1), "resize,w_10", (10, 1)),
        ];
        for (src, cmd, want) in cases {
            let got = spec(cmd).outcome(src.0, src.1).output_size(*src);
            assert_eq!(got, *want, "{cmd} on {src:?}");
        }
    }

    #[test]
    fn fill_and_pad_geometry() {
        assert_eq!(
            spec("resize,m_fill,w_100,h_100").outcome(600, 400),
            ResizeOutcome::Fill {
                w: 150,
                h: 100,
                crop_w: 100,
                crop_h: 100,
                align: 50,
            }
        );
        assert_eq!(
            spec("resize,m_pad,w_100,h_100,color_FF000080").outcome(600, 400),
            ResizeOutcome::Pad {
                w: 100,
                h: 67,
                canvas_w: 100,
                canvas_h: 100,
                color: [255, 0, 0, 128]
            }
        );
    }

    #[test]
    fn colours() {
        assert_eq!(parse_hex_color("00FF00"), Some([0, 255, 0, 255]));
        assert_eq!(parse_hex_color("00ff0010"), Some([0, 255, 0, 16]));
        assert_eq!(parse_hex_color("0F0"), None);
        assert_eq!(parse_hex_color("GG0000"), None);
    }

    #[test]
    fn align_radius_sigma() {
        let err = Command::parse("image/resize,w_10,radius_3", &Styles::new()).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert!(err.message.contains("radius and sigma go together"));
        assert_eq!(spec("resize,w_10,radius_3,sigma_2").sharpen, Some((3, 2)));
        assert_eq!(spec("resize,m_fill,w_10,h_10,align_0").align, 0);
        assert!(Command::parse("image/resize,w_10,align_101", &Styles::new()).is_err());
    }
}
