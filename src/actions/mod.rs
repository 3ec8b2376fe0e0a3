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

#[cfg(test)]
mod new_action_tests {
    //! The README's Layout section shows how to add a pixel action: this is
    //! that example, `flip,d_h|v`, defined here and nowhere else, run by
    //! the real pipeline. Nothing outside this module knows about it.

    use super::{step, PixelAction, ScaleNeed, Step, StepCost};
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
        let png =
            codec::encode(&raster, ImageFormat::Png, &EncodeOptions::with_quality(90)).unwrap();
        let command = Command::of_actions(vec![Action::Pixel(flip)], "image/flip,d_h");
        let out = process(&command, &png, &RequestContext::default()).unwrap();
        let img = image::load_from_memory(&out.body).unwrap().to_rgb8();
        assert_eq!(img.get_pixel(0, 0).0, [255, 255, 255], "left is now white");
        assert_eq!(img.get_pixel(3, 1).0, [0, 0, 0], "right is now black");
        assert_eq!(command.actions[0].name(), "flip");
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{ImageFormat, SourceInfo};
    use crate::command::{Command, Styles};
    use crate::error::ErrorCode;
    use crate::pipeline::{Plan, RequestContext};

    fn source(w: u32, h: u32, orientation: u16) -> SourceInfo {
        SourceInfo {
            format: ImageFormat::Png,
            width: w,
            height: h,
            frames: 1,
            quality: None,
            has_alpha: false,
            orientation,
        }
    }

    fn plan(src: (u32, u32), cmd: &str) -> crate::error::Result<Plan> {
        let c = Command::parse(&format!("image/{cmd}"), &Styles::new())?;
        Plan::new(&c, source(src.0, src.1, 1), &RequestContext::default())
    }

    /// (source size, command, output size): every action and key, the spec's
    /// worked examples included.
    #[test]
    fn output_sizes_for_every_action() {
        let cases: &[((u32, u32), &str, (u32, u32))] = &[
            // §4.1 / §4.2 (examples: 600×400)
            ((600, 400), "resize,m_lfit,w_500,h_300", (450, 300)),
            ((600, 400), "resize,m_mfit,w_500,h_300", (500, 333)),
            (
                (600, 400),
                "pxresize,m_lfit,limit_0,w_200,h_300",
                (200, 133),
            ),
            // §4.3 crop (example: crop,x_10,y_10,w_200,h_200)
            ((600, 400), "crop,x_10,y_10,w_200,h_200", (200, 200)),
            ((600, 400), "crop,x_500,y_300,w_200,h_200", (100, 100)),
            ((600, 400), "crop,w_100", (100, 400)),
            ((600, 400), "crop,x_10", (590, 400)),
            ((600, 400), "crop,w_100,h_100,g_center", (100, 100)),
            ((600, 400), "crop,w_100,h_100,g_se,x_10,y_10", (100, 100)),
            ((600, 400), "crop,w_9000,h_9000", (600, 400)),
            // §4.4 circle
            ((600, 400), "circle,r_100", (200, 200)),
            ((600, 400), "circle,r_4000", (400, 400)),
            // §4.5 rounded-corners (example r_50)
            ((600, 400), "rounded-corners,r_50", (600, 400)),
            ((600, 400), "rounded-corners,r_4096", (600, 400)),
            // §4.6 indexcrop (examples)
            ((600, 400), "indexcrop,y_50,i_0", (600, 50)),
            ((600, 400), "indexcrop,x_100,i_1", (100, 400)),
            ((600, 400), "indexcrop,x_250,i_2", (100, 400)),
            ((600, 400), "indexcrop,x_250,i_3", (600, 400)),
            ((600, 400), "indexcrop,y_1000", (600, 400)),
            ((600, 400), "indexcrop,x_100", (100, 400)),
            // §4.7 rotate (example a_30)
            ((600, 400), "rotate,a_90", (400, 600)),
            ((600, 400), "rotate,a_-90", (400, 600)),
            ((600, 400), "rotate,a_180", (600, 400)),
            ((600, 400), "rotate,a_360", (600, 400)),
            ((600, 400), "rotate,a_30", (720, 647)),
            // §4.8–4.13: size unchanged
            ((600, 400), "auto-orient,o_1", (600, 400)),
            ((600, 400), "auto-orient,0", (600, 400)),
            ((600, 400), "blur,r_2,s_50", (600, 400)),
            ((600, 400), "bright,b_-10", (600, 400)),
            ((600, 400), "contrast,c_-20", (600, 400)),
            ((600, 400), "contrast,30", (600, 400)),
            ((600, 400), "sharpen,r_2,s_50", (600, 400)),
            ((600, 400), "grayscale", (600, 400)),
            ((600, 400), "grayscale,0", (600, 400)),
            // §4.14–4.18: encoding only
            ((600, 400), "quality,q_80", (600, 400)),
            ((600, 400), "quality,Q_75,c_ge", (600, 400)),
            ((600, 400), "format,f_png", (600, 400)),
            ((600, 400), "interlace,i_progressive", (600, 400)),
            ((600, 400), "interlace,1", (600, 400)),
            ((600, 400), "strip", (600, 400)),
            // §1.6 worked example 1
            (
                (600, 400),
                "resize,m_lfit,w_200,h_100/bright,b_-10/format,f_webp",
                (150, 100),
            ),
            // Chains: later actions see earlier results.
            ((600, 400), "resize,w_300/crop,x_100,w_100", (100, 200)),
            ((600, 400), "rotate,a_90/indexcrop,y_100,i_5", (400, 100)),
        ];
        for (src, cmd, want) in cases {
            let p = plan(*src, cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"));
            assert_eq!(p.output_size, *want, "{cmd} on {src:?}");
        }
    }

    #[test]
    fn orientation_is_applied_first_unless_turned_off() {
        let c = Command::parse("image/resize,w_100", &Styles::new()).unwrap();
        let p = Plan::new(&c, source(400, 200, 6), &RequestContext::default()).unwrap();
        assert_eq!(p.output_size, (100, 200), "upright 200x400, then w_100");
        let c = Command::parse("image/resize,w_100/auto-orient,o_0", &Styles::new()).unwrap();
        let p = Plan::new(&c, source(400, 200, 6), &RequestContext::default()).unwrap();
        assert_eq!(p.output_size, (100, 50));
    }

    #[test]
    fn bad_values_are_400_naming_action_and_key() {
        let cases: &[(&str, ErrorCode, &str)] = &[
            (
                "crop,x_700",
                ErrorCode::InvalidArgument,
                "crop: the corner (700, 0) is outside",
            ),
            (
                "crop,x_-1",
                ErrorCode::InvalidArgument,
                "crop: x_-1 is out of range",
            ),
            (
                "crop,w_0",
                ErrorCode::InvalidArgument,
                "crop: w_0 is out of range",
            ),
            (
                "crop,g_middle",
                ErrorCode::InvalidArgument,
                "crop: g_middle is not allowed",
            ),
            ("circle", ErrorCode::MissingArgument, "circle: needs r"),
            (
                "circle,r_0",
                ErrorCode::InvalidArgument,
                "circle: r_0 is out of range",
            ),
            (
                "rounded-corners,r_5000",
                ErrorCode::InvalidArgument,
                "rounded-corners: r_5000",
            ),
            (
                "indexcrop,i_1",
                ErrorCode::MissingArgument,
                "indexcrop: needs x or y",
            ),
            (
                "indexcrop,x_10,y_10",
                ErrorCode::InvalidArgument,
                "indexcrop: give x or y",
            ),
            (
                "indexcrop,x_10,i_70000",
                ErrorCode::InvalidArgument,
                "indexcrop: i_70000",
            ),
            ("rotate", ErrorCode::MissingArgument, "rotate: needs a"),
            (
                "rotate,a_361",
                ErrorCode::InvalidArgument,
                "rotate: a_361 is out of range",
            ),
            (
                "rotate,a_1.5",
                ErrorCode::InvalidArgument,
                "rotate: a_1.5 is not an integer",
            ),
            (
                "auto-orient,o_2",
                ErrorCode::InvalidArgument,
                "auto-orient: o_2",
            ),
            (
                "auto-orient",
                ErrorCode::MissingArgument,
                "auto-orient: needs o",
            ),
            ("blur,r_2", ErrorCode::MissingArgument, "blur: needs s"),
            (
                "blur,r_51,s_2",
                ErrorCode::InvalidArgument,
                "blur: r_51 is out of range",
            ),
            (
                "sharpen,s_2",
                ErrorCode::MissingArgument,
                "sharpen: needs r",
            ),
            (
                "bright,b_101",
                ErrorCode::InvalidArgument,
                "bright: b_101 is out of range",
            ),
            ("bright", ErrorCode::MissingArgument, "bright: needs b"),
            (
                "contrast,c_-101",
                ErrorCode::InvalidArgument,
                "contrast: c_-101",
            ),
            (
                "contrast,10,c_10",
                ErrorCode::InvalidArgument,
                "contrast: key 'c' is given more than once",
            ),
            (
                "grayscale,2",
                ErrorCode::InvalidArgument,
                "grayscale: g_2 is out of range",
            ),
            (
                "interlace,i_maybe",
                ErrorCode::InvalidArgument,
                "interlace: i_maybe is not allowed",
            ),
            (
                "strip,x_1",
                ErrorCode::InvalidArgument,
                "strip: unknown key 'x'",
            ),
            (
                "resize,10",
                ErrorCode::InvalidArgument,
                "resize: parameter '10' is not of the form",
            ),
            (
                "detect/resize,w_10",
                ErrorCode::InvalidArgument,
                "detect: must be the only action",
            ),
            (
                "resize,w_10/info",
                ErrorCode::InvalidArgument,
                "info: must be the only action",
            ),
            (
                "rotate,a_45/rotate,a_45/resize,w_4096,limit_0/resize,p_300,limit_0",
                ErrorCode::ImageTooLarge,
                "resize: the result would be",
            ),
        ];
        for (cmd, code, needle) in cases {
            let err = plan((600, 400), cmd).expect_err(cmd);
            assert_eq!(err.code, *code, "{cmd}: {err}");
            assert!(
                err.message.contains(needle),
                "{cmd}: '{}' lacks '{needle}'",
                err.message
            );
        }
    }

    #[test]
    fn rotation_growth_is_checked_against_the_output_limit() {
        let err = plan((9000, 9000), "rotate,a_45").unwrap_err();
        assert_eq!(err.code, ErrorCode::ImageTooLarge);
        assert!(err.message.starts_with("rotate:"), "{}", err.message);
        assert!(plan((9000, 9000), "rotate,a_90").is_ok());
    }
}
