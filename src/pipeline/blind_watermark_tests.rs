//! `blind-watermark` through the pipeline: limits checked at plan time from
//! the header, and text and image marks that survive a round trip.

use super::{process, Plan, Processed, RequestContext};
use crate::actions::blind_watermark::tests::{b64, command};
use crate::actions::watermark::ObjectRef;
use crate::codec::{self, EncodeOptions, ImageFormat, SourceInfo};

use crate::error::ErrorCode;
use crate::raster::blind_watermark as bw;
use crate::raster::Raster;
use crate::test_support::corpus;

fn source(format: ImageFormat, w: u32, h: u32) -> SourceInfo {
    SourceInfo {
        format,
        width: w,
        height: h,
        frames: 1,
        quality: None,
        has_alpha: false,
        orientation: 1,
    }
}

fn with_mark_object() -> RequestContext {
    let mut ctx = RequestContext::default();
    ctx.resources.bucket = "demo".into();
    ctx.resources.objects.insert(
        ObjectRef {
            bucket: "demo".into(),
            key: "marks/logo.png".into(),
        },
        corpus("png/basn0g01.png").into(),
    );
    ctx
}

/// Limits from the header: format and size (just outside and just inside),
/// at the point of the pipeline where the action runs; the mark object.
#[test]
fn plan_checks_limits_from_the_header() {
    let text = format!("blind-watermark,method_embed,mode_1,text_{}", b64("hi"));
    let image = format!(
        "blind-watermark,method_embed,mode_0,image_{}",
        b64("marks/logo.png")
    );
    let cases: &[(ImageFormat, (u32, u32), String, Option<(ErrorCode, &str)>)] = &[
        (ImageFormat::Jpeg, (513, 513), text.clone(), None),
        (ImageFormat::Png, (4000, 3000), image.clone(), None),
        (
            ImageFormat::Bmp,
            (600, 600),
            "blind-watermark,method_extract,mode_0".into(),
            None,
        ),
        (
            ImageFormat::Jpeg,
            (512, 512),
            text.clone(),
            Some((
                ErrorCode::InvalidArgument,
                "blind-watermark: the image is 512x512 px, both sides must be more than 512 px",
            )),
        ),
        (
            ImageFormat::Png,
            (2000, 512),
            text.clone(),
            Some((ErrorCode::InvalidArgument, "the image is 2000x512 px")),
        ),
        (
            ImageFormat::Png,
            (128, 128),
            "blind-watermark,method_extract,mode_1".into(),
            None,
        ),
        (
            ImageFormat::Png,
            (2000, 127),
            "blind-watermark,method_extract,mode_1".into(),
            Some((
                ErrorCode::InvalidArgument,
                "the image is 2000x127 px, extraction needs at least 128 px",
            )),
        ),
        (
            ImageFormat::Gif,
            (800, 800),
            text.clone(),
            Some((
                ErrorCode::UnsupportedFormat,
                "blind-watermark: GIF sources are not supported (PNG, JPEG or BMP only)",
            )),
        ),
        (
            ImageFormat::Webp,
            (800, 800),
            "blind-watermark,method_extract,mode_1".into(),
            Some((
                ErrorCode::UnsupportedFormat,
                "WEBP sources are not supported",
            )),
        ),
        (
            ImageFormat::Jpeg,
            (1000, 800),
            format!("resize,w_600/{text}"),
            Some((ErrorCode::InvalidArgument, "the image is 600x480 px")),
        ),
        (
            ImageFormat::Jpeg,
            (1000, 800),
            format!("{text}/resize,w_600"),
            None,
        ),
        (
            ImageFormat::Jpeg,
            (1000, 800),
            format!(
                "blind-watermark,method_embed,mode_0,image_{}",
                b64("marks/none.png")
            ),
            Some((
                ErrorCode::NoSuchKey,
                "object 'demo/marks/none.png' does not exist",
            )),
        ),
    ];
    for (format, (w, h), cmd, want) in cases {
        let got = Plan::new(&command(cmd), source(*format, *w, *h), &with_mark_object());
        match (got, want) {
            (Ok(_), None) => {}
            (Err(e), Some((code, needle))) => {
                assert_eq!(e.code, *code, "{cmd}: {e}");
                assert!(
                    e.message.contains(needle),
                    "{cmd}: '{}' lacks '{needle}'",
                    e.message
                );
            }
            (got, want) => panic!("{cmd} on {format:?} {w}x{h}: {got:?}, want {want:?}"),
        }
    }
}

fn encode(r: &Raster, format: ImageFormat, quality: u8) -> Vec<u8> {
    codec::encode(r, format, &EncodeOptions::with_quality(quality)).unwrap()
}

/// A corpus photo scaled to `w` px wide, as a raster.
fn photo(path: &str, w: u32) -> Raster {
    let bytes = corpus(path);
    let info = codec::probe(&bytes).unwrap();
    let h = info.height * w / info.width;
    codec::decode(&bytes, &info, Some((w, h)))
        .unwrap()
        .resize(w, h)
        .unwrap()
}

fn run(cmd: &str, input: &[u8], ctx: &RequestContext) -> Processed {
    process(&command(cmd), input, ctx).unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn extracted_text(out: &Processed) -> String {
    assert_eq!(out.content_type, "application/json");
    let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    v["text"].as_str().unwrap().to_string()
}

/// Through the whole pipeline: a JPEG source stays JPEG (same size), a PNG
/// stays PNG; the text comes back from the output, from the output at
/// half size re-encoded at quality 75 (both done by our own pipeline),
/// and the unmarked source gives "".
#[test]
fn text_round_trips_through_the_pipeline() {
    let ctx = RequestContext::default();
    let text = "Copyright 2026 demo-bucket: user #1234";
    let embed = format!("blind-watermark,method_embed,mode_1,text_{}", b64(text));
    let extract = "blind-watermark,method_extract,mode_1";
    let jpeg_src = encode(
        &photo("photos/seeding_by_Clements_Engelhardt.jpg", 1024),
        ImageFormat::Jpeg,
        90,
    );
    let png_src = encode(
        &photo("photos/sunset_by_Aitzol_Berasategi.jpg", 900),
        ImageFormat::Png,
        0,
    );
    for (name, src, format) in [
        ("jpeg", &jpeg_src, ImageFormat::Jpeg),
        ("png", &png_src, ImageFormat::Png),
    ] {
        let info = codec::probe(src).unwrap();
        let marked = run(&embed, src, &ctx);
        assert_eq!(marked.content_type, format.mime(), "{name}");
        assert_eq!(marked.size, Some((info.width, info.height)), "{name}");
        if format == ImageFormat::Jpeg {
            // The source's quality is kept (capped at 85, as without a mark).
            assert_eq!(codec::jpeg::estimate_quality(&marked.body), Some(85));
        }
        assert_eq!(
            extracted_text(&run(extract, &marked.body, &ctx)),
            text,
            "{name}"
        );
        let attacked = run("resize,p_50/format,f_jpg/quality,Q_75", &marked.body, &ctx);
        assert_eq!(
            extracted_text(&run(extract, &attacked.body, &ctx)),
            text,
            "{name} at half size, q75"
        );
        assert_eq!(
            extracted_text(&run(extract, src, &ctx)),
            "",
            "{name} unmarked"
        );
    }
    // The action runs where it appears: embedding after a resize marks the
    // resized image; extraction after a resize reads the resized image.
    let out = run(&format!("resize,w_1000/{embed}"), &jpeg_src, &ctx);
    assert_eq!(out.size, Some((1000, 563)));
    let back = run(&format!("resize,w_700/{extract}"), &out.body, &ctx);
    assert_eq!(extracted_text(&back), text);
}

/// Image mode: the mark object from the request's resources, embedded
/// into a 12 MP-class JPEG scaled down, read back as a 64×64 PNG with at
/// most 5 % of its bits wrong, also from a half-size copy.
#[test]
fn image_mark_round_trips_through_the_pipeline() {
    let ctx = with_mark_object();
    let logo = codec::decode(
        &corpus("png/basn0g01.png"),
        &codec::probe(&corpus("png/basn0g01.png")).unwrap(),
        None,
    )
    .unwrap();
    let want = bw::mark_bits(&logo).unwrap();
    let src = encode(
        &photo("photos/Wine_by_Jakkub_Mede.jpg", 640),
        ImageFormat::Jpeg,
        90,
    );
    let marked = run(
        &format!(
            "blind-watermark,method_embed,mode_0,image_{}",
            b64("marks/logo.png")
        ),
        &src,
        &ctx,
    );
    assert_eq!(marked.content_type, "image/jpeg");
    let half = run("resize,p_50/quality,Q_75", &marked.body, &ctx);
    for (name, body) in [("marked", &marked.body), ("half", &half.body)] {
        let out = run("blind-watermark,method_extract,mode_0", body, &ctx);
        assert_eq!(out.content_type, "image/png");
        assert_eq!(out.size, Some((64, 64)));
        let picture = image::load_from_memory(&out.body).unwrap().to_luma8();
        assert_eq!(picture.dimensions(), (64, 64));
        let wrong = picture
            .pixels()
            .zip(&want)
            .filter(|(p, dark)| (p[0] < 128) != **dark)
            .count();
        assert!(wrong <= 4096 / 20, "{name}: {wrong} of 4096 bits wrong");
    }
    // Without a mark the answer is still a 64x64 picture.
    let out = run("blind-watermark,method_extract,mode_0", &src, &ctx);
    assert_eq!(out.size, Some((64, 64)));
}
