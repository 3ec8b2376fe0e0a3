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
    self, skip_ac, skip_entropy_data, upsample_row, Bits, Header, Huffman, Plane, Scan,
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
    /// Decodes (DC) or skips (AC-only progressive) one scan; returns where
    /// the data after it starts.
    fn scan(
        &mut self,
        header: &Header,
        scan: &Scan,
        bytes: &[u8],
        data_start: usize,
    ) -> Option<usize> {
        if self.dc.is_empty() {
            self.dc = header
                .components
                .iter()
                .map(|c| vec![0; c.stride * c.rows])
                .collect();
            self.seen = vec![false; header.components.len()];
        }
        let members = &scan.members;
        let n = members.len();
        if header.progressive && scan.spectral_start > 0 {
            return skip_entropy_data(bytes, data_start);
        }
        if scan.spectral_start != 0 || scan.al > 13 {
            return None;
        }
        let first = !header.progressive || scan.ah == 0;
        // Per member: its DC table (first scans) and AC table (baseline).
        let mut tables = Vec::with_capacity(n);
        for &(_, td, ta) in members {
            let dc = if first {
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
        let block = BlockCoding { first, al: scan.al };
        let mut bits = Bits::new(bytes, data_start);
        let mut preds = vec![0i32; n];
        let restart = header.restart_interval;
        let mut restarts = 0;
        if n == 1 {
            // Non-interleaved: the component's own blocks, row by row; each
            // block is an MCU.
            let (index, ..) = members[0];
            let (dc, ac) = tables[0];
            let c = &header.components[index];
            let plane = &mut self.dc[index];
            let total = c.blocks_w * c.blocks_h;
            for i in 0..total {
                let at = (i / c.blocks_w) * c.stride + i % c.blocks_w;
                block.decode(&mut bits, dc, ac, &mut preds[0], &mut plane[at])?;
                if restart > 0 && (i + 1) % restart == 0 && i + 1 < total {
                    bits.restart(restarts)?;
                    restarts += 1;
                    preds[0] = 0;
                }
            }
            self.seen[index] |= first;
        } else {
            let total = header.mcus_x * header.mcus_y;
            for mcu in 0..total {
                let (mx, my) = (mcu % header.mcus_x, mcu / header.mcus_x);
                for (member, &(index, ..)) in members.iter().enumerate() {
                    let (dc, ac) = tables[member];
                    let c = &header.components[index];
                    let plane = &mut self.dc[index];
                    for y in 0..c.v {
                        for x in 0..c.h {
                            let at = (my * c.v + y) * c.stride + mx * c.h + x;
                            block.decode(&mut bits, dc, ac, &mut preds[member], &mut plane[at])?;
                        }
                    }
                }
                if restart > 0 && (mcu + 1) % restart == 0 && mcu + 1 < total {
                    bits.restart(restarts)?;
                    restarts += 1;
                    preds.iter_mut().for_each(|p| *p = 0);
                }
            }
            for &(index, ..) in members {
                self.seen[index] |= first;
            }
        }
        // Continue at the marker after the scan's data.
        skip_entropy_data(bytes, bits.pos)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{corpus, corpus_jpegs, max_diff};

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
