//! Golden-image tests of `watermark`: whole commands through the pipeline,
//! decoded pixels compared with a tolerance.

use super::{process, RequestContext};
use crate::actions::watermark::tests::{b64, spec};
use crate::actions::watermark::*;
use crate::codec::{self, EncodeOptions, ImageFormat};
use crate::command::{Command, Styles};
use crate::error::ErrorCode;
use crate::raster::{PixelLayout, Raster};

const GREY: [u8; 3] = [128, 128, 128];
const RED: [u8; 3] = [230, 20, 20];

fn png(r: &Raster) -> Vec<u8> {
    codec::encode(
        r,
        ImageFormat::Png,
        &EncodeOptions {
            quality: 0,
            progressive: false,
        },
    )
    .unwrap()
}

/// 200×100 grey base; the watermark `wm.png` is 40×20 red (exactly
/// `P_20` of the base, so it is not resampled), `half.png` the same at
/// alpha 128.
fn resources() -> Resources {
    let mut r = Resources {
        bucket: "demo".into(),
        ..Default::default()
    };
    let red = Raster::filled(40, 20, [RED[0], RED[1], RED[2], 255]);
    r.objects
        .insert(ObjectRef::parse("demo/wm.png").unwrap(), png(&red).into());
    let half = Raster::filled(40, 20, [RED[0], RED[1], RED[2], 128]);
    r.objects.insert(
        ObjectRef::parse("demo/half.png").unwrap(),
        png(&half).into(),
    );
    r
}

fn base() -> Vec<u8> {
    png(&Raster::filled(200, 100, [GREY[0], GREY[1], GREY[2], 255]))
}

fn run_rgb(cmd: &str, src: &[u8], resources: Resources) -> image::RgbImage {
    let c = Command::parse(cmd, &Styles::new()).unwrap_or_else(|e| panic!("{cmd}: {e}"));
    let out = process(
        &c,
        src,
        &RequestContext {
            resources,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    image::load_from_memory(&out.body).unwrap().to_rgb8()
}

fn close(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

/// The 40×20 red rectangle is exactly at (left, top): checked on its
/// pixels and on a 1 px frame around it.
fn assert_rect(img: &image::RgbImage, left: i64, top: i64, colour: [u8; 3], tol: u8, what: &str) {
    for y in (top - 1)..=(top + 20) {
        for x in (left - 1)..=(left + 40) {
            if x < 0 || y < 0 || x >= 200 || y >= 100 {
                continue;
            }
            let inside = x >= left && x < left + 40 && y >= top && y < top + 20;
            let want = if inside { colour } else { GREY };
            let got = img.get_pixel(x as u32, y as u32).0;
            assert!(
                close(got, want, tol),
                "{what}: ({x},{y}) is {got:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn golden_image_watermark_at_all_nine_anchors_and_offsets() {
    let key = b64("wm.png");
    // (g, x, y, expected top-left) on a 200×100 base, 40×20 mark.
    let cases: &[(u8, &str, (i64, i64))] = &[
        (1, "", (10, 10)),
        (2, "", (80, 10)),
        (3, "", (150, 10)),
        (4, "", (10, 40)),
        (5, "", (80, 40)),
        (6, "", (150, 40)),
        (7, "", (10, 70)),
        (8, "", (80, 70)),
        (9, "", (150, 70)),
        (1, ",x_0,y_0", (0, 0)),
        (3, ",x_25,y_5", (135, 5)),
        (5, ",x_7,y_-6", (87, 34)),
        (5, ",voffset_9", (80, 49)),
        (7, ",x_30,y_30", (30, 50)),
        (9, ",x_-10,y_-5", (170, 85)), // partly outside: clipped
    ];
    for (g, extra, (left, top)) in cases {
        let cmd = format!("image/watermark,image_{key},g_{g}{extra}/format,f_png");
        let img = run_rgb(&cmd, &base(), resources());
        assert_eq!(img.dimensions(), (200, 100));
        assert_rect(&img, *left, *top, RED, 0, &cmd);
    }
    // JPEG output: same places, within JPEG's tolerance at the centre.
    let img = run_rgb(
        &format!("image/watermark,image_{key},g_5/format,f_jpg"),
        &base(),
        resources(),
    );
    assert!(close(img.get_pixel(100, 50).0, RED, 12));
    assert!(close(img.get_pixel(20, 20).0, GREY, 12));
}

#[test]
fn golden_transparency() {
    let key = b64("wm.png");
    // t_50 of opaque red over grey: the average, ±1.
    let img = run_rgb(
        &format!("image/watermark,image_{key},g_1,t_50/format,f_png"),
        &base(),
        resources(),
    );
    let mid = |a: u8, b: u8| (u16::from(a) + u16::from(b)).div_ceil(2) as u8;
    let want = [
        mid(RED[0], GREY[0]),
        mid(RED[1], GREY[1]),
        mid(RED[2], GREY[2]),
    ];
    assert_rect(&img, 10, 10, want, 1, "t_50");
    // The watermark's own alpha (128) and t_50 multiply: a quarter red.
    let half = b64("half.png");
    let img = run_rgb(
        &format!("image/watermark,image_{half},g_1,t_50/format,f_png"),
        &base(),
        resources(),
    );
    let quarter = |a: u8, b: u8| ((f32::from(a) * 0.25 + f32::from(b) * 0.75).round()) as u8;
    let want = [
        quarter(RED[0], GREY[0]),
        quarter(RED[1], GREY[1]),
        quarter(RED[2], GREY[2]),
    ];
    assert_rect(&img, 10, 10, want, 2, "own alpha × t");
    // A transparent base keeps its transparency outside the watermark.
    let clear = png(&Raster::new(200, 100, PixelLayout::Rgba8, vec![0; 200 * 100 * 4]).unwrap());
    let c = Command::parse(
        &format!("image/watermark,image_{key},g_1,t_50/format,f_png"),
        &Styles::new(),
    )
    .unwrap();
    let out = process(
        &c,
        &clear,
        &RequestContext {
            resources: resources(),
            ..Default::default()
        },
    )
    .unwrap();
    let img = image::load_from_memory(&out.body).unwrap().to_rgba8();
    assert_eq!(img.get_pixel(0, 0)[3], 0);
    let p = img.get_pixel(20, 20).0;
    assert!(
        p[3].abs_diff(128) <= 1 && close([p[0], p[1], p[2]], RED, 1),
        "{p:?}"
    );
}

#[test]
fn scale_rotate_tile_and_own_command() {
    let key = b64("wm.png");
    // P_40: 80×40 at g_1.
    let img = run_rgb(
        &format!("image/watermark,image_{key},P_40,g_1,x_0,y_0/format,f_png"),
        &base(),
        resources(),
    );
    assert!(close(img.get_pixel(79, 39).0, RED, 2) && close(img.get_pixel(81, 41).0, GREY, 2));
    // Its own command runs first: rotated 90°, 20×40 → fits 40×20 as 10×20.
    let own = b64("wm.png?x-bce-process=image/rotate,a_90");
    let img = run_rgb(
        &format!("image/watermark,image_{own},g_1,x_0,y_0/format,f_png"),
        &base(),
        resources(),
    );
    assert!(close(img.get_pixel(5, 10).0, RED, 2));
    assert!(
        close(img.get_pixel(15, 10).0, GREY, 2),
        "10 px wide after rotation and P_20"
    );
    // a_90 of the mark itself: 20×40 at g_1.
    let img = run_rgb(
        &format!("image/watermark,image_{key},a_90,g_1,x_0,y_0/format,f_png"),
        &base(),
        resources(),
    );
    assert!(close(img.get_pixel(15, 35).0, RED, 2) && close(img.get_pixel(25, 35).0, GREY, 2));
    // Tiling covers the image: steps of 40+10 by 20+10.
    let img = run_rgb(
        &format!("image/watermark,image_{key},fill_1/format,f_png"),
        &base(),
        resources(),
    );
    for (x, y) in [(5, 5), (55, 5), (155, 35), (105, 95)] {
        assert!(close(img.get_pixel(x, y).0, RED, 0), "tile at ({x},{y})");
    }
    for (x, y) in [(45, 5), (5, 25)] {
        assert!(close(img.get_pixel(x, y).0, GREY, 0), "gap at ({x},{y})");
    }
}

#[test]
fn missing_objects_and_limits() {
    let c = Command::parse(
        &format!("image/watermark,image_{}", b64("nope.png")),
        &Styles::new(),
    )
    .unwrap();
    let err = process(
        &c,
        &base(),
        &RequestContext {
            resources: resources(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!((err.code, err.http_status()), (ErrorCode::NoSuchKey, 404));
    assert!(err.message.contains("'demo/nope.png'"), "{}", err.message);
    // The limits on the image object are the pipeline's
    // (`pipeline::overlay`); a font that is not configured is this
    // module's.
    let spec = spec_of(&format!(
        "watermark,text_{},type_{}",
        b64("hi"),
        b64("Nope")
    ));
    let err = WatermarkJob::plan(&spec, &resources(), None).unwrap_err();
    assert_eq!(err.http_status(), 400, "{}", err.message);
    assert!(err.message.contains("Nope"), "{}", err.message);
}

fn spec_of(cmd: &str) -> WatermarkSpec {
    spec(cmd).unwrap()
}

/// Pixels compared with a stored golden PNG: mean absolute difference
/// under 1.5 and no pixel off by more than 64. `IPF_UPDATE_GOLDEN=1`
/// rewrites the golden.
fn assert_golden(name: &str, got: &image::RgbImage) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("IPF_UPDATE_GOLDEN").is_some() {
        got.save(&path).unwrap();
    }
    let want = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (IPF_UPDATE_GOLDEN=1 writes it)", path.display()))
        .to_rgb8();
    assert_eq!(got.dimensions(), want.dimensions(), "{name}");
    let diffs: Vec<u8> = got
        .as_raw()
        .iter()
        .zip(want.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .collect();
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    let max = diffs.iter().copied().max().unwrap_or(0);
    assert!(
        mean < 1.5 && max <= 64,
        "{name}: mean diff {mean:.2}, max {max}"
    );
}

fn light_base(w: u32, h: u32) -> Vec<u8> {
    let mut data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&[200 + (x * 40 / w) as u8, 210, 190 + (y * 50 / h) as u8]);
        }
    }
    png(&Raster::new(w, h, PixelLayout::Rgb8, data).unwrap())
}

#[test]
fn golden_text_watermarks() {
    let cmd = format!(
        "image/watermark,text_{},size_28,color_1030C0,g_1,x_8,y_6/watermark,text_{},size_22,color_FFFFFF,skw_2,skc_000000,g_3/watermark,text_{},size_24,color_202020,effect_hardshadow,shx_3,shy_3,shc_FF8000,style_italic,g_7/watermark,text_{},size_26,color_00FF0040,style_bold,effect_softoutline,shc_000000,g_9,a_-10/format,f_png",
        b64("Plain Ag"),
        b64("Stroke"),
        b64("Shadow"),
        b64("Bold"),
    );
    let img = run_rgb(&cmd, &light_base(360, 160), Resources::default());
    assert_golden("text_effects.png", &img);
}

#[test]
fn golden_mixed_image_and_text() {
    let cmd = format!(
        "image/watermark,image_{},text_{},size_20,color_000000,order_1,align_1,interval_6,g_5/format,f_png",
        b64("wm.png"),
        b64("Mixed"),
    );
    let img = run_rgb(&cmd, &base(), resources());
    assert_golden("mixed.png", &img);
    // Image first (order 0) puts the red block on the left of the text.
    let cmd0 = cmd.replace("order_1", "order_0");
    let img0 = run_rgb(&cmd0, &base(), resources());
    let red_x = |img: &image::RgbImage| {
        (0..200)
            .find(|&x| close(img.get_pixel(x, 50).0, RED, 4))
            .unwrap()
    };
    assert!(red_x(&img0) < red_x(&img), "order_0 places the image first");
}

/// Every frame of an animation gets the watermark, and stays a frame.
#[test]
fn animations_are_watermarked_frame_by_frame() {
    let src = crate::test_support::corpus("gif/animated.gif");
    let info = codec::probe(&src).unwrap();
    assert!(info.frames > 1);
    let c = Command::parse(
        &format!(
            "image/watermark,text_{},size_12,color_FF0000,g_5",
            b64("WM")
        ),
        &Styles::new(),
    )
    .unwrap();
    let out = process(&c, &src, &RequestContext::default()).unwrap();
    let back = codec::probe(&out.body).unwrap();
    assert_eq!(
        (back.frames, back.width, back.height),
        (info.frames, info.width, info.height)
    );
    let before = codec::animation::decode_animation(&src, &info).unwrap();
    let after = codec::animation::decode_animation(&out.body, &back).unwrap();
    for (i, (a, b)) in before.frames.iter().zip(&after.frames).enumerate() {
        assert_ne!(a.raster.data, b.raster.data, "frame {i} has the watermark");
    }
}

/// The system path of WenQuanYi Zen Hei (Debian `fonts-wqy-zenhei`,
/// which `cargo xtask test` installs).
const WQY: &str = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";

#[test]
fn golden_cjk_text_with_a_configured_font() {
    let font = std::fs::read(WQY).unwrap_or_else(|e| {
        panic!("{WQY}: {e}: install Debian's fonts-wqy-zenhei (cargo xtask test does)")
    });
    let mut r = Resources {
        bucket: "demo".into(),
        ..Default::default()
    };
    let object = ObjectRef::parse("fonts/wqy-zenhei.ttc").unwrap();
    r.fonts.insert("WenQuanYi".into(), object.clone());
    r.objects.insert(object, font.into());
    let cmd = format!(
        "image/watermark,text_{},type_{},size_40,color_B01010,g_5/format,f_png",
        b64("水印 百度云"),
        b64("WenQuanYi")
    );
    let img = run_rgb(&cmd, &light_base(300, 100), r.clone());
    assert_golden("cjk_wqy.png", &img);
    // The built-in Latin font has no such glyphs: its boxes look different.
    let latin = cmd.replace(
        &format!("type_{}", b64("WenQuanYi")),
        &format!("type_{}", b64("OpenSans")),
    );
    let tofu = run_rgb(&latin, &light_base(300, 100), r);
    let differing = img
        .pixels()
        .zip(tofu.pixels())
        .filter(|(a, b)| !close(a.0, b.0, 30))
        .count();
    assert!(
        differing > 500,
        "CJK glyphs differ from .notdef boxes ({differing} px)"
    );
}
