//! The actions of the language, one file per family. An action file owns
//! everything about its actions: parsing and validating the parameters, the
//! planning (what each does to the size, what it needs decoded, what it
//! costs) and the execution on pixels (through [`crate::raster`]).
//!
//! Two traits carry this, so the pipeline never names an action:
//!
//! * [`PixelAction`]: a parsed action. [`PixelAction::plan`] turns it into
//!   [`Step`]s with absolute sizes, computed from the size the previous step
//!   produced, so the whole chain's sizes are known (and checked) from the
//!   image header alone.
//! * [`Step`]: a planned pixel operation: its output size, how it relates to a
//!   reduced-scale decode, its cost, and [`Step::run`].
//!
//! Adding a pixel action is one new file (a type implementing both traits, or
//! a spec that plans into steps) and one line in [`PIXEL_ACTIONS`].
//! The actions that are not pixel operations (`format`, `quality`,
//! `interlace`, `strip`, `auto-orient`, `ignore-error`, `info`, `detect`) and
//! the two that need other objects (`watermark`, `blind-watermark`) are
//! [`crate::command::Action`]'s other variants.

pub(crate) mod adjust;
pub(crate) mod blind_watermark;
pub(crate) mod crop;
pub(crate) mod format;
pub(crate) mod inspect;
pub(crate) mod resize;
pub(crate) mod rotate;
pub mod watermark;

use crate::budget::Work;
use crate::command::Params;
use crate::error::Result;
use crate::raster::{Orientation, Raster};
use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

/// A validated pixel action, as parsed from the command.
pub(crate) trait PixelAction: Debug + Send + Sync + Any {
    /// The action's name, as written in commands and error messages.
    fn name(&self) -> &'static str;

    /// The steps this action performs on a `size` image (px); none when it
    /// changes nothing there (an `indexcrop` past the last strip,
    /// `grayscale,0`). Errors are 400s naming the action.
    fn plan(&self, size: (u32, u32)) -> Result<Vec<Arc<dyn Step>>>;
}

/// How a step relates to decoding the source at a reduced scale
/// (shrink-on-load, [`crate::codec::jpeg::shrink_numerator`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScaleNeed {
    /// The step gives the same pixels whether it runs before or after a
    /// downscale (grey, brightness, a quarter turn): the pipeline looks
    /// through it. `swaps_axes`: it exchanges width and height.
    Commutes { swaps_axes: bool },
    /// The step scales to this absolute size (px, as it sees the image):
    /// the decode only has to cover it, and every later step sees the
    /// planned pixels whatever scale the source was decoded at.
    ScalesTo { w: u32, h: u32 },
    /// The step addresses source pixels (a crop, a blur radius, an
    /// any-angle rotation): the image must be decoded at full scale.
    FullScale,
}

/// What a step costs, for [`crate::budget`]: the kind of work (its
/// calibrated rates) and how many passes over the larger of its input and
/// output it makes (1 for most; the kernel width for a blur).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepCost {
    pub(crate) work: Work,
    /// Names the step in a budget refusal ("resize would need about …").
    pub(crate) what: &'static str,
    /// Passes over the pixels, ≥ 1.
    pub(crate) passes: u64,
}

impl StepCost {
    /// One pass of `work`.
    pub(crate) fn once(work: Work, what: &'static str) -> Option<StepCost> {
        Some(StepCost {
            work,
            what,
            passes: 1,
        })
    }
}

/// A planned pixel operation with absolute sizes.
pub(crate) trait Step: Debug + Send + Sync {
    /// The size (px) this step produces from an `input`-sized image.
    fn output_size(&self, input: (u32, u32)) -> (u32, u32);

    /// The largest side (px) of any image this step makes, intermediates
    /// included (checked against [`crate::limits::MAX_OUTPUT_SIDE`]).
    fn largest_side(&self, input: (u32, u32)) -> u32 {
        let (w, h) = self.output_size(input);
        w.max(h)
    }

    /// Runs the step. `overlays` are the images the plan's overlays rendered
    /// (a watermark's image, a blind mark), by index; most steps ignore them.
    fn run(&self, raster: Raster, overlays: &[Raster]) -> Result<Raster>;

    /// How the step relates to a reduced-scale decode (default: it needs
    /// full scale).
    fn scale_need(&self) -> ScaleNeed {
        ScaleNeed::FullScale
    }

    /// What the step costs; `None` when it does nothing.
    fn cost(&self) -> Option<StepCost>;

    /// The rectangle (`x`, `y`, `w`, `h`, px) a crop keeps: as the first
    /// step, a JPEG source is then decoded only there
    /// ([`crate::codec::decode_window`]).
    fn window(&self) -> Option<(u32, u32, u32, u32)> {
        None
    }

    /// The turn or flip a step makes when that is all it does: as the last
    /// step of a baseline JPEG, the encoder reads the rows turned
    /// ([`crate::codec::jpeg::encode_turned`]) instead.
    fn turn(&self) -> Option<Orientation> {
        None
    }

    /// The size (px) the step scales any image to when scaling is all it
    /// does (a resize without a cut or a canvas): as the only step of a
    /// JPEG → WebP plan, the decoder's planes are then scaled and encoded
    /// without RGB ([`crate::codec::yuv`]).
    fn plain_scale(&self) -> Option<(u32, u32)> {
        None
    }
}

/// Whether `step` has its planned size whatever the size of its input (a
/// resize that scales to absolute sizes).
pub(crate) fn scales_to_absolute_size(step: &dyn Step) -> bool {
    matches!(step.scale_need(), ScaleNeed::ScalesTo { .. })
}

/// Parses one pixel action's parameters.
pub(crate) type ParsePixelAction = fn(&mut Params<'_>) -> Result<Arc<dyn PixelAction>>;

/// A pixel action of the language.
pub(crate) struct PixelActionEntry {
    /// The name in commands.
    pub(crate) name: &'static str,
    /// Whether it also takes the other vendors' bare-value form (`contrast,-20`).
    pub(crate) accepts_bare_value: bool,
    pub(crate) parse: ParsePixelAction,
}

/// Every pixel action, by name. Adding one is a new file and a line here.
pub(crate) static PIXEL_ACTIONS: &[PixelActionEntry] = &[
    entry("resize", false, resize::parse),
    entry("pxresize", false, resize::parse),
    entry("crop", false, crop::parse_crop),
    entry("circle", false, crop::parse_circle),
    entry("rounded-corners", false, crop::parse_rounded),
    entry("indexcrop", false, crop::parse_indexcrop),
    entry("rotate", false, rotate::parse_rotate),
    entry("blur", false, adjust::parse_blur),
    entry("sharpen", false, adjust::parse_sharpen),
    entry("bright", false, adjust::parse_bright),
    entry("contrast", true, adjust::parse_contrast),
    entry("grayscale", true, adjust::parse_grayscale),
];

const fn entry(
    name: &'static str,
    accepts_bare_value: bool,
    parse: ParsePixelAction,
) -> PixelActionEntry {
    PixelActionEntry {
        name,
        accepts_bare_value,
        parse,
    }
}

/// The pixel action called `name`, if there is one.
pub(crate) fn pixel_action(name: &str) -> Option<&'static PixelActionEntry> {
    PIXEL_ACTIONS.iter().find(|e| e.name == name)
}

/// One step in an `Arc`, for [`PixelAction::plan`].
pub(crate) fn step(step: impl Step + 'static) -> Arc<dyn Step> {
    Arc::new(step)
}
