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

use crate::raster::{PixelLayout, Raster};

/// Decodes `bytes` at 1/8 scale (`ceil(w/8) × ceil(h/8)` px, RGB), or `None`
/// when the file is not one this decoder handles.
pub fn decode_eighth(bytes: &[u8]) -> Option<Raster> {
    let mut parser = Parser::default();
    parser.run(bytes)?;
    parser.finish()
}

/// One Huffman table with a 9-bit lookahead.
#[derive(Clone)]
struct Huffman {
    /// Indexed by the next 9 bits: `(code length << 8) | symbol`, 0 when the
    /// code is longer than 9 bits.
    fast: Box<[u16; 1 << FAST_BITS]>,
    /// For AC tables: indexed by the next 11 bits, how to skip one AC code
    /// with its extra bits: `(coefficients advanced << 4) | bits in all`
    /// (advance 0 = end of block), 0 when longer than 11 bits.
    skip: Box<[u16; 1 << SKIP_BITS]>,
    /// Largest code of each length (left-aligned to 16 bits), for the slow path.
    max_code: [u32; 18],
    /// `symbols` index minus the first code of each length.
    delta: [i32; 17],
    symbols: Vec<u8>,
}

const FAST_BITS: u32 = 9;
const SKIP_BITS: u32 = 11;

impl Huffman {
    /// Builds the table from a DHT segment's 16 counts and its symbols.
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let mut fast = Box::new([0u16; 1 << FAST_BITS]);
        let mut skip = Box::new([0u16; 1 << SKIP_BITS]);
        let mut max_code = [0u32; 18];
        let mut delta = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let count = u32::from(counts[len as usize - 1]);
            delta[len as usize] = k as i32 - code as i32;
            for _ in 0..count {
                let symbol = *symbols.get(k)?;
                if len <= FAST_BITS {
                    let first = (code << (FAST_BITS - len)) as usize;
                    let span = 1usize << (FAST_BITS - len);
                    let entry = ((len as u16) << 8) | u16::from(symbol);
                    fast.get_mut(first..first + span)?.fill(entry);
                }
                let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
                if len + size <= SKIP_BITS {
                    let advance = match (run, size) {
                        (0, 0) => 0,   // end of block
                        (15, 0) => 16, // sixteen zeros
                        (_, 0) => 64,  // undefined: ends the block as corrupt
                        _ => run + 1,
                    };
                    let first = (code << (SKIP_BITS - len)) as usize;
                    let span = 1usize << (SKIP_BITS - len);
                    let entry = ((advance as u16) << 4) | (len + size) as u16;
                    skip.get_mut(first..first + span)?.fill(entry);
                }
                code += 1;
                k += 1;
            }
            if code > (1 << len) {
                return None; // over-subscribed table
            }
            // Codes of this length are below `code << (16 - len)`.
            max_code[len as usize] = code << (16 - len);
            code <<= 1;
        }
        max_code[17] = u32::MAX;
        Some(Huffman {
            fast,
            skip,
            max_code,
            delta,
            symbols: symbols.get(..k)?.to_vec(),
        })
    }
}

/// The entropy-coded bits of one scan, with byte stuffing removed. Past a
/// marker (or the end of the data) it reads zero bits and remembers that.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Left-aligned bit buffer.
    acc: u64,
    count: u32,
    /// A marker (or the end) was reached; `pos` is at its 0xFF.
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            acc: 0,
            count: 0,
            at_marker: false,
        }
    }

    #[inline(always)]
    fn refill(&mut self) {
        // Fast path: the next 8 bytes hold no 0xFF (no stuffing, no
        // marker), so as many whole bytes as fit go in at once.
        if !self.at_marker {
            let next = self.data.get(self.pos..self.pos + 8);
            if let Some(next) = next.and_then(|n| <[u8; 8]>::try_from(n).ok()) {
                let word = u64::from_be_bytes(next);
                let inverted = !word;
                let has_ff = inverted.wrapping_sub(0x0101_0101_0101_0101)
                    & !inverted
                    & 0x8080_8080_8080_8080;
                if has_ff == 0 {
                    let bytes = (64 - self.count) / 8;
                    let taken = if bytes == 8 {
                        word
                    } else {
                        (word >> (64 - 8 * bytes)) << ((64 - self.count - 8 * bytes) % 64)
                    };
                    self.acc |= taken;
                    self.count += 8 * bytes;
                    self.pos += bytes as usize;
                    return;
                }
            }
        }
        while self.count <= 56 {
            let byte = if self.at_marker {
                0
            } else {
                match self.data.get(self.pos) {
                    Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some(0xFF) => {
                        self.at_marker = true;
                        0
                    }
                    Some(&b) => {
                        self.pos += 1;
                        b
                    }
                    None => {
                        self.at_marker = true;
                        0
                    }
                }
            };
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` bits (1 – 16) without consuming them; needs `refill`.
    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `n` bits (0 – 16) as an unsigned number.
    #[inline(always)]
    fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.refill();
        }
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// `n` bits (0 – 16) as the signed magnitude category `n` (T.81 F.2.2.1).
    #[inline(always)]
    fn extend(&mut self, n: u32) -> i32 {
        let v = self.bits(n) as i32;
        if n > 0 && v < (1 << (n - 1)) {
            v - (1 << n) + 1
        } else {
            v
        }
    }

    #[inline(always)]
    fn symbol(&mut self, table: &Huffman) -> Option<u8> {
        if self.count < 16 {
            self.refill();
        }
        let entry = table.fast[self.peek(FAST_BITS) as usize];
        if entry != 0 {
            self.consume(u32::from(entry >> 8));
            return Some(entry as u8);
        }
        let code16 = self.peek(16);
        let mut len = FAST_BITS + 1;
        while code16 >= table.max_code[len as usize] {
            len += 1;
        }
        if len > 16 {
            return None;
        }
        let code = (code16 >> (16 - len)) as i32;
        self.consume(len);
        table
            .symbols
            .get((code + table.delta[len as usize]) as usize)
            .copied()
    }

    /// Skips to the restart marker expected after a restart interval.
    fn restart(&mut self) -> Option<()> {
        self.acc = 0;
        self.count = 0;
        self.at_marker = false;
        let marker = self.data.get(self.pos..self.pos + 2)?;
        if marker[0] == 0xFF && (0xD0..=0xD7).contains(&marker[1]) {
            self.pos += 2;
            Some(())
        } else {
            None
        }
    }
}

/// A frame component and its DC plane.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant_table: usize,
    /// Blocks per row and rows of blocks, padded to whole MCUs.
    stride: usize,
    rows: usize,
    /// Blocks really covering the component (non-interleaved scans).
    blocks_w: usize,
    blocks_h: usize,
    /// DC coefficient of every block (scaled by the successive
    /// approximation shift already).
    dc: Vec<i16>,
    /// A DC first scan covered this component.
    seen: bool,
}

#[derive(Default)]
struct Parser {
    width: usize,
    height: usize,
    progressive: bool,
    components: Vec<Component>,
    h_max: usize,
    v_max: usize,
    mcus_x: usize,
    mcus_y: usize,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    /// DC entry (zig-zag index 0) of each quantisation table.
    dc_quant: [Option<u16>; 4],
    restart_interval: usize,
    jfif: bool,
    /// APP14 Adobe transform flag, when present.
    adobe_transform: Option<u8>,
    done: bool,
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *bytes.get(at)?,
        *bytes.get(at + 1)?,
    ])))
}

impl Parser {
    fn run(&mut self, bytes: &[u8]) -> Option<()> {
        if bytes.get(..2)? != [0xFF, 0xD8] {
            return None;
        }
        let mut pos = 2;
        loop {
            // Find the marker: 0xFF, optional fill bytes, the code.
            if *bytes.get(pos)? != 0xFF {
                return None;
            }
            while *bytes.get(pos)? == 0xFF {
                pos += 1;
            }
            let marker = *bytes.get(pos)?;
            pos += 1;
            match marker {
                0xD9 => {
                    self.done = true;
                    return Some(());
                }
                0xD0..=0xD7 | 0x01 => continue,
                _ => {}
            }
            let len = be16(bytes, pos)?;
            let segment = bytes.get(pos + 2..pos + len)?;
            if len < 2 {
                return None;
            }
            pos += len;
            match marker {
                0xC0 | 0xC1 => self.frame(segment, false)?,
                0xC2 => self.frame(segment, true)?,
                // Lossless, hierarchical, arithmetic: not here.
                0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
                0xC4 => self.huffman_tables(segment)?,
                0xDB => self.quant_tables(segment)?,
                0xDD => self.restart_interval = be16(segment, 0)?,
                0xE0 if segment.starts_with(b"JFIF\0") => self.jfif = true,
                0xEE if segment.starts_with(b"Adobe") => {
                    self.adobe_transform = Some(*segment.get(11)?)
                }
                0xDA => pos = self.scan(bytes, segment, pos)?,
                _ => {} // APPn, COM, DNL after the frame (refused below) …
            }
        }
    }

    fn frame(&mut self, s: &[u8], progressive: bool) -> Option<()> {
        if !self.components.is_empty() || *s.first()? != 8 {
            return None; // second frame, or not 8-bit
        }
        self.progressive = progressive;
        self.height = be16(s, 1)?;
        self.width = be16(s, 3)?;
        let n = usize::from(*s.get(5)?);
        if self.width == 0 || self.height == 0 || !(n == 1 || n == 3) {
            return None;
        }
        for i in 0..n {
            let c = s.get(6 + 3 * i..9 + 3 * i)?;
            let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                return None;
            }
            self.components.push(Component {
                id: c[0],
                h,
                v,
                quant_table: usize::from(c[2]),
                stride: 0,
                rows: 0,
                blocks_w: 0,
                blocks_h: 0,
                dc: Vec::new(),
                seen: false,
            });
        }
        self.h_max = self.components.iter().map(|c| c.h).max()?;
        self.v_max = self.components.iter().map(|c| c.v).max()?;
        self.mcus_x = self.width.div_ceil(8 * self.h_max);
        self.mcus_y = self.height.div_ceil(8 * self.v_max);
        for c in &mut self.components {
            if !self.h_max.is_multiple_of(c.h) || !self.v_max.is_multiple_of(c.v) {
                return None;
            }
            c.stride = self.mcus_x * c.h;
            c.rows = self.mcus_y * c.v;
            c.blocks_w = (self.width * c.h).div_ceil(self.h_max).div_ceil(8);
            c.blocks_h = (self.height * c.v).div_ceil(self.v_max).div_ceil(8);
            c.dc = vec![0; c.stride * c.rows];
        }
        Some(())
    }

    fn huffman_tables(&mut self, mut s: &[u8]) -> Option<()> {
        while !s.is_empty() {
            let class_id = *s.first()?;
            let counts: &[u8; 16] = s.get(1..17)?.try_into().ok()?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let symbols = s.get(17..17 + total)?;
            let table = Huffman::new(counts, symbols)?;
            let id = usize::from(class_id & 15);
            match class_id >> 4 {
                0 => *self.dc_tables.get_mut(id)? = Some(table),
                1 => *self.ac_tables.get_mut(id)? = Some(table),
                _ => return None,
            }
            s = &s[17 + total..];
        }
        Some(())
    }

    fn quant_tables(&mut self, mut s: &[u8]) -> Option<()> {
        while !s.is_empty() {
            let pq_tq = *s.first()?;
            let id = usize::from(pq_tq & 15);
            let (dc, size) = match pq_tq >> 4 {
                0 => (u16::from(*s.get(1)?), 65),
                1 => (be16(s, 1)? as u16, 129),
                _ => return None,
            };
            *self.dc_quant.get_mut(id)? = Some(dc);
            s = s.get(size..)?;
        }
        Some(())
    }

    /// Decodes (DC) or skips (AC-only progressive) one scan; returns where
    /// the data after it starts.
    fn scan(&mut self, bytes: &[u8], s: &[u8], data_start: usize) -> Option<usize> {
        if self.components.is_empty() {
            return None;
        }
        let n = usize::from(*s.first()?);
        if n == 0 || n > 4 {
            return None;
        }
        let mut members = Vec::with_capacity(n);
        for i in 0..n {
            let id = *s.get(1 + 2 * i)?;
            let tables = *s.get(2 + 2 * i)?;
            let index = self.components.iter().position(|c| c.id == id)?;
            members.push((index, usize::from(tables >> 4), usize::from(tables & 15)));
        }
        let spectral_start = *s.get(1 + 2 * n)?;
        let approx = *s.get(3 + 2 * n)?;
        let (ah, al) = (approx >> 4, approx & 15);
        if self.progressive && spectral_start > 0 {
            return skip_entropy_data(bytes, data_start);
        }
        if spectral_start != 0 || al > 13 {
            return None;
        }
        let first = !self.progressive || ah == 0;
        // Per member: its DC table (first scans) and AC table (baseline).
        let mut tables = Vec::with_capacity(n);
        for &(_, td, ta) in &members {
            let dc = if first {
                Some(self.dc_tables.get(td)?.clone()?)
            } else {
                None
            };
            let ac = if self.progressive {
                None
            } else {
                Some(self.ac_tables.get(ta)?.clone()?)
            };
            tables.push((dc, ac));
        }
        let block = BlockCoding { first, al };
        let mut bits = Bits::new(bytes, data_start);
        let mut preds = vec![0i32; n];
        let restart = self.restart_interval;
        if n == 1 {
            // Non-interleaved: the component's own blocks, row by row; each
            // block is an MCU.
            let (index, ..) = members[0];
            let (dc, ac) = &tables[0];
            let c = &mut self.components[index];
            let total = c.blocks_w * c.blocks_h;
            for i in 0..total {
                let at = (i / c.blocks_w) * c.stride + i % c.blocks_w;
                block.decode(
                    &mut bits,
                    dc.as_ref(),
                    ac.as_ref(),
                    &mut preds[0],
                    &mut c.dc[at],
                )?;
                if restart > 0 && (i + 1) % restart == 0 && i + 1 < total {
                    bits.restart()?;
                    preds[0] = 0;
                }
            }
            c.seen |= first;
        } else {
            let total = self.mcus_x * self.mcus_y;
            for mcu in 0..total {
                let (mx, my) = (mcu % self.mcus_x, mcu / self.mcus_x);
                for (member, &(index, ..)) in members.iter().enumerate() {
                    let (dc, ac) = &tables[member];
                    let c = &mut self.components[index];
                    for y in 0..c.v {
                        for x in 0..c.h {
                            let at = (my * c.v + y) * c.stride + mx * c.h + x;
                            block.decode(
                                &mut bits,
                                dc.as_ref(),
                                ac.as_ref(),
                                &mut preds[member],
                                &mut c.dc[at],
                            )?;
                        }
                    }
                }
                if restart > 0 && (mcu + 1) % restart == 0 && mcu + 1 < total {
                    bits.restart()?;
                    preds.iter_mut().for_each(|p| *p = 0);
                }
            }
            for &(index, ..) in &members {
                self.components[index].seen |= first;
            }
        }
        // Continue at the marker after the scan's data.
        skip_entropy_data(bytes, bits.pos)
    }

    fn finish(self) -> Option<Raster> {
        if !self.done || self.components.iter().any(|c| !c.seen) {
            return None;
        }
        let ycbcr = match self.components.len() {
            1 => false,
            3 => {
                let ids: Vec<u8> = self.components.iter().map(|c| c.id).collect();
                // jpeg-decoder's rules: these ids are RGB / big-gamut
                // variants; Adobe transform 0 without JFIF is RGB.
                if ids == [82, 71, 66] || ids == [114, 103, 98] || ids == [1, 34, 35] {
                    return None;
                }
                if ids != [1, 2, 3] && !self.jfif && self.adobe_transform == Some(0) {
                    return None;
                }
                true
            }
            _ => return None,
        };
        let out_w = self.width.div_ceil(8);
        let out_h = self.height.div_ceil(8);
        // Each plane at its own size, as 1/8-scale samples.
        let mut planes = Vec::with_capacity(self.components.len());
        for c in &self.components {
            let q = i32::from(self.dc_quant[c.quant_table]?);
            let samples: Vec<u8> =
                c.dc.iter()
                    .map(|&dc| ((i32::from(dc) * q + 1024) / 8).clamp(0, 255) as u8)
                    .collect();
            planes.push(samples);
        }
        let mut rgb = vec![0u8; out_w * out_h * 3];
        let line_len = self.components.iter().map(|c| c.stride).max()? * self.h_max + 2;
        let mut lines = vec![vec![0u8; line_len]; self.components.len()];
        for row in 0..out_h {
            for (i, c) in self.components.iter().enumerate() {
                upsample_row(
                    &planes[i],
                    c,
                    (self.h_max / c.h, self.v_max / c.v),
                    (out_w, out_h),
                    row,
                    &mut lines[i],
                );
            }
            let out = &mut rgb[row * out_w * 3..(row + 1) * out_w * 3];
            if ycbcr {
                for (x, px) in out.chunks_exact_mut(3).enumerate() {
                    let (r, g, b) = ycbcr_to_rgb(lines[0][x], lines[1][x], lines[2][x]);
                    px.copy_from_slice(&[r, g, b]);
                }
            } else {
                for (x, px) in out.chunks_exact_mut(3).enumerate() {
                    px.fill(lines[0][x]);
                }
            }
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
            let size = u32::from(bits.symbol(dc?)?);
            if size > 11 {
                return None;
            }
            *pred += bits.extend(size);
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

/// Decodes one block's AC codes only to find where the next block starts.
#[inline(always)]
fn skip_ac(bits: &mut Bits, ac: &Huffman) -> Option<()> {
    let mut k = 1u32;
    while k < 64 {
        if bits.count < 16 {
            bits.refill();
        }
        let entry = ac.skip[bits.peek(SKIP_BITS) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry & 15));
            match entry >> 4 {
                0 => break,
                advance => k += u32::from(advance),
            }
            continue;
        }
        let rs = bits.symbol(ac)?;
        let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
        if size == 0 {
            if run == 15 {
                k += 16;
                continue;
            }
            break; // end of block
        }
        k += run + 1;
        if bits.count < size {
            bits.refill();
        }
        bits.consume(size);
    }
    (k <= 64).then_some(())
}

/// Skips an AC scan's entropy-coded data: the position of the next marker
/// that is neither stuffing (`FF 00`) nor a restart (`FF D0`–`FF D7`).
fn skip_entropy_data(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let at = pos + bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => pos = at + 1,
            _ => return Some(at),
        }
    }
}

/// One output row of a component's plane, upsampled as `jpeg-decoder` does
/// (fancy triangle filters for 2×, nearest otherwise), into `line`.
fn upsample_row(
    plane: &[u8],
    c: &Component,
    (fx, fy): (usize, usize),
    (out_w, out_h): (usize, usize),
    row: usize,
    line: &mut [u8],
) {
    let width = c.blocks_w;
    let height = c.blocks_h;
    let stride = c.stride;
    let h1 = fx == 1 || out_w == 1;
    let v1 = fy == 1 || out_h == 1;
    let near_far = |row: usize| {
        let near = row / 2;
        let far = if row.is_multiple_of(2) {
            near.saturating_sub(1)
        } else {
            (near + 1).min(height - 1)
        };
        (&plane[near * stride..], &plane[far * stride..])
    };
    if h1 && v1 {
        let src = &plane[row * stride..];
        line[..out_w].copy_from_slice(&src[..out_w]);
    } else if fx == 2 && v1 {
        let src = &plane[row * stride..];
        if width == 1 {
            line[0] = src[0];
            line[1] = src[0];
            return;
        }
        line[0] = src[0];
        line[1] = ((u32::from(src[0]) * 3 + u32::from(src[1]) + 2) >> 2) as u8;
        for i in 1..width - 1 {
            let sample = 3 * u32::from(src[i]) + 2;
            line[i * 2] = ((sample + u32::from(src[i - 1])) >> 2) as u8;
            line[i * 2 + 1] = ((sample + u32::from(src[i + 1])) >> 2) as u8;
        }
        line[(width - 1) * 2] =
            ((u32::from(src[width - 1]) * 3 + u32::from(src[width - 2]) + 2) >> 2) as u8;
        line[(width - 1) * 2 + 1] = src[width - 1];
    } else if h1 && fy == 2 {
        let (near, far) = near_far(row);
        for i in 0..out_w {
            line[i] = ((3 * u32::from(near[i]) + u32::from(far[i]) + 2) >> 2) as u8;
        }
    } else if fx == 2 && fy == 2 {
        let (near, far) = near_far(row);
        if width == 1 {
            let v = ((3 * u32::from(near[0]) + u32::from(far[0]) + 2) >> 2) as u8;
            line[0] = v;
            line[1] = v;
            return;
        }
        let mut t1 = 3 * u32::from(near[0]) + u32::from(far[0]);
        line[0] = ((t1 + 2) >> 2) as u8;
        for i in 1..width {
            let t0 = t1;
            t1 = 3 * u32::from(near[i]) + u32::from(far[i]);
            line[i * 2 - 1] = ((3 * t0 + t1 + 8) >> 4) as u8;
            line[i * 2] = ((3 * t1 + t0 + 8) >> 4) as u8;
        }
        line[width * 2 - 1] = ((t1 + 2) >> 2) as u8;
    } else {
        let src = &plane[(row / fy) * stride..];
        for (i, &v) in src[..width].iter().enumerate() {
            line[i * fx..(i + 1) * fx].fill(v);
        }
    }
}

const FIXED: i32 = 20;

/// BT.601 full range, `jpeg-decoder`'s fixed-point formula.
#[inline(always)]
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    const fn f2f(x: f64) -> i32 {
        (x * (1 << FIXED) as f64 + 0.5) as i32
    }
    let y = i32::from(y) * (1 << FIXED) + (1 << (FIXED - 1));
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let clamp = |v: i32| (v >> FIXED).clamp(0, 255) as u8;
    (
        clamp(y + f2f(1.40200) * cr),
        clamp(y - f2f(0.34414) * cb - f2f(0.71414) * cr),
        clamp(y + f2f(1.77200) * cb),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{corpus, corpus_dir};

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
        for dir in ["jpeg", "orientation", "photos", "hostile"] {
            let mut entries: Vec<_> = std::fs::read_dir(corpus_dir().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for path in entries {
                let bytes = std::fs::read(&path).unwrap();
                if !bytes.starts_with(&[0xFF, 0xD8]) {
                    continue;
                }
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let ours = decode_eighth(&bytes);
                let theirs = reference(&bytes);
                match (ours, theirs) {
                    (Some(r), Some((w, h, rgb))) => {
                        assert_eq!((r.width, r.height), (w, h), "{name}");
                        let p = psnr(&r.data, &rgb);
                        let worst = r
                            .data
                            .iter()
                            .zip(&rgb)
                            .map(|(&a, &b)| a.abs_diff(b))
                            .max()
                            .unwrap();
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
        }
        eprintln!("handled: {handled:?}\ndeclined: {declined:?}");
        for must in [
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
        ] {
            assert!(handled.iter().any(|n| n == must), "{must} not handled");
        }
        for must_decline in [
            "cmyk-icc.jpg",
            "testimgari.jpg",
            "truncated_jpeg.jpg",
            "jpeg_lossless_sel1.jpg",
        ] {
            assert!(
                declined.iter().any(|n| n == must_decline),
                "{must_decline} handled"
            );
        }
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
