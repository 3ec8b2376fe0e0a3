//! The `imgproc` CLI: its outputs, exit statuses and one-line errors, which
//! must carry the same code and message as the filter's error body.

use image_process_filter::command::{Command as Cmd, Styles};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn imgproc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgproc"))
        .args(args)
        .output()
        .expect("run imgproc")
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn process_writes_the_image_and_reports_its_size() {
    let out = scratch("thumb.webp");
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "image/resize,m_lfit,w_200,h_100/format,f_webp",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "width=178; height=100"
    );
    let img = image::load_from_memory(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (178, 100));
}

#[test]
fn bad_command_gives_the_filters_code_and_message_on_one_line() {
    let cmd = "image/resize,w_0";
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        cmd,
        "-o",
        scratch("x").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    let expected = Cmd::parse(cmd, &Styles::new()).unwrap_err();
    assert_eq!(
        stderr.trim(),
        format!("{}: {}", expected.code.as_str(), expected.message)
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn bad_input_is_one_clear_line() {
    let o = imgproc(&["info", &sample("hello.txt")]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("InvalidImage: "), "{stderr}");
}

#[test]
fn info_prints_json() {
    let o = imgproc(&["info", &sample("flower.webp")]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"]["value"], "WEBP");
    assert_eq!(v["imageWidth"]["value"], "480");
    assert_eq!(v["imageHeight"]["value"], "360");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(imgproc(&[]).status.code(), Some(2));
    assert_eq!(imgproc(&["process", "only-input"]).status.code(), Some(2));
}

/// Watermark objects come from `--bucket-dir` or `--object`; one found
/// nowhere is the filter's 404 `NoSuchKey`, an unknown font its 400.
#[test]
fn watermark_objects_from_files() {
    let out = scratch("marked.png");
    // alpha.png, Base64 "YWxwaGEucG5n"; "Hi" is "SGk".
    let cmd = "image/watermark,image_YWxwaGEucG5n,g_5,P_50/watermark,text_SGk,g_1/format,f_png";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let o = imgproc(&[
        "process",
        &sample("pngsuite.png"),
        cmd,
        "-o",
        out.to_str().unwrap(),
        "--bucket-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let by_dir = std::fs::read(&out).unwrap();
    let o = imgproc(&[
        "process",
        &sample("pngsuite.png"),
        cmd,
        "-o",
        out.to_str().unwrap(),
        "--object",
        &format!("demo/alpha.png={}", sample("alpha.png")),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        by_dir,
        "--object = --bucket-dir"
    );
    let plain = image::load_from_memory(&std::fs::read(sample("pngsuite.png")).unwrap())
        .unwrap()
        .to_rgb8();
    let marked = image::load_from_memory(&by_dir).unwrap().to_rgb8();
    assert_ne!(plain.get_pixel(128, 128), marked.get_pixel(128, 128));
    let o = imgproc(&[
        "process",
        &sample("pngsuite.png"),
        cmd,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "NoSuchKey: watermark: object 'demo/alpha.png' does not exist"
    );
    // A font configured as an object: --font NAME=BUCKET/KEY.
    let font = Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/OpenSans-Regular.ttf");
    let o = imgproc(&[
        "process",
        &sample("pngsuite.png"),
        "image/watermark,text_SGk,type_U2Fucw",
        "-o",
        out.to_str().unwrap(),
        "--font",
        "Sans=fonts-b/sans.ttf",
        "--object",
        &format!("fonts-b/sans.ttf={}", font.display()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = imgproc(&[
        "process",
        &sample("pngsuite.png"),
        "image/watermark,text_SGk,type_U2Fucw",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("InvalidArgument: watermark: font 'Sans'"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
