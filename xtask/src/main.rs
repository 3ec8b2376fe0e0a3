//! `cargo xtask <command>`: the project's build, demo and test entry points.
//!
//! - `cargo xtask build`: the wasm filter, optimised, in `dist/` with its sha256.
//! - `cargo xtask demo [--host envoy|nginx] [--port P] [--bucket-dir DIR]`:
//!   Envoy (default) or nginx with the filter in front of a real
//!   S3-compatible server holding bucket `demo`.
//! - `cargo xtask test`: everything CI runs.
//! - `cargo xtask soak [--host envoy|nginx] [--seconds N] [--concurrency C]`:
//!   Envoy (or nginx) with the filter under a mixed load from wrk, every
//!   answer checked, RSS and VM watched.
//! - `cargo xtask fuzz [--seconds N] [--target NAME]`: the `fuzz/` targets
//!   under libFuzzer, N seconds each (see [`fuzz`]).
//! - `cargo xtask bench`: the filter in Envoy and in nginx against nginx
//!   `image_filter` and sharp (libvips), side by side, written to
//!   `BENCHMARKS.md` (not part of `test`).
//! - `cargo xtask calibrate`: the cost model's rates against measurements of
//!   the wasm build in Envoy, written to `target/calibration.md`.
//!
//! Each command installs what it needs by itself (see [`tools`]).

mod bench;
mod calibrate;
mod fuzz;
mod soak;
mod tools;

use ipf_test_support::stack::{self, ProxyHost, Stack, StackOptions};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::mpsc;

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  build                              build dist/image_process_filter.wasm (+ .sha256)
  demo [--host envoy|nginx] [--port P] [--bucket-dir DIR]
                                     run Envoy (default) or nginx with the filter on
                                     127.0.0.1:P (default 8080) in front of bucket `demo`
                                     (default: samples/)
  test                               fmt, clippy, unit tests, wasm build, end-to-end tests in
                                     Envoy (held and local_reply headers) and in nginx,
                                     deployment examples (envoy/) in real Envoy, 20 s soak
                                     on each host, a short fuzz run
  soak [--host envoy|nginx] [--seconds N] [--concurrency C]
                                     wrk drives Envoy (default) or nginx + filter with processed,
                                     pass-through and bad requests (default 60 s, 4 connections);
                                     every answer checked, RSS flat, no VM reload or worker
                                     crash (a 20 s run on each host is part of test)
  fuzz [--seconds N] [--target NAME] build the fuzz/ targets and run each N seconds (default 60)
  bench [--rounds N] [--warmup N] [--throughput-rounds N] [--throughput-requests N]
        [--quick] [--output FILE]    the filter in Envoy and in nginx vs nginx image_filter
        [--cases SUBSTR,...]         and sharp (libvips), one interleaved run -> BENCHMARKS.md;
        [--no-memory]                --cases keeps the cases whose id contains one of the
                                     substrings (e.g. `paced`), --no-memory skips Envoy's
                                     memory scenarios
  calibrate [--runs N] [--output FILE] [--no-worst-case] [--only-worst-case]
                                     run cases (built-in, and imgproc worst-case when it
                                     exists) N times (3) through Envoy, read the filter's
                                     cost: lines, set ns/px and B/px per work kind against
                                     src/budget/model.rs -> target/calibration.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build().map(|_| ()),
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("soak") => soak::soak(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("calibrate") => calibrate::calibrate(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command in the repository root, failing on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    println!("xtask: $ {shown}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("{shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Builds the filter for wasm32-wasip1 (release, LTO, +simd128) and optimises it
/// with wasm-opt into `dist/`. Returns the path of the `.wasm`.
fn build() -> Result<PathBuf> {
    let out = build_variant(false, "image_process_filter.wasm")?;
    let bytes = std::fs::read(&out).map_err(|e| e.to_string())?;
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        root().join("dist/image_process_filter.wasm.sha256"),
        format!("{digest}  image_process_filter.wasm\n"),
    )
    .map_err(|e| e.to_string())?;
    println!(
        "xtask: dist/image_process_filter.wasm {} bytes, sha256 {digest}",
        bytes.len()
    );
    Ok(out)
}

/// Builds the filter for wasm32-wasip1 without (the shipped build) or with
/// the `bit-identical` feature, and writes it, optimised by wasm-opt, to
/// `dist/<out_name>`.
fn build_variant(bit_identical: bool, out_name: &str) -> Result<PathBuf> {
    tools::ensure_wasm_toolchain()?;
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "image-process-filter",
        "--lib",
        "--target",
        "wasm32-wasip1",
    ]);
    if bit_identical {
        cmd.args(["--features", "bit-identical"]);
    }
    run(&mut cmd)?;
    let built = root().join("target/wasm32-wasip1/release/image_process_filter.wasm");
    let out = root().join("dist").join(out_name);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    println!(
        "xtask: wasm-opt -O3 {} -> {}",
        built.display(),
        out.display()
    );
    run(Command::new(tools::ensure_wasm_opt()?)
        .arg("-O3")
        .args([
            "--enable-simd",
            "--enable-bulk-memory",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-multivalue",
            "--enable-reference-types",
        ])
        .arg(&built)
        .arg("-o")
        .arg(&out))?;
    Ok(out)
}

/// Builds everything the stack needs and returns the tool paths; nginx with
/// ngx_wasm_module only when `with_nginx`.
fn prepare_stack(with_nginx: bool) -> Result<stack::Tools> {
    let wasm = build()?;
    let nginx = if with_nginx {
        let built = tools::ensure_nginx_wasm()?;
        Some(stack::NginxTools {
            nginx: built.nginx,
            module: built.module,
        })
    } else {
        None
    };
    Ok(stack::Tools {
        envoy: tools::ensure_envoy()?,
        s3s_fs: tools::ensure_s3s_fs()?,
        wasm,
        nginx,
    })
}

fn demo(args: &[String]) -> Result<()> {
    let mut port: u16 = 8080;
    let mut bucket_dir = root().join("samples");
    let mut own_bucket = false;
    let mut host = ProxyHost::Envoy;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--host" => {
                host = match it.next().map(String::as_str) {
                    Some("envoy") => ProxyHost::Envoy,
                    Some("nginx") => ProxyHost::Nginx,
                    _ => return Err("--host needs 'envoy' or 'nginx'".into()),
                };
            }
            "--port" => {
                port = it
                    .next()
                    .and_then(|p| p.parse().ok())
                    .filter(|p| *p != 0)
                    .ok_or("--port needs a port number (1-65535)")?;
            }
            "--bucket-dir" => {
                bucket_dir = PathBuf::from(it.next().ok_or("--bucket-dir needs a directory")?);
                own_bucket = true;
            }
            other => return Err(format!("unknown demo option '{other}'\n{USAGE}")),
        }
    }
    if !bucket_dir.is_dir() {
        return Err(format!(
            "--bucket-dir {}: not a directory",
            bucket_dir.display()
        ));
    }
    if !own_bucket {
        // Writes (a signed PUT, `system/save`) must not land in the tracked
        // samples/: serve a fresh copy under target/.
        let copy = root().join("target/demo-bucket");
        if copy.exists() {
            std::fs::remove_dir_all(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
        }
        copy_dir(&bucket_dir, &copy)?;
        bucket_dir = copy;
    }
    let tools = prepare_stack(host == ProxyHost::Nginx)?;
    let python = tools::ensure_signing_sdks()?;
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| format!("installing the Ctrl-C handler: {e}"))?;
    let opts = StackOptions {
        host,
        config_template: root().join(host.template()),
        listen_port: port,
        bucket_dir: bucket_dir.clone(),
        work_dir: root().join(match host {
            ProxyHost::Envoy => "target/demo",
            ProxyHost::Nginx => "target/demo-nginx",
        }),
        concurrency: 2,
        replacements: Vec::new(),
    };
    let mut stack = Stack::start(&tools, &opts)?;
    let base = stack.url("/demo");
    let mut keys: Vec<String> = std::fs::read_dir(&bucket_dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    keys.sort();
    let image = keys
        .iter()
        .find(|k| k.ends_with(".jpg"))
        .or_else(|| {
            keys.iter()
                .find(|k| !k.ends_with(".txt") && !k.ends_with(".md"))
        })
        .cloned()
        .unwrap_or_else(|| "photo.jpg".into());
    let proxy_line = match host {
        ProxyHost::Envoy => format!(
            "Envoy (with the filter)  http://127.0.0.1:{}   admin http://127.0.0.1:{}",
            stack.listen_port, stack.admin_port
        ),
        ProxyHost::Nginx => format!(
            "nginx (with the filter)  http://127.0.0.1:{}   HTTP/2 (prior knowledge) http://127.0.0.1:{}",
            stack.listen_port, stack.h2_port
        ),
    };
    println!(
        "\nimage-process-filter demo\n\
         \x20 {proxy_line}\n\
         \x20 storage upstream (s3s-fs) http://127.0.0.1:{}   bucket `demo` = {}\n\
         \x20 objects: {}\n\
         \x20 style `thumb` = image/resize,m_lfit,w_200,h_200\n\
         \ntry:\n\
         \x20 curl -o thumb.webp '{base}/{image}?x-bce-process=image/resize,m_lfit,w_200/format,f_webp'\n\
         \x20 curl -o small.jpg  '{base}/{image}?x-bce-process=image/resize,m_fill,w_300,h_300/quality,Q_70'\n\
         \x20 curl -o thumb.jpg  '{base}/{image}?x-bce-process=style/thumb'\n\
         \x20 curl '{base}/{image}?x-bce-process=image/info'\n\
         \x20 curl -i '{base}/{image}?x-bce-process=image/resize,w_0'     # 400, BOS-style error\n\
         \x20 curl -o original '{base}/{image}'                          # no command: untouched\n\
         {}\
         \nlogs: {} and {}\nCtrl-C stops everything.",
        stack.storage_port,
        bucket_dir.display(),
        keys.join(" "),
        protection_help(&python, &bucket_dir, &stack),
        stack.proxy_log.display(),
        stack.storage_log.display(),
    );
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(500)) {
            Ok(()) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if !stack.all_running() => {
                stack.stop();
                return Err("a demo process exited; see the logs above".into());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    println!("\nxtask: stopping {} and the storage server", host.name());
    stack.stop();
    Ok(())
}

/// The demo's protection and signing part of the start-up text: the
/// credentials, the protected pattern, and three curls (a refusal, a style and
/// a URL presigned by the official BOS Python SDK, valid for an hour).
/// Copies a directory tree (files and folders; symlinks are followed).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn protection_help(python: &Path, bucket_dir: &Path, stack: &Stack) -> String {
    let private_image = std::fs::read_dir(bucket_dir.join("private"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|k| k.ends_with(".jpg") || k.ends_with(".png") || k.ends_with(".webp"))
        .min();
    let header = format!(
        "\noriginal-image protection: demo/private/* (unsigned requests get styles only)\n\
         \x20 credentials: access key {} secret key {} (BCE auth v1 and SigV4)\n\
         \x20 the storage upstream is private: the filter signs its reads (SigV4)\n",
        stack::DEMO_ACCESS_KEY,
        stack::DEMO_SECRET_KEY
    );
    let Some(key) = private_image else {
        return format!(
            "{header}\x20 (no image under {}/private to show it on)\n",
            bucket_dir.display()
        );
    };
    let base = stack.url("/demo");
    let presigned = presign_with_bos_sdk(python, stack.listen_port, &format!("private/{key}"))
        .unwrap_or_else(|e| format!("<the BOS SDK could not presign: {e}>"));
    format!(
        "{header}\
         \x20 curl -i '{base}/private/{key}'                                # 403 AccessDenied\n\
         \x20 curl -o thumb.jpg '{base}/private/{key}?x-bce-process=style/thumb'  # 200: styles are public\n\
         \x20 curl -o signed.webp '{presigned}'\n\
         \x20     # 200: presigned by the BOS Python SDK (valid 1 h), any command allowed\n"
    )
}

/// A presigned GET URL for `demo/<key>` made by the BOS Python SDK.
fn presign_with_bos_sdk(python: &Path, port: u16, key: &str) -> Result<String> {
    use std::io::Write;
    let job = format!(
        "{{\"sdk\":\"bos\",\"mode\":\"presign\",\"endpoint\":\"http://127.0.0.1:{port}\",\
         \"bucket\":\"demo\",\"key\":{key:?},\"expires\":3600,\
         \"params\":{{\"x-bce-process\":\"image/resize,m_lfit,w_400/format,f_webp\"}},\
         \"access_key\":\"{}\",\"secret_key\":\"{}\"}}",
        stack::DEMO_ACCESS_KEY,
        stack::DEMO_SECRET_KEY
    );
    let mut child = Command::new(python)
        .arg(root().join("tests/support/signing_clients.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(job.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("\"url\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
        .ok_or_else(|| format!("unexpected output: {text}"))
}

/// The wall-clock time of each stage of `cargo xtask test`, printed at the end
/// (and when a stage fails) so that a CI log shows where its minutes went.
struct Stages {
    started: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Stages {
    fn new() -> Self {
        Stages {
            started: std::time::Instant::now(),
            done: Vec::new(),
        }
    }

    /// Runs one stage, recording its duration whether it passes or fails.
    fn run<T>(&mut self, name: &'static str, stage: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let result = stage();
        self.done.push((name, started.elapsed()));
        if result.is_err() {
            self.print();
        }
        result
    }

    fn print(&self) {
        println!("xtask: stage times (wall clock, seconds):");
        for (name, took) in &self.done {
            println!("xtask:   {:>7.1}  {name}", took.as_secs_f64());
        }
        println!(
            "xtask:   {:>7.1}  total",
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// Filters (libtest substrings) for the unit tests `cargo xtask test` also
/// runs inside wasm: those of code with a simd128 variant, the planar WebP
/// route's (its quality bounds against the RGB route, with fast_image_resize's
/// simd128 kernels and libwebp's SSE2-on-simd128 code) and the AVIF
/// encoder's (rav1e as the filter runs it, read back by rav1d).
const WASM_UNIT_TESTS: &[&str] = &[
    "codec::jpeg_region::tests::idct_4x4_lanes",
    "codec::jpeg_region::tests::half_scale",
    "codec::yuv::tests",
    "pipeline::planar::tests",
    "codec::avif::encode::tests",
];

/// Everything CI runs, in order, stopping at the first failure.
///
/// Every cargo invocation on the main workspace passes `--workspace`: cargo
/// unifies dependency features over the packages it selects, so a
/// `cargo test --test envoy_e2e` after a `cargo test --workspace` would rebuild
/// syn, serde, image, rav1e … with another feature set (5 minutes each time on
/// two cores), and the next `--workspace` run would rebuild them back.
fn test() -> Result<()> {
    let mut stages = Stages::new();
    stages.run("rust components, rustfmt", || {
        tools::ensure_rust_components()?;
        run(cargo().args(["fmt", "--all", "--check"]))?;
        // fuzz/, tools/storage and tools/wasmtime-c-api are workspaces of their
        // own: `--all` does not reach them.
        for manifest in [
            "fuzz/Cargo.toml",
            "tools/storage/Cargo.toml",
            "tools/wasmtime-c-api/Cargo.toml",
        ] {
            run(cargo().args(["fmt", "--check", "--manifest-path", manifest]))?;
        }
        Ok(())
    })?;
    let wasm = stages.run("filter .wasm (release build, wasm-opt)", build)?;
    let nginx = stages.run("nginx with ngx_wasm_module", tools::ensure_nginx_wasm)?;
    let tools = stages.run("Envoy, s3s-fs", || {
        Ok(stack::Tools {
            envoy: tools::ensure_envoy()?,
            s3s_fs: tools::ensure_s3s_fs()?,
            wasm,
            nginx: Some(stack::NginxTools {
                nginx: nginx.nginx,
                module: nginx.module,
            }),
        })
    })?;
    stages.run("clippy (native, wasm32)", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        run(cargo().args([
            "clippy",
            "--lib",
            "--release",
            "--target",
            "wasm32-wasip1",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    let (python, chromium, k8s_models) =
        stages.run("curl, signing SDKs, fonts, chromium, k8s models", || {
            tools::ensure_curl()?;
            let python = tools::ensure_signing_sdks()?;
            tools::ensure_test_fonts()?;
            let chromium = tools::ensure_chromium()?;
            let k8s_models = tools::ensure_k8s_models()?;
            Ok((python, chromium, k8s_models))
        })?;
    stages.run("envoy --mode validate", || {
        for config in ["envoy/envoy.yaml", "envoy/production.yaml"] {
            run(Command::new(&tools.envoy)
                .args(["--mode", "validate", "-c", config])
                .args(["--log-level", "error"]))?;
        }
        Ok(())
    })?;
    // Unit tests, doc tests, the CLI tests, the Envoy end-to-end tests and
    // the deployment examples (envoy/, Istio, Envoy Gateway) in real Envoy.
    stages.run("cargo test --workspace (build and run)", || {
        run(cargo()
            .args(["test", "--workspace"])
            .env("IPF_ENVOY", &tools.envoy)
            .env("IPF_S3S_FS", &tools.s3s_fs)
            .env("IPF_WASM", &tools.wasm)
            .env("IPF_PYTHON", &python)
            .env("IPF_CHROMIUM", &chromium)
            .env("IPF_K8S_MODELS", &k8s_models))
    })?;
    let e2e = || {
        let mut cmd = cargo();
        cmd.args(["test", "--workspace", "--test", "envoy_e2e"])
            .env("IPF_ENVOY", &tools.envoy)
            .env("IPF_S3S_FS", &tools.s3s_fs)
            .env("IPF_WASM", &tools.wasm)
            .env("IPF_PYTHON", &python);
        cmd
    };
    // The end-to-end suite again, with Envoy answering processed requests
    // from the request phase (`local_reply`, the mode for hosts that cannot
    // hold response headers).
    stages.run("e2e suite, Envoy local_reply", || {
        run(e2e().env("IPF_EXACT_MODE", "local_reply"))
    })?;
    // The end-to-end suite again, through nginx with ngx_wasm_module (wasmtime).
    let nginx = tools.nginx.as_ref().ok_or("the test stack has no nginx")?;
    stages.run("e2e suite, nginx", || {
        run(e2e()
            .env("IPF_HOST", "nginx")
            .env("IPF_NGINX", &nginx.nginx)
            .env("IPF_NGINX_MODULE", &nginx.module))
    })?;
    // A short soak: mixed load at concurrency 4 for 20 s, every answer checked.
    stages.run("soak, Envoy and nginx", || {
        tools::ensure_wrk()?;
        // `cargo test --workspace` built it for the CLI tests
        // (`CARGO_BIN_EXE_imgproc`); a `cargo build` would build it again
        // under the dev profile's own hash (2 minutes).
        let imgproc = root().join("target/debug/imgproc");
        if !imgproc.exists() {
            return Err(format!(
                "{} is missing: cargo test --workspace should have built it",
                imgproc.display()
            ));
        }
        for host in [ProxyHost::Envoy, ProxyHost::Nginx] {
            soak::run_soak(
                &tools,
                &imgproc,
                &soak::SoakOptions {
                    host,
                    seconds: 20,
                    concurrency: 4,
                },
            )?;
        }
        Ok(())
    })?;
    // The SIMD kernels' unit tests again inside wasm (node's WASI), where
    // the filter's simd128 code is what gets compiled; natively those tests
    // check the portable twin. Only these: the other unit tests assume a
    // 64-bit address space (100 Mpx corpus photos) or threads.
    stages.run(
        "unit tests of the simd128 code paths, in wasm (node)",
        || {
            let runner = format!(
                "node --no-warnings {}",
                root().join("tools/wasi-run.mjs").display()
            );
            run(cargo()
                .args(["test", "-p", "image-process-filter", "--lib"])
                .args(["--target", "wasm32-wasip1", "--"])
                .args(WASM_UNIT_TESTS)
                .args(["--test-threads", "1"])
                .env("CARGO_TARGET_WASM32_WASIP1_RUNNER", runner))
        },
    )?;
    // The fuzz targets, briefly: a crash, a timeout or a bomb fails the run.
    stages.run("fuzz targets (build, short runs)", || {
        fuzz::run_targets(&fuzz::TARGETS, fuzz::CI_SECONDS)
    })?;
    stages.print();
    println!("xtask: all checks passed");
    Ok(())
}
