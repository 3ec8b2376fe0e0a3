//! The cropping family: `crop` (§4.3), `circle` (§4.4), `rounded-corners`
//! (§4.5) and `indexcrop` (§4.6).
//!
//! | action | key | range | default | meaning |
//! |---|---|---|---|---|
//! | `crop` | `x`, `y` | 0–30 000 px | 0 | top-left corner (offset from the `g` anchor) |
//! | `crop` | `w`, `h` | 1–30 000 px | rest of the image | size; clipped to the image |
//! | `crop` | `g` | `nw` `north` `ne` `west` `center` `east` `sw` `south` `se` | `nw` | anchor ([OSS] extension) |
//! | `circle` | `r` | 1–4096 px | required | radius; capped at half the shorter side |
//! | `rounded-corners` | `r` | 1–4096 px | required | corner radius; capped at half the shorter side |
//! | `indexcrop` | `x` or `y` | 1–4096 px | one required | strip width (`x`) or height (`y`) |
//! | `indexcrop` | `i` | 0–65 536 | 0 | which strip, 0-based |
//!
//! CLONE DECISIONS: a `crop` corner outside the image is a 400 (as [OSS]); the
//! rectangle is clipped to the image. `circle` returns the `2r`×`2r` square
//! around the disc with transparent corners (white when the output is JPEG).
//! `indexcrop` with both `x` and `y` is a 400; an `i` past the last strip
//! leaves the image unchanged (spec).

use super::{step, PixelAction, Step, StepCost};
use crate::budget::Work;
use crate::command::Params;
use crate::error::{ProcessError, Result};
use crate::raster::Raster;
use std::sync::Arc;

/// Largest coordinate accepted for `crop` (the largest source side).
const MAX_COORD: i64 = 30_000;

/// The anchor a `crop` offset is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gravity {
    NorthWest,
    North,
    NorthEast,
    West,
    Center,
    East,
    SouthWest,
    South,
    SouthEast,
}

/// A validated `crop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropSpec {
    pub(crate) x: u32,
    pub(crate) y: u32,
    pub(crate) w: Option<u32>,
    pub(crate) h: Option<u32>,
    pub(crate) gravity: Gravity,
}

impl CropSpec {
    pub fn parse(params: &mut Params<'_>) -> Result<CropSpec> {
        let coord = |p: &mut Params<'_>, k: &str| -> Result<Option<u32>> {
            Ok(p.take_int(k, 0, MAX_COORD)?.map(|v| v as u32))
        };
        let side = |p: &mut Params<'_>, k: &str| -> Result<Option<u32>> {
            Ok(p.take_int(k, 1, MAX_COORD)?.map(|v| v as u32))
        };
        let x = coord(params, "x")?.unwrap_or(0);
        let y = coord(params, "y")?.unwrap_or(0);
        let w = side(params, "w")?;
        let h = side(params, "h")?;
        let gravity = params
            .take_enum(
                "g",
                &[
                    ("nw", Gravity::NorthWest),
                    ("north", Gravity::North),
                    ("ne", Gravity::NorthEast),
                    ("west", Gravity::West),
                    ("center", Gravity::Center),
                    ("east", Gravity::East),
                    ("sw", Gravity::SouthWest),
                    ("south", Gravity::South),
                    ("se", Gravity::SouthEast),
                ],
            )?
            .unwrap_or(Gravity::NorthWest);
        Ok(CropSpec {
            x,
            y,
            w,
            h,
            gravity,
        })
    }

    /// The rectangle this crop keeps from a `size` image.
    pub fn rectangle(&self, size: (u32, u32)) -> Result<Crop> {
        let (sw, sh) = size;
        let want_w = self.w.unwrap_or(sw).min(sw);
        let want_h = self.h.unwrap_or(sh).min(sh);
        // The anchor's origin for a want_w × want_h box, then the offset.
        let (col, row) = match self.gravity {
            Gravity::NorthWest => (0, 0),
            Gravity::North => (1, 0),
            Gravity::NorthEast => (2, 0),
            Gravity::West => (0, 1),
            Gravity::Center => (1, 1),
            Gravity::East => (2, 1),
            Gravity::SouthWest => (0, 2),
            Gravity::South => (1, 2),
            Gravity::SouthEast => (2, 2),
        };
        let origin = |len: u32, want: u32, pos: u32, offset: u32| -> u64 {
            let base = match pos {
                0 => 0,
                1 => u64::from((len - want) / 2),
                _ => u64::from(len - want),
            };
            // Offsets move away from the anchor's edge: right/down from the
            // left/top, left/up from the right/bottom.
            if pos == 2 {
                base.saturating_sub(u64::from(offset))
            } else {
                base + u64::from(offset)
            }
        };
        let x = origin(sw, want_w, col, self.x);
        let y = origin(sh, want_h, row, self.y);
        if x >= u64::from(sw) || y >= u64::from(sh) {
            return Err(ProcessError::invalid(format!(
                "crop: the corner ({x}, {y}) is outside the {sw}x{sh} image"
            )));
        }
        let (x, y) = (x as u32, y as u32);
        Ok(Crop {
            x,
            y,
            w: want_w.min(sw - x),
            h: want_h.min(sh - y),
        })
    }
}

/// Parses `crop`.
pub fn parse_crop(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(CropSpec::parse(params)?))
}

/// Parses `circle,r_<1-4096>`.
pub fn parse_circle(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(Circle {
        r: params.require_int("r", 1, 4096)? as u32,
    }))
}

/// Parses `rounded-corners,r_<1-4096>`.
pub fn parse_rounded(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(RoundedCorners {
        r: params.require_int("r", 1, 4096)? as u32,
    }))
}

/// Parses `indexcrop`.
pub fn parse_indexcrop(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(IndexCropSpec::parse(params)?))
}

/// A planned crop: keep the `w`×`h` rectangle at (`x`, `y`), px.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub(crate) x: u32,
    pub(crate) y: u32,
    pub(crate) w: u32,
    pub(crate) h: u32,
}

/// `circle,r_`: keep the disc of radius `r` px on a transparent `2r`×`2r`
/// square (as parsed; planned, `r` is capped at half the shorter side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Circle {
    pub(crate) r: u32,
}

/// `rounded-corners,r_`: round the corners with radius `r` px.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundedCorners {
    pub(crate) r: u32,
}

impl PixelAction for CropSpec {
    fn name(&self) -> &'static str {
        "crop"
    }
    fn plan(&self, size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        Ok(vec![step(self.rectangle(size)?)])
    }
}

impl PixelAction for Circle {
    fn name(&self) -> &'static str {
        "circle"
    }
    fn plan(&self, size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        let r = self.r.min(size.0.min(size.1) / 2).max(1);
        Ok(vec![step(Circle { r })])
    }
}

impl PixelAction for RoundedCorners {
    fn name(&self) -> &'static str {
        "rounded-corners"
    }
    fn plan(&self, _size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        Ok(vec![step(*self)])
    }
}

impl PixelAction for IndexCropSpec {
    fn name(&self) -> &'static str {
        "indexcrop"
    }
    fn plan(&self, size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        Ok(self.strip(size).map(step).into_iter().collect())
    }
}

impl Step for Crop {
    fn output_size(&self, _input: (u32, u32)) -> (u32, u32) {
        (self.w, self.h)
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        raster.crop(self.x, self.y, self.w, self.h)
    }
    fn cost(&self) -> Option<StepCost> {
        StepCost::once(Work::Crop, "crop")
    }
    fn window(&self) -> Option<(u32, u32, u32, u32)> {
        Some((self.x, self.y, self.w, self.h))
    }
}

impl Step for Circle {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        let side = (2 * self.r).clamp(1, input.0.min(input.1));
        (side, side)
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        raster.circle(self.r)
    }
    fn cost(&self) -> Option<StepCost> {
        StepCost::once(Work::Mask, "the mask")
    }
}

impl Step for RoundedCorners {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        input
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        Ok(raster.rounded_corners(self.r))
    }
    fn cost(&self) -> Option<StepCost> {
        StepCost::once(Work::Mask, "the mask")
    }
}

/// Which axis `indexcrop` cuts along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexAxis {
    /// `x`: vertical strips of this width.
    X,
    /// `y`: horizontal strips of this height.
    Y,
}

/// A validated `indexcrop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexCropSpec {
    pub(crate) axis: IndexAxis,
    /// Strip width or height in px, 1–4096.
    pub(crate) step: u32,
    /// Strip index, 0-based, 0–65 536.
    pub(crate) index: u32,
}

impl IndexCropSpec {
    pub fn parse(params: &mut Params<'_>) -> Result<IndexCropSpec> {
        let x = params.take_int("x", 1, 4096)?;
        let y = params.take_int("y", 1, 4096)?;
        let index = params.take_int("i", 0, 65_536)?.unwrap_or(0) as u32;
        let (axis, step) = match (x, y) {
            (Some(x), None) => (IndexAxis::X, x as u32),
            (None, Some(y)) => (IndexAxis::Y, y as u32),
            (Some(_), Some(_)) => {
                return Err(ProcessError::invalid("indexcrop: give x or y, not both"))
            }
            (None, None) => return Err(ProcessError::missing("indexcrop: needs x or y")),
        };
        Ok(IndexCropSpec { axis, step, index })
    }

    /// The strip this keeps from a `size` image; `None` when `i` is past the
    /// last strip (the image is left as it is).
    pub fn strip(&self, size: (u32, u32)) -> Option<Crop> {
        let len = match self.axis {
            IndexAxis::X => size.0,
            IndexAxis::Y => size.1,
        };
        let step = self.step.min(len);
        let start = u64::from(step) * u64::from(self.index);
        if start >= u64::from(len) {
            return None;
        }
        let start = start as u32;
        let extent = step.min(len - start);
        Some(match self.axis {
            IndexAxis::X => Crop {
                x: start,
                y: 0,
                w: extent,
                h: size.1,
            },
            IndexAxis::Y => Crop {
                x: 0,
                y: start,
                w: size.0,
                h: extent,
            },
        })
    }
}
