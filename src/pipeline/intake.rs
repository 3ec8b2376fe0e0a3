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
//! While a file is decoded as it arrives, the intake does not keep a copy of
//! what the decoder has taken: the host holds the whole body anyway (the
//! proxy buffers it until the filter is done), so a second copy here would
//! only raise the VM's memory by the file's size. It keeps the file's header
//! and, for a JPEG, the bytes the stream has not read yet; for a PNG, every
//! chunk but the image data (`IDAT`), whose metadata may come after it. The
//! stream finishes with the last byte, and processing gets that header, with
//! an empty `IDAT` in place of a PNG's image data, and the decoded image.
//! Should a stream give up after bytes were dropped, or the plan made with
//! the request's objects need more, the glue reads the body again from the
//! host ([`Intake::into_parts`], [`super::process_received`]).
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

/// An `IDAT` chunk without data (length 0, type, CRC-32 of the type): what
/// processing gets in place of a PNG's image data once it is decoded.
const EMPTY_IDAT: [u8; 12] = [0, 0, 0, 0, b'I', b'D', b'A', b'T', 0x35, 0xAF, 0x06, 0x1E];

/// The body received so far, and its decoding when it is decoded early.
pub struct Intake {
    command: Command,
    ctx: RequestContext,
    /// `Content-Length`, when the response has one.
    expected: Option<u64>,
    /// The body received so far; while a file is decoded as it arrives, the
    /// part the decoder still needs or processing will read (see the module
    /// documentation).
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
    /// Decoded as it arrived, finished with the last byte. `bytes` holds
    /// the header (and a PNG's chunks but its image data).
    Finished {
        work: EarlyWork,
        /// Where a PNG's image data was, for the empty `IDAT` to stand in.
        idat_at: Option<usize>,
    },
    /// A stream gave up after bytes were dropped: the body has to be read
    /// again.
    Lost,
}

/// The work an [`Intake`] did before the last byte: handed to
/// [`super::process_received`] with the body (or only its header, see
/// `body_len`).
#[derive(Default)]
pub struct EarlyDecode {
    pub(super) work: Option<EarlyWork>,
    /// The body's length in bytes when what comes with this is only the
    /// file's header and the decoded image; `None` when it is the whole
    /// body.
    pub(super) body_len: Option<usize>,
}

/// What was decoded early.
pub(super) enum EarlyWork {
    /// A baseline JPEG at 1/8 scale from its DC coefficients.
    JpegEighth(Raster),
    /// A still, non-interlaced PNG through a box shrink of `shrink` (1: none).
    Png { raster: Raster, shrink: u32 },
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
    /// A still, non-interlaced PNG, row by row, with where its chunks stand.
    Png {
        stream: Box<PngStream>,
        chunks: PngChunks,
        shrink: u32,
    },
}

/// Where a PNG's chunks stand in the intake's `bytes`, so that its image
/// data is dropped as it arrives (the stream has its own copy).
pub(super) struct PngChunks {
    /// Where the first `IDAT` chunk began.
    first_idat: usize,
    /// Where the next chunk's header starts (it may not be here yet).
    next: usize,
    /// Bytes of the current `IDAT` chunk still to come.
    skip: usize,
}

impl PngChunks {
    /// Drops from `bytes` the `IDAT` chunks from `self.next` on (what is
    /// here of them); returns how many bytes were dropped.
    fn drop_image_data(&mut self, bytes: &mut Vec<u8>) -> usize {
        let mut dropped = 0;
        while let Some(header) = bytes.get(self.next..self.next + 8) {
            let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let end = self.next.saturating_add(length).saturating_add(12);
            if &header[4..8] != b"IDAT" {
                self.next = end;
                continue;
            }
            let here = end.min(bytes.len());
            bytes.drain(self.next..here);
            dropped += here - self.next;
            self.skip = end - here;
        }
        dropped
    }
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
        match &mut self.stage {
            Stage::Finished { .. } | Stage::Lost => {
                // More than `Content-Length` said: the glue reads the body again.
                self.dropped += chunk.len();
                return;
            }
            Stage::Decoding(EarlyStream::Png { chunks, .. }) => {
                // The rest of an `IDAT` chunk: only the stream needs it.
                let skip = chunks.skip.min(chunk.len());
                chunks.skip -= skip;
                self.dropped += skip;
                self.bytes.extend_from_slice(&chunk[skip..]);
            }
            _ => self.bytes.extend_from_slice(chunk),
        }
        let starting = matches!(self.stage, Stage::Header);
        if starting {
            self.stage = match self.start() {
                Some(stage) => stage,
                None if self.bytes.len() > HEADER_WINDOW => Stage::Keeping,
                None => Stage::Header,
            };
            if matches!(self.stage, Stage::Keeping) {
                // The whole body will be held: room for it at once.
                self.reserve_the_rest();
            }
        }
        let going = match &mut self.stage {
            Stage::Decoding(EarlyStream::JpegDc(stream)) => {
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
            Stage::Decoding(EarlyStream::Png { stream, chunks, .. }) => {
                // A PNG stream starts on every byte received so far.
                let going = starting || stream.push(chunk).is_some();
                if going {
                    self.dropped += chunks.drop_image_data(&mut self.bytes);
                }
                going
            }
            _ => true,
        };
        if !going {
            // Malformed: the whole-file decoder will say what is wrong.
            self.stage = self.fallback();
        } else if self.expected == Some(self.len() as u64) {
            self.finish_stream();
        }
    }

    /// The last byte is in: a stream finishes here, so that the dropped
    /// bytes are never needed again.
    fn finish_stream(&mut self) {
        if !matches!(self.stage, Stage::Decoding(_)) {
            return;
        }
        let Stage::Decoding(stream) = std::mem::replace(&mut self.stage, Stage::Keeping) else {
            unreachable!("checked above");
        };
        let finished = match stream {
            EarlyStream::JpegDc(stream) => {
                let data_start = stream.data_start();
                stream.finish(&self.bytes).map(|raster| {
                    // Processing reads the header only.
                    self.dropped += self.bytes.len() - data_start;
                    self.bytes.truncate(data_start);
                    (EarlyWork::JpegEighth(raster), None)
                })
            }
            EarlyStream::Png {
                stream,
                chunks,
                shrink,
            } => stream
                .finish()
                .map(|raster| (EarlyWork::Png { raster, shrink }, Some(chunks.first_idat))),
        };
        // What a stream cannot end as the whole-file decoder would (damaged
        // data) is decoded whole, to say what is wrong.
        self.stage = match finished {
            Some((work, idat_at)) => {
                self.bytes.shrink_to_fit();
                Stage::Finished { work, idat_at }
            }
            None => self.fallback(),
        };
    }

    /// Where a stream that gave up leaves the body: kept when every byte is
    /// still here, else to be read again.
    fn fallback(&mut self) -> Stage {
        if self.dropped == 0 {
            self.reserve_the_rest();
            Stage::Keeping
        } else {
            self.dropped += self.bytes.len();
            self.bytes = Vec::new();
            Stage::Lost
        }
    }

    /// Room for the rest of the body, all of which will be held.
    fn reserve_the_rest(&mut self) {
        let room = self.expected.map_or(0, room_for);
        self.bytes
            .reserve_exact(room.saturating_sub(self.bytes.len()));
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
        let data_offset = match codec::png::image_data_offset(prefix) {
            Err(()) => return Some(Stage::Keeping),
            Ok(None) => return None,
            Ok(Some(offset)) => offset,
        };
        let Some(shrink) = self
            .admitted_plan(Plan::decodes_whole_png)
            .map(|p| p.png_shrink())
        else {
            return Some(Stage::Keeping);
        };
        // The stream allocates the image only now, within the limits and
        // budget just checked.
        let first_idat = data_offset - 8;
        Some(match PngStream::start(prefix, shrink) {
            Some(stream) => Stage::Decoding(EarlyStream::Png {
                stream: Box::new(stream),
                chunks: PngChunks {
                    first_idat,
                    next: first_idat,
                    skip: 0,
                },
                shrink,
            }),
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
            Stage::Decoding(EarlyStream::JpegDc(stream)) => Some(stream.progress()),
            Stage::Decoding(EarlyStream::Png { stream, .. }) => Some(stream.progress()),
            Stage::Finished { .. } => Some(1.0),
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
    /// body is not all here any more (a stream gave up after dropping bytes,
    /// or the body ran past `Content-Length`): read it again from the host
    /// and process it whole.
    pub fn into_parts(self) -> Option<(Vec<u8>, EarlyDecode)> {
        let body_len = self.len();
        match self.stage {
            Stage::Finished { work, idat_at } => {
                let mut bytes = self.bytes;
                if let Some(at) = idat_at {
                    bytes.splice(at..at, EMPTY_IDAT);
                }
                Some((
                    bytes,
                    EarlyDecode {
                        work: Some(work),
                        body_len: Some(body_len),
                    },
                ))
            }
            _ if self.dropped > 0 => None,
            // A stream short of its last byte, or nothing decoded early:
            // the body is all here.
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
            // The image data was not kept: the header and an empty IDAT.
            assert!(intake.held_bytes() < bytes.len() / 10, "{what}");
            let (body, early) = intake.into_parts().unwrap();
            assert!(matches!(early.work, Some(EarlyWork::Png { .. })), "{what}");
            assert!(body.len() < 1024, "{what}: {} bytes", body.len());
            let idat = codec::png::image_data_offset(&bytes).unwrap().unwrap() - 8;
            assert_eq!(body[..idat], bytes[..idat], "{what}");
            assert_eq!(body[idat..idat + 12], EMPTY_IDAT, "{what}");
            assert!(body.ends_with(&bytes[bytes.len() - 12..]), "{what}: IEND");
            let parsed = Command::parse(command, &Styles::new()).unwrap();
            let ctx = context(Budget::DEFAULT);
            let streamed = super::super::process_received(&parsed, &body, early, &ctx, &mut || {
                panic!("{what}: read again")
            })
            .0;
            let whole = super::super::process(&parsed, &bytes, &ctx);
            assert_eq!(streamed.unwrap(), whole.unwrap(), "{what}");
        }
    }

    /// A PNG chunk.
    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        let crc = crc32fast::hash(&chunk[4..]);
        chunk.extend_from_slice(&crc.to_be_bytes());
        chunk
    }

    /// The empty IDAT's CRC is the CRC-32 of its type.
    #[test]
    fn the_empty_idat_is_a_valid_chunk() {
        assert_eq!(png_chunk(b"IDAT", &[]), EMPTY_IDAT);
    }

    /// Metadata after the image data (XMP in an `iTXt` chunk, an ICC
    /// profile cannot come there) and an image split over many `IDAT`
    /// chunks: the intake keeps every chunk but the image data, so the
    /// output keeps the XMP as processing the whole body does.
    #[test]
    fn png_chunks_after_the_image_data_are_kept() {
        let jpeg = corpus("orientation/Landscape_5.jpg");
        let photo = codec::decode(&jpeg, &codec::probe(&jpeg).unwrap(), None).unwrap();
        let png = codec::png::encode(&photo).unwrap();
        // Split the image data into IDAT chunks of 10 000 bytes.
        let idat = codec::png::image_data_offset(&png).unwrap().unwrap() - 8;
        let length = u32::from_be_bytes(png[idat..idat + 4].try_into().unwrap()) as usize;
        let data = &png[idat + 8..idat + 8 + length];
        let mut bytes = png[..idat].to_vec();
        for piece in data.chunks(10_000) {
            bytes.extend(png_chunk(b"IDAT", piece));
        }
        let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
        itxt.extend_from_slice(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>after IDAT</x:xmpmeta>");
        bytes.extend(png_chunk(b"iTXt", &itxt));
        bytes.extend(png_chunk(b"tEXt", b"Comment\0a comment"));
        bytes.extend(png_chunk(b"IEND", &[]));
        let command = "image/resize,w_100/format,f_png";
        let len = Some(bytes.len() as u64);
        for chunk in [1000, 9999, 16 * 1024, 100_000] {
            let parsed = Command::parse(command, &Styles::new()).unwrap();
            let mut intake = Intake::new(&parsed, context(Budget::DEFAULT), len);
            let mut most_held = 0;
            for piece in bytes.chunks(chunk) {
                intake.push(piece);
                most_held = most_held.max(intake.held_bytes());
            }
            assert!(
                most_held <= HEADER_CAPACITY.max(2 * chunk),
                "{chunk}: {most_held}"
            );
            let (body, early) = intake.into_parts().unwrap();
            assert!(early.has_header_only(), "{chunk}");
            assert!(body.windows(10).any(|w| w == b"after IDAT"), "{chunk}");
            let ctx = context(Budget::DEFAULT);
            let streamed =
                super::super::process_received(&parsed, &body, early, &ctx, &mut || None).0;
            let whole = super::super::process(&parsed, &bytes, &ctx).unwrap();
            assert!(whole.body.windows(10).any(|w| w == b"after IDAT"));
            assert_eq!(streamed.unwrap(), whole, "{chunk}");
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
