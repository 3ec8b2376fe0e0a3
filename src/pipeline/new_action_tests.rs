//! The README's Layout section shows how to add a pixel action: this is
//! that example, `flip,d_h|v`, defined here and nowhere else, run by
//! the real pipeline. Nothing outside this module knows about it.

use crate::actions::{step, PixelAction, ScaleNeed, Step, StepCost};
use crate::budget::Work;
use crate::codec::{self, EncodeOptions, ImageFormat};
use crate::command::{Action, Command, Params};
use crate::error::{ProcessError, Result};
use crate::pipeline::{process, RequestContext};
use crate::raster::{Orientation, PixelLayout, Raster};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `flip,d_h` (mirror left–right) or `flip,d_v` (top–bottom).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flip(Orientation);

fn parse_flip(params: &mut Params<'_>) -> Result<Arc<dyn PixelAction>> {
    let d = params.take_enum("d", &[("h", Orientation::FlipH), ("v", Orientation::FlipV)])?;
    let d = d.ok_or_else(|| ProcessError::missing("flip: needs d"))?;
    Ok(Arc::new(Flip(d)))
}

impl PixelAction for Flip {
    fn name(&self) -> &'static str {
        "flip"
    }
    fn plan(&self, _size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>> {
        Ok(vec![step(*self)])
    }
}

impl Step for Flip {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        input
    }
    fn run(&self, raster: Raster, _overlays: &[Raster]) -> Result<Raster> {
        Ok(raster.orient(self.0))
    }
    fn scale_need(&self) -> ScaleNeed {
        ScaleNeed::Commutes { swaps_axes: false }
    }
    fn cost(&self) -> Option<StepCost> {
        StepCost::once(Work::Turn, "flip")
    }
    fn turn(&self) -> Option<Orientation> {
        Some(self.0)
    }
}

#[test]
fn a_new_pixel_action_runs_without_touching_the_pipeline() {
    // What the registry line would do: parse by name.
    let mut map = BTreeMap::new();
    map.insert("d", "h");
    let mut params = Params::for_test("flip", map);
    let flip = parse_flip(&mut params).unwrap();
    // A 4×2 PNG, left half black, right half white.
    let mut data = Vec::new();
    for _ in 0..2 {
        data.extend_from_slice(&[0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);
    }
    let raster = Raster::new(4, 2, PixelLayout::Rgb8, data).unwrap();
    let png = codec::encode(&raster, ImageFormat::Png, &EncodeOptions::with_quality(90)).unwrap();
    let command = Command::of_actions(vec![Action::Pixel(flip)], "image/flip,d_h");
    let out = process(&command, &png, &RequestContext::default()).unwrap();
    let img = image::load_from_memory(&out.body).unwrap().to_rgb8();
    assert_eq!(img.get_pixel(0, 0).0, [255, 255, 255], "left is now white");
    assert_eq!(img.get_pixel(3, 1).0, [0, 0, 0], "right is now black");
    assert_eq!(command.actions[0].name(), "flip");
}
