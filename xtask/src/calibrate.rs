//! `cargo xtask calibrate`: measures what each kind of pipeline work
//! ([`model::Work`]) really costs in the wasm build, in Envoy, and sets it
//! next to the cost model's rates (`src/budget/model.rs`).
//!
//! The filter logs one `cost:` line per processed request at `debug` (its
//! `log_level`, and Envoy's `wasm` component): per stage, its work key, the
//! px its time and memory rates apply to, its wall time and its peak bytes
//! above what was live when it began (the VM's counting allocator; libwebp's
//! C `malloc` is not counted). This runs a list of cases (source, command)
//! through one Envoy worker with a budget large enough for any of them, a
//! few times each, reads those lines, and prints per work key the measured
//! ns per px and bytes per px against the model's, with suggested rates.
//!
//! Sources: the corpus photos, a few corpus animations, copies in other
//! formats made by the filter itself (PNG, interlaced PNG, WebP, GIF, BMP,
//! AVIF, HEIC, baseline JPEG) and two written here (16-bit PNG, lossless
//! WebP), plus, when `imgproc` has it, the `imgproc worst-case` corpus with
//! its own `cases.tsv`.

use crate::bench::{corpus_photos, http_get, PHOTOS};
use crate::{root, Result};
use ipf_test_support::stack::{ProxyHost, Stack, StackOptions};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../../src/budget/model.rs"]
mod model;

use model::Work;

/// Samples with fewer px than this give no per-px rate: fixed costs dominate.
const MIN_PX: u64 = 100_000;

/// The plugin config's changes: a budget no case reaches (the largest the
/// config allows), and the `cost:` lines let out.
const PLUGIN_CONFIG: (&str, &str) = (
    r#""header_mode": "held","#,
    r#""header_mode": "held", "log_level": "debug", "budget": { "memory_bytes": 3221225472, "time_ms": 60000 },"#,
);

/// A source the filter makes from another: `key` = `from` processed by `command`.
const DERIVED: &[(&str, &str, &str)] = &[
    ("sunset.baseline.jpg", "sunset.jpg", "image/quality,Q_90"),
    (
        "sunset.png",
        "sunset.jpg",
        "image/resize,w_3000/format,f_png",
    ),
    (
        "sunset.interlaced.png",
        "sunset.jpg",
        "image/resize,w_2000/format,f_png/interlace,1",
    ),
    (
        "sunset.2000.png",
        "sunset.jpg",
        "image/resize,w_2000/format,f_png",
    ),
    ("sunset.webp", "sunset.jpg", "image/format,f_webp"),
    (
        "sunset.gif",
        "sunset.jpg",
        "image/resize,w_2000/format,f_gif",
    ),
    (
        "sunset.bmp",
        "sunset.jpg",
        "image/resize,w_2500/format,f_bmp",
    ),
    (
        "sunset.avif",
        "sunset.jpg",
        "image/resize,w_1000/format,f_avif",
    ),
    (
        "sunset.heic",
        "sunset.jpg",
        "image/resize,w_1000/format,f_heic",
    ),
    // 600×517, 14 frames.
    ("moon.gif", "moon_impact.gif", "image/resize,w_600,limit_0"),
    (
        "moon.webp",
        "moon_impact.gif",
        "image/resize,w_600,limit_0/format,f_webp",
    ),
];

/// Corpus files copied as they are: (folder, file).
const CORPUS_FILES: &[(&str, &str)] = &[
    ("gif", "moon_impact.gif"),
    ("gif", "large-gif-anim-full-frame-replace.gif"),
    ("webp", "anim.webp"),
    ("avif", "Ronda_rotate90.avif"),
    ("jpeg", "cmyk-icc.jpg"),
];

/// The built-in cases: (object key, command). Together they give every work
/// key at least one sample of several hundred kpx or more.
const CASES: &[(&str, &str)] = &[
    // JPEG decoding paths.
    ("sunset.jpg", "image/resize,w_200"),
    ("seeding.jpg", "image/resize,w_200"),
    ("sunset.baseline.jpg", "image/resize,w_200"),
    ("sunset.baseline.jpg", "image/resize,w_1500"),
    ("sunset.baseline.jpg", "image/rotate,a_33"),
    ("sunset.baseline.jpg", "image/crop,x_100,y_100,w_800,h_600"),
    ("sunset.jpg", "image/bright,b_10"),
    ("wine.jpg", "image/contrast,c_20/interlace,1"),
    // Operations on full-size pixels.
    ("sunset.jpg", "image/crop,x_100,y_100,w_3000,h_2000"),
    ("sunset.jpg", "image/blur,r_20,s_10"),
    ("sunset.jpg", "image/resize,w_2000/sharpen,r_5,s_5"),
    ("sunset.jpg", "image/rotate,a_270/format,f_png"),
    ("sunset.jpg", "image/circle,r_600/format,f_png"),
    ("sunset.jpg", "image/rounded-corners,r_100/format,f_png"),
    ("sunset.jpg", "image/grayscale,1"),
    (
        "seeding.jpg",
        "image/watermark,image_YWxwaGEucG5n,P_10,fill_1",
    ),
    (
        "seeding.jpg",
        "image/watermark,text_SW1hZ2UgcHJvY2VzcyBmaWx0ZXI,size_200,fill_1",
    ),
    (
        "sunset.jpg",
        "image/blind-watermark,method_embed,mode_1,text_Y2FsaWJyYXRl",
    ),
    // Other source formats.
    ("sunset.png", "image/format,f_png"),
    ("sunset.interlaced.png", "image/format,f_jpg"),
    ("sunset16.png", "image/format,f_jpg"),
    ("sunset.webp", "image/bright,b_10"),
    ("sunset.webp", "image/resize,w_200"),
    ("sunset.lossless.webp", "image/format,f_jpg"),
    ("sunset.gif", "image/format,f_jpg"),
    ("sunset.bmp", "image/format,f_jpg"),
    ("sunset.avif", "image/format,f_jpg"),
    ("Ronda_rotate90.avif", "image/format,f_png"),
    ("sunset.heic", "image/format,f_jpg"),
    ("cmyk-icc.jpg", "image/format,f_png"),
    ("moon.gif", "image/resize,w_300"),
    ("moon.webp", "image/resize,w_300"),
    (
        "large-gif-anim-full-frame-replace.gif",
        "image/resize,w_100",
    ),
    ("anim.webp", "image/resize,w_100"),
    // Other outputs.
    ("sunset.jpg", "image/resize,w_2000/format,f_bmp"),
    ("sunset.jpg", "image/resize,w_2000/format,f_gif"),
    ("sunset.jpg", "image/resize,w_2000/format,f_webp"),
    ("sunset.jpg", "image/resize,w_1000/format,f_avif"),
    ("sunset.jpg", "image/resize,w_500/format,f_heic"),
    ("sunset.jpg", "image/resize,w_1000/format,f_heic"),
];

/// Command-line settings.
struct Options {
    runs: usize,
    output: PathBuf,
    /// Only the `imgproc worst-case` corpus, or only the built-in cases.
    builtin: bool,
    worst_case: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options {
            runs: 3,
            output: root().join("target/calibration.md"),
            builtin: true,
            worst_case: true,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--runs" => {
                    o.runs = it
                        .next()
                        .and_then(|v| v.parse().ok())
                        .filter(|n| *n > 0)
                        .ok_or("--runs needs a number > 0")?
                }
                "--output" => o.output = PathBuf::from(it.next().ok_or("--output needs a path")?),
                "--no-worst-case" => o.worst_case = false,
                "--only-worst-case" => o.builtin = false,
                other => return Err(format!("unknown calibrate option '{other}'")),
            }
        }
        Ok(o)
    }
}

/// One stage of one request, from a `cost:` line.
#[derive(Debug, Clone)]
struct StageSample {
    key: String,
    time_px: u64,
    memory_px: u64,
    ms: f64,
    peak_bytes: u64,
}

/// One `cost:` line.
#[derive(Debug, Clone, Default)]
struct CostLine {
    estimate: Option<(f64, u64)>,
    actual: (f64, u64),
    stages: Vec<StageSample>,
    refused: bool,
    stopped: bool,
}

/// `12.3ms/4567B` → (12.3, 4567).
fn ms_bytes(text: &str) -> Option<(f64, u64)> {
    let (ms, bytes) = text.split_once("ms/")?;
    Some((ms.parse().ok()?, bytes.strip_suffix('B')?.parse().ok()?))
}

/// Reads the part of a log line from `cost:` on (see the filter's
/// `CostReport::log_line`).
fn parse_cost_line(line: &str) -> Option<CostLine> {
    let (_, rest) = line.split_once(" cost: ")?;
    let mut out = CostLine::default();
    for token in rest.split_whitespace() {
        if let Some(v) = token.strip_prefix("estimate=") {
            out.estimate = ms_bytes(v);
        } else if let Some(v) = token.strip_prefix("actual=") {
            out.actual = ms_bytes(v)?;
        } else if token == "refused" {
            out.refused = true;
        } else if token == "stopped" {
            out.stopped = true;
        } else {
            let parts: Vec<&str> = token.split(':').collect();
            let [key, time_px, memory_px, ms, peak] = parts[..] else {
                continue;
            };
            out.stages.push(StageSample {
                key: key.to_string(),
                time_px: time_px.parse().ok()?,
                memory_px: memory_px.parse().ok()?,
                ms: ms.strip_suffix("ms")?.parse().ok()?,
                peak_bytes: peak.strip_suffix('B')?.parse().ok()?,
            });
        }
    }
    Some(out)
}

/// A case to run: object key and command, and where it comes from.
struct Case {
    key: String,
    command: String,
    note: String,
}

/// What one case gave over its runs.
struct CaseResult {
    case: Case,
    lines: Vec<CostLine>,
    /// Answers other than 200, or requests without a `cost:` line.
    problems: Vec<String>,
}

/// Reads what the log gained since `offset` (waiting briefly for a line
/// with `cost:`), and moves `offset` on.
fn new_cost_lines(log: &Path, offset: &mut usize) -> Vec<CostLine> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let text = std::fs::read(log).unwrap_or_default();
        let fresh = String::from_utf8_lossy(&text[(*offset).min(text.len())..]).to_string();
        let lines: Vec<CostLine> = fresh.lines().filter_map(parse_cost_line).collect();
        if !lines.is_empty() || Instant::now() > deadline {
            *offset = text.len();
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fills the bucket with the sources the built-in cases read.
fn prepare_bucket(stack: &Stack, bucket: &Path) -> Result<()> {
    let photos = corpus_photos()?;
    for (short, file) in PHOTOS {
        copy(&photos.join(file), &bucket.join(format!("{short}.jpg")))?;
    }
    let corpus = photos.parent().ok_or("the corpus has no parent folder")?;
    for (folder, file) in CORPUS_FILES {
        copy(&corpus.join(folder).join(file), &bucket.join(file))?;
    }
    copy(&root().join("samples/alpha.png"), &bucket.join("alpha.png"))?;
    for (key, from, command) in DERIVED {
        let path = format!("/demo/{from}?x-bce-process={command}");
        let reply = http_get(stack.listen_port, &path).map_err(|e| format!("GET {path}: {e}"))?;
        if reply.status != 200 {
            return Err(format!(
                "making {key}: GET {path} answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
            ));
        }
        std::fs::write(bucket.join(key), &reply.body).map_err(|e| format!("{key}: {e}"))?;
    }
    let baseline = std::fs::read(bucket.join("sunset.baseline.jpg")).map_err(|e| e.to_string())?;
    if crate::bench::has_marker(&baseline, 0xC2) || !crate::bench::has_marker(&baseline, 0xC0) {
        return Err("sunset.baseline.jpg is not a baseline JPEG".into());
    }
    // The filter writes neither 16-bit PNG nor lossless WebP.
    let (width, height, rgb) = read_png_rgb(&bucket.join("sunset.2000.png"))?;
    write_png16(&bucket.join("sunset16.png"), width, height, &rgb)?;
    let file =
        std::fs::File::create(bucket.join("sunset.lossless.webp")).map_err(|e| e.to_string())?;
    image_webp::WebPEncoder::new(std::io::BufWriter::new(file))
        .encode(&rgb, width, height, image_webp::ColorType::Rgb8)
        .map_err(|e| format!("sunset.lossless.webp: {e}"))?;
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map_err(|e| format!("{}: {e}", from.display()))?;
    Ok(())
}

/// An 8-bit RGB or RGBA PNG as RGB.
fn read_png_rgb(path: &Path) -> Result<(u32, u32, Vec<u8>)> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or("PNG too large")?];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => return Err(format!("{}: {other:?}, not RGB", path.display())),
    };
    let rgb = buf[..info.line_size * info.height as usize]
        .chunks(channels)
        .flat_map(|px| [px[0], px[1], px[2]])
        .collect();
    Ok((info.width, info.height, rgb))
}

/// Writes RGB as a 16-bit PNG, with a deterministic dither in the low byte
/// so that it is really 16-bit.
fn write_png16(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Sixteen);
    let mut seed = 0x9E37_79B9u32;
    let data: Vec<u8> = rgb
        .iter()
        .flat_map(|&v| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            [v, (seed >> 24) as u8]
        })
        .collect();
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&data))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The `imgproc worst-case` corpus, when this `imgproc` has the command:
/// its images under `bucket/worst-case/` and its cases. `None`: not there.
fn worst_case_cases(bucket: &Path) -> Option<Vec<Case>> {
    let imgproc = root().join("target/release/imgproc");
    if !imgproc.is_file() {
        println!("calibrate: no target/release/imgproc: built-in cases only");
        return None;
    }
    let dir = bucket.join("worst-case");
    let out = Command::new(&imgproc)
        .arg("worst-case")
        .arg(&dir)
        .output()
        .ok()?;
    if !out.status.success() {
        println!(
            "calibrate: `imgproc worst-case` is not there or failed ({}): built-in cases only",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or_default()
        );
        return None;
    }
    let tsv = std::fs::read_to_string(dir.join("cases.tsv")).ok()?;
    let cases: Vec<Case> = tsv
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split('\t');
            let file = fields.next()?.trim();
            let command = fields.next()?.trim();
            let note = fields.next().unwrap_or_default().trim();
            let command = if command.starts_with("image/") || command.starts_with("style/") {
                command.to_string()
            } else {
                format!("image/{command}")
            };
            Some(Case {
                key: format!("worst-case/{file}"),
                command,
                note: format!("worst-case: {note}"),
            })
        })
        .collect();
    println!("calibrate: {} worst-case cases from imgproc", cases.len());
    Some(cases)
}

/// Runs every case `runs` times, one after another, collecting its `cost:` lines.
fn run_cases(stack: &Stack, cases: Vec<Case>, runs: usize) -> Vec<CaseResult> {
    let mut offset = std::fs::metadata(&stack.proxy_log).map_or(0, |m| m.len() as usize);
    let total = cases.len();
    let mut results = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let path = format!("/demo/{}?x-bce-process={}", case.key, case.command);
        let mut result = CaseResult {
            case,
            lines: Vec::new(),
            problems: Vec::new(),
        };
        let started = Instant::now();
        for _ in 0..runs {
            match http_get(stack.listen_port, &path) {
                Ok(reply) if reply.status == 200 => {}
                Ok(reply) => result.problems.push(format!(
                    "{}: {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)]).trim()
                )),
                Err(e) => result.problems.push(e.to_string()),
            }
            let lines = new_cost_lines(&stack.proxy_log, &mut offset);
            if lines.is_empty() {
                result.problems.push("no cost: line in the log".into());
            }
            result.lines.extend(lines);
        }
        result.problems.dedup();
        println!(
            "calibrate: [{}/{total}] {} {}: {:.1} s{}",
            i + 1,
            result.case.key,
            result.case.command,
            started.elapsed().as_secs_f64(),
            if result.problems.is_empty() {
                String::new()
            } else {
                format!(" ({})", result.problems.join("; "))
            }
        );
        results.push(result);
    }
    results
}

/// What one work key measured, over all its samples.
#[derive(Default)]
struct KeyStats {
    samples: usize,
    /// ns per time px, samples of ≥ [`MIN_PX`] time px.
    ns_per_px: Vec<f64>,
    /// Bytes per memory px above the model's fixed bytes, samples of ≥
    /// [`MIN_PX`] memory px.
    bytes_per_px: Vec<f64>,
    /// The largest peak of any sample, in bytes, and its px.
    largest_peak: (u64, u64),
    /// Where the slowest per-px sample came from.
    slowest_case: String,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}

fn stats(results: &[CaseResult]) -> BTreeMap<String, KeyStats> {
    let mut by_key: BTreeMap<String, KeyStats> = BTreeMap::new();
    for r in results {
        for s in r.lines.iter().flat_map(|l| &l.stages) {
            let fixed = Work::from_key(&s.key).map_or(0, |w| w.rate().fixed_bytes);
            let k = by_key.entry(s.key.clone()).or_default();
            k.samples += 1;
            if s.time_px >= MIN_PX {
                let ns = s.ms * 1e6 / s.time_px as f64;
                if k.ns_per_px.iter().all(|&m| ns > m) {
                    k.slowest_case = format!("{} {}", r.case.key, r.case.command);
                }
                k.ns_per_px.push(ns);
            }
            if s.memory_px >= MIN_PX {
                k.bytes_per_px
                    .push(s.peak_bytes.saturating_sub(fixed) as f64 / s.memory_px as f64);
            }
            if s.peak_bytes > k.largest_peak.0 {
                k.largest_peak = (s.peak_bytes, s.memory_px);
            }
        }
    }
    by_key
}

/// `v` rounded up to a step that suits its size.
fn round_up(v: f64) -> f64 {
    let step = if v < 10.0 {
        0.5
    } else if v < 100.0 {
        1.0
    } else {
        10.0
    };
    (v / step).ceil() * step
}

fn cell(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// A line of `Work::rate` as `src/budget/model.rs` writes it.
fn rate_source(work: Work, bytes_per_px: f64, ns_per_px: f64) -> String {
    let fixed = work.rate().fixed_bytes >> 20;
    format!(
        "Work::{work:?} => rate({bytes_per_px:.1}, {ns_per_px:.1}){},",
        if fixed == 1 {
            String::new()
        } else {
            format!(".plus_fixed_mib({fixed})")
        }
    )
}

/// The report: the per-key table, the suggested rates and the cases.
fn render(results: &[CaseResult], runs: usize, header: &[(String, String)]) -> String {
    let by_key = stats(results);
    let mut out = String::from("# Cost model calibration\n\n");
    for (k, v) in header {
        let _ = writeln!(out, "- {k}: {v}");
    }
    let _ = writeln!(
        out,
        "\nPer work key: ns per time px and bytes per memory px of the samples with at least \
         {MIN_PX} px (bytes: the stage's peak minus the model's fixed bytes), against the \
         model (`src/budget/model.rs`). Verdict `ok`: the model's rate is at least the \
         largest measured one. libwebp's own `malloc` (decode-webp-*, encode-webp) is not \
         counted, so their memory is a lower bound.\n"
    );
    out.push_str(
        "| work | samples (≥ 100 kpx) | ns/px median | ns/px max | model ns/px | B/px max | model B/px | model fixed | largest peak | verdict |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let mut suggestions = Vec::new();
    for work in Work::ALL {
        let rate = work.rate();
        let Some(k) = by_key.get(work.key()) else {
            let _ = writeln!(
                out,
                "| {} | 0 | – | – | {} | – | {} | {} MiB | – | no sample |",
                work.key(),
                cell(rate.ns_per_px),
                cell(rate.bytes_per_px),
                rate.fixed_bytes >> 20
            );
            suggestions.push(format!(
                "{} // no sample: unchanged",
                rate_source(work, rate.bytes_per_px, rate.ns_per_px)
            ));
            continue;
        };
        let (ns_max, b_max) = (max(&k.ns_per_px), max(&k.bytes_per_px));
        let mut verdict = Vec::new();
        if ns_max > rate.ns_per_px {
            verdict.push("time LOW");
        }
        if b_max > rate.bytes_per_px {
            verdict.push("memory LOW");
        }
        if k.ns_per_px.is_empty() && k.bytes_per_px.is_empty() {
            verdict.push("only small samples");
        }
        let _ = writeln!(
            out,
            "| {} | {} ({}/{}) | {} | {} | {} | {} | {} | {} MiB | {:.1} MiB at {} px | {} |",
            work.key(),
            k.samples,
            k.ns_per_px.len(),
            k.bytes_per_px.len(),
            cell(median(&k.ns_per_px)),
            cell(ns_max),
            cell(rate.ns_per_px),
            cell(b_max),
            cell(rate.bytes_per_px),
            rate.fixed_bytes >> 20,
            k.largest_peak.0 as f64 / f64::from(1u32 << 20),
            k.largest_peak.1,
            if verdict.is_empty() {
                "ok".to_string()
            } else {
                verdict.join(", ")
            }
        );
        let suggest = |measured: f64, current: f64| {
            if measured.is_nan() {
                current
            } else {
                round_up(measured * 1.25).max(current)
            }
        };
        suggestions.push(format!(
            "{} // measured max {} B/px, {} ns/px{}",
            rate_source(
                work,
                suggest(b_max, rate.bytes_per_px),
                suggest(ns_max, rate.ns_per_px)
            ),
            cell(b_max),
            cell(ns_max),
            if k.slowest_case.is_empty() {
                String::new()
            } else {
                format!(" ({})", k.slowest_case)
            }
        ));
    }
    let unknown: Vec<&String> = by_key
        .keys()
        .filter(|k| Work::from_key(k).is_none())
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "\nKeys in the log the model does not know: {unknown:?}"
        );
    }
    let _ = writeln!(
        out,
        "\n## Suggested rates\n\n`rate(bytes_per_px, ns_per_px)`: max(measured max × 1.25, current), \
         rounded up; fixed bytes unchanged.\n\n```rust"
    );
    for s in &suggestions {
        let _ = writeln!(out, "{s}");
    }
    let _ = writeln!(
        out,
        "```\n\n## Cases\n\n{runs} runs each; estimate and actual of the slowest run.\n\n\
         | source | command | stages | estimate | actual | note |\n|---|---|---|---:|---:|---|"
    );
    for r in results {
        let slowest = r
            .lines
            .iter()
            .max_by(|a, b| a.actual.0.total_cmp(&b.actual.0));
        let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
        let (stages, estimate, actual) = match slowest {
            Some(l) => (
                l.stages
                    .iter()
                    .map(|s| s.key.as_str())
                    .collect::<Vec<_>>()
                    .join(" → "),
                l.estimate.map_or("–".into(), |(ms, b)| {
                    format!("{ms:.0} ms / {:.1} MiB", mib(b))
                }),
                format!(
                    "{:.0} ms / {:.1} MiB{}{}",
                    l.actual.0,
                    mib(l.actual.1),
                    if l.refused { " refused" } else { "" },
                    if l.stopped { " stopped" } else { "" }
                ),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        let mut note = r.case.note.clone();
        if !r.problems.is_empty() {
            let _ = write!(note, " **{}**", r.problems.join("; ").replace('|', "/"));
        }
        let _ = writeln!(
            out,
            "| {} | `{}` | {stages} | {estimate} | {actual} | {} |",
            r.case.key,
            r.case.command,
            note.trim()
        );
    }
    out
}

pub fn calibrate(args: &[String]) -> Result<()> {
    let opts = Options::parse(args)?;
    let tools = crate::prepare_stack(false)?;
    let work = root().join("target/calibrate");
    let bucket = work.join("bucket");
    let _ = std::fs::remove_dir_all(&bucket);
    std::fs::create_dir_all(&bucket).map_err(|e| format!("{}: {e}", bucket.display()))?;
    let stack_opts = StackOptions {
        host: ProxyHost::Envoy,
        config_template: root().join(ProxyHost::Envoy.template()),
        listen_port: 0,
        bucket_dir: bucket.clone(),
        work_dir: work.join("stack"),
        concurrency: 1,
        replacements: vec![(PLUGIN_CONFIG.0.into(), PLUGIN_CONFIG.1.into())],
    };
    let stack = Stack::start_with_wasm_log(&tools, &stack_opts, "debug")?;
    let mut cases = Vec::new();
    if opts.builtin {
        println!("calibrate: making the sources in {}", bucket.display());
        prepare_bucket(&stack, &bucket)?;
        cases.extend(CASES.iter().map(|(key, command)| Case {
            key: key.to_string(),
            command: command.to_string(),
            note: String::new(),
        }));
    }
    if opts.worst_case {
        cases.extend(worst_case_cases(&bucket).unwrap_or_default());
    }
    if cases.is_empty() {
        return Err("no cases to run".into());
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let results = run_cases(&stack, cases, opts.runs);
    if results.iter().all(|r| r.lines.is_empty()) {
        return Err(format!(
            "no request logged a cost: line (see {})",
            stack.proxy_log.display()
        ));
    }
    let header = vec![
        (
            "when".to_string(),
            crate::bench::command_output(Command::new("date").args(["-u", "+%F %T UTC"])),
        ),
        (
            "filter".to_string(),
            format!(
                "{} (sha256 {})",
                tools.wasm.display(),
                std::fs::read_to_string(root().join("dist/image_process_filter.wasm.sha256"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
            ),
        ),
        (
            "host".to_string(),
            "Envoy (V8), --concurrency 1, one request at a time".to_string(),
        ),
        ("load average at start".to_string(), load.trim().to_string()),
        ("runs per case".to_string(), opts.runs.to_string()),
    ];
    let report = render(&results, opts.runs, &header);
    println!("\n{report}");
    if let Some(dir) = opts.output.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&opts.output, &report).map_err(|e| format!("{}: {e}", opts.output.display()))?;
    println!("calibrate: written to {}", opts.output.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_cost_line() {
        let line = "[2026-12-06 07:00:00.000][1][debug][wasm] wasm log image_process_filter: \
                    #2 request abc cost: estimate=120.5ms/52428800B actual=98.2ms/41943040B \
                    decode-jpeg-dc:12166656:190104:20.10ms:1048576B resize:190104:190104:3.00ms:800B";
        let c = parse_cost_line(line).unwrap();
        assert_eq!(c.estimate, Some((120.5, 52428800)));
        assert_eq!(c.actual, (98.2, 41943040));
        assert_eq!(c.stages.len(), 2);
        assert_eq!(c.stages[0].key, "decode-jpeg-dc");
        assert_eq!(c.stages[0].time_px, 12166656);
        assert_eq!(c.stages[1].peak_bytes, 800);
        assert!(!c.refused);
        let refused = parse_cost_line("x cost: estimate=1.0ms/1B actual=0.0ms/0B refused").unwrap();
        assert!(refused.refused && refused.stages.is_empty());
        assert!(parse_cost_line("no cost here").is_none());
    }
}
