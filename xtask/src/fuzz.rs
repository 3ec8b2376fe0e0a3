//! `cargo xtask fuzz [--seconds N] [--target NAME]`: builds the `fuzz/`
//! targets with cargo-fuzz and runs each for N seconds (default 60) on a seed
//! corpus; `cargo xtask test` runs a short version ([`CI_SECONDS`] each).
//!
//! - Toolchain: cargo-fuzz needs nightly `-Z` flags (sanitizer, sancov). The
//!   stable toolchain accepts them with `RUSTC_BOOTSTRAP=1`, which is how the
//!   targets are built here, so CI installs no nightly; the AddressSanitizer
//!   runtime ships with stable's `rust-std`.
//! - Build: `cargo fuzz build -O` into `target/fuzz` (the `fuzz/` crate is its
//!   own workspace); `fuzz/Cargo.toml`'s release profile keeps overflow checks
//!   and debug assertions on (except in rav1d).
//! - Corpus: `target/fuzz/corpus/<target>` (kept between runs, grows), seeded
//!   on every run from the shared test corpus (images ≤ 64 KiB, each behind a
//!   command-picking byte), `fuzz/seeds/` (commands, signed requests) and the
//!   spec's examples; `fuzz/regressions/<target>` (past findings) is read too.
//! - Findings: libFuzzer writes the input to `target/fuzz/artifacts/<target>/`
//!   (`crash-*`, `oom-*`, `timeout-*`, `leak-*`); the run then fails and
//!   prints the file and the command that replays it.

use crate::{root, run, tools, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fuzz targets, in the order they run.
pub const TARGETS: [&str; 3] = ["command_parser", "signature_verifier", "decode_pipeline"];

/// Seconds per target in `cargo xtask test`.
pub const CI_SECONDS: u64 = 20;

/// Seeds for `decode_pipeline`: corpus files up to this size, in bytes.
const MAX_IMAGE_SEED: u64 = 64 * 1024;

/// How many commands `fuzz_targets/decode_pipeline.rs` picks from (its
/// `COMMANDS`); image seeds are spread over them by their first byte.
const PIPELINE_COMMANDS: usize = 20;

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

fn target_dir() -> PathBuf {
    root().join("target/fuzz")
}

/// `cargo xtask fuzz` with its arguments.
pub fn fuzz(args: &[String]) -> Result<()> {
    let mut seconds = 60;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s| *s > 0)
                    .ok_or("--seconds needs a positive number")?;
            }
            "--target" => {
                let name = it.next().ok_or("--target needs a name")?;
                if !TARGETS.contains(&name.as_str()) {
                    return Err(format!(
                        "unknown fuzz target '{name}' (targets: {})",
                        TARGETS.join(", ")
                    ));
                }
                only = Some(name.clone());
            }
            other => return Err(format!("unknown fuzz option '{other}'")),
        }
    }
    let targets: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| only.as_deref().is_none_or(|o| o == *t))
        .collect();
    run_targets(&targets, seconds)
}

/// Builds `targets` and runs each for `seconds`; fails on the first finding.
pub fn run_targets(targets: &[&str], seconds: u64) -> Result<()> {
    let cargo_fuzz = tools::ensure_cargo_fuzz()?;
    let started = std::time::Instant::now();
    let mut build = Command::new(&cargo_fuzz);
    build
        .args(["fuzz", "build", "-O", "--fuzz-dir"])
        .arg(fuzz_dir())
        .arg("--target-dir")
        .arg(target_dir())
        .env("RUSTC_BOOTSTRAP", "1");
    if let [one] = targets {
        build.arg(one);
    }
    run(&mut build)?;
    println!(
        "xtask: fuzz targets built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for target in targets {
        let corpus = seed(target)?;
        run_one(target, &corpus, seconds)?;
    }
    Ok(())
}

/// The built binary of `target`.
fn binary(target: &str) -> PathBuf {
    target_dir()
        .join("x86_64-unknown-linux-gnu/release")
        .join(target)
}

/// libFuzzer options per target: input size, time per input, memory.
fn options(target: &str) -> Vec<String> {
    let (max_len, timeout) = match target {
        "decode_pipeline" => (256 * 1024, 60),
        "signature_verifier" => (8192, 10),
        _ => (4096, 10),
    };
    vec![
        format!("-max_len={max_len}"),
        format!("-timeout={timeout}"),
        // libFuzzer writes a `slow-unit-*` artifact for any input over 10 s
        // by default, which `run_one` counts as a finding; the limit per
        // input is the timeout above (a 4K AVIF seed takes 10–18 s under
        // ASan on a loaded 2-core machine, well within it).
        format!("-report_slow_units={timeout}"),
        "-rss_limit_mb=2048".into(),
        "-malloc_limit_mb=2048".into(),
        "-print_final_stats=1".into(),
    ]
}

fn run_one(target: &str, corpus: &Path, seconds: u64) -> Result<()> {
    let artifacts = target_dir().join("artifacts").join(target);
    std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
    let regressions = fuzz_dir().join("regressions").join(target);
    let before = artifact_names(&artifacts);
    let mut cmd = Command::new(binary(target));
    cmd.arg(corpus)
        .args(regressions.is_dir().then_some(&regressions))
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(options(target));
    let outcome = run(&mut cmd);
    let found: Vec<String> = artifact_names(&artifacts)
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    if outcome.is_ok() && found.is_empty() {
        println!("xtask: fuzz target {target}: no findings in {seconds} s");
        return Ok(());
    }
    let mut report = format!("fuzz target {target} found a problem");
    if let Err(e) = outcome {
        report.push_str(&format!(" ({e})"));
    }
    for name in &found {
        let path = artifacts.join(name);
        report.push_str(&format!(
            "\n  reproducer: {}\n  replay:     {} {}",
            path.display(),
            binary(target).display(),
            path.display()
        ));
    }
    Err(report)
}

fn artifact_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// Writes the seeds of `target` into its corpus directory and returns it.
fn seed(target: &str) -> Result<PathBuf> {
    let dir = target_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let seeds: Vec<(String, Vec<u8>)> = match target {
        "command_parser" => command_seeds()?,
        "signature_verifier" => request_seeds()?,
        _ => image_seeds()?,
    };
    println!("xtask: {} seeds for {target}", seeds.len());
    for (name, bytes) in seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

/// `fuzz/seeds/command_parser.txt` (the unit tests' commands) and every
/// `image/...` or `style/...` example of the spec, one seed each.
fn command_seeds() -> Result<Vec<(String, Vec<u8>)>> {
    let listed = std::fs::read_to_string(fuzz_dir().join("seeds/command_parser.txt"))
        .map_err(|e| format!("fuzz/seeds/command_parser.txt: {e}"))?;
    let mut commands: Vec<String> = listed
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if let Some(spec) = spec_text() {
        for start in ["image/", "style/"] {
            for (at, _) in spec.match_indices(start) {
                let example: String = spec[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !"`)\"|<>'".contains(*c))
                    .collect();
                if example.len() > start.len() && !commands.contains(&example) {
                    commands.push(example);
                }
            }
        }
    }
    Ok(commands
        .into_iter()
        .enumerate()
        .map(|(i, c)| (format!("{i:03}"), c.into_bytes()))
        .collect())
}

/// The spec of the command language, beside the corpus (`shared/spec/`).
fn spec_text() -> Option<String> {
    let corpus = corpus_dir().ok()?;
    std::fs::read_to_string(corpus.parent()?.join("spec/x-bce-process.md")).ok()
}

/// `fuzz/seeds/signature_verifier/*.http`: the unit tests' signed requests.
fn request_seeds() -> Result<Vec<(String, Vec<u8>)>> {
    let dir = fuzz_dir().join("seeds/signature_verifier");
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        seeds.push((name, std::fs::read(&path).map_err(|e| e.to_string())?));
    }
    Ok(seeds)
}

/// Every image of the shared corpus up to [`MAX_IMAGE_SEED`] bytes (valid,
/// broken and hostile alike), prefixed with a byte that spreads them over the
/// pipeline's commands.
fn image_seeds() -> Result<Vec<(String, Vec<u8>)>> {
    let corpus = corpus_dir()?;
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&corpus).map_err(|e| e.to_string())? {
        let dir = dir.map_err(|e| e.to_string())?.path();
        if !dir.is_dir() || dir.ends_with("LICENSES") {
            continue;
        }
        for file in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = file.map_err(|e| e.to_string())?.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let small = path
                .metadata()
                .map(|m| m.is_file() && m.len() <= MAX_IMAGE_SEED)
                .unwrap_or(false);
            if small && !matches!(ext, "md" | "txt" | "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut seeds = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let mut bytes = vec![(i % PIPELINE_COMMANDS) as u8];
        bytes.extend(std::fs::read(path).map_err(|e| e.to_string())?);
        let name = path
            .strip_prefix(&corpus)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('/', "_");
        seeds.push((name, bytes));
    }
    Ok(seeds)
}

/// The shared test corpus: `IPF_CORPUS`, `../shared/corpus` beside the
/// checkout, or `/work/shared/corpus` (as `test-support/src/corpus.rs`).
fn corpus_dir() -> Result<PathBuf> {
    [
        std::env::var_os("IPF_CORPUS").map(PathBuf::from),
        Some(root().join("../shared/corpus")),
        Some(PathBuf::from("/work/shared/corpus")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("MANIFEST.md").is_file())
    .ok_or_else(|| {
        "the test corpus was not found (IPF_CORPUS, ../shared/corpus or /work/shared/corpus)"
            .to_string()
    })
}
