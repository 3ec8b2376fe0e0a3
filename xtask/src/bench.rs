//! `cargo xtask bench`: the filter in Envoy and in nginx against its peers,
//! side by side in one run on this machine, written to `BENCHMARKS.md`.
//!
//! Everything listens on 127.0.0.1 and fetches its originals from the same
//! files over loopback HTTP (s3s-fs: the filter's reads signed, the others'
//! from a second s3s-fs without keys; both send the originals of the paced
//! cases, keys under `paced/`, at [`PACED_RATE_MB`] like a same-region object
//! store, to every target alike):
//!
//! | target | what |
//! |---|---|
//! | `filter` | Envoy with the filter as shipped (simd128 IDCT, colour conversion and resize kernels) |
//! | `filter-exact` | the same Envoy, a second listener with the `bit-identical` build (portable IDCT, scalar resize kernels) |
//! | `envoy-plain` | the same Envoy, a third listener with no filter (pass-through baseline) |
//! | `nginx-filter` | Debian's nginx with ngx_wasm_module (wasmtime) and the shipped build, `nginx/nginx.conf` as users copy it (`local_reply`), rendered by the test stack |
//! | `nginx-plain` | the same nginx process, a location proxying without the filter (pass-through baseline) |
//! | `nginx` | the same nginx process, locations with Debian's `image_filter` module (libgd) |
//! | `sharp` | a node HTTP server with sharp (libvips), fetching from the same storage |
//!
//! Requests go round-robin over every (case, target) pair in a shuffled order
//! each round, after warm-up, one new connection per request, timed from
//! connect to the last byte. Throughput at concurrency 2 is two clients
//! sending back to back (not for the slow AVIF case). Memory is Envoy's peak
//! RSS growth (VmHWM after resetting it) over one request, in a fresh Envoy
//! per scenario. `--cases` and `--no-memory` run a part of it.

use crate::{root, run, tools, Result};
use ipf_test_support::stack::{self, free_port, Stack, StackOptions, Tools};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Command-line settings of `cargo xtask bench`.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Timed rounds over every (case, target) pair.
    pub rounds: usize,
    /// Untimed requests per pair before the first round.
    pub warmup: usize,
    /// Requests per client per throughput round (two clients).
    pub throughput_requests: usize,
    /// Throughput rounds per (case, target) pair.
    pub throughput_rounds: usize,
    /// Where the report goes.
    pub output: PathBuf,
    /// `--cases a,b`: keep only the cases whose id contains one of these
    /// substrings; empty: every case.
    pub cases: Vec<String>,
    /// Measure Envoy's memory growth (`--no-memory`: skip it).
    pub memory: bool,
}

impl BenchOptions {
    pub fn parse(args: &[String]) -> Result<BenchOptions> {
        let mut o = BenchOptions {
            rounds: 15,
            warmup: 3,
            throughput_requests: 10,
            throughput_rounds: 3,
            output: root().join("BENCHMARKS.md"),
            cases: Vec::new(),
            memory: true,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut number = |name: &str| -> Result<usize> {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("{name} needs a number"))
            };
            match arg.as_str() {
                "--rounds" => o.rounds = number("--rounds")?.max(1),
                "--warmup" => o.warmup = number("--warmup")?,
                "--throughput-requests" => o.throughput_requests = number(arg)?.max(1),
                "--throughput-rounds" => o.throughput_rounds = number(arg)?.max(1),
                "--quick" => {
                    o.rounds = 3;
                    o.warmup = 1;
                    o.throughput_requests = 1;
                    o.throughput_rounds = 1;
                }
                "--output" => {
                    o.output = PathBuf::from(it.next().ok_or("--output needs a path")?);
                }
                "--cases" => {
                    let list = it.next().ok_or("--cases needs a list of substrings")?;
                    o.cases = list
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect();
                    if o.cases.is_empty() {
                        return Err("--cases needs a list of substrings".into());
                    }
                }
                "--no-memory" => o.memory = false,
                other => return Err(format!("unknown bench option '{other}'")),
            }
        }
        if o.selected().is_empty() {
            return Err(format!(
                "--cases {}: no case id contains any of these (ids: {})",
                o.cases.join(","),
                CASES.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(o)
    }

    /// Indexes into [`CASES`] of the cases this run measures.
    fn selected(&self) -> Vec<usize> {
        CASES
            .iter()
            .enumerate()
            .filter(|(_, c)| self.cases.is_empty() || self.cases.iter().any(|s| c.id.contains(s)))
            .map(|(i, _)| i)
            .collect()
    }
}

/// The systems compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Filter,
    FilterExact,
    EnvoyPlain,
    NginxFilter,
    NginxPlain,
    Nginx,
    Sharp,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Filter => "filter",
            Target::FilterExact => "filter-exact",
            Target::EnvoyPlain => "envoy-plain",
            Target::NginxFilter => "nginx-filter",
            Target::NginxPlain => "nginx-plain",
            Target::Nginx => "nginx",
            Target::Sharp => "sharp",
        }
    }
}

/// One kind of request, asked of every target that can do it.
struct Case {
    /// Short id (file names, table rows).
    id: &'static str,
    /// What a reader sees.
    title: &'static str,
    /// Object key in the bench bucket.
    key: &'static str,
    /// `x-bce-process` for the filter; `None`: the request has no command.
    command: Option<&'static str>,
    /// nginx `image_filter` location (`/<location>/<key>`); `None`: image_filter
    /// cannot do it, or (no command) the case has no image_filter row.
    nginx: Option<&'static str>,
    /// sharp server operation (`/<op>/<key>`).
    sharp: &'static str,
    /// Compare the output with a full-decode Lanczos reference.
    fidelity: bool,
    /// Latency samples per pair in each round. The pass-through takes
    /// several: it is cheap, and its target (within 5 % of plain Envoy) is
    /// tighter than the noise of a handful of ~12 ms samples.
    samples_per_round: usize,
    /// Seconds per request (the AVIF encode: ~2.3 s in the filter, ~5 s in
    /// sharp): one warm-up request per pair whatever `--warmup` says, and no
    /// throughput rounds (its 2-client column shows "–"), which would
    /// otherwise take most of the bench's time.
    slow: bool,
}

const THUMB: &str = "image/resize,m_lfit,w_200,h_200/quality,Q_85,c_any";
const THUMB_PNG: &str = "image/resize,m_lfit,w_200,h_200";

/// The storage servers' delivery rate of keys under `paced/`, MB/s: the
/// default of `tools/storage`'s `--paced-rate-mb` (the test stack's storage
/// runs with the default; the peers' storage is given it).
const PACED_RATE_MB: u32 = 80;

/// The cases of issue 5, with issue 21's twins of the baseline thumbnails
/// whose originals the storage delivers at [`PACED_RATE_MB`] (keys under
/// `paced/`, copies of the same files). `sunset` is the 12 MP photo
/// (4272×2848). The titles of the paced cases spell out the rate.
const CASES: &[Case] = &[
    Case {
        id: "thumb-12mp-baseline",
        title: "12 MP baseline JPEG → 200 px JPEG",
        key: "sunset.baseline.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-12mp-baseline-paced",
        title: "12 MP baseline JPEG → 200 px JPEG, storage at 80 MB/s",
        key: "paced/sunset.baseline.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-12mp-progressive",
        title: "12 MP progressive JPEG → 200 px JPEG",
        key: "sunset.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-16mp-baseline",
        title: "16 MP baseline JPEG → 200 px JPEG",
        key: "seeding.baseline.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-16mp-baseline-paced",
        title: "16 MP baseline JPEG → 200 px JPEG, storage at 80 MB/s",
        key: "paced/seeding.baseline.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-16mp-progressive",
        title: "16 MP progressive JPEG → 200 px JPEG",
        key: "seeding.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-10mp-portrait-progressive",
        title: "10 MP portrait progressive JPEG → 200 px JPEG",
        key: "wine.jpg",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "webp1080-12mp-baseline",
        title: "12 MP baseline JPEG → 1080 px WebP",
        key: "sunset.baseline.jpg",
        command: Some("image/resize,m_lfit,w_1080,h_1080/format,f_webp/quality,Q_85,c_any"),
        nginx: None,
        sharp: "webp1080",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "avif1080-12mp-baseline",
        title: "12 MP baseline JPEG → AVIF within 1920×1080, quality 50",
        key: "sunset.baseline.jpg",
        command: Some("image/resize,m_lfit,w_1920,h_1080/format,f_avif/quality,Q_50,c_any"),
        nginx: None,
        sharp: "avif1080",
        fidelity: true,
        samples_per_round: 1,
        slow: true,
    },
    Case {
        id: "croprot-12mp-baseline",
        title: "12 MP baseline JPEG → centre crop 1000×1000 + rotate 90 → JPEG",
        key: "sunset.baseline.jpg",
        command: Some("image/crop,w_1000,h_1000,g_center/rotate,a_90/quality,Q_85,c_any"),
        nginx: Some("croprot"),
        sharp: "croprot",
        fidelity: false,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-png",
        title: "12 MP PNG → 200 px PNG",
        key: "sunset.png",
        command: Some(THUMB_PNG),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "thumb-webp",
        title: "12 MP WebP (lossy) → 200 px WebP",
        key: "sunset.webp",
        command: Some(THUMB),
        nginx: Some("thumb200"),
        sharp: "thumb200",
        fidelity: true,
        samples_per_round: 1,
        slow: false,
    },
    Case {
        id: "passthrough",
        title: "no command: 12 MP baseline JPEG passed through (1.1 MB)",
        key: "sunset.baseline.jpg",
        command: None,
        nginx: None,
        sharp: "plain",
        fidelity: false,
        samples_per_round: 5,
        slow: false,
    },
];

impl Case {
    /// Its original is delivered at [`PACED_RATE_MB`], not at loopback speed.
    fn paced(&self) -> bool {
        self.key.starts_with("paced/")
    }

    fn targets(&self) -> Vec<Target> {
        let mut t = vec![Target::Filter, Target::FilterExact];
        if self.command.is_none() {
            t.push(Target::EnvoyPlain);
        }
        t.push(Target::NginxFilter);
        t.extend(self.nginx_peer());
        t.push(Target::Sharp);
        t
    }

    /// What the "vs nginx" column compares with: image_filter, or plain
    /// nginx for the no-command case.
    fn nginx_peer(&self) -> Option<Target> {
        if self.command.is_none() {
            Some(Target::NginxPlain)
        } else {
            self.nginx.map(|_| Target::Nginx)
        }
    }
}

/// Ports of the running systems.
struct Ports {
    filter: u16,
    filter_exact: u16,
    envoy_plain: u16,
    /// The nginx process: the filter, plain and image_filter locations.
    nginx: u16,
    sharp: u16,
}

impl Ports {
    /// Port and path of `case` on `target`.
    fn request(&self, case: &Case, target: Target) -> (u16, String) {
        let key = case.key;
        let filter_path = match case.command {
            Some(cmd) => format!("/demo/{key}?x-bce-process={cmd}"),
            None => format!("/demo/{key}"),
        };
        match target {
            Target::Filter => (self.filter, filter_path),
            Target::FilterExact => (self.filter_exact, filter_path),
            Target::EnvoyPlain => (self.envoy_plain, format!("/demo/{key}")),
            Target::NginxFilter => (self.nginx, filter_path),
            Target::NginxPlain => (self.nginx, format!("/plain/{key}")),
            Target::Nginx => (
                self.nginx,
                format!("/{}/{key}", case.nginx.unwrap_or("plain")),
            ),
            Target::Sharp => (self.sharp, format!("/{}/{key}", case.sharp)),
        }
    }
}

/// A response: status and body (chunked bodies decoded).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// One GET over a new connection (`Connection: close`).
pub(crate) fn http_get(port: u16, path: &str) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    s.set_nodelay(true)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(Reply { status, body })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Times one request; fails on a non-200 or an empty body.
fn timed_get(port: u16, path: &str) -> Result<(f64, Reply)> {
    let start = Instant::now();
    let reply = http_get(port, path).map_err(|e| format!("GET :{port}{path}: {e}"))?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if reply.status != 200 || reply.body.is_empty() {
        return Err(format!(
            "GET :{port}{path}: status {} with {} bytes: {}",
            reply.status,
            reply.body.len(),
            String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
        ));
    }
    Ok((ms, reply))
}

/// Latency summary of one (case, target) pair, in ms.
#[derive(Debug, Clone, Default)]
struct Samples {
    latencies_ms: Vec<f64>,
    /// Requests per second with two clients.
    throughput2: Option<f64>,
    output_bytes: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Samples {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.latencies_ms.clone();
        v.sort_by(f64::total_cmp);
        v
    }
    fn median(&self) -> f64 {
        percentile(&self.sorted(), 50.0)
    }
    fn p90(&self) -> f64 {
        percentile(&self.sorted(), 90.0)
    }
    /// Requests per second with one client sending back to back (= 1 / mean latency).
    fn throughput1(&self) -> f64 {
        let mean = self.latencies_ms.iter().sum::<f64>() / self.latencies_ms.len() as f64;
        1000.0 / mean
    }
}

/// A deterministic shuffle (xorshift), so runs are comparable.
fn shuffle<T>(items: &mut [T], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Input photos: the corpus originals (progressive) and baseline copies.
pub(crate) const PHOTOS: &[(&str, &str)] = &[
    ("sunset", "sunset_by_Aitzol_Berasategi.jpg"),
    ("seeding", "seeding_by_Clements_Engelhardt.jpg"),
    ("wine", "Wine_by_Jakkub_Mede.jpg"),
];

pub(crate) fn corpus_photos() -> Result<PathBuf> {
    let candidates = [
        std::env::var_os("IPF_CORPUS").map(PathBuf::from),
        Some(root().join("../shared/corpus")),
        Some(PathBuf::from("/work/shared/corpus")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|c| c.join("photos"))
        .find(|p| p.join(PHOTOS[0].1).is_file())
        .ok_or_else(|| {
            "the corpus photos were not found (../shared/corpus/photos, IPF_CORPUS or /work/shared/corpus)"
                .to_string()
        })
}

pub(crate) fn has_marker(bytes: &[u8], marker: u8) -> bool {
    bytes.windows(2).any(|w| w == [0xFF, marker])
}

/// Fills the bench bucket: the photos as they are (progressive), baseline
/// copies by `jpegtran`, PNG / WebP copies of the 12 MP photo by `imgproc`,
/// and under `paced/` the originals of the paced cases (hard links, or
/// copies), which the storage delivers at [`PACED_RATE_MB`].
fn prepare_bucket(bucket: &Path, imgproc: &Path) -> Result<()> {
    std::fs::create_dir_all(bucket).map_err(|e| e.to_string())?;
    let photos = corpus_photos()?;
    for (short, file) in PHOTOS {
        let progressive = bucket.join(format!("{short}.jpg"));
        if !progressive.exists() {
            std::fs::copy(photos.join(file), &progressive).map_err(|e| format!("{file}: {e}"))?;
        }
        let baseline = bucket.join(format!("{short}.baseline.jpg"));
        if !baseline.exists() {
            run(Command::new("jpegtran")
                .args(["-copy", "all", "-outfile"])
                .arg(&baseline)
                .arg(&progressive))?;
        }
        let bytes = std::fs::read(&baseline).map_err(|e| e.to_string())?;
        if has_marker(&bytes, 0xC2) || !has_marker(&bytes, 0xC0) {
            return Err(format!("{} is not a baseline JPEG", baseline.display()));
        }
    }
    for (ext, cmd) in [
        ("png", "image/format,f_png"),
        ("webp", "image/format,f_webp/quality,Q_85,c_any"),
    ] {
        let out = bucket.join(format!("sunset.{ext}"));
        if !out.exists() {
            run(Command::new(imgproc)
                .arg("process")
                .arg(bucket.join("sunset.baseline.jpg"))
                .arg(cmd)
                .arg("-o")
                .arg(&out))?;
        }
    }
    for case in CASES.iter().filter(|c| c.paced()) {
        let paced = bucket.join(case.key);
        let name = case.key.trim_start_matches("paced/");
        let original = bucket.join(name);
        let len = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
        if paced.exists() && len(&paced) == len(&original) {
            continue;
        }
        std::fs::create_dir_all(bucket.join("paced")).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&paced);
        if std::fs::hard_link(&original, &paced).is_err() {
            std::fs::copy(&original, &paced).map_err(|e| format!("{}: {e}", case.key))?;
        }
    }
    Ok(())
}

/// A plain Envoy listener (router only) on `port`, in the template's indentation.
fn plain_listener(port: u16) -> String {
    format!(
        r#"  - name: plain
    address:
      socket_address: {{ address: 127.0.0.1, port_value: {port} }}
    per_connection_buffer_limit_bytes: 33554432
    enable_reuse_port: false
    connection_balance_config: {{ exact_balance: {{}} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: plain
          codec_type: AUTO
          route_config:
            name: plain
            virtual_hosts:
            - name: plain
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: public_storage, timeout: 60s }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
"#
    )
}

/// The cluster of the public storage the peers and plain Envoy read.
fn public_storage_cluster(port: u16) -> String {
    format!(
        r#"  - name: public_storage
    type: STATIC
    connect_timeout: 2s
    per_connection_buffer_limit_bytes: 33554432
    load_assignment:
      cluster_name: public_storage
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: 127.0.0.1, port_value: {port} }}
"#
    )
}

/// The template's filter listener again, on `port`, with the `bit-identical` build.
fn exact_listener(template: &str, port: u16, wasm: &Path) -> Result<String> {
    let start = template
        .find("  - name: images")
        .ok_or("envoy template: no listener `images`")?;
    let end = template
        .find("\n  clusters:")
        .ok_or("envoy template: no clusters")?;
    let block = &template[start..=end];
    let mut out = block.to_string();
    for (from, to) in [
        ("name: images", "name: images_exact".to_string()),
        (
            "stat_prefix: images",
            "stat_prefix: images_exact".to_string(),
        ),
        ("port_value: 8080", format!("port_value: {port}")),
        (
            "filename: dist/image_process_filter.wasm",
            format!("filename: {}", wasm.display()),
        ),
        (
            "vm_id: image_process_filter",
            "vm_id: image_process_filter_exact".to_string(),
        ),
    ] {
        if !out.contains(from) {
            return Err(format!("envoy template listener has no '{from}'"));
        }
        out = out.replace(from, &to);
    }
    Ok(out)
}

const IMAGE_FILTER_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_image_filter_module.so";

/// What the bench adds to the rendered `nginx/nginx.conf` (2 workers): the
/// image_filter module, loaded after ngx_wasm_module and before
/// `worker_processes` (nginx/README.md: load_module lines come first), an
/// upstream for the public storage, and next to the filter's `location /`
/// (which stays as users copy it) the plain and image_filter locations, so
/// `nginx-filter`, `nginx-plain` and `nginx` are one nginx process.
fn nginx_replacements(public_storage: u16) -> Vec<(String, String)> {
    // The proxying of the filter's location, minus the filter and the
    // header lines it needs, to the storage that takes unsigned reads.
    let proxy = "proxy_pass http://public_storage/demo/;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";";
    // Buffered proxying (the default) as before the bench moved image_filter
    // into this nginx; its temporary files under the prefix.
    let filter = "image_filter_jpeg_quality 85;
            image_filter_webp_quality 85;
            image_filter_buffer 32M;
            proxy_temp_path proxy_temp;";
    vec![
        (
            "/ngx_wasmx_module.so;\n".into(),
            format!("/ngx_wasmx_module.so;\nload_module {IMAGE_FILTER_MODULE};\n"),
        ),
        (
            "    upstream storage {".into(),
            format!(
                "    # cargo xtask bench: the storage without keys the peers read.
    upstream public_storage {{
        server 127.0.0.1:{public_storage};
        keepalive 16;
    }}

    upstream storage {{"
            ),
        ),
        (
            "        location / {".into(),
            format!(
                "        # cargo xtask bench: pass-through without the filter, and
        # image_filter (libgd), in the same server as the filter.
        location /plain/ {{
            {proxy}
            proxy_buffering off;
        }}
        location /thumb200/ {{
            {proxy}
            image_filter resize 200 200;
            {filter}
        }}
        location /croprot/ {{
            {proxy}
            image_filter rotate 90;
            image_filter crop 1000 1000;
            {filter}
        }}

        location / {{"
            ),
        ),
    ]
}

/// The sharp peer: fetch from storage, process as the case says, answer.
const SHARP_SERVER: &str = r#"// sharp (libvips) peer for `cargo xtask bench`; written by xtask.
const http = require('http');
const sharp = require('sharp');
const [port, storage] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true });
function origin(key) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: storage, path: '/demo/' + key, agent }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => res.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error('origin ' + res.statusCode)));
    }).on('error', reject);
  });
}
function sameFormat(img, body) {
  if (body[0] === 0x89) return img.png();
  if (body.slice(8, 12).toString() === 'WEBP') return img.webp({ quality: 85 });
  return img.jpeg({ quality: 85 });
}
async function handle(op, body) {
  switch (op) {
    case 'plain': return body;
    case 'thumb200':
      return sameFormat(sharp(body).resize(200, 200, { fit: 'inside', withoutEnlargement: true }), body).toBuffer();
    case 'webp1080':
      return sharp(body).resize(1080, 1080, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 85 }).toBuffer();
    case 'avif1080':
      return sharp(body).resize(1920, 1080, { fit: 'inside', withoutEnlargement: true }).avif({ quality: 50, effort: 4 }).toBuffer();
    case 'croprot': {
      const { width, height } = await sharp(body).metadata();
      const side = Math.min(1000, width, height);
      return sharp(body)
        .extract({ left: (width - side) >> 1, top: (height - side) >> 1, width: side, height: side })
        .rotate(90).jpeg({ quality: 85 }).toBuffer();
    }
    default: throw new Error('unknown op ' + op);
  }
}
http.createServer(async (req, res) => {
  try {
    const m = /^\/([a-z0-9]+)\/(.+)$/.exec(req.url);
    if (!m) throw new Error('bad path');
    const out = await handle(m[1], await origin(m[2]));
    res.writeHead(200, { 'content-length': out.length });
    res.end(out);
  } catch (e) {
    res.writeHead(500);
    res.end(String(e));
  }
}).listen(port, '127.0.0.1', () => console.log('sharp peer on ' + port + ', sharp ' + sharp.versions.sharp + ', libvips ' + sharp.versions.vips + ', concurrency ' + sharp.concurrency()));
"#;

fn start_sharp(sharp_dir: &Path, work: &Path, port: u16, storage: u16) -> Result<Child> {
    let script = sharp_dir.join("bench-server.js");
    std::fs::write(&script, SHARP_SERVER).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(work.join("sharp.log")).map_err(|e| e.to_string())?;
    Command::new("node")
        .arg(&script)
        .arg(port.to_string())
        .arg(storage.to_string())
        .current_dir(sharp_dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting the sharp server: {e}"))
}

fn wait_port(port: u16, what: &str) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{what} does not listen on {port}"))
}

/// Stops a child we started: SIGTERM, then SIGKILL.
fn stop_child(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

struct Peers {
    children: Vec<Child>,
}

impl Drop for Peers {
    fn drop(&mut self) {
        for c in self.children.iter_mut().rev() {
            stop_child(c);
        }
    }
}

pub(crate) fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("/proc/{pid}/status has no {field}"))
}

/// One memory scenario: Envoy's peak RSS growth over one request.
struct MemoryReading {
    title: String,
    growth_mib: f64,
    budget_mib: Option<f64>,
    budget_rule: String,
}

/// In a fresh Envoy (one worker): RSS after a pass-through request, reset the
/// peak, one processing request, peak − that RSS.
fn measure_memory(
    tools: &Tools,
    bucket: &Path,
    work: &Path,
    key: &str,
    command: &str,
) -> Result<f64> {
    let opts = StackOptions {
        host: stack::ProxyHost::Envoy,
        config_template: root().join("envoy/envoy.yaml"),
        listen_port: 0,
        bucket_dir: bucket.to_path_buf(),
        work_dir: work.join("memory"),
        concurrency: 1,
        replacements: Vec::new(),
    };
    let stack = Stack::start(tools, &opts)?;
    let pid = stack.proxy_pid().ok_or("no Envoy pid")?;
    let port = stack.listen_port;
    timed_get(port, &format!("/demo/{key}"))?;
    std::thread::sleep(Duration::from_millis(300));
    let before = proc_status_kib(pid, "VmRSS")?;
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .map_err(|e| format!("resetting Envoy's peak RSS: {e}"))?;
    timed_get(port, &format!("/demo/{key}?x-bce-process={command}"))?;
    let peak = proc_status_kib(pid, "VmHWM")?;
    Ok(peak.saturating_sub(before) as f64 / 1024.0)
}

pub(crate) fn command_output(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).to_string();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s.trim().to_string()
        })
        .unwrap_or_else(|e| format!("({e})"))
}

/// What the report says about this machine and the software compared.
fn describe_machine(tools: &Tools, sharp_dir: &Path) -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("PRETTY_NAME="))
        .map(|l| {
            l.trim_start_matches("PRETTY_NAME=")
                .trim_matches('"')
                .to_string()
        })
        .unwrap_or_default();
    let envoy = command_output(Command::new(&tools.envoy).arg("--version"));
    let envoy = envoy
        .split("version:")
        .nth(1)
        .map(|v| v.trim().split('/').take(2).collect::<Vec<_>>().join("/"))
        .unwrap_or(envoy);
    let sharp = command_output(
        Command::new("node")
            .args([
                "-e",
                "const s=require('sharp');console.log('sharp '+s.versions.sharp+', libvips '+s.versions.vips+', sharp.concurrency() = '+s.concurrency())",
            ])
            .current_dir(sharp_dir),
    );
    vec![
        ("CPU".into(), format!("{model}, {cpus} logical CPUs")),
        ("memory".into(), mem),
        (
            "OS".into(),
            format!(
                "{os}, Linux {}",
                command_output(Command::new("uname").arg("-r"))
            ),
        ),
        (
            "rustc".into(),
            command_output(Command::new("rustc").arg("--version")),
        ),
        ("Envoy".into(), format!("{envoy} (`--concurrency 2`, V8)")),
        (
            "nginx".into(),
            format!(
                "{} (Debian) loading `libnginx-mod-http-image-filter` (libgd) and Kong's \
                 ngx_wasm_module (wasmtime, built by `cargo xtask`) in one process, 2 workers",
                command_output(
                    Command::new(
                        tools
                            .nginx
                            .as_ref()
                            .map_or(Path::new("nginx"), |n| n.nginx.as_path())
                    )
                    .arg("-v")
                )
            ),
        ),
        (
            "node / sharp".into(),
            format!(
                "node {}, {sharp}",
                command_output(Command::new("node").arg("--version"))
            ),
        ),
        (
            "load average at start".into(),
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
    ]
}

/// How close one output is to the full-decode Lanczos3 reference
/// (`examples/fidelity`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Fidelity {
    /// RGB PSNR, dB (`inf` for identical pixels).
    psnr: f64,
    /// SSIMULACRA2: 100 for identical pixels, 90+ visually lossless, 70 high
    /// quality, 50 medium.
    ssimulacra2: f64,
}

/// Parses one line of `examples/fidelity`:
/// `<path>\t<w>x<h>\t<PSNR>\t<SSIMULACRA2>`.
fn parse_fidelity_line(line: &str) -> Option<Fidelity> {
    let mut fields = line.split('\t').skip(2).map(str::trim);
    let number = |v: &str| match v {
        "inf" => Some(f64::INFINITY),
        v => v.parse().ok(),
    };
    Some(Fidelity {
        psnr: number(fields.next()?)?,
        ssimulacra2: number(fields.next()?)?,
    })
}

/// `a` is at least as close to the reference as `b` by both metrics, up to
/// their print precision (0.05 dB, 0.05 SSIMULACRA2 points).
fn at_least_as_good(a: Fidelity, b: Fidelity) -> bool {
    a.psnr >= b.psnr - 0.05 && a.ssimulacra2 >= b.ssimulacra2 - 0.05
}

/// The AVIF case, and the other qualities the filter is asked for after the
/// timed rounds (its bytes at sharp's quality are interpolated from them).
const AVIF_CASE: &str = "avif1080-12mp-baseline";
const AVIF_LADDER: [u8; 5] = [40, 45, 55, 60, 65];

/// How close the outputs are to the reference.
struct Fidelities {
    /// Each case's saved output per target.
    outputs: BTreeMap<(usize, Target), Fidelity>,
    /// The filter's AVIF at other qualities.
    avif_ladder: Vec<LadderPoint>,
}

/// One output of the AVIF quality ladder.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LadderPoint {
    /// The request's `Q_`.
    quality: u8,
    bytes: usize,
    fidelity: Fidelity,
}

/// The bytes the ladder needs to reach `target` by `metric`, interpolated
/// linearly between the two neighbouring points whose metric brackets it;
/// `None` when no pair brackets it (or the ladder is not monotonic there).
fn bytes_at(ladder: &[LadderPoint], metric: fn(&Fidelity) -> f64, target: f64) -> Option<f64> {
    let mut points: Vec<(f64, f64)> = ladder
        .iter()
        .map(|p| (metric(&p.fidelity), p.bytes as f64))
        .filter(|(m, _)| m.is_finite())
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points.windows(2).find_map(|w| {
        let ((m0, b0), (m1, b1)) = (w[0], w[1]);
        (m0 <= target && target <= m1 && m1 > m0 && b1 >= b0)
            .then(|| b0 + (b1 - b0) * (target - m0) / (m1 - m0))
    })
}

/// Runs `examples/fidelity` on the saved outputs of one case.
fn fidelity(
    tool: &Path,
    source: &Path,
    outputs: &[(Target, PathBuf)],
) -> Result<Vec<(Target, Fidelity)>> {
    let out = Command::new(tool)
        .arg(source)
        .args(outputs.iter().map(|(_, p)| p))
        .output()
        .map_err(|e| format!("{}: {e}", tool.display()))?;
    if !out.status.success() {
        return Err(format!(
            "fidelity {}: {}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(outputs
        .iter()
        .zip(text.lines())
        .filter_map(|((t, _), line)| Some((*t, parse_fidelity_line(line)?)))
        .collect())
}

/// `40, 45, 50, …`: the qualities of a ladder, ascending.
fn ladder_qualities(ladder: &[LadderPoint]) -> String {
    let mut q: Vec<u8> = ladder.iter().map(|p| p.quality).collect();
    q.sort_unstable();
    q.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

fn ratio(us: f64, peer: f64) -> String {
    if peer.is_finite() && peer > 0.0 && us.is_finite() {
        format!("{:.2}×", us / peer)
    } else {
        "–".into()
    }
}

pub fn bench(args: &[String]) -> Result<()> {
    let opts = BenchOptions::parse(args)?;
    let work = root().join("target/bench");
    let bucket = work.join("bucket");
    let outputs = work.join("out");
    std::fs::create_dir_all(&outputs).map_err(|e| e.to_string())?;

    // Build and install everything first.
    tools::ensure_bench_peers()?;
    let sharp_dir = tools::ensure_sharp()?;
    // The variant first: both use cargo's one output path, and the shipped
    // build is left there last.
    let exact_wasm_variant = crate::build_variant(true, "bench/image_process_filter_exact.wasm")?;
    let exact_wasm = crate::build()?;
    run(crate::cargo().args([
        "build",
        "--release",
        "-p",
        "image-process-filter",
        "--bin",
        "imgproc",
        "--example",
        "fidelity",
    ]))?;
    let imgproc = root().join("target/release/imgproc");
    let fidelity_tool = root().join("target/release/examples/fidelity");
    prepare_bucket(&bucket, &imgproc)?;
    let nginx_wasm = tools::ensure_nginx_wasm()?;
    let tools = Tools {
        envoy: tools::ensure_envoy()?,
        s3s_fs: tools::ensure_s3s_fs()?,
        wasm: exact_wasm,
        nginx: Some(stack::NginxTools {
            nginx: nginx_wasm.nginx,
            module: nginx_wasm.module,
        }),
    };
    let machine = describe_machine(&tools, &sharp_dir);

    // Start Envoy (three listeners) + storage, the public storage, nginx
    // (filter, plain, image_filter) + its storage, and sharp.
    let exact_port = free_port();
    let plain_port = free_port();
    let template =
        std::fs::read_to_string(root().join("envoy/envoy.yaml")).map_err(|e| e.to_string())?;
    let exact_wasm_variant =
        std::fs::canonicalize(&exact_wasm_variant).map_err(|e| e.to_string())?;
    // The filter's storage is private (it signs its reads); plain Envoy,
    // plain nginx, image_filter and sharp cannot sign, so they read a second s3s-fs without keys
    // over the same files: the same server and data, without the signature
    // check the filter's reads pay for.
    let public_storage = free_port();
    let extra = format!(
        "{}{}  clusters:\n{}",
        exact_listener(&template, exact_port, &exact_wasm_variant)?,
        plain_listener(plain_port),
        public_storage_cluster(public_storage)
    );
    let stack = Stack::start(
        &tools,
        &StackOptions {
            host: stack::ProxyHost::Envoy,
            config_template: root().join("envoy/envoy.yaml"),
            listen_port: 0,
            bucket_dir: bucket.clone(),
            work_dir: work.join("stack"),
            concurrency: 2,
            replacements: vec![("  clusters:".into(), extra)],
        },
    )?;
    let mut peers = Peers {
        children: Vec::new(),
    };
    peers.children.push(
        Command::new(&tools.s3s_fs)
            .args(["--host", "127.0.0.1", "--port", &public_storage.to_string()])
            .args(["--paced-rate-mb", &PACED_RATE_MB.to_string()])
            .arg(work.join("stack/storage-root"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the public storage: {e}"))?,
    );
    wait_port(public_storage, "the public storage")?;
    // nginx/nginx.conf as users copy it, with its own signed storage like
    // Envoy's, and the plain and image_filter locations added (the stack
    // waits until both workers have compiled the module).
    let nginx_stack = Stack::start(
        &tools,
        &StackOptions {
            host: stack::ProxyHost::Nginx,
            config_template: root().join("nginx/nginx.conf"),
            listen_port: 0,
            bucket_dir: bucket.clone(),
            work_dir: work.join("nginx-stack"),
            concurrency: 2,
            replacements: nginx_replacements(public_storage),
        },
    )?;
    let ports = Ports {
        filter: stack.listen_port,
        filter_exact: exact_port,
        envoy_plain: plain_port,
        nginx: nginx_stack.listen_port,
        sharp: free_port(),
    };
    peers
        .children
        .push(start_sharp(&sharp_dir, &work, ports.sharp, public_storage)?);
    wait_port(ports.sharp, "the sharp server")?;

    let selected = opts.selected();
    let pairs: Vec<(usize, Target)> = selected
        .iter()
        .flat_map(|&i| CASES[i].targets().into_iter().map(move |t| (i, t)))
        .collect();
    let mut results: BTreeMap<(usize, Target), Samples> = BTreeMap::new();

    // Warm-up, keeping one output of each pair.
    println!(
        "bench: warm-up, {} requests per pair (1 for the slow cases)",
        opts.warmup.max(1)
    );
    for &(i, target) in &pairs {
        let case = &CASES[i];
        let (port, path) = ports.request(case, target);
        let mut last = None;
        let warmup = if case.slow { 1 } else { opts.warmup.max(1) };
        for _ in 0..warmup {
            last = Some(timed_get(port, &path)?.1);
        }
        let reply = last.ok_or("no warm-up reply")?;
        let ext = reply_extension(&reply.body);
        std::fs::write(
            outputs.join(format!("{}.{}.{ext}", case.id, target.name())),
            &reply.body,
        )
        .map_err(|e| e.to_string())?;
        results.entry((i, target)).or_default().output_bytes = reply.body.len();
    }

    // Interleaved latency rounds.
    let started = Instant::now();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..opts.rounds {
        let mut order: Vec<(usize, Target)> = pairs
            .iter()
            .flat_map(|&(i, t)| std::iter::repeat_n((i, t), CASES[i].samples_per_round))
            .collect();
        shuffle(&mut order, &mut seed);
        for (i, target) in order {
            let (port, path) = ports.request(&CASES[i], target);
            let (ms, _) = timed_get(port, &path)?;
            results
                .entry((i, target))
                .or_default()
                .latencies_ms
                .push(ms);
        }
        println!(
            "bench: round {}/{} done ({:.0} s)",
            round + 1,
            opts.rounds,
            started.elapsed().as_secs_f64()
        );
    }

    // Throughput with two clients, interleaved over targets.
    println!("bench: throughput at concurrency 2");
    let mut tp: BTreeMap<(usize, Target), (usize, f64)> = BTreeMap::new();
    for _ in 0..opts.throughput_rounds {
        let mut order: Vec<(usize, Target)> = pairs
            .iter()
            .copied()
            .filter(|&(i, _)| !CASES[i].slow)
            .collect();
        shuffle(&mut order, &mut seed);
        for (i, target) in order {
            let (port, path) = ports.request(&CASES[i], target);
            let n = opts.throughput_requests;
            let start = Instant::now();
            let clients: Vec<_> = (0..2)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || -> Result<()> {
                        for _ in 0..n {
                            timed_get(port, &path)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for c in clients {
                c.join().map_err(|_| "client thread panicked")??;
            }
            let e = tp.entry((i, target)).or_default();
            e.0 += 2 * n;
            e.1 += start.elapsed().as_secs_f64();
        }
    }
    for (k, (n, secs)) in tp {
        results.entry(k).or_default().throughput2 = Some(n as f64 / secs);
    }
    // The AVIF case's quality ladder: the filter's bytes at other qualities,
    // so its bytes at sharp's quality can be read off (one request each).
    let mut ladder_outputs: Vec<(u8, PathBuf)> = Vec::new();
    if let Some(&av) = selected.iter().find(|&&i| CASES[i].id == AVIF_CASE) {
        println!("bench: AVIF quality ladder");
        let (port, path) = ports.request(&CASES[av], Target::Filter);
        for q in AVIF_LADDER {
            let reply = http_get(port, &path.replace("Q_50", &format!("Q_{q}")))
                .map_err(|e| format!("AVIF ladder Q_{q}: {e}"))?;
            if reply.status != 200 {
                return Err(format!("AVIF ladder Q_{q}: status {}", reply.status));
            }
            let file = outputs.join(format!("{AVIF_CASE}.ladder-q{q}.avif"));
            std::fs::write(&file, &reply.body).map_err(|e| e.to_string())?;
            ladder_outputs.push((q, file));
        }
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let nginx_trouble = nginx_stack.nginx_trouble();
    for line in &nginx_trouble {
        println!("bench: nginx error log: {line}");
    }
    drop(peers);
    drop(nginx_stack);
    drop(stack);

    // The same build in both hosts: do they answer the same bytes?
    let differs: Vec<&str> = selected
        .iter()
        .map(|&i| &CASES[i])
        .filter(|c| {
            let read = |t| saved_output(&outputs, c, t).and_then(|p| std::fs::read(p).ok());
            read(Target::Filter) != read(Target::NginxFilter)
        })
        .map(|c| c.id)
        .collect();

    // Quality of the thumbnails against a full-decode Lanczos3 reference.
    println!("bench: fidelity");
    let mut quality: BTreeMap<(usize, Target), Fidelity> = BTreeMap::new();
    for &i in selected.iter().filter(|&&i| CASES[i].fidelity) {
        let case = &CASES[i];
        let outs: Vec<(Target, PathBuf)> = case
            .targets()
            .into_iter()
            .filter_map(|t| saved_output(&outputs, case, t).map(|p| (t, p)))
            .collect();
        for (t, v) in fidelity(&fidelity_tool, &bucket.join(case.key), &outs)? {
            quality.insert((i, t), v);
        }
    }

    let mut avif_ladder: Vec<LadderPoint> = Vec::new();
    if let Some(&av) = selected.iter().find(|&&i| CASES[i].id == AVIF_CASE) {
        let outs: Vec<(Target, PathBuf)> = ladder_outputs
            .iter()
            .map(|(_, p)| (Target::Filter, p.clone()))
            .collect();
        let measured = fidelity(&fidelity_tool, &bucket.join(CASES[av].key), &outs)?;
        for ((q, path), (_, f)) in ladder_outputs.iter().zip(measured) {
            let bytes = std::fs::metadata(path).map_err(|e| e.to_string())?.len() as usize;
            avif_ladder.push(LadderPoint {
                quality: *q,
                bytes,
                fidelity: f,
            });
        }
        if let (Some(s), Some(f)) = (
            results.get(&(av, Target::Filter)),
            quality.get(&(av, Target::Filter)),
        ) {
            avif_ladder.push(LadderPoint {
                quality: 50,
                bytes: s.output_bytes,
                fidelity: *f,
            });
        }
    }

    // Memory, each scenario in a fresh Envoy (unless --no-memory).
    let memory = if opts.memory {
        Some(measure_memory_scenarios(&tools, &bucket, &work)?)
    } else {
        None
    };

    let report = render_report(
        &opts,
        &machine,
        &results,
        &Fidelities {
            outputs: quality,
            avif_ladder,
        },
        memory.as_deref(),
        load_after.trim(),
        &NginxNotes {
            outputs_differ: differs,
            error_log_trouble: nginx_trouble,
        },
    );
    print!("{report}");
    std::fs::write(&opts.output, &report).map_err(|e| format!("{}: {e}", opts.output.display()))?;
    println!("bench: wrote {}", opts.output.display());
    Ok(())
}

/// Envoy's peak RSS growth over one request of each memory scenario.
fn measure_memory_scenarios(
    tools: &Tools,
    bucket: &Path,
    work: &Path,
) -> Result<Vec<MemoryReading>> {
    println!("bench: memory");
    let base = bucket.join("sunset.baseline.jpg");
    let body_mib = std::fs::metadata(&base).map_err(|e| e.to_string())?.len() as f64 / 1048576.0;
    let pixels = 4272.0 * 2848.0;
    let full_budget = 4.0 * pixels / 1048576.0 + 2.0 * body_mib + 16.0;
    let mut memory = Vec::new();
    for (title, key, command, budget, rule) in [
        (
            THUMB_MEMORY,
            "sunset.baseline.jpg",
            THUMB,
            Some(32.0),
            "≤ 32 MiB".to_string(),
        ),
        (
            "12 MP baseline JPEG, full-size pipeline (rotate 90 → JPEG)",
            "sunset.baseline.jpg",
            "image/rotate,a_90/quality,Q_85,c_any",
            Some(full_budget),
            format!("≤ 4 B × 12.2 Mpx + 2 × {body_mib:.1} MiB + 16 MiB = {full_budget:.0} MiB"),
        ),
        (
            "12 MP baseline JPEG, full-size pipeline (re-encode at Q 80)",
            "sunset.baseline.jpg",
            "image/quality,Q_80,c_any",
            Some(full_budget),
            format!("≤ {full_budget:.0} MiB (as above)"),
        ),
        (
            "12 MP progressive JPEG → 200 px thumbnail",
            "sunset.jpg",
            THUMB,
            None,
            "(no target)".to_string(),
        ),
        (
            "12 MP PNG → 200 px PNG thumbnail",
            "sunset.png",
            THUMB_PNG,
            None,
            "(no target)".to_string(),
        ),
    ] {
        let growth = measure_memory(tools, bucket, work, key, command)?;
        memory.push(MemoryReading {
            title: title.to_string(),
            growth_mib: growth,
            budget_mib: budget,
            budget_rule: rule,
        });
    }
    Ok(memory)
}

/// The output of `case` on `target` kept from the warm-up.
fn saved_output(outputs: &Path, case: &Case, target: Target) -> Option<PathBuf> {
    let prefix = format!("{}.{}.", case.id, target.name());
    std::fs::read_dir(outputs)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
}

fn reply_extension(body: &[u8]) -> &'static str {
    if body.starts_with(&[0xFF, 0xD8]) {
        "jpg"
    } else if body.starts_with(b"\x89PNG") {
        "png"
    } else if body.len() > 12 && &body[8..12] == b"WEBP" {
        "webp"
    } else {
        "bin"
    }
}

/// What the run saw of nginx + filter besides timings.
struct NginxNotes<'a> {
    /// Cases whose nginx-filter output is not byte for byte the filter's in Envoy.
    outputs_differ: Vec<&'a str>,
    /// Lines of nginx's error log that mean trouble (a trap, panic, crash).
    error_log_trouble: Vec<String>,
}

/// Rows of a targets table: what, what was measured, met (`None`: not
/// measured in this run).
#[derive(Default)]
struct TargetRows(Vec<(String, String, Option<bool>)>);

impl TargetRows {
    fn row(&mut self, what: impl Into<String>, measured: String, met: bool) {
        self.0.push((what.into(), measured, Some(met)));
    }

    fn unmeasured(&mut self, what: impl Into<String>, measured: String) {
        self.0.push((what.into(), measured, None));
    }

    fn render(&self, r: &mut String) {
        let _ = writeln!(r, "| target | measured | met |\n|---|---|---|");
        for (what, measured, met) in &self.0 {
            let met = match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            let _ = writeln!(r, "| {what} | {measured} | {met} |");
        }
        if self.0.is_empty() {
            let _ = writeln!(r, "| (none of these cases ran) | | |");
        }
    }
}

/// `q` with two decimals, or with as many (up to 5) as it takes to tell
/// it from `limit` when two would print the limit itself: a ratio a hair
/// over its target reads "1.001×", not a "1.00×" marked missed.
fn ratio_text(q: f64, limit: f64) -> String {
    (2..=5)
        .map(|decimals| format!("{q:.decimals$}"))
        .find(|text| text.parse::<f64>().ok() != Some(limit) || q == limit)
        .unwrap_or_else(|| format!("{q:.5}"))
}

/// `us / peer` when both were measured.
fn quotient(us: f64, peer: f64) -> Option<f64> {
    (us.is_finite() && peer.is_finite() && peer > 0.0).then(|| us / peer)
}

/// Title of the memory scenario issue 21's memory target is about.
const THUMB_MEMORY: &str = "12 MP baseline JPEG → 200 px thumbnail";

/// Growth of the thumbnail scenario in the last full run before issue 21
/// (BENCHMARKS.md of that run), which issue 21's memory target keeps.
const THUMB_MEMORY_BEFORE_MIB: f64 = 3.0;

fn render_report(
    opts: &BenchOptions,
    machine: &[(String, String)],
    results: &BTreeMap<(usize, Target), Samples>,
    fidelity: &Fidelities,
    memory: Option<&[MemoryReading]>,
    load_after: &str,
    nginx: &NginxNotes,
) -> String {
    let (fidelity, avif_ladder) = (&fidelity.outputs, &fidelity.avif_ladder[..]);
    let mut r = String::new();
    let get = |i: usize, t: Target| results.get(&(i, t));
    let med = |i: usize, t: Target| get(i, t).map_or(f64::NAN, Samples::median);
    // The cases this run measured (`--cases` may leave some out), in order.
    let ran: Vec<usize> = (0..CASES.len())
        .filter(|&i| results.keys().any(|&(j, _)| j == i))
        .collect();
    // A case's index, if this run measured it.
    let idx = |id: &str| {
        CASES
            .iter()
            .position(|c| c.id == id)
            .filter(|i| ran.contains(i))
    };
    let slow: Vec<&str> = CASES.iter().filter(|c| c.slow).map(|c| c.title).collect();
    let _ = writeln!(r, "# Benchmarks\n");
    let _ = writeln!(
        r,
        "Written by `cargo xtask bench` (options: {} rounds after {} warm-up requests per pair, \
         the no-command case {} samples per pair in each round; throughput: {} rounds × 2 clients × {} requests; \
         {}, which takes seconds per request: 1 warm-up request per pair and no throughput rounds). \
         Every number below comes from **one \
         interleaved run** on the machine described; medians move between runs on a shared \
         machine, so read the ratios.\n",
        opts.rounds,
        opts.warmup,
        CASES.iter().map(|c| c.samples_per_round).max().unwrap_or(1),
        opts.throughput_rounds,
        opts.throughput_requests,
        slow.join(", ")
    );
    if !opts.cases.is_empty() {
        let _ = writeln!(
            r,
            "This run measured only the cases whose id contains {} (`--cases`): {} of {}; the \
             rows and targets of the others are absent.\n",
            opts.cases
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            ran.len(),
            CASES.len()
        );
    }
    let _ = writeln!(r, "## Machine\n\n| | |\n|---|---|");
    for (k, v) in machine {
        let _ = writeln!(r, "| {k} | {v} |");
    }
    let _ = writeln!(r, "| load average at end | {load_after} |\n");
    let _ = writeln!(
        r,
        "Targets: **filter** = Envoy + the filter as shipped (jpeg-decoder's and \
         fast_image_resize's simd128 paths); **filter-exact** = the same Envoy, a listener \
         with the `bit-identical` build (portable IDCT, scalar resize: the same bytes as \
         native `imgproc`); **envoy-plain** = the same \
         Envoy, a listener without the filter; **nginx-filter** = nginx + the filter as \
         shipped (the same `.wasm` as **filter**) in Kong's ngx_wasm_module (wasmtime); \
         **nginx-plain** = the same nginx, a location without the filter; **nginx** = the same \
         nginx, locations with `image_filter` (libgd); **sharp** = node + sharp (libvips) HTTP \
         server. All fetch the original from the same files through s3s-fs on loopback \
         (at loopback speed, except in the paced cases below); one new \
         connection per request, timed from connect to last byte. JPEG/WebP output quality 85 \
         everywhere.\n"
    );
    let _ = writeln!(
        r,
        "Paced cases (titles ending \"storage at {PACED_RATE_MB} MB/s\", ids ending `-paced`): \
         the same requests as their loopback twins for copies of the same originals under \
         `paced/` in the bucket, whose GET bodies the storage server itself (`tools/storage`, \
         `--paced-rate-mb {PACED_RATE_MB}`) sends at {PACED_RATE_MB} MB/s (10^6 bytes/s; \
         pieces of at most 64 KiB, byte N no earlier than N / rate after the body starts), \
         about what a same-region object store delivers. It is a floor: the body of a paced \
         GET takes at least size / rate (the 12 MP baseline's 1.19 MB: 14.8 ms), after \
         s3s-fs's own time to the first byte. Unpaced, s3s-fs is not much faster on a small \
         machine: it hashes the file for its ETag before the first byte and reads it in 4 KiB \
         pieces (the no-command rows show what the 1.19 MB original costs end to end), so a \
         paced case may differ from its loopback twin by less than the delivery time. The pacing is in both s3s-fs \
         servers (the filters' signed one and the peers' one), so every target, the filter in \
         Envoy and nginx and every peer alike, waits for the same delivery; each target's time \
         there includes whatever of its work it overlaps with the download. Issue 5's targets \
         are about the loopback cases; the paced ones have issue 21's.\n"
    );

    let _ = writeln!(
        r,
        "How the peers are set up: Envoy runs `envoy/envoy.yaml` (`held` mode: the filter \
         processes the proxied response) with two more listeners. nginx + filter runs \
         `nginx/nginx.conf` as users copy it, rendered by the test stack (ports, paths, \
         2 workers), in `local_reply` mode: the filter pauses the request, reads the original \
         itself through ngx_wasm_module's Wasm socket, processes it and answers with a local \
         reply; a request without a command is not paused and goes through `proxy_pass`. \
         Each filter (Envoy, nginx) signs its reads for an s3s-fs of its own that checks \
         SigV4; plain Envoy, plain nginx, image_filter and sharp read one s3s-fs without keys \
         over the same files. The plain and image_filter locations are added by the bench to \
         the rendered config's server, next to the filter's `location /`, in the same nginx \
         process (`load_module` of `ngx_http_image_filter_module.so` after ngx_wasm_module's); \
         the plain location proxies as the filter's location does (HTTP/1.1 keep-alive, \
         `proxy_buffering off`). nginx `image_filter resize 200 200` (or `rotate 90` + \
         `crop 1000 1000`), `image_filter_jpeg_quality 85`, `image_filter_webp_quality 85`, \
         `image_filter_buffer 32M`, keep-alive to the storage; it cannot convert \
         formats. sharp: `resize(w, h, {{fit: 'inside', withoutEnlargement: true}})`, \
         `jpeg({{quality: 85}})` / `webp({{quality: 85}})` / `png()` / \
         `avif({{quality: 50, effort: 4}})`, otherwise its defaults \
         (shrink-on-load, libvips threads as reported above). The filter runs the BOS commands \
         in `xtask/src/bench.rs` with `quality,Q_85,c_any`; it keeps EXIF/ICC in its output \
         where the peers strip them. \"req/s, 1 client\" is 1000 / the mean latency of the \
         interleaved samples; \"req/s, 2 clients\" is two clients sending back to back, each \
         request on a new connection that Envoy hands to one of its 2 workers (exact balance) \
         and nginx to whichever of its 2 workers accepts it first (\"–\" for the cases without \
         throughput rounds).\n"
    );
    let _ = writeln!(r, "## Latency (ms) and throughput (requests/s)\n");
    let _ = writeln!(
        r,
        "\"vs nginx\" is against `image_filter`, and for the no-command case against \
         **nginx-plain**; \"vs Envoy filter\" is nginx-filter's median over filter's.\n"
    );
    let _ = writeln!(
        r,
        "| case | target | median | p90 | req/s, 1 client | req/s, 2 clients | output bytes | median vs sharp | median vs nginx | median vs Envoy filter |"
    );
    let _ = writeln!(r, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &i in &ran {
        let case = &CASES[i];
        for t in case.targets() {
            let Some(s) = get(i, t) else { continue };
            let vs_sharp = if t == Target::Sharp {
                String::new()
            } else {
                ratio(s.median(), med(i, Target::Sharp))
            };
            let vs_nginx = match case.nginx_peer() {
                Some(peer) if peer != t => ratio(s.median(), med(i, peer)),
                _ => String::new(),
            };
            let vs_envoy = if t == Target::NginxFilter {
                ratio(s.median(), med(i, Target::Filter))
            } else {
                String::new()
            };
            let _ = writeln!(
                r,
                "| {} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {vs_sharp} | {vs_nginx} | {vs_envoy} |",
                case.title,
                t.name(),
                s.median(),
                s.p90(),
                s.throughput1(),
                s.throughput2.map_or("–".into(), |v| format!("{v:.1}")),
                s.output_bytes,
            );
        }
        if case.nginx_peer().is_none() {
            let _ = writeln!(
                r,
                "| {} | nginx | – | – | – | – | – | | (image_filter cannot convert formats) | |",
                case.title
            );
        }
    }

    let f = |i| med(i, Target::Filter);
    let sharp = |i| med(i, Target::Sharp);
    let tb = idx("thumb-12mp-baseline");
    let tp = idx("thumb-12mp-progressive");
    let av = idx("avif1080-12mp-baseline");
    let pt = idx("passthrough");

    let _ = writeln!(r, "\n## Targets of issue 5 (this run)\n");
    let mut rows = TargetRows::default();
    if let Some(tb) = tb {
        if let Some(q) = quotient(f(tb), med(tb, Target::Nginx)) {
            rows.row(
                "12 MP baseline → 200 px: ≤ 0.2× nginx image_filter",
                format!("{q:.2}×"),
                q <= 0.2,
            );
        }
        if let Some(q) = quotient(f(tb), sharp(tb)) {
            rows.row(
                "12 MP baseline → 200 px: ≤ 1.0× sharp",
                format!("{q:.2}×"),
                q <= 1.0,
            );
        }
    }
    if let Some(q) = tp.and_then(|tp| quotient(f(tp), sharp(tp))) {
        rows.row(
            "12 MP progressive → 200 px: ≤ 1.2× sharp",
            format!("{q:.2}×"),
            q <= 1.2,
        );
    }
    for &i in &ran {
        let case = &CASES[i];
        if Some(i) == tb || Some(i) == tp || Some(i) == av || case.command.is_none() || case.paced()
        {
            continue;
        }
        if let Some(q) = quotient(f(i), sharp(i)) {
            rows.row(
                format!("{}: ≤ 1.5× sharp", case.title),
                format!("{q:.2}×"),
                q <= 1.5,
            );
        }
        if case.nginx.is_some() {
            if let Some(q) = quotient(f(i), med(i, Target::Nginx)) {
                rows.row(
                    format!("{}: faster than nginx", case.title),
                    format!("{q:.2}×"),
                    q < 1.0,
                );
            }
        }
    }
    for i in [tb, tp].into_iter().flatten() {
        let ours = get(i, Target::Filter).and_then(|s| s.throughput2);
        let peer = get(i, Target::Sharp).and_then(|s| s.throughput2);
        if let (Some(a), Some(b)) = (ours, peer) {
            rows.row(
                format!("{}: throughput at 2 clients ≥ sharp", CASES[i].title),
                format!("{a:.1} vs {b:.1} req/s"),
                a >= b,
            );
        }
    }
    if let Some(q) = pt.and_then(|pt| quotient(f(pt), med(pt, Target::EnvoyPlain))) {
        rows.row(
            "no command: median within 5 % of plain Envoy",
            format!("{q:.3}×"),
            q <= 1.05,
        );
    }
    match memory {
        Some(memory) => {
            for m in memory {
                if let Some(b) = m.budget_mib {
                    rows.row(
                        format!("memory, {}: {}", m.title, m.budget_rule),
                        format!("{:.1} MiB", m.growth_mib),
                        m.growth_mib <= b,
                    );
                }
            }
        }
        None => rows.unmeasured("memory", "not measured in this run (`--no-memory`)".into()),
    }
    rows.render(&mut r);

    let _ = writeln!(r, "\n## Targets of issue 18: nginx + filter (this run)\n");
    let mut rows = TargetRows::default();
    let n = |i| med(i, Target::NginxFilter);
    if let Some(tb) = tb {
        if let Some(q) = quotient(n(tb), med(tb, Target::Nginx)) {
            rows.row(
                "nginx + filter, 12 MP baseline → 200 px: ≤ 0.2× nginx image_filter",
                format!("{:.1} / {:.1} ms = {q:.2}×", n(tb), med(tb, Target::Nginx)),
                q <= 0.2,
            );
        }
    }
    for &i in &ran {
        if let Some(q) = quotient(n(i), f(i)) {
            rows.row(
                format!(
                    "nginx + filter within 1.25× of Envoy + filter: {}",
                    CASES[i].title
                ),
                format!("{:.1} / {:.1} ms = {q:.2}×", n(i), f(i)),
                q <= 1.25,
            );
        }
    }
    if let Some(pt) = pt {
        if let Some(q) = quotient(n(pt), med(pt, Target::NginxPlain)) {
            rows.row(
                "nginx + filter, no command: median within 5 % of plain nginx",
                format!(
                    "{:.1} / {:.1} ms = {q:.3}×",
                    n(pt),
                    med(pt, Target::NginxPlain)
                ),
                q <= 1.05,
            );
        }
    }
    rows.render(&mut r);
    let _ = writeln!(
        r,
        "\nThe same `.wasm` in both hosts: nginx-filter's outputs are byte for byte Envoy \
         filter's {}. nginx's error log {}.",
        if nginx.outputs_differ.is_empty() {
            "in every case".to_string()
        } else {
            format!("except in {}", nginx.outputs_differ.join(", "))
        },
        if nginx.error_log_trouble.is_empty() {
            "showed no trap, panic, crash or alert".to_string()
        } else {
            format!(
                "had {} line(s) of trouble, the first: `{}`",
                nginx.error_log_trouble.len(),
                nginx.error_log_trouble[0].trim()
            )
        }
    );

    let _ = writeln!(r, "\n## Targets of issue 21 (this run)\n");
    let _ = writeln!(
        r,
        "Tighter than issue 5's, which stay: the filter in Envoy against sharp, from this run's \
         medians (and throughput), peers reading the same storage; the paced rows are the cases \
         whose originals arrive at {PACED_RATE_MB} MB/s.\n"
    );
    let mut rows = TargetRows::default();
    let against_sharp = |rows: &mut TargetRows, id: &str, limit: f64, note: &str| {
        let Some(i) = idx(id) else { return };
        if let Some(q) = quotient(f(i), sharp(i)) {
            rows.row(
                format!("{}: ≤ {limit:?}× sharp{note}", CASES[i].title),
                format!(
                    "{:.1} / {:.1} ms = {}×",
                    f(i),
                    sharp(i),
                    ratio_text(q, limit)
                ),
                q <= limit,
            );
        }
    };
    against_sharp(&mut rows, "thumb-12mp-baseline", 0.75, "");
    against_sharp(&mut rows, "thumb-16mp-baseline", 0.75, "");
    against_sharp(&mut rows, "thumb-12mp-baseline-paced", 0.6, "");
    against_sharp(&mut rows, "thumb-16mp-baseline-paced", 0.6, "");
    against_sharp(
        &mut rows,
        "webp1080-12mp-baseline",
        1.0,
        " (both 1080 px, quality 85)",
    );
    against_sharp(&mut rows, "thumb-png", 0.8, "");
    if let Some(tb) = tb {
        let ours = get(tb, Target::Filter).and_then(|s| s.throughput2);
        let peer = get(tb, Target::Sharp).and_then(|s| s.throughput2);
        if let (Some(a), Some(b)) = (ours, peer) {
            let q = a / b;
            rows.row(
                format!("{}: throughput at 2 clients ≥ 1.3× sharp", CASES[tb].title),
                format!("{a:.1} vs {b:.1} req/s = {q:.2}×"),
                q >= 1.3,
            );
        }
    }
    let what = format!(
        "memory, {THUMB_MEMORY}: growth ≤ {THUMB_MEMORY_BEFORE_MIB:.1} MiB (the last full run \
         before issue 21), compared at 0.1 MiB"
    );
    match memory.and_then(|m| m.iter().find(|m| m.title == THUMB_MEMORY)) {
        Some(m) => rows.row(
            what,
            format!("{:.1} MiB", m.growth_mib),
            (m.growth_mib * 10.0).round() <= (THUMB_MEMORY_BEFORE_MIB * 10.0).round(),
        ),
        None => rows.unmeasured(what, "not measured in this run (`--no-memory`)".into()),
    }
    // AVIF at web sizes against sharp's AVIF (quality 50, effort 4); the PSNR
    // of both is in the quality table below.
    if let Some(av) = av {
        if let Some(q) = quotient(f(av), sharp(av)) {
            rows.row(
                format!("{}: ≤ 1.0× sharp", CASES[av].title),
                format!("{:.1} / {:.1} ms = {q:.2}×", f(av), sharp(av)),
                q <= 1.0,
            );
        }
        // Bytes count only at equal or better quality: the same quality
        // setting gives different quality from different encoders. Both
        // metrics must agree: PSNR alone rewards an encoder tuned for it.
        let bytes = |t| get(av, t).map(|s| s.output_bytes);
        let quality = |t| fidelity.get(&(av, t)).copied();
        let what = format!(
            "{}: bytes ≤ sharp's at equal or better quality (SSIMULACRA2 and PSNR)",
            CASES[av].title
        );
        let at_sharps = quality(Target::Sharp).and_then(|qb| {
            let by_ssimulacra2 = bytes_at(avif_ladder, |f| f.ssimulacra2, qb.ssimulacra2)?;
            let by_psnr = bytes_at(avif_ladder, |f| f.psnr, qb.psnr)?;
            Some((qb, by_ssimulacra2, by_psnr))
        });
        if let (Some(b), Some((qb, by_ssimulacra2, by_psnr))) = (bytes(Target::Sharp), at_sharps) {
            let b = b as f64;
            rows.row(
                what,
                format!(
                    "at sharp's SSIMULACRA2 {:.1}: {:.0} B ({:.2}×); at its PSNR {:.1} dB: \
                     {:.0} B ({:.2}×); sharp {b:.0} B (filter interpolated over its Q {})",
                    qb.ssimulacra2,
                    by_ssimulacra2,
                    by_ssimulacra2 / b,
                    qb.psnr,
                    by_psnr,
                    by_psnr / b,
                    ladder_qualities(avif_ladder)
                ),
                by_ssimulacra2 <= b && by_psnr <= b,
            );
        } else if let (Some(a), Some(b)) = (bytes(Target::Filter), bytes(Target::Sharp)) {
            match (quality(Target::Filter), quality(Target::Sharp)) {
                (Some(qa), Some(qb)) => rows.row(
                    what,
                    format!(
                        "{a} B at {:.1} / {:.1} dB vs {b} B at {:.1} / {:.1} dB",
                        qa.ssimulacra2, qa.psnr, qb.ssimulacra2, qb.psnr
                    ),
                    a <= b && at_least_as_good(qa, qb),
                ),
                _ => rows.unmeasured(what, format!("{a} vs {b} bytes, quality not measured")),
            }
        }
    }
    rows.render(&mut r);
    if !avif_ladder.is_empty() {
        let _ = writeln!(
            r,
            "\nThe filter's AVIF at other qualities (one request each after the timed rounds; \
             the bytes target above interpolates between these):\n\n\
             | Q | bytes | SSIMULACRA2 | PSNR |\n|---:|---:|---:|---:|"
        );
        let mut ladder = avif_ladder.to_vec();
        ladder.sort_by_key(|p| p.quality);
        for p in ladder {
            let _ = writeln!(
                r,
                "| {} | {} | {:.1} | {:.1} dB |",
                p.quality, p.bytes, p.fidelity.ssimulacra2, p.fidelity.psnr
            );
        }
    }

    let _ = writeln!(
        r,
        "\n## What bit identity costs (filter-exact vs filter, medians)\n"
    );
    let _ = writeln!(
        r,
        "| case | filter (SIMD) | filter-exact | filter-exact / filter |\n|---|---:|---:|---:|"
    );
    for &i in &ran {
        let _ = writeln!(
            r,
            "| {} | {:.1} | {:.1} | {} |",
            CASES[i].title,
            f(i),
            med(i, Target::FilterExact),
            ratio(med(i, Target::FilterExact), f(i))
        );
    }

    let _ = writeln!(r, "\n## Memory: Envoy peak RSS growth over one request\n");
    match memory {
        None => {
            let _ = writeln!(r, "Not measured in this run (`--no-memory`).");
        }
        Some(memory) => {
            let _ = writeln!(
                r,
                "Envoy only (nginx + filter's memory is not measured here; `cargo xtask soak --host \
                 nginx` watches its workers' RSS). A fresh Envoy (`--concurrency 1`) per scenario, \
                 originals at loopback speed; after one pass-through request its \
                 VmRSS is read, the peak is reset (`/proc/PID/clear_refs` = 5), one request is \
                 processed, and VmHWM minus that RSS is reported. Wasm linear memory never shrinks, so \
                 this is also what the worker keeps.\n"
            );
            let _ = writeln!(r, "| scenario | growth | budget |\n|---|---:|---|");
            for m in memory {
                let _ = writeln!(
                    r,
                    "| {} | {:.1} MiB | {} |",
                    m.title, m.growth_mib, m.budget_rule
                );
            }
        }
    }

    let _ = writeln!(
        r,
        "\n## Quality against a full-decode Lanczos3 reference: SSIMULACRA2 / PSNR\n"
    );
    let _ = writeln!(
        r,
        "`examples/fidelity`: the source decoded at full scale, resampled with Lanczos3 straight \
         to each output's size, then compared with each output in two ways. **SSIMULACRA2** \
         (Cloudinary's perceptual metric, the `ssimulacra2` crate): 100 for identical pixels, \
         90 and up visually lossless, 70 high quality, 50 medium. **PSNR** in 8-bit RGB: \
         ≥ 40 dB is visually identical, 30–40 dB is good for thumbnails. Higher is closer for \
         both. The peers' outputs are measured the same way; their resamplers and encoders \
         differ, so they are not expected to reach ours.\n"
    );
    let targets = [
        Target::Filter,
        Target::FilterExact,
        Target::NginxFilter,
        Target::Nginx,
        Target::Sharp,
    ];
    let _ = writeln!(
        r,
        "| case | filter | filter-exact | nginx-filter | nginx | sharp |\n|---|---:|---:|---:|---:|---:|"
    );
    for &i in ran.iter().filter(|&&i| CASES[i].fidelity) {
        let cells: Vec<String> = targets
            .iter()
            .map(|t| {
                fidelity.get(&(i, *t)).map_or("–".into(), |v| {
                    format!("{:.1} / {:.1} dB", v.ssimulacra2, v.psnr)
                })
            })
            .collect();
        let _ = writeln!(r, "| {} | {} |", CASES[i].title, cells.join(" | "));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ratios_at_their_limit_show_enough_decimals_to_read_the_verdict() {
        assert_eq!(ratio_text(1.0004, 1.0), "1.0004");
        assert_eq!(ratio_text(1.004, 1.0), "1.004");
        assert_eq!(ratio_text(0.9996, 1.0), "0.9996");
        assert_eq!(ratio_text(1.0, 1.0), "1.00");
        assert_eq!(ratio_text(1.11, 1.0), "1.11");
        assert_eq!(ratio_text(0.568, 0.75), "0.57");
    }

    #[test]
    fn bytes_at_a_quality_interpolate_between_the_bracketing_rungs() {
        let point = |quality, bytes, ssimulacra2, psnr| LadderPoint {
            quality,
            bytes,
            fidelity: Fidelity { psnr, ssimulacra2 },
        };
        let ladder = [
            point(60, 80_000, 72.0, 39.0),
            point(40, 40_000, 60.0, 36.0),
            point(50, 60_000, 68.0, 38.0),
        ];
        let ss = |f: &Fidelity| f.ssimulacra2;
        assert_eq!(bytes_at(&ladder, ss, 70.0), Some(70_000.0));
        assert_eq!(bytes_at(&ladder, ss, 64.0), Some(50_000.0));
        assert_eq!(bytes_at(&ladder, ss, 60.0), Some(40_000.0));
        assert_eq!(bytes_at(&ladder, |f| f.psnr, 38.5), Some(70_000.0));
        assert_eq!(bytes_at(&ladder, ss, 72.5), None, "above the ladder");
        assert_eq!(bytes_at(&ladder, ss, 59.0), None, "below the ladder");
        assert_eq!(bytes_at(&ladder[..1], ss, 72.0), None, "one rung");
        assert_eq!(ladder_qualities(&ladder), "40, 50, 60");
    }

    #[test]
    fn avif_bytes_target_reads_the_ladder_at_sharps_quality() {
        let av = CASES.iter().position(|c| c.id == AVIF_CASE).unwrap();
        let mut results = BTreeMap::new();
        for t in CASES[av].targets() {
            results.insert(
                (av, t),
                Samples {
                    latencies_ms: vec![1000.0],
                    throughput2: None,
                    output_bytes: 60_000,
                },
            );
        }
        let sharp = Fidelity {
            psnr: 38.5,
            ssimulacra2: 70.0,
        };
        let outputs = BTreeMap::from([((av, Target::Sharp), sharp)]);
        let point = |quality, bytes, ssimulacra2, psnr| LadderPoint {
            quality,
            bytes,
            fidelity: Fidelity { psnr, ssimulacra2 },
        };
        let ladder = [point(50, 60_000, 68.0, 38.0), point(60, 80_000, 72.0, 39.0)];
        let opts = BenchOptions::parse(&[]).unwrap();
        let nginx = NginxNotes {
            outputs_differ: vec![],
            error_log_trouble: vec![],
        };
        let fidelity = Fidelities {
            outputs,
            avif_ladder: ladder.to_vec(),
        };
        let r = render_report(&opts, &[], &results, &fidelity, None, "", &nginx);
        assert!(
            r.contains(
                "at sharp's SSIMULACRA2 70.0: 70000 B (1.17×); at its PSNR 38.5 dB: 70000 B \
                 (1.17×); sharp 60000 B (filter interpolated over its Q 50, 60) | **no** |"
            ),
            "{r}"
        );
        assert!(r.contains("| 60 | 80000 | 72.0 | 39.0 dB |"), "{r}");
    }

    #[test]
    fn fidelity_lines_give_both_metrics() {
        let f = parse_fidelity_line("out/a.avif\t1620x1080\t38.25\t70.15").unwrap();
        assert_eq!(
            f,
            Fidelity {
                psnr: 38.25,
                ssimulacra2: 70.15
            }
        );
        let same = parse_fidelity_line("out/b.png\t200x150\tinf\t100.00").unwrap();
        assert!(same.psnr.is_infinite());
        // The old three-field form has no SSIMULACRA2: not a reading.
        assert_eq!(parse_fidelity_line("out/a.avif\t1620x1080\t38.25"), None);
    }

    #[test]
    fn equal_quality_needs_both_metrics() {
        let sharp = Fidelity {
            psnr: 38.25,
            ssimulacra2: 70.15,
        };
        let psnr_only = Fidelity {
            psnr: 39.4,
            ssimulacra2: 62.4,
        };
        let both = Fidelity {
            psnr: 38.22,
            ssimulacra2: 70.8,
        };
        assert!(!at_least_as_good(psnr_only, sharp));
        assert!(at_least_as_good(both, sharp));
        assert!(!at_least_as_good(sharp, both));
    }

    #[test]
    fn cases_option_selects_by_substring() {
        let all = BenchOptions::parse(&[]).unwrap();
        assert_eq!(all.selected().len(), CASES.len());
        assert!(all.memory);
        let o = BenchOptions::parse(&args(&["--cases", "paced", "--no-memory"])).unwrap();
        assert!(!o.memory);
        let ids: Vec<&str> = o.selected().iter().map(|&i| CASES[i].id).collect();
        assert_eq!(
            ids,
            ["thumb-12mp-baseline-paced", "thumb-16mp-baseline-paced"]
        );
        let o = BenchOptions::parse(&args(&["--cases", "thumb-png,passthrough"])).unwrap();
        assert_eq!(o.selected().len(), 2);
        assert!(BenchOptions::parse(&args(&["--cases", "nothing-like-this"])).is_err());
        assert!(BenchOptions::parse(&args(&["--cases", ","])).is_err());
        assert!(BenchOptions::parse(&args(&["--cases"])).is_err());
    }

    #[test]
    fn paced_cases_are_twins_of_loopback_cases() {
        let paced: Vec<&Case> = CASES.iter().filter(|c| c.paced()).collect();
        assert_eq!(paced.len(), 2);
        for p in paced {
            let twin = CASES
                .iter()
                .find(|c| format!("{}-paced", c.id) == p.id)
                .expect("a loopback twin");
            assert_eq!(p.key, format!("paced/{}", twin.key));
            assert_eq!(
                p.title,
                format!("{}, storage at {PACED_RATE_MB} MB/s", twin.title)
            );
            assert_eq!(
                (p.command, p.nginx, p.sharp, p.fidelity, p.slow),
                (
                    twin.command,
                    twin.nginx,
                    twin.sharp,
                    twin.fidelity,
                    twin.slow
                )
            );
            assert_eq!(p.targets(), twin.targets());
        }
        let ids: Vec<&str> = CASES.iter().map(|c| c.id).collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(!ids[..i].contains(id), "duplicate case id {id}");
        }
    }

    fn report_of(selected: &[usize], memory: Option<&[MemoryReading]>) -> String {
        let mut results = BTreeMap::new();
        for &i in selected {
            for (k, t) in CASES[i].targets().into_iter().enumerate() {
                let base = if t == Target::Sharp {
                    40.0
                } else {
                    20.0 + k as f64
                };
                results.insert(
                    (i, t),
                    Samples {
                        latencies_ms: vec![base, base + 1.0, base + 2.0],
                        throughput2: (!CASES[i].slow).then_some(50.0),
                        output_bytes: 1000,
                    },
                );
            }
        }
        let opts = BenchOptions::parse(&[]).unwrap();
        render_report(
            &opts,
            &[],
            &results,
            &Fidelities {
                outputs: BTreeMap::new(),
                avif_ladder: vec![],
            },
            memory,
            "0",
            &NginxNotes {
                outputs_differ: Vec::new(),
                error_log_trouble: Vec::new(),
            },
        )
    }

    #[test]
    fn report_skips_cases_that_did_not_run() {
        let o = BenchOptions::parse(&args(&["--cases", "paced"])).unwrap();
        let r = report_of(&o.selected(), None);
        assert!(!r.contains("NaN"), "{r}");
        assert!(r.contains("Not measured in this run (`--no-memory`)."));
        assert!(!r.contains("progressive JPEG → 200 px JPEG |"));
        // Issue 21's paced rows are there, the loopback ones are not.
        assert!(r.contains(
            "| 12 MP baseline JPEG → 200 px JPEG, storage at 80 MB/s: ≤ 0.6× sharp | 21.0 / 41.0 ms = 0.51× | yes |"
        ));
        assert!(!r.contains("12 MP baseline JPEG → 200 px JPEG: ≤ 0.75× sharp"));
        // The paced cases have no issue 5 rows.
        assert!(!r.contains("storage at 80 MB/s: ≤ 1.5× sharp"));
    }

    #[test]
    fn report_of_every_case_has_every_target_row() {
        let all: Vec<usize> = (0..CASES.len()).collect();
        let memory = [MemoryReading {
            title: THUMB_MEMORY.to_string(),
            growth_mib: 3.04,
            budget_mib: Some(32.0),
            budget_rule: "≤ 32 MiB".into(),
        }];
        let r = report_of(&all, Some(&memory));
        assert!(!r.contains("NaN"), "{r}");
        let issue21 = &r[r.find("## Targets of issue 21").unwrap()..r.find("## What bit").unwrap()];
        for what in [
            "12 MP baseline JPEG → 200 px JPEG: ≤ 0.75× sharp",
            "16 MP baseline JPEG → 200 px JPEG: ≤ 0.75× sharp",
            "12 MP baseline JPEG → 200 px JPEG, storage at 80 MB/s: ≤ 0.6× sharp",
            "16 MP baseline JPEG → 200 px JPEG, storage at 80 MB/s: ≤ 0.6× sharp",
            "12 MP baseline JPEG → 1080 px WebP: ≤ 1.0× sharp (both 1080 px, quality 85)",
            "12 MP PNG → 200 px PNG: ≤ 0.8× sharp",
            "throughput at 2 clients ≥ 1.3× sharp | 50.0 vs 50.0 req/s = 1.00× | **no** |",
            "growth ≤ 3.0 MiB (the last full run before issue 21), compared at 0.1 MiB | 3.0 MiB | yes |",
            "AVIF within 1920×1080, quality 50: ≤ 1.0× sharp",
            "AVIF within 1920×1080, quality 50: bytes ≤ sharp's at equal or better quality (SSIMULACRA2 and PSNR) | 1000 vs 1000 bytes, quality not measured |",
        ] {
            assert!(issue21.contains(what), "no '{what}' in\n{issue21}");
        }
        // The AVIF case has no throughput: "–" in its 2-client column.
        assert!(
            r.contains("quality 50 | filter | 21.0 | 22.0 | 47.6 | – |"),
            "{r}"
        );
        // Its rows moved out of issue 5's section.
        let issue5 =
            &r[r.find("## Targets of issue 5").unwrap()..r.find("## Targets of issue 18").unwrap()];
        assert!(!issue5.contains("AVIF"));
    }
}
