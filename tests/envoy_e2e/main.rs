//! End-to-end: the built filter inside a real proxy, in front of a real
//! S3-compatible server (s3s-fs), driven by curl over HTTP/1.1 and HTTP/2.
//!
//! Run by `cargo xtask test`, which builds the `.wasm`, installs Envoy and
//! s3s-fs and builds nginx's ngx_wasm_module, then passes their paths in
//! `IPF_WASM`, `IPF_ENVOY`, `IPF_S3S_FS` (`IPF_NGINX`, `IPF_NGINX_MODULE`).
//! Without them every case is listed as ignored (plain `cargo test`).
//!
//! `IPF_HOST` picks the proxy: `envoy` (default) or `nginx`; xtask runs the
//! suite once for each. Two stacks run side by side. On Envoy: one in the
//! default `held` header mode and one in `early` mode, each with its own ports
//! and `--base-id`. On nginx, which cannot hold response headers, the first
//! ("held") stack runs `nginx/nginx.conf` as shipped, in `local_reply` mode
//! (exact headers from a local reply), and the second in `early` mode. Cases
//! that need what only Envoy has (its admin interface, its config checks) are
//! listed as ignored on nginx; cases where nginx behaves differently by design
//! assert nginx's behaviour (`e.host`).

mod auth;
mod buffering;
mod faults;
mod persistence;
mod worst_case;

use base64::Engine;
use image_process_filter::codec::jpeg::estimate_quality;
use ipf_test_support::stack::{NginxTools, ProxyHost, Stack, StackOptions, Tools};
use ipf_test_support::{corpus, fault_upstream, stack};
use libtest_mimic::{Arguments, Failed, Trial};
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Check = Result<(), Failed>;

/// The objects of the test bucket.
const PHOTO: &str = "photo.jpg"; // 5312x2988 progressive JPEG
const PHOTO_SIZE: (u32, u32) = (5312, 2988);

struct Env {
    /// The proxy every case runs through.
    host: ProxyHost,
    held: Mutex<Stack>,
    early: Mutex<Stack>,
    held_port: u16,
    early_port: u16,
    /// HTTP/2 ports: the same as above on Envoy, ports of their own on nginx.
    held_h2_port: u16,
    early_h2_port: u16,
    storage_port: u16,
    storage_log: PathBuf,
    bucket: PathBuf,
    scratch: PathBuf,
    /// A Python with the signing SDKs (`IPF_PYTHON`).
    python: Option<PathBuf>,
    /// The misbehaving storage behind `/faults/` (see `envoy_e2e/faults.rs`).
    faults: fault_upstream::FaultUpstream,
}

/// One HTTP response as curl saw it.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Proto {
    H1,
    H2,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The status and headers (lowercase names) of one response head: the
/// status line and the header lines, without the blank line.
fn parse_head(block: &str) -> Result<(u16, Vec<(String, String)>), Failed> {
    let mut lines = block.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in '{status_line}'"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok((status, headers))
}

impl Env {
    fn held_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.held_port)
    }

    fn early_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.early_port)
    }

    fn storage_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.storage_port)
    }

    /// A GET straight to the (private) storage, signed by curl's own SigV4.
    fn curl_storage(&self, path: &str) -> Result<Response, Failed> {
        let user = format!("{}:{}", stack::DEMO_ACCESS_KEY, stack::DEMO_SECRET_KEY);
        self.curl(
            Proto::H1,
            &self.storage_url(path),
            &[
                "--aws-sigv4",
                "aws:amz:us-east-1:s3",
                "--user",
                &user,
                // curl 7.88 signs it but does not add it; S3 servers require it.
                "-H",
                "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ],
        )
    }

    /// `url` on the port that serves `proto` (nginx serves HTTP/2 without TLS
    /// on a port of its own).
    fn url_for(&self, proto: Proto, url: &str) -> String {
        if proto == Proto::H1 {
            return url.to_string();
        }
        let mut url = url.to_string();
        for (h1, h2) in [
            (self.held_port, self.held_h2_port),
            (self.early_port, self.early_h2_port),
        ] {
            url = url.replace(&format!("127.0.0.1:{h1}/"), &format!("127.0.0.1:{h2}/"));
        }
        url
    }

    fn is_nginx(&self) -> bool {
        self.host == ProxyHost::Nginx
    }

    /// Whether the filter's metrics can be read from outside: Envoy's admin
    /// interface has them; ngx_wasm_module 0.6 keeps them in shared memory
    /// with no endpoint, so on nginx the cases check behaviour only.
    fn metrics_readable(&self) -> bool {
        self.host == ProxyHost::Envoy
    }

    /// Runs curl and parses what it received.
    fn curl(&self, proto: Proto, url: &str, extra: &[&str]) -> Result<Response, Failed> {
        let url = &self.url_for(proto, url);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let body_file = self.scratch.join(format!("body-{n}"));
        let head_file = self.scratch.join(format!("head-{n}"));
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-S", "--max-time", "60", "-o"])
            .arg(&body_file)
            .arg("-D")
            .arg(&head_file)
            .arg(match proto {
                Proto::H1 => "--http1.1",
                Proto::H2 => "--http2-prior-knowledge",
            })
            .args(extra)
            .arg(url);
        let out = cmd.output().map_err(|e| format!("curl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "curl {url} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let head = std::fs::read_to_string(&head_file).map_err(|e| e.to_string())?;
        let body = std::fs::read(&body_file).unwrap_or_default();
        let _ = std::fs::remove_file(&body_file);
        let _ = std::fs::remove_file(&head_file);
        // The last block is the final response (skip any 100 Continue).
        let block = head
            .trim_end()
            .rsplit("\r\n\r\n")
            .next()
            .unwrap_or_default();
        let (status, headers) = parse_head(block)?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn storage_log(&self) -> String {
        std::fs::read_to_string(&self.storage_log).unwrap_or_default()
    }

    /// The request lines the storage server logged that contain `marker`.
    fn upstream_requests_with(&self, marker: &str) -> Vec<String> {
        self.storage_log()
            .lines()
            .filter(|l| l.contains("req: Request") && l.contains(marker))
            .map(str::to_string)
            .collect()
    }

    fn object(&self, key: &str) -> Vec<u8> {
        std::fs::read(self.bucket.join(key)).unwrap_or_default()
    }
}

fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Check {
    if cond {
        Ok(())
    } else {
        Err(msg().into())
    }
}

fn eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Check {
    ensure(got == want, || {
        format!("{what}: got {got:?}, want {want:?}")
    })
}

/// Smallest PSNR (dB, 8-bit samples) allowed between the filter's and
/// `imgproc`'s decoded outputs when they are not byte-identical.
const MIN_AGREEMENT_PSNR_DB: f64 = 50.0;
/// Largest difference allowed in any one sample of those outputs.
const MAX_AGREEMENT_SAMPLE_DIFF: u8 = 16;

/// The filter (wasm32) and `imgproc` (native) made the same image.
///
/// Built with the `bit-identical` feature they must agree to the byte. The
/// shipped build uses SIMD kernels (wasm simd128 in the filter, SSE/AVX
/// natively) for the JPEG IDCT, colour conversion and resizing, which round
/// differently by ±1, and a lossy encoder can spread that a little: then the
/// two outputs must have the same format, size and frame count, and decoded
/// samples within [`MIN_AGREEMENT_PSNR_DB`] / [`MAX_AGREEMENT_SAMPLE_DIFF`]
/// of each other (a wrong image, crop offset or colour is far outside that).
fn same_image_as_imgproc(what: &str, filter: &[u8], cli: &[u8]) -> Check {
    use image_process_filter::codec;
    if filter == cli {
        return Ok(());
    }
    ensure(!cfg!(feature = "bit-identical"), || {
        format!(
            "{what}: filter gave {} bytes, imgproc {} bytes, not identical (bit-identical build)",
            filter.len(),
            cli.len()
        )
    })?;
    let a = codec::probe(filter).map_err(|e| format!("{what}: filter output: {e}"))?;
    let b = codec::probe(cli).map_err(|e| format!("{what}: imgproc output: {e}"))?;
    eq(
        &format!("{what}: format, size, frames (filter vs imgproc)"),
        (a.format, a.width, a.height, a.frames),
        (b.format, b.width, b.height, b.frames),
    )?;
    let ra = codec::decode(filter, &a, None).map_err(|e| format!("{what}: {e}"))?;
    let rb = codec::decode(cli, &b, None).map_err(|e| format!("{what}: {e}"))?;
    eq(&format!("{what}: pixel layout"), ra.layout, rb.layout)?;
    let (mut sum_sq, mut max) = (0f64, 0u8);
    for (x, y) in ra.data.iter().zip(&rb.data) {
        let d = x.abs_diff(*y);
        max = max.max(d);
        sum_sq += f64::from(d) * f64::from(d);
    }
    let mse = sum_sq / ra.data.len().max(1) as f64;
    let psnr = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    };
    ensure(
        psnr >= MIN_AGREEMENT_PSNR_DB && max <= MAX_AGREEMENT_SAMPLE_DIFF,
        || {
            format!(
                "{what}: filter and imgproc differ beyond SIMD rounding: PSNR {psnr:.1} dB \
                 (want >= {MIN_AGREEMENT_PSNR_DB}), largest sample difference {max} \
                 (want <= {MAX_AGREEMENT_SAMPLE_DIFF})"
            )
        },
    )?;
    if std::env::var_os("IPF_E2E_SHOW_AGREEMENT").is_some() {
        eprintln!("{what}: PSNR {psnr:.1} dB, largest sample difference {max}");
    }
    Ok(())
}

fn md5_b64(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(body))
}

/// Decodes a body and returns (format, width, height).
fn decode(body: &[u8]) -> Result<(image::ImageFormat, u32, u32), Failed> {
    let format = image::guess_format(body).map_err(|e| format!("body is not an image: {e}"))?;
    let img = image::load_from_memory(body).map_err(|e| format!("body does not decode: {e}"))?;
    Ok((format, img.width(), img.height()))
}

/// Everything a processed image response must say about itself.
fn check_processed(
    r: &Response,
    mime: &str,
    format: image::ImageFormat,
    size: (u32, u32),
) -> Check {
    eq("status", r.status, 200)?;
    eq("content-type", r.header("content-type"), Some(mime))?;
    let (f, w, h) = decode(&r.body)?;
    eq("decoded format", f, format)?;
    eq("decoded size", (w, h), size)?;
    eq(
        "content-length",
        r.header("content-length"),
        Some(r.body.len().to_string().as_str()),
    )?;
    eq(
        "content-md5",
        r.header("content-md5"),
        Some(md5_b64(&r.body).as_str()),
    )?;
    eq(
        "x-bce-image-info",
        r.header("x-bce-image-info"),
        Some(format!("width={}; height={}", size.0, size.1).as_str()),
    )?;
    ensure(r.header("etag").is_some_and(|e| e.starts_with('"')), || {
        "no derived etag".into()
    })?;
    ensure(r.header("accept-ranges").is_none(), || {
        "accept-ranges kept".into()
    })
}

/// A named end-to-end case.
type Case = (&'static str, fn(&Env) -> Check);

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = vec![
        ("resize_lfit_to_webp_h1", |e| {
            resize_lfit_to_webp(e, Proto::H1)
        }),
        ("resize_lfit_to_webp_h2", |e| {
            resize_lfit_to_webp(e, Proto::H2)
        }),
        ("keep_alive_connection_mixes_kinds_h1", |e| {
            keep_alive_connection_mixes_kinds(e, Proto::H1)
        }),
        ("quality_absolute_jpeg_h1", |e| {
            quality_absolute_jpeg(e, Proto::H1)
        }),
        ("quality_absolute_jpeg_h2", |e| {
            quality_absolute_jpeg(e, Proto::H2)
        }),
        ("png_source_to_jpg", png_source_to_jpg),
        ("webp_source_to_png_h2", webp_source_to_png),
        ("same_output_as_imgproc", same_output_as_imgproc),
        (
            "webp_codec_same_bytes_as_native",
            webp_codec_same_bytes_as_native,
        ),
        ("style_from_config", style_from_config),
        ("etag_is_stable_and_differs_from_upstream", etag_is_stable),
        (
            "upstream_never_sees_command_or_range",
            upstream_never_sees_command_or_range,
        ),
        ("bad_command_400_without_upstream_h1", |e| {
            bad_command(e, Proto::H1)
        }),
        ("bad_command_400_without_upstream_h2", |e| {
            bad_command(e, Proto::H2)
        }),
        ("unknown_style_404", unknown_style),
        ("corrupt_image_400_error_body", corrupt_image),
        ("passthrough_no_command_byte_identical_h1", |e| {
            passthrough_no_command(e, Proto::H1)
        }),
        ("passthrough_no_command_byte_identical_h2", |e| {
            passthrough_no_command(e, Proto::H2)
        }),
        ("passthrough_non_image", passthrough_non_image),
        ("passthrough_404", passthrough_404),
        ("head_has_the_headers_of_get", head_has_the_headers_of_get),
        ("if_none_match_304_without_processing", if_none_match_304),
        (
            "f_auto_avif_webp_or_source_by_accept_and_budget",
            f_auto_negotiates,
        ),
        ("passthrough_oversize_body", passthrough_oversize),
        ("early_mode_streams_processed_image", early_mode),
        ("info_json", info_json),
        ("every_action_through_envoy", every_action),
        ("v1_style_suffix", v1_style_suffix),
        ("auto_orient_corpus_exif", auto_orient_corpus),
        ("detect_hidden_video", detect_hidden_video),
        ("crop_outside_image_400", crop_outside_image),
        ("every_format_round_trips_through_envoy", every_format),
        ("animated_gif_keeps_frames", animated_gif),
        ("watermark_image_same_bytes_as_imgproc", watermark_image),
        ("watermark_text_same_bytes_as_imgproc", watermark_text),
        (
            "blind_watermark_text_survives_upload_resize_and_jpeg",
            blind_watermark_text,
        ),
        (
            "blind_watermark_image_mark_from_bucket",
            blind_watermark_image,
        ),
        ("blind_watermark_limits_are_400", blind_watermark_limits),
        ("watermark_missing_object_404", watermark_missing_object),
        ("watermark_cache_hit_and_invalidation", watermark_cache),
    ];
    cases.push(("ignore_error_returns_the_original", ignore_error_original));
    cases.push(("hostile_corpus_through_envoy", hostile_corpus));
    cases.push(("metrics_in_stats_and_prometheus", metrics_in_prometheus));
    cases.push((
        "thumbnail_decoded_while_the_body_arrives",
        decoded_while_arriving,
    ));
    cases.push((
        "bad_plugin_config_stops_the_proxy_naming_the_field",
        bad_plugin_config,
    ));
    cases.extend(auth::cases());
    cases.extend(persistence::cases());
    cases.extend(faults::cases());
    cases.extend(buffering::cases());
    cases.extend(worst_case::cases());
    cases
}

fn resize_lfit_to_webp(e: &Env, proto: Proto) -> Check {
    let r = e.curl(
        proto,
        &e.held_url("/demo/photo.jpg?x-bce-process=image/resize,m_lfit,w_200,h_100/format,f_webp"),
        &[],
    )?;
    check_processed(&r, "image/webp", image::ImageFormat::WebP, (178, 100))
}

/// One client connection carries requests of every kind in turn: processed,
/// passed through without a command, handed back (a storage 404 under a
/// command), refused (400) and processed again. Each answer is its own; the
/// connection is opened once. (On nginx a request after a proxied one on a
/// keep-alive connection used to run on past the filter's pause and crash
/// the worker, and every read's buffers stayed until the connection closed.)
/// HTTP/1.1 only: curl 7.88 cannot send a second request on an HTTP/2
/// prior-knowledge connection (its second stream fails with exit 16 against
/// Envoy 1.40 and nginx 1.22 alike, with or without the filter).
fn keep_alive_connection_mixes_kinds(e: &Env, proto: Proto) -> Check {
    for early in [false, true] {
        let url = |path: &str| {
            e.url_for(
                proto,
                &if early {
                    e.early_url(path)
                } else {
                    e.held_url(path)
                },
            )
        };
        let thumb_type = if early { "" } else { "image/jpeg" };
        let kinds: [(&str, u16, &str); 7] = [
            ("/demo/hello.txt", 200, ""),
            // (early mode keeps the storage's type, none here, when the
            // format does not change)
            ("/demo/photo.jpg?x-bce-process=style/thumb", 200, thumb_type),
            ("/demo/flower.webp", 200, ""),
            ("/demo/missing.jpg?x-bce-process=image/resize,w_10", 404, ""),
            (
                "/demo/photo.jpg?x-bce-process=image/resize,w_0",
                400,
                "application/json",
            ),
            (
                "/demo/photo.jpg?x-bce-process=image/resize,w_100/format,f_png",
                200,
                "image/png",
            ),
            ("/demo/photo.jpg?x-bce-process=style/thumb", 200, thumb_type),
        ];
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "--max-time", "60"]);
        cmd.arg(match proto {
            Proto::H1 => "--http1.1",
            Proto::H2 => "--http2-prior-knowledge",
        });
        cmd.args(["-w", "%{http_code} %{num_connects} %{content_type}\\n"]);
        for (path, _, _) in &kinds {
            cmd.args(["-o", "/dev/null"]).arg(url(path));
        }
        let out = cmd.output().map_err(|err| format!("curl: {err}"))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let lines: Vec<&str> = text.lines().collect();
        eq(
            &format!("answers (early {early}, {proto:?}): {text}"),
            lines.len(),
            kinds.len(),
        )?;
        let mut connects = 0;
        for ((path, status, content_type), line) in kinds.iter().zip(&lines) {
            let mut parts = line.splitn(3, ' ');
            let got_status: u16 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            connects += parts
                .next()
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0);
            let got_type = parts.next().unwrap_or("");
            let what = format!("{path} (early {early}, {proto:?})");
            eq(&format!("{what}: status"), got_status, *status)?;
            ensure(got_type.starts_with(content_type), || {
                format!("{what}: content-type '{got_type}', want '{content_type}'")
            })?;
        }
        // Envoy closes an HTTP/1.1 connection after a 400 it answers itself
        // (`connection: close`), so the request after it opens a second one.
        let want_connects = if e.is_nginx() { 1 } else { 2 };
        eq(
            &format!("connections opened (early {early}, {proto:?})"),
            connects,
            want_connects,
        )?;
    }
    Ok(())
}

fn quality_absolute_jpeg(e: &Env, proto: Proto) -> Check {
    let r = e.curl(
        proto,
        &e.held_url("/demo/photo.jpg?x-bce-process=image/resize,w_300/quality,Q_60"),
        &[],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (300, 169))?;
    let q = estimate_quality(&r.body).ok_or("no quantisation table")?;
    ensure((58..=62).contains(&q), || {
        format!("encoded quality {q}, want about 60")
    })
}

fn png_source_to_jpg(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/pngsuite.png?x-bce-process=image/resize,m_lfit,w_64/format,f_jpg"),
        &[],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (64, 64))
}

fn webp_source_to_png(e: &Env) -> Check {
    let r = e.curl(
        Proto::H2,
        &e.held_url("/demo/flower.webp?x-bce-process=image/resize,m_fixed,w_100,h_50/format,f_png"),
        &[],
    )?;
    check_processed(&r, "image/png", image::ImageFormat::Png, (100, 50))
}

fn same_output_as_imgproc(e: &Env) -> Check {
    let cases = [
        (PHOTO, "image/resize,m_lfit,w_200,h_100/format,f_webp"),
        (PHOTO, "image/resize,m_fill,w_120,h_120/quality,Q_70"),
        (
            "pngsuite.png",
            "image/resize,m_pad,w_100,h_60,color_FF0000/format,f_png",
        ),
        ("alpha.png", "image/resize,w_16/format,f_webp"),
        ("flower.webp", "image/resize,p_50/format,f_jpg"),
    ];
    for (key, cmd) in cases {
        let r = get_processed(e, key, cmd)?;
        eq("status", r.status, 200)?;
        let (cli, stderr) = imgproc_process_with_stderr(e, key, cmd)?;
        same_image_as_imgproc(&format!("{key} {cmd}"), &r.body, &cli)?;
        eq(
            "x-bce-image-info vs imgproc stderr",
            r.header("x-bce-image-info").map(str::to_string),
            Some(stderr.trim().to_string()),
        )?;
    }
    Ok(())
}

/// libwebp runs its SSE2 code in the filter, on wasm simd128 through
/// Emscripten's SSE2 headers (vendor/wasm-sse2). Where nothing else in the
/// pipeline rounds differently (no JPEG decode, no resize), the filter's WebP
/// bytes must equal native `imgproc`'s, whose libwebp runs real x86 SSE2: a
/// wrong emulation of an intrinsic shows here.
fn webp_codec_same_bytes_as_native(e: &Env) -> Check {
    let cases = [
        ("pngsuite.png", "image/format,f_webp/quality,Q_85"),
        ("pngsuite.png", "image/format,f_webp/quality,Q_30"),
        ("alpha.png", "image/format,f_webp/quality,Q_90"),
        ("flower.webp", "image/format,f_png"),
        ("flower.webp", "image/rotate,a_90/quality,Q_75"),
    ];
    for (key, cmd) in cases {
        let r = get_processed(e, key, cmd)?;
        ensure(r.status == 200, || {
            format!(
                "{key} {cmd}: status {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            )
        })?;
        let (cli, _) = imgproc_process_with_stderr(e, key, cmd)?;
        ensure(r.body == cli, || {
            format!(
                "{key} {cmd}: the filter gave {} bytes, native imgproc {} bytes, not the same",
                r.body.len(),
                cli.len()
            )
        })?;
    }
    Ok(())
}

fn style_from_config(e: &Env) -> Check {
    // envoy/envoy.yaml defines thumb = image/resize,m_lfit,w_200,h_200.
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/photo.jpg?x-bce-process=style/thumb"),
        &[],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (200, 113))
}

fn etag_is_stable(e: &Env) -> Check {
    let url = e.held_url("/demo/pngsuite.png?x-bce-process=image/resize,w_32");
    let a = e.curl(Proto::H1, &url, &[])?;
    let b = e.curl(Proto::H2, &url, &[])?;
    let upstream = e.curl_storage("/demo/pngsuite.png")?;
    eq("etag across requests", a.header("etag"), b.header("etag"))?;
    ensure(a.header("etag") != upstream.header("etag"), || {
        "etag equals the original's".into()
    })?;
    let other = e.curl(
        Proto::H1,
        &e.held_url("/demo/pngsuite.png?x-bce-process=image/resize,w_33"),
        &[],
    )?;
    ensure(other.header("etag") != a.header("etag"), || {
        "different commands share an etag".into()
    })
}

fn upstream_never_sees_command_or_range(e: &Env) -> Check {
    let marker = "marker=upstream-check";
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!(
            "/demo/photo.jpg?{marker}&x-bce-process=image/resize,w_100"
        )),
        &["-H", "Range: bytes=0-99", "-H", "If-None-Match: \"zzz\""],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (100, 56))?;
    let seen = e.upstream_requests_with(marker);
    eq("upstream requests with the marker", seen.len(), 1)?;
    let line = &seen[0];
    ensure(
        line.contains(&format!("uri: /demo/photo.jpg?{marker},")),
        || format!("upstream uri: {line}"),
    )?;
    ensure(!line.contains("x-bce-process"), || {
        format!("upstream saw the command: {line}")
    })?;
    ensure(!line.contains("\"range\""), || {
        format!("upstream saw Range: {line}")
    })?;
    ensure(!line.contains("if-none-match"), || {
        format!("upstream saw If-None-Match: {line}")
    })?;
    ensure(!e.storage_log().contains("x-bce-process"), || {
        "some upstream request carried x-bce-process".into()
    })
}

fn bad_command(e: &Env, proto: Proto) -> Check {
    let marker = format!("marker=bad-{proto:?}");
    let r = e.curl(
        proto,
        &e.held_url(&format!(
            "/demo/photo.jpg?{marker}&x-bce-process=image/resize,w_0"
        )),
        &[],
    )?;
    eq("status", r.status, 400)?;
    eq(
        "content-type",
        r.header("content-type"),
        Some("application/json"),
    )?;
    let v: serde_json::Value =
        serde_json::from_slice(&r.body).map_err(|err| format!("error body: {err}"))?;
    eq("code", v["code"].as_str(), Some("InvalidArgument"))?;
    ensure(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("resize") && m.contains("w_0")),
        || format!("message does not name action and key: {v}"),
    )?;
    ensure(
        v["requestId"].as_str().is_some_and(|id| !id.is_empty()),
        || "no requestId".into(),
    )?;
    eq(
        "upstream requests",
        e.upstream_requests_with(&marker).len(),
        0,
    )
}

fn unknown_style(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/photo.jpg?x-bce-process=style/nosuch"),
        &[],
    )?;
    eq("status", r.status, 404)?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq("code", v["code"].as_str(), Some("NoSuchStyle"))
}

fn corrupt_image(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/corrupt.jpg?x-bce-process=image/resize,w_10"),
        &[],
    )?;
    eq("status", r.status, 400)?;
    eq(
        "content-type",
        r.header("content-type"),
        Some("application/json"),
    )?;
    eq(
        "content-length",
        r.header("content-length"),
        Some(r.body.len().to_string().as_str()),
    )?;
    ensure(r.header("etag").is_none(), || {
        "error carries an etag".into()
    })?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq("code", v["code"].as_str(), Some("InvalidImage"))
}

fn passthrough_no_command(e: &Env, proto: Proto) -> Check {
    let direct = e.curl_storage("/demo/photo.jpg")?;
    let r = e.curl(proto, &e.held_url("/demo/photo.jpg"), &[])?;
    eq("status", r.status, 200)?;
    ensure(r.body == e.object(PHOTO), || {
        "body differs from the object".into()
    })?;
    eq("etag", r.header("etag"), direct.header("etag"))?;
    eq(
        "content-length",
        r.header("content-length"),
        Some(e.object(PHOTO).len().to_string().as_str()),
    )?;
    ensure(r.header("x-bce-image-info").is_none(), || {
        "image info on a pass-through".into()
    })
}

fn passthrough_non_image(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/hello.txt?x-bce-process=image/resize,w_10"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    ensure(r.body == e.object("hello.txt"), || {
        "text body changed".into()
    })?;
    eq(
        "content-length",
        r.header("content-length"),
        Some(e.object("hello.txt").len().to_string().as_str()),
    )
}

fn passthrough_404(e: &Env) -> Check {
    let direct = e.curl_storage("/demo/missing.jpg")?;
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/missing.jpg?x-bce-process=image/resize,w_10"),
        &[],
    )?;
    eq("status", r.status, 404)?;
    eq("status vs upstream", r.status, direct.status)?;
    ensure(r.body == direct.body, || "404 body changed".into())
}

fn head_has_the_headers_of_get(e: &Env) -> Check {
    for (stack, url) in [
        (
            "held",
            e.held_url("/demo/photo.jpg?x-bce-process=image/resize,w_10"),
        ),
        (
            "early",
            e.early_url("/demo/photo.jpg?x-bce-process=image/resize,w_10"),
        ),
    ] {
        let get = e.curl(Proto::H1, &url, &[])?;
        let head = e.curl(Proto::H1, &url, &["-I"])?;
        eq(&format!("{stack}: HEAD status"), head.status, 200)?;
        let raw = raw_head(&url)?;
        ensure(raw.ends_with("\r\n\r\n"), || {
            format!("{stack}: bytes after the HEAD response's headers: {raw:?}")
        })?;
        for name in [
            "content-type",
            "content-length",
            "etag",
            "x-bce-image-info",
            "content-md5",
        ] {
            eq(
                &format!("{stack}: HEAD {name}"),
                head.header(name),
                get.header(name),
            )?;
        }
    }
    // A HEAD fetched with GET whose answer is not processed still gets no body.
    let raw = raw_head(&e.held_url("/demo/hello.txt?x-bce-process=image/resize,w_10"))?;
    ensure(
        raw.starts_with("HTTP/1.1 200") && raw.ends_with("\r\n\r\n"),
        || format!("HEAD of a non-image with a command: {raw:?}"),
    )?;
    // Without a command, HEAD is the upstream's.
    let head = e.curl(Proto::H1, &e.held_url("/demo/photo.jpg"), &["-I"])?;
    eq(
        "plain HEAD content-length",
        head.header("content-length"),
        Some(e.object(PHOTO).len().to_string().as_str()),
    )
}

/// Everything a raw HTTP/1.1 `HEAD` of `url` receives (the connection closes after it).
fn raw_head(url: &str) -> Result<String, Failed> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").ok_or("not an http URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut conn = std::net::TcpStream::connect(authority).map_err(|err| err.to_string())?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .map_err(|err| err.to_string())?;
    write!(
        conn,
        "HEAD {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|err| err.to_string())?;
    let mut got = Vec::new();
    conn.read_to_end(&mut got).map_err(|err| err.to_string())?;
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn if_none_match_304(e: &Env) -> Check {
    for (stack, url) in [
        (
            "held",
            e.held_url("/demo/pngsuite.png?x-bce-process=image/resize,w_20/format,f_auto"),
        ),
        (
            "early",
            e.early_url("/demo/pngsuite.png?x-bce-process=image/resize,w_20/format,f_auto"),
        ),
    ] {
        let accept = "accept: image/webp,*/*";
        let first = e.curl(Proto::H1, &url, &["-H", accept])?;
        eq(&format!("{stack}: first"), first.status, 200)?;
        let etag = first.header("etag").ok_or("no etag")?.to_string();
        let again = e.curl(
            Proto::H1,
            &url,
            &["-H", accept, "-H", &format!("if-none-match: {etag}")],
        )?;
        eq(&format!("{stack}: conditional"), again.status, 304)?;
        ensure(again.body.is_empty(), || {
            format!("{stack}: 304 with a body")
        })?;
        eq(
            &format!("{stack}: 304 etag"),
            again.header("etag"),
            Some(etag.as_str()),
        )?;
        ensure(
            again.header("vary").is_some_and(|v| v.contains("Accept")),
            || format!("{stack}: 304 lacks Vary: Accept"),
        )?;
        eq(
            &format!("{stack}: 304 last-modified"),
            again.header("last-modified"),
            first.header("last-modified"),
        )?;
        // Another Accept is another variant: processed again.
        let other = e.curl(
            Proto::H1,
            &url,
            &[
                "-H",
                "accept: image/png",
                "-H",
                &format!("if-none-match: {etag}"),
            ],
        )?;
        eq(&format!("{stack}: other variant"), other.status, 200)?;
        let stale = e.curl(
            Proto::H1,
            &url,
            &["-H", accept, "-H", "if-none-match: \"nope\""],
        )?;
        eq(&format!("{stack}: stale tag"), stale.status, 200)?;
        ensure(!stale.body.is_empty(), || "stale tag got no body".into())?;
    }
    Ok(())
}

/// `format,f_auto`: AVIF for a client that lists it when the AVIF result fits
/// the budget (a thumbnail), WebP when it does not (a 5 Mpx result: about 7 s
/// of AVIF encoding, over the 10 s budget with the decode) or for a client that
/// lists only WebP, the source format otherwise; `early` mode, whose
/// Content-Type leaves before the image is seen, never chooses AVIF.
fn f_auto_negotiates(e: &Env) -> Check {
    use image_process_filter::codec::{self, ImageFormat};
    let chrome = "accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    let thumb = "/demo/photo.jpg?x-bce-process=image/resize,w_200/format,f_auto";
    let large = "/demo/photo.jpg?x-bce-process=image/resize,w_3000/format,f_auto";
    let cases = [
        (
            "thumbnail, Chrome",
            e.held_url(thumb),
            chrome,
            ImageFormat::Avif,
            200,
        ),
        (
            "5 Mpx, Chrome",
            e.held_url(large),
            chrome,
            ImageFormat::Webp,
            3000,
        ),
        (
            "thumbnail, WebP only",
            e.held_url(thumb),
            "accept: image/webp,*/*",
            ImageFormat::Webp,
            200,
        ),
        (
            "thumbnail, */*",
            e.held_url(thumb),
            "accept: */*",
            ImageFormat::Jpeg,
            200,
        ),
        (
            "thumbnail, Chrome, early",
            e.early_url(thumb),
            chrome,
            ImageFormat::Webp,
            200,
        ),
    ];
    for (what, url, accept, want, width) in cases {
        let r = e.curl(Proto::H1, &url, &["-H", accept])?;
        eq(&format!("{what}: status"), r.status, 200)?;
        let got = codec::probe(&r.body).map_err(|err| format!("{what}: body: {err}"))?;
        eq(&format!("{what}: format"), got.format, want)?;
        eq(&format!("{what}: width"), got.width, width)?;
        eq(
            &format!("{what}: content-type"),
            r.header("content-type"),
            Some(want.mime()),
        )?;
        ensure(
            r.header("vary").is_some_and(|v| v.contains("Accept")),
            || format!("{what}: no Vary: Accept"),
        )?;
    }
    // The AVIF answer's ETag is known before the body: a conditional request
    // is answered 304 without processing.
    let url = e.held_url(thumb);
    let first = e.curl(Proto::H1, &url, &["-H", chrome])?;
    let etag = first.header("etag").ok_or("AVIF answer without an ETag")?;
    let again = e.curl(
        Proto::H1,
        &url,
        &["-H", chrome, "-H", &format!("if-none-match: {etag}")],
    )?;
    eq("AVIF conditional: status", again.status, 304)?;
    Ok(())
}

fn passthrough_oversize(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/big.jpg?x-bce-process=image/resize,w_10"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    let original = e.object("big.jpg");
    eq("length", r.body.len(), original.len())?;
    ensure(r.body == original, || "over-size body changed".into())
}

fn early_mode(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.early_url("/demo/photo.jpg?x-bce-process=image/resize,m_lfit,w_200,h_100/format,f_webp"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    eq("content-type", r.header("content-type"), Some("image/webp"))?;
    let (f, w, h) = decode(&r.body)?;
    eq("decoded", (f, w, h), (image::ImageFormat::WebP, 178, 100))?;
    ensure(r.header("content-length").is_none(), || {
        "early mode kept a content-length".into()
    })?;
    eq(
        "transfer-encoding",
        r.header("transfer-encoding"),
        Some("chunked"),
    )?;
    ensure(r.header("content-md5").is_none(), || {
        "early mode sent content-md5".into()
    })?;
    ensure(r.header("etag").is_some(), || {
        "early mode sent no etag".into()
    })?;
    // HTTP/2 too.
    let r2 = e.curl(
        Proto::H2,
        &e.early_url("/demo/photo.jpg?x-bce-process=image/resize,m_lfit,w_200,h_100/format,f_webp"),
        &[],
    )?;
    ensure(r2.body == r.body, || "HTTP/2 body differs".into())
}

fn info_json(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/photo.jpg?x-bce-process=image/info"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    eq(
        "content-type",
        r.header("content-type"),
        Some("application/json"),
    )?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq(
        "width",
        v["imageWidth"]["value"].as_str(),
        Some(PHOTO_SIZE.0.to_string().as_str()),
    )?;
    eq(
        "height",
        v["imageHeight"]["value"].as_str(),
        Some(PHOTO_SIZE.1.to_string().as_str()),
    )?;
    eq("format", v["format"]["value"].as_str(), Some("JPEG"))?;
    let cli = Command::new(env!("CARGO_BIN_EXE_imgproc"))
        .arg("info")
        .arg(e.bucket.join(PHOTO))
        .output()
        .map_err(|err| err.to_string())?;
    eq(
        "imgproc info",
        String::from_utf8_lossy(&cli.stdout).trim().to_string(),
        String::from_utf8_lossy(&r.body).to_string(),
    )
}

/// One command per action of spec §4.1-4.19 on the sample photo (5312x2988),
/// with the size the response must decode to; checked against imgproc too.
fn every_action(e: &Env) -> Check {
    let cases: &[(&str, &str, image::ImageFormat, (u32, u32))] = &[
        (
            "resize,m_fill,w_100,h_100/crop,x_10,y_20,w_50,h_40",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (50, 40),
        ),
        (
            "resize,w_400/crop,w_100,h_100,g_center/format,f_png",
            "image/png",
            image::ImageFormat::Png,
            (100, 100),
        ),
        (
            "resize,w_300/circle,r_50/format,f_png",
            "image/png",
            image::ImageFormat::Png,
            (100, 100),
        ),
        (
            "resize,w_300/rounded-corners,r_30/format,f_webp",
            "image/webp",
            image::ImageFormat::WebP,
            (300, 169),
        ),
        (
            "resize,w_300/indexcrop,x_100,i_1",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (100, 169),
        ),
        (
            "resize,w_300/rotate,a_90",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (169, 300),
        ),
        (
            "resize,w_300/rotate,a_30/format,f_png",
            "image/png",
            image::ImageFormat::Png,
            (345, 297),
        ),
        (
            "pxresize,m_lfit,limit_0,w_200,h_300/auto-orient,o_1",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (200, 113),
        ),
        (
            "resize,w_200/blur,r_3,s_2",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (200, 113),
        ),
        (
            "resize,w_200/sharpen,r_2,s_1",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (200, 113),
        ),
        (
            "resize,w_200/bright,b_-10/contrast,c_20",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (200, 113),
        ),
        (
            "resize,w_200/grayscale/format,f_png",
            "image/png",
            image::ImageFormat::Png,
            (200, 113),
        ),
        (
            "resize,w_200/interlace,i_progressive/strip",
            "image/jpeg",
            image::ImageFormat::Jpeg,
            (200, 113),
        ),
    ];
    for (cmd, mime, format, size) in cases {
        let r = e.curl(
            Proto::H1,
            &e.held_url(&format!("/demo/{PHOTO}?x-bce-process=image/{cmd}")),
            &[],
        )?;
        check_processed(&r, mime, *format, *size).map_err(|f| format!("{cmd}: {f:?}"))?;
        let cli = imgproc_process(e, PHOTO, &format!("image/{cmd}"))?;
        same_image_as_imgproc(cmd, &r.body, &cli)?;
    }
    // Grayscale really is grey after a round trip through Envoy.
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!(
            "/demo/{PHOTO}?x-bce-process=image/resize,w_50/grayscale/format,f_png"
        )),
        &[],
    )?;
    let img = image::load_from_memory(&r.body)
        .map_err(|err| err.to_string())?
        .to_rgb8();
    ensure(img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]), || {
        "grayscale output has colour".into()
    })
}

/// Runs `imgproc process` on a bucket object and returns the output bytes.
fn imgproc_process(e: &Env, key: &str, cmd: &str) -> Result<Vec<u8>, Failed> {
    Ok(imgproc_process_with_stderr(e, key, cmd)?.0)
}

/// `GET /demo/{key}?x-bce-process={cmd}` over HTTP/1.1, response headers held.
fn get_processed(e: &Env, key: &str, cmd: &str) -> Result<Response, Failed> {
    e.curl(
        Proto::H1,
        &e.held_url(&format!("/demo/{key}?x-bce-process={cmd}")),
        &[],
    )
}

/// Runs `imgproc process` on a bucket object: the output bytes and stderr.
fn imgproc_process_with_stderr(e: &Env, key: &str, cmd: &str) -> Result<(Vec<u8>, String), Failed> {
    imgproc_process_with_args(e, key, cmd, &[])
}

/// `imgproc process` with extra arguments (watermark objects, fonts).
fn imgproc_process_with_args(
    e: &Env,
    key: &str,
    cmd: &str,
    extra: &[&str],
) -> Result<(Vec<u8>, String), Failed> {
    let out = e.scratch.join(format!(
        "imgproc-{}",
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let run = Command::new(env!("CARGO_BIN_EXE_imgproc"))
        .arg("process")
        .arg(e.bucket.join(key))
        .arg(cmd)
        .arg("-o")
        .arg(&out)
        .args(extra)
        .output()
        .map_err(|err| format!("imgproc: {err}"))?;
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    ensure(run.status.success(), || format!("imgproc failed: {stderr}"))?;
    Ok((std::fs::read(&out).map_err(|err| err.to_string())?, stderr))
}

fn v1_style_suffix(e: &Env) -> Check {
    // `@!thumb` is the V1 spelling of style/thumb; upstream sees the bare key.
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!("/demo/{PHOTO}@!thumb")),
        &[],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (200, 113))?;
    let seen = e.upstream_requests_with("@!");
    ensure(seen.is_empty(), || {
        format!("upstream saw the suffix: {seen:?}")
    })
}

/// A corpus JPEG stored 1200x1800 with EXIF orientation 6 comes out upright
/// (1800x1200 scaled) by default and as stored with auto-orient,o_0.
fn auto_orient_corpus(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/Landscape_6.jpg?x-bce-process=image/resize,w_300"),
        &[],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (300, 200))?;
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/Landscape_6.jpg?x-bce-process=image/resize,w_300/auto-orient,o_0"),
        &[],
    )?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (300, 450))
}

fn detect_hidden_video(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/hidden.jpg?x-bce-process=image/detect"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    eq(
        "content-type",
        r.header("content-type"),
        Some("application/json"),
    )?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq("videoDetected", v["videoDetected"].as_bool(), Some(true))?;
    eq("picRisk", v["picRisk"].as_bool(), Some(true))?;
    eq("picSuffix", v["picSuffix"].as_str(), Some("jpg"))?;
    eq(
        "detectedType",
        v["detectedType"].as_str(),
        Some("image/jpeg"),
    )?;
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!("/demo/{PHOTO}?x-bce-process=image/detect")),
        &[],
    )?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq(
        "clean photo videoDetected",
        v["videoDetected"].as_bool(),
        Some(false),
    )?;
    eq(
        "picResolution",
        v["picResolution"].as_str().map(str::to_string),
        Some(format!("{}*{}", PHOTO_SIZE.0, PHOTO_SIZE.1)),
    )
}

/// Every output format from the photo, and every source format to PNG,
/// through Envoy; checked by this crate's own decoders (the `image` crate of
/// the tests cannot read AVIF or HEIC) and the same image as imgproc's.
fn every_format(e: &Env) -> Check {
    use image_process_filter::codec;
    for f in ["jpg", "png", "webp", "bmp", "gif", "avif", "heic"] {
        let cmd = format!("image/resize,w_120/format,f_{f}");
        let r = e.curl(
            Proto::H1,
            &e.held_url(&format!("/demo/{PHOTO}?x-bce-process={cmd}")),
            &[],
        )?;
        eq("status", r.status, 200)?;
        let info = codec::probe(&r.body).map_err(|err| format!("{f}: {err}"))?;
        eq("format", info.format.name(), f)?;
        eq(
            "content-type",
            r.header("content-type"),
            Some(info.format.mime()),
        )?;
        let raster = codec::decode(&r.body, &info, None).map_err(|err| format!("{f}: {err}"))?;
        eq("size", raster.size(), (120, 68))?;
        eq(
            "x-bce-image-info",
            r.header("x-bce-image-info"),
            Some("width=120; height=68"),
        )?;
        let cli = imgproc_process(e, PHOTO, &cmd)?;
        same_image_as_imgproc(&cmd, &r.body, &cli)?;
    }
    for (key, size) in [
        ("src.bmp", (127, 64)),
        ("src.gif", (128, 128)),
        ("src.avif", (128, 128)),
        ("src.heic", (128, 128)),
        ("flower.webp", (128, 96)),
    ] {
        let r = e.curl(
            Proto::H1,
            &e.held_url(&format!(
                "/demo/{key}?x-bce-process=image/resize,m_lfit,w_128,h_128/format,f_png"
            )),
            &[],
        )?;
        check_processed(&r, "image/png", image::ImageFormat::Png, size)
            .map_err(|f| format!("{key}: {f:?}"))?;
    }
    Ok(())
}

fn animated_gif(e: &Env) -> Check {
    use image_process_filter::codec;
    let src = std::fs::read(e.bucket.join("anim.gif")).map_err(|err| err.to_string())?;
    let frames = codec::probe(&src).map_err(|err| err.to_string())?.frames;
    ensure(frames > 1, || "anim.gif is not animated".into())?;
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/anim.gif?x-bce-process=image/resize,w_40/rotate,a_90"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    eq("content-type", r.header("content-type"), Some("image/gif"))?;
    let out = codec::probe(&r.body).map_err(|err| err.to_string())?;
    eq("frames", out.frames, frames)
}

fn crop_outside_image(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!(
            "/demo/{PHOTO}?x-bce-process=image/crop,x_6000,w_10"
        )),
        &[],
    )?;
    eq("status", r.status, 400)?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq("code", v["code"].as_str(), Some("InvalidArgument"))?;
    ensure(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("crop: the corner (6000, 0)")),
        || format!("message: {}", v["message"]),
    )
}

/// What the filter must answer for a hostile file.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Processed: an image of this size.
    Image(u32, u32),
    /// A 400 with this BOS error code.
    Error(&'static str),
    /// Not an image (magic bytes): the bytes pass through untouched.
    Untouched,
}

/// Every file of the corpus's `hostile/` (and the rav1d#1497 fuzz finding)
/// through Envoy with `resize,w_64` (spec limits, MANIFEST "must"): an image,
/// a clear 4xx or an untouched non-image; never a 5xx or a hang (curl's 60 s
/// limit). The last case checks that the VM never restarted.
fn hostile_corpus(e: &Env) -> Check {
    use Hostile::*;
    let table: &[(&str, Hostile)] = &[
        ("16384x16384.png", Error("ImageTooLarge")),
        ("9643x10328.jpg", Image(64, 69)),
        ("bomb_png_30000x30000_1bit.png", Error("ImageTooLarge")),
        (
            "bomb_webp_16383x16383_lossless.webp",
            Error("ImageTooLarge"),
        ),
        (
            "crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif",
            Untouched,
        ),
        ("dc-predictor-overflow.jpg", Image(64, 64)),
        ("decompression_bomb.gif", Error("ImageTooLarge")),
        ("derive-huffman-codes-overflow.jpg", Error("InvalidImage")),
        ("empty.jpg", Untouched),
        ("ftyp_avif_then_random.avif", Error("InvalidImage")),
        ("header_png_100000x100000_rgba.png", Error("ImageTooLarge")),
        ("image-png-fuzz-077345660928.png", Error("InvalidImage")),
        ("image-png-fuzz-3e40e7909681.png", Error("InvalidImage")),
        ("image-png-fuzz-95666e39e672.png", Error("InvalidImage")),
        ("image_invalid.jpg", Untouched),
        ("invalid-prediction-shift.jpg", Error("InvalidImage")),
        ("issue-101-infinite-empty-loop.gif", Error("InvalidImage")),
        ("jpeg_content_named.png", Image(64, 42)),
        ("jpeg_sof_declares_30000x30000.jpg", Error("ImageTooLarge")),
        ("max_size.jpg", Error("ImageTooLarge")),
        ("missing-sof.jpg", Error("InvalidImage")),
        ("null_height.jpg", Error("InvalidImage")),
        ("panic.webp", Image(64, 19)),
        ("png_content_named.jpg", Image(32, 32)),
        ("png_decompression_dos.png", Image(1, 1)),
        ("png_signature_then_random.png", Error("InvalidImage")),
        ("poc_b_506387278.avif", Image(64, 32)),
        ("random_bytes.gif", Untouched),
        ("random_bytes.heic", Untouched),
        ("random_bytes.jpg", Untouched),
        ("random_bytes.png", Untouched),
        // rav1d#1497: an AV1 decode error aborted the VM before the patched rav1d.
        ("rav1d_1497_corrupt_av1.avif", Error("InvalidImage")),
        ("riff_webp_header_then_random.webp", Error("InvalidImage")),
        ("subtract-with-overflow.jpg", Error("InvalidImage")),
        ("svg_named_as.png", Untouched),
        ("zero_bytes.avif", Untouched),
        ("zero_bytes.png", Untouched),
        ("zero_bytes.webp", Untouched),
        ("zero_width.gif", Error("InvalidImage")),
    ];
    let on_disk = std::fs::read_dir(e.bucket.join("hostile"))
        .map_err(|err| err.to_string())?
        .count();
    eq("hostile files in the table", table.len(), on_disk)?;
    for (name, want) in table {
        let key = format!("hostile/{name}");
        let r = e.curl(
            Proto::H1,
            &e.held_url(&format!("/demo/{key}?x-bce-process=image/resize,w_64")),
            &[],
        )?;
        let what = format!("{name} ({want:?})");
        ensure(r.status < 500, || format!("{what}: status {}", r.status))?;
        match want {
            Image(w, h) => {
                eq(&format!("{what}: status"), r.status, 200)?;
                // Our own probe: the output keeps the source format (AVIF too).
                let info = image_process_filter::codec::probe(&r.body)
                    .map_err(|err| format!("{what}: output: {err}"))?;
                eq(
                    &format!("{what}: size"),
                    (info.width, info.height),
                    (*w, *h),
                )?;
            }
            Error(code) => {
                eq(&format!("{what}: status"), r.status, 400)?;
                let v: serde_json::Value = serde_json::from_slice(&r.body)
                    .map_err(|err| format!("{what}: error body: {err}"))?;
                eq(&format!("{what}: code"), v["code"].as_str(), Some(*code))?;
            }
            Untouched => {
                eq(&format!("{what}: status"), r.status, 200)?;
                ensure(r.body == e.object(&key), || {
                    format!("{what}: bytes changed")
                })?;
            }
        }
    }
    Ok(())
}

/// `ignore-error,1`: a failure on the body answers with the untouched original
/// and says so; without it the same request is an error.
fn ignore_error_original(e: &Env) -> Check {
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/corrupt.jpg?x-bce-process=image/resize,w_10/ignore-error,1"),
        &[],
    )?;
    eq("status", r.status, 200)?;
    ensure(r.body == e.object("corrupt.jpg"), || {
        "body is not the original".into()
    })?;
    eq(
        "fallback header",
        r.header("x-bce-process-error"),
        Some("InvalidImage"),
    )?;
    eq(
        "content-length",
        r.header("content-length"),
        Some(r.body.len().to_string().as_str()),
    )?;
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/corrupt.jpg?x-bce-process=image/resize,w_10/ignore-error,0"),
        &[],
    )?;
    eq("status without fallback", r.status, 400)?;
    // A good image is processed as usual.
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/alpha.png?x-bce-process=image/resize,w_16/ignore-error,1"),
        &[],
    )?;
    check_processed(&r, "image/png", image::ImageFormat::Png, (16, 16))?;
    ensure(r.header("x-bce-process-error").is_none(), || {
        "fallback header on a success".into()
    })
}

/// A plugin config with a bad field: the VM refuses it in `on_configure`, so
/// Envoy does not start serving with it, and the log names the field.
/// A plugin configuration the filter refuses is found at start-up, with a
/// log line naming the field: Envoy refuses the listener and exits. nginx's
/// workers log `[emerg] ... failed initializing "image_process_filter"
/// filter (on_configure failure)` and exit "with fatal code 2 and cannot be
/// respawned", while the master keeps running and holds the port: clients
/// connect and wait (nginx/README.md).
fn bad_plugin_config(e: &Env) -> Check {
    let tools = tools_from_env().ok_or("IPF_* not set")?;
    let (template, mode) = match e.host {
        ProxyHost::Envoy => ("envoy/envoy.yaml", "\"header_mode\": \"held\""),
        ProxyHost::Nginx => ("nginx/nginx.conf", "\"header_mode\": \"local_reply\""),
    };
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join(template);
    let unknown_key = format!("{mode}, \"colour\": 1");
    for (from, to, field) in [
        (
            "\"max_body_bytes\": 20971520",
            "\"max_body_bytes\": 0",
            "max_body_bytes",
        ),
        (
            "\"resources\": [ \"demo/private/*\" ]",
            "\"resources\": [ \"nobucket\" ]",
            "protection.resources[0]",
        ),
        (mode, unknown_key.as_str(), "colour"),
    ] {
        let started = Stack::start(
            &tools,
            &StackOptions {
                host: e.host,
                config_template: template.clone(),
                listen_port: 0,
                bucket_dir: e.bucket.clone(),
                work_dir: e.scratch.join("bad-config"),
                concurrency: 1,
                replacements: vec![(from.into(), to.into())],
            },
        );
        let proxy = e.host.name();
        match started {
            Ok(mut stack) => {
                stack.stop();
                return Err(format!("{proxy} started with a bad {field}").into());
            }
            Err(log) => {
                ensure(log.contains(field), || {
                    format!("{proxy}'s log does not name {field}: {log}")
                })?;
                if e.is_nginx() {
                    ensure(
                        log.contains("on_configure failure") && log.contains("cannot be respawned"),
                        || format!("nginx's workers did not stop on the configuration: {log}"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// The value of one Prometheus sample line (`name{labels} value`) of the held stack.
fn prometheus_value(e: &Env, series: &str) -> Result<Option<f64>, Failed> {
    prometheus_value_of(&e.held, series)
}

/// [`prometheus_value`] of `stack`.
fn prometheus_value_of(stack: &Mutex<Stack>, series: &str) -> Result<Option<f64>, Failed> {
    let text = stack
        .lock()
        .map_err(|_| "lock")?
        .admin_get("/stats/prometheus")
        .map_err(|err| err.to_string())?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok()))
}

fn metrics_in_prometheus(e: &Env) -> Check {
    let series = |outcome: &str| format!("image_process_filter_requests{{outcome=\"{outcome}\"}}");
    let read = |name: &str| -> Result<f64, Failed> {
        prometheus_value(e, name)?.ok_or_else(|| format!("no {name} in /stats/prometheus").into())
    };
    let bytes_in = "image_process_filter_bytes{direction=\"in\"}";
    let bytes_out = "image_process_filter_bytes{direction=\"out\"}";
    let before = [
        read(&series("processed"))?,
        read(&series("passed_through"))?,
        read(&series("rejected"))?,
        read(bytes_in)?,
        read(bytes_out)?,
    ];
    let r = e.curl(
        Proto::H1,
        &e.held_url("/demo/alpha.png?x-bce-process=image/resize,w_16"),
        &[],
    )?;
    eq("processed status", r.status, 200)?;
    let out_len = r.body.len() as f64;
    e.curl(Proto::H1, &e.held_url("/demo/hello.txt"), &[])?;
    e.curl(
        Proto::H1,
        &e.held_url("/demo/alpha.png?x-bce-process=image/resize,w_0"),
        &[],
    )?;
    eq("processed +1", read(&series("processed"))? - before[0], 1.0)?;
    eq(
        "passed_through +1",
        read(&series("passed_through"))? - before[1],
        1.0,
    )?;
    eq("rejected +1", read(&series("rejected"))? - before[2], 1.0)?;
    eq(
        "bytes in",
        read(bytes_in)? - before[3],
        e.object("alpha.png").len() as f64,
    )?;
    eq("bytes out", read(bytes_out)? - before[4], out_len)?;
    let text = e
        .held
        .lock()
        .map_err(|_| "lock")?
        .admin_get("/stats/prometheus")
        .map_err(|err| err.to_string())?;
    ensure(
        text.contains("# TYPE image_process_filter_processing_ms histogram"),
        || "no processing time histogram".into(),
    )?;
    ensure(
        text.contains("image_process_filter_refused{reason=\"style_only\"}"),
        || "refusals are not tagged by reason".into(),
    )
}

/// A PNG photo in the test bucket (`Landscape_6.jpg` re-encoded).
const PHOTO_PNG: &str = "Landscape_6.png";

/// A thumbnail of a 350 KB baseline photo and of a 1 MB PNG on the early
/// stack (Envoy hands the body over chunk by chunk as it comes from the
/// storage): the filter decodes each while it arrives, which its counter
/// shows, and the bytes are still `imgproc`'s. (The held stack's exact mode
/// may be `local_reply`, whose own read of the original comes whole.)
fn decoded_while_arriving(e: &Env) -> Check {
    let cmd = "image/resize,m_lfit,w_100,h_100";
    let series = "image_process_filter_decoded_while_arriving{}";
    for key in ["Landscape_6.jpg", PHOTO_PNG] {
        let before = prometheus_value_of(&e.early, series)?.unwrap_or(0.0);
        let r = e.curl(
            Proto::H1,
            &e.early_url(&format!("/demo/{key}?x-bce-process={cmd}")),
            &[],
        )?;
        eq("status", r.status, 200)?;
        let cli = imgproc_process(e, key, cmd)?;
        same_image_as_imgproc(&format!("{key} {cmd}"), &r.body, &cli)?;
        let after = prometheus_value_of(&e.early, series)?.unwrap_or(0.0);
        eq(
            &format!("{key} decoded while arriving"),
            after - before,
            1.0,
        )?;
    }
    Ok(())
}

/// The font the e2e config names `Sans` (`demo/fonts/sans.ttf`).
const SANS: &str = "fonts/sans.ttf";

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(s)
}

/// A filter response is exactly what `imgproc` makes from the bucket
/// directory; in both header modes.
fn same_as_imgproc(e: &Env, key: &str, cmd: &str, extra: &[&str]) -> Result<Response, Failed> {
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!("/demo/{key}?x-bce-process={cmd}")),
        &[],
    )?;
    eq("status", r.status, 200)?;
    let dir = e.bucket.to_string_lossy().to_string();
    let mut args = vec!["--bucket-dir", dir.as_str()];
    args.extend_from_slice(extra);
    let (cli, stderr) = imgproc_process_with_args(e, key, cmd, &args)?;
    same_image_as_imgproc(&format!("{key} {cmd}"), &r.body, &cli)?;
    eq(
        "x-bce-image-info vs imgproc stderr",
        r.header("x-bce-image-info").map(str::to_string),
        Some(stderr.trim().to_string()),
    )?;
    let early = e.curl(
        Proto::H2,
        &e.early_url(&format!("/demo/{key}?x-bce-process={cmd}")),
        &[],
    )?;
    eq("early mode status", early.status, 200)?;
    ensure(early.body == r.body, || {
        format!("{cmd}: early mode gave other bytes")
    })?;
    Ok(r)
}

fn watermark_image(e: &Env) -> Check {
    let logo = b64url("wm/logo.png");
    let cmd = format!("image/watermark,image_{logo},P_30,g_5,t_70/format,f_png");
    let r = same_as_imgproc(e, "pngsuite.png", &cmd, &[])?;
    check_processed(&r, "image/png", image::ImageFormat::Png, (256, 256))?;
    // The watermark is there: the centre differs from the unwatermarked image.
    let plain = e.curl(
        Proto::H1,
        &e.held_url("/demo/pngsuite.png?x-bce-process=image/format,f_png"),
        &[],
    )?;
    let (a, b) = (
        image::load_from_memory(&r.body)
            .map_err(|err| err.to_string())?
            .to_rgb8(),
        image::load_from_memory(&plain.body)
            .map_err(|err| err.to_string())?
            .to_rgb8(),
    );
    ensure(a.get_pixel(128, 128) != b.get_pixel(128, 128), || {
        "no watermark at the centre".into()
    })?;
    ensure(a.get_pixel(5, 5) == b.get_pixel(5, 5), || {
        "the corner changed".into()
    })?;
    // Its own command runs first; several watermarks in one command; JPEG out.
    let own = b64url("wm/logo.png?x-bce-process=image/rotate,a_90/grayscale");
    let cmd = format!(
        "image/resize,w_300/watermark,image_{own},g_1,P_50/watermark,image_{logo},g_9,x_0,y_0"
    );
    same_as_imgproc(e, PHOTO, &cmd, &[])?;
    let log = e.storage_log();
    ensure(!log.contains("wm/logo.png?"), || {
        "the watermark's own command reached the storage".into()
    })
}

fn watermark_text(e: &Env) -> Check {
    let text = b64url("Hello, BOS");
    let cmd = format!(
        "image/resize,w_400/watermark,text_{text},size_36,color_FFFFFF,skw_2,effect_hardshadow,g_7/format,f_webp"
    );
    let r = same_as_imgproc(e, PHOTO, &cmd, &[])?;
    check_processed(&r, "image/webp", image::ImageFormat::WebP, (400, 225))?;
    // A configured font fetched from the bucket, and a mixed watermark.
    let sans = b64url("Sans");
    let logo = b64url("wm/logo.png");
    let cmd = format!(
        "image/watermark,image_{logo},text_{text},type_{sans},size_20,order_1,align_1,interval_4,g_2,a_15/format,f_png"
    );
    let font = format!("Sans=demo/{SANS}");
    same_as_imgproc(e, "flower.webp", &cmd, &["--font", &font])?;
    // An unknown font is a 400 at once, without asking the storage.
    let marker = "marker=unknown-font";
    let bad = e.curl(
        Proto::H1,
        &e.held_url(&format!(
            "/demo/flower.webp?{marker}&x-bce-process=image/watermark,text_{text},type_{}",
            b64url("NoSuchFont")
        )),
        &[],
    )?;
    eq("status", bad.status, 400)?;
    let v: serde_json::Value = serde_json::from_slice(&bad.body).map_err(|err| err.to_string())?;
    ensure(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("font 'NoSuchFont'")),
        || format!("message: {}", v["message"]),
    )?;
    eq(
        "upstream requests",
        e.upstream_requests_with(marker).len(),
        0,
    )
}

/// A PUT straight to the (private) storage, signed by curl's own SigV4.
fn put_storage(e: &Env, key: &str, body: &[u8]) -> Check {
    use sha2::{Digest as _, Sha256};
    let file = e
        .scratch
        .join(format!("put-{}", COUNTER.fetch_add(1, Ordering::SeqCst)));
    std::fs::write(&file, body).map_err(|err| err.to_string())?;
    let user = format!("{}:{}", stack::DEMO_ACCESS_KEY, stack::DEMO_SECRET_KEY);
    let sha = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let r = e.curl(
        Proto::H1,
        &e.storage_url(&format!("/demo/{key}")),
        &[
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "--user",
            &user,
            "-H",
            &format!("x-amz-content-sha256: {sha}"),
            "-H",
            "content-type: image/jpeg",
            "--upload-file",
            &file.to_string_lossy(),
        ],
    )?;
    let _ = std::fs::remove_file(&file);
    eq(&format!("PUT {key} status"), r.status, 200)
}

/// `{"text": ...}` of an extraction through the filter, in both header modes.
fn extract_text_via_filter(e: &Env, key: &str) -> Result<String, Failed> {
    let cmd = "image/blind-watermark,method_extract,mode_1";
    let mut texts = Vec::new();
    for url in [
        e.held_url(&format!("/demo/{key}?x-bce-process={cmd}")),
        e.early_url(&format!("/demo/{key}?x-bce-process={cmd}")),
    ] {
        let r = e.curl(Proto::H1, &url, &[])?;
        eq(&format!("{url} status"), r.status, 200)?;
        eq(
            "content-type",
            r.header("content-type"),
            Some("application/json"),
        )?;
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|err| format!("{url}: {err}"))?;
        texts.push(v["text"].as_str().unwrap_or("<no text field>").to_string());
    }
    eq("held vs early extraction", &texts[0], &texts[1])?;
    Ok(texts.swap_remove(0))
}

/// Text mark: embedded by the filter (same image as `imgproc`), uploaded to
/// the storage with a signed PUT, extracted by the filter; then the marked
/// image halved and re-encoded at quality 75 by the filter, uploaded, and
/// extracted again. The unmarked photo gives "".
fn blind_watermark_text(e: &Env) -> Check {
    let text = "demo-ak 2026-11-24 #blind";
    let cmd = format!(
        "image/resize,w_1024/blind-watermark,method_embed,mode_1,text_{}",
        b64url(text)
    );
    let marked = same_as_imgproc(e, PHOTO, &cmd, &[])?;
    check_processed(&marked, "image/jpeg", image::ImageFormat::Jpeg, (1024, 576))?;
    put_storage(e, "marked/text.jpg", &marked.body)?;
    eq(
        "text from the marked upload",
        extract_text_via_filter(e, "marked/text.jpg")?,
        text.to_string(),
    )?;
    // imgproc reads it from the same bytes.
    let (cli, _) = imgproc_process_with_args(
        e,
        "marked/text.jpg",
        "image/blind-watermark,method_extract,mode_1",
        &[],
    )?;
    eq(
        "imgproc extraction",
        String::from_utf8_lossy(&cli).to_string(),
        serde_json::json!({ "text": text }).to_string(),
    )?;
    let half = e.curl(
        Proto::H1,
        &e.held_url("/demo/marked/text.jpg?x-bce-process=image/resize,p_50/quality,Q_75"),
        &[],
    )?;
    check_processed(&half, "image/jpeg", image::ImageFormat::Jpeg, (512, 288))?;
    put_storage(e, "marked/half.jpg", &half.body)?;
    eq(
        "text after half size + q75",
        extract_text_via_filter(e, "marked/half.jpg")?,
        text.to_string(),
    )?;
    eq(
        "unmarked photo",
        extract_text_via_filter(e, PHOTO)?,
        String::new(),
    )
}

/// Image mark: the filter fetches the mark object (`wm/mark.png`, a 1-bit
/// PNG) from the private storage, embeds it (same image as `imgproc`); the
/// 64×64 picture extracted from the upload matches the mark within 5 %.
fn blind_watermark_image(e: &Env) -> Check {
    use image_process_filter::codec;
    use image_process_filter::raster::blind_watermark::mark_bits;
    let cmd = format!(
        "image/resize,w_1024/blind-watermark,method_embed,mode_0,image_{}",
        b64url("wm/mark.png")
    );
    let marked = same_as_imgproc(e, PHOTO, &cmd, &[])?;
    check_processed(&marked, "image/jpeg", image::ImageFormat::Jpeg, (1024, 576))?;
    put_storage(e, "marked/mark.jpg", &marked.body)?;
    let r = e.curl(
        Proto::H1,
        &e.held_url(
            "/demo/marked/mark.jpg?x-bce-process=image/blind-watermark,method_extract,mode_0",
        ),
        &[],
    )?;
    check_processed(&r, "image/png", image::ImageFormat::Png, (64, 64))?;
    let mark = e.object("wm/mark.png");
    let info = codec::probe(&mark).map_err(|err| err.to_string())?;
    let want = mark_bits(&codec::decode(&mark, &info, None).map_err(|err| err.to_string())?)
        .map_err(|err| err.to_string())?;
    let got = image::load_from_memory(&r.body)
        .map_err(|err| err.to_string())?
        .to_luma8();
    let wrong = got
        .pixels()
        .zip(&want)
        .filter(|(p, dark)| (p[0] < 128) != **dark)
        .count();
    ensure(wrong <= 4096 / 20, || {
        format!("{wrong} of 4096 mark bits wrong")
    })?;
    // The same picture as imgproc reads from the same bytes.
    let (cli, stderr) = imgproc_process_with_args(
        e,
        "marked/mark.jpg",
        "image/blind-watermark,method_extract,mode_0",
        &[],
    )?;
    same_image_as_imgproc("mark picture", &r.body, &cli)?;
    eq(
        "x-bce-image-info",
        r.header("x-bce-image-info"),
        Some(stderr.trim()),
    )
}

/// A WebP source is 400 `UnsupportedFormat`, a 256×256 PNG is too small to
/// embed (400 `InvalidArgument`), a missing mark object is 404; bad keys are
/// 400 before the storage is asked.
fn blind_watermark_limits(e: &Env) -> Check {
    let embed = format!(
        "image/blind-watermark,method_embed,mode_1,text_{}",
        b64url("hi")
    );
    // (key, command, status, code, found in the body: early mode has sent
    // its 200 by then and keeps the original)
    let cases = [
        ("flower.webp", embed.clone(), 400, "UnsupportedFormat", true),
        ("pngsuite.png", embed.clone(), 400, "InvalidArgument", true),
        (
            PHOTO,
            format!(
                "image/blind-watermark,method_embed,mode_0,image_{}",
                b64url("wm/absent.png")
            ),
            404,
            "NoSuchKey",
            false,
        ),
        (
            PHOTO,
            "image/blind-watermark,method_embed,mode_1".to_string(),
            400,
            "MissingArgument",
            false,
        ),
    ];
    for (key, cmd, status, code, in_body) in cases {
        for (mode, url) in [
            (
                "held",
                e.held_url(&format!("/demo/{key}?x-bce-process={cmd}")),
            ),
            (
                "early",
                e.early_url(&format!("/demo/{key}?x-bce-process={cmd}")),
            ),
        ] {
            let r = e.curl(Proto::H1, &url, &[])?;
            if mode == "early" && in_body {
                eq(&format!("{mode} {key} {cmd}: status"), r.status, 200)?;
                eq(
                    &format!("{mode} {key}: original kept"),
                    r.body == e.object(key),
                    true,
                )?;
                continue;
            }
            eq(&format!("{mode} {key} {cmd}: status"), r.status, status)?;
            let v: serde_json::Value =
                serde_json::from_slice(&r.body).map_err(|err| format!("{url}: {err}"))?;
            eq(
                &format!("{mode} {key} {cmd}: code"),
                v["code"].as_str(),
                Some(code),
            )?;
            let needle = if code == "NoSuchKey" {
                "wm/absent.png"
            } else {
                "blind-watermark"
            };
            ensure(
                v["message"].as_str().is_some_and(|m| m.contains(needle)),
                || format!("{url}: message {}", v["message"]),
            )?;
        }
    }
    Ok(())
}

fn watermark_missing_object(e: &Env) -> Check {
    let cmd = format!("image/watermark,image_{}", b64url("wm/absent.png"));
    for (mode, url) in [
        (
            "held",
            e.held_url(&format!("/demo/{PHOTO}?x-bce-process={cmd}")),
        ),
        (
            "early",
            e.early_url(&format!("/demo/{PHOTO}?x-bce-process={cmd}")),
        ),
    ] {
        let r = e.curl(Proto::H1, &url, &[])?;
        eq(&format!("{mode}: status"), r.status, 404)?;
        eq(
            &format!("{mode}: content-type"),
            r.header("content-type"),
            Some("application/json"),
        )?;
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|err| format!("{mode}: error body: {err}"))?;
        eq(
            &format!("{mode}: code"),
            v["code"].as_str(),
            Some("NoSuchKey"),
        )?;
        ensure(
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("'demo/wm/absent.png'")),
            || format!("{mode}: message {}", v["message"]),
        )?;
    }
    Ok(())
}

/// The e2e config keeps objects fresh for 2 s: a second request within them
/// never reaches the storage; after them the filter revalidates with
/// `If-None-Match`, and a changed object (new ETag) changes the output and
/// its ETag.
fn watermark_cache(e: &Env) -> Check {
    let key = "wm/cache.png";
    let fetches = || e.upstream_requests_with(&format!("uri: /demo/{key},"));
    let write = |rgba: [u8; 4]| -> Check {
        let img = image::RgbaImage::from_pixel(24, 24, image::Rgba(rgba));
        img.save(e.bucket.join(key))
            .map_err(|err| err.to_string().into())
    };
    write([255, 0, 0, 255])?;
    let hits_series = "image_process_filter_objects_cache_hits{}";
    let hits = || -> Result<f64, Failed> {
        if !e.metrics_readable() {
            return Ok(0.0);
        }
        Ok(prometheus_value(e, hits_series)?.ok_or("no cache-hit metric")?)
    };
    let hits_before = hits()?;
    let url = e.held_url(&format!(
        "/demo/pngsuite.png?x-bce-process=image/watermark,image_{},P_20,g_1,x_0,y_0/format,f_png",
        b64url(key)
    ));
    let first = e.curl(Proto::H1, &url, &[])?;
    eq("status", first.status, 200)?;
    eq("fetches after the first request", fetches().len(), 1)?;
    ensure(!fetches()[0].contains("if-none-match"), || {
        "the first fetch was conditional".into()
    })?;
    let second = e.curl(Proto::H1, &url, &[])?;
    eq("fetches after a cache hit", fetches().len(), 1)?;
    if e.metrics_readable() {
        eq("cache-hit metric", hits()? - hits_before, 1.0)?;
    }
    ensure(second.body == first.body, || {
        "cache hit changed the output".into()
    })?;
    eq(
        "etag of a cache hit",
        second.header("etag"),
        first.header("etag"),
    )?;
    // A new object: after the freshness lifetime the filter revalidates.
    write([0, 0, 255, 255])?;
    std::thread::sleep(std::time::Duration::from_millis(2600));
    let third = e.curl(Proto::H1, &url, &[])?;
    let seen = fetches();
    eq("fetches after expiry", seen.len(), 2)?;
    ensure(seen[1].contains("if-none-match"), || {
        format!("not revalidated: {}", seen[1])
    })?;
    ensure(third.body != first.body, || {
        "the changed watermark did not show".into()
    })?;
    ensure(third.header("etag") != first.header("etag"), || {
        "the etag did not change".into()
    })?;
    let img = image::load_from_memory(&third.body)
        .map_err(|err| err.to_string())?
        .to_rgb8();
    let [r, g, b] = img.get_pixel(10, 10).0;
    ensure(r < 16 && g < 16 && b > 239, || {
        format!("new watermark colour: got {:?}, want blue", [r, g, b])
    })?;
    // Unchanged object: revalidated again, same output.
    std::thread::sleep(std::time::Duration::from_millis(2600));
    let fourth = e.curl(Proto::H1, &url, &[])?;
    eq("fetches after the second expiry", fetches().len(), 3)?;
    ensure(fourth.body == third.body, || {
        "an unchanged watermark changed the output".into()
    })
}

/// Writes the test bucket: the samples plus files made for edge cases.
fn make_bucket(dir: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for key in [
        PHOTO,
        "pngsuite.png",
        "alpha.png",
        "flower.webp",
        "hello.txt",
    ] {
        std::fs::copy(samples.join(key), dir.join(key))?;
    }
    std::fs::create_dir_all(dir.join("wm"))?;
    std::fs::copy(samples.join("alpha.png"), dir.join("wm/logo.png"))?;
    // A 1-bit PNG (PngSuite basn0g01, 32x32) as a blind-watermark mark.
    std::fs::copy(
        corpus::corpus_dir().join("png/basn0g01.png"),
        dir.join("wm/mark.png"),
    )?;
    std::fs::create_dir_all(dir.join("fonts"))?;
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/OpenSans-Regular.ttf"),
        dir.join(SANS),
    )?;
    // Every hostile file of the corpus (issue 7's table).
    std::fs::create_dir_all(dir.join("hostile"))?;
    for entry in std::fs::read_dir(corpus::corpus_dir().join("hostile"))? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, dir.join("hostile").join(name))?;
        }
    }
    // And the fuzz finding of rav1d#1497 (a corpus AVIF with two bytes of AV1
    // data changed), without the fuzz target's command byte.
    let rav1d_1497 = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions/decode_pipeline/rav1d-1497-crash-a651d723.bin"),
    )?;
    std::fs::write(
        dir.join("hostile/rav1d_1497_corrupt_av1.avif"),
        &rav1d_1497[1..],
    )?;
    // Protected by the plugin config (`demo/private/*`).
    std::fs::create_dir_all(dir.join("private"))?;
    std::fs::copy(samples.join(PHOTO), dir.join("private/photo.jpg"))?;
    std::fs::copy(samples.join("alpha.png"), dir.join("private/alpha.png"))?;
    let corpus = corpus::corpus_dir();
    std::fs::copy(
        corpus.join("orientation/Landscape_6.jpg"),
        dir.join("Landscape_6.jpg"),
    )?;
    // The same photo as an 8-bit RGB PNG (about 1 MB), which arrives in
    // many chunks.
    image::load_from_memory(&std::fs::read(corpus.join("orientation/Landscape_6.jpg"))?)
        .map_err(std::io::Error::other)?
        .into_rgb8()
        .save(dir.join(PHOTO_PNG))
        .map_err(std::io::Error::other)?;
    for (from, to) in [
        ("bmp/bmpsuite_g_rgb24.bmp", "src.bmp"),
        ("gif/hopper.gif", "src.gif"),
        ("avif/hopper.avif", "src.avif"),
        ("heic/RGBA_8__128x128.heif", "src.heic"),
        ("gif/animated.gif", "anim.gif"),
    ] {
        std::fs::copy(corpus.join(from), dir.join(to))?;
    }
    // A real JPEG with an MP4 header and 8 KiB of "video" appended.
    let mut hidden = std::fs::read(corpus.join("orientation/Landscape_6.jpg"))?;
    hidden.extend_from_slice(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41");
    hidden.extend(std::iter::repeat_n(0x11, 8192));
    std::fs::write(dir.join("hidden.jpg"), hidden)?;
    // JPEG magic, then nothing a decoder can use.
    let mut corrupt = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    corrupt.extend(std::iter::repeat_n(0x5A, 4000));
    std::fs::write(dir.join("corrupt.jpg"), corrupt)?;
    // 2 MB of text: a non-image large enough to wait in nginx's temporary
    // file (envoy_e2e/buffering.rs).
    std::fs::write(
        dir.join(buffering::LARGE_TEXT),
        "0123456789abcdef".repeat(64 * 2000),
    )?;
    // 21 MB: over the 20 MB processing limit, so it must pass through untouched.
    let mut big = std::fs::read(samples.join(PHOTO))?;
    big.resize(21 * 1024 * 1024, 0xAB);
    std::fs::write(dir.join("big.jpg"), big)
}

/// The e2e plugin config: a short cache lifetime and the font `Sans`.
fn watermark_config() -> (String, String) {
    (
        "\"object_cache_ttl_seconds\": 60".into(),
        format!("\"object_cache_ttl_seconds\": 2, \"fonts\": {{ \"Sans\": \"demo/{SANS}\" }}"),
    )
}

fn tools_from_env() -> Option<Tools> {
    let nginx = match (
        std::env::var_os("IPF_NGINX"),
        std::env::var_os("IPF_NGINX_MODULE"),
    ) {
        (Some(nginx), Some(module)) => Some(NginxTools {
            nginx: nginx.into(),
            module: module.into(),
        }),
        _ => None,
    };
    Some(Tools {
        envoy: std::env::var_os("IPF_ENVOY")?.into(),
        s3s_fs: std::env::var_os("IPF_S3S_FS")?.into(),
        wasm: std::env::var_os("IPF_WASM")?.into(),
        nginx,
    })
}

/// The proxy of this run (`IPF_HOST`: `envoy`, the default, or `nginx`).
fn host_from_env() -> Result<ProxyHost, String> {
    match std::env::var("IPF_HOST").as_deref() {
        Err(_) | Ok("envoy") => Ok(ProxyHost::Envoy),
        Ok("nginx") => Ok(ProxyHost::Nginx),
        Ok(other) => Err(format!("IPF_HOST={other}: want envoy or nginx")),
    }
}

/// The header mode of the stack the cases call `held` (the one with exact
/// headers): Envoy's `held` by default, `local_reply` with
/// `IPF_EXACT_MODE=local_reply` (the mode Istio and Envoy Gateway would need);
/// always `local_reply` on nginx, which cannot hold headers.
fn exact_mode_from_env(host: ProxyHost) -> Result<&'static str, String> {
    match (host, std::env::var("IPF_EXACT_MODE").as_deref()) {
        (ProxyHost::Nginx, Err(_) | Ok("local_reply")) => Ok("local_reply"),
        (ProxyHost::Envoy, Err(_) | Ok("held")) => Ok("held"),
        (ProxyHost::Envoy, Ok("local_reply")) => Ok("local_reply"),
        (host, Ok(other)) => Err(format!(
            "IPF_EXACT_MODE={other} on {}: want held or local_reply (nginx: local_reply)",
            host.name()
        )),
    }
}

fn start(tools: &Tools, host: ProxyHost) -> Result<Env, String> {
    let exact_mode = exact_mode_from_env(host)?;
    let work = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/e2e")
        .join(match (host, exact_mode) {
            (ProxyHost::Envoy, "local_reply") => "envoy-local_reply",
            _ => host.name(),
        });
    let bucket = work.join("bucket");
    make_bucket(&bucket).map_err(|e| format!("making the bucket: {e}"))?;
    let scratch = work.join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let jpeg = std::fs::read(corpus::corpus_dir().join(faults::FAULT_JPEG))
        .map_err(|e| format!("{}: {e}", faults::FAULT_JPEG))?;
    let faults = fault_upstream::FaultUpstream::start(jpeg)
        .map_err(|e| format!("starting the fault upstream: {e}"))?;
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join(host.template());
    let (held_mode, routes) = match host {
        ProxyHost::Envoy => ("\"header_mode\": \"held\"", fault_routes(faults.port)),
        ProxyHost::Nginx => (
            "\"header_mode\": \"local_reply\"",
            nginx_fault_location(faults.port),
        ),
    };
    let exact = if host == ProxyHost::Envoy && exact_mode == "local_reply" {
        envoy_local_reply()
    } else {
        Vec::new()
    };
    let held = Stack::start(
        tools,
        &StackOptions {
            host,
            config_template: template.clone(),
            listen_port: 0,
            bucket_dir: bucket.clone(),
            work_dir: work.join("held"),
            concurrency: 1,
            // Routes first: nginx's fault location copies the shipped plugin
            // configuration, which the later replacements then edit too.
            replacements: [routes.clone(), exact, vec![watermark_config()]].concat(),
        },
    )?;
    let early = Stack::start(
        tools,
        &StackOptions {
            host,
            config_template: template,
            listen_port: 0,
            bucket_dir: bucket.clone(),
            work_dir: work.join("early"),
            concurrency: 1,
            replacements: routes
                .into_iter()
                .chain([
                    (held_mode.into(), "\"header_mode\": \"early\"".into()),
                    // The early stack runs with persistence off.
                    (
                        "\"persistence\": { \"enabled\": true".into(),
                        "\"persistence\": { \"enabled\": false".into(),
                    ),
                    watermark_config(),
                ])
                .collect(),
        },
    )?;
    Ok(Env {
        host,
        held_port: held.listen_port,
        early_port: early.listen_port,
        held_h2_port: held.h2_port,
        early_h2_port: early.h2_port,
        storage_port: held.storage_port,
        storage_log: held.storage_log.clone(),
        held: Mutex::new(held),
        early: Mutex::new(early),
        bucket,
        scratch,
        python: std::env::var_os("IPF_PYTHON").map(PathBuf::from),
        faults,
    })
}

/// nginx's `/faults/` location: the misbehaving storage of
/// `envoy_e2e/faults.rs` on `port`, with a 3 s read timeout, and the filter
/// reading its originals there too (`upstream_cluster`).
fn nginx_fault_location(port: u16) -> Vec<(String, String)> {
    let shipped = include_str!("../../nginx/nginx.conf");
    let start = shipped.find("        location / {").unwrap_or(0);
    let end = shipped[start..]
        .find("\n        }\n")
        .map_or(shipped.len(), |i| start + i + "\n        }\n".len());
    let location = shipped[start..end]
        .replace("location / {", "location /faults/ {")
        .replace("proxy_read_timeout 60s;", "proxy_read_timeout 3s;")
        .replace(
            "\"original_read_timeout_ms\": 60000",
            "\"original_read_timeout_ms\": 3000",
        )
        .replace(
            "proxy_pass http://storage;",
            &format!("proxy_pass http://127.0.0.1:{port};"),
        )
        .replace(
            "\"upstream_cluster\": \"127.0.0.1:9000\"",
            &format!("\"upstream_cluster\": \"127.0.0.1:{port}\""),
        );
    vec![(
        "        location / {".into(),
        format!("{location}\n        location / {{"),
    )]
}

/// Config replacements turning the Envoy `held` stack into `local_reply`.
///
/// A filter config cannot differ per route in Envoy, so the filter's reads of
/// originals go to cluster `originals`: a second listener of the same Envoy
/// that routes `/faults/` to the fault storage and the rest to `storage`, as
/// the main listener does. Its route timeouts are longer than the filter's
/// own read timeout (3 s, the fault route's), so a stalled fault is the
/// filter's timeout, as on nginx.
fn envoy_local_reply() -> Vec<(String, String)> {
    let originals_port = stack::free_port();
    vec![
        (
            "\"header_mode\": \"held\",".into(),
            "\"header_mode\": \"local_reply\", \"original_read_timeout_ms\": 3000,".into(),
        ),
        (
            "\"upstream_cluster\": \"storage\",".into(),
            "\"upstream_cluster\": \"originals\",".into(),
        ),
        (
            "  listeners:\n".into(),
            format!(
                "  listeners:\n  - name: originals\n    address:\n      \
                 socket_address: {{ address: 127.0.0.1, port_value: {originals_port} }}\n    \
                 per_connection_buffer_limit_bytes: 33554432\n    filter_chains:\n    \
                 - filters:\n      - name: envoy.filters.network.http_connection_manager\n        \
                 typed_config:\n          \
                 \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n          \
                 stat_prefix: originals\n          route_config:\n            \
                 virtual_hosts:\n            - name: originals\n              \
                 domains: [\"*\"]\n              routes:\n              \
                 - match: {{ prefix: \"/faults/\" }}\n                \
                 route: {{ cluster: faults, timeout: 10s }}\n              \
                 - match: {{ prefix: \"/\" }}\n                \
                 route: {{ cluster: storage, timeout: 60s }}\n          \
                 http_filters:\n          - name: envoy.filters.http.router\n            \
                 typed_config:\n              \
                 \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n"
            ),
        ),
        add_static_cluster("originals", originals_port),
    ]
}

/// The config replacement adding a static cluster `name` on 127.0.0.1:`port`
/// (32 MiB buffer limit, like `storage`).
fn add_static_cluster(name: &str, port: u16) -> (String, String) {
    (
        "  clusters:\n".into(),
        format!(
            "  clusters:\n  - name: {name}\n    type: STATIC\n    connect_timeout: 2s\n    \
             per_connection_buffer_limit_bytes: 33554432\n    load_assignment:\n      \
             cluster_name: {name}\n      endpoints:\n      - lb_endpoints:\n        \
             - endpoint:\n            address:\n              \
             socket_address: {{ address: 127.0.0.1, port_value: {port} }}\n"
        ),
    )
}

/// Config replacements adding route `/faults/` (3 s route timeout) to cluster
/// `faults`, the misbehaving storage of `envoy_e2e/faults.rs` on `port`.
fn fault_routes(port: u16) -> Vec<(String, String)> {
    vec![
        (
            "              - match: { prefix: \"/\" }\n".into(),
            "              - match: { prefix: \"/faults/\" }\n                \
             route: { cluster: faults, timeout: 3s }\n              \
             - match: { prefix: \"/\" }\n"
                .into(),
        ),
        add_static_cluster("faults", port),
    ]
}

fn main() {
    let mut args = Arguments::from_args();
    // One at a time, in order: the last case checks that nothing before it trapped.
    args.test_threads = Some(1);
    let host = match host_from_env() {
        Ok(host) => host,
        Err(e) => {
            eprintln!("envoy_e2e: {e}");
            std::process::exit(1);
        }
    };
    let Some(tools) = tools_from_env() else {
        let missing = format!(
            "not run: {} not set (this suite drives the real proxy, storage and .wasm); \
             run `cargo xtask test`",
            ["IPF_ENVOY", "IPF_S3S_FS", "IPF_WASM"]
                .into_iter()
                .filter(|v| std::env::var_os(v).is_none())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let trials = cases()
            .into_iter()
            .map(|(name, _)| {
                // Ignored by a plain `cargo test`; run anyway
                // (`--include-ignored`), each fails naming what is missing.
                let missing = missing.clone();
                Trial::test(name, move || Err(missing.into())).with_ignored_flag(true)
            })
            .collect();
        eprintln!("envoy_e2e: IPF_ENVOY/IPF_S3S_FS/IPF_WASM not set; run `cargo xtask test`");
        libtest_mimic::run(&args, trials).exit();
    };
    let env = match start(&tools, host) {
        Ok(env) => Arc::new(env),
        Err(e) => {
            eprintln!("envoy_e2e: could not start the stack: {e}");
            std::process::exit(1);
        }
    };
    let mut trials: Vec<Trial> = cases()
        .into_iter()
        .map(|(name, f)| {
            let env = Arc::clone(&env);
            let ignored = match host {
                ProxyHost::Envoy => NGINX_ONLY.contains(&name),
                ProxyHost::Nginx => ENVOY_ONLY.contains(&name),
            };
            Trial::test(name, move || f(&env)).with_ignored_flag(ignored)
        })
        .collect();
    let env_for_health = Arc::clone(&env);
    trials.push(Trial::test(
        match host {
            ProxyHost::Envoy => "envoy_survives_and_vm_never_reloaded",
            ProxyHost::Nginx => "nginx_survives_and_no_worker_trapped",
        },
        move || vm_health(&env_for_health),
    ));
    let conclusion = libtest_mimic::run(&args, trials);
    if let Ok(mut s) = env.held.lock() {
        s.stop();
    }
    if let Ok(mut s) = env.early.lock() {
        s.stop();
    }
    conclusion.exit();
}

/// Cases that test what only Envoy has: its admin interface's statistics
/// (ngx_wasm_module's metrics are read through Kong's Lua API, which plain
/// nginx lacks).
const ENVOY_ONLY: &[&str] = &[
    "metrics_in_stats_and_prometheus",
    "thumbnail_decoded_while_the_body_arrives",
];

/// Cases about what only nginx has: its proxy buffering into temporary files.
const NGINX_ONLY: &[&str] = &["nginx_proxy_buffering_temp_file"];

/// The proxy is still up, and the VM never trapped: on Envoy no VM was
/// reloaded (a reload would mean a trap); on nginx its error log shows no
/// trap, panic or crashed worker.
fn vm_health(e: &Env) -> Check {
    for stack in [&e.held, &e.early] {
        let mut s = stack.lock().map_err(|_| "lock")?;
        ensure(s.all_running(), || "a process of the stack died".into())?;
        if s.host == ProxyHost::Nginx {
            let trouble = s.nginx_trouble();
            ensure(trouble.is_empty(), || {
                format!("nginx's error log: {}", trouble.join("\n"))
            })?;
            continue;
        }
        let stats = s
            .admin_get("/stats?filter=wasm")
            .map_err(|err| err.to_string())?;
        ensure(
            stats.contains("wasm.image_process_filter.vm_reload_success:"),
            || format!("no reload stats for the plugin: {stats}"),
        )?;
        for line in stats
            .lines()
            .filter(|l| l.contains("vm_reload") || l.contains("vm_failed"))
        {
            let value = line.rsplit(':').next().unwrap_or_default().trim();
            ensure(value == "0", || format!("VM trouble: {line}"))?;
        }
    }
    Ok(())
}
