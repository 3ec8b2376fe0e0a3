//! The adjustment family: `blur` (§4.9), `bright` (§4.10), `contrast`
//! (§4.11), `sharpen` (§4.12) and `grayscale` (§4.13). None changes the size.
//!
//! | action | key | range | default | meaning |
//! |---|---|---|---|---|
//! | `blur` | `r` | 1–50 px | required | kernel radius |
//! | `blur` | `s` | 1–50 px | required | Gaussian standard deviation |
//! | `sharpen` | `r`, `s` | 1–50 px | required | radius and standard deviation of the unsharp mask |
//! | `bright` | `b` | −100–100 | required | <0 darker, >0 brighter (% of full scale added) |
//! | `contrast` | `c` (or bare value) | −100–100 | required | <0 flatter, >0 stronger |
//! | `grayscale` | bare `0`/`1`, or none | 0, 1 | 1 | 1: convert to grey |
//!
//! CLONE DECISIONS (spec §4.9–4.13 leave them open): `blur` and `sharpen`
//! need both keys; `contrast` takes `c_<n>` or the bare `contrast,<n>` of
//! [OSS]/[OBS]; `grayscale` is bare or `grayscale,<0|1>` ([COS]).

use super::{step, PixelAction, ScaleNeed, Step, StepCost};
use crate::budget::Work;
use crate::command::Params;
use crate::error::Result;
use crate::raster::Raster;
use std::sync::Arc;

/// `blur`: a Gaussian blur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blur {
    /// Kernel radius in px, 1–50.
    pub(crate) radius: u32,
    /// Standard deviation in px, 1–50.
    pub(crate) sigma: u32,
}

/// `sharpen` (and `resize`'s `radius`/`sigma`): an unsharp mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sharpen {
    /// Radius in px, 1–50.
    pub(crate) radius: u32,
    /// Standard deviation in px, 1–50.
    pub(crate) sigma: u32,
}

/// `bright,b_`: −100–100, % of full scale added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bright(pub i32);

/// `contrast,c_`: −100–100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contrast(pub i32);

/// `grayscale`: convert to grey (`false` for `grayscale,0`, which does nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grayscale(pub bool);

/// Parses `blur,r_<1-50>,s_<1-50>`.
pub fn parse_blur(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    let radius = params.require_int("r", 1, 50)? as u32;
    let sigma = params.require_int("s", 1, 50)? as u32;
    Ok(Arc::new(Blur { radius, sigma }))
}

/// Parses `sharpen,r_<1-50>,s_<1-50>`.
pub fn parse_sharpen(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    let radius = params.require_int("r", 1, 50)? as u32;
    let sigma = params.require_int("s", 1, 50)? as u32;
    Ok(Arc::new(Sharpen { radius, sigma }))
}

/// Parses `bright,b_<-100..100>`.
pub fn parse_bright(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    Ok(Arc::new(Bright(params.require_int("b", -100, 100)? as i32)))
}

/// Parses `contrast,c_<-100..100>` or `contrast,<-100..100>`.
pub fn parse_contrast(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    params.take_bare_as("c")?;
    Ok(Arc::new(Contrast(
        params.require_int("c", -100, 100)? as i32
    )))
}

/// Parses `grayscale` or `grayscale,<0|1>`.
pub fn parse_grayscale(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    params.take_bare_as("g")?;
    Ok(Arc::new(Grayscale(
        params.take_int("g", 0, 1)?.unwrap_or(1) == 1,
    )))
}

/// A size-preserving adjustment is its own single step.
macro_rules! one_step_action {
    ($ty:ty, $name:literal) => {
        impl PixelAction for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn plan(&self, _size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
                Ok(vec![step(*self)])
            }
        }
    };
}

one_step_action!(Blur, "blur");
one_step_action!(Sharpen, "sharpen");
one_step_action!(Bright, "bright");
one_step_action!(Contrast, "contrast");

impl PixelAction for Grayscale {
    fn name(&self) -> &'static str {
        "grayscale"
    }
    fn plan(&self, _size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        Ok(if self.0 {
            vec![step(*self)]
        } else {
            Vec::new()
        })
    }
}

impl Step for Blur {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        input
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        Ok(raster.gaussian_blur(self.radius, f64::from(self.sigma)))
    }
    fn cost(&self) -> Option<StepCost> {
        Some(StepCost {
            work: Work::Blur,
            what: "blur",
            passes: u64::from(2 * self.radius + 1),
        })
    }
}

impl Step for Sharpen {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        input
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        Ok(raster.sharpen(self.radius, f64::from(self.sigma)))
    }
    fn cost(&self) -> Option<StepCost> {
        Some(StepCost {
            work: Work::Blur,
            what: "sharpen",
            passes: u64::from(2 * self.radius + 1),
        })
    }
}

/// Per-pixel colour changes commute with scaling.
macro_rules! colour_step {
    ($ty:ty, |$s:ident, $r:ident| $run:expr) => {
        impl Step for $ty {
            fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
                input
            }
            fn run(&self, $r: Raster, _overlays: &[Raster]) -> Result<Raster> {
                let $s = self;
                Ok($run)
            }
            fn scale_need(&self) -> ScaleNeed {
                ScaleNeed::Commutes { swaps_axes: false }
            }
            fn cost(&self) -> Option<StepCost> {
                StepCost::once(Work::Adjust, "the colour adjustment")
            }
        }
    };
}

colour_step!(Bright, |s, r| r.brighten(s.0));
colour_step!(Contrast, |s, r| r.contrast(s.0));
colour_step!(Grayscale, |_s, r| r.grayscale());
