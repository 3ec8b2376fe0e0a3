//! AVIF encoding: rav1e (the pure-Rust AV1 encoder, no assembly, one thread)
//! codes the colour picture and, when some pixel is not opaque, the alpha
//! plane; `avif-serialize` writes the container.
//!
//! The settings were measured against libaom (sharp's encoder) and against
//! `ravif`, which the filter used before (docs/performance.md, "AVIF output"):
//!
//! - **4:2:0 chroma**, BT.601 full range, 8 bit: what libavif, libheif and
//!   sharp write by default. The chroma of each 2×2 block is the mean of its
//!   pixels' chroma. It halves rav1e's time against 4:4:4 at a few % fewer
//!   bytes for the same SSIMULACRA2 at web qualities.
//! - **Quality → AV1 quantizer index** as libavif and libheif map it (see
//!   [`qindex_for_quality`]), so `Q_50` asks for the same base quantizer as
//!   sharp's `quality: 50`.
//! - **rav1e speed preset 9, partitions 8×8 to 32×32, CDEF and loop
//!   restoration off**, tuned psychovisually. On the bench's three photos
//!   (fit in 1920×1080) this needs 15–24 % fewer bytes than ravif's speed 10
//!   in 4:4:4 at SSIMULACRA2 70, in about the same time (about 1 µs per
//!   output px, natively and in wasm).

use crate::error::{ProcessError, Result};
use crate::raster::{PixelLayout, Raster};
use rav1e::prelude::*;

/// rav1e speed preset the settings start from, 0 (slowest) – 10 (fastest).
const SPEED_PRESET: u8 = 9;

/// Encodes `raster` at `quality` (1–100, clamped) as an 8-bit 4:2:0 AVIF,
/// with an alpha plane when some pixel is not opaque.
pub(crate) fn encode(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    let qindex = qindex_for_quality(quality);
    let (width, height) = (raster.width as usize, raster.height as usize);
    let planes = Yuv420Planes::from_raster(raster);
    let color = encode_av1(width, height, ChromaSampling::Cs420, qindex, |frame| {
        planes.copy_into(frame)
    })?;
    let alpha = match alpha_plane(raster) {
        Some(alpha) => Some(encode_av1(
            width,
            height,
            ChromaSampling::Cs400,
            qindex,
            |frame| frame.planes[0].copy_from_raw_u8(&alpha, width, 1),
        )?),
        None => None,
    };
    let mut container = avif_serialize::Aviffy::new();
    container
        .set_seq_profile(0)
        .set_chroma_subsampling((true, true))
        .set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt601)
        .set_color_primaries(avif_serialize::constants::ColorPrimaries::Bt709)
        .set_transfer_characteristics(avif_serialize::constants::TransferCharacteristics::Srgb)
        .set_full_color_range(true);
    let mut out = Vec::with_capacity(color.len() + alpha.as_ref().map_or(0, Vec::len) + 512);
    container
        .write(
            &mut out,
            &color,
            alpha.as_deref(),
            raster.width,
            raster.height,
            8,
        )
        .map_err(|e| ProcessError::internal(format!("AVIF container: {e}")))?;
    Ok(out)
}

/// The AV1 base quantizer index (0 = finest, 255 = coarsest) for `quality`
/// (1–100, clamped), as libavif and libheif's libaom plugin map it: quality
/// to libaom's 0–63 quantizer, `((100 − quality) × 63 + 50) / 100`, then
/// libaom's quantizer-to-qindex table (4 × q up to 61, then 249 and 255).
/// `Q_50` → 128, `Q_75` → 64, `Q_100` → 0.
pub(crate) fn qindex_for_quality(quality: u8) -> u8 {
    let quality = u32::from(quality.clamp(1, 100));
    match ((100 - quality) * 63 + 50) / 100 {
        63 => 255,
        62 => 249,
        q => (q * 4) as u8,
    }
}

/// rav1e's settings for a still picture (see the module documentation).
fn speed_settings() -> SpeedSettings {
    let mut s = SpeedSettings::from_preset(SPEED_PRESET);
    // One intra frame: no reference search or lookahead.
    s.multiref = false;
    s.rdo_lookahead_frames = 1;
    s.scene_detection_mode = SceneDetectionSpeed::None;
    s.motion.include_near_mvs = false;
    // 8×8 to 32×32: large flat areas get large blocks, detail gets 8×8
    // (the preset's 16×16 only costs 4–8 % more bytes).
    s.partition.partition_range = PartitionRange::new(BlockSize::BLOCK_8X8, BlockSize::BLOCK_32X32);
    s.transform.reduced_tx_set = true;
    // Exact rate estimates: the domain shortcut costs about 10 % more bytes.
    s.transform.tx_domain_rate = false;
    s.fast_deblock = true;
    s.prediction.fine_directional_intra = false;
    // CDEF's search took 40 % of the time for no measurable gain at web
    // qualities; loop restoration likewise.
    s.cdef = false;
    s.lrf = false;
    s
}

/// Codes one still frame with rav1e, filled by `fill`; returns the AV1 data.
fn encode_av1(
    width: usize,
    height: usize,
    chroma_sampling: ChromaSampling,
    qindex: u8,
    fill: impl FnOnce(&mut Frame<u8>),
) -> Result<Vec<u8>> {
    let config = Config::new().with_encoder_config(EncoderConfig {
        width,
        height,
        bit_depth: 8,
        chroma_sampling,
        chroma_sample_position: ChromaSamplePosition::Unknown,
        pixel_range: PixelRange::Full,
        color_description: (chroma_sampling != ChromaSampling::Cs400).then_some(ColorDescription {
            color_primaries: ColorPrimaries::BT709,
            transfer_characteristics: TransferCharacteristics::SRGB,
            matrix_coefficients: MatrixCoefficients::BT601,
        }),
        still_picture: true,
        quantizer: usize::from(qindex),
        min_quantizer: qindex,
        bitrate: 0,
        tune: Tune::Psychovisual,
        speed_settings: speed_settings(),
        ..EncoderConfig::default()
    });
    let failed = |e: &dyn std::fmt::Display| ProcessError::internal(format!("AVIF encoder: {e}"));
    let mut context: Context<u8> = config.new_context().map_err(|e| failed(&e))?;
    let mut frame = context.new_frame();
    fill(&mut frame);
    context.send_frame(frame).map_err(|e| failed(&e))?;
    context.flush();
    let mut data = Vec::new();
    loop {
        match context.receive_packet() {
            Ok(mut packet) => data.append(&mut packet.data),
            Err(EncoderStatus::Encoded) => continue,
            Err(EncoderStatus::LimitReached) => break,
            Err(e) => return Err(failed(&e)),
        }
    }
    Ok(data)
}

/// An image as BT.601 full-range Y′CbCr with 4:2:0 chroma.
struct Yuv420Planes {
    width: usize,
    luma: Vec<u8>,
    /// `ceil(width / 2)` samples per row.
    chroma_width: usize,
    cb: Vec<u8>,
    cr: Vec<u8>,
}

/// BT.601 weights (×65536): Y′ = 0.299 R′ + 0.587 G′ + 0.114 B′;
/// Cb = (B′ − Y′) / 1.772, Cr = (R′ − Y′) / 1.402.
const Y_WEIGHTS: [i64; 3] = [19595, 38470, 7471];
const CB_WEIGHTS: [i64; 3] = [-11059, -21709, 32768];
const CR_WEIGHTS: [i64; 3] = [32768, -27439, -5329];

impl Yuv420Planes {
    /// Converts `raster`'s colour (alpha ignored). Chroma is the mean over
    /// each 2×2 block, or the pixels of it that exist at odd edges.
    fn from_raster(raster: &Raster) -> Yuv420Planes {
        let (width, height) = (raster.width as usize, raster.height as usize);
        let channels = match raster.layout {
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 => 4,
        };
        let weigh = |w: [i64; 3], rgb: [i64; 3]| w[0] * rgb[0] + w[1] * rgb[1] + w[2] * rgb[2];
        let luma = raster
            .data
            .chunks_exact(channels)
            .map(|p| {
                let y = weigh(Y_WEIGHTS, [p[0], p[1], p[2]].map(i64::from));
                ((y + 32768) >> 16) as u8
            })
            .collect();
        let (chroma_width, chroma_height) = (width.div_ceil(2), height.div_ceil(2));
        let mut cb = Vec::with_capacity(chroma_width * chroma_height);
        let mut cr = Vec::with_capacity(chroma_width * chroma_height);
        for cy in 0..chroma_height {
            let rows = (2 * cy)..(2 * cy + 2).min(height);
            for cx in 0..chroma_width {
                let columns = (2 * cx)..(2 * cx + 2).min(width);
                let mut sum = [0i64; 3];
                let mut count = 0i64;
                for y in rows.clone() {
                    for x in columns.clone() {
                        let p = &raster.data[(y * width + x) * channels..][..3];
                        for (s, &v) in sum.iter_mut().zip(p) {
                            *s += i64::from(v);
                        }
                        count += 1;
                    }
                }
                let chroma = |w| {
                    let scaled = weigh(w, sum) + (128 << 16) * count;
                    (scaled + (count << 15))
                        .div_euclid(count << 16)
                        .clamp(0, 255) as u8
                };
                cb.push(chroma(CB_WEIGHTS));
                cr.push(chroma(CR_WEIGHTS));
            }
        }
        Yuv420Planes {
            width,
            luma,
            chroma_width,
            cb,
            cr,
        }
    }

    fn copy_into(&self, frame: &mut Frame<u8>) {
        frame.planes[0].copy_from_raw_u8(&self.luma, self.width, 1);
        frame.planes[1].copy_from_raw_u8(&self.cb, self.chroma_width, 1);
        frame.planes[2].copy_from_raw_u8(&self.cr, self.chroma_width, 1);
    }
}

/// The alpha samples when some pixel is not opaque.
fn alpha_plane(raster: &Raster) -> Option<Vec<u8>> {
    match raster.layout {
        PixelLayout::Rgb8 => None,
        PixelLayout::Rgba8 => {
            let alpha: Vec<u8> = raster.data.chunks_exact(4).map(|p| p[3]).collect();
            alpha.iter().any(|&a| a != 255).then_some(alpha)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::psnr;

    #[test]
    fn quality_maps_to_libavifs_quantizer_index() {
        assert_eq!(qindex_for_quality(100), 0);
        assert_eq!(qindex_for_quality(75), 64);
        assert_eq!(qindex_for_quality(50), 128);
        assert_eq!(qindex_for_quality(3), 244);
        assert_eq!(qindex_for_quality(2), 249);
        assert_eq!(qindex_for_quality(1), 249);
        assert_eq!(qindex_for_quality(0), 249, "clamped to 1");
        let all: Vec<u8> = (1..=100).map(qindex_for_quality).collect();
        assert!(all.windows(2).all(|w| w[0] >= w[1]), "{all:?}");
    }

    #[test]
    fn bt601_planes_of_known_colours() {
        // 3×1: odd width; the last chroma sample covers one pixel.
        let raster = Raster::new(
            3,
            1,
            PixelLayout::Rgb8,
            vec![255, 0, 0, 0, 0, 255, 128, 128, 128],
        )
        .unwrap();
        let planes = Yuv420Planes::from_raster(&raster);
        // Red: Y 76, Cb 85, Cr 255; blue: Y 29, Cb 255, Cr 107; grey: 128s.
        assert_eq!(planes.luma, vec![76, 29, 128]);
        assert_eq!(planes.chroma_width, 2);
        // Mean of red and blue: Cb (85 + 255) / 2 = 170, Cr (255 + 107) / 2 = 181.
        assert_eq!(planes.cb, vec![170, 128]);
        assert_eq!(planes.cr, vec![181, 128]);
    }

    /// Tiny and odd sizes (1 px, odd chroma edges, alpha) encode and read
    /// back at their size: a panic in rav1e would abort the filter's VM.
    #[test]
    fn tiny_and_odd_sizes_round_trip() {
        for (w, h) in [(1, 1), (1, 7), (3, 1), (5, 3), (17, 9)] {
            for layout in [PixelLayout::Rgb8, PixelLayout::Rgba8] {
                let channels = if layout == PixelLayout::Rgb8 { 3 } else { 4 };
                let data = (0..w * h * channels)
                    .map(|i| (i * 37 % 251) as u8)
                    .collect();
                let raster = Raster::new(w as u32, h as u32, layout, data).unwrap();
                let bytes = encode(&raster, 60).unwrap();
                let info = super::super::probe(&bytes).unwrap();
                assert_eq!((info.width, info.height), (w as u32, h as u32));
                let out = super::super::decode(&bytes, &info).unwrap();
                assert_eq!(out.size(), (w as u32, h as u32), "{w}x{h} {layout:?}");
            }
        }
    }

    #[test]
    fn opaque_alpha_is_dropped() {
        let opaque = Raster::new(4, 4, PixelLayout::Rgba8, [10, 20, 30, 255].repeat(16)).unwrap();
        assert_eq!(alpha_plane(&opaque), None);
        let mut clear = opaque.clone();
        clear.data[3] = 0;
        assert_eq!(alpha_plane(&clear).map(|a| a[0]), Some(0));
    }

    /// A corpus photo fitted in 240 px, as the filter would encode it.
    fn photo() -> Raster {
        let bytes = crate::test_support::corpus("orientation/Landscape_1.jpg");
        let info = crate::codec::probe(&bytes).unwrap();
        let full = crate::codec::decode(&bytes, &info, None).unwrap();
        let height = full.height * 240 / full.width;
        full.resize(240, height).unwrap()
    }

    /// The `av1C` box must say 8-bit 4:2:0, profile 0, as the AV1 sequence
    /// header rav1e wrote does: a reader that trusts the box (Safari,
    /// libavif) must not disagree with the bitstream. With no `colr` box,
    /// readers take the sequence header's colour description; when there is
    /// one it must say BT.709 primaries, sRGB, BT.601, full range.
    #[test]
    fn the_container_declares_what_the_bitstream_codes() {
        let bytes = encode(&photo(), 50).unwrap();
        let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap() + 4;
        let av1c = find(b"av1C");
        assert_eq!(bytes[av1c] & 0x7f, 1, "av1C version");
        assert_eq!(bytes[av1c + 1] >> 5, 0, "seq_profile");
        let flags = bytes[av1c + 2];
        assert_eq!(flags & 0b0111_0000, 0, "high bit depth, 12 bit, monochrome");
        assert_eq!(flags & 0b0000_1100, 0b1100, "subsampled in x and y");
        if let Some(at) = bytes.windows(4).position(|w| w == b"colr") {
            let colr = &bytes[at + 4..at + 15];
            assert_eq!(&colr[..4], b"nclx");
            let field = |i: usize| u16::from_be_bytes([colr[4 + i], colr[5 + i]]);
            assert_eq!(
                (field(0), field(2), field(4)),
                (1, 13, 6),
                "BT.709, sRGB, BT.601"
            );
            assert_eq!(colr[10] >> 7, 1, "full range");
        }
        // And the decoder reads it back at full size, opaque.
        let info = super::super::probe(&bytes).unwrap();
        assert_eq!((info.width, info.height, info.has_alpha), (240, 160, false));
    }

    /// Higher quality gives more bytes and a closer picture. On this small,
    /// detailed photo `Q_90` is about 37.7 dB from the source, `Q_20` 26 dB.
    #[test]
    fn quality_trades_bytes_for_fidelity() {
        let source = photo();
        let mut last = (0usize, 0.0f64);
        for quality in [20, 50, 75, 90] {
            let bytes = encode(&source, quality).unwrap();
            let info = super::super::probe(&bytes).unwrap();
            let out = super::super::decode(&bytes, &info).unwrap();
            assert_eq!(out.layout, PixelLayout::Rgb8);
            let db = psnr(&source.data, &out.data);
            assert!(
                bytes.len() > last.0 && db > last.1 + 0.5,
                "Q_{quality}: {} B at {db:.2} dB after {} B at {:.2} dB",
                bytes.len(),
                last.0,
                last.1
            );
            if quality == 20 {
                assert!(db < 30.0, "Q_20 at {db:.2} dB");
            }
            if quality == 90 {
                assert!(db > 37.0, "Q_90 at {db:.2} dB");
            }
            last = (bytes.len(), db);
        }
    }
}
