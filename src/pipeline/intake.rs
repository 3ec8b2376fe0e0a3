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
//! While a JPEG is decoded from its DC coefficients, the intake keeps only
//! the file's header and the bytes the stream has not read yet: the host
//! holds the whole body anyway (the proxy buffers it until the filter is
//! done), so a second copy here would only raise the VM's memory for the
//! thumbnail of a photo by the photo's size. The stream finishes when the
//! last byte is in; should it give up after bytes were dropped, the glue
//! reads the body again from the host ([`Intake::into_parts`] says so).
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
use crate::raster::Raster;

/// How far into the body the image header (up to the first scan) may reach
/// for the body to be decoded as it arrives; past it the body is only kept.
const HEADER_WINDOW: usize = 256 * 1024;

/// Room first made for the body while its header is read (a photo's
/// header, EXIF thumbnail included, usually fits).
const HEADER_CAPACITY: usize = 64 * 1024;

/// The most bytes the glue should hand to [`Intake::push`] at once: the
/// intake of a JPEG decoded as it arrives holds about this much beyond the
/// header, whatever size of chunk the host buffered.
pub const PUSH_BYTES: usize = 64 * 1024;

/// The body received so far, and its decoding when it is decoded early.
pub struct Intake {
    command: Command,
    ctx: RequestContext,
    /// `Content-Length`, when the response has one.
    expected: Option<u64>,
    /// The body received so far; while a JPEG is decoded as it arrives, its
    /// header and the bytes the stream has not read yet only.
    bytes: Vec<u8>,
    /// Bytes received and no longer held (see `bytes`).
    dropped: usize,
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
    /// A JPEG decoded at 1/8 scale as it arrived, finished with its last
    /// byte. `bytes` holds its header only.
    Finished(Raster),
    /// The JPEG stream gave up after bytes were dropped: the body has to be
    /// read again.
    Lost,
}

/// The work an [`Intake`] did before the last byte: handed to
/// [`super::process_received`] with the body (or only its header, see
/// `body_len`).
#[derive(Default)]
pub struct EarlyDecode {
    pub(super) work: Option<EarlyWork>,
    /// The body's length in bytes when what comes with this is only the
    /// file's header (a finished [`EarlyWork::JpegEighth`]); `None` when it
    /// is the whole body.
    pub(super) body_len: Option<usize>,
}

/// What was decoded early.
pub(super) enum EarlyWork {
    /// A baseline JPEG at 1/8 scale from its DC coefficients, finished.
    JpegEighth(Raster),
    /// A still, non-interlaced PNG, decoded row by row up to its last byte.
    Png(Box<PngStream>),
}

impl EarlyDecode {
    /// Only the file's header came with this: a plan that needs more than
    /// the decoded raster needs the whole body read again.
    pub(super) fn has_header_only(&self) -> bool {
        self.body_len.is_some()
    }
}

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
        let room = content_length.map_or(0, room_for);
        let stage = if content_length.is_some() && command.inspection().is_none() {
            Stage::Header
        } else {
            Stage::Keeping
        };
        Intake {
            command: command.clone(),
            ctx,
            expected: content_length,
            // Room for a header; for the rest once the body is to be kept.
            bytes: Vec::with_capacity(match stage {
                Stage::Keeping => room,
                _ => room.min(HEADER_CAPACITY),
            }),
            dropped: 0,
            stage,
            decoded_before_latest: None,
        }
    }

    /// Takes in the next `chunk` of the body and decodes what it can.
    pub fn push(&mut self, chunk: &[u8]) {
        self.decoded_before_latest = self.decoded();
        if matches!(self.stage, Stage::Finished(_) | Stage::Lost) {
            // More than `Content-Length` said: the glue reads the body again.
            self.dropped += chunk.len();
            return;
        }
        self.bytes.extend_from_slice(chunk);
        let starting = matches!(self.stage, Stage::Header);
        if starting {
            self.stage = match self.start() {
                Some(stage) => stage,
                None if self.bytes.len() > HEADER_WINDOW => Stage::Keeping,
                None => Stage::Header,
            };
            if matches!(
                self.stage,
                Stage::Keeping | Stage::Decoding(EarlyStream::Png(_))
            ) {
                // The whole body will be held: room for it at once.
                let room = self.expected.map_or(0, room_for);
                self.bytes
                    .reserve_exact(room.saturating_sub(self.bytes.len()));
            }
        }
        let going = match &mut self.stage {
            Stage::Decoding(stream) => match stream {
                EarlyStream::JpegDc(stream) => {
                    let going = stream.advance(&self.bytes).is_some();
                    if going {
                        // Drop what the stream is done with, after the header.
                        let start = stream.data_start();
                        let done = stream.consumed().saturating_sub(start);
                        if done > 0 {
                            self.bytes.drain(start..start + done);
                            stream.forget(done);
                            self.dropped += done;
                        }
                    }
                    going
                }
                // A PNG stream starts on every byte received so far.
                EarlyStream::Png(_) if starting => true,
                EarlyStream::Png(stream) => stream.push(chunk).is_some(),
            },
            _ => true,
        };
        if !going {
            // Malformed: the whole-file decoder will say what is wrong.
            self.stage = self.fallback();
        } else if self.expected == Some(self.len() as u64) {
            self.finish_jpeg();
        }
    }

    /// The last byte is in: a JPEG stream finishes here, so that the
    /// dropped bytes are never needed again.
    fn finish_jpeg(&mut self) {
        if !matches!(self.stage, Stage::Decoding(EarlyStream::JpegDc(_))) {
            return;
        }
        let Stage::Decoding(EarlyStream::JpegDc(stream)) =
            std::mem::replace(&mut self.stage, Stage::Keeping)
        else {
            unreachable!("checked above");
        };
        let data_start = stream.data_start();
        self.stage = match stream.finish(&self.bytes) {
            Some(raster) => {
                self.dropped += self.bytes.len() - data_start;
                self.bytes.truncate(data_start);
                self.bytes.shrink_to_fit();
                Stage::Finished(raster)
            }
            // What the stream cannot end as the whole-file decoder would
            // (damaged data) is decoded whole, to say what is wrong.
            None => self.fallback(),
        };
    }

    /// Where a stream that gave up leaves the body: kept when every byte is
    /// still here, else to be read again.
    fn fallback(&mut self) -> Stage {
        if self.dropped == 0 {
            let room = self.expected.map_or(0, room_for);
            self.bytes
                .reserve_exact(room.saturating_sub(self.bytes.len()));
            Stage::Keeping
        } else {
            self.dropped += self.bytes.len();
            self.bytes = Vec::new();
            Stage::Lost
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
        let body_bytes = self.expected?;
        let stages = plan.settle_format(prefix, room_for(body_bytes), &self.ctx.budget);
        budget::estimate(body_bytes, &stages.stages())
            .check(&self.ctx.budget)
            .ok()?;
        Some(plan)
    }

    /// Bytes received so far (held or not).
    pub fn len(&self) -> usize {
        self.bytes.len() + self.dropped
    }

    /// Nothing received yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the body held here now (the allocation, in bytes).
    pub fn held_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    /// The share of the image decoded so far (0.0 – 1.0); `None` when the
    /// body is not decoded early.
    pub fn decoded(&self) -> Option<f64> {
        match &self.stage {
            Stage::Decoding(stream) => Some(match stream {
                EarlyStream::JpegDc(stream) => stream.progress(),
                EarlyStream::Png(stream) => stream.progress(),
            }),
            Stage::Finished(_) => Some(1.0),
            _ => None,
        }
    }

    /// The share of the image decoded before the latest chunk came: once
    /// the last chunk is in, what decoding overlapped the transfer (`None`,
    /// or 0.0 when the body came in one piece).
    pub fn decoded_before_latest(&self) -> Option<f64> {
        self.decoded_before_latest
    }

    /// The body, and the decoding done while it arrived; `None` when the
    /// body is not all here any more (a JPEG stream gave up after dropping
    /// bytes, or the body ran past `Content-Length`): read it again from the
    /// host and process it whole.
    pub fn into_parts(self) -> Option<(Vec<u8>, EarlyDecode)> {
        let body_len = self.len();
        match self.stage {
            Stage::Finished(raster) => Some((
                self.bytes,
                EarlyDecode {
                    work: Some(EarlyWork::JpegEighth(raster)),
                    body_len: Some(body_len),
                },
            )),
            _ if self.dropped > 0 => None,
            Stage::Decoding(EarlyStream::Png(stream)) => Some((
                self.bytes,
                EarlyDecode {
                    work: Some(EarlyWork::Png(stream)),
                    body_len: None,
                },
            )),
            // A JPEG stream short of its last byte: the body is all here.
            _ => Some((self.bytes, EarlyDecode::default())),
        }
    }
}

/// Room for a body of `content_length` bytes (at most what can be processed).
fn room_for(content_length: u64) -> usize {
    content_length.min(MAX_SOURCE_BYTES as u64) as usize
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

    /// Processes what `intake` received as the glue does: its parts when
    /// it has them (with `bytes` for a second read), else `bytes` whole.
    /// Also returns whether the second read was asked for.
    fn process_as_the_glue_does(
        intake: Intake,
        command: &str,
        bytes: &[u8],
        ctx: &RequestContext,
    ) -> (crate::error::Result<super::super::Processed>, bool) {
        let command = Command::parse(command, &Styles::new()).unwrap();
        let mut read_again = false;
        let result = match intake.into_parts() {
            Some((body, early)) => {
                super::super::process_received(&command, &body, early, ctx, &mut || {
                    read_again = true;
                    Some(bytes.to_vec())
                })
                .0
            }
            None => {
                read_again = true;
                super::super::process(&command, bytes, ctx)
            }
        };
        (result, read_again)
    }

    /// A thumbnail of a baseline photo: most of it is decoded before the
    /// last chunk, and the result is byte for byte what processing the whole
    /// body gives. The intake never holds more than the header and a few
    /// chunks of it, and hands over the header with the decoded image.
    #[test]
    fn a_baseline_thumbnail_is_decoded_while_it_arrives_with_the_same_result() {
        for name in ["orientation/Landscape_5.jpg", "orientation/Portrait_6.jpg"] {
            let bytes = corpus(name);
            let len = Some(bytes.len() as u64);
            let command = Command::parse(THUMB, &Styles::new()).unwrap();
            let mut intake = Intake::new(&command, context(Budget::DEFAULT), len);
            let mut most_held = 0;
            let chunks: Vec<&[u8]> = bytes.chunks(16 * 1024).collect();
            for chunk in &chunks {
                intake.push(chunk);
                most_held = most_held.max(intake.held_bytes());
            }
            assert_eq!(intake.len(), bytes.len());
            let share = intake
                .decoded_before_latest()
                .unwrap_or_else(|| panic!("{name}: not decoded early"));
            assert!(
                share > 0.8,
                "{name}: {share:.2} decoded before the last chunk"
            );
            // The first room made for the header was never outgrown.
            assert!(bytes.len() > 3 * HEADER_CAPACITY);
            assert!(
                most_held <= HEADER_CAPACITY,
                "{name}: held {most_held} of {} bytes",
                bytes.len()
            );
            let (body, early) = intake.into_parts().expect("the stream finished");
            assert!(bytes.starts_with(&body) && body.len() < bytes.len() / 4);
            assert!(matches!(early.work, Some(EarlyWork::JpegEighth(_))));
            let ctx = context(Budget::DEFAULT);
            let streamed =
                super::super::process_received(&command, &body, early, &ctx, &mut || {
                    panic!("{name}: read again")
                })
                .0;
            let whole = super::super::process(&command, &bytes, &ctx);
            assert_eq!(streamed.unwrap(), whole.unwrap(), "{name}");
        }
    }

    /// When the plan made with the request's watermark objects differs from
    /// the intake's (which has none), the body is read again and processed
    /// whole: here the header and thumbnail are given to a command that
    /// needs the 1/2 scale.
    #[test]
    fn a_plan_that_needs_more_than_the_thumbnail_reads_the_body_again() {
        let bytes = corpus("orientation/Landscape_5.jpg");
        let len = Some(bytes.len() as u64);
        let (intake, _) = receive(THUMB, &bytes, context(Budget::DEFAULT), len);
        let (body, early) = intake.into_parts().unwrap();
        assert!(early.has_header_only());
        let larger = Command::parse("image/resize,w_400", &Styles::new()).unwrap();
        let ctx = context(Budget::DEFAULT);
        let mut read_again = 0;
        let result = super::super::process_received(&larger, &body, early, &ctx, &mut || {
            read_again += 1;
            Some(bytes.clone())
        })
        .0;
        assert_eq!(read_again, 1);
        assert_eq!(
            result.unwrap(),
            super::super::process(&larger, &bytes, &ctx).unwrap()
        );
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
            let (body, early) = intake.into_parts().unwrap();
            assert!(matches!(early.work, Some(EarlyWork::Png(_))), "{what}");
            assert_eq!(body, bytes, "{what}");
            let parsed = Command::parse(command, &Styles::new()).unwrap();
            let ctx = context(Budget::DEFAULT);
            let streamed =
                super::super::process_received(&parsed, &body, early, &ctx, &mut || None).0;
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
        let ctx = context(Budget::DEFAULT);
        let (streamed, _) = process_as_the_glue_does(intake, THUMB, &bytes, &ctx);
        let parsed = Command::parse(THUMB, &Styles::new()).unwrap();
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
            assert!(intake.held_bytes() >= bytes.len(), "{why}");
            let (body, early) = intake.into_parts().unwrap();
            assert_eq!(body, bytes, "{why}");
            assert!(early.work.is_none() && !early.has_header_only(), "{why}");
        }
    }

    /// A file whose data breaks off or is damaged after its header falls
    /// back to the whole-file path, which reports what is wrong: the intake
    /// dropped the bytes it had read, so the body is read again.
    #[test]
    fn damaged_data_gives_the_whole_file_answer() {
        let mut bytes = corpus("orientation/Landscape_5.jpg");
        let len = bytes.len();
        for at in (len / 3..len).step_by(len / 7) {
            bytes[at] = 0xFF;
            bytes[at + 1] = 0xD9;
        }
        let (intake, _) = receive(THUMB, &bytes, context(Budget::DEFAULT), Some(len as u64));
        assert_eq!(intake.len(), len);
        let ctx = context(Budget::DEFAULT);
        let (streamed, read_again) = process_as_the_glue_does(intake, THUMB, &bytes, &ctx);
        assert!(read_again);
        let command = Command::parse(THUMB, &Styles::new()).unwrap();
        let whole = super::super::process(&command, &bytes, &ctx);
        assert_eq!(streamed, whole);
    }

    /// Damage within the first chunk, before the stream dropped anything:
    /// the intake still has every byte and keeps them.
    #[test]
    fn damage_before_anything_was_dropped_keeps_the_body() {
        let mut bytes = corpus("orientation/Landscape_5.jpg");
        let len = bytes.len();
        let command = Command::parse(THUMB, &Styles::new()).unwrap();
        let mut intake = Intake::new(&command, context(Budget::DEFAULT), Some(len as u64));
        // The header, then the data broken off by an end marker at once.
        let header_end = 1 + bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        bytes[header_end + 400] = 0xFF;
        bytes[header_end + 401] = 0xD9;
        let first = header_end + 2;
        intake.push(&bytes[..first]);
        intake.push(&bytes[first..]);
        assert_eq!(intake.len(), len);
        let ctx = context(Budget::DEFAULT);
        let (streamed, read_again) = process_as_the_glue_does(intake, THUMB, &bytes, &ctx);
        assert!(!read_again);
        assert_eq!(streamed, super::super::process(&command, &bytes, &ctx));
    }
}
