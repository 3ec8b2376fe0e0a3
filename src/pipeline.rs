//! Parse → plan → execute: turning a source image and a [`Command`] into the
//! response body.
//!
//! The plan is made from the image header alone, so every limit is checked
//! before a pixel is decoded:
//!
//! | limit | value |
//! |---|---|
//! | source body | ≤ [`MAX_SOURCE_BYTES`] (20 MB) |
//! | source side | ≤ [`MAX_SOURCE_SIDE`] (30 000 px) |
//! | source pixels | ≤ [`MAX_SOURCE_PIXELS`] (200 Mpx, × frames) |
//! | every intermediate and output side | ≤ [`MAX_OUTPUT_SIDE`] (9 999 px) |

use crate::actions::format::resolve_quality;
use crate::actions::resize::ResizeOutcome;
use crate::codec::{self, ImageFormat, SourceInfo};
use crate::command::{Action, Command};
use crate::error::{ProcessError, Result};
use crate::raster::Raster;

/// Largest source body accepted, in bytes (20 MB).
pub const MAX_SOURCE_BYTES: usize = 20 * 1024 * 1024;
/// Largest source side, in px.
pub const MAX_SOURCE_SIDE: u32 = 30_000;
/// Largest source area, in px (× frames for animations).
pub const MAX_SOURCE_PIXELS: u64 = 200_000_000;
/// Largest side of any result or intermediate result, in px.
pub const MAX_OUTPUT_SIDE: u32 = 9_999;

/// What the request adds to the command: facts from its headers.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The request's `Accept` header, for `format,f_auto`.
    pub accept: Option<String>,
}

/// The result of processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The response body.
    pub body: Vec<u8>,
    /// The body's `Content-Type`.
    pub content_type: &'static str,
    /// The output image's size in px; `None` for JSON answers (`image/info`).
    pub size: Option<(u32, u32)>,
}

/// One step of a plan, with absolute sizes computed from the header.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Resize(ResizeOutcome),
}

/// A pipeline planned from the command and the source header.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub source: SourceInfo,
    steps: Vec<Step>,
    /// Output format.
    pub output: ImageFormat,
    /// Encoder quality, 1–100 (lossy outputs only).
    pub quality: u8,
    /// Output size in px.
    pub output_size: (u32, u32),
    /// `image/info`: answer with JSON instead of an image.
    pub info_only: bool,
}

impl Plan {
    /// Plans `command` for a source whose header says `source`.
    pub fn new(command: &Command, source: SourceInfo, ctx: &RequestContext) -> Result<Plan> {
        check_source_limits(&source)?;
        let output = command.format().map_or(source.format, |f| {
            f.resolve(source.format, ctx.accept.as_deref())
        });
        let info_only = command.actions.iter().any(|a| matches!(a, Action::Info));
        if info_only && command.actions.len() > 1 {
            return Err(ProcessError::invalid(
                "info: must be the only action of the command",
            ));
        }
        if !info_only && !output.can_encode() {
            return Err(ProcessError::new(
                crate::error::ErrorCode::UnsupportedFormat,
                format!(
                    "format,f_{} output is not supported by this build",
                    output.name()
                ),
            ));
        }
        let mut size = (source.width, source.height);
        let mut steps = Vec::new();
        for action in &command.actions {
            if let Action::Resize(spec) = action {
                let outcome = spec.outcome(size.0, size.1);
                let largest = outcome.largest_side(size);
                if largest > MAX_OUTPUT_SIDE {
                    return Err(ProcessError::too_large(format!(
                        "resize: the result would be {largest} px on a side, at most {MAX_OUTPUT_SIDE} are allowed"
                    )));
                }
                size = outcome.output_size(size);
                steps.push(Step::Resize(outcome));
            }
        }
        Ok(Plan {
            source,
            steps,
            output,
            quality: resolve_quality(command.quality(), source.quality),
            output_size: size,
            info_only,
        })
    }

    /// The smallest decoded size that still serves the first step at full quality:
    /// twice the first resize's scaled size (Lanczos needs headroom), or `None`
    /// when the full image is needed.
    fn min_decode_size(&self) -> Option<(u32, u32)> {
        match self.steps.first()? {
            Step::Resize(ResizeOutcome::Unchanged) => None,
            Step::Resize(
                ResizeOutcome::Scale { w, h }
                | ResizeOutcome::Fill { w, h, .. }
                | ResizeOutcome::Pad { w, h, .. },
            ) => Some((
                (w * 2).min(self.source.width),
                (h * 2).min(self.source.height),
            )),
        }
    }
}

/// Checks the source header against the limits of spec §1.3.
pub fn check_source_limits(source: &SourceInfo) -> Result<()> {
    let (w, h) = (source.width, source.height);
    if w == 0 || h == 0 {
        return Err(ProcessError::bad_image("the image has a zero side"));
    }
    if w > MAX_SOURCE_SIDE || h > MAX_SOURCE_SIDE {
        return Err(ProcessError::too_large(format!(
            "the image is {w}x{h} px, each side must be at most {MAX_SOURCE_SIDE} px"
        )));
    }
    let pixels = u64::from(w) * u64::from(h) * u64::from(source.frames.max(1));
    if pixels > MAX_SOURCE_PIXELS {
        return Err(ProcessError::too_large(format!(
            "the image has {pixels} px (width x height x frames), at most {MAX_SOURCE_PIXELS} are allowed"
        )));
    }
    Ok(())
}

/// Runs `command` on the source image `input`.
pub fn process(command: &Command, input: &[u8], ctx: &RequestContext) -> Result<Processed> {
    if input.len() > MAX_SOURCE_BYTES {
        return Err(ProcessError::too_large(format!(
            "the object is {} bytes, at most {MAX_SOURCE_BYTES} can be processed",
            input.len()
        )));
    }
    let source = codec::probe(input)?;
    let plan = Plan::new(command, source, ctx)?;
    if plan.info_only {
        return Ok(Processed {
            body: info_json(&source, input.len()).into_bytes(),
            content_type: "application/json",
            size: None,
        });
    }
    let mut raster = codec::decode(input, &source, plan.min_decode_size())?;
    for step in &plan.steps {
        raster = run_step(raster, step)?;
    }
    let body = codec::encode(&raster, plan.output, plan.quality)?;
    Ok(Processed {
        body,
        content_type: plan.output.mime(),
        size: Some(raster.size()),
    })
}

fn run_step(raster: Raster, step: &Step) -> Result<Raster> {
    match *step {
        Step::Resize(ResizeOutcome::Unchanged) => Ok(raster),
        Step::Resize(ResizeOutcome::Scale { w, h }) => raster.resize(w, h),
        Step::Resize(ResizeOutcome::Fill { crop_w, crop_h, .. }) => {
            raster.resize_fill(crop_w, crop_h)
        }
        Step::Resize(ResizeOutcome::Pad {
            w,
            h,
            canvas_w,
            canvas_h,
            color,
        }) => Ok(raster.resize(w, h)?.pad(canvas_w, canvas_h, color)),
    }
}

/// The `image/info` JSON for a source without EXIF (spec §4.19): every field an
/// object holding a string value. EXIF-derived fields come with the EXIF work.
pub fn info_json(source: &SourceInfo, size_bytes: usize) -> String {
    let field = |v: String| serde_json::json!({ "value": v });
    serde_json::json!({
        "format": field(source.format.info_name().to_string()),
        "imageHeight": field(source.height.to_string()),
        "imageSize": field(size_bytes.to_string()),
        "imageWidth": field(source.width.to_string()),
    })
    .to_string()
}

/// Describes `input` as `image/info` would (for `imgproc info`).
pub fn info(input: &[u8]) -> Result<String> {
    let source = codec::probe(input)?;
    Ok(info_json(&source, input.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Styles;
    use crate::error::ErrorCode;
    use crate::raster::PixelLayout;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let data = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        codec::encode(
            &Raster::new(w, h, PixelLayout::Rgb8, data).unwrap(),
            ImageFormat::Jpeg,
            90,
        )
        .unwrap()
    }

    fn run(cmd: &str, input: &[u8]) -> Result<Processed> {
        let c = Command::parse(cmd, &Styles::new())?;
        process(&c, input, &RequestContext::default())
    }

    fn decoded_size(p: &Processed) -> (u32, u32) {
        let img = image::load_from_memory(&p.body).unwrap();
        (img.width(), img.height())
    }

    #[test]
    fn resize_and_convert() {
        let src = jpeg(600, 400);
        let cases: &[(&str, &str, (u32, u32))] = &[
            ("image/resize,m_lfit,w_500,h_300", "image/jpeg", (450, 300)),
            ("image/resize,m_mfit,w_500,h_300", "image/jpeg", (500, 333)),
            (
                "image/resize,m_fill,w_100,h_100/format,f_png",
                "image/png",
                (100, 100),
            ),
            (
                "image/resize,m_pad,w_100,h_100/format,f_webp",
                "image/webp",
                (100, 100),
            ),
            (
                "image/resize,m_fixed,w_50,h_70/quality,Q_50",
                "image/jpeg",
                (50, 70),
            ),
            ("image/format,f_png", "image/png", (600, 400)),
        ];
        for (cmd, mime, size) in cases {
            let out = run(cmd, &src).unwrap();
            assert_eq!(out.content_type, *mime, "{cmd}");
            assert_eq!(out.size, Some(*size), "{cmd}");
            assert_eq!(decoded_size(&out), *size, "{cmd}");
        }
    }

    #[test]
    fn png_alpha_survives_to_webp_and_png() {
        let rgba = Raster::new(4, 4, PixelLayout::Rgba8, [10, 20, 30, 0].repeat(16)).unwrap();
        let png = codec::encode(&rgba, ImageFormat::Png, 0).unwrap();
        let out = run("image/resize,w_2/format,f_png", &png).unwrap();
        let img = image::load_from_memory(&out.body).unwrap();
        assert!(img.color().has_alpha());
        assert_eq!(img.to_rgba8().get_pixel(0, 0)[3], 0);
    }

    #[test]
    fn quality_changes_jpeg_size() {
        let src = jpeg(256, 256);
        let lo = run("image/quality,Q_20", &src).unwrap();
        let hi = run("image/quality,Q_90,c_any", &src).unwrap();
        assert!(lo.body.len() < hi.body.len());
        assert_eq!(codec::jpeg::estimate_quality(&lo.body), Some(20));
    }

    #[test]
    fn limits_come_from_the_header() {
        let src = SourceInfo {
            format: ImageFormat::Jpeg,
            width: 30_001,
            height: 10,
            frames: 1,
            quality: None,
            has_alpha: false,
        };
        assert_eq!(
            check_source_limits(&src).unwrap_err().code,
            ErrorCode::ImageTooLarge
        );
        let src = SourceInfo {
            width: 20_000,
            height: 20_000,
            ..src
        };
        assert_eq!(
            check_source_limits(&src).unwrap_err().code,
            ErrorCode::ImageTooLarge
        );
        let src = SourceInfo {
            width: 10_000,
            height: 20_000,
            ..src
        };
        assert!(check_source_limits(&src).is_ok());
        let c = Command::parse("image/resize,p_1000,limit_0", &Styles::new()).unwrap();
        let src = SourceInfo {
            width: 1000,
            height: 1000,
            ..src
        };
        let err = Plan::new(&c, src, &RequestContext::default()).unwrap_err();
        assert_eq!(err.code, ErrorCode::ImageTooLarge);
        assert!(err.message.contains("10000 px"), "{}", err.message);
    }

    #[test]
    fn shrink_on_load_is_planned_from_the_first_resize() {
        let c = Command::parse("image/resize,w_200", &Styles::new()).unwrap();
        let src = SourceInfo {
            format: ImageFormat::Jpeg,
            width: 4000,
            height: 3000,
            frames: 1,
            quality: Some(90),
            has_alpha: false,
        };
        let plan = Plan::new(&c, src, &RequestContext::default()).unwrap();
        assert_eq!(plan.output_size, (200, 150));
        assert_eq!(plan.min_decode_size(), Some((400, 300)));
    }

    #[test]
    fn bad_bodies_are_client_errors() {
        assert_eq!(
            run("image/resize,w_10", b"not an image").unwrap_err().code,
            ErrorCode::InvalidImage
        );
        let src = jpeg(64, 64);
        assert_eq!(
            run("image/resize,w_10", &src[..src.len() / 3])
                .unwrap_err()
                .code,
            ErrorCode::InvalidImage
        );
        // Every BOS output format is encoded now (the codecs branch).
        assert_eq!(
            run("image/format,f_gif", &src).unwrap().content_type,
            "image/gif"
        );
    }

    #[test]
    fn info_describes_the_source() {
        let src = jpeg(64, 48);
        let out = run("image/info", &src).unwrap();
        assert_eq!(out.content_type, "application/json");
        let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(v["format"]["value"], "JPEG");
        assert_eq!(v["imageWidth"]["value"], "64");
        assert_eq!(v["imageHeight"]["value"], "48");
        assert_eq!(v["imageSize"]["value"], src.len().to_string());
        assert!(run("image/info/resize,w_10", &src).is_err());
    }
}
