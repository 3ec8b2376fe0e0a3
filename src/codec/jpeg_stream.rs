//! The parts of a JPEG stream (ITU T.81) that the two small decoders,
//! [`super::jpeg_dc`] (1/8 scale from the DC coefficients) and
//! [`super::jpeg_region`] (a pixel window of a baseline file), share: the
//! marker walk with the frame, table and scan headers; Huffman tables with
//! their lookaheads and the bit reader; skipping a block's AC codes; the
//! colour model decision; `jpeg-decoder`'s chroma upsampling and BT.601
//! conversion.
//!
//! Only the common case is parsed: 8-bit Huffman-coded frames (SOF0/1/2),
//! one or three components, integer sampling ratios. Anything else returns
//! `None`, and so does anything malformed, so that callers fall back to
//! `jpeg-decoder` and errors stay its errors.
//!
//! Upsampling and colour conversion follow `jpeg-decoder` 0.3.2
//! (`upsampler.rs`, `decoder.rs`; MIT/Apache-2.0, by the image-rs
//! developers), so the output matches its portable code to the bit.

/// One Huffman table with a 9-bit lookahead, and an 11-bit one for AC codes.
#[derive(Clone)]
pub(super) struct Huffman {
    /// Indexed by the next 9 bits: `(code length << 8) | symbol`, 0 when the
    /// code is longer than 9 bits.
    fast: Box<[u16; 1 << FAST_BITS]>,
    /// For AC tables: indexed by the next 11 bits, one AC code with its extra
    /// bits: `(coefficients advanced << 4) | bits in all` (advance 0 = end of
    /// block), 0 when longer than 11 bits.
    skip: Box<[u16; 1 << SKIP_BITS]>,
    /// Beside `skip`: the coefficient's value (0 for end of block and for
    /// sixteen zeros).
    value: Box<[i16; 1 << SKIP_BITS]>,
    /// For AC tables ([`Huffman::with_runs`]): indexed by the next 13 bits,
    /// as many whole AC codes with their extra bits as fit in them, for
    /// [`skip_ac`] to pass at once: `bits | advance << 8 | end_of_block << 16`,
    /// 0 when not even one fits. Empty for DC tables.
    runs: Box<[u32]>,
    /// Largest code of each length (left-aligned to 16 bits), for the slow path.
    max_code: [u32; 18],
    /// `symbols` index minus the first code of each length.
    delta: [i32; 17],
    symbols: Vec<u8>,
}

const FAST_BITS: u32 = 9;
const SKIP_BITS: u32 = 11;
const RUN_BITS: u32 = 13;

impl Huffman {
    /// Builds the table from a DHT segment's 16 counts and its symbols.
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Huffman> {
        let mut fast = Box::new([0u16; 1 << FAST_BITS]);
        let mut skip = Box::new([0u16; 1 << SKIP_BITS]);
        let mut value = Box::new([0i16; 1 << SKIP_BITS]);
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
                    for (i, v) in value.get_mut(first..first + span)?.iter_mut().enumerate() {
                        // The extra bits follow the code in the 11-bit index.
                        let extra =
                            ((first + i) >> (SKIP_BITS - len - size)) as u32 & ((1 << size) - 1);
                        *v = extend(extra, size) as i16;
                    }
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
            value,
            runs: Box::new([]),
            max_code,
            delta,
            symbols: symbols.get(..k)?.to_vec(),
        })
    }

    /// The table with [`Huffman::runs`] built, for an AC table: each entry
    /// chains the 11-bit [`Huffman::skip`] entries of the codes that fit
    /// whole in its 13 bits, up to an end of block.
    fn with_runs(mut self) -> Huffman {
        let mut runs = vec![0u32; 1 << RUN_BITS].into_boxed_slice();
        for (index, slot) in runs.iter_mut().enumerate() {
            let (mut used, mut advance, mut end_of_block) = (0u32, 0u32, 0u32);
            while used < RUN_BITS {
                // The bits after those used, left-aligned, zeros after them:
                // a code is read only when all its bits are real ones.
                let rest = ((index as u32) << used) & ((1 << RUN_BITS) - 1);
                let entry = self.skip[(rest >> (RUN_BITS - SKIP_BITS)) as usize];
                let len = u32::from(entry & 15);
                if entry == 0 || len > RUN_BITS - used {
                    break;
                }
                used += len;
                match u32::from(entry >> 4) {
                    0 => {
                        end_of_block = 1;
                        break;
                    }
                    step => advance += step,
                }
                if advance >= 64 {
                    break;
                }
            }
            if used > 0 {
                *slot = used | advance << 8 | end_of_block << 16;
            }
        }
        self.runs = runs;
        self
    }
}

/// `v`, `n` raw bits (0 – 16), as the signed magnitude category `n` (T.81 F.2.2.1).
#[inline(always)]
fn extend(v: u32, n: u32) -> i32 {
    let v = v as i32;
    if n > 0 && v < (1 << (n - 1)) {
        v - (1 << n) + 1
    } else {
        v
    }
}

/// The entropy-coded bits of one scan, with byte stuffing removed. Past a
/// marker (or the end of the data) it reads zero bits and remembers that.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    /// Where the next byte to load is; at the end of a scan, where its
    /// entropy-coded data ends or is still to be skipped.
    pub(super) pos: usize,
    /// Left-aligned bit buffer.
    acc: u64,
    count: u32,
    /// A marker (or the end) was reached; `pos` is at its 0xFF.
    at_marker: bool,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            acc: 0,
            count: 0,
            at_marker: false,
        }
    }

    /// Where the reader stands, to go on later over a longer copy of the
    /// same data ([`Bits::resume`]).
    pub(super) fn state(&self) -> BitsState {
        BitsState {
            pos: self.pos,
            acc: self.acc,
            count: self.count,
            at_marker: self.at_marker,
        }
    }

    /// A reader over `data` standing where `state` was taken; `data` must
    /// begin with the bytes the state was taken over.
    pub(super) fn resume(data: &'a [u8], state: BitsState) -> Bits<'a> {
        Bits {
            data,
            pos: state.pos,
            acc: state.acc,
            count: state.count,
            at_marker: state.at_marker,
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
    pub(super) fn bits(&mut self, n: u32) -> u32 {
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
    pub(super) fn extend(&mut self, n: u32) -> i32 {
        extend(self.bits(n), n)
    }

    #[inline(always)]
    pub(super) fn symbol(&mut self, table: &Huffman) -> Option<u8> {
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

    /// A block's DC difference (T.81 F.2.2.1): `None` past category 11.
    #[inline(always)]
    pub(super) fn dc_diff(&mut self, table: &Huffman) -> Option<i32> {
        let size = u32::from(self.symbol(table)?);
        if size > 11 {
            return None;
        }
        Some(self.extend(size))
    }

    /// Skips to restart marker `RSTn` (`n` counts restarts; the marker is
    /// `n mod 8`), expected after a restart interval. `None` when the data
    /// is not there.
    pub(super) fn restart(&mut self, n: usize) -> Option<()> {
        self.acc = 0;
        self.count = 0;
        self.at_marker = false;
        let marker = self.data.get(self.pos..self.pos + 2)?;
        if marker[0] == 0xFF && usize::from(marker[1]) == 0xD0 + n % 8 {
            self.pos += 2;
            Some(())
        } else {
            None
        }
    }
}

/// A [`Bits`] reader's position and buffered bits, without the data.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct BitsState {
    pos: usize,
    acc: u64,
    count: u32,
    at_marker: bool,
}

impl BitsState {
    /// Where the next byte to load is, in the data the state was taken over.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// The same state over data that lost its `dropped` bytes before
    /// [`BitsState::pos`] (none of which the reader needs again).
    pub(super) fn rebased(self, dropped: usize) -> BitsState {
        debug_assert!(dropped <= self.pos);
        BitsState {
            pos: self.pos - dropped,
            ..self
        }
    }
}

/// Decodes one block's AC codes only to find where the next block starts.
#[inline(always)]
pub(super) fn skip_ac(bits: &mut Bits, ac: &Huffman) -> Option<()> {
    let mut k = 1u32;
    while k < 64 {
        if bits.count < 16 {
            bits.refill();
        }
        // Several codes at once, when they all start inside the block.
        if let Some(&run) = ac.runs.get(bits.peek(RUN_BITS) as usize) {
            let advance = (run >> 8) & 0xFF;
            let end_of_block = run >> 16 != 0;
            let inside = if end_of_block {
                k + advance < 64
            } else {
                k + advance <= 64
            };
            if run != 0 && inside {
                bits.consume(run & 0xFF);
                if end_of_block {
                    break;
                }
                k += advance;
                continue;
            }
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

/// Zig-zag position → natural (row-major) position in an 8×8 block.
pub(super) const UNZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Decodes one block's AC codes into `coefficients` (natural order, zeroed
/// by the caller). Returns whether any AC coefficient was coded.
#[inline(always)]
pub(super) fn decode_ac(
    bits: &mut Bits,
    ac: &Huffman,
    coefficients: &mut [i16; 64],
) -> Option<bool> {
    let mut k = 1usize;
    while k < 64 {
        if bits.count < 16 {
            bits.refill();
        }
        let index = bits.peek(SKIP_BITS) as usize;
        let entry = ac.skip[index];
        let (advance, value) = if entry != 0 {
            bits.consume(u32::from(entry & 15));
            (usize::from(entry >> 4), ac.value[index])
        } else {
            let rs = bits.symbol(ac)?;
            let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
            match (run, size) {
                (0, 0) => (0, 0),
                (15, 0) => (16, 0),
                (_, 0) => return None,
                _ => {
                    if bits.count < size {
                        bits.refill();
                    }
                    (run + 1, bits.extend(size) as i16)
                }
            }
        };
        if advance == 0 {
            break;
        }
        k += advance;
        // Sixteen zeros write a zero where one already is.
        *coefficients.get_mut(usize::from(*UNZIGZAG.get(k - 1)?))? = value;
    }
    Some(k > 1)
}

/// Skips a scan's entropy-coded data: the position of the next marker that
/// is neither stuffing (`FF 00`) nor a restart (`FF D0`–`FF D7`).
pub(super) fn skip_entropy_data(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let at = pos + bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => pos = at + 1,
            _ => return Some(at),
        }
    }
}

/// A frame component.
#[derive(Clone)]
pub(super) struct Component {
    pub(super) id: u8,
    /// Sampling factors, 1–4.
    pub(super) h: usize,
    pub(super) v: usize,
    pub(super) quant_table: usize,
    /// Blocks per row and rows of blocks, padded to whole MCUs.
    pub(super) stride: usize,
    pub(super) rows: usize,
    /// Blocks really covering the component (non-interleaved scans).
    pub(super) blocks_w: usize,
    pub(super) blocks_h: usize,
    /// Samples covering the image: `ceil(width × h / h_max)` ×
    /// `ceil(height × v / v_max)` (`jpeg-decoder`'s `component.size`).
    pub(super) samples_w: usize,
    pub(super) samples_h: usize,
}

/// The headers read so far: frame, tables, restart interval, colour hints.
#[derive(Default, Clone)]
pub(super) struct Header {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) progressive: bool,
    pub(super) components: Vec<Component>,
    pub(super) h_max: usize,
    pub(super) v_max: usize,
    pub(super) mcus_x: usize,
    pub(super) mcus_y: usize,
    pub(super) dc_tables: [Option<Huffman>; 4],
    pub(super) ac_tables: [Option<Huffman>; 4],
    /// Quantisation tables in natural order.
    pub(super) quant: [Option<[u16; 64]>; 4],
    pub(super) restart_interval: usize,
    jfif: bool,
    /// APP14 Adobe transform flag, when present.
    adobe_transform: Option<u8>,
}

/// One scan header (SOS).
#[derive(Clone)]
pub(super) struct Scan {
    /// Per member: its component index, DC table and AC table (0–3).
    pub(super) members: Vec<(usize, usize, usize)>,
    /// Spectral selection start (Ss) and successive approximation (Ah, Al).
    pub(super) spectral_start: u8,
    pub(super) ah: u8,
    pub(super) al: u8,
}

pub(super) fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *bytes.get(at)?,
        *bytes.get(at + 1)?,
    ])))
}

/// Walks `bytes` from SOI to EOI, reading the headers and handing each scan
/// to `on_scan` with the position of its entropy-coded data; `on_scan`
/// returns where the next marker is. `None` when the file is not one handled
/// here, is malformed, or ends before EOI.
pub(super) fn walk(
    bytes: &[u8],
    on_scan: impl FnMut(&Header, &Scan, usize) -> Option<usize>,
) -> Option<Header> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    walk_from(bytes, Header::default(), 2, on_scan)
}

/// [`walk`] from the marker at `pos`, with the headers read before it.
pub(super) fn walk_from(
    bytes: &[u8],
    mut header: Header,
    mut pos: usize,
    mut on_scan: impl FnMut(&Header, &Scan, usize) -> Option<usize>,
) -> Option<Header> {
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
            0xD9 => return Some(header),
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
            0xC0 | 0xC1 => header.frame(segment, false)?,
            0xC2 => header.frame(segment, true)?,
            // Lossless, hierarchical, arithmetic: not here.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => header.huffman_tables(segment)?,
            0xDB => header.quant_tables(segment)?,
            0xDD => header.restart_interval = be16(segment, 0)?,
            0xE0 if segment.starts_with(b"JFIF\0") => header.jfif = true,
            0xEE if segment.starts_with(b"Adobe") => {
                header.adobe_transform = Some(*segment.get(11)?)
            }
            0xDA => {
                let scan = header.scan(segment)?;
                pos = on_scan(&header, &scan, pos)?;
            }
            _ => {} // APPn, COM, DNL after the frame (refused by the decoders) …
        }
    }
}

impl Header {
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
                samples_w: 0,
                samples_h: 0,
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
            c.samples_w = (self.width * c.h).div_ceil(self.h_max);
            c.samples_h = (self.height * c.v).div_ceil(self.v_max);
            c.blocks_w = c.samples_w.div_ceil(8);
            c.blocks_h = c.samples_h.div_ceil(8);
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
                1 => *self.ac_tables.get_mut(id)? = Some(table.with_runs()),
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
            let wide = match pq_tq >> 4 {
                0 => false,
                1 => true,
                _ => return None,
            };
            let mut table = [0u16; 64];
            for (k, &at) in UNZIGZAG.iter().enumerate() {
                table[usize::from(at)] = if wide {
                    be16(s, 1 + 2 * k)? as u16
                } else {
                    u16::from(*s.get(1 + k)?)
                };
            }
            *self.quant.get_mut(id)? = Some(table);
            s = s.get(if wide { 129 } else { 65 }..)?;
        }
        Some(())
    }

    fn scan(&self, s: &[u8]) -> Option<Scan> {
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
        let approx = *s.get(3 + 2 * n)?;
        Some(Scan {
            members,
            spectral_start: *s.get(1 + 2 * n)?,
            ah: approx >> 4,
            al: approx & 15,
        })
    }

    /// Whether the three components are YCbCr (`Some(true)`), or the one is
    /// grey (`Some(false)`); `None` for RGB and the big-gamut variants.
    pub(super) fn is_ycbcr(&self) -> Option<bool> {
        match self.components.len() {
            1 => Some(false),
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
                Some(true)
            }
            _ => None,
        }
    }
}

/// Part of a component's samples in memory: `data[row * stride + col]` is
/// sample (`origin.0 + col`, `origin.1 + row`) of a component of
/// `size` samples.
pub(super) struct Plane<'a> {
    pub(super) data: &'a [u8],
    pub(super) stride: usize,
    pub(super) origin: (usize, usize),
    /// The component's whole size in samples (`samples_w`, `samples_h`).
    pub(super) size: (usize, usize),
}

/// How `jpeg-decoder` upsamples a component along one axis.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Upsampling {
    /// Factor 1 (or an output 1 px across): as it is.
    One,
    /// Factor 2: the "fancy" triangle filter between neighbours.
    Two,
    /// Any other factor: nearest sample.
    Nearest(usize),
}

impl Upsampling {
    /// `jpeg-decoder`'s choice for a component sampled `factors` times less
    /// than the largest, in an output of `out` px: H1V1, H2V1, H1V2, H2V2,
    /// else its generic path, nearest both ways.
    pub(super) fn choose(factors: (usize, usize), out: (usize, usize)) -> (Upsampling, Upsampling) {
        let axis = |factor: usize, len: usize| match factor {
            _ if factor == 1 || len == 1 => Upsampling::One,
            2 => Upsampling::Two,
            f => Upsampling::Nearest(f),
        };
        let (x, y) = (axis(factors.0, out.0), axis(factors.1, out.1));
        if matches!(x, Upsampling::Nearest(_)) || matches!(y, Upsampling::Nearest(_)) {
            (
                Upsampling::Nearest(factors.0),
                Upsampling::Nearest(factors.1),
            )
        } else {
            (x, y)
        }
    }

    /// The samples that output px `first..=last` read, within `len` samples.
    pub(super) fn reads(self, first: usize, last: usize, len: usize) -> (usize, usize) {
        match self {
            Upsampling::One => (first, last),
            Upsampling::Two => ((first / 2).saturating_sub(1), (last / 2 + 1).min(len - 1)),
            Upsampling::Nearest(f) => (first / f, last / f),
        }
    }
}

/// Scratch space for [`upsample_row`], kept across rows.
#[derive(Default)]
pub(super) struct UpsampleScratch {
    weights: Vec<u16>,
    pairs: Vec<u8>,
}

/// Output row `row`, px `x..x + line.len()`, of a component upsampled as
/// `jpeg-decoder` does (`(ux, uy)` from [`Upsampling::choose`]), into
/// `line`. The plane must hold the samples [`Upsampling::reads`] names.
pub(super) fn upsample_row(
    plane: &Plane,
    (ux, uy): (Upsampling, Upsampling),
    row: usize,
    x: usize,
    line: &mut [u8],
    scratch: &mut UpsampleScratch,
) {
    let (w, h) = plane.size;
    let row_at = |sample_row: usize| {
        let start = (sample_row - plane.origin.1) * plane.stride;
        &plane.data[start..start + plane.stride]
    };
    // Vertically: one source row, or 3 × near + far (jpeg-decoder's V2).
    let (near, far) = match uy {
        Upsampling::One => (row_at(row), None),
        Upsampling::Nearest(f) => (row_at(row / f), None),
        Upsampling::Two => {
            let near = row / 2;
            let far = if row.is_multiple_of(2) {
                near.saturating_sub(1)
            } else {
                (near + 1).min(h - 1)
            };
            (row_at(near), Some(row_at(far)))
        }
    };
    let ox = plane.origin.0;
    let n = line.len();
    match (ux, far) {
        (Upsampling::One, None) => line.copy_from_slice(&near[x - ox..x - ox + n]),
        (Upsampling::One, Some(far)) => {
            let near = &near[x - ox..x - ox + n];
            let far = &far[x - ox..x - ox + n];
            for ((out, &a), &b) in line.iter_mut().zip(near).zip(far) {
                *out = ((3 * u16::from(a) + u16::from(b) + 2) >> 2) as u8;
            }
        }
        (Upsampling::Nearest(f), _) => {
            for (i, out) in line.iter_mut().enumerate() {
                *out = near[(x + i) / f - ox];
            }
        }
        (Upsampling::Two, far) => {
            // 4 × the vertically filtered sample for samples `lo - 1 ..=
            // hi + 1` (clamped to the component); then each output px is
            // (3 × its sample + its outer neighbour + 8) / 16: that is
            // jpeg-decoder's H2V1 and H2V2 to the bit, edges included.
            let (lo, hi) = (x / 2, (x + n - 1) / 2);
            let UpsampleScratch { weights, pairs } = scratch;
            weights.clear();
            // Samples `lo - 1 ..= hi + 1` clamped to the component (`0
            // ..= last`): the outer ones one at a time, the run inside it
            // as plain loops over slices, which the compiler vectorises.
            let last = w - 1;
            let weight = |s: usize| {
                let s = s.min(last) - ox;
                match far {
                    None => 4 * u16::from(near[s]),
                    Some(far) => 3 * u16::from(near[s]) + u16::from(far[s]),
                }
            };
            let inner_end = hi.min(last);
            let inner = lo.min(inner_end + 1) - ox..inner_end + 1 - ox;
            weights.push(weight(lo.saturating_sub(1)));
            match far {
                None => weights.extend(near[inner].iter().map(|&a| 4 * u16::from(a))),
                Some(far) => weights.extend(
                    near[inner.clone()]
                        .iter()
                        .zip(&far[inner])
                        .map(|(&a, &b)| 3 * u16::from(a) + u16::from(b)),
                ),
            }
            weights.extend(((inner_end + 1).max(lo)..=hi + 1).map(weight));
            pairs.resize(2 * (hi - lo + 1), 0);
            let (left, centre, right) = (&weights[..], &weights[1..], &weights[2..]);
            for (((pair, &l), &c), &r) in pairs.chunks_exact_mut(2).zip(left).zip(centre).zip(right)
            {
                let c = 3 * c + 8;
                pair[0] = ((c + l) >> 4) as u8;
                pair[1] = ((c + r) >> 4) as u8;
            }
            line.copy_from_slice(&pairs[x - 2 * lo..x - 2 * lo + n]);
        }
    }
}

const FIXED: i32 = 20;

/// BT.601 full range, `jpeg-decoder`'s fixed-point formula.
#[inline(always)]
pub(super) fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
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

/// One RGB row from its Y, Cb and Cr lines (or grey from Y alone).
pub(super) fn convert_row(out: &mut [u8], y: &[u8], chroma: Option<(&[u8], &[u8])>) {
    match chroma {
        Some((cb, cr)) => {
            for (((px, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
                let (r, g, b) = ycbcr_to_rgb(y, cb, cr);
                px.copy_from_slice(&[r, g, b]);
            }
        }
        None => {
            for (px, &y) in out.chunks_exact_mut(3).zip(y) {
                px.fill(y);
            }
        }
    }
}
