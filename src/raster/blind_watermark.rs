//! Blind (invisible) watermark: embedding and extracting a payload of bits in
//! the luma of an image so that it survives JPEG re-encoding (quality ≥ 75)
//! and resizing (half size, and both together). Host-free and allocation-light:
//! two passes over the pixels to embed, one to extract.
//!
//! # Scheme
//!
//! * **Grid relative to the image.** The image is divided into [`GRID`]×[`GRID`]
//!   cells, cell `(cx, cy)` covering `x ∈ [cx·W/64, (cx+1)·W/64)` and likewise in
//!   `y`, in fractional px. A resized image has the same cells, so the
//!   extractor needs neither the original size nor a key besides the
//!   built-in one. Cropping or rotating moves the grid and loses the mark.
//! * **One bit per cell, by dithered quantisation-index modulation (QIM).**
//!   Each cell's statistic is its luma (BT.601 `Y`, 0–255) averaged with the
//!   window `w = sin²(πu)·sin²(πv)` (a Hann window) (`u`, `v` ∈ (0, 1) the position in the cell).
//!   The statistic is moved to the nearest point of the lattice
//!   `k·STEP + dither + bit·STEP/2`, adding `a·w` to R, G and B of every pixel
//!   of the cell (no hard cell edges; the window's weight sits in the centre,
//!   which a downscale keeps apart from the neighbours). The extractor reads the
//!   statistic the same way and gives a soft value `cos(2π·(s − dither)/STEP)`:
//!   +1 for a 0 bit, −1 for a 1 bit, near 0 when unsure.
//!   A window-weighted mean changes little under JPEG (it lives in the lowest
//!   DCT frequencies) and under resampling (a local average is kept).
//! * **Keyed order.** Payload slots are spread over the cells by a fixed
//!   pseudo-random permutation, and each cell has a pseudo-random dither; both
//!   come from [`KEY`]. Errors of one textured or saturated region are thus
//!   spread over the payload instead of wiping out a part of it, and an
//!   unmarked image reads as noise.
//!
//! Payloads ([`embed_text`], [`embed_mark`]):
//!
//! * **text**: the frame `[length: 8 bits][bytes][CRC-32 of length and bytes]`
//!   (40 + 8·n bits for n ≤ [`MAX_TEXT_BYTES`] bytes) repeated over the 4096
//!   slots; the extractor adds the soft values of every copy of a bit and tries
//!   every length, keeping the one whose CRC matches. A 100-byte text has 4
//!   copies, a 10-byte text 34. No matching CRC: no text.
//! * **image**: the 64×64 binary mark, one bit per slot (4096 bits, no
//!   repetition); the extractor always returns a 64×64 picture.
//!
//! Capacity: 4096 cells at any size; the smallest image allowed (513×513 px)
//! has cells of about 8×8 px (4×4 after a half-size resize).

use super::{PixelLayout, Raster};

/// Cells per side of the grid.
pub(crate) const GRID: usize = 64;
/// Cells (payload slots) in all: [`GRID`]².
pub(crate) const CELLS: usize = GRID * GRID;
/// Side of the binary mark picture, in px ([`MARK_SIDE`]² = [`CELLS`] bits).
pub(crate) const MARK_SIDE: u32 = 64;
/// Longest text, in bytes.
pub(crate) const MAX_TEXT_BYTES: usize = 100;
/// The QIM step, in luma levels (0–255): larger is more robust and more
/// visible. 12 gives a PSNR of 39.7–40.9 dB on the test photographs; 10 and 14
/// were measured too (see the table in docs/blind-watermark.md and `robustness_table`).
pub(crate) const STEP: f32 = 12.0;
/// The built-in key seeding the cell permutation and dithers.
pub(crate) const KEY: u64 = 0x6270_6277_6d61_726b;

/// Cell statistics stay this far inside 0–255 when a lattice point is chosen,
/// so that saturated cells can still reach their target.
const RANGE_MARGIN: f32 = 4.0;

/// The keyed layout: which cell carries payload slot `i`, and each cell's dither.
struct Layout {
    /// `slot_cell[i]`: the cell (row-major, `cy·GRID + cx`) of slot `i`.
    slot_cell: Vec<u16>,
    /// Dither of each cell, in luma levels, 0 ≤ d < [`STEP`].
    dither: Vec<f32>,
}

impl Layout {
    fn new() -> Layout {
        let mut rng = SplitMix64(KEY);
        let mut slot_cell: Vec<u16> = (0..CELLS as u16).collect();
        for i in (1..CELLS).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            slot_cell.swap(i, j);
        }
        let dither = (0..CELLS)
            .map(|_| (rng.next() >> 40) as f32 / (1u64 << 24) as f32 * STEP)
            .collect();
        Layout { slot_cell, dither }
    }
}

/// SplitMix64: a small, well-mixed deterministic generator (Steele et al. 2014).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Where each column (or row) of an `n`-px axis falls: its cell index and
/// window weight `sin²(π·u)`, `u` the pixel centre's position in its cell.
fn axis_cells(n: u32) -> Vec<(u16, f32)> {
    (0..n)
        .map(|i| {
            let g = (f64::from(i) + 0.5) * GRID as f64 / f64::from(n);
            let cell = (g.floor() as usize).min(GRID - 1);
            let u = g - cell as f64;
            (cell as u16, (std::f64::consts::PI * u).sin().powi(2) as f32)
        })
        .collect()
}

fn luma(px: &[u8]) -> f32 {
    0.299 * f32::from(px[0]) + 0.587 * f32::from(px[1]) + 0.114 * f32::from(px[2])
}

/// Per cell: Σ w·Y, Σ w and Σ w² over the pixels that can still move in
/// `direction` (+1 up, −1 down, 0 all).
struct CellSums {
    wy: Vec<f64>,
    w: Vec<f64>,
}

fn cell_sums(raster: &Raster, cols: &[(u16, f32)], rows: &[(u16, f32)]) -> CellSums {
    let mut sums = CellSums {
        wy: vec![0.0; CELLS],
        w: vec![0.0; CELLS],
    };
    let ch = raster.layout.channels();
    let stride = raster.width as usize * ch;
    for (row, &(cy, wy)) in raster.data.chunks_exact(stride).zip(rows) {
        let base = usize::from(cy) * GRID;
        // Accumulate one row per cell in f32, then add to the f64 totals.
        let mut acc_y = [0f32; GRID];
        let mut acc_w = [0f32; GRID];
        for (px, &(cx, wx)) in row.chunks_exact(ch).zip(cols) {
            let c = usize::from(cx);
            acc_y[c] += wx * luma(px);
            acc_w[c] += wx;
        }
        for c in 0..GRID {
            sums.wy[base + c] += f64::from(acc_y[c] * wy);
            sums.w[base + c] += f64::from(acc_w[c] * wy);
        }
    }
    sums
}

/// The window-weighted mean luma of every cell (row-major).
fn cell_means(raster: &Raster) -> Vec<f32> {
    let cols = axis_cells(raster.width);
    let rows = axis_cells(raster.height);
    let sums = cell_sums(raster, &cols, &rows);
    sums.wy
        .iter()
        .zip(&sums.w)
        .map(|(wy, w)| if *w > 0.0 { (wy / w) as f32 } else { 0.0 })
        .collect()
}

/// The lattice point for `bit` nearest to `s`, kept inside 0–255.
fn qim_target(s: f32, bit: bool, dither: f32) -> f32 {
    let offset = dither + if bit { STEP / 2.0 } else { 0.0 };
    let k = ((s - offset) / STEP).round();
    let mut t = k * STEP + offset;
    while t < RANGE_MARGIN {
        t += STEP;
    }
    while t > 255.0 - RANGE_MARGIN {
        t -= STEP;
    }
    t
}

/// The soft value of a cell statistic: +1 on the 0-bit lattice, −1 on the
/// 1-bit lattice.
fn qim_soft(s: f32, dither: f32) -> f32 {
    (std::f32::consts::TAU * (s - dither) / STEP).cos()
}

/// Writes one bit per cell: `slot_bits[i]` goes to the cell of slot `i`.
/// Alpha is left as it is. Two rounds, so that cells near black or white
/// (where clipping ate part of the first change) still reach their target.
fn embed_slots(raster: &mut Raster, slot_bits: &[bool; CELLS]) {
    let layout = Layout::new();
    let mut cell_bit = [false; CELLS];
    for (slot, &cell) in layout.slot_cell.iter().enumerate() {
        cell_bit[usize::from(cell)] = slot_bits[slot];
    }
    let cols = axis_cells(raster.width);
    let rows = axis_cells(raster.height);
    // Σw and Σw² per cell are separable: products of the column and row sums.
    let mut col_w = [0f64; GRID];
    let mut col_w2 = [0f64; GRID];
    for &(c, w) in &cols {
        col_w[usize::from(c)] += f64::from(w);
        col_w2[usize::from(c)] += f64::from(w * w);
    }
    let mut row_w = [0f64; GRID];
    let mut row_w2 = [0f64; GRID];
    for &(c, w) in &rows {
        row_w[usize::from(c)] += f64::from(w);
        row_w2[usize::from(c)] += f64::from(w * w);
    }
    let mut targets: Option<Vec<f32>> = None;
    for _round in 0..2 {
        let sums = cell_sums(raster, &cols, &rows);
        let mut amplitude = vec![0f32; CELLS];
        let mut changed = false;
        for cell in 0..CELLS {
            let (cx, cy) = (cell % GRID, cell / GRID);
            let w = sums.w[cell];
            let w2 = col_w2[cx] * row_w2[cy];
            if w <= 0.0 || w2 <= 0.0 {
                continue;
            }
            let s = (sums.wy[cell] / w) as f32;
            let t = match &targets {
                Some(t) => t[cell],
                None => qim_target(s, cell_bit[cell], layout.dither[cell]),
            };
            // Adding a·w to every pixel moves the weighted mean by a·Σw²/Σw.
            let a = f64::from(t - s) * (col_w[cx] * row_w[cy]) / w2;
            if a.abs() > 0.05 {
                changed = true;
            }
            amplitude[cell] = a as f32;
        }
        if targets.is_none() {
            targets = Some(
                (0..CELLS)
                    .map(|cell| {
                        let w = sums.w[cell];
                        let s = if w > 0.0 {
                            (sums.wy[cell] / w) as f32
                        } else {
                            0.0
                        };
                        qim_target(s, cell_bit[cell], layout.dither[cell])
                    })
                    .collect(),
            );
        }
        if !changed {
            break;
        }
        add_windowed(raster, &cols, &rows, &amplitude);
    }
}

/// Adds `amplitude[cell]·w(x, y)` to R, G and B of every pixel (rounded, clamped).
fn add_windowed(raster: &mut Raster, cols: &[(u16, f32)], rows: &[(u16, f32)], amplitude: &[f32]) {
    let ch = raster.layout.channels();
    let stride = raster.width as usize * ch;
    for (row, &(cy, wy)) in raster.data.chunks_exact_mut(stride).zip(rows) {
        let amps = &amplitude[usize::from(cy) * GRID..][..GRID];
        for (px, &(cx, wx)) in row.chunks_exact_mut(ch).zip(cols) {
            let delta = amps[usize::from(cx)] * wx * wy;
            if delta.abs() < 0.5 {
                continue;
            }
            for v in &mut px[..3] {
                *v = (f32::from(*v) + delta).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// The soft value of every payload slot (+1 for a 0 bit, −1 for a 1 bit).
fn read_slots(raster: &Raster) -> Vec<f32> {
    let layout = Layout::new();
    let means = cell_means(raster);
    layout
        .slot_cell
        .iter()
        .map(|&cell| {
            let c = usize::from(cell);
            qim_soft(means[c], layout.dither[c])
        })
        .collect()
}

/// The text frame: length byte, the bytes, CRC-32 (big-endian) of both.
fn text_frame(text: &[u8]) -> Vec<bool> {
    let mut bytes = Vec::with_capacity(text.len() + 5);
    bytes.push(text.len() as u8);
    bytes.extend_from_slice(text);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
        .collect()
}

/// Embeds `text` (1–[`MAX_TEXT_BYTES`] bytes; longer is cut) into `raster`.
pub fn embed_text(raster: &mut Raster, text: &[u8]) {
    let text = &text[..text.len().min(MAX_TEXT_BYTES)];
    let frame = text_frame(text);
    let mut slots = [false; CELLS];
    for (i, slot) in slots.iter_mut().enumerate() {
        *slot = frame[i % frame.len()];
    }
    embed_slots(raster, &slots);
}

/// The embedded text, or `None` when no length gives a frame with a matching
/// CRC (no mark, another kind of mark, or a mark destroyed by the attacks).
pub(crate) fn extract_text(raster: &Raster) -> Option<Vec<u8>> {
    let soft = read_slots(raster);
    for n in 1..=MAX_TEXT_BYTES {
        let frame_bits = 40 + 8 * n;
        let mut acc = vec![0f32; frame_bits];
        for (i, s) in soft.iter().enumerate() {
            acc[i % frame_bits] += s;
        }
        let bytes: Vec<u8> = acc
            .chunks_exact(8)
            .map(|bits| bits.iter().fold(0u8, |b, &v| (b << 1) | u8::from(v < 0.0)))
            .collect();
        if usize::from(bytes[0]) != n {
            continue;
        }
        let (body, crc) = bytes.split_at(n + 1);
        if crc32fast::hash(body).to_be_bytes() == crc {
            return Some(body[1..].to_vec());
        }
    }
    None
}

/// The binary mark of `raster` as [`CELLS`] bits (row-major, `true` = dark):
/// composited over white, scaled to 64×64 (Lanczos3) and thresholded at mid-grey.
pub fn mark_bits(raster: &Raster) -> crate::error::Result<Vec<bool>> {
    let flat = raster.flatten([255, 255, 255]);
    let small = flat.resize(MARK_SIDE, MARK_SIDE)?;
    Ok(small
        .data
        .chunks_exact(3)
        .map(|px| luma(px) < 128.0)
        .collect())
}

/// Embeds a 64×64 binary mark (`bits` row-major, `true` = dark; [`CELLS`] bits).
pub(crate) fn embed_mark(raster: &mut Raster, bits: &[bool]) {
    let mut slots = [false; CELLS];
    for (slot, bit) in slots.iter_mut().zip(bits) {
        *slot = *bit;
    }
    embed_slots(raster, &slots);
}

/// The 64×64 mark read from `raster` (row-major, `true` = dark). Always a
/// picture: an unmarked image gives noise.
pub(crate) fn extract_mark(raster: &Raster) -> Vec<bool> {
    read_slots(raster).iter().map(|&s| s < 0.0).collect()
}

/// The mark as a black-on-white 64×64 picture.
/// Missing bits (fewer than [`CELLS`]) are white.
pub(crate) fn mark_picture(bits: &[bool]) -> Raster {
    let data = (0..CELLS)
        .flat_map(|i| match bits.get(i) {
            Some(true) => [0u8; 3],
            _ => [255u8; 3],
        })
        .collect();
    Raster {
        width: MARK_SIDE,
        height: MARK_SIDE,
        layout: PixelLayout::Rgb8,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::test_support::corpus;

    /// A corpus photo decoded and scaled to `width` px wide (aspect kept).
    fn photo(path: &str, width: u32) -> Raster {
        let bytes = corpus(path);
        let info = codec::probe(&bytes).unwrap();
        let height = (u64::from(info.height) * u64::from(width) / u64::from(info.width)) as u32;
        let decoded = codec::decode(&bytes, &info, Some((width, height))).unwrap();
        decoded.resize(width, height).unwrap()
    }

    fn to_image(r: &Raster) -> image::RgbImage {
        let flat = r.flatten([255, 255, 255]);
        image::RgbImage::from_raw(r.width, r.height, flat.data.clone()).unwrap()
    }

    fn from_image(img: image::RgbImage) -> Raster {
        let (w, h) = img.dimensions();
        Raster::new(w, h, PixelLayout::Rgb8, img.into_raw()).unwrap()
    }

    /// JPEG re-encoding by an independent encoder (the `image` crate's), read back.
    fn jpeg(r: &Raster, quality: u8) -> Raster {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&to_image(r))
            .unwrap();
        from_image(image::load_from_memory(&out).unwrap().to_rgb8())
    }

    /// Half size with Lanczos3 (ours) or bilinear (the `image` crate's).
    fn half(r: &Raster, bilinear: bool) -> Raster {
        let (w, h) = (r.width / 2, r.height / 2);
        if bilinear {
            from_image(image::imageops::resize(
                &to_image(r),
                w,
                h,
                image::imageops::FilterType::Triangle,
            ))
        } else {
            r.resize(w, h).unwrap()
        }
    }

    fn psnr(a: &Raster, b: &Raster) -> f64 {
        let mse = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(x, y)| f64::from(x.abs_diff(*y)).powi(2))
            .sum::<f64>()
            / a.data.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    type Attack = (&'static str, fn(&Raster) -> Raster);

    const ATTACKS: &[Attack] = &[
        ("none", |r| r.clone()),
        ("jpeg q90", |r| jpeg(r, 90)),
        ("jpeg q75", |r| jpeg(r, 75)),
        ("half lanczos", |r| half(r, false)),
        ("half bilinear", |r| half(r, true)),
        ("half + q75", |r| jpeg(&half(r, false), 75)),
    ];

    fn slot_bits_of_text(text: &[u8]) -> Vec<bool> {
        let frame = text_frame(text);
        (0..CELLS).map(|i| frame[i % frame.len()]).collect()
    }

    fn ber(sent: &[bool], got: &[bool]) -> f64 {
        sent.iter().zip(got).filter(|(a, b)| a != b).count() as f64 / sent.len() as f64
    }

    /// The mark picture of the image tests: a 64×64 binary logo from the corpus
    /// (PngSuite's 1-bit 32×32 test image, scaled up by [`mark_bits`]).
    fn logo_bits() -> Vec<bool> {
        let bytes = corpus("png/basn0g01.png");
        let logo = codec::decode(&bytes, &codec::probe(&bytes).unwrap(), None).unwrap();
        mark_bits(&logo).unwrap()
    }

    /// Real photos at the sizes the tests use: JPEG photos scaled down, one of
    /// them squeezed to the smallest allowed size (513×513, cells of 8 px).
    fn test_photos() -> Vec<(&'static str, Raster)> {
        let seeding = photo("photos/seeding_by_Clements_Engelhardt.jpg", 1024);
        let landscape = photo("orientation/Landscape_1.jpg", 800);
        vec![
            ("seeding 1024x576", seeding.clone()),
            (
                "sunset 900x600",
                photo("photos/sunset_by_Aitzol_Berasategi.jpg", 900),
            ),
            ("wine 600x899", photo("photos/Wine_by_Jakkub_Mede.jpg", 600)),
            ("landscape 800x533", landscape.clone()),
            ("seeding 513x513", seeding.resize(513, 513).unwrap()),
            ("landscape 513x513", landscape.resize(513, 513).unwrap()),
        ]
    }

    /// Raw bit error rate per attack (before the text's repetition is used),
    /// for text and image marks on real photos, with the bounds: PSNR ≥ 38 dB,
    /// the text comes back exactly after every attack, the image mark's BER
    /// is ≤ 5 % after every attack (≤ 1 % without resizing). Run with
    /// `--nocapture` to see the table (copied into docs/blind-watermark.md).
    #[test]
    fn robustness_table() {
        let text = b"BOS blind watermark 2026 (c) image-process-filter #42";
        let mark = logo_bits();
        let sent_text = slot_bits_of_text(text);
        println!(
            "| image | mark | PSNR dB | {} |",
            ATTACKS.iter().map(|a| a.0).collect::<Vec<_>>().join(" | ")
        );
        let mut failures = Vec::new();
        for (name, original) in test_photos() {
            for image_mode in [false, true] {
                let mut marked = original.clone();
                let sent = if image_mode {
                    embed_mark(&mut marked, &mark);
                    mark.clone()
                } else {
                    embed_text(&mut marked, text);
                    sent_text.clone()
                };
                let p = psnr(&original, &marked);
                if p < 38.0 {
                    failures.push(format!("{name}: PSNR {p:.1} dB < 38"));
                }
                let kind = if image_mode { "image" } else { "text" };
                let mut row = format!("| {name} | {kind} | {p:.1} |");
                for (attack_name, attack) in ATTACKS {
                    let attacked = attack(&marked);
                    let got = extract_mark(&attacked);
                    let rate = ber(&sent, &got);
                    row += &format!(" {:.2} %", 100.0 * rate);
                    let bound = if attack_name.starts_with("half") {
                        0.05
                    } else {
                        0.01
                    };
                    if rate > bound {
                        failures.push(format!(
                            "{name} {kind} {attack_name}: BER {:.2} % > {:.0} %",
                            100.0 * rate,
                            100.0 * bound
                        ));
                    }
                    if !image_mode {
                        let back = extract_text(&attacked);
                        if back.as_deref() != Some(&text[..]) {
                            failures.push(format!("{name} {attack_name}: text lost"));
                            row += " LOST";
                        }
                    }
                    row += " |";
                }
                println!("{row}");
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    /// An unmarked photo gives no text (so a "no mark" answer means
    /// something), and an image mark read as text gives none either.
    #[test]
    fn unmarked_and_image_marked_photos_have_no_text() {
        for (name, original) in test_photos() {
            assert_eq!(extract_text(&original), None, "{name} unmarked");
            let mut marked = original.clone();
            embed_mark(&mut marked, &logo_bits());
            assert_eq!(extract_text(&marked), None, "{name} image-marked");
            // And the picture read from the unmarked photo is noise: about
            // half its bits differ from the logo.
            let noise = ber(&logo_bits(), &extract_mark(&original));
            assert!((0.3..0.7).contains(&noise), "{name}: {noise}");
        }
    }

    /// Every text length from 1 to 100 bytes round-trips, and longer is cut.
    #[test]
    fn text_lengths_round_trip() {
        let original = photo("orientation/Landscape_1.jpg", 640)
            .resize(640, 600)
            .unwrap();
        let long: Vec<u8> = (0..120).map(|i| b'!' + (i % 90) as u8).collect();
        for n in [1, 2, 17, 63, 99, 100, 120] {
            let mut marked = original.clone();
            embed_text(&mut marked, &long[..n]);
            let back = extract_text(&jpeg(&marked, 80)).unwrap_or_default();
            assert_eq!(back, &long[..n.min(MAX_TEXT_BYTES)], "{n} bytes");
        }
    }

    /// Near-black and near-white images can still carry the mark (targets are
    /// kept inside 0–255 and a second round makes up for clipping).
    #[test]
    fn saturated_images_carry_the_mark() {
        for level in [0u8, 255] {
            let mut r = Raster::filled(600, 600, [level, level, level, 255]);
            embed_text(&mut r, b"edge");
            assert_eq!(extract_text(&r).as_deref(), Some(&b"edge"[..]), "{level}");
        }
    }

    #[test]
    fn mark_picture_is_black_on_white() {
        let mut bits = vec![false; CELLS];
        bits[0] = true;
        let p = mark_picture(&bits);
        assert_eq!(p.size(), (MARK_SIDE, MARK_SIDE));
        assert_eq!(&p.data[..6], &[0, 0, 0, 255, 255, 255]);
    }
}
