//! Criterion benches of the core, natively: decode by format and scale, resize,
//! encode by format, and whole pipelines, so a regression shows before it
//! reaches Envoy. Inputs are the repository's `samples/`.
//!
//! `cargo bench --bench pipeline`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use image_process_filter::codec::{self, ImageFormat};
use image_process_filter::command::{Command, Styles};
use image_process_filter::{pipeline, RequestContext};
use std::path::Path;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("samples/{name}: {e}"))
}

fn decode(c: &mut Criterion) {
    let photo = sample("photo.jpg");
    let info = codec::probe(&photo).unwrap();
    let mut g = c.benchmark_group("decode_photo_jpg_5312x2988");
    g.sample_size(10);
    for (name, min) in [
        ("scale_1_8", Some((400, 226))),
        ("scale_1_2", Some((2000, 1100))),
        ("full", None),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| codec::decode(black_box(&photo), &info, min).unwrap())
        });
    }
    g.finish();
    let webp = sample("flower.webp");
    let info = codec::probe(&webp).unwrap();
    c.bench_function("decode_flower_webp_480x360", |b| {
        b.iter(|| codec::decode(black_box(&webp), &info, None).unwrap())
    });
}

fn resize_and_encode(c: &mut Criterion) {
    let photo = sample("photo.jpg");
    let info = codec::probe(&photo).unwrap();
    let raster = codec::decode(&photo, &info, Some((1328, 747))).unwrap();
    c.bench_function("resize_lanczos3_1328x747_to_200x113", |b| {
        b.iter(|| raster.resize(200, 113).unwrap())
    });
    let small = raster.resize(400, 225).unwrap();
    let opts = codec::EncodeOptions {
        quality: 80,
        progressive: false,
    };
    let mut g = c.benchmark_group("encode_400x225");
    for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
        g.bench_function(format.name(), |b| {
            b.iter(|| codec::encode(black_box(&small), format, &opts).unwrap())
        });
    }
    g.finish();
}

fn pipelines(c: &mut Criterion) {
    let photo = sample("photo.jpg");
    let mut g = c.benchmark_group("pipeline_photo_jpg");
    g.sample_size(10);
    for cmd in [
        "image/resize,m_lfit,w_200,h_200",
        "image/resize,m_lfit,w_1080/format,f_webp",
        "image/resize,m_fill,w_300,h_300/quality,Q_70",
    ] {
        let command = Command::parse(cmd, &Styles::new()).unwrap();
        let ctx = RequestContext::default();
        g.bench_function(cmd, |b| {
            b.iter(|| pipeline::process(&command, black_box(&photo), &ctx).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, decode, resize_and_encode, pipelines);
criterion_main!(benches);
