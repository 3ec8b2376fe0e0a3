//! PNG (ISO/IEC 15948): decoding through `image`'s PNG codec (header first),
//! or row by row as the body arrives ([`PngStream`]); encoding with adaptive
//! filtering at the fast compression level.

use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::limits::{MAX_SOURCE_PIXELS, MAX_SOURCE_SIDE};
use crate::raster::{PixelLayout, Raster};
use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::{ImageDecoder, ImageEncoder};
use std::cell::RefCell;
use std::io::{BufRead, Cursor, ErrorKind, Read, Seek, SeekFrom};
use std::rc::Rc;

/// Reads size and alpha from the header chunks.
pub(crate) fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    // A header past the limits is answered from IHDR alone: the png crate
    // computes buffer sizes in `usize`, which overflow in wasm32 for
    // 100000x100000 RGBA and would read as a corrupt image, not a too-large one.
    if let Some((width, height, color_type)) = ihdr(bytes) {
        if width > MAX_SOURCE_SIDE
            || height > MAX_SOURCE_SIDE
            || u64::from(width) * u64::from(height) > MAX_SOURCE_PIXELS
        {
            return Ok(SourceInfo {
                format: ImageFormat::Png,
                width,
                height,
                frames: 1,
                quality: None,
                has_alpha: matches!(color_type, 4 | 6),
                orientation: 1,
            });
        }
    }
    let decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Png, e))?;
    let (width, height) = decoder.dimensions();
    Ok(SourceInfo {
        format: ImageFormat::Png,
        width,
        height,
        frames: 1,
        quality: None,
        has_alpha: decoder.color_type().has_alpha(),
        orientation: 1,
    })
}

/// Width, height and colour type from the IHDR chunk that must follow the
/// signature, if it is there.
fn ihdr(bytes: &[u8]) -> Option<(u32, u32, u8)> {
    let chunk = bytes.get(8..8 + 8 + 13)?;
    if &chunk[4..8] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&chunk[8..12]), be(&chunk[12..16]), chunk[17]))
}

/// Decodes to 8-bit RGB or RGBA.
pub(crate) fn decode(bytes: &[u8]) -> Result<Raster> {
    let decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Png, e))?;
    super::webp::raster_from_decoder(decoder, ImageFormat::Png)
}

/// The box shrink factor for a PNG of `full` size (px) decoded for a plan
/// that needs only `min_size`: the largest integer factor whose result
/// still covers **twice** `min_size`, leaving Lanczos3 a real downscale
/// after it (libvips' rule, as for a JPEG's 1/8 scale,
/// [`super::jpeg::shrink_numerator`]), at most [`MAX_SHRINK`]; 1 (no
/// shrink) for an image with alpha, which would need a premultiplied average.
pub(crate) fn shrink_factor(
    full: (u32, u32),
    min_size: Option<(u32, u32)>,
    has_alpha: bool,
) -> u32 {
    let Some(min) = min_size else { return 1 };
    if has_alpha || min.0 == 0 || min.1 == 0 {
        return 1;
    }
    let fits = |k: u32| {
        full.0.div_ceil(k) >= min.0.saturating_mul(2)
            && full.1.div_ceil(k) >= min.1.saturating_mul(2)
    };
    let mut k = (full.0 / min.0.saturating_mul(2))
        .min(full.1 / min.1.saturating_mul(2))
        .clamp(1, MAX_SHRINK);
    while k > 1 && !fits(k) {
        k -= 1;
    }
    k
}

/// The largest box shrink factor: past it a thumbnail gains nothing, and a
/// block's sum (255 × factor², u32) stays far from overflowing.
pub(crate) const MAX_SHRINK: u32 = 64;

/// [`decode`], then a box filter of `factor`×`factor` px ([`BoxShrink`]):
/// what [`PngStream`] gives for the same factor, row by row.
pub(crate) fn decode_shrunk(bytes: &[u8], factor: u32) -> Result<Raster> {
    let raster = decode(bytes)?;
    if factor <= 1 || raster.layout != PixelLayout::Rgb8 {
        return Ok(raster);
    }
    let mut shrink = BoxShrink::new(raster.width, raster.height, factor);
    for row in raster.data.chunks_exact(raster.width as usize * 3) {
        shrink.push_row(row);
    }
    shrink.finish()
}

/// An 8-bit RGB image reduced by an integer factor as its rows come: each
/// output pixel is the rounded mean of its `factor`×`factor` block of source
/// pixels (fewer at the right and bottom edges), so only one row of sums is
/// kept, never the whole image.
pub(crate) struct BoxShrink {
    width: usize,
    height: usize,
    factor: usize,
    /// Sums of the block row being filled, 3 per output px.
    sums: Vec<u32>,
    /// Source rows added to `sums`.
    rows_in_block: usize,
    rows_done: usize,
    out: Vec<u8>,
}

impl BoxShrink {
    /// `factor` is taken within 1 – [`MAX_SHRINK`].
    pub(crate) fn new(width: u32, height: u32, factor: u32) -> BoxShrink {
        let factor = factor.clamp(1, MAX_SHRINK) as usize;
        let (out_w, out_h) = (
            (width as usize).div_ceil(factor),
            (height as usize).div_ceil(factor),
        );
        BoxShrink {
            width: width as usize,
            height: height as usize,
            factor,
            sums: vec![0; out_w * 3],
            rows_in_block: 0,
            rows_done: 0,
            out: Vec::with_capacity(out_w * out_h * 3),
        }
    }

    /// Adds the next source row (`width` × 3 bytes).
    pub(crate) fn push_row(&mut self, row: &[u8]) {
        if self.rows_done >= self.height {
            return;
        }
        for (block, sums) in row
            .chunks(self.factor * 3)
            .zip(self.sums.chunks_exact_mut(3))
        {
            for px in block.chunks_exact(3) {
                sums[0] += u32::from(px[0]);
                sums[1] += u32::from(px[1]);
                sums[2] += u32::from(px[2]);
            }
        }
        self.rows_done += 1;
        self.rows_in_block += 1;
        if self.rows_in_block == self.factor || self.rows_done == self.height {
            self.emit_block_row();
        }
    }

    fn emit_block_row(&mut self) {
        let rows = self.rows_in_block as u32;
        for (bx, sums) in self.sums.chunks_exact_mut(3).enumerate() {
            let cols = (self.width - bx * self.factor).min(self.factor) as u32;
            let n = cols * rows;
            for sum in sums {
                self.out.push(((*sum + n / 2) / n) as u8);
                *sum = 0;
            }
        }
        self.rows_in_block = 0;
    }

    /// The reduced image, once every row was pushed.
    pub(crate) fn finish(self) -> Result<Raster> {
        if self.rows_done < self.height {
            return Err(ProcessError::internal("PNG box shrink: rows missing"));
        }
        Raster::new(
            self.width.div_ceil(self.factor) as u32,
            self.height.div_ceil(self.factor) as u32,
            PixelLayout::Rgb8,
            self.out,
        )
    }
}

/// Where the first `IDAT` chunk's data starts in `prefix`: `Ok(None)` while
/// the chunks before it are not all in yet, `Err(())` when `prefix` is not a
/// PNG or its chunk sequence is broken before the image data.
pub(crate) fn image_data_offset(prefix: &[u8]) -> std::result::Result<Option<usize>, ()> {
    const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
    if prefix.len() < 8 {
        return if SIGNATURE.starts_with(prefix) {
            Ok(None)
        } else {
            Err(())
        };
    }
    if &prefix[..8] != SIGNATURE {
        return Err(());
    }
    let mut at = 8usize;
    loop {
        let Some(header) = prefix.get(at..at + 8) else {
            return Ok(None);
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if &header[4..8] == b"IDAT" {
            return Ok(Some(at + 8));
        }
        if &header[4..8] == b"IEND" || length > i32::MAX as usize {
            return Err(());
        }
        at = at.checked_add(12 + length).ok_or(())?;
    }
}

/// A still, non-interlaced PNG decoded row by row as its bytes arrive,
/// by the same `png` reader, transformations and limits as [`decode`], so
/// [`PngStream::finish`] gives exactly [`decode`]'s raster.
///
/// The reader pulls from a [`Feed`] that says "no more input yet"
/// (`UnexpectedEof`) when it has used up what came; the `png` crate resumes
/// a row read after that error where it stopped (its own streaming tests
/// exercise this), so each chunk decodes the rows it completes.
pub(crate) struct PngStream {
    feed: Feed,
    reader: png::Reader<Feed>,
    /// The decoded rows: the whole image, or with a box shrink only the
    /// row being decoded.
    pixels: Vec<u8>,
    shrink: Option<BoxShrink>,
    layout: PixelLayout,
    /// Bytes per output row.
    line: usize,
    rows_done: usize,
    height: usize,
}

impl PngStream {
    /// Starts on `prefix`, which holds at least the chunks up to the first
    /// `IDAT` ([`image_data_offset`]). `None` for what is not streamed
    /// (interlaced, output other than 8-bit RGB or RGBA) and anything the
    /// reader refuses: [`decode`] of the whole file answers those. With a
    /// `shrink` factor over 1 (RGB only), the rows go through a
    /// [`BoxShrink`] as [`decode_shrunk`] does, and the full image is never
    /// held.
    pub(crate) fn start(prefix: &[u8], shrink: u32) -> Option<PngStream> {
        let feed = Feed::default();
        feed.push(prefix);
        // As `image`'s `PngDecoder::new` sets the reader up.
        let mut decoder =
            png::Decoder::new_with_limits(feed.clone(), png::Limits { bytes: usize::MAX });
        decoder.set_ignore_text_chunk(false);
        let info = decoder.read_header_info().ok()?;
        if info.interlaced {
            return None;
        }
        decoder.set_transformations(png::Transformations::EXPAND);
        let reader = decoder.read_info().ok()?;
        let layout = match reader.output_color_type() {
            (png::ColorType::Rgb, png::BitDepth::Eight) => PixelLayout::Rgb8,
            (png::ColorType::Rgba, png::BitDepth::Eight) => PixelLayout::Rgba8,
            _ => return None,
        };
        let (width, height) = (reader.info().width, reader.info().height);
        if reader.info().frame_control.is_some()
            || width > MAX_SOURCE_SIDE
            || height > MAX_SOURCE_SIDE
            || u64::from(width) * u64::from(height) > MAX_SOURCE_PIXELS
        {
            return None;
        }
        let line = reader.output_line_size(width)?;
        let shrink = (shrink > 1 && layout == PixelLayout::Rgb8)
            .then(|| BoxShrink::new(width, height, shrink));
        let size = if shrink.is_some() {
            line
        } else {
            line.checked_mul(height as usize)?
        };
        let mut stream = PngStream {
            feed,
            reader,
            pixels: vec![0; size],
            shrink,
            layout,
            line,
            rows_done: 0,
            height: height as usize,
        };
        stream.decode_rows()?;
        Some(stream)
    }

    /// Takes in the next `chunk` of the body and decodes the rows it
    /// completes; `None` when the data is malformed (then [`decode`] of the
    /// whole file says what is wrong).
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Option<()> {
        self.feed.push(chunk);
        self.decode_rows()
    }

    fn decode_rows(&mut self) -> Option<()> {
        while self.rows_done < self.height {
            let start = match self.shrink {
                Some(_) => 0,
                None => self.rows_done * self.line,
            };
            let row = &mut self.pixels[start..start + self.line];
            match self.reader.read_row(row) {
                Ok(Some(_)) => {
                    if let Some(shrink) = &mut self.shrink {
                        shrink.push_row(row);
                    }
                    self.rows_done += 1;
                }
                Err(png::DecodingError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Some(())
                }
                Ok(None) | Err(_) => return None,
            }
        }
        Some(())
    }

    /// The share of the rows decoded (0.0 – 1.0).
    pub(crate) fn progress(&self) -> f64 {
        self.rows_done as f64 / self.height.max(1) as f64
    }

    /// The raster, once the whole body was pushed: `None` if the stream
    /// cannot end as [`decode`] would (then decode the whole file).
    pub(crate) fn finish(mut self) -> Option<Raster> {
        self.decode_rows()?;
        if self.rows_done < self.height {
            return None;
        }
        // After the last row, the reader reads the rest of the image data
        // (and its checksum) as `next_frame` does at the end.
        match self.reader.read_row(&mut []) {
            Ok(None) => {}
            _ => return None,
        }
        if let Some(shrink) = self.shrink {
            return shrink.finish().ok();
        }
        let (width, height) = (self.reader.info().width, self.height as u32);
        Raster::new(width, height, self.layout, self.pixels).ok()
    }
}

/// The bytes pushed into a [`PngStream`] and not read yet, shared by the
/// stream (which pushes) and its reader (which reads).
#[derive(Clone, Default)]
struct Feed {
    pushed: Rc<RefCell<Vec<u8>>>,
    /// What the reader holds: taken whole from `pushed` once used up.
    taken: Vec<u8>,
    read: usize,
}

impl Feed {
    fn push(&self, chunk: &[u8]) {
        self.pushed.borrow_mut().extend_from_slice(chunk);
    }
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Feed {
    /// Empty (the reader's `UnexpectedEof`) when everything pushed was read.
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.read == self.taken.len() {
            self.taken.clear();
            self.read = 0;
            std::mem::swap(&mut self.taken, &mut *self.pushed.borrow_mut());
        }
        Ok(&self.taken[self.read..])
    }

    fn consume(&mut self, amount: usize) {
        self.read = (self.read + amount).min(self.taken.len());
    }
}

impl Seek for Feed {
    /// The reader never seeks; only the position can be asked.
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match pos {
            SeekFrom::Current(0) => Ok(0),
            _ => Err(std::io::Error::new(
                ErrorKind::Unsupported,
                "the PNG stream cannot seek",
            )),
        }
    }
}

/// Encodes losslessly, keeping alpha when the image has any.
pub(crate) fn encode(raster: &Raster) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
    encoder
        .write_image(
            &raster.data,
            raster.width,
            raster.height,
            super::webp::extended_color_type(raster),
        )
        .map_err(|e| ProcessError::internal(format!("PNG encoder: {e}")))?;
    Ok(out)
}

/// Adam7 passes: (x start, y start, x step, y step).
pub const ADAM7: [(usize, usize, usize, usize); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

/// Encodes as an Adam7-interlaced PNG (`interlace,i_progressive`): the seven
/// passes' scanlines, each with the `Sub` filter, in one zlib stream.
pub(crate) fn encode_interlaced(raster: &Raster) -> Result<Vec<u8>> {
    let ch = raster.layout.channels();
    let (w, h) = (raster.width as usize, raster.height as usize);
    let mut raw = Vec::with_capacity(raster.data.len() + h * 7 * 2);
    for (x0, y0, dx, dy) in ADAM7 {
        if x0 >= w || y0 >= h {
            continue;
        }
        let pass_w = (w - x0).div_ceil(dx);
        for y in (y0..h).step_by(dy) {
            raw.push(1); // filter type Sub
            let start = raw.len();
            for i in 0..pass_w {
                let s = (y * w + x0 + i * dx) * ch;
                raw.extend_from_slice(&raster.data[s..s + ch]);
            }
            // Sub: each byte minus the byte one pixel to the left (right to left).
            for i in (start + ch..raw.len()).rev() {
                raw[i] = raw[i].wrapping_sub(raw[i - ch]);
            }
        }
    }
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 3);
    let mut out = Vec::with_capacity(compressed.len() + 64);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&raster.width.to_be_bytes());
    ihdr.extend_from_slice(&raster.height.to_be_bytes());
    let colour_type = if ch == 4 { 6 } else { 2 };
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 1]); // 8-bit, deflate, adaptive, Adam7
    write_chunk(&mut out, b"IHDR", &ihdr);
    write_chunk(&mut out, b"IDAT", &compressed);
    write_chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interlaced_png_decodes_to_the_same_pixels() {
        for (layout, ch) in [(PixelLayout::Rgb8, 3), (PixelLayout::Rgba8, 4)] {
            for (w, h) in [(1, 1), (3, 2), (9, 7), (33, 17)] {
                let data = (0..w * h * ch).map(|i| (i * 37 % 251) as u8).collect();
                let img = Raster::new(w as u32, h as u32, layout, data).unwrap();
                let png = encode_interlaced(&img).unwrap();
                assert_eq!(png[28], 1, "IHDR says Adam7");
                let back = decode(&png).unwrap();
                assert_eq!(back, img, "{w}x{h} {layout:?}");
            }
        }
    }

    /// Streams `bytes` in pieces of `piece` bytes as the intake does (the
    /// stream starts once the chunks before the image data are in); the
    /// raster it ends with, `None` when it declined or gave up.
    fn stream(bytes: &[u8], piece: usize, shrink: u32) -> Option<Raster> {
        let mut received = 0;
        let mut stream = loop {
            received = (received + piece).min(bytes.len());
            match image_data_offset(&bytes[..received]) {
                Ok(Some(_)) => break PngStream::start(&bytes[..received], shrink)?,
                Ok(None) if received < bytes.len() => continue,
                _ => return None,
            }
        };
        for chunk in bytes[received..].chunks(piece) {
            stream.push(chunk)?;
        }
        stream.finish()
    }

    /// Every corpus PNG, and a photo-sized one, in pieces from 1 byte to
    /// whole: a stream that ends gives exactly `decode`'s raster (and
    /// `decode` succeeds), and every well-formed 8-bit RGB(A) or palette
    /// file that is neither interlaced nor animated is streamed.
    #[test]
    fn a_streamed_png_decodes_exactly_as_the_whole_file() {
        let dir = crate::test_support::corpus_dir().join("png");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "png"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        let photo = crate::codec::jpeg::decode(
            &crate::test_support::corpus("orientation/Landscape_5.jpg"),
            &crate::codec::probe(&crate::test_support::corpus("orientation/Landscape_5.jpg"))
                .unwrap(),
            None,
        )
        .unwrap();
        files.push(("photo".into(), encode(&photo).unwrap()));
        let mut streamed = Vec::new();
        for (name, bytes) in &files {
            let whole = decode(bytes);
            let pieces: &[usize] = if bytes.len() < 100_000 {
                &[1, 7, 1000, 1 << 20]
            } else {
                &[13, 4096, 65536]
            };
            for &piece in pieces {
                if let Some(raster) = stream(bytes, piece, 1) {
                    match &whole {
                        Ok(w) => assert!(w == &raster, "{name} in {piece} B pieces"),
                        Err(e) => panic!("{name} in {piece} B pieces: streamed, but {e}"),
                    }
                    streamed.push(name.as_str());
                }
                // With a box shrink: decode_shrunk's result.
                if let Some(raster) = stream(bytes, piece, 3) {
                    let shrunk = decode_shrunk(bytes, 3).unwrap();
                    assert!(shrunk == raster, "{name} in {piece} B pieces, shrunk by 3");
                }
            }
            let simple = ihdr(bytes).is_some_and(|(_, _, colour)| matches!(colour, 2 | 3 | 6))
                && bytes[24] == 8
                && bytes[28] == 0
                && !bytes.windows(4).any(|w| w == b"acTL");
            if simple && whole.is_ok() && !name.starts_with('x') {
                assert!(
                    streamed.contains(&name.as_str()),
                    "{name}: a plain 8-bit PNG was not streamed"
                );
            }
        }
        assert!(streamed.contains(&"photo"));
    }

    /// Each output pixel is the rounded mean of its block, partial blocks
    /// at the right and bottom edges included.
    #[test]
    fn box_shrink_averages_each_block() {
        let (w, h) = (11u32, 7u32);
        let data: Vec<u8> = (0..w * h * 3).map(|i| (i * 29 % 256) as u8).collect();
        for factor in [1u32, 2, 3, 4, 11, 20] {
            let mut shrink = BoxShrink::new(w, h, factor);
            for row in data.chunks_exact(w as usize * 3) {
                shrink.push_row(row);
            }
            let out = shrink.finish().unwrap();
            let (ow, oh) = (w.div_ceil(factor), h.div_ceil(factor));
            assert_eq!(out.size(), (ow, oh), "factor {factor}");
            for by in 0..oh {
                for bx in 0..ow {
                    for c in 0..3 {
                        let (mut sum, mut n) = (0u32, 0u32);
                        for y in by * factor..((by + 1) * factor).min(h) {
                            for x in bx * factor..((bx + 1) * factor).min(w) {
                                sum += u32::from(data[((y * w + x) * 3 + c) as usize]);
                                n += 1;
                            }
                        }
                        let want = ((sum + n / 2) / n) as u8;
                        let got = out.data[((by * ow + bx) * 3 + c) as usize];
                        assert_eq!(got, want, "factor {factor} block {bx},{by} channel {c}");
                    }
                }
            }
        }
    }

    /// The factor covers twice the size the plan needs, and is 1 with alpha
    /// or when nothing smaller is needed.
    #[test]
    fn shrink_factor_covers_twice_the_need() {
        assert_eq!(shrink_factor((4272, 2848), Some((200, 133)), false), 10);
        assert_eq!(shrink_factor((4272, 2848), Some((200, 133)), true), 1);
        assert_eq!(shrink_factor((4272, 2848), None, false), 1);
        assert_eq!(shrink_factor((4272, 2848), Some((1080, 720)), false), 1);
        assert_eq!(shrink_factor((1000, 1000), Some((100, 250)), false), 2);
        // A 1 px result of the largest source: capped, so sums cannot overflow.
        assert_eq!(shrink_factor((9999, 9999), Some((1, 1)), false), MAX_SHRINK);
        let white = vec![255u8; 9999 * 3];
        let mut shrink = BoxShrink::new(9999, 300, 1000);
        for _ in 0..300 {
            shrink.push_row(&white);
        }
        let out = shrink.finish().unwrap();
        let side = |len: u32| len.div_ceil(MAX_SHRINK);
        assert_eq!(out.size(), (side(9999), side(300)));
        assert!(out.data.iter().all(|&v| v == 255));
        for (full, min) in [
            ((4272, 2848), (200, 133)),
            ((999, 333), (50, 7)),
            ((7, 5), (1, 1)),
        ] {
            let k = shrink_factor(full, Some(min), false);
            assert!(full.0.div_ceil(k) >= 2 * min.0 && full.1.div_ceil(k) >= 2 * min.1);
        }
    }
}
