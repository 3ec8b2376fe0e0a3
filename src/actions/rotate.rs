//! The rotation family: `rotate` (§4.7) and `auto-orient` (§4.8).
//!
//! | action | key | range | default | meaning |
//! |---|---|---|---|---|
//! | `rotate` | `a` | −360–360 degrees | required | clockwise angle |
//! | `auto-orient` | `o` (or bare `0`/`1`) | 0, 1 | required | 1: turn the pixels upright by the EXIF Orientation tag; 0: keep them as stored |
//!
//! CLONE DECISIONS: angles that are not multiples of 90° grow the canvas to
//! the rotated bounding box; the corners are transparent, and white when the
//! output has no alpha (JPEG, BMP). Auto-orientation is on by default (as
//! [OSS]): the image is turned upright when decoded, before the first action,
//! so `w`/`h` refer to what a viewer sees; `auto-orient,o_0` anywhere in the
//! command keeps the stored orientation (and the Orientation tag stays in the
//! kept EXIF). After turning, the output's EXIF Orientation is set to 1.

use super::{step, PixelAction, ScaleNeed, Step, StepCost};
use crate::budget::Work;
use crate::command::Params;
use crate::error::Result;
use crate::raster::{rotated_size, Orientation, Raster};
use std::sync::Arc;

/// `rotate,a_`: clockwise degrees, −360–360; the canvas grows to the
/// rotated bounding box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotate(pub i32);

/// Parses `rotate,a_<-360..360>`.
pub fn parse_rotate(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(Rotate(params.require_int("a", -360, 360)? as i32)))
}

/// Parses `auto-orient,o_<0|1>` (or the bare `auto-orient,1`).
pub fn parse_auto_orient(params: &mut Params<'_>) -> Result<bool> {
    params.take_bare_as("o")?;
    Ok(params.require_int("o", 0, 1)? == 1)
}

impl PixelAction for Rotate {
    fn name(&self) -> &'static str {
        "rotate"
    }
    fn plan(&self, _size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        Ok(vec![step(*self)])
    }
}

impl Rotate {
    fn is_quarter_turn(&self) -> bool {
        self.0.rem_euclid(90) == 0
    }
}

impl Step for Rotate {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        rotated_size(input, self.0)
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        Ok(raster.rotate(self.0, [255, 255, 255, 0]))
    }
    fn scale_need(&self) -> ScaleNeed {
        if self.is_quarter_turn() {
            ScaleNeed::Commutes {
                swaps_axes: self.0.rem_euclid(180) == 90,
            }
        } else {
            ScaleNeed::FullScale
        }
    }
    fn cost(&self) -> Option<StepCost> {
        let work = if self.is_quarter_turn() {
            Work::Turn
        } else {
            Work::Rotate
        };
        StepCost::once(work, "rotate")
    }
    fn turn(&self) -> Option<Orientation> {
        match self.0.rem_euclid(360) {
            90 => Some(Orientation::Rotate90),
            180 => Some(Orientation::Rotate180),
            270 => Some(Orientation::Rotate270),
            _ => None,
        }
    }
}
