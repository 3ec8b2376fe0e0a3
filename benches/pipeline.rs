//! Criterion benches of the core, natively: decode by format and scale, resize
//! by mode, encode by format, and whole pipelines, so a regression shows before
//! it reaches Envoy. Inputs are the repository's `samples/` (`photo.jpg` is a
//! 5312×2988 progressive photo); the other formats and a baseline JPEG are made
//! from it at start-up by our own encoders.
//!
//! Run as `cargo bench --bench pipeline` (all) or `cargo bench --bench
//! pipeline -- decode` (one group). `cargo xtask bench` compares the filter in
//! Envoy with its peers.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use image_process_filter::codec::{self, EncodeOptions, ImageFormat};
use image_process_filter::command::{Command, Styles};
use image_process_filter::raster::Raster;
use image_process_filter::{pipeline, RequestContext};
use std::path::Path;
use std::sync::OnceLock;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("samples/{name}: {e}"))
}

/// The inputs, made once: the progressive photo, a baseline re-encoding of it
/// (q90, full size), and a 1328×747 version in each still format.
struct Inputs {
    progressive: Vec<u8>,
    baseline: Vec<u8>,
    /// The photo at 1/4 scale (1328×747), RGB.
    quarter: Raster,
    /// `quarter` encoded as each format.
    encoded: Vec<(ImageFormat, Vec<u8>)>,
}

fn inputs() -> &'static Inputs {
    static INPUTS: OnceLock<Inputs> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let progressive = sample("photo.jpg");
        let info = codec::probe(&progressive).unwrap();
        let full = codec::decode(&progressive, &info, None).unwrap();
        let baseline = codec::encode(&full, ImageFormat::Jpeg, &opts(90)).unwrap();
        let quarter = codec::decode(&progressive, &info, Some((1328, 747))).unwrap();
        let encoded = [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::Webp,
            ImageFormat::Gif,
            ImageFormat::Bmp,
        ]
        .into_iter()
        .map(|f| (f, codec::encode(&quarter, f, &opts(85)).unwrap()))
        .collect();
        Inputs {
            progressive,
            baseline,
            quarter,
            encoded,
        }
    })
}

fn opts(quality: u8) -> EncodeOptions {
    EncodeOptions::with_quality(quality)
}

/// JPEG decode at each IDCT scale, baseline and progressive; other formats at 1328×747.
fn decode(c: &mut Criterion) {
    let inp = inputs();
    let mut g = c.benchmark_group("decode_jpeg_5312x2988");
    g.sample_size(10);
    for (kind, bytes) in [
        ("baseline", &inp.baseline),
        ("progressive", &inp.progressive),
    ] {
        let info = codec::probe(bytes).unwrap();
        for (scale, min) in [
            // 1/8 must cover twice the target (a block average), 1/4 … only once.
            ("1_8", Some((300, 170))),
            ("1_4", Some((1000, 600))),
            ("1_2", Some((2000, 1100))),
            ("1_1", None),
        ] {
            g.bench_function(format!("{kind}/{scale}"), |b| {
                b.iter(|| codec::decode(black_box(bytes), &info, min).unwrap())
            });
        }
        // The DC-only decoder alone, and what 1/8 cost before it: jpeg-decoder's own 1/8.
        g.bench_function(format!("{kind}/1_8_dc_only"), |b| {
            b.iter(|| codec::jpeg_dc::decode_eighth(black_box(bytes)).unwrap())
        });
        g.bench_function(format!("{kind}/1_8_jpeg_decoder"), |b| {
            b.iter(|| {
                let mut d = jpeg_decoder::Decoder::new(black_box(&bytes[..]));
                d.scale(664, 374).unwrap();
                d.decode().unwrap()
            })
        });
        // 1/2 as it was before `jpeg_region::decode_half`: jpeg-decoder's own.
        g.bench_function(format!("{kind}/1_2_jpeg_decoder"), |b| {
            b.iter(|| {
                let mut d = jpeg_decoder::Decoder::new(black_box(&bytes[..]));
                d.scale(2656, 1494).unwrap();
                d.decode().unwrap()
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("decode_1328x747");
    g.sample_size(10);
    for (format, bytes) in &inp.encoded {
        let info = codec::probe(bytes).unwrap();
        g.bench_function(format.name(), |b| {
            b.iter(|| codec::decode(black_box(bytes), &info, None).unwrap())
        });
    }
    g.finish();
}

/// A 1000×1000 crop from the centre of a 12–16 MP baseline JPEG: decoding
/// only the window ([`codec::decode_window`], `jpeg_region`) against what a
/// crop cost before it, the whole image with `jpeg-decoder` and then the
/// crop. Sources: the 5312×2988 4:2:0 re-encoding of `samples/photo.jpg`, and
/// `cargo xtask bench`'s 4272×2848 4:2:2 sunset when
/// `target/bench/bucket/sunset.baseline.jpg` exists.
fn crop_window(c: &mut Criterion) {
    let mut sources = vec![("photo_5312x2988_420", inputs().baseline.clone())];
    let sunset =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/bucket/sunset.baseline.jpg");
    if let Ok(bytes) = std::fs::read(sunset) {
        sources.push(("sunset_4272x2848_422", bytes));
    }
    let mut g = c.benchmark_group("crop_1000x1000_centre");
    g.sample_size(20);
    for (name, bytes) in &sources {
        let info = codec::probe(bytes).unwrap();
        let window = (
            (info.width - 1000) / 2,
            (info.height - 1000) / 2,
            1000,
            1000,
        );
        assert!(
            codec::decode_window(bytes, &info, window).is_some(),
            "{name}"
        );
        g.bench_function(format!("{name}/region_decode"), |b| {
            b.iter(|| codec::decode_window(black_box(bytes), &info, window).unwrap())
        });
        // The worst case: a crop of nearly everything saves nothing to skip.
        let near_whole = (8, 8, info.width - 16, info.height - 16);
        g.bench_function(format!("{name}/region_decode_near_whole"), |b| {
            b.iter(|| codec::decode_window(black_box(bytes), &info, near_whole).unwrap())
        });
        g.bench_function(format!("{name}/full_decode_then_crop"), |b| {
            b.iter(|| {
                let (x, y, w, h) = window;
                codec::decode(black_box(bytes), &info, None)
                    .unwrap()
                    .crop(x, y, w, h)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// Lanczos3 resampling as each resize mode uses it, from 1328×747.
fn resize(c: &mut Criterion) {
    let src = &inputs().quarter;
    let mut g = c.benchmark_group("resize_1328x747");
    g.bench_function("lfit_to_200x113", |b| {
        b.iter(|| black_box(src).resize(200, 113).unwrap())
    });
    g.bench_function("fixed_to_300x300", |b| {
        b.iter(|| black_box(src).resize(300, 300).unwrap())
    });
    g.bench_function("fill_to_300x300", |b| {
        b.iter(|| black_box(src).resize_fill(300, 300, 50).unwrap())
    });
    g.bench_function("pad_to_300x300", |b| {
        b.iter(|| {
            black_box(src)
                .resize(300, 169)
                .unwrap()
                .pad(300, 300, [255, 255, 255, 255])
        })
    });
    g.bench_function("lfit_to_1080x608", |b| {
        b.iter(|| black_box(src).resize(1080, 608).unwrap())
    });
    g.finish();
}

/// Every output format at 400×225 (AVIF and HEIC at 200×113: their pure-Rust
/// encoders are slow).
fn encode(c: &mut Criterion) {
    let src = inputs().quarter.resize(400, 225).unwrap();
    let tiny = inputs().quarter.resize(200, 113).unwrap();
    let mut g = c.benchmark_group("encode");
    g.sample_size(10);
    for format in [
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::Webp,
        ImageFormat::Gif,
        ImageFormat::Bmp,
    ] {
        g.bench_function(format!("{}_400x225", format.name()), |b| {
            b.iter(|| codec::encode(black_box(&src), format, &opts(85)).unwrap())
        });
    }
    for format in [ImageFormat::Avif, ImageFormat::Heic] {
        g.bench_function(format!("{}_200x113", format.name()), |b| {
            b.iter(|| codec::encode(black_box(&tiny), format, &opts(85)).unwrap())
        });
    }
    g.finish();
}

/// Whole requests, as the filter runs them.
fn pipelines(c: &mut Criterion) {
    let inp = inputs();
    let mut g = c.benchmark_group("pipeline_5312x2988");
    g.sample_size(10);
    for (kind, bytes) in [
        ("baseline", &inp.baseline),
        ("progressive", &inp.progressive),
    ] {
        for cmd in [
            "image/resize,m_lfit,w_200,h_200",
            "image/resize,m_lfit,w_1080,h_1080/format,f_webp",
            "image/resize,m_fill,w_300,h_300/quality,Q_70",
            "image/crop,w_1000,h_1000,g_center/rotate,a_90",
        ] {
            let command = Command::parse(cmd, &Styles::new()).unwrap();
            let ctx = RequestContext::default();
            g.bench_function(format!("{kind}/{cmd}"), |b| {
                b.iter(|| pipeline::process(&command, black_box(bytes), &ctx).unwrap())
            });
        }
    }
    for (format, bytes) in &inp.encoded {
        if matches!(format, ImageFormat::Png | ImageFormat::Webp) {
            let command =
                Command::parse("image/resize,m_lfit,w_200,h_200", &Styles::new()).unwrap();
            let ctx = RequestContext::default();
            g.bench_function(format!("{}_1328x747/thumb200", format.name()), |b| {
                b.iter(|| pipeline::process(&command, black_box(bytes), &ctx).unwrap())
            });
        }
    }
    g.finish();
}

/// `blind-watermark` on the 12 MP photo: the embedding step alone on the
/// decoded pixels, and whole requests (embed + JPEG re-encode; extract from a
/// reduced decode).
fn blind_watermark(c: &mut Criterion) {
    use image_process_filter::raster::blind_watermark as bw;
    let inp = inputs();
    let info = codec::probe(&inp.baseline).unwrap();
    let full = codec::decode(&inp.baseline, &info, None).unwrap();
    let mut g = c.benchmark_group("blind_watermark_5312x2988");
    g.sample_size(10);
    g.bench_function("embed_text_pixels_only", |b| {
        b.iter(|| {
            let mut r = full.clone();
            bw::embed_text(&mut r, black_box(b"Copyright 2026 demo"));
            r
        })
    });
    let ctx = RequestContext::default();
    let embed = Command::parse(
        "image/blind-watermark,method_embed,mode_1,text_Q29weXJpZ2h0IDIwMjYgZGVtbw",
        &Styles::new(),
    )
    .unwrap();
    g.bench_function("baseline/embed_text_request", |b| {
        b.iter(|| pipeline::process(&embed, black_box(&inp.baseline), &ctx).unwrap())
    });
    let marked = pipeline::process(&embed, &inp.baseline, &ctx).unwrap().body;
    let extract = Command::parse(
        "image/blind-watermark,method_extract,mode_1",
        &Styles::new(),
    )
    .unwrap();
    g.bench_function("marked/extract_text_request", |b| {
        b.iter(|| pipeline::process(&extract, black_box(&marked), &ctx).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    decode,
    crop_window,
    resize,
    encode,
    pipelines,
    blind_watermark
);
criterion_main!(benches);
