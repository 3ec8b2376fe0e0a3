//! One module per action family: parsing of its parameters and the geometry or
//! encoding decisions it implies. Pixels are touched only in [`crate::raster`],
//! driven by [`crate::pipeline`].
//!
//! Planning turns each [`Action`] into an [`Op`] with absolute sizes computed
//! from the size the previous step produced, so the whole chain's sizes are
//! known (and checked) from the image header alone.

pub mod adjust;
pub mod blind_watermark;
pub mod crop;
pub mod format;
pub mod inspect;
pub mod resize;
pub mod rotate;
pub mod watermark;

use crate::command::Action;
use crate::raster::{rotated_size, Orientation};
use resize::ResizeOutcome;

/// A planned pixel operation with absolute sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// Resize (`resize`, `pxresize`).
    Resize(ResizeOutcome),
    /// Keep the `w`×`h` rectangle at (`x`, `y`) (`crop`, `indexcrop`).
    Crop { x: u32, y: u32, w: u32, h: u32 },
    /// Keep the disc of radius `r` px on a transparent `2r`×`2r` square.
    Circle { r: u32 },
    /// Round the corners with radius `r` px.
    RoundedCorners { r: u32 },
    /// Rotate clockwise by `degrees`, growing the canvas.
    Rotate { degrees: i32 },
    /// Turn upright by an EXIF orientation.
    Orient(Orientation),
    /// Gaussian blur: kernel radius and standard deviation in px (1–50).
    Blur { radius: u32, sigma: u32 },
    /// Unsharp mask: radius and standard deviation in px (1–50).
    Sharpen { radius: u32, sigma: u32 },
    /// Brightness −100–100.
    Bright(i32),
    /// Contrast −100–100.
    Contrast(i32),
    /// Convert to grey.
    Grayscale,
    /// Draw the plan's watermark number `job` (size unchanged).
    Watermark { job: usize },
    /// Embed the plan's blind watermark number `job` (size unchanged).
    BlindWatermark { job: usize },
}

impl Op {
    /// The size this op produces from a `src`-sized image.
    pub fn output_size(&self, src: (u32, u32)) -> (u32, u32) {
        match *self {
            Op::Resize(outcome) => outcome.output_size(src),
            Op::Crop { w, h, .. } => (w, h),
            Op::Circle { r } => {
                let side = (2 * r).clamp(1, src.0.min(src.1));
                (side, side)
            }
            Op::Rotate { degrees } => rotated_size(src, degrees),
            Op::Orient(o) => o.output_size(src),
            Op::RoundedCorners { .. }
            | Op::Blur { .. }
            | Op::Sharpen { .. }
            | Op::Bright(_)
            | Op::Contrast(_)
            | Op::Grayscale
            | Op::Watermark { .. }
            | Op::BlindWatermark { .. } => src,
        }
    }

    /// The largest side of any image this op makes, intermediates included.
    pub fn largest_side(&self, src: (u32, u32)) -> u32 {
        match *self {
            Op::Resize(outcome) => outcome.largest_side(src),
            _ => {
                let (w, h) = self.output_size(src);
                w.max(h)
            }
        }
    }

    /// Whether the op's result has its planned size whatever the size of its
    /// input: a resize that scales (to absolute sizes).
    pub fn scales_to_absolute_size(&self) -> bool {
        matches!(
            self,
            Op::Resize(
                ResizeOutcome::Scale { .. }
                    | ResizeOutcome::Fill { .. }
                    | ResizeOutcome::Pad { .. }
            )
        )
    }
}

/// The ops an action performs on a `size` image: none when it does not touch
/// pixels (format, quality, interlace, strip, auto-orient) or changes nothing
/// (an `indexcrop` past the last strip, `grayscale,0`).
pub fn plan_action(action: &Action, size: (u32, u32)) -> crate::error::Result<Vec<Op>> {
    Ok(match action {
        Action::Resize(spec) => {
            let outcome = spec.outcome(size.0, size.1);
            match spec.sharpen {
                Some((radius, sigma)) if outcome != ResizeOutcome::Unchanged => {
                    vec![Op::Resize(outcome), Op::Sharpen { radius, sigma }]
                }
                _ => vec![Op::Resize(outcome)],
            }
        }
        Action::Crop(spec) => vec![spec.plan(size)?],
        Action::Circle(r) => vec![crop::plan_circle(*r, size)],
        Action::RoundedCorners(r) => vec![Op::RoundedCorners { r: *r }],
        Action::IndexCrop(spec) => spec.plan(size).into_iter().collect(),
        Action::Rotate(degrees) => vec![Op::Rotate { degrees: *degrees }],
        Action::Adjust(op) => vec![*op],
        Action::Grayscale(on) => on.then_some(Op::Grayscale).into_iter().collect(),
        // Planned by the pipeline, which holds the watermark's objects.
        Action::Watermark(_)
        | Action::BlindWatermark(_)
        | Action::AutoOrient(_)
        | Action::IgnoreError(_)
        | Action::Format(_)
        | Action::Quality(_)
        | Action::Interlace(_)
        | Action::Strip
        | Action::Info
        | Action::Detect => Vec::new(),
    })
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
