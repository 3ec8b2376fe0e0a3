//! A plan's stages as the cost model sees them ([`crate::budget`]): which
//! decoder and path, each op on how many pixels, the encoder. Built from the
//! header alone, before anything is decoded.

use super::Plan;
use crate::actions::scales_to_absolute_size;
use crate::budget::{Stage, Work};
use crate::codec::{self, ImageFormat};
use crate::raster::Orientation;

/// Bytes of an RGBA image of `size` (the model counts 4 channels whatever
/// the layout).
fn raster_bytes(size: (u32, u32)) -> u64 {
    px(size) * 4
}

fn px(size: (u32, u32)) -> u64 {
    u64::from(size.0) * u64::from(size.1)
}

/// What the source's header says about how costly it is to decode, beyond
/// its size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SourceTraits {
    /// Progressive JPEG (SOF2/6/10/14), Adam7-interlaced PNG.
    pub(crate) progressive: bool,
    /// 16 bits per sample (PNG).
    pub(crate) deep: bool,
    /// Lossless WebP (VP8L).
    pub(crate) lossless: bool,
}

impl SourceTraits {
    /// Reads the traits from the header bytes of a `format` source.
    pub(crate) fn read(bytes: &[u8], format: ImageFormat) -> SourceTraits {
        match format {
            ImageFormat::Jpeg => SourceTraits {
                progressive: jpeg_is_progressive(bytes),
                ..Default::default()
            },
            // IHDR: bit depth at 24, interlace method at 28.
            ImageFormat::Png => SourceTraits {
                progressive: bytes.get(28) == Some(&1),
                deep: bytes.get(24) == Some(&16),
                ..Default::default()
            },
            ImageFormat::Webp => SourceTraits {
                lossless: webp_has_chunk(bytes, b"VP8L"),
                ..Default::default()
            },
            _ => SourceTraits::default(),
        }
    }
}

/// Whether the first frame header of a JPEG is a progressive one.
fn jpeg_is_progressive(bytes: &[u8]) -> bool {
    let mut pos = 2;
    while let (Some(&0xFF), Some(&code)) = (bytes.get(pos), bytes.get(pos + 1)) {
        if code == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        if matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC) {
            return matches!(code, 0xC2 | 0xC6 | 0xCA | 0xCE);
        }
        if code == 0xDA || code == 0xD9 {
            return false;
        }
        let Some(len) = bytes.get(pos + 2..pos + 4) else {
            return false;
        };
        pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    false
}

/// Whether a WebP's RIFF chunk list has a chunk `id`.
fn webp_has_chunk(bytes: &[u8], id: &[u8; 4]) -> bool {
    let mut pos = 12usize;
    while let Some(head) = bytes.get(pos..pos + 8) {
        if &head[..4] == id {
            return true;
        }
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        pos = pos.saturating_add(8 + size + (size & 1));
    }
    false
}

/// The plan's stages, in the order they run.
#[derive(Debug, Clone)]
pub(crate) struct CostPlan {
    /// Rendering each overlay (a watermark image, a blind mark), once.
    pub(crate) overlays: Vec<Stage>,
    /// Decoding (every frame for an animated plan).
    pub(crate) decode: Stage,
    /// Turning upright after decoding.
    pub(crate) orient: Option<Stage>,
    /// One per op of the plan (`None` where it does nothing).
    pub(crate) ops: Vec<Option<Stage>>,
    /// Converting to sRGB, writing the output.
    pub(crate) encode: Stage,
}

impl CostPlan {
    /// Every stage, for [`crate::budget::estimate`].
    pub fn stages(&self) -> Vec<Stage> {
        let mut all = self.overlays.clone();
        all.push(self.decode.clone());
        all.extend(self.orient.clone());
        all.extend(self.ops.iter().flatten().cloned());
        all.push(self.encode.clone());
        all
    }
}

impl Plan {
    /// The stages this plan runs on `input`, with what each holds.
    pub(crate) fn cost_plan(&self, input: &[u8]) -> CostPlan {
        let traits = SourceTraits::read(input, self.source.format);
        let src = (self.source.width, self.source.height);
        let frames = if self.animated {
            u64::from(self.source.frames.max(1))
        } else {
            1
        };
        let name = self.source.format.name();
        let what = format!("decoding the {}x{} px {name} image", src.0, src.1);
        let (decode, decoded) = if self.animated {
            let what = format!(
                "decoding the {} frames of the {}x{} px {name} animation",
                frames, src.0, src.1
            );
            (
                Stage::new(Work::DecodeAnimation, what, px(src) * frames),
                src,
            )
        } else {
            self.decode_stage(src, traits, what)
        };
        let overlays: Vec<Stage> = self.overlays.iter().map(|o| o.cost_stage()).collect();
        // Rendered overlays are held from before the decode to the end.
        let overlay_bytes: u64 = self.overlays.iter().map(|o| o.rendered_bytes()).sum();
        let decode = decode.carrying(overlay_bytes);
        let mut current = self.orientation.output_size(decoded);
        // Every frame is held while each is processed.
        let held = |size: (u32, u32)| raster_bytes(size) * frames + overlay_bytes;
        let orient = (self.orientation != Orientation::Normal).then(|| {
            Stage::new(
                Work::Turn,
                "turning the image upright",
                px(current) * frames,
            )
            .carrying(held(decoded))
        });
        let mut reduced = decoded != src;
        let mut ops = Vec::with_capacity(self.ops.len());
        for (op, planned) in &self.ops {
            let input = current;
            let output = if reduced && !scales_to_absolute_size(op.as_ref()) {
                op.output_size(input)
            } else {
                reduced = false;
                *planned
            };
            current = output;
            let larger = px(input).max(px(output)) * frames;
            ops.push(op.cost().map(|cost| {
                Stage::new(cost.work, cost.what, larger)
                    .timed_by(larger * cost.passes)
                    .carrying(held(input))
            }));
        }
        let out = px(self.output_size) * frames;
        let encode = if self.extraction.is_some() {
            Stage::new(
                Work::BlindWatermark,
                "reading the blind watermark",
                px(current),
            )
        } else {
            let work = match self.output {
                ImageFormat::Jpeg if self.encode.progressive => Work::EncodeJpegProgressive,
                ImageFormat::Jpeg => Work::EncodeJpeg,
                ImageFormat::Png => Work::EncodePng,
                ImageFormat::Webp => Work::EncodeWebp,
                ImageFormat::Gif => Work::EncodeGif,
                ImageFormat::Bmp => Work::EncodeBmp,
                ImageFormat::Avif => Work::EncodeAvif,
                ImageFormat::Heic => Work::EncodeHeic,
            };
            let what = format!(
                "encoding the {}x{} px {} result",
                self.output_size.0,
                self.output_size.1,
                self.output.name()
            );
            Stage::new(work, what, out)
        }
        .carrying(held(current));
        CostPlan {
            overlays,
            decode,
            orient,
            ops,
            encode,
        }
    }

    /// The decode stage of a still image and the size it decodes to (as
    /// stored), following [`Plan::decode`]'s choice of path.
    fn decode_stage(
        &self,
        src: (u32, u32),
        traits: SourceTraits,
        what: String,
    ) -> (Stage, (u32, u32)) {
        let source_px = px(src);
        if let Some((_, _, w, h)) = self.source_window() {
            if self.source.format == ImageFormat::Jpeg
                && !traits.progressive
                && 2 * px((w, h)) <= source_px
            {
                let stage =
                    Stage::new(Work::DecodeJpegWindow, what, px((w, h))).timed_by(source_px);
                return (stage, (w, h));
            }
        }
        let min = self.min_decode_size();
        match self.source.format {
            ImageFormat::Jpeg => {
                let num = min.map_or(8, |m| codec::jpeg::shrink_numerator(src, m));
                let decoded = (
                    (src.0 * num).div_ceil(8).max(1),
                    (src.1 * num).div_ceil(8).max(1),
                );
                let stage = if num == 1 {
                    Stage::new(Work::DecodeJpegDc, what, px(decoded)).timed_by(source_px)
                } else if traits.progressive {
                    // Every coefficient of the source is kept, then planes
                    // and pixels at the decoded scale.
                    let mut stage = Stage::new(Work::DecodeJpegProgressive, what, source_px);
                    stage.memory_px = source_px + px(decoded);
                    stage
                } else {
                    Stage::new(Work::DecodeJpegBaseline, what, px(decoded)).timed_by(source_px)
                };
                (stage, decoded)
            }
            ImageFormat::Webp if !traits.lossless => {
                let decoded = min.map_or(src, |m| codec::webp::scaled_size(src, m));
                let stage =
                    Stage::new(Work::DecodeWebpLossy, what, px(decoded)).timed_by(source_px);
                (stage, decoded)
            }
            format => {
                let work = match format {
                    ImageFormat::Png if traits.deep => Work::DecodePng16,
                    ImageFormat::Png if traits.progressive => Work::DecodePngInterlaced,
                    ImageFormat::Png => Work::DecodePng,
                    ImageFormat::Webp => Work::DecodeWebpLossless,
                    ImageFormat::Gif => Work::DecodeGif,
                    ImageFormat::Bmp => Work::DecodeBmp,
                    ImageFormat::Avif => Work::DecodeAvif,
                    _ => Work::DecodeHeic,
                };
                (Stage::new(work, what, source_px), src)
            }
        }
    }

    /// The stage of decoding a JPEG with `jpeg-decoder` at 1/8 scale, when
    /// the DC-only decoder declined the file: a progressive file then keeps
    /// every coefficient. Checked before that fallback runs.
    pub(crate) fn jpeg_fallback_stage(&self, input: &[u8]) -> Stage {
        let src = (self.source.width, self.source.height);
        let what = format!("decoding the {}x{} px jpg image", src.0, src.1);
        if SourceTraits::read(input, ImageFormat::Jpeg).progressive {
            let mut stage = Stage::new(Work::DecodeJpegProgressive, what, px(src));
            stage.memory_px = px(src) + px((src.0.div_ceil(8), src.1.div_ceil(8)));
            stage
        } else {
            let decoded = (src.0.div_ceil(8), src.1.div_ceil(8));
            Stage::new(Work::DecodeJpegBaseline, what, px(decoded)).timed_by(px(src))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::corpus;

    /// Every stage's real peak (what the Rust code allocates, counted by
    /// the meter) stays under the model's bytes for it, and the whole
    /// request's under the estimate: sources of every format and path, with
    /// heavy commands.
    #[test]
    fn measured_memory_stays_under_the_estimate() {
        use crate::budget::{Budget, Work};
        use crate::command::{Command, Styles};
        use crate::pipeline::{process_metered, RequestContext};
        let sources = [
            "photos/Wine_by_Jakkub_Mede.jpg",
            "jpeg/jpg-progressive.jpg",
            "jpeg/cmyk-icc.jpg",
            "png/basi4a16.png",
            "png/basn2c08.png",
            "webp/lossless_indexed_4bit_palette.webp",
            "gif/animated.gif",
            "webp/anim.webp",
            "avif/kodim03_yuv420_8bpc.avif",
            "heic/pug.heic",
            "bmp/V5_A8_R8_G8_B8_Rgb.bmp",
        ];
        let commands = [
            "image/resize,w_200",
            "image/format,f_png",
            "image/rotate,a_33/format,f_webp",
            "image/blur,r_10,s_5/interlace,1",
            "image/crop,w_100,h_80,g_center/circle,r_40/format,f_png",
            "image/resize,w_300/format,f_avif",
            "image/resize,w_300/sharpen,r_5,s_5/format,f_gif",
        ];
        let ctx = RequestContext {
            budget: Budget::UNLIMITED,
            ..Default::default()
        };
        let mut checked = 0;
        let mut over = Vec::new();
        for path in sources {
            let input = corpus(path);
            for cmd in commands {
                let command = Command::parse(cmd, &Styles::new()).unwrap();
                let (result, report) = process_metered(&command, &input, &ctx);
                if result.is_err() {
                    continue;
                }
                let estimate = report.estimate.clone().unwrap();
                for stage in &report.stages {
                    let model = (stage.work.rate().bytes_per_px * stage.memory_px as f64) as u64
                        + stage.work.rate().fixed_bytes;
                    // The decoders of C code (libwebp) are not counted: their
                    // stages are checked by the time model only.
                    if matches!(
                        stage.work,
                        Work::DecodeWebpLossy | Work::DecodeWebpLossless | Work::EncodeWebp
                    ) {
                        continue;
                    }
                    if stage.peak_bytes > model {
                        over.push(format!(
                            "{path} {cmd}: {} used {} B for {} px ({:.1} B/px), the model says {model}",
                            stage.work.key(),
                            stage.peak_bytes,
                            stage.memory_px,
                            stage.peak_bytes as f64 / stage.memory_px.max(1) as f64
                        ));
                    }
                }
                if report.peak_bytes > estimate.peak_bytes + input.len() as u64 {
                    over.push(format!("{path} {cmd}: {}", report.log_line()));
                }
                checked += 1;
            }
        }
        assert!(over.is_empty(), "over the model:\n{}", over.join("\n"));
        assert!(checked >= 40, "only {checked} cases ran");
    }

    /// A watermark image is decoded for the watermark: its cost is part of
    /// the estimate, so a huge one is refused before anything is decoded.
    #[test]
    fn a_watermark_image_counts_in_the_estimate() {
        use crate::actions::watermark::{ObjectRef, Resources};
        use crate::budget::{Budget, MAX_TIME_MS};
        use crate::codec::EncodeOptions;
        use crate::command::{Command, Styles};
        use crate::pipeline::{process, RequestContext};
        use crate::raster::Raster;
        let overlay = codec::encode(
            &Raster::filled(4000, 4000, [9, 9, 9, 255]),
            ImageFormat::Png,
            &EncodeOptions::with_quality(90),
        )
        .unwrap();
        let mut resources = Resources {
            bucket: "demo".into(),
            ..Default::default()
        };
        resources.objects.insert(
            ObjectRef {
                bucket: "demo".into(),
                key: "wm.png".into(),
            },
            overlay.into(),
        );
        let source = corpus("jpeg/cat.jpg");
        // base64url("wm.png")
        let command = Command::parse("image/watermark,image_d20ucG5n", &Styles::new()).unwrap();
        let ctx = |memory_bytes| RequestContext {
            resources: resources.clone(),
            budget: Budget {
                memory_bytes,
                time_ms: MAX_TIME_MS,
            },
            ..Default::default()
        };
        let err = process(&command, &source, &ctx(64 << 20)).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::ImageTooLarge);
        assert!(
            err.message
                .starts_with("the watermark image 'demo/wm.png' would need about"),
            "{}",
            err.message
        );
        let out = process(&command, &source, &ctx(512 << 20)).unwrap();
        assert_eq!(out.size, Some((320, 240)));
    }

    #[test]
    fn traits_come_from_the_header() {
        let progressive = corpus("jpeg/jpg-progressive.jpg");
        assert!(SourceTraits::read(&progressive, ImageFormat::Jpeg).progressive);
        let baseline = corpus("jpeg/paris_exif_xmp_icc.jpg");
        assert!(!SourceTraits::read(&baseline, ImageFormat::Jpeg).progressive);
        let interlaced = corpus("png/basi4a16.png");
        let t = SourceTraits::read(&interlaced, ImageFormat::Png);
        assert!(t.progressive && t.deep);
        let plain = corpus("png/basn2c08.png");
        assert_eq!(
            SourceTraits::read(&plain, ImageFormat::Png),
            SourceTraits::default()
        );
    }
}
