//! The output size of every action and key, planned from a header
//! (`Plan::new`), the spec's worked examples included.

use crate::codec::{ImageFormat, SourceInfo};
use crate::command::{Command, Styles};
use crate::error::ErrorCode;
use crate::pipeline::{Plan, RequestContext};

fn source(w: u32, h: u32, orientation: u16) -> SourceInfo {
    SourceInfo {
        format: ImageFormat::Png,
        width: w,
        height: h,
        frames: 1,
        quality: None,
        has_alpha: false,
        orientation,
    }
}

fn plan(src: (u32, u32), cmd: &str) -> crate::error::Result<Plan> {
    let c = Command::parse(&format!("image/{cmd}"), &Styles::new())?;
    Plan::new(&c, source(src.0, src.1, 1), &RequestContext::default())
}

/// (source size, command, output size): every action and key, the spec's
/// worked examples included.
#[test]
fn output_sizes_for_every_action() {
    let cases: &[((u32, u32), &str, (u32, u32))] = &[
        // §4.1 / §4.2 (examples: 600×400)
        ((600, 400), "resize,m_lfit,w_500,h_300", (450, 300)),
        ((600, 400), "resize,m_mfit,w_500,h_300", (500, 333)),
        (
            (600, 400),
            "pxresize,m_lfit,limit_0,w_200,h_300",
            (200, 133),
        ),
        // §4.3 crop (example: crop,x_10,y_10,w_200,h_200)
        ((600, 400), "crop,x_10,y_10,w_200,h_200", (200, 200)),
        ((600, 400), "crop,x_500,y_300,w_200,h_200", (100, 100)),
        ((600, 400), "crop,w_100", (100, 400)),
        ((600, 400), "crop,x_10", (590, 400)),
        ((600, 400), "crop,w_100,h_100,g_center", (100, 100)),
        ((600, 400), "crop,w_100,h_100,g_se,x_10,y_10", (100, 100)),
        ((600, 400), "crop,w_9000,h_9000", (600, 400)),
        // §4.4 circle
        ((600, 400), "circle,r_100", (200, 200)),
        ((600, 400), "circle,r_4000", (400, 400)),
        // §4.5 rounded-corners (example r_50)
        ((600, 400), "rounded-corners,r_50", (600, 400)),
        ((600, 400), "rounded-corners,r_4096", (600, 400)),
        // §4.6 indexcrop (examples)
        ((600, 400), "indexcrop,y_50,i_0", (600, 50)),
        ((600, 400), "indexcrop,x_100,i_1", (100, 400)),
        ((600, 400), "indexcrop,x_250,i_2", (100, 400)),
        ((600, 400), "indexcrop,x_250,i_3", (600, 400)),
        ((600, 400), "indexcrop,y_1000", (600, 400)),
        ((600, 400), "indexcrop,x_100", (100, 400)),
        // §4.7 rotate (example a_30)
        ((600, 400), "rotate,a_90", (400, 600)),
        ((600, 400), "rotate,a_-90", (400, 600)),
        ((600, 400), "rotate,a_180", (600, 400)),
        ((600, 400), "rotate,a_360", (600, 400)),
        ((600, 400), "rotate,a_30", (720, 647)),
        // §4.8–4.13: size unchanged
        ((600, 400), "auto-orient,o_1", (600, 400)),
        ((600, 400), "auto-orient,0", (600, 400)),
        ((600, 400), "blur,r_2,s_50", (600, 400)),
        ((600, 400), "bright,b_-10", (600, 400)),
        ((600, 400), "contrast,c_-20", (600, 400)),
        ((600, 400), "contrast,30", (600, 400)),
        ((600, 400), "sharpen,r_2,s_50", (600, 400)),
        ((600, 400), "grayscale", (600, 400)),
        ((600, 400), "grayscale,0", (600, 400)),
        // §4.14–4.18: encoding only
        ((600, 400), "quality,q_80", (600, 400)),
        ((600, 400), "quality,Q_75,c_ge", (600, 400)),
        ((600, 400), "format,f_png", (600, 400)),
        ((600, 400), "interlace,i_progressive", (600, 400)),
        ((600, 400), "interlace,1", (600, 400)),
        ((600, 400), "strip", (600, 400)),
        // §1.6 worked example 1
        (
            (600, 400),
            "resize,m_lfit,w_200,h_100/bright,b_-10/format,f_webp",
            (150, 100),
        ),
        // Chains: later actions see earlier results.
        ((600, 400), "resize,w_300/crop,x_100,w_100", (100, 200)),
        ((600, 400), "rotate,a_90/indexcrop,y_100,i_5", (400, 100)),
    ];
    for (src, cmd, want) in cases {
        let p = plan(*src, cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert_eq!(p.output_size, *want, "{cmd} on {src:?}");
    }
}

#[test]
fn orientation_is_applied_first_unless_turned_off() {
    let c = Command::parse("image/resize,w_100", &Styles::new()).unwrap();
    let p = Plan::new(&c, source(400, 200, 6), &RequestContext::default()).unwrap();
    assert_eq!(p.output_size, (100, 200), "upright 200x400, then w_100");
    let c = Command::parse("image/resize,w_100/auto-orient,o_0", &Styles::new()).unwrap();
    let p = Plan::new(&c, source(400, 200, 6), &RequestContext::default()).unwrap();
    assert_eq!(p.output_size, (100, 50));
}

#[test]
fn bad_values_are_400_naming_action_and_key() {
    let cases: &[(&str, ErrorCode, &str)] = &[
        (
            "crop,x_700",
            ErrorCode::InvalidArgument,
            "crop: the corner (700, 0) is outside",
        ),
        (
            "crop,x_-1",
            ErrorCode::InvalidArgument,
            "crop: x_-1 is out of range",
        ),
        (
            "crop,w_0",
            ErrorCode::InvalidArgument,
            "crop: w_0 is out of range",
        ),
        (
            "crop,g_middle",
            ErrorCode::InvalidArgument,
            "crop: g_middle is not allowed",
        ),
        ("circle", ErrorCode::MissingArgument, "circle: needs r"),
        (
            "circle,r_0",
            ErrorCode::InvalidArgument,
            "circle: r_0 is out of range",
        ),
        (
            "rounded-corners,r_5000",
            ErrorCode::InvalidArgument,
            "rounded-corners: r_5000",
        ),
        (
            "indexcrop,i_1",
            ErrorCode::MissingArgument,
            "indexcrop: needs x or y",
        ),
        (
            "indexcrop,x_10,y_10",
            ErrorCode::InvalidArgument,
            "indexcrop: give x or y",
        ),
        (
            "indexcrop,x_10,i_70000",
            ErrorCode::InvalidArgument,
            "indexcrop: i_70000",
        ),
        ("rotate", ErrorCode::MissingArgument, "rotate: needs a"),
        (
            "rotate,a_361",
            ErrorCode::InvalidArgument,
            "rotate: a_361 is out of range",
        ),
        (
            "rotate,a_1.5",
            ErrorCode::InvalidArgument,
            "rotate: a_1.5 is not an integer",
        ),
        (
            "auto-orient,o_2",
            ErrorCode::InvalidArgument,
            "auto-orient: o_2",
        ),
        (
            "auto-orient",
            ErrorCode::MissingArgument,
            "auto-orient: needs o",
        ),
        ("blur,r_2", ErrorCode::MissingArgument, "blur: needs s"),
        (
            "blur,r_51,s_2",
            ErrorCode::InvalidArgument,
            "blur: r_51 is out of range",
        ),
        (
            "sharpen,s_2",
            ErrorCode::MissingArgument,
            "sharpen: needs r",
        ),
        (
            "bright,b_101",
            ErrorCode::InvalidArgument,
            "bright: b_101 is out of range",
        ),
        ("bright", ErrorCode::MissingArgument, "bright: needs b"),
        (
            "contrast,c_-101",
            ErrorCode::InvalidArgument,
            "contrast: c_-101",
        ),
        (
            "contrast,10,c_10",
            ErrorCode::InvalidArgument,
            "contrast: key 'c' is given more than once",
        ),
        (
            "grayscale,2",
            ErrorCode::InvalidArgument,
            "grayscale: g_2 is out of range",
        ),
        (
            "interlace,i_maybe",
            ErrorCode::InvalidArgument,
            "interlace: i_maybe is not allowed",
        ),
        (
            "strip,x_1",
            ErrorCode::InvalidArgument,
            "strip: unknown key 'x'",
        ),
        (
            "resize,10",
            ErrorCode::InvalidArgument,
            "resize: parameter '10' is not of the form",
        ),
        (
            "detect/resize,w_10",
            ErrorCode::InvalidArgument,
            "detect: must be the only action",
        ),
        (
            "resize,w_10/info",
            ErrorCode::InvalidArgument,
            "info: must be the only action",
        ),
        (
            "rotate,a_45/rotate,a_45/resize,w_4096,limit_0/resize,p_300,limit_0",
            ErrorCode::ImageTooLarge,
            "resize: the result would be",
        ),
    ];
    for (cmd, code, needle) in cases {
        let err = plan((600, 400), cmd).expect_err(cmd);
        assert_eq!(err.code, *code, "{cmd}: {err}");
        assert!(
            err.message.contains(needle),
            "{cmd}: '{}' lacks '{needle}'",
            err.message
        );
    }
}

#[test]
fn rotation_growth_is_checked_against_the_output_limit() {
    let err = plan((9000, 9000), "rotate,a_45").unwrap_err();
    assert_eq!(err.code, ErrorCode::ImageTooLarge);
    assert!(err.message.starts_with("rotate:"), "{}", err.message);
    assert!(plan((9000, 9000), "rotate,a_90").is_ok());
}
