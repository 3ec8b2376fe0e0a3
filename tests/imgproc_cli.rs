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

/// A fresh, empty folder under `target/cli-tests`.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn size_of(path: &Path) -> (u32, u32) {
    let img = image::load_from_memory(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

/// `batch` walks the tree, keeps the relative paths with the output's
/// extension, skips non-images, reports failures and exits 1 when any file
/// failed; the outputs are what `process` makes of each file, whatever `--jobs`.
#[test]
fn batch_processes_a_folder_tree() {
    let input = fresh_dir("batch-in");
    std::fs::create_dir_all(input.join("sub/deeper")).unwrap();
    std::fs::copy(sample("photo.jpg"), input.join("photo.jpg")).unwrap();
    std::fs::copy(sample("pngsuite.png"), input.join("sub/tile.png")).unwrap();
    std::fs::copy(sample("flower.webp"), input.join("sub/deeper/flower.webp")).unwrap();
    std::fs::write(input.join("notes.txt"), "not an image").unwrap();
    std::fs::write(input.join("sub/cut.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]).unwrap();
    let cmd = "image/resize,m_lfit,w_120,h_120/format,f_webp";

    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let out = fresh_dir(&format!("batch-out-{jobs}"));
        let o = imgproc(&[
            "batch",
            input.to_str().unwrap(),
            cmd,
            "-o",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
        ]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "one file fails: {stdout}");
        assert!(
            stdout.starts_with("imgproc batch: 3 processed, 1 failed, 1 skipped (not images)"),
            "{stdout}"
        );
        let failures: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("failed: "))
            .collect();
        assert_eq!(failures.len(), 1, "{stdout}");
        assert!(
            failures[0].starts_with("failed: sub/cut.jpg: InvalidImage: "),
            "{stdout}"
        );
        assert_eq!(size_of(&out.join("photo.webp")), (120, 68));
        assert_eq!(size_of(&out.join("sub/tile.webp")), (120, 120));
        assert_eq!(size_of(&out.join("sub/deeper/flower.webp")), (120, 90));
        assert!(!out.join("notes.txt").exists() && !out.join("notes.webp").exists());
        assert!(!out.join("sub/cut.webp").exists(), "no half-written output");
        outputs.push(out);
    }
    for name in ["photo.webp", "sub/tile.webp", "sub/deeper/flower.webp"] {
        assert_eq!(
            std::fs::read(outputs[0].join(name)).unwrap(),
            std::fs::read(outputs[1].join(name)).unwrap(),
            "{name}: the same bytes with 1 and 3 jobs"
        );
    }
    let single = scratch("batch-single.webp");
    let o = imgproc(&[
        "process",
        input.join("sub/tile.png").to_str().unwrap(),
        cmd,
        "-o",
        single.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(outputs[0].join("sub/tile.webp")).unwrap(),
        "batch = process"
    );

    // Only good images: exit 0. `info` answers land as .json.
    std::fs::remove_file(input.join("sub/cut.jpg")).unwrap();
    let out = fresh_dir("batch-out-info");
    let o = imgproc(&[
        "batch",
        input.to_str().unwrap(),
        "image/info",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sub/tile.json")).unwrap()).unwrap();
    assert_eq!(info["format"]["value"], "PNG");
}

/// A plugin config's styles offline: `--style NAME --config FILE` with the
/// filter's JSON or with a deployment YAML that carries it (the demo's Envoy
/// config, the Istio WasmPlugin).
#[test]
fn styles_from_a_plugin_config() {
    let config = scratch("plugin-config.json");
    std::fs::write(
        &config,
        r#"{"styles": {"small": "image/resize,m_fixed,w_64,h_48/format,f_png"}}"#,
    )
    .unwrap();
    let out = scratch("style-small.png");
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "--style",
        "small",
        "--config",
        config.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(&std::fs::read(&out).unwrap()[..4], b"\x89PNG");
    assert_eq!(size_of(&out), (64, 48));

    // The demo's `thumb` style, read from the Envoy config and from the
    // Istio manifest, gives what its command gives.
    let expected = scratch("thumb-by-command.jpg");
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "image/resize,m_lfit,w_200,h_200",
        "-o",
        expected.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["envoy/envoy.yaml", "envoy/istio/wasmplugin.yaml"] {
        let out = scratch("thumb-by-style.jpg");
        let o = imgproc(&[
            "process",
            &sample("photo.jpg"),
            "--style",
            "thumb",
            "--config",
            root.join(file).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(&expected).unwrap(),
            "{file}"
        );
    }

    // `style/NAME` as the COMMAND uses the config too; unknown styles are
    // the filter's 404 NoSuchStyle; --style without --config is a usage error.
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "style/small",
        "--config",
        config.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "--style",
        "nope",
        "--config",
        config.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("NoSuchStyle: "),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "--style",
        "small",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    // A config the filter would refuse is refused here too.
    std::fs::write(&config, r#"{"styles": {"small": "image/resize,w_0"}}"#).unwrap();
    let o = imgproc(&[
        "process",
        &sample("photo.jpg"),
        "--style",
        "small",
        "--config",
        config.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("small"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Headless Chromium: `IPF_CHROMIUM`, or `chromium` on the PATH (`cargo xtask
/// test` installs Debian's).
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("IPF_CHROMIUM") {
        return path.into();
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            if dir.join(name).is_file() {
                return dir.join(name);
            }
        }
    }
    panic!("no headless Chromium: set IPF_CHROMIUM or install Debian's `chromium` (cargo xtask test does)");
}

/// `compare` writes one self-contained page; a real browser opens it and
/// decodes every image at the size `process` reports, and failed commands
/// show their error.
#[test]
fn compare_page_opens_in_headless_chromium() {
    let dir = fresh_dir("compare");
    let page = dir.join("page.html");
    let commands = [
        "image/resize,m_lfit,w_300/format,f_webp",
        "image/rotate,a_90/resize,w_120/format,f_png",
        "image/resize,w_80/format,f_avif",
        "image/resize,w_0",
        "image/info",
    ];
    let mut args = vec!["compare".to_string(), sample("photo.jpg")];
    args.extend(commands.iter().map(|c| c.to_string()));
    args.extend(["-o".into(), page.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = imgproc(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("6 panels (1 failed)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // What `process` makes of each image command, to check the page against.
    let mut expected_sizes = vec![size_of(Path::new(&sample("photo.jpg")))];
    for (i, cmd) in commands[..3].iter().enumerate() {
        let out = dir.join(format!("expected-{i}"));
        let o = imgproc(&[
            "process",
            &sample("photo.jpg"),
            cmd,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success());
        let info = String::from_utf8_lossy(&o.stderr);
        let (w, h) = info
            .trim()
            .strip_prefix("width=")
            .and_then(|s| s.split_once("; height="))
            .unwrap_or_else(|| panic!("{info}"));
        expected_sizes.push((w.parse().unwrap(), h.parse().unwrap()));
    }

    let browser = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        browser.status.success(),
        "{}",
        String::from_utf8_lossy(&browser.stderr)
    );
    let dom = String::from_utf8_lossy(&browser.stdout);
    assert!(
        dom.contains(&format!(
            "data-loaded=\"{}\" data-broken=\"0\"",
            expected_sizes.len()
        )),
        "the browser decoded every image: {}",
        &dom[..dom.len().min(400)]
    );
    let decoded: Vec<&str> = dom
        .split("data-natural=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    let expected: Vec<String> = expected_sizes
        .iter()
        .map(|(w, h)| format!("{w}x{h}"))
        .collect();
    assert_eq!(
        decoded, expected,
        "in page order: original, then each command"
    );
    assert!(
        dom.contains("InvalidArgument: resize: w_0"),
        "the failed command shows its error"
    );
    assert!(
        dom.contains("&quot;imageWidth&quot;") || dom.contains("\"imageWidth\""),
        "info is shown as text"
    );
}
