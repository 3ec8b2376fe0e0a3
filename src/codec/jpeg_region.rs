//! A pixel window of a baseline JPEG, decoded without the rest of the image;
//! and the whole of one at half scale ([`decode_half`]).
//!
//! A crop of a large photo needs a fraction of its pixels, yet
//! `jpeg-decoder` transforms and converts them all. Here the entropy-coded
//! data is read only down to the last MCU that the window touches (the rest
//! of the scan is skipped by looking for its end marker). On the way, blocks
//! outside the window have their DC coefficient decoded (the next block's
//! prediction needs it) and their AC codes skipped with
//! [`jpeg_stream::skip_ac`]; only blocks inside the window, plus the chroma
//! samples its upsampling reads beyond the edges, are dequantised and
//! transformed, and only the window's pixels are upsampled and converted to
//! RGB. A 1000×1000 crop from the middle of a 12 MP photo reads two thirds of
//! the entropy-coded data and transforms under a tenth of the blocks.
//!
//! The pixels are those of `jpeg-decoder` 0.3.2's portable code (the
//! `bit-identical` build) to the bit: the same integer IDCT (stb_image's,
//! ported below from its `idct.rs`; MIT/Apache-2.0, by the image-rs
//! developers), the same fancy chroma upsampling and BT.601 conversion
//! ([`jpeg_stream`]). Its SIMD code (SSSE3 natively, simd128 in the filter)
//! rounds some pixels 1 level differently.
//!
//! Handled: baseline (SOF0/1), 8-bit, Huffman, greyscale or YCbCr with
//! integer sampling ratios, interleaved or one scan per component, restart
//! intervals. Anything else returns `None` (progressive, arithmetic,
//! 12-bit, lossless, CMYK, RGB), as does any damage this
//! decoder reads, or a file without its EOI, and the caller decodes the whole
//! image with `jpeg-decoder` instead. Damage in the data below the window
//! is not read, so there this answers where `jpeg-decoder` would refuse.

use super::jpeg_stream::{
    self, decode_ac, skip_ac, skip_entropy_data, upsample_row, Bits, Header, Huffman, Plane, Scan,
    UpsampleScratch, Upsampling,
};
use super::lanes::Lanes;
use super::yuv::{SamplePlane, YcbcrPlanes};
use crate::raster::{PixelLayout, Raster};
use core::num::Wrapping;

/// The `w`×`h` px at (`x`, `y`) of `bytes` (as stored, before any EXIF
/// orientation), RGB; `None` when the file is not one this decoder handles
/// or the window is not inside the image.
pub fn decode_region(bytes: &[u8], (x, y, w, h): (u32, u32, u32, u32)) -> Option<Raster> {
    let window = Window {
        x: x as usize,
        y: y as usize,
        w: w as usize,
        h: h as usize,
    };
    decode_scaled(bytes, FULL, |_| window)
}

/// The whole image at half scale, RGB: `ceil(width / 2)` × `ceil(height /
/// 2)` px, each block transformed by `jpeg-decoder`'s 4×4 IDCT from its
/// top-left 4×4 coefficients, the pixels of `jpeg-decoder`'s `scale()` to
/// 4/8 to the bit (its 4×4 IDCT has no SIMD code; its colour conversion
/// has). `None` for what [`decode_region`] declines.
///
/// `jpeg-decoder` reaches the same pixels, but its entropy decoding is the
/// larger part of a half-scale decode, and this decoder's table lookups
/// (several bits per step, [`jpeg_stream::decode_ac`]) are faster.
pub fn decode_half(bytes: &[u8]) -> Option<Raster> {
    decode_scaled(bytes, HALF, |(w, h)| Window { x: 0, y: 0, w, h })
}

/// Samples per block side: 8 at full scale, 4 at half scale.
const FULL: usize = 8;
const HALF: usize = 4;

/// Decodes `bytes` with `block` samples per block side (8 or 4), the window
/// `window_of` names for the output size at that scale.
fn decode_scaled(
    bytes: &[u8],
    block: usize,
    window_of: impl Fn((usize, usize)) -> Window,
) -> Option<Raster> {
    let (header, targets, window) = decode_components(bytes, block, window_of)?;
    finish(&header, &targets, &window)
}

/// The whole image at half scale as the file stores it: the luma plane at
/// `ceil(width / 2)` × `ceil(height / 2)` samples and both chroma planes at
/// their own sampling (for 4:2:2, half the luma width), full-range BT.601
/// YCbCr as JPEG defines it, neither upsampled nor converted. The samples
/// are those [`decode_half`] upsamples and converts, to the bit.
///
/// `None` for what [`decode_half`] declines, for greyscale files, and when
/// the luma is not the most finely sampled component (no camera writes
/// that; [`decode_half`] handles it).
pub fn decode_half_planes(bytes: &[u8]) -> Option<YcbcrPlanes> {
    let whole = |(w, h)| Window { x: 0, y: 0, w, h };
    let (header, targets, _) = decode_components(bytes, HALF, whole)?;
    if header.is_ycbcr() != Some(true) {
        return None;
    }
    let luma = &header.components[0];
    if (luma.h, luma.v) != (header.h_max, header.v_max) {
        return None;
    }
    let mut planes = header.components.iter().zip(targets).map(|(c, t)| {
        let (w, h) = t.size;
        let data = if t.stride == w {
            // Whole blocks across: the rows are the plane's already.
            let mut samples = t.samples;
            samples.truncate(w * h);
            samples
        } else {
            let mut data = Vec::with_capacity(w * h);
            for row in t.samples.chunks_exact(t.stride).take(h) {
                data.extend_from_slice(&row[..w]);
            }
            data
        };
        // The picture's extent in this component's samples at half scale;
        // `t.size` is that rounded up.
        let covered = (
            (header.width * c.h * HALF) as f64 / (header.h_max * 8) as f64,
            (header.height * c.v * HALF) as f64 / (header.v_max * 8) as f64,
        );
        SamplePlane::new(w as u32, h as u32, data, covered)
    });
    let (y, cb, cr) = (planes.next()??, planes.next()??, planes.next()??);
    Some(YcbcrPlanes { y, cb, cr })
}

/// Decodes every scan of `bytes` with `block` samples per block side (8 or
/// 4), keeping the blocks of the window `window_of` names for the output
/// size at that scale; with the header, the components' samples and the
/// window.
fn decode_components(
    bytes: &[u8],
    block: usize,
    window_of: impl Fn((usize, usize)) -> Window,
) -> Option<(Header, Vec<ComponentWindow>, Window)> {
    let mut targets: Vec<ComponentWindow> = Vec::new();
    let mut window = None;
    let header = jpeg_stream::walk(bytes, |header, scan, pos| {
        if targets.is_empty() {
            let w = window_of(scaled_size(header, block));
            targets = plan_window(header, &w, block)?;
            window = Some(w);
        }
        decode_scan(header, scan, bytes, pos, &mut targets)
    })?;
    if targets.is_empty() || targets.iter().any(|t| !t.seen) {
        return None;
    }
    Some((header, targets, window?))
}

/// The image's size at `block`/8 scale, as `jpeg-decoder` rounds it.
fn scaled_size(header: &Header, block: usize) -> (usize, usize) {
    (
        (header.width * block).div_ceil(8),
        (header.height * block).div_ceil(8),
    )
}

/// The requested window, in px of the output (the image at its scale).
#[derive(Clone, Copy)]
struct Window {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// One component's part of the window: the blocks it needs, decoded.
struct ComponentWindow {
    /// How `jpeg-decoder` upsamples it, horizontally and vertically.
    modes: (Upsampling, Upsampling),
    /// First and last block column and row needed (inclusive).
    bx: (usize, usize),
    by: (usize, usize),
    /// The samples of those blocks, `stride` per row.
    samples: Vec<u8>,
    stride: usize,
    /// Samples per block side: 8, or 4 at half scale.
    block: usize,
    /// The component's whole size in samples at that scale.
    size: (usize, usize),
    /// A scan decoded it.
    seen: bool,
}

impl ComponentWindow {
    #[inline(always)]
    fn wants(&self, bx: usize, by: usize) -> bool {
        (self.bx.0..=self.bx.1).contains(&bx) && (self.by.0..=self.by.1).contains(&by)
    }
}

/// Which blocks of each component the window needs, with room for their
/// samples at `block` samples per block side; `None` when the frame is not
/// one handled here or the window is empty or not inside the image.
fn plan_window(header: &Header, window: &Window, block: usize) -> Option<Vec<ComponentWindow>> {
    let out = scaled_size(header, block);
    if header.progressive
        || window.w == 0
        || window.h == 0
        || window.x + window.w > out.0
        || window.y + window.h > out.1
    {
        return None;
    }
    header.is_ycbcr()?;
    let mut targets = Vec::with_capacity(header.components.len());
    for c in &header.components {
        let modes = Upsampling::choose((header.h_max / c.h, header.v_max / c.v), out);
        // jpeg-decoder's `component.size` at this scale.
        let size = (
            (header.width * c.h * block).div_ceil(header.h_max * 8),
            (header.height * c.v * block).div_ceil(header.v_max * 8),
        );
        let (x, y) = (window.x, window.y);
        let (sx0, sx1) = modes.0.reads(x, x + window.w - 1, size.0);
        let (sy0, sy1) = modes.1.reads(y, y + window.h - 1, size.1);
        let (bx, by) = ((sx0 / block, sx1 / block), (sy0 / block, sy1 / block));
        let stride = (bx.1 - bx.0 + 1) * block;
        targets.push(ComponentWindow {
            modes,
            bx,
            by,
            samples: vec![0; stride * (by.1 - by.0 + 1) * block],
            stride,
            block,
            size,
            seen: false,
        });
    }
    Some(targets)
}

/// Decodes one scan down to the window's last MCU in it; returns where the
/// scan's data ends.
fn decode_scan(
    header: &Header,
    scan: &Scan,
    bytes: &[u8],
    data_start: usize,
    targets: &mut [ComponentWindow],
) -> Option<usize> {
    if scan.spectral_start != 0 || (scan.ah, scan.al) != (0, 0) {
        return None;
    }
    // Per member: component index, tables, quantisation table.
    let mut members = Vec::with_capacity(scan.members.len());
    for &(index, td, ta) in &scan.members {
        let c = &header.components[index];
        let t = targets.get_mut(index)?;
        if t.seen {
            return None; // a second scan of it: progressive in all but name
        }
        t.seen = true;
        members.push((
            index,
            header.dc_tables.get(td)?.as_ref()?,
            header.ac_tables.get(ta)?.as_ref()?,
            header.quant.get(c.quant_table)?.as_ref()?,
        ));
    }
    let mut bits = Bits::new(bytes, data_start);
    let mut blocks = Blocks {
        members,
        preds: [0; 3],
        coefficients: [0; 64],
    };
    let restart = header.restart_interval;
    let mut restarts = 0;
    if blocks.members.len() == 1 {
        // Non-interleaved: the component's blocks row by row, each its own MCU.
        let index = blocks.members[0].0;
        let c = &header.components[index];
        let last = targets[index].by.1 * c.blocks_w + targets[index].bx.1;
        let total = c.blocks_w * c.blocks_h;
        for i in 0..=last {
            blocks.decode(&mut bits, targets, 0, i % c.blocks_w, i / c.blocks_w)?;
            if restart > 0 && (i + 1) % restart == 0 && i + 1 < total {
                bits.restart(restarts)?;
                restarts += 1;
                blocks.preds = [0; 3];
            }
        }
    } else {
        let mcus_x = header.mcus_x;
        let last = blocks
            .members
            .iter()
            .map(|&(index, ..)| {
                let (c, t) = (&header.components[index], &targets[index]);
                (t.by.1 / c.v) * mcus_x + t.bx.1 / c.h
            })
            .max()?;
        let total = mcus_x * header.mcus_y;
        for mcu in 0..=last {
            let (mx, my) = (mcu % mcus_x, mcu / mcus_x);
            for m in 0..blocks.members.len() {
                let c = &header.components[blocks.members[m].0];
                for v in 0..c.v {
                    for h in 0..c.h {
                        blocks.decode(&mut bits, targets, m, mx * c.h + h, my * c.v + v)?;
                    }
                }
            }
            if restart > 0 && (mcu + 1) % restart == 0 && mcu + 1 < total {
                bits.restart(restarts)?;
                restarts += 1;
                blocks.preds = [0; 3];
            }
        }
    }
    // The rest of the scan is not needed: continue at its end.
    skip_entropy_data(bytes, bits.pos)
}

/// The scan's members and the decoding state between their blocks.
struct Blocks<'a> {
    /// Per member: component index, DC and AC tables, quantisation table.
    members: Vec<(usize, &'a Huffman, &'a Huffman, &'a [u16; 64])>,
    /// DC predictions per member.
    preds: [i32; 3],
    coefficients: [i16; 64],
}

impl Blocks<'_> {
    /// Decodes block (`bx`, `by`) of member `m`: its DC difference always,
    /// the rest only when the window needs the block.
    #[inline(always)]
    fn decode(
        &mut self,
        bits: &mut Bits,
        targets: &mut [ComponentWindow],
        m: usize,
        bx: usize,
        by: usize,
    ) -> Option<()> {
        let (index, dc, ac, quant) = self.members[m];
        let pred = &mut self.preds[m];
        *pred += bits.dc_diff(dc)?;
        let dc_value = i16::try_from(*pred).ok()?;
        let t = &mut targets[index];
        if !t.wants(bx, by) {
            return skip_ac(bits, ac);
        }
        self.coefficients = [0; 64];
        let has_ac = decode_ac(bits, ac, &mut self.coefficients)?;
        self.coefficients[0] = dc_value;
        let n = t.block;
        let at = (by - t.by.0) * n * t.stride + (bx - t.bx.0) * n;
        let out = t.samples.get_mut(at..at + (n - 1) * t.stride + n)?;
        match (has_ac, n) {
            (true, FULL) => idct(&self.coefficients, quant, out, t.stride),
            (true, _) => idct_4x4(&self.coefficients, quant, out, t.stride),
            (false, _) => idct_dc_only(dc_value, quant[0], out, t.stride, n),
        }
        Some(())
    }
}

/// Upsamples and converts the window's px.
fn finish(header: &Header, targets: &[ComponentWindow], window: &Window) -> Option<Raster> {
    let ycbcr = header.is_ycbcr()?;
    let mut rgb = vec![0u8; window.w * window.h * 3];
    let mut lines = vec![vec![0u8; window.w]; targets.len()];
    let mut scratch = UpsampleScratch::default();
    for (row, out) in (window.y..).zip(rgb.chunks_exact_mut(window.w * 3)) {
        for (t, line) in targets.iter().zip(&mut lines) {
            let plane = Plane {
                data: &t.samples,
                stride: t.stride,
                origin: (t.bx.0 * t.block, t.by.0 * t.block),
                size: t.size,
            };
            upsample_row(&plane, t.modes, row, window.x, line, &mut scratch);
        }
        let chroma = ycbcr.then(|| (&lines[1][..], &lines[2][..]));
        jpeg_stream::convert_row(out, &lines[0], chroma);
    }
    Raster::new(window.w as u32, window.h as u32, PixelLayout::Rgb8, rgb).ok()
}

// The 8×8 IDCT of `jpeg-decoder` 0.3.2's `idct.rs` (portable path), itself
// stb_image's `stbi__idct_block`: 12-bit fixed-point constants, wrapping
// arithmetic (hostile files overflow it), rounding identical to the bit.

type W = Wrapping<i32>;

/// `x` in 12-bit fixed point, computed in `f32` as `jpeg-decoder` does.
const fn f2f(x: f32) -> W {
    Wrapping((x * 4096.0 + 0.5) as i32)
}

#[inline(always)]
fn fsh(x: W) -> W {
    x << 12
}

#[inline(always)]
fn clamp(x: W) -> u8 {
    x.0.clamp(0, 255) as u8
}

#[inline(always)]
fn dequantize(c: i16, q: u16) -> W {
    Wrapping(i32::from(c) * i32::from(q))
}

/// The even half: x0–x3, each plus `x_scale`.
// The constants as the reference writes them; f32 rounds them the same.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn kernel_x([s0, s2, s4, s6]: [W; 4], x_scale: i32) -> [W; 4] {
    let p1 = (s2 + s6) * f2f(0.5411961);
    let t2 = p1 + s6 * f2f(-1.847759065);
    let t3 = p1 + s2 * f2f(0.765366865);
    let t0 = fsh(s0 + s4);
    let t1 = fsh(s0 - s4);
    let x_scale = Wrapping(x_scale);
    [
        t0 + t3 + x_scale,
        t1 + t2 + x_scale,
        t1 - t2 + x_scale,
        t0 - t3 + x_scale,
    ]
}

/// The odd half: t0–t3.
#[allow(clippy::excessive_precision)]
#[inline(always)]
fn kernel_t([s1, s3, s5, s7]: [W; 4]) -> [W; 4] {
    let (t0, t1, t2, t3) = (s7, s5, s3, s1);
    let p3 = t0 + t2;
    let p4 = t1 + t3;
    let p1 = t0 + t3;
    let p2 = t1 + t2;
    let p5 = (p3 + p4) * f2f(1.175875602);
    let t0 = t0 * f2f(0.298631336);
    let t1 = t1 * f2f(2.053119869);
    let t2 = t2 * f2f(3.072711026);
    let t3 = t3 * f2f(1.501321110);
    let p1 = p5 + p1 * f2f(-0.899976223);
    let p2 = p5 + p2 * f2f(-2.562915447);
    let p3 = p3 * f2f(-1.961570560);
    let p4 = p4 * f2f(-0.390180644);
    [t0 + p1 + p3, t1 + p2 + p4, t2 + p2 + p3, t3 + p1 + p4]
}

/// Rounding and the +128 level shift of the second pass.
const X_SCALE: i32 = 65536 + (128 << 17);

/// Dequantises `coefficients` (natural order) and writes the 8×8 samples to
/// `out`, rows `stride` apart (`out` holds at least `7 × stride + 8`).
fn idct(coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let mut temp = [Wrapping(0i32); 64];
    // Columns.
    for i in 0..8 {
        if (1..8).all(|r| coefficients[i + 8 * r] == 0) {
            let dc = dequantize(coefficients[i], quant[i]) << 2;
            for r in 0..8 {
                temp[i + 8 * r] = dc;
            }
        } else {
            let s: [W; 8] =
                core::array::from_fn(|r| dequantize(coefficients[i + 8 * r], quant[i + 8 * r]));
            // Constants scaled things up by 1 << 12; bring them back down,
            // keeping 2 extra bits of precision.
            let [x0, x1, x2, x3] = kernel_x([s[0], s[2], s[4], s[6]], 512);
            let [t0, t1, t2, t3] = kernel_t([s[1], s[3], s[5], s[7]]);
            temp[i] = (x0 + t3) >> 10;
            temp[i + 56] = (x0 - t3) >> 10;
            temp[i + 8] = (x1 + t2) >> 10;
            temp[i + 48] = (x1 - t2) >> 10;
            temp[i + 16] = (x2 + t1) >> 10;
            temp[i + 40] = (x2 - t1) >> 10;
            temp[i + 24] = (x3 + t0) >> 10;
            temp[i + 32] = (x3 - t0) >> 10;
        }
    }
    // Rows: 1 << 17 to remove (12-bit constants twice, the 2 extra bits,
    // sqrt(8) twice), rounded, plus the level shift.
    for (row, line) in temp.chunks_exact(8).zip(out.chunks_mut(stride)) {
        let line = &mut line[..8];
        if row[1..] == [Wrapping(0); 7] {
            line.fill(clamp((fsh(row[0]) + Wrapping(X_SCALE)) >> 17));
        } else {
            let [x0, x1, x2, x3] = kernel_x([row[0], row[2], row[4], row[6]], X_SCALE);
            let [t0, t1, t2, t3] = kernel_t([row[1], row[3], row[5], row[7]]);
            line[0] = clamp((x0 + t3) >> 17);
            line[7] = clamp((x0 - t3) >> 17);
            line[1] = clamp((x1 + t2) >> 17);
            line[6] = clamp((x1 - t2) >> 17);
            line[2] = clamp((x2 + t1) >> 17);
            line[5] = clamp((x2 - t1) >> 17);
            line[3] = clamp((x3 + t0) >> 17);
            line[4] = clamp((x3 - t0) >> 17);
        }
    }
}

/// [`idct`] or [`idct_4x4`] of a block with only its DC coefficient: one
/// flat value (the same in both), `n`×`n` samples.
fn idct_dc_only(dc: i16, q: u16, out: &mut [u8], stride: usize, n: usize) {
    let value = clamp((fsh(dequantize(dc, q) << 2) + Wrapping(X_SCALE)) >> 17);
    for line in out.chunks_mut(stride) {
        line[..n].fill(value);
    }
}

/// The 4×4 IDCT of `jpeg-decoder` 0.3.2's `idct.rs`
/// (`dequantize_and_idct_block_4x4`, after Dugad and Ahuja's scheme for
/// size change in the compressed domain, libjpeg's `jidctred`): the
/// top-left 4×4 of `coefficients` (natural order) to 4×4 samples in `out`,
/// rows `stride` apart (`out` holds at least `3 × stride + 4`). Rounding as
/// the reference's, to the bit.
///
/// The reference works one column, then one row, at a time; here the four
/// columns go at once, then (transposed) the four rows, as [`Lanes`]
/// (simd128 in the filter). The arithmetic is the same wrapping integer
/// arithmetic lane by lane, and the reference's shortcuts for zero
/// coefficients give what the full computation gives, so the samples are
/// the reference's to the bit (the tests compare it with a line-by-line
/// port).
#[allow(clippy::excessive_precision)]
fn idct_4x4(coefficients: &[i16; 64], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    const CONST_BITS: u32 = 12;
    const PASS1_BITS: u32 = 2;
    const FINAL_BITS: u32 = CONST_BITS + PASS1_BITS + 3;
    let k0 = f2f(0.541196100).0;
    let k1 = f2f(-1.847759065).0;
    let k2 = f2f(0.765366865).0;
    let row = |r: usize| Lanes::dequantize(&coefficients[8 * r..], &quant[8 * r..]);
    // Columns (lanes: the four columns).
    let [s0, s1, s2, s3] = [row(0), row(1), row(2), row(3)];
    let x0 = (s0 + s2) << PASS1_BITS;
    let x2 = (s0 - s2) << PASS1_BITS;
    let p1 = (s1 + s3) * k0;
    let t0 = (p1 + s3 * k1 + 512) >> (CONST_BITS - PASS1_BITS);
    let t2 = (p1 + s1 * k2 + 512) >> (CONST_BITS - PASS1_BITS);
    // Rows (lanes: the four rows): 1 << 17 to remove, rounded, plus the
    // level shift.
    let [s0, s1, s2, s3] = Lanes::transpose([x0 + t2, x2 + t0, x2 - t0, x0 - t2]);
    let round = (1 << (FINAL_BITS - 1)) + (128 << FINAL_BITS);
    let x0 = ((s0 + s2) << CONST_BITS) + round;
    let x2 = ((s0 - s2) << CONST_BITS) + round;
    let p1 = (s1 + s3) * k0;
    let t0 = p1 + s3 * k1;
    let t2 = p1 + s1 * k2;
    let columns = [x0 + t2, x2 + t0, x2 - t0, x0 - t2].map(|c| c >> FINAL_BITS);
    Lanes::store_samples(Lanes::transpose(columns), out, stride);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_handled_and_declined, corpus_jpegs, max_diff};

    /// The reference for [`idct_4x4`]: `jpeg-decoder` 0.3.2's
    /// `dequantize_and_idct_block_4x4` ported line by line, a column then a
    /// row at a time, with its shortcuts for zero coefficients.
    #[allow(clippy::excessive_precision)]
    fn idct_4x4_reference(
        coefficients: &[i16; 64],
        quant: &[u16; 64],
        out: &mut [u8],
        stride: usize,
    ) {
        const CONST_BITS: usize = 12;
        const PASS1_BITS: usize = 2;
        const FINAL_BITS: usize = CONST_BITS + PASS1_BITS + 3;
        let mut temp = [Wrapping(0i32); 16];
        // Columns.
        for i in 0..4 {
            if coefficients[i + 8] == 0 && coefficients[i + 16] == 0 && coefficients[i + 24] == 0 {
                // What the full computation gives for a column of DC alone.
                let dc = dequantize(coefficients[i], quant[i]) << PASS1_BITS;
                for r in 0..4 {
                    temp[i + 4 * r] = dc;
                }
                continue;
            }
            let [s0, s1, s2, s3]: [W; 4] =
                core::array::from_fn(|r| dequantize(coefficients[i + 8 * r], quant[i + 8 * r]));
            let x0 = (s0 + s2) << PASS1_BITS;
            let x2 = (s0 - s2) << PASS1_BITS;
            let p1 = (s1 + s3) * f2f(0.541196100);
            let t0 = (p1 + s3 * f2f(-1.847759065) + Wrapping(512)) >> (CONST_BITS - PASS1_BITS);
            let t2 = (p1 + s1 * f2f(0.765366865) + Wrapping(512)) >> (CONST_BITS - PASS1_BITS);
            temp[i] = x0 + t2;
            temp[i + 12] = x0 - t2;
            temp[i + 4] = x2 + t0;
            temp[i + 8] = x2 - t0;
        }
        // Rows: 1 << 17 to remove, rounded, plus the level shift.
        for (row, line) in temp.chunks_exact(4).zip(out.chunks_mut(stride)) {
            let [s0, s1, s2, s3] = [row[0], row[1], row[2], row[3]];
            let round = Wrapping((1 << (FINAL_BITS - 1)) + (128 << FINAL_BITS));
            let line = &mut line[..4];
            if row[1..] == [Wrapping(0); 3] {
                line.fill(clamp(((s0 << CONST_BITS) + round) >> FINAL_BITS));
                continue;
            }
            let x0 = ((s0 + s2) << CONST_BITS) + round;
            let x2 = ((s0 - s2) << CONST_BITS) + round;
            let p1 = (s1 + s3) * f2f(0.541196100);
            let t0 = p1 + s3 * f2f(-1.847759065);
            let t2 = p1 + s1 * f2f(0.765366865);
            line[0] = clamp((x0 + t2) >> FINAL_BITS);
            line[3] = clamp((x0 - t2) >> FINAL_BITS);
            line[1] = clamp((x2 + t0) >> FINAL_BITS);
            line[2] = clamp((x2 - t0) >> FINAL_BITS);
        }
    }

    #[test]
    fn idct_4x4_lanes_match_the_reference_line_by_line() {
        // xorshift64: reproducible blocks of every kind.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut compared = 0;
        for case in 0..20_000 {
            let mut coefficients = [0i16; 64];
            let mut quant = [0u16; 64];
            for i in 0..64 {
                let r = next();
                coefficients[i] = match case % 4 {
                    // Full range: the wrapping arithmetic overflows.
                    0 => r as i16,
                    // What photos hold: small values, most of them zero.
                    1 | 2 if r % 3 == 0 => (r >> 8) as i16 % 64,
                    1 | 2 => 0,
                    // A DC, one AC coefficient in a column or a row.
                    _ => [0, (r >> 8) as i16 % 2048]
                        [usize::from(i == 0 || i == (r % 4) as usize * 8 || i == (r % 4) as usize)],
                };
                quant[i] = if case % 4 == 0 {
                    (r >> 16) as u16
                } else {
                    1 + (r >> 16) as u16 % 64
                };
            }
            let stride = 4 + (case % 3);
            let mut ours = vec![0u8; 3 * stride + 4];
            let mut theirs = ours.clone();
            idct_4x4(&coefficients, &quant, &mut ours, stride);
            idct_4x4_reference(&coefficients, &quant, &mut theirs, stride);
            assert_eq!(ours, theirs, "block {case}: {coefficients:?} × {quant:?}");
            compared += 1;
        }
        assert_eq!(compared, 20_000);
    }

    /// `jpeg-decoder`'s full decode as RGB: the reference.
    fn reference(bytes: &[u8]) -> Option<Raster> {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        let pixels = d.decode().ok()?;
        as_rgb(pixels, &d.info()?)
    }

    /// What `jpeg-decoder` decoded, as an RGB raster (RGB and grey only).
    fn as_rgb(pixels: Vec<u8>, info: &jpeg_decoder::ImageInfo) -> Option<Raster> {
        let rgb: Vec<u8> = match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => pixels,
            jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
            _ => return None,
        };
        let (w, h) = (u32::from(info.width), u32::from(info.height));
        Raster::new(w, h, PixelLayout::Rgb8, rgb).ok()
    }

    /// `jpeg-decoder`'s decode at 4/8 scale as RGB, when it picks that
    /// scale (for an image 1–3 px across it picks a smaller one).
    fn reference_half(bytes: &[u8]) -> Option<Raster> {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        d.read_info().ok()?;
        let full = d.info()?;
        let (w, h) = (full.width.div_ceil(2), full.height.div_ceil(2));
        d.scale(w, h).ok()?;
        let pixels = d.decode().ok()?;
        let info = d.info()?;
        if (info.width, info.height) != (w, h) {
            return None;
        }
        as_rgb(pixels, &info)
    }

    /// Largest difference the reference's SIMD rounding explains: none with
    /// the portable code (`bit-identical`), else one level of IDCT and one
    /// of colour conversion.
    const TOLERANCE: u8 = if cfg!(feature = "bit-identical") {
        0
    } else {
        3
    };

    /// Windows of every kind over a `w`×`h` image: all, centre, corners,
    /// 1×1 px, unaligned to 8 and 16, single rows and columns (fewer on
    /// large images).
    fn windows(w: u32, h: u32) -> Vec<(u32, u32, u32, u32)> {
        if u64::from(w) * u64::from(h) > 4_000_000 {
            // Large photos (to 100 Mpx): a few windows keep the test quick.
            return vec![
                (w / 2 - 50, h / 2 - 50, 100, 100),
                (w - 1, h - 1, 1, 1),
                (3, 5, 33, 17),
            ];
        }
        let mut out = vec![
            (0, 0, w, h),
            (w / 4, h / 4, w.div_ceil(2), h.div_ceil(2)),
            (0, 0, 1, 1),
            (w - 1, h - 1, 1, 1),
            (w / 2, h / 2, 1, 1),
            (0, h - h.min(13), w.min(21), h.min(13)),
            (w - w.min(9), 0, w.min(9), h.min(30)),
            (
                w.min(17) - 1,
                h.min(9) - 1,
                w - w.min(17) + 1,
                h - h.min(9) + 1,
            ),
            (0, h / 3, w, 1),
            (w / 3, 0, 1, h),
        ];
        if w > 40 && h > 40 {
            out.push((7, 15, w - 30, h - 33));
            out.push((17, 9, 15, 17));
        }
        out
    }

    /// Every JPEG of the corpus, every window: where this decoder answers,
    /// its pixels are `jpeg-decoder`'s (within [`TOLERANCE`]). Where
    /// `jpeg-decoder` refuses a file, the whole-image window is refused too
    /// (smaller ones may not read the damage).
    #[test]
    fn windows_agree_with_jpeg_decoder_on_the_corpus() {
        let mut handled = Vec::new();
        let mut declined = Vec::new();
        for (name, bytes) in corpus_jpegs() {
            let Ok(info) = crate::codec::jpeg::probe(&bytes) else {
                declined.push(name);
                continue;
            };
            let theirs = reference(&bytes);
            let mut answered = false;
            for window in windows(info.width, info.height) {
                let Some(ours) = decode_region(&bytes, window) else {
                    continue;
                };
                answered = true;
                assert_eq!((ours.width, ours.height), (window.2, window.3), "{name}");
                let Some(theirs) = &theirs else {
                    let full = (0, 0, info.width, info.height);
                    assert_ne!(
                        window, full,
                        "{name}: decoded here, refused by jpeg-decoder"
                    );
                    continue;
                };
                let (x, y, w, h) = window;
                let theirs = theirs.crop(x, y, w, h).unwrap();
                let worst = max_diff(&ours.data, &theirs.data);
                assert!(worst <= TOLERANCE, "{name} {window:?}: max diff {worst}");
            }
            if answered {
                handled.push(name);
            } else {
                declined.push(name);
            }
        }
        eprintln!("handled: {handled:?}\ndeclined: {declined:?}");
        assert_handled_and_declined(
            &handled,
            &declined,
            &[
                "restarts.jpg",
                "sampling_factors.jpg",
                "jpg-size-1x1.jpg",
                "jpg-size-7x7.jpg",
                "jpg-size-17x17.jpg",
                "jpg-gray.jpg",
                "hopper_16bit_qtables.jpg",
                "Landscape_5.jpg",
                "dc-predictor-overflow.jpg",
            ],
            &[
                "jpg-progressive.jpg",
                "cmyk-icc.jpg",
                "testimgari.jpg",
                "truncated_jpeg.jpg",
                "jpeg_lossless_sel1.jpg",
                "sunset_by_Aitzol_Berasategi.jpg",
            ],
        );
    }

    /// Every JPEG of the corpus at half scale: where this decoder answers,
    /// its pixels are `jpeg-decoder`'s `scale()` to 4/8 (within
    /// [`TOLERANCE`]); where `jpeg-decoder` refuses the file, so does this.
    #[test]
    fn half_scale_agrees_with_jpeg_decoder_on_the_corpus() {
        let mut handled = Vec::new();
        let mut declined = Vec::new();
        for (name, bytes) in corpus_jpegs() {
            let Some(ours) = decode_half(&bytes) else {
                declined.push(name);
                continue;
            };
            handled.push(name.clone());
            let Ok(info) = crate::codec::jpeg::probe(&bytes) else {
                panic!("{name}: decoded here, refused by the probe");
            };
            let size = (info.width.div_ceil(2), info.height.div_ceil(2));
            assert_eq!((ours.width, ours.height), size, "{name}");
            if info.width < 4 {
                continue; // jpeg-decoder picks a smaller scale
            }
            let theirs = reference_half(&bytes)
                .unwrap_or_else(|| panic!("{name}: decoded here, refused by jpeg-decoder"));
            let worst = max_diff(&ours.data, &theirs.data);
            assert!(worst <= TOLERANCE, "{name}: max diff {worst}");
        }
        eprintln!("handled: {handled:?}\ndeclined: {declined:?}");
        assert_handled_and_declined(
            &handled,
            &declined,
            &[
                "restarts.jpg",
                "sampling_factors.jpg",
                "jpg-size-7x7.jpg",
                "jpg-size-17x17.jpg",
                "jpg-gray.jpg",
                "hopper_16bit_qtables.jpg",
                "Landscape_5.jpg",
                "non_interleaved_420_64x64.jpg",
            ],
            &[
                "jpg-progressive.jpg",
                "cmyk-icc.jpg",
                "testimgari.jpg",
                "truncated_jpeg.jpg",
                "dc-predictor-overflow.jpg",
            ],
        );
    }

    /// A `w`×`h` picture with detail in every channel, encoded by
    /// `jpeg-encoder` (baseline) with `sampling` and a restart interval.
    fn encoded(w: u32, h: u32, sampling: jpeg_encoder::SamplingFactor, restart: u16) -> Vec<u8> {
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let n = (x * 7919 + y * 104_729) % 97;
                rgb.extend_from_slice(&[
                    (x * 255 / w) as u8 ^ (n as u8),
                    (y * 255 / h) as u8,
                    ((x + y) % 64 * 4) as u8 ^ (n as u8 / 2),
                ]);
            }
        }
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
        encoder.set_sampling_factor(sampling);
        encoder.set_restart_interval(restart);
        encoder
            .encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// Every sampling `jpeg-encoder` writes (fancy 2× upsampling one way,
    /// both ways, nearest for 4×) and restart intervals of 1, 3 and none,
    /// at sizes that are not whole MCUs: the same as `jpeg-decoder`.
    #[test]
    fn samplings_and_restart_intervals_agree_with_jpeg_decoder() {
        use jpeg_encoder::SamplingFactor as S;
        for sampling in [S::F_1_1, S::F_2_1, S::F_1_2, S::F_2_2, S::F_4_1, S::F_2_4] {
            for restart in [0, 1, 3] {
                for (w, h) in [(77, 45), (1, 19), (33, 1)] {
                    let label = format!("{sampling:?} restart {restart} {w}x{h}");
                    let bytes = encoded(w, h, sampling, restart);
                    let theirs = reference(&bytes).unwrap();
                    for (x, y, ww, hh) in windows(w, h) {
                        let ours = decode_region(&bytes, (x, y, ww, hh))
                            .unwrap_or_else(|| panic!("{label}: declined"));
                        let theirs = theirs.crop(x, y, ww, hh).unwrap();
                        let worst = max_diff(&ours.data, &theirs.data);
                        assert!(
                            worst <= TOLERANCE,
                            "{label} {:?}: max diff {worst}",
                            (x, y, ww, hh)
                        );
                    }
                }
            }
        }
    }

    /// Half scale, every sampling and restart interval, sizes that are not
    /// whole MCUs, odd and even: `jpeg-decoder`'s pixels.
    #[test]
    fn half_scale_samplings_and_restart_intervals_agree_with_jpeg_decoder() {
        use jpeg_encoder::SamplingFactor as S;
        for sampling in [S::F_1_1, S::F_2_1, S::F_1_2, S::F_2_2, S::F_4_1, S::F_2_4] {
            for restart in [0, 1, 3] {
                for (w, h) in [(77, 45), (64, 48), (5, 19), (33, 4), (161, 97)] {
                    let label = format!("{sampling:?} restart {restart} {w}x{h}");
                    let bytes = encoded(w, h, sampling, restart);
                    let theirs = reference_half(&bytes).unwrap();
                    let ours = decode_half(&bytes).unwrap_or_else(|| panic!("{label}: declined"));
                    assert_eq!((ours.width, ours.height), (theirs.width, theirs.height));
                    let worst = max_diff(&ours.data, &theirs.data);
                    assert!(worst <= TOLERANCE, "{label}: max diff {worst}");
                }
            }
        }
    }

    /// Windows outside the image, or empty, are refused.
    #[test]
    fn windows_outside_the_image_are_refused() {
        let bytes = crate::test_support::corpus("jpeg/jpg-size-17x17.jpg");
        assert!(decode_region(&bytes, (0, 0, 17, 17)).is_some());
        for window in [(0, 0, 18, 17), (1, 0, 17, 17), (0, 17, 1, 1), (3, 3, 0, 5)] {
            assert!(decode_region(&bytes, window).is_none(), "{window:?}");
        }
    }

    /// A file cut short, even well below the window, has no EOI: refused,
    /// as `jpeg-decoder` refuses it.
    #[test]
    fn truncated_files_are_left_to_jpeg_decoder() {
        let bytes = encoded(160, 120, jpeg_encoder::SamplingFactor::F_2_2, 0);
        assert!(decode_region(&bytes, (0, 0, 64, 64)).is_some());
        assert!(decode_region(&bytes[..bytes.len() - 1000], (0, 0, 64, 64)).is_none());
    }

    /// Damaged entropy-coded data: declined, or a window of the right size.
    #[test]
    fn corrupt_entropy_data_declines_or_stays_in_bounds() {
        let bytes = crate::test_support::corpus("jpeg/restarts.jpg");
        for cut in (200..bytes.len()).step_by(97) {
            let mut broken = bytes.clone();
            broken[cut] ^= 0x5A;
            if let Some(r) = decode_region(&broken, (5, 7, 40, 30)) {
                assert_eq!(r.data.len(), 40 * 30 * 3);
            }
            if let Some(r) = decode_half(&broken) {
                assert_eq!((r.width, r.height), (17, 17));
            }
        }
    }
}
