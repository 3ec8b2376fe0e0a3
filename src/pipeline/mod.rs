//! Parse → plan → execute: turning a source image and a [`Command`] into the
//! response body.
//!
//! The plan is made from the image header alone, so every limit
//! ([`crate::limits`]) and the cost budget ([`crate::budget`]) are checked
//! before a pixel is decoded.

mod cost;
mod intake;
mod overlay;
mod planar;

use intake::EarlyWork;
pub use intake::{EarlyDecode, Intake, PUSH_BYTES};

use crate::actions::blind_watermark::{
    self, BlindEmbedJob, BlindMethod, BlindMode, MAX_MARK_BYTES,
};
use crate::actions::format::resolve_quality;
use crate::actions::inspect;
use crate::actions::watermark::{Resources, WatermarkJob};
use crate::actions::{scales_to_absolute_size, step, ScaleNeed, Step};
use crate::budget::{self, Budget, CostReport, Guard, Work};
use crate::codec::animation;
use crate::codec::metadata::{self, Metadata};
use crate::codec::{self, color, exif, EncodeOptions, ImageFormat, SourceInfo};
use crate::command::{Action, Command};
use crate::error::{ProcessError, Result};
use crate::raster::{Orientation, Raster};
use overlay::{Overlay, OverlayRules};
use std::sync::Arc;

use crate::limits::MAX_OUTPUT_FRAMES;
pub use crate::limits::{MAX_OUTPUT_SIDE, MAX_SOURCE_BYTES};

/// What the request adds to the command: facts from its headers and path.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The request's `Accept` header, for `format,f_auto`.
    pub accept: Option<String>,
    /// The object key (or file name), for `detect`'s `picSuffix`.
    pub object_key: Option<String>,
    /// The request's bucket, fonts and fetched objects, for `watermark`.
    pub resources: Resources,
    /// What processing may cost ([`Budget::DEFAULT`] unless the filter's
    /// configuration says otherwise).
    pub budget: Budget,
}

/// The result of processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The response body.
    pub body: Vec<u8>,
    /// The body's `Content-Type`.
    pub content_type: &'static str,
    /// The output image's size in px; `None` for JSON answers (`info`, `detect`).
    pub size: Option<(u32, u32)>,
}

/// What `watermark` allows for its image object.
const WATERMARK_IMAGE: OverlayRules = OverlayRules {
    action: "watermark",
    noun: "watermark",
    max_bytes: MAX_SOURCE_BYTES,
    with_alpha: true,
    work: Work::Watermark,
};

/// What `blind-watermark,mode_0` allows for its mark object.
const BLIND_MARK: OverlayRules = OverlayRules {
    action: "blind-watermark",
    noun: "mark",
    max_bytes: MAX_MARK_BYTES,
    with_alpha: false,
    work: Work::BlindWatermark,
};

/// A pipeline planned from the command and the source header.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(crate) source: SourceInfo,
    /// Applied right after decoding (auto-orientation).
    pub(crate) orientation: Orientation,
    /// Pixel steps in order, each with the size it produces.
    ops: Vec<(Arc<dyn Step>, (u32, u32))>,
    /// Output format.
    pub(crate) output: ImageFormat,
    /// When `f_auto` chose AVIF: what it chooses without AVIF, taken when the
    /// AVIF result would not fit the budget ([`Plan::settle_format`]).
    auto_fallback: Option<ImageFormat>,
    /// Encoder settings.
    pub(crate) encode: EncodeOptions,
    /// Output size in px.
    pub output_size: (u32, u32),
    /// Every frame of an animated source is processed and written (GIF and
    /// WebP output); otherwise only the first frame.
    pub(crate) animated: bool,
    /// The images other objects add (watermark images, blind marks), by
    /// the index their steps name ([`Step::overlay`]).
    overlays: Vec<Overlay>,
    /// `blind-watermark,method_extract` ends the command: the answer is the
    /// mark read from the result of the ops, not an image.
    pub(crate) extraction: Option<BlindMode>,
}

impl Plan {
    /// Plans `command` for a source whose header says `source`, checking every
    /// limit on the way.
    pub fn new(command: &Command, source: SourceInfo, ctx: &RequestContext) -> Result<Plan> {
        check_source_limits(&source)?;
        let accept = ctx.accept.as_deref();
        let still = source.frames <= 1;
        let output = command
            .format()
            .map_or(source.format, |f| f.resolve(source.format, still, accept));
        // f_auto's AVIF stands only if it fits the budget ([`Plan::settle_format`]).
        let auto_fallback = command
            .format()
            .map(|f| f.resolve_without_avif(source.format, accept))
            .filter(|fallback| *fallback != output);
        let orientation = if command.auto_orients() {
            Orientation::from_exif(source.orientation)
        } else {
            Orientation::Normal
        };
        let mut size = orientation.output_size((source.width, source.height));
        let mut ops: Vec<(Arc<dyn Step>, (u32, u32))> = Vec::new();
        let mut overlays = Vec::new();
        let mut extraction = None;
        let source_pixels = u64::from(source.width) * u64::from(source.height);
        let mut admit = |rules, object, own| -> Result<usize> {
            overlays.push(Overlay::admit(
                rules,
                object,
                &ctx.resources,
                source_pixels,
                own,
            )?);
            Ok(overlays.len() - 1)
        };
        for action in &command.actions {
            let steps = match action {
                Action::Pixel(pixel) => pixel.plan(size)?,
                Action::Watermark(spec) => {
                    let overlay = match &spec.image {
                        Some(part) => Some(admit(
                            WATERMARK_IMAGE,
                            part.object(&ctx.resources.bucket),
                            part.process.as_deref(),
                        )?),
                        None => None,
                    };
                    vec![step(WatermarkJob::plan(spec, &ctx.resources, overlay)?)]
                }
                Action::BlindWatermark(spec) => {
                    blind_watermark::check_source(&source, size, spec.method)?;
                    if spec.method == BlindMethod::Extract {
                        extraction = Some(spec.mode);
                        continue;
                    }
                    let overlay = match spec.object(&ctx.resources.bucket) {
                        Some(object) => Some(admit(BLIND_MARK, object, None)?),
                        None => None,
                    };
                    vec![step(BlindEmbedJob::plan(spec, overlay)?)]
                }
                _ => continue,
            };
            for step in steps {
                let largest = step.largest_side(size);
                if largest > MAX_OUTPUT_SIDE {
                    return Err(ProcessError::too_large(format!(
                        "{}: the result would be {largest} px on a side, at most {MAX_OUTPUT_SIDE} are allowed",
                        action.name()
                    )));
                }
                size = step.output_size(size);
                ops.push((step, size));
            }
        }
        if size.0.max(size.1) > MAX_OUTPUT_SIDE {
            return Err(ProcessError::too_large(format!(
                "the output would be {}x{} px, at most {MAX_OUTPUT_SIDE} are allowed on a side",
                size.0, size.1
            )));
        }
        let animated = source.frames > 1 && output.animates();
        if animated && source.frames > MAX_OUTPUT_FRAMES {
            return Err(ProcessError::too_large(format!(
                "the animated result would have {} frames, at most {MAX_OUTPUT_FRAMES} are allowed",
                source.frames
            )));
        }
        Ok(Plan {
            source,
            orientation,
            animated,
            ops,
            overlays,
            extraction,
            output,
            auto_fallback,
            encode: EncodeOptions {
                quality: resolve_quality(command.quality(), source.quality),
                progressive: command.progressive(),
            },
            output_size: size,
        })
    }

    /// Settles `f_auto`'s choice of AVIF: it stands when the whole plan with
    /// AVIF output fits `budget` (the estimate, from the header alone, so the
    /// same source, command, `Accept` and budget always give the same format);
    /// otherwise the plan takes the format `f_auto` picks without AVIF. Returns
    /// the cost plan of the format that stands.
    /// `input` holds at least the file's header; `body_len` is the whole
    /// body's length in bytes.
    pub(crate) fn settle_format(
        &mut self,
        input: &[u8],
        body_len: usize,
        budget: &Budget,
    ) -> cost::CostPlan {
        let stages = self.cost_plan(input);
        let Some(fallback) = self.auto_fallback.take() else {
            return stages;
        };
        if budget::estimate(body_len as u64, &stages.stages())
            .check(budget)
            .is_ok()
        {
            return stages;
        }
        self.output = fallback;
        self.cost_plan(input)
    }

    /// The smallest decoded size (as stored, before orientation) that serves
    /// the whole pipeline at full quality, or `None` when the full image is
    /// needed (shrink-on-load).
    ///
    /// Ops that commute with scaling (90° turns, grey, brightness, contrast, a
    /// resize that changes nothing) are looked through up to the first resize
    /// that scales. That resize works to absolute sizes, so everything after it
    /// (a crop, a pad, a second resize) sees exactly the planned pixels
    /// whatever scale the source was decoded at; the decoded image only has to
    /// cover its result (the JPEG codec adds headroom where its scaling is a
    /// plain box filter, [`codec::jpeg::shrink_numerator`]). An op that
    /// addresses source pixels before it (crop, blur radius, any-angle
    /// rotation …) needs the full image.
    fn min_decode_size(&self) -> Option<(u32, u32)> {
        if self.extraction.is_some() && self.ops.is_empty() {
            return extraction_decode_size((self.source.width, self.source.height));
        }
        let mut swapped = self.orientation.swaps_axes();
        for (step, _) in &self.ops {
            match step.scale_need() {
                ScaleNeed::ScalesTo { w, h } => {
                    let (w, h) = if swapped { (h, w) } else { (w, h) };
                    return Some((w.min(self.source.width), h.min(self.source.height)));
                }
                ScaleNeed::Commutes { swaps_axes } => swapped ^= swaps_axes,
                ScaleNeed::FullScale => return None,
            }
        }
        None
    }

    /// The source rectangle (`x`, `y`, `w`, `h`, as stored) that the plan
    /// keeps when its first op is a crop (`crop`, `indexcrop`): a JPEG source
    /// is then decoded only there ([`codec::decode_window`]) and the crop
    /// has nothing left to do. The crop addresses the auto-oriented image, so
    /// its rectangle is mapped back through the orientation. `None` when the
    /// first op is anything else (then [`Plan::min_decode_size`] may shrink
    /// the decode instead) or the crop keeps the whole image.
    fn source_window(&self) -> Option<(u32, u32, u32, u32)> {
        let (x, y, w, h) = self.ops.first()?.0.window()?;
        let stored = (self.source.width, self.source.height);
        let window = self.orientation.source_rect(stored, (x, y, w, h));
        (window != (0, 0, stored.0, stored.1)).then_some(window)
    }

    /// Whether [`Plan::decode`] takes a JPEG source at 1/8 scale from its DC
    /// coefficients (no crop window first, a resize to at most 1/16 of it).
    pub(crate) fn decodes_eighth(&self) -> bool {
        self.source_window().is_none() && self.eighth_serves(self.min_decode_size())
    }

    /// Whether what an [`Intake`] decoded early is what this plan decodes
    /// (the intake planned without the request's watermark objects).
    fn takes(&self, early: &EarlyDecode) -> bool {
        match &early.work {
            Some(EarlyWork::JpegEighth(_)) => self.decodes_eighth(),
            Some(EarlyWork::Png { shrink, .. }) => {
                self.decodes_whole_png() && self.png_shrink() == *shrink
            }
            None => true,
        }
    }

    /// Whether the plan decodes a still PNG source whole (PNG has no
    /// shrink-on-load and no window decode), which an [`Intake`] can do row
    /// by row as the body arrives.
    pub(crate) fn decodes_whole_png(&self) -> bool {
        self.source.format == ImageFormat::Png && !self.animated
    }

    /// The box shrink a still PNG source is decoded with
    /// ([`codec::png::shrink_factor`]): 1 when the plan needs it whole.
    pub(crate) fn png_shrink(&self) -> u32 {
        let min = match self.source_window() {
            Some(_) => None,
            None => self.min_decode_size(),
        };
        codec::png::shrink_factor(
            (self.source.width, self.source.height),
            min,
            self.source.has_alpha,
        )
    }

    /// Whether a JPEG source at 1/8 scale covers `min`, the smallest decoded
    /// size that serves the plan ([`Plan::min_decode_size`]).
    fn eighth_serves(&self, min: Option<(u32, u32)>) -> bool {
        self.source.format == ImageFormat::Jpeg
            && min.is_some_and(|m| {
                codec::jpeg::shrink_numerator((self.source.width, self.source.height), m) == 1
            })
    }

    /// Decodes `input` for the plan: only the first crop's window where the
    /// codec can, else whole at the smallest scale that serves the plan;
    /// `early` is what an [`Intake`] decoded while `input` arrived.
    /// Returns the raster and whether it is the window.
    fn decode(
        &self,
        input: &[u8],
        early: EarlyDecode,
        guard: Option<&mut Guard>,
    ) -> Result<(Raster, bool)> {
        if let Some(window) = self.source_window() {
            if let Some(raster) = codec::decode_window(input, &self.source, window) {
                return Ok((raster, true));
            }
        }
        let min = self.min_decode_size();
        if self.eighth_serves(min) {
            let eighth = match early.work {
                Some(EarlyWork::JpegEighth(raster)) => Some(raster),
                _ => codec::jpeg_dc::decode_eighth(input),
            };
            if let Some(raster) = eighth {
                return Ok((raster, false));
            }
            // The DC-only decoder declined the file: `jpeg-decoder` may keep
            // every coefficient of it, which the estimate did not count.
            if let Some(guard) = guard {
                guard.admit_more(&self.jpeg_fallback_stage(input), input.len() as u64)?;
            }
            let raster = codec::jpeg::decode_without_dc(input, &self.source, min)?;
            return Ok((raster, false));
        }
        if self.decodes_whole_png() {
            if let Some(EarlyWork::Png { raster, .. }) = early.work {
                return Ok((raster, false));
            }
            let raster = codec::png::decode_shrunk(input, self.png_shrink())?;
            return Ok((raster, false));
        }
        let raster = codec::decode(input, &self.source, min)?;
        Ok((raster, false))
    }

    /// The source metadata the output keeps (spec §4.18): EXIF (Orientation
    /// set to 1 once the pixels were turned upright), XMP and the ICC profile;
    /// under `strip` only the ICC profile. CMYK sources were converted to RGB,
    /// so their CMYK profile is dropped. When the output cannot carry a
    /// profile (GIF, BMP), the pixels are converted to sRGB instead.
    fn kept_metadata(&self, input: &[u8], strip: bool, raster: &mut Raster) -> Result<Metadata> {
        let mut meta = self.source_metadata(input, strip);
        if !self.output.carries_metadata() {
            if let Some(icc) = meta.icc.take() {
                color::to_srgb(raster, &icc)?;
            }
            return Ok(Metadata::default());
        }
        Ok(meta)
    }

    /// The source metadata an output that carries metadata keeps
    /// ([`Plan::kept_metadata`]).
    fn source_metadata(&self, input: &[u8], strip: bool) -> Metadata {
        let mut meta = metadata::extract(input, self.source.format);
        if strip {
            meta = meta.stripped();
        }
        if self.orientation != Orientation::Normal {
            meta.exif = meta.exif.map(|e| metadata::set_orientation(&e, 1));
        }
        if meta
            .icc
            .as_deref()
            .is_some_and(|p| p.get(16..20) != Some(b"RGB "))
        {
            meta.icc = None;
        }
        meta
    }

    /// The last op, when it only turns or flips the image and the output is a
    /// baseline JPEG: the encoder then reads the turned rows from the image
    /// before the turn ([`codec::jpeg::encode_turned`]) and the turned copy,
    /// as large as the image, is never made.
    fn final_turn(&self) -> Option<Orientation> {
        if self.output != ImageFormat::Jpeg || self.encode.progressive || self.extraction.is_some()
        {
            return None;
        }
        self.ops.last()?.0.turn()
    }

    /// Runs the plan on the decoded source, which may have been decoded at a
    /// reduced scale ([`Plan::min_decode_size`]): then the ops up to the
    /// first scaling resize run on fewer pixels than planned, and sizes are
    /// checked from that resize on. When `windowed`, the source is the first
    /// crop's window already ([`Plan::source_window`]) and that crop is skipped.
    fn execute(&self, decoded: Raster, windowed: bool, overlays: &[Raster]) -> Result<Raster> {
        self.execute_first(decoded, windowed, self.ops.len(), None, overlays)
    }

    /// Renders the plan's overlays, once, in the order their steps name
    /// them; with a guard, each is measured against its cost stage.
    fn render_overlays(
        &self,
        mut watch: Option<(&mut Guard, &cost::CostPlan)>,
    ) -> Result<Vec<Raster>> {
        let mut rendered = Vec::with_capacity(self.overlays.len());
        for (index, overlay) in self.overlays.iter().enumerate() {
            if let Some((guard, _)) = watch.as_mut() {
                guard.begin();
            }
            rendered.push(overlay.render()?);
            if let Some((guard, stages)) = watch.as_mut() {
                match stages.overlays.get(index) {
                    Some(stage) => guard.end(stage)?,
                    None => guard.check("an overlay")?,
                }
            }
        }
        Ok(rendered)
    }

    /// [`Plan::execute`] over the first `count` ops of the plan; with a
    /// guard and the plan's stages, each op is measured and checked against
    /// the budget.
    fn execute_first(
        &self,
        decoded: Raster,
        windowed: bool,
        count: usize,
        mut watch: Option<(&mut Guard, &cost::CostPlan)>,
        overlays: &[Raster],
    ) -> Result<Raster> {
        let first = &self.ops[..count];
        let (ops, planned) = match first.split_first() {
            Some(((step, size), rest)) if windowed && step.window().is_some() => (rest, *size),
            _ if windowed => return Err(ProcessError::internal("a window without a crop")),
            _ => (
                first,
                self.orientation
                    .output_size((self.source.width, self.source.height)),
            ),
        };
        // `orient` copies even when there is nothing to turn; skip it then.
        let mut raster = if self.orientation == Orientation::Normal {
            decoded
        } else {
            if let Some((guard, _)) = watch.as_mut() {
                guard.begin();
            }
            let turned = decoded.orient(self.orientation);
            if let Some((guard, stages)) = watch.as_mut() {
                if let Some(stage) = &stages.orient {
                    guard.end(stage)?;
                }
            }
            turned
        };
        // Ops skipped by a window decode are not measured.
        let skipped = first.len() - ops.len();
        let mut reduced = raster.size() != planned;
        if windowed && reduced {
            return Err(ProcessError::internal(format!(
                "decoded a {:?} window for a {planned:?} crop",
                raster.size()
            )));
        }
        for (index, (op, expected)) in ops.iter().enumerate() {
            if let Some((guard, _)) = watch.as_mut() {
                guard.begin();
            }
            raster = op.run(raster, overlays)?;
            if let Some((guard, stages)) = watch.as_mut() {
                match stages.ops.get(skipped + index) {
                    Some(Some(stage)) => guard.end(stage)?,
                    _ => guard.check("an operation")?,
                }
            }
            if reduced {
                if !scales_to_absolute_size(op.as_ref()) {
                    continue;
                }
                reduced = false;
            }
            if raster.size() != *expected {
                return Err(ProcessError::internal(format!(
                    "{op:?} made {:?}, the plan said {expected:?}",
                    raster.size()
                )));
            }
        }
        // An extraction without ops reads the mark from a reduced decode.
        if reduced && self.extraction.is_none() {
            return Err(ProcessError::internal(format!(
                "decoded at {:?} for a plan that needs {planned:?}",
                raster.size()
            )));
        }
        Ok(raster)
    }
}

/// Shorter side of the image a blind-watermark extraction reads, at least, in
/// px: a JPEG source is decoded at the smallest scale that keeps it (the mark
/// lives in averages over cells of 1/64 of the image, which a reduced decode
/// keeps), so a 12 MP photo is read at 1/4 scale.
const EXTRACTION_MIN_SIDE: u32 = 768;

/// The decode size an extraction needs from a `size` source: `None` (full)
/// when its shorter side is already at most [`EXTRACTION_MIN_SIDE`].
fn extraction_decode_size(size: (u32, u32)) -> Option<(u32, u32)> {
    let short = size.0.min(size.1);
    if short <= EXTRACTION_MIN_SIDE {
        return None;
    }
    let scale = |side: u32| {
        (u64::from(side) * u64::from(EXTRACTION_MIN_SIDE)).div_ceil(u64::from(short)) as u32
    };
    Some((scale(size.0), scale(size.1)))
}

/// Checks the source header against the limits of spec §1.3
/// ([`crate::limits::check_source`]).
pub(crate) fn check_source_limits(source: &SourceInfo) -> Result<()> {
    crate::limits::check_source(source.width, source.height, source.frames)
}

/// Runs `command` on the source image `input`, within `ctx.budget`.
pub fn process(command: &Command, input: &[u8], ctx: &RequestContext) -> Result<Processed> {
    process_metered(command, input, ctx).0
}

/// [`process`], and what it cost next to its estimate.
pub fn process_metered(
    command: &Command,
    input: &[u8],
    ctx: &RequestContext,
) -> (Result<Processed>, CostReport) {
    process_received(command, input, EarlyDecode::default(), ctx, &mut || None)
}

/// [`process_metered`] of a body an [`Intake`] received, with what it
/// decoded while the body arrived. When `input` is only the file's header
/// (see [`EarlyDecode`]) and the plan turns out to need more than what was
/// decoded, `whole_body` is asked for the body (the glue reads it again from
/// the host).
pub fn process_received(
    command: &Command,
    input: &[u8],
    early: EarlyDecode,
    ctx: &RequestContext,
    whole_body: &mut dyn FnMut() -> Option<Vec<u8>>,
) -> (Result<Processed>, CostReport) {
    let mut guard = Guard::start(ctx.budget);
    let result = run(command, input, early, ctx, &mut guard, whole_body);
    (result, guard.finish())
}

fn run(
    command: &Command,
    input: &[u8],
    early: EarlyDecode,
    ctx: &RequestContext,
    guard: &mut Guard,
    whole_body: &mut dyn FnMut() -> Option<Vec<u8>>,
) -> Result<Processed> {
    let body_len = early.body_len.unwrap_or(input.len());
    if body_len > MAX_SOURCE_BYTES {
        return Err(ProcessError::too_large(format!(
            "the object is {body_len} bytes, at most {MAX_SOURCE_BYTES} can be processed",
        )));
    }
    if let Some(inspection) = command.inspection() {
        let body = match inspection {
            Action::Detect => {
                let source = codec::probe(input).ok();
                inspect::detect_json(input, ctx.object_key.as_deref(), source.as_ref())
            }
            _ => info(input)?,
        };
        return Ok(Processed {
            body: body.into_bytes(),
            content_type: "application/json",
            size: None,
        });
    }
    let source = codec::probe(input)?;
    let mut plan = Plan::new(command, source, ctx)?;
    if early.has_header_only() && !plan.takes(&early) {
        // The intake planned without this request's objects (watermarks)
        // and took the thumbnail path; this plan needs the whole file.
        let whole = whole_body().ok_or_else(|| {
            ProcessError::internal("the response body could not be read again to process it")
        })?;
        return run(
            command,
            &whole,
            EarlyDecode::default(),
            ctx,
            guard,
            &mut || None,
        );
    }
    let stages = plan.settle_format(input, body_len, &ctx.budget);
    guard.admit(budget::estimate(body_len as u64, &stages.stages()))?;
    let overlays = plan.render_overlays(Some((&mut *guard, &stages)))?;
    if plan.animated {
        guard.begin();
        let mut animation = animation::decode_animation(input, &source)?;
        guard.end(&stages.decode)?;
        for frame in &mut animation.frames {
            let raster = std::mem::replace(&mut frame.raster, Raster::filled(1, 1, [0; 4]));
            frame.raster = plan.execute(raster, false, &overlays)?;
            guard.check("a frame")?;
        }
        guard.begin();
        let body = animation::encode_animation(&animation, plan.output, plan.encode.quality)?;
        guard.end(&stages.encode)?;
        return Ok(Processed {
            body,
            content_type: plan.output.mime(),
            size: Some(plan.output_size),
        });
    }
    if let Some(size) = plan.planar_webp_size(&early) {
        let strip = command.strips_metadata();
        if let Some(done) = plan.run_planar_webp(input, size, strip, guard, &stages)? {
            return Ok(done);
        }
    }
    guard.begin();
    let (decoded, windowed) = plan.decode(input, early, Some(&mut *guard))?;
    guard.end(&stages.decode)?;
    // A final quarter turn is left to the JPEG encoder (no turned copy).
    let turn = plan.final_turn();
    let count = plan.ops.len() - usize::from(turn.is_some());
    let mut raster = plan.execute_first(
        decoded,
        windowed,
        count,
        Some((&mut *guard, &stages)),
        &overlays,
    )?;
    guard.begin();
    if let Some(mode) = plan.extraction {
        let (body, content_type, size) = blind_watermark::extract(mode, &raster)?;
        guard.end(&stages.encode)?;
        return Ok(Processed {
            body,
            content_type,
            size,
        });
    }
    let meta = plan.kept_metadata(input, command.strips_metadata(), &mut raster)?;
    let (body, size) = match turn {
        Some(turn) => {
            let size = turn.output_size(raster.size());
            match codec::jpeg::encode_turned(&raster, turn, plan.encode.quality) {
                Some(body) => (body?, size),
                // Not 8-bit RGB: turn, then encode as usual.
                None => {
                    let turned = plan.ops[count].0.run(raster, &overlays)?;
                    (codec::encode(&turned, plan.output, &plan.encode)?, size)
                }
            }
        }
        None => (
            codec::encode(&raster, plan.output, &plan.encode)?,
            raster.size(),
        ),
    };
    let body = if meta.is_empty() {
        body
    } else {
        metadata::attach(body, plan.output, &meta)?
    };
    guard.end(&stages.encode)?;
    Ok(Processed {
        body,
        content_type: plan.output.mime(),
        size: Some(size),
    })
}

/// Describes `input` as `image/info` does (also `imgproc info`).
pub fn info(input: &[u8]) -> Result<String> {
    let source = codec::probe(input)?;
    let fields = exif::read(input, source.format)
        .map(|e| exif::info_fields(&e))
        .unwrap_or_default();
    Ok(inspect::info_json(&source, input.len(), &fields))
}

#[cfg(test)]
mod blind_watermark_tests;
#[cfg(test)]
mod new_action_tests;
#[cfg(test)]
mod plan_size_tests;
#[cfg(test)]
mod watermark_tests;

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
            &EncodeOptions {
                quality: 90,
                progressive: false,
            },
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
    fn a_final_turn_is_encoded_without_a_turned_copy_and_the_same_bytes() {
        let src = jpeg(61, 37);
        for cmd in [
            "image/rotate,a_90",
            "image/rotate,a_270/quality,Q_80",
            "image/resize,w_40/rotate,a_180",
            "image/crop,w_30,h_20/rotate,a_-90",
        ] {
            let c = Command::parse(cmd, &Styles::new()).unwrap();
            let source = codec::probe(&src).unwrap();
            let plan = Plan::new(&c, source, &RequestContext::default()).unwrap();
            assert!(plan.final_turn().is_some(), "{cmd}");
            let (decoded, windowed) = plan.decode(&src, EarlyDecode::default(), None).unwrap();
            let reference = codec::encode(
                &plan.execute(decoded, windowed, &[]).unwrap(),
                plan.output,
                &plan.encode,
            );
            let processed = run(cmd, &src).unwrap();
            assert!(processed.body == reference.unwrap(), "{cmd}: bytes differ");
            assert_eq!(Some(decoded_size(&processed)), processed.size, "{cmd}");
        }
        // Not for progressive output, other formats or other angles.
        for cmd in [
            "image/rotate,a_90/interlace,1",
            "image/rotate,a_90/format,f_png",
            "image/rotate,a_45",
        ] {
            let c = Command::parse(cmd, &Styles::new()).unwrap();
            let plan =
                Plan::new(&c, codec::probe(&src).unwrap(), &RequestContext::default()).unwrap();
            assert!(plan.final_turn().is_none(), "{cmd}");
        }
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

    /// Every pixel action really runs and gives the planned size, in each
    /// output format that can carry the result.
    #[test]
    fn every_action_runs_on_real_pixels() {
        let src = jpeg(120, 80);
        let cmds = [
            "crop,x_10,y_10,w_50,h_40",
            "crop,w_30,h_30,g_center",
            "circle,r_30",
            "rounded-corners,r_20",
            "indexcrop,x_50,i_2",
            "rotate,a_90",
            "rotate,a_30",
            "auto-orient,o_1",
            "blur,r_3,s_2",
            "sharpen,r_3,s_2",
            "bright,b_30",
            "contrast,c_-40",
            "grayscale",
            "interlace,i_progressive",
            "strip",
            "resize,w_60/rotate,a_45/crop,w_40,h_40,g_center/grayscale",
        ];
        for cmd in cmds {
            let c = Command::parse(&format!("image/{cmd}"), &Styles::new()).unwrap();
            let plan =
                Plan::new(&c, codec::probe(&src).unwrap(), &RequestContext::default()).unwrap();
            for f in ["jpg", "png", "webp"] {
                let full = format!("image/{cmd}/format,f_{f}");
                let out = run(&full, &src).unwrap_or_else(|e| panic!("{full}: {e}"));
                assert_eq!(out.size, Some(plan.output_size), "{full}");
                assert_eq!(decoded_size(&out), plan.output_size, "{full}");
            }
        }
    }

    #[test]
    fn circle_is_transparent_outside_in_png_and_white_in_jpeg() {
        let src = jpeg(100, 100);
        let png = run("image/circle,r_40/format,f_png", &src).unwrap();
        let img = image::load_from_memory(&png.body).unwrap().to_rgba8();
        assert_eq!(img.get_pixel(0, 0)[3], 0);
        assert_eq!(img.get_pixel(40, 40)[3], 255);
        let jpg = run("image/circle,r_40", &src).unwrap();
        let img = image::load_from_memory(&jpg.body).unwrap().to_rgb8();
        assert!(
            img.get_pixel(0, 0).0.iter().all(|&v| v > 240),
            "white corner"
        );
    }

    #[test]
    fn grayscale_output_is_grey_and_bright_is_brighter() {
        let src = jpeg(64, 64);
        let out = run("image/grayscale/format,f_png", &src).unwrap();
        let img = image::load_from_memory(&out.body).unwrap().to_rgb8();
        assert!(img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
        let mean = |body: &[u8]| -> f64 {
            let img = image::load_from_memory(body).unwrap().to_rgb8();
            img.as_raw().iter().map(|&v| f64::from(v)).sum::<f64>() / img.as_raw().len() as f64
        };
        let base = run("image/format,f_png", &src).unwrap();
        let bright = run("image/bright,b_40/format,f_png", &src).unwrap();
        assert!(mean(&bright.body) > mean(&base.body) + 30.0);
    }

    #[test]
    fn interlace_writes_a_progressive_jpeg() {
        let src = jpeg(64, 64);
        let has_marker = |b: &[u8], m: u8| b.windows(2).any(|w| w == [0xFF, m]);
        let prog = run("image/interlace,i_progressive", &src).unwrap();
        assert!(has_marker(&prog.body, 0xC2), "SOF2 present");
        let base = run("image/interlace,i_baseline", &src).unwrap();
        assert!(has_marker(&base.body, 0xC0) && !has_marker(&base.body, 0xC2));
        let png = run("image/interlace,i_progressive/format,f_png", &src).unwrap();
        assert_eq!(png.body[28], 1, "Adam7 PNG");
        let plain = run("image/format,f_png", &src).unwrap();
        assert_eq!(plain.body[28], 0);
        assert_eq!(rgb(&png.body), rgb(&plain.body));
    }

    #[test]
    fn detect_reports_and_never_fails_on_non_images() {
        let c = Command::parse("image/detect", &Styles::new()).unwrap();
        let ctx = RequestContext {
            object_key: Some("bucket/dir/clip.jpg".into()),
            ..Default::default()
        };
        let out = process(&c, b"definitely not an image", &ctx).unwrap();
        assert_eq!(out.content_type, "application/json");
        let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(v["picSuffix"], "jpg");
        assert_eq!(v["picResolution"], "0*0");
        let src = jpeg(30, 20);
        let out = process(&c, &src, &ctx).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(v["picResolution"], "30*20");
        assert_eq!(v["detectedType"], "image/jpeg");
        assert_eq!(v["picRisk"], false);
    }

    use crate::test_support::corpus;

    fn rgb(body: &[u8]) -> image::RgbImage {
        image::load_from_memory(body).unwrap().to_rgb8()
    }

    /// A PNG thumbnail is decoded through a box shrink (as a JPEG's 1/8
    /// scale is) and still looks like Lanczos3 from the full image: at least
    /// 38 dB PSNR against it, and the right size. An RGBA PNG is not shrunk
    /// (the same pixels as resizing the whole image).
    #[test]
    fn a_png_thumbnail_through_the_box_shrink_matches_a_full_resize() {
        let jpeg = corpus("orientation/Landscape_5.jpg");
        let photo = codec::decode(&jpeg, &codec::probe(&jpeg).unwrap(), None).unwrap();
        let png = codec::png::encode(&photo).unwrap();
        let command =
            Command::parse("image/resize,m_lfit,w_60,h_60/format,f_png", &Styles::new()).unwrap();
        let source = codec::probe(&png).unwrap();
        let plan = Plan::new(&command, source, &RequestContext::default()).unwrap();
        assert!(plan.png_shrink() > 1, "{}", plan.png_shrink());
        let out = process(&command, &png, &RequestContext::default()).unwrap();
        let got = rgb(&out.body);
        let (w, h) = got.dimensions();
        let reference = photo.resize(w, h).unwrap();
        let mse = got
            .as_raw()
            .iter()
            .zip(&reference.data)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum::<f64>()
            / reference.data.len() as f64;
        let psnr = 10.0 * (255.0f64 * 255.0 / mse).log10();
        assert!(psnr >= 38.0, "{psnr:.1} dB");

        let rgba = photo.clone().with_alpha();
        let png = codec::png::encode(&rgba).unwrap();
        let plan = Plan::new(
            &command,
            codec::probe(&png).unwrap(),
            &RequestContext::default(),
        )
        .unwrap();
        assert_eq!(plan.png_shrink(), 1);
    }

    /// EXIF orientations 2–8 (JPEG and WebP containers) come out looking like
    /// orientation 1: same size and nearly the same pixels.
    #[test]
    fn auto_orient_turns_every_orientation_upright() {
        let cmd = "image/resize,w_90/format,f_png";
        let reference = rgb(&run(cmd, &corpus("orientation/Landscape_1.jpg"))
            .unwrap()
            .body);
        assert_eq!(reference.dimensions(), (90, 60));
        for n in 2..=8 {
            let out = run(cmd, &corpus(&format!("orientation/Landscape_{n}.jpg"))).unwrap();
            let img = rgb(&out.body);
            assert_eq!(img.dimensions(), (90, 60), "Landscape_{n}");
            let diff: f64 = img
                .as_raw()
                .iter()
                .zip(reference.as_raw())
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / img.as_raw().len() as f64;
            assert!(diff < 12.0, "Landscape_{n}: mean difference {diff:.1}");
        }
        // Turned off: the stored orientation (1200x1800) is kept.
        let out = run(
            "image/resize,w_90/auto-orient,o_0",
            &corpus("orientation/Landscape_6.jpg"),
        )
        .unwrap();
        assert_eq!(out.size, Some((90, 135)));
        // WebP EXIF chunk, orientation 6, 128x128: same size, but turned.
        let webp = corpus("orientation/hopper_orientation_6.webp");
        assert_eq!(codec::probe(&webp).unwrap().orientation, 6);
        // 2x1 with orientation 8 becomes 1x2.
        let out = run(
            "image/format,f_png",
            &corpus("orientation/orientation_rectangle.jpg"),
        )
        .unwrap();
        assert_eq!(out.size, Some((1, 2)));
    }

    /// Without `strip` the EXIF stays (Orientation reset to 1 after turning);
    /// with it EXIF and XMP go and the ICC profile stays.
    #[test]
    fn metadata_is_kept_or_stripped() {
        let src = corpus("jpeg/paris_exif_xmp_icc.jpg");
        let before = metadata::extract(&src, ImageFormat::Jpeg);
        assert!(before.exif.is_some() && before.icc.is_some() && before.xmp.is_some());
        for f in ["jpg", "png", "webp"] {
            let kept = run(&format!("image/resize,w_50/format,f_{f}"), &src).unwrap();
            let fmt = ImageFormat::sniff(&kept.body).unwrap();
            let m = metadata::extract(&kept.body, fmt);
            assert!(m.exif.is_some(), "{f}: exif kept");
            assert_eq!(m.icc, before.icc, "{f}: icc kept");
            let stripped = run(&format!("image/resize,w_50/strip/format,f_{f}"), &src).unwrap();
            let m = metadata::extract(&stripped.body, fmt);
            assert!(m.exif.is_none() && m.xmp.is_none(), "{f}: strip");
            assert_eq!(m.icc, before.icc, "{f}: icc kept under strip");
        }
        let turned = run("image/resize,w_50", &corpus("orientation/Landscape_6.jpg")).unwrap();
        let e = exif::read(&turned.body, ImageFormat::Jpeg).unwrap();
        assert_eq!(e.orientation, Some(1));
    }

    #[test]
    fn info_carries_exif_fields() {
        let src = corpus("jpeg/paris_exif_xmp_icc.jpg");
        let out = run("image/info", &src).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(v["make"]["value"], "Google");
        assert_eq!(v["model"]["value"], "Pixel 4a");
        assert_eq!(v["format"]["value"], "JPEG");
        assert!(v["dateTimeOriginal"]["value"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
    }

    /// Animated GIF and WebP keep every frame through resize/crop/rotate;
    /// over 20 frames is refused; a still output takes the first frame.
    #[test]
    fn animations_keep_their_frames() {
        let mut seen_small = 0;
        for path in [
            "gif/animated.gif",
            "gif/dispose_bgnd.gif",
            "webp/anim.webp",
            "gif/moon_impact.gif",
        ] {
            let src = corpus(path);
            let info = codec::probe(&src).unwrap();
            assert!(info.frames > 1, "{path} is animated");
            let cmd = "image/resize,w_40/crop,w_30,h_20/rotate,a_90";
            if info.frames > MAX_OUTPUT_FRAMES {
                let err = run(cmd, &src).unwrap_err();
                assert_eq!(err.code, ErrorCode::ImageTooLarge, "{path}");
                assert!(err.message.contains("frames"));
                continue;
            }
            seen_small += 1;
            let out = run(cmd, &src).unwrap();
            let back = codec::probe(&out.body).unwrap();
            assert_eq!(back.format, info.format, "{path}");
            assert_eq!(out.size, Some((back.width, back.height)), "{path}");
            let before = codec::animation::decode_animation(&src, &info).unwrap();
            let after = codec::animation::decode_animation(&out.body, &back).unwrap();
            let total = |a: &codec::animation::Animation| -> u32 {
                a.frames.iter().map(|f| f.delay_ms).sum()
            };
            // libwebp merges identical consecutive frames (adding their
            // delays), so WebP keeps the timeline; GIF keeps every frame.
            assert_eq!(total(&after), total(&before), "{path}: timeline kept");
            assert!(after.frames.len() > 1, "{path}: still animated");
            if info.format == ImageFormat::Gif {
                assert_eq!(back.frames, info.frames, "{path}: frames kept");
            }
            let still = run("image/resize,w_40/format,f_png", &src).unwrap();
            assert_eq!(codec::probe(&still.body).unwrap().frames, 1);
        }
        assert!(
            seen_small >= 2,
            "at least two animations under the frame limit"
        );
    }

    /// Every output format round-trips: encoded by us, probed and decoded by us.
    #[test]
    fn every_format_round_trips() {
        let src = jpeg(96, 64);
        for f in ["jpg", "png", "webp", "bmp", "gif", "avif", "heic"] {
            let out = run(&format!("image/resize,w_48/format,f_{f}"), &src)
                .unwrap_or_else(|e| panic!("{f}: {e}"));
            let info = codec::probe(&out.body).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(info.format.name(), f);
            assert_eq!(out.content_type, info.format.mime());
            let back = codec::decode(&out.body, &info, None).unwrap();
            assert_eq!(back.size(), (48, 32), "{f}");
            // And it is a source we can process again.
            let again = run("image/resize,w_24/format,f_png", &out.body).unwrap();
            assert_eq!(again.size, Some((24, 16)), "{f} as a source");
        }
    }

    /// AVIF and HEIC output are bounded by the cost budget, not by a pixel
    /// cap: a web-sized result fits the default budget, a 12 Mpx one does
    /// not, and the refusal names the encoder.
    #[test]
    fn slow_encoders_are_bounded_by_the_budget() {
        let src = SourceInfo {
            format: ImageFormat::Jpeg,
            width: 4000,
            height: 2250,
            frames: 1,
            quality: None,
            has_alpha: false,
            orientation: 1,
        };
        let estimate = |cmd: &str| {
            let c = Command::parse(cmd, &Styles::new()).unwrap();
            let plan = Plan::new(&c, src, &RequestContext::default()).unwrap();
            budget::estimate(2_000_000, &plan.cost_plan(&[]).stages())
        };
        for f in ["avif", "heic"] {
            let web = estimate(&format!("image/resize,w_1920/format,f_{f}"));
            assert_eq!(web.check(&Budget::DEFAULT), Ok(()), "{f}: {web:?}");
            // envoy/production.yaml's unsigned budget: a thumbnail fits,
            // 1080p does not (what f_auto's choice of AVIF rests on).
            let unsigned = Budget {
                time_ms: 2_000,
                memory_bytes: 256 << 20,
            };
            let thumb = estimate(&format!("image/resize,w_200/format,f_{f}"));
            assert_eq!(thumb.check(&unsigned), Ok(()), "{f}: {thumb:?}");
            assert!(web.check(&unsigned).is_err(), "{f}: {web:?}");
            let full = estimate(&format!("image/format,f_{f}"));
            let err = full.check(&Budget::DEFAULT).unwrap_err();
            assert_eq!(err.code, ErrorCode::ImageTooLarge);
            assert!(
                err.message
                    .contains(&format!("encoding the 4000x2250 px {f} result")),
                "{}",
                err.message
            );
        }
    }

    /// `f_auto` gives AVIF to a client that lists `image/avif` when the AVIF
    /// result fits the request's budget, WebP when it does not (or the source
    /// is an animation), and the choice is the same every time.
    #[test]
    fn f_auto_gives_avif_when_it_fits_the_budget_else_webp() {
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        let src = jpeg(640, 480);
        let info = codec::probe(&src).unwrap();
        let estimate_ms = |format: &str| {
            let c = Command::parse(&format!("image/format,f_{format}"), &Styles::new()).unwrap();
            let plan = Plan::new(&c, info, &RequestContext::default()).unwrap();
            budget::estimate(src.len() as u64, &plan.cost_plan(&src).stages()).time_ms
        };
        let (avif_ms, webp_ms) = (estimate_ms("avif"), estimate_ms("webp"));
        assert!(webp_ms < avif_ms, "webp {webp_ms} ms, avif {avif_ms} ms");
        let auto = Command::parse("image/format,f_auto", &Styles::new()).unwrap();
        let answer = |accept: &str, time_ms: u64| {
            let ctx = RequestContext {
                accept: Some(accept.to_string()),
                budget: Budget {
                    time_ms,
                    ..Budget::DEFAULT
                },
                ..Default::default()
            };
            let out = process(&auto, &src, &ctx).unwrap();
            let got = codec::probe(&out.body).unwrap();
            assert_eq!(out.content_type, got.format.mime());
            assert_eq!((got.width, got.height), (640, 480));
            got.format
        };
        // The guard also holds the real run to the budget (in wall-clock
        // time, on a shared machine): the roomy budget is the default one.
        let roomy = Budget::DEFAULT.time_ms;
        assert!(avif_ms < roomy as f64 / 4.0, "avif {avif_ms} ms");
        let between = ((avif_ms + webp_ms) / 2.0) as u64;
        assert!(
            between > webp_ms.ceil() as u64,
            "no budget between {webp_ms} and {avif_ms}"
        );
        assert_eq!(answer(chrome, roomy), ImageFormat::Avif);
        assert_eq!(answer(chrome, roomy), ImageFormat::Avif);
        assert_eq!(answer(chrome, between), ImageFormat::Webp);
        assert_eq!(answer("image/avif", between), ImageFormat::Jpeg);
        assert_eq!(answer("image/webp,*/*", roomy), ImageFormat::Webp);
        assert_eq!(answer("image/*,*/*", roomy), ImageFormat::Jpeg);
        // An animation keeps its frames: WebP, never AVIF.
        let gif = SourceInfo {
            format: ImageFormat::Gif,
            frames: 3,
            ..info
        };
        let ctx = RequestContext {
            accept: Some(chrome.to_string()),
            ..Default::default()
        };
        let plan = Plan::new(&auto, gif, &ctx).unwrap();
        assert_eq!(plan.output, ImageFormat::Webp);
        assert!(plan.animated);
    }

    #[test]
    fn png_alpha_survives_to_webp_and_png() {
        let rgba = Raster::new(4, 4, PixelLayout::Rgba8, [10, 20, 30, 0].repeat(16)).unwrap();
        let png = codec::encode(
            &rgba,
            ImageFormat::Png,
            &EncodeOptions {
                quality: 0,
                progressive: false,
            },
        )
        .unwrap();
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
            orientation: 1,
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
            orientation: 1,
        };
        let plan = Plan::new(&c, src, &RequestContext::default()).unwrap();
        assert_eq!(plan.output_size, (200, 150));
        assert_eq!(plan.min_decode_size(), Some((200, 150)));
        let min = |cmd: &str| {
            let c = Command::parse(cmd, &Styles::new()).unwrap();
            Plan::new(&c, src, &RequestContext::default())
                .unwrap()
                .min_decode_size()
        };
        // Looked through: 90° turns (axes swap back to the stored image),
        // grey, brightness, contrast, a resize that changes nothing.
        assert_eq!(
            min("image/rotate,a_90/grayscale/bright,b_10/resize,w_200"),
            Some((267, 200))
        );
        assert_eq!(
            min("image/resize,w_4096/contrast,c_10/resize,m_fill,w_100,h_100"),
            Some((133, 100))
        );
        // What follows the first resize does not matter: it sees the
        // resize's absolute result.
        assert_eq!(
            min("image/resize,w_400/crop,x_10,y_10,w_100,h_100/resize,w_2000,limit_0"),
            Some((400, 300))
        );
        // Ops that address source pixels before the resize need them all.
        for cmd in [
            "image/crop,w_2000,h_2000/resize,w_200",
            "image/blur,r_3,s_2/resize,w_200",
            "image/rotate,a_45/resize,w_200",
            "image/format,f_png",
        ] {
            assert_eq!(min(cmd), None, "{cmd}");
        }
    }

    /// A first crop (or indexcrop) is planned as a source window, mapped
    /// through the EXIF orientation; anything before it, or a crop of the
    /// whole image, is not.
    #[test]
    fn a_first_crop_is_planned_as_a_source_window() {
        let window = |cmd: &str, orientation: u16| {
            let c = Command::parse(cmd, &Styles::new()).unwrap();
            let src = SourceInfo {
                format: ImageFormat::Jpeg,
                width: 4000,
                height: 3000,
                frames: 1,
                quality: Some(90),
                has_alpha: false,
                orientation,
            };
            Plan::new(&c, src, &RequestContext::default())
                .unwrap()
                .source_window()
        };
        let centre = "image/crop,w_1000,h_1000,g_center/rotate,a_90";
        assert_eq!(window(centre, 1), Some((1500, 1000, 1000, 1000)));
        assert_eq!(
            window("image/crop,x_10,y_20,w_300,h_200/resize,w_100", 1),
            Some((10, 20, 300, 200))
        );
        assert_eq!(
            window("image/indexcrop,y_1000,i_2", 1),
            Some((0, 2000, 4000, 1000))
        );
        // Orientation 6 (turned 90° clockwise): the upright image is 3000×4000,
        // and its top-left corner is the stored bottom-left.
        assert_eq!(
            window("image/crop,w_300,h_200", 6),
            Some((0, 2700, 200, 300))
        );
        for cmd in [
            "image/resize,w_2000/crop,w_100,h_100",
            "image/rotate,a_90/crop,w_100,h_100",
            "image/crop,w_4000,h_3000",
            "image/format,f_png",
        ] {
            assert_eq!(window(cmd, 1), None, "{cmd}");
        }
    }

    /// Commands starting with a crop give what the whole decode gave: the same
    /// size, and pixels within the SIMD rounding of `jpeg-decoder` (the same
    /// to the bit in the `bit-identical` build), orientations included.
    #[test]
    fn windowed_decodes_match_the_whole_decode() {
        let tolerance = if cfg!(feature = "bit-identical") {
            0
        } else {
            3
        };
        let synthetic = jpeg(301, 203);
        let landscape = corpus("orientation/Landscape_6.jpg");
        let cases: &[(&[u8], &str)] = &[
            (&synthetic, "image/crop,w_100,h_100,g_center/rotate,a_90"),
            (&synthetic, "image/crop,x_17,y_9,w_150,h_61/resize,w_50"),
            (&synthetic, "image/indexcrop,x_64,i_3/grayscale"),
            (&synthetic, "image/crop,x_300,y_202,w_5,h_5"),
            (&landscape, "image/crop,x_100,y_300,w_400,h_250"),
            (&landscape, "image/crop,w_333,h_333,g_se/auto-orient,o_1"),
            (&landscape, "image/auto-orient,o_0/crop,w_200,h_100,g_south"),
        ];
        for &(input, cmd) in cases {
            let c = Command::parse(cmd, &Styles::new()).unwrap();
            let source = codec::probe(input).unwrap();
            let plan = Plan::new(&c, source, &RequestContext::default()).unwrap();
            let (window, windowed) = plan.decode(input, EarlyDecode::default(), None).unwrap();
            assert!(windowed, "{cmd}: decoded whole");
            let fast = plan.execute(window, true, &[]).unwrap();
            let full = codec::decode(input, &source, None).unwrap();
            let slow = plan.execute(full, false, &[]).unwrap();
            assert_eq!(fast.size(), slow.size(), "{cmd}");
            assert_eq!(fast.size(), plan.output_size, "{cmd}");
            let worst = crate::test_support::max_diff(&fast.data, &slow.data);
            assert!(worst <= tolerance, "{cmd}: max diff {worst}");
            // And the whole request answers with that size.
            assert_eq!(
                run(cmd, input).unwrap().size,
                Some(plan.output_size),
                "{cmd}"
            );
        }
        // A progressive source has no window decode: the whole image, cropped.
        let progressive = corpus("jpeg/jpg-progressive.jpg");
        let c = Command::parse("image/crop,w_10,h_10", &Styles::new()).unwrap();
        let plan = Plan::new(
            &c,
            codec::probe(&progressive).unwrap(),
            &RequestContext::default(),
        )
        .unwrap();
        let (_, windowed) = plan
            .decode(&progressive, EarlyDecode::default(), None)
            .unwrap();
        assert!(!windowed);
        assert_eq!(
            run("image/crop,w_10,h_10", &progressive).unwrap().size,
            Some((10, 10))
        );
    }

    /// A reduced decode runs the looked-through ops on fewer pixels and still
    /// gives the planned size, close to the full-decode result.
    #[test]
    fn ops_before_the_first_resize_run_on_the_shrunk_image() {
        let src = jpeg(640, 480);
        let cmd = "image/rotate,a_90/grayscale/resize,w_60/format,f_png";
        let c = Command::parse(cmd, &Styles::new()).unwrap();
        let plan = Plan::new(&c, codec::probe(&src).unwrap(), &RequestContext::default()).unwrap();
        let min = plan.min_decode_size().unwrap();
        assert!(min.0 < 640 && min.1 < 480, "{min:?}");
        let fast = run(cmd, &src).unwrap();
        assert_eq!(fast.size, Some((60, 80)));
        let img = rgb(&fast.body);
        assert_eq!(img.dimensions(), (60, 80));
        assert!(img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]), "grey");
        // Against the same ops on the full decode.
        let full = codec::decode(&src, &codec::probe(&src).unwrap(), None).unwrap();
        let reference = full
            .rotate(90, [0; 4])
            .grayscale()
            .resize(60, 80)
            .unwrap()
            .flatten([255, 255, 255])
            .into_owned();
        let diff = img
            .as_raw()
            .iter()
            .zip(&reference.data)
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / reference.data.len() as f64;
        assert!(diff < 8.0, "mean difference {diff:.2}");
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
