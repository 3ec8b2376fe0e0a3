//! The response body as the host hands it over, chunk by chunk.
//!
//! The glue copies each chunk here as it arrives, instead of reading the
//! whole body once the last byte is in. Two decodes consume the chunks as
//! they come: a baseline JPEG the plan decodes at 1/8 scale (a thumbnail of
//! a photo, the commonest request) has its blocks decoded from their DC
//! coefficients ([`DcStream`]), and a still, non-interlaced 8-bit PNG (which
//! is always decoded whole) is inflated and unfiltered row by row
//! ([`PngStream`]). By the time the last byte is in, most of the decoding is
//! done, and the response time is close to the larger of transfer and
//! processing rather than their sum. Anything else is only kept and
//! processed at the end, as before.
//!
//! The decision is made from the image header with the same plan, limits and
//! cost budget as the processing itself ([`Plan::new`], [`budget::estimate`]),
//! so nothing is decoded early that processing would refuse; and the output
//! is the same to the byte, since each stream ends with exactly what the
//! whole-file decoder gives ([`DcStream::finish`], [`PngStream::finish`]), or
//! gives up and leaves the file to it.

use super::{Plan, RequestContext};
use crate::budget;
use crate::codec::{self, jpeg_dc::DcStream, png::PngStream, ImageFormat};
use crate::command::Command;
use crate::limits::MAX_SOURCE_BYTES;

/// How far into the body the image header (up to the first scan) may reach
/// for the body to be decoded as it arrives; past it the body is only kept.
const HEADER_WINDOW: usize = 256 * 1024;

/// The body received so far, and its decoding when it is decoded early.
pub struct Intake {
    command: Command,
    ctx: RequestContext,
    /// `Content-Length`, when the response has one.
    expected: Option<u64>,
    bytes: Vec<u8>,
    stage: Stage,
    /// [`Intake::decoded`] before the latest chunk came.
    decoded_before_latest: Option<f64>,
}

enum Stage {
    /// Waiting for the image header to decide.
    Header,
    /// Decoding as the bytes arrive.
    Decoding(EarlyStream),
    /// Keeping the bytes only.
    Keeping,
}

/// The work an [`Intake`] did before the last byte: handed to
/// [`super::process_received`] with the body.
#[derive(Default)]
pub struct EarlyDecode(pub(super) Option<EarlyStream>);

/// A decoder that consumes the body as it arrives.
pub(super) enum EarlyStream {
    /// A baseline JPEG at 1/8 scale, from its DC coefficients.
    JpegDc(Box<DcStream>),
    /// A still, non-interlaced PNG, row by row.
    Png(Box<PngStream>),
}

impl Intake {
    /// An empty intake for `command`'s response. `ctx` needs the request's
    /// `Accept` and budget (its resources are not used); `content_length` is
    /// the response's `Content-Length`: only a body with one is decoded
    /// early, since the cost budget is checked against the body's size.
    pub fn new(command: &Command, ctx: RequestContext, content_length: Option<u64>) -> Intake {
        let room = content_length.map_or(0, |n| n.min(MAX_SOURCE_BYTES as u64) as usize);
        let stage = if content_length.is_some() && command.inspection().is_none() {
            Stage::Header
        } else {
            Stage::Keeping
        };
        Intake {
            command: command.clone(),
            ctx,
            expected: content_length,
            bytes: Vec::with_capacity(room),
            stage,
            decoded_before_latest: None,
        }
    }

    /// Takes in the next `chunk` of the body and decodes what it can.
    pub fn push(&mut self, chunk: &[u8]) {
        self.decoded_before_latest = self.decoded();
        self.bytes.extend_from_slice(chunk);
        let starting = matches!(self.stage, Stage::Header);
        if starting {
            self.stage = match self.start() {
                Some(stage) => stage,
                None if self.bytes.len() > HEADER_WINDOW => Stage::Keeping,
                None => Stage::Header,
            };
        }
        let going = match &mut self.stage {
            Stage::Decoding(stream) => match stream {
                EarlyStream::JpegDc(stream) => stream.advance(&self.bytes).is_some(),
                // A PNG stream starts on every byte received so far.
                EarlyStream::Png(_) if starting => true,
                EarlyStream::Png(stream) => stream.push(chunk).is_some(),
            },
            _ => true,
        };
        if !going {
            // Malformed: the whole-file decoder will say what is wrong.
            self.stage = Stage::Keeping;
        }
    }

    /// Decides from the header in `self.bytes`: `None` while it is not all
    /// there yet.
    fn start(&self) -> Option<Stage> {
        let prefix = &self.bytes[..];
        if prefix.len() < 4 {
            return None;
        }
        match ImageFormat::sniff(prefix) {
            Some(ImageFormat::Jpeg) => self.start_jpeg(),
            Some(ImageFormat::Png) => self.start_png(),
            _ => Some(Stage::Keeping),
        }
    }

    fn start_jpeg(&self) -> Option<Stage> {
        let prefix = &self.bytes[..];
        let stream = match DcStream::start(prefix) {
            Ok(stream) => stream,
            Err(found_scan) => return found_scan.then_some(Stage::Keeping),
        };
        // The frame header is in: plan as processing will, limits and
        // budget included, before the stream allocates anything more.
        Some(if self.admits(Plan::decodes_eighth) {
            Stage::Decoding(EarlyStream::JpegDc(Box::new(stream)))
        } else {
            Stage::Keeping
        })
    }

    fn start_png(&self) -> Option<Stage> {
        let prefix = &self.bytes[..];
        match codec::png::image_data_offset(prefix) {
            Err(()) => return Some(Stage::Keeping),
            Ok(None) => return None,
            Ok(Some(_)) => {}
        }
        let Some(shrink) = self
            .admitted_plan(Plan::decodes_whole_png)
            .map(|p| p.png_shrink())
        else {
            return Some(Stage::Keeping);
        };
        // The stream allocates the image only now, within the limits and
        // budget just checked.
        Some(match PngStream::start(prefix, shrink) {
            Some(stream) => Stage::Decoding(EarlyStream::Png(Box::new(stream))),
            None => Stage::Keeping,
        })
    }

    /// Whether processing, planned from the header in `self.bytes` as it
    /// will be, decodes the way `decodes` says and fits the cost budget for
    /// the body's announced size.
    fn admits(&self, decodes: fn(&Plan) -> bool) -> bool {
        self.admitted_plan(decodes).is_some()
    }

    /// The plan [`Intake::admits`] made, when it admits.
    fn admitted_plan(&self, decodes: fn(&Plan) -> bool) -> Option<Plan> {
        let prefix = &self.bytes[..];
        let source = codec::probe(prefix).ok()?;
        let mut plan = Plan::new(&self.command, source, &self.ctx).ok()?;
        if !decodes(&plan) {
            return None;
        }
        let stages = plan.settle_format(prefix, &self.ctx.budget);
        let body_bytes = self.expected?;
        budget::estimate(body_bytes, &stages.stages())
            .check(&self.ctx.budget)
            .ok()?;
        Some(plan)
    }

    /// Bytes received so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Nothing received yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The share of the image decoded so far (0.0 – 1.0); `None` when the
    /// body is not decoded early.
    pub fn decoded(&self) -> Option<f64> {
        match &self.stage {
            Stage::Decoding(stream) => Some(match stream {
                EarlyStream::JpegDc(stream) => stream.progress(),
                EarlyStream::Png(stream) => stream.progress(),
            }),
            _ => None,
        }
    }

    /// The share of the image decoded before the latest chunk came: once
    /// the last chunk is in, what decoding overlapped the transfer (`None`,
    /// or 0.0 when the body came in one piece).
    pub fn decoded_before_latest(&self) -> Option<f64> {
        self.decoded_before_latest
    }

    /// The body, and the decoding done while it arrived.
    pub fn into_parts(self) -> (Vec<u8>, EarlyDecode) {
        match self.stage {
            Stage::Decoding(stream) => (self.bytes, EarlyDecode(Some(stream))),
            _ => (self.bytes, EarlyDecode(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Budget;
    use crate::command::Styles;
    use crate::test_support::corpus;

    const THUMB: &str = "image/resize,m_lfit,w_100,h_100/quality,Q_85,c_any";

    fn context(budget: Budget) -> RequestContext {
        RequestContext {
            budget,
            ..RequestContext::default()
        }
    }

    /// Pushes `bytes` in 16 KiB chunks; returns the intake and the share it
    /// had decoded when the last chunk was still to come.
    fn receive(
        command: &str,
        bytes: &[u8],
        ctx: RequestContext,
        content_length: Option<u64>,
    ) -> (Intake, Option<f64>) {
        let command = Command::parse(command, &Styles::new()).unwrap();
        let mut intake = Intake::new(&command, ctx, content_length);
        let chunks: Vec<&[u8]> = bytes.chunks(16 * 1024).collect();
        let (last, rest) = chunks.split_last().unwrap();
        for chunk in rest {
            intake.push(chunk);
        }
        let before_last = intake.decoded();
        intake.push(last);
        assert_eq!(intake.len(), bytes.len());
        (intake, before_last)
    }

    /// A thumbnail of a baseline photo: most of it is decoded before the
    /// last chunk, and the result is byte for byte what processing the whole
    /// body gives.
    #[test]
    fn a_baseline_thumbnail_is_decoded_while_it_arrives_with_the_same_result() {
        for name in ["orientation/Landscape_5.jpg", "orientation/Portrait_6.jpg"] {
            let bytes = corpus(name);
            let len = Some(bytes.len() as u64);
            let (intake, before_last) = receive(THUMB, &bytes, context(Budget::DEFAULT), len);
            let share = before_last.unwrap_or_else(|| panic!("{name}: not decoded early"));
            assert!(
                share > 0.8,
                "{name}: {share:.2} decoded before the last chunk"
            );
            let (body, early) = intake.into_parts();
            assert_eq!(body, bytes);
            assert!(early.0.is_some());
            let command = Command::parse(THUMB, &Styles::new()).unwrap();
            let ctx = context(Budget::DEFAULT);
            let streamed = super::super::process_received(&command, &body, early, &ctx).0;
            let whole = super::super::process(&command, &bytes, &ctx);
            assert_eq!(streamed.unwrap(), whole.unwrap(), "{name}");
        }
    }

    /// A PNG photo: most rows are decoded before the last chunk, for a
    /// thumbnail and for a crop (PNG is always decoded whole), with the
    /// same bytes as processing the whole body.
    #[test]
    fn a_png_is_decoded_row_by_row_while_it_arrives_with_the_same_result() {
        let jpeg = corpus("orientation/Landscape_5.jpg");
        let photo = codec::decode(&jpeg, &codec::probe(&jpeg).unwrap(), None).unwrap();
        let rgba_data = photo
            .data
            .chunks(3)
            .enumerate()
            .flat_map(|(i, px)| [px[0], px[1], px[2], (i % 251) as u8])
            .collect();
        let rgba = crate::raster::Raster::new(
            photo.width,
            photo.height,
            crate::raster::PixelLayout::Rgba8,
            rgba_data,
        )
        .unwrap();
        for (what, bytes, command) in [
            ("RGB thumbnail", codec::png::encode(&photo).unwrap(), THUMB),
            (
                "RGB crop",
                codec::png::encode(&photo).unwrap(),
                "image/crop,w_100,h_100,g_center",
            ),
            (
                "RGBA to WebP",
                codec::png::encode(&rgba).unwrap(),
                "image/format,f_webp",
            ),
        ] {
            let len = Some(bytes.len() as u64);
            let (intake, before_last) = receive(command, &bytes, context(Budget::DEFAULT), len);
            let share = before_last.unwrap_or_else(|| panic!("{what}: not decoded early"));
            assert!(
                share > 0.7,
                "{what}: {share:.2} decoded before the last chunk"
            );
            assert_eq!(intake.decoded(), Some(1.0), "{what}");
            let (body, early) = intake.into_parts();
            assert!(matches!(early.0, Some(EarlyStream::Png(_))), "{what}");
            let parsed = Command::parse(command, &Styles::new()).unwrap();
            let ctx = context(Budget::DEFAULT);
            let streamed = super::super::process_received(&parsed, &body, early, &ctx).0;
            let whole = super::super::process(&parsed, &bytes, &ctx);
            assert_eq!(streamed.unwrap(), whole.unwrap(), "{what}");
        }
    }

    /// A PNG whose image data is damaged after the stream started gets the
    /// whole-file decoder's answer (here its error), not a half image.
    #[test]
    fn a_damaged_png_gets_the_whole_file_answer() {
        let jpeg = corpus("orientation/Landscape_5.jpg");
        let photo = codec::decode(&jpeg, &codec::probe(&jpeg).unwrap(), None).unwrap();
        let mut bytes = codec::png::encode(&photo).unwrap();
        let n = bytes.len();
        bytes[n / 2..n / 2 + 64].fill(0xA5);
        let len = Some(bytes.len() as u64);
        let (intake, _) = receive(THUMB, &bytes, context(Budget::DEFAULT), len);
        let (body, early) = intake.into_parts();
        let parsed = Command::parse(THUMB, &Styles::new()).unwrap();
        let ctx = context(Budget::DEFAULT);
        let streamed = super::super::process_received(&parsed, &body, early, &ctx).0;
        let whole = super::super::process(&parsed, &bytes, &ctx);
        assert!(whole.is_err());
        assert_eq!(streamed.unwrap_err(), whole.unwrap_err());
    }

    /// Only what processing would decode at 1/8 scale from the DC
    /// coefficients, or a plain PNG, within the budget, with a known
    /// length, is decoded early; everything else is kept whole, as before.
    #[test]
    fn everything_else_is_only_kept() {
        let baseline = corpus("orientation/Landscape_5.jpg");
        let len = Some(baseline.len() as u64);
        let tight = Budget {
            memory_bytes: 16 * 1024 * 1024,
            time_ms: 50,
        };
        for (why, command, bytes, ctx, content_length) in [
            (
                "a larger result (1/2 scale)",
                "image/resize,w_400",
                baseline.clone(),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "a crop first",
                "image/crop,w_100,h_100/resize,w_20",
                baseline.clone(),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "info",
                "image/info",
                baseline.clone(),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "no Content-Length",
                THUMB,
                baseline.clone(),
                context(Budget::DEFAULT),
                None,
            ),
            (
                "an estimate over the budget",
                THUMB,
                corpus("hostile/9643x10328.jpg"),
                context(tight),
                len,
            ),
            (
                "progressive",
                THUMB,
                corpus("photos/Wine_by_Jakkub_Mede.jpg"),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "an interlaced PNG",
                THUMB,
                corpus("png/basi2c08.png"),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "a 16-bit PNG",
                THUMB,
                corpus("png/basn6a16.png"),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "an animated PNG",
                THUMB,
                corpus("png/basic_f20.png"),
                context(Budget::DEFAULT),
                len,
            ),
            (
                "WebP",
                THUMB,
                corpus("webp/flower.webp"),
                context(Budget::DEFAULT),
                len,
            ),
        ] {
            let (intake, before_last) = receive(command, &bytes, ctx, content_length);
            assert_eq!(before_last, None, "{why}");
            assert_eq!(intake.decoded(), None, "{why}");
            let (body, early) = intake.into_parts();
            assert_eq!(body, bytes, "{why}");
            assert!(early.0.is_none(), "{why}");
        }
    }

    /// A file whose data breaks off or is damaged after its header falls
    /// back to the whole-file path, which reports what is wrong.
    #[test]
    fn damaged_data_gives_the_whole_file_answer() {
        let mut bytes = corpus("orientation/Landscape_5.jpg");
        let len = bytes.len();
        for at in (len / 3..len).step_by(len / 7) {
            bytes[at] = 0xFF;
            bytes[at + 1] = 0xD9;
        }
        let (intake, _) = receive(THUMB, &bytes, context(Budget::DEFAULT), Some(len as u64));
        let (body, early) = intake.into_parts();
        let command = Command::parse(THUMB, &Styles::new()).unwrap();
        let ctx = context(Budget::DEFAULT);
        let streamed = super::super::process_received(&command, &body, early, &ctx).0;
        let whole = super::super::process(&command, &bytes, &ctx);
        assert_eq!(streamed, whole);
    }
}
