//! JPEG at 1/8 scale from the DC coefficients alone.
//!
//! At 1/8 scale each 8×8 block becomes one pixel, the block's average, which
//! is its DC coefficient: `(DC × Q₀ + 1024) / 8`. The AC coefficients are
//! never needed, so:
//!
//! - **progressive** files are decoded from their DC scans only; the AC scans
//!   (most of the file) are skipped by looking for the next marker, without
//!   Huffman decoding. This is what makes progressive thumbnails cheap.
//! - **baseline** files still have to Huffman-decode every AC code to find
//!   where the next block starts, but nothing is dequantised, transformed or
//!   stored beyond one `i16` per block.
//!
//! The output is what `jpeg-decoder` gives at 1/8 scale (same block formula,
//! same fancy chroma upsampling, same BT.601 conversion), in a fraction of
//! the time and memory: coefficient storage is 1/64 of a full progressive
//! decode's.
//!
//! Only the common case is handled here: 8-bit Huffman-coded (SOF0/1/2)
//! greyscale or YCbCr with integer sampling ratios. Anything else, and any
//! file this decoder finds malformed (including one without its EOI marker,
//! which `jpeg-decoder` refuses when truncated), returns `None` and the caller
//! uses `jpeg-decoder`, so errors and unusual files behave exactly as before.

use super::jpeg_stream::{
    self, skip_ac, skip_entropy_data, upsample_row, Bits, BitsState, Header, Huffman, Plane, Scan,
    UpsampleScratch, Upsampling,
};
use crate::raster::{PixelLayout, Raster};

/// Decodes `bytes` at 1/8 scale (`ceil(w/8) × ceil(h/8)` px, RGB), or `None`
/// when the file is not one this decoder handles.
pub fn decode_eighth(bytes: &[u8]) -> Option<Raster> {
    let mut dc = DcPlanes::default();
    let header = jpeg_stream::walk(bytes, |header, scan, pos| dc.scan(header, scan, bytes, pos))?;
    dc.finish(&header)
}

/// The DC coefficient of every block, per component.
#[derive(Default)]
struct DcPlanes {
    /// Per component, `stride × rows` blocks (scaled by the successive
    /// approximation shift already).
    dc: Vec<Vec<i16>>,
    /// A DC first scan covered the component.
    seen: Vec<bool>,
}

impl DcPlanes {
    /// Room for every component's blocks, on the first scan.
    fn allocate(&mut self, header: &Header) {
        if self.dc.is_empty() {
            self.dc = header
                .components
                .iter()
                .map(|c| vec![0; c.stride * c.rows])
                .collect();
            self.seen = vec![false; header.components.len()];
        }
    }

    /// Decodes (DC) or skips (AC-only progressive) one scan; returns where
    /// the data after it starts.
    fn scan(
        &mut self,
        header: &Header,
        scan: &Scan,
        bytes: &[u8],
        data_start: usize,
    ) -> Option<usize> {
        self.allocate(header);
        if header.progressive && scan.spectral_start > 0 {
            return skip_entropy_data(bytes, data_start);
        }
        let mut cursor = ScanCursor::new(header, scan, data_start)?;
        cursor.advance(self, header, scan, bytes, None)?;
        cursor.end(self, scan, bytes)
    }

    fn finish(self, header: &Header) -> Option<Raster> {
        if self.seen.len() != header.components.len() || self.seen.iter().any(|&s| !s) {
            return None;
        }
        let ycbcr = header.is_ycbcr()?;
        let out_w = header.width.div_ceil(8);
        let out_h = header.height.div_ceil(8);
        // Each plane at its own size, as 1/8-scale samples.
        let mut planes = Vec::with_capacity(header.components.len());
        for (c, dc) in header.components.iter().zip(&self.dc) {
            let q = i32::from(header.quant.get(c.quant_table)?.as_ref()?[0]);
            let samples: Vec<u8> = dc
                .iter()
                .map(|&dc| ((i32::from(dc) * q + 1024) / 8).clamp(0, 255) as u8)
                .collect();
            planes.push(samples);
        }
        let mut rgb = vec![0u8; out_w * out_h * 3];
        let mut lines = vec![vec![0u8; out_w]; header.components.len()];
        let mut scratch = UpsampleScratch::default();
        for row in 0..out_h {
            for (i, c) in header.components.iter().enumerate() {
                let plane = Plane {
                    data: &planes[i],
                    stride: c.stride,
                    origin: (0, 0),
                    size: (c.blocks_w, c.blocks_h),
                };
                let factors = (header.h_max / c.h, header.v_max / c.v);
                let modes = Upsampling::choose(factors, (out_w, out_h));
                upsample_row(&plane, modes, row, 0, &mut lines[i], &mut scratch);
            }
            let out = &mut rgb[row * out_w * 3..(row + 1) * out_w * 3];
            let chroma = ycbcr.then(|| (&lines[1][..], &lines[2][..]));
            jpeg_stream::convert_row(out, &lines[0], chroma);
        }
        Raster::new(out_w as u32, out_h as u32, PixelLayout::Rgb8, rgb).ok()
    }
}

/// How a scan codes each block's DC coefficient.
struct BlockCoding {
    /// A first scan (baseline, or progressive with Ah = 0): Huffman-coded
    /// differences; otherwise a refinement: one raw bit per block.
    first: bool,
    /// Successive-approximation shift (Al).
    al: u8,
}

impl BlockCoding {
    /// Decodes one block into `slot`; with `ac` (baseline) also skips its AC codes.
    #[inline(always)]
    fn decode(
        &self,
        bits: &mut Bits,
        dc: Option<&Huffman>,
        ac: Option<&Huffman>,
        pred: &mut i32,
        slot: &mut i16,
    ) -> Option<()> {
        if self.first {
            *pred += bits.dc_diff(dc?)?;
            *slot = i16::try_from(*pred << self.al).ok()?;
        } else {
            *slot |= (bits.bits(1) as i16) << self.al;
        }
        if let Some(ac) = ac {
            skip_ac(bits, ac)?;
        }
        Some(())
    }
}

/// Most entropy-coded bytes one block can take, stuffing included: a DC
/// code (≤ 16 bits) with ≤ 11 extra bits, then at most 63 AC codes of ≤ 16
/// bits with ≤ 15 extra bits (what a corrupt table can claim) is 1980 bits,
/// 248 bytes, twice that when every byte is a stuffed `FF 00`.
const MAX_BLOCK_BYTES: usize = 512;

/// How far the decoding of one scan has come: the next unit (an MCU of an
/// interleaved scan, a block of a single-component one), the DC predictions,
/// the restart markers passed and the bit reader. A scan can be decoded in
/// several calls over ever longer prefixes of the file ([`DcStream`]).
struct ScanCursor {
    unit: usize,
    units: usize,
    preds: Vec<i32>,
    restarts: usize,
    bits: BitsState,
    block: BlockCoding,
    /// Most bytes one unit can read, with the bit reader's look-ahead and a
    /// restart marker: a prefix holding this many bytes past the reader
    /// decodes the unit exactly as the whole file does.
    unit_bytes: usize,
}

impl ScanCursor {
    /// The cursor at the start of `scan`, whose entropy-coded data starts at
    /// `data_start`; `None` for a scan this decoder does not handle.
    fn new(header: &Header, scan: &Scan, data_start: usize) -> Option<ScanCursor> {
        if scan.spectral_start != 0 || scan.al > 13 {
            return None;
        }
        let first = !header.progressive || scan.ah == 0;
        for &(_, td, ta) in &scan.members {
            if first {
                header.dc_tables.get(td)?.as_ref()?;
            }
            if !header.progressive {
                header.ac_tables.get(ta)?.as_ref()?;
            }
        }
        let (units, blocks) = match scan.members[..] {
            [(index, ..)] => {
                let c = header.components.get(index)?;
                (c.blocks_w * c.blocks_h, 1)
            }
            _ => (
                header.mcus_x * header.mcus_y,
                scan.members
                    .iter()
                    .map(|&(index, ..)| header.components.get(index).map(|c| c.h * c.v))
                    .sum::<Option<usize>>()?,
            ),
        };
        Some(ScanCursor {
            unit: 0,
            units,
            preds: vec![0; scan.members.len()],
            restarts: 0,
            bits: Bits::new(&[], data_start).state(),
            block: BlockCoding { first, al: scan.al },
            unit_bytes: blocks * MAX_BLOCK_BYTES + 16,
        })
    }

    /// Decodes units of `scan` from `bytes`, the file's first bytes. With
    /// `available` (the length of a prefix still growing) it stops before a
    /// unit whose bytes might not all be there yet; with `None` it decodes
    /// to the end of the scan. `None` when the data is malformed.
    fn advance(
        &mut self,
        dc: &mut DcPlanes,
        header: &Header,
        scan: &Scan,
        bytes: &[u8],
        available: Option<usize>,
    ) -> Option<()> {
        let members = &scan.members;
        let mut tables = Vec::with_capacity(members.len());
        for &(_, td, ta) in members {
            let dc = if self.block.first {
                Some(header.dc_tables.get(td)?.as_ref()?)
            } else {
                None
            };
            let ac = if header.progressive {
                None
            } else {
                Some(header.ac_tables.get(ta)?.as_ref()?)
            };
            tables.push((dc, ac));
        }
        let mut bits = Bits::resume(bytes, self.bits);
        let restart = header.restart_interval;
        while self.unit < self.units {
            if available.is_some_and(|end| bits.pos + self.unit_bytes > end) {
                break;
            }
            let i = self.unit;
            if let [(index, ..)] = members[..] {
                // Non-interleaved: the component's own blocks, row by row;
                // each block is an MCU.
                let (dc_table, ac_table) = tables[0];
                let c = &header.components[index];
                let at = (i / c.blocks_w) * c.stride + i % c.blocks_w;
                let slot = &mut dc.dc[index][at];
                self.block
                    .decode(&mut bits, dc_table, ac_table, &mut self.preds[0], slot)?;
            } else {
                let (mx, my) = (i % header.mcus_x, i / header.mcus_x);
                for (member, &(index, ..)) in members.iter().enumerate() {
                    let (dc_table, ac_table) = tables[member];
                    let c = &header.components[index];
                    let plane = &mut dc.dc[index];
                    for y in 0..c.v {
                        for x in 0..c.h {
                            let at = (my * c.v + y) * c.stride + mx * c.h + x;
                            self.block.decode(
                                &mut bits,
                                dc_table,
                                ac_table,
                                &mut self.preds[member],
                                &mut plane[at],
                            )?;
                        }
                    }
                }
            }
            if restart > 0 && (i + 1).is_multiple_of(restart) && i + 1 < self.units {
                bits.restart(self.restarts)?;
                self.restarts += 1;
                self.preds.iter_mut().for_each(|p| *p = 0);
            }
            self.unit += 1;
        }
        self.bits = bits.state();
        Some(())
    }

    /// The scan is decoded: marks its components and returns where the data
    /// after it starts.
    fn end(&self, dc: &mut DcPlanes, scan: &Scan, bytes: &[u8]) -> Option<usize> {
        for &(index, ..) in &scan.members {
            dc.seen[index] |= self.block.first;
        }
        skip_entropy_data(bytes, Bits::resume(bytes, self.bits).pos)
    }
}

/// [`decode_eighth`] of a baseline file that is still arriving: each call
/// to [`DcStream::advance`] decodes the blocks the bytes in so far certainly
/// hold, so most of the work is done by the time the last byte comes, and
/// [`DcStream::finish`] gives exactly what [`decode_eighth`] gives for the
/// whole file (it decodes the rest and every later scan the same way).
pub(crate) struct DcStream {
    header: Header,
    scan: Scan,
    /// Where the first scan's entropy-coded data starts.
    data_start: usize,
    planes: DcPlanes,
    cursor: ScanCursor,
}

impl DcStream {
    /// Starts on `prefix`, the first bytes of a file, once they hold every
    /// header up to the first scan's; `Err(false)` before that. `Err(true)`
    /// for a file not streamed: progressive ones (their DC scans come first
    /// and are small, so there is little to overlap), a first scan that does
    /// not cover every component, anything [`decode_eighth`] declines from
    /// its headers. Nothing is allocated until the first
    /// [`DcStream::advance`] (2 bytes per 8×8 block), so the caller can check
    /// the image's size limits in between.
    pub(crate) fn start(prefix: &[u8]) -> Result<DcStream, bool> {
        let mut first = None;
        jpeg_stream::walk(prefix, |header, scan, data_start| {
            first = Some((header.clone(), scan.clone(), data_start));
            None
        });
        let (header, scan, data_start) = first.ok_or(false)?;
        if header.progressive
            || scan.members.len() != header.components.len()
            || header.is_ycbcr().is_none()
        {
            return Err(true);
        }
        let cursor = ScanCursor::new(&header, &scan, data_start).ok_or(true)?;
        Ok(DcStream {
            header,
            scan,
            data_start,
            planes: DcPlanes::default(),
            cursor,
        })
    }

    /// Decodes what `bytes`, the file's first bytes (more of them at each
    /// call), certainly hold. `None` when the data is malformed: drop the
    /// stream and let the whole file go to [`decode_eighth`] as usual.
    pub(crate) fn advance(&mut self, bytes: &[u8]) -> Option<()> {
        self.planes.allocate(&self.header);
        self.cursor.advance(
            &mut self.planes,
            &self.header,
            &self.scan,
            bytes,
            Some(bytes.len()),
        )
    }

    /// How many of the bytes given to [`DcStream::advance`] the stream is
    /// done with: the ones before this offset are never read again, so the
    /// caller may drop those after [`DcStream::data_start`] (see
    /// [`DcStream::forget`]).
    pub(crate) fn consumed(&self) -> usize {
        self.cursor.bits.pos()
    }

    /// Where the first scan's entropy-coded data starts: everything before
    /// it is the file's header, which later calls must still be given.
    pub(crate) fn data_start(&self) -> usize {
        self.data_start
    }

    /// The caller dropped `n` bytes from `data_start` on (at most up to
    /// [`DcStream::consumed`]): later calls get the bytes without them.
    pub(crate) fn forget(&mut self, n: usize) {
        debug_assert!(self.data_start + n <= self.consumed());
        self.cursor.bits = self.cursor.bits.rebased(n);
    }

    /// The share of the first scan's units decoded so far, 0.0 – 1.0.
    pub(crate) fn progress(&self) -> f64 {
        self.cursor.unit as f64 / self.cursor.units.max(1) as f64
    }

    /// The whole file `bytes` is in (the prefixes given before were its
    /// first bytes): decodes the rest, as [`decode_eighth`] does.
    pub(crate) fn finish(mut self, bytes: &[u8]) -> Option<Raster> {
        self.planes.allocate(&self.header);
        self.cursor
            .advance(&mut self.planes, &self.header, &self.scan, bytes, None)?;
        let next = self.cursor.end(&mut self.planes, &self.scan, bytes)?;
        let mut planes = self.planes;
        let header = jpeg_stream::walk_from(bytes, self.header, next, |header, scan, pos| {
            planes.scan(header, scan, bytes, pos)
        })?;
        planes.finish(&header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_handled_and_declined, corpus, corpus_jpegs, max_diff};

    /// `jpeg-decoder` at 1/8 scale, as RGB: the reference.
    fn reference(bytes: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        d.read_info().ok()?;
        let info = d.info()?;
        d.scale(info.width.div_ceil(8), info.height.div_ceil(8))
            .ok()?;
        let pixels = d.decode().ok()?;
        let info = d.info()?;
        let rgb = match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => pixels,
            jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
            _ => return None,
        };
        Some((u32::from(info.width), u32::from(info.height), rgb))
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        if mse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (255.0f64 * 255.0 / mse).log10()
        }
    }

    /// Corpus files `jpeg-decoder` refuses for damage in their AC scans only
    /// (MANIFEST: "must either decode or be rejected").
    const AC_ONLY_DAMAGE: &[&str] = &["subtract-with-overflow.jpg"];

    /// Every JPEG of the corpus: where this decoder answers, `jpeg-decoder`
    /// answers too, with the same size and the same pixels (within its SIMD
    /// colour conversion's ±1); where `jpeg-decoder` refuses a file, so does this.
    #[test]
    fn agrees_with_jpeg_decoder_on_the_corpus() {
        let mut handled = Vec::new();
        let mut declined = Vec::new();
        for (name, bytes) in corpus_jpegs() {
            let ours = decode_eighth(&bytes);
            let theirs = reference(&bytes);
            match (ours, theirs) {
                (Some(r), Some((w, h, rgb))) => {
                    assert_eq!((r.width, r.height), (w, h), "{name}");
                    let p = psnr(&r.data, &rgb);
                    let worst = max_diff(&r.data, &rgb);
                    assert!(
                        p >= 50.0 && worst <= 2,
                        "{name}: {p:.1} dB, max diff {worst}"
                    );
                    handled.push(name);
                }
                // Fuzz reproducers whose AC data breaks jpeg-decoder:
                // their DC scans are sound, and AC scans are skipped here.
                (Some(r), None) if AC_ONLY_DAMAGE.contains(&name.as_str()) => {
                    assert_eq!((r.width, r.height), (69, 43), "{name}");
                    handled.push(name);
                }
                (Some(_), None) => panic!("{name}: decoded here, refused by jpeg-decoder"),
                (None, _) => declined.push(name),
            }
        }
        eprintln!("handled: {handled:?}\ndeclined: {declined:?}");
        assert_handled_and_declined(
            &handled,
            &declined,
            &[
                "jpg-progressive.jpg",
                "progressive3.jpg",
                "restarts.jpg",
                "non_interleaved_420_64x64.jpg",
                "non_interleaved_440_64x64.jpg",
                "sampling_factors.jpg",
                "jpg-size-1x1.jpg",
                "jpg-size-7x7.jpg",
                "jpg-size-17x17.jpg",
                "jpg-gray.jpg",
                "down_sampled_grayscale_prog.jpg",
                "Landscape_5.jpg",
                "Wine_by_Jakkub_Mede.jpg",
            ],
            &[
                "cmyk-icc.jpg",
                "testimgari.jpg",
                "truncated_jpeg.jpg",
                "jpeg_lossless_sel1.jpg",
            ],
        );
    }

    /// Blocks whose last coefficient is coded (no end-of-block code, so the
    /// next code is the next block's DC), long codes and all-zero blocks
    /// must keep `skip_ac` in step. Noise at quality 100 and 75, a smooth
    /// ramp at 50, in the samplings `jpeg-encoder` writes, against `jpeg-decoder`.
    #[test]
    fn agrees_with_jpeg_decoder_on_dense_and_sparse_blocks() {
        use jpeg_encoder::SamplingFactor as S;
        let (w, h) = (67u16, 45u16);
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let noise: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let ramp: Vec<u8> = (0..usize::from(w) * usize::from(h))
            .flat_map(|i| {
                let (x, y) = (i % usize::from(w), i / usize::from(w));
                [(x * 3) as u8, (y * 5) as u8, ((x + y) * 2) as u8]
            })
            .collect();
        for (name, pixels, quality) in [
            ("noise", &noise, 100),
            ("noise", &noise, 75),
            ("ramp", &ramp, 50),
        ] {
            for sampling in [S::F_1_1, S::F_2_1, S::F_2_2, S::F_4_1] {
                let label = format!("{name} Q{quality} {sampling:?}");
                let mut bytes = Vec::new();
                let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
                encoder.set_sampling_factor(sampling);
                encoder
                    .encode(pixels, w, h, jpeg_encoder::ColorType::Rgb)
                    .unwrap();
                let ours = decode_eighth(&bytes).unwrap_or_else(|| panic!("{label}: declined"));
                let (tw, th, theirs) = reference(&bytes).unwrap();
                assert_eq!((ours.width, ours.height), (tw, th), "{label}");
                let worst = max_diff(&ours.data, &theirs);
                assert!(worst <= 2, "{label}: max diff {worst}");
            }
        }
    }

    /// Feeds `bytes` to a [`DcStream`] in pieces of `piece` bytes, as a
    /// proxy hands a body over; returns what it finished with (`None`: it
    /// never started or gave up), its progress when 90 % of the bytes were
    /// in, and the most bytes it was given at once. With `forget`, the bytes
    /// the stream is done with are dropped after every piece, as the intake
    /// does, and the stream gets the header and the rest only.
    fn stream_in_pieces(
        bytes: &[u8],
        piece: usize,
        forget: bool,
    ) -> (Option<Option<Raster>>, f64, usize) {
        let mut stream: Option<DcStream> = None;
        let mut gave_up = false;
        let mut fed = 0;
        let mut progress_at_90 = 0.0;
        let mut held: Vec<u8> = Vec::new();
        let mut most_held = 0;
        while fed < bytes.len() {
            let next = (fed + piece).min(bytes.len());
            held.extend_from_slice(&bytes[fed..next]);
            fed = next;
            most_held = most_held.max(held.len());
            if let Some(s) = &mut stream {
                if s.advance(&held).is_none() {
                    stream = None;
                    gave_up = true;
                }
            } else if !gave_up {
                match DcStream::start(&held) {
                    Ok(s) => stream = Some(s),
                    Err(declined) => gave_up = declined,
                }
            }
            if let Some(s) = stream.as_mut().filter(|_| forget) {
                let start = s.data_start();
                let done = s.consumed().saturating_sub(start);
                if done > 0 {
                    held.drain(start..start + done);
                    s.forget(done);
                }
            }
            if fed * 10 <= bytes.len() * 9 {
                progress_at_90 = stream.as_ref().map_or(0.0, DcStream::progress);
            }
        }
        let held = if forget { held } else { bytes.to_vec() };
        (stream.map(|s| s.finish(&held)), progress_at_90, most_held)
    }

    /// Fed in pieces of any size, the stream ends with exactly what
    /// [`decode_eighth`] gives for the whole file (every JPEG of the corpus,
    /// the broken ones included), and on the larger baseline photos it has
    /// decoded most blocks before the last 10 % of the bytes are in.
    #[test]
    fn streaming_gives_the_whole_file_decode() {
        let mut streamed = Vec::new();
        for (name, bytes) in corpus_jpegs() {
            let whole = decode_eighth(&bytes);
            let pieces: &[usize] = if bytes.len() <= 64 * 1024 {
                &[1, 7, 1000, 16 * 1024]
            } else {
                &[997, 16 * 1024, 300 * 1024]
            };
            for (&piece, forget) in pieces.iter().flat_map(|p| [(p, false), (p, true)]) {
                let (finished, progress_at_90, most_held) = stream_in_pieces(&bytes, piece, forget);
                let Some(finished) = finished else { continue };
                if forget && bytes.len() > 200 * 1024 && piece < 300 * 1024 {
                    // The header, one piece and what one unit may need.
                    assert!(
                        most_held < bytes.len() / 4,
                        "{name}/{piece}: held {most_held} of {} bytes",
                        bytes.len()
                    );
                }
                match (&finished, &whole) {
                    (Some(a), Some(b)) => {
                        assert_eq!((a.width, a.height), (b.width, b.height), "{name}/{piece}");
                        assert!(a.data == b.data, "{name}/{piece}: pixels differ");
                    }
                    (None, None) => {}
                    _ => panic!(
                        "{name}/{piece} (forget: {forget}): streamed {:?}, whole {:?}",
                        finished.is_some(),
                        whole.is_some()
                    ),
                }
                if bytes.len() > 200 * 1024 && piece < 300 * 1024 && whole.is_some() {
                    assert!(
                        progress_at_90 >= 0.6,
                        "{name}/{piece}: {progress_at_90:.2} at 90 %"
                    );
                }
                streamed.push(name.clone());
            }
        }
        for must in [
            "Landscape_5.jpg",
            "Portrait_6.jpg",
            "restarts.jpg",
            "jpg-gray.jpg",
        ] {
            assert!(streamed.iter().any(|n| n == must), "{must} not streamed");
        }
        // Progressive files are not streamed (their DC scans come first).
        assert!(!streamed.iter().any(|n| n == "Wine_by_Jakkub_Mede.jpg"));
    }

    /// A truncated progressive file still holds its DC scans, but without
    /// its end it is refused here, as `jpeg-decoder` refuses it.
    #[test]
    fn truncated_progressive_is_left_to_jpeg_decoder() {
        let bytes = corpus("photos/Wine_by_Jakkub_Mede.jpg");
        assert!(decode_eighth(&bytes).is_some());
        assert!(decode_eighth(&bytes[..bytes.len() * 2 / 3]).is_none());
    }

    /// Restart markers in the right places are required.
    #[test]
    fn corrupt_entropy_data_declines_or_stays_in_bounds() {
        let bytes = corpus("jpeg/restarts.jpg");
        for cut in (200..bytes.len()).step_by(97) {
            let mut broken = bytes.clone();
            broken[cut] ^= 0x5A;
            if let Some(r) = decode_eighth(&broken) {
                assert_eq!(r.data.len(), (r.width * r.height * 3) as usize);
            }
        }
    }
}
