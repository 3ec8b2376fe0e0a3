//! nginx with `proxy_buffering on` (issue 18): an upstream answer that nginx
//! cannot hand to a slow client at once is held in a temporary file, and the
//! output filters, ngx_wasm_module's among them, then get buffers that point
//! into that file (`in_file`) instead of memory.
//!
//! nginx only. Two stacks of their own run the shipped `nginx/nginx.conf`, one
//! in `local_reply` and one in `early` mode, with `proxy_buffering off`
//! replaced by buffering into four 8 KiB buffers and a temporary file. Every
//! answer must equal the shipped (unbuffered) stack's answer to the same
//! request, and each stack's error log must name the temporary file for
//! exactly the requests that were meant to take that path.

use super::*;
use std::io::{Read, Write};
use std::time::Duration;

pub fn cases() -> Vec<Case> {
    vec![("nginx_proxy_buffering_temp_file", temp_file)]
}

/// What the shipped location's `proxy_buffering off;` becomes: 32 KiB of
/// memory buffers, the rest of an answer the client has not taken yet in a
/// temporary file under the stack's prefix.
const BUFFERING_ON: &str = "proxy_buffering on;
            proxy_buffers 4 8k;
            proxy_busy_buffers_size 16k;
            proxy_max_temp_file_size 1024m;
            proxy_temp_file_write_size 16k;
            proxy_temp_path proxy_temp;";

/// nginx's warning, once per request, when it first writes a temporary file.
const TEMP_FILE_WARNING: &str = "an upstream response is buffered to a temporary file";

/// How long the slow client leaves an answer unread.
const CLIENT_PAUSE: Duration = Duration::from_millis(400);

/// A large object that is not an image (2 MB of text).
pub const LARGE_TEXT: &str = "large.txt";

/// One request of the table below.
struct Probe {
    what: &'static str,
    method: &'static str,
    path: String,
    header: Option<&'static str>,
    /// What the answer must be, besides the unbuffered stack's answer.
    expect: Expect,
    /// Whether nginx must hold this answer in a temporary file.
    spills: bool,
}

enum Expect {
    /// The photo resized to 300x169, as a JPEG.
    Processed,
    /// 200 and no body.
    Head,
    /// 200 and the whole object.
    Object(&'static str),
    /// 206 and bytes 100-1400099 of the photo.
    Range,
    NotFound,
}

fn temp_file(e: &Env) -> Check {
    let tools = tools_from_env().ok_or("IPF_* not set")?;
    // Both stacks start (and compile the module) at once, and their cases run
    // side by side.
    let results: Vec<Check> = std::thread::scope(|scope| {
        let runs: Vec<_> = ["local_reply", "early"]
            .into_iter()
            .map(|mode| {
                let tools = &tools;
                scope.spawn(move || {
                    let mut stack = start_buffered(e, tools, mode)
                        .map_err(|err| format!("{mode}: starting the buffered stack: {err}"))?;
                    let checked = check_mode(e, &stack, mode);
                    stack.stop();
                    checked
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap_or_else(|_| Err("a mode panicked".into())))
            .collect()
    });
    for result in results {
        result?;
    }
    Ok(())
}

/// The shipped config with buffering on, in `mode`. Its listener's socket
/// send buffer is 64 KiB: on loopback Linux grows a socket's send buffer to
/// 4 MiB, which holds a whole 1.5 MB image, so without this only answers of
/// several MB would ever wait in nginx; with it an image does, as it would
/// for a slow client on a real network.
fn start_buffered(e: &Env, tools: &Tools, mode: &str) -> Result<Stack, String> {
    let port = stack::free_port();
    let mut replacements = vec![
        ("proxy_buffering off;".to_string(), BUFFERING_ON.to_string()),
        (
            format!("listen 127.0.0.1:{port};"),
            format!("listen 127.0.0.1:{port} sndbuf=64k;"),
        ),
    ];
    if mode == "early" {
        // As the suite's early stack: early mode, persistence off.
        replacements.extend([
            (
                "\"header_mode\": \"local_reply\"".to_string(),
                "\"header_mode\": \"early\"".to_string(),
            ),
            (
                "\"persistence\": { \"enabled\": true".to_string(),
                "\"persistence\": { \"enabled\": false".to_string(),
            ),
        ]);
    }
    Stack::start(
        tools,
        &StackOptions {
            host: ProxyHost::Nginx,
            config_template: Path::new(env!("CARGO_MANIFEST_DIR")).join("nginx/nginx.conf"),
            listen_port: port,
            bucket_dir: e.bucket.clone(),
            work_dir: e.scratch.join(format!("buffered-{mode}")),
            concurrency: 1,
            replacements,
        },
    )
}

fn check_mode(e: &Env, stack: &Stack, mode: &str) -> Check {
    let early = mode == "early";
    let resize = "x-bce-process=image/resize,w_300/quality,Q_60";
    let marked = |what: &str, key: &str, command: &str| {
        let marker = format!("marker=buffered-{mode}-{what}");
        if command.is_empty() {
            format!("/demo/{key}?{marker}")
        } else {
            format!("/demo/{key}?{marker}&{command}")
        }
    };
    let mut probes = vec![
        // Read by the filter itself (local_reply) or buffered in the
        // filter's memory (early): never a temporary file.
        Probe {
            what: "processed",
            method: "GET",
            path: marked("processed", PHOTO, resize),
            header: None,
            expect: Expect::Processed,
            spills: false,
        },
        Probe {
            what: "HEAD processed",
            method: "HEAD",
            path: marked("head", PHOTO, resize),
            header: None,
            expect: Expect::Head,
            spills: false,
        },
        Probe {
            what: "pass-through",
            method: "GET",
            path: marked("plain", PHOTO, ""),
            header: None,
            expect: Expect::Object(PHOTO),
            spills: true,
        },
        Probe {
            what: "range pass-through",
            method: "GET",
            path: marked("range", PHOTO, ""),
            header: Some("Range: bytes=100-1400099"),
            expect: Expect::Range,
            spills: true,
        },
        // Handed back by the filter (local_reply: the answer of proxy_pass
        // waits in the file), or buffered in the filter's memory, found not
        // to be an image and let go whole (early: nothing waits).
        Probe {
            what: "non-image with a command",
            method: "GET",
            path: marked("text", LARGE_TEXT, resize),
            header: None,
            expect: Expect::Object(LARGE_TEXT),
            spills: !early,
        },
        // nginx answers a HEAD without reading the upstream's body, so the
        // filter never sees (nor empties) the chunks of a HEAD it read with GET.
        Probe {
            what: "HEAD non-image with a command",
            method: "HEAD",
            path: marked("text-head", LARGE_TEXT, resize),
            header: None,
            expect: Expect::Head,
            spills: false,
        },
        Probe {
            what: "404",
            method: "GET",
            path: marked("missing", "missing.jpg", resize),
            header: None,
            expect: Expect::NotFound,
            spills: false,
        },
    ];
    if early {
        // Let go in the headers phase (its Content-Length is over the
        // limit), so it streams and waits in the file. (local_reply hands it
        // back as it does the text, after reading all 21 MB through its
        // socket first: 6 s here.)
        probes.push(Probe {
            what: "over max_body_bytes",
            method: "GET",
            path: marked("big", "big.jpg", resize),
            header: None,
            expect: Expect::Object("big.jpg"),
            spills: true,
        });
    }
    let workers = stack.nginx_worker_pids();
    eq(&format!("{mode}: nginx workers"), workers.len(), 1)?;
    let photo = e.object(PHOTO);
    for probe in &probes {
        let what = format!("{mode}: {}", probe.what);
        let got = slow_request(
            &stack.url(&probe.path),
            probe.method,
            probe.header,
            CLIENT_PAUSE,
        )
        .map_err(|err| format!("{what}: {}", err.message().unwrap_or_default()))?;
        // The same request to the suite's (unbuffered) stack of this mode.
        let url = if early {
            e.early_url(&probe.path)
        } else {
            e.held_url(&probe.path)
        };
        let mut extra = Vec::new();
        if probe.method == "HEAD" {
            extra.push("-I");
        }
        if let Some(header) = probe.header {
            extra.extend(["-H", header]);
        }
        let want = e.curl(Proto::H1, &url, &extra)?;
        eq(&format!("{what}: status"), got.status, want.status)?;
        // (curl -I writes the headers where the body goes)
        ensure(probe.method == "HEAD" || got.body == want.body, || {
            format!(
                "{what}: {} bytes, the unbuffered stack's {} bytes, not the same",
                got.body.len(),
                want.body.len()
            )
        })?;
        for name in [
            "content-type",
            "content-length",
            "transfer-encoding",
            "content-range",
            "etag",
            "content-md5",
            "x-bce-image-info",
        ] {
            eq(
                &format!("{what}: {name} (buffered vs unbuffered)"),
                got.header(name),
                want.header(name),
            )?;
        }
        // What the answers must be, not only alike.
        match probe.expect {
            Expect::Processed if early => {
                eq(
                    &format!("{what}: decoded"),
                    decode(&got.body)?,
                    (image::ImageFormat::Jpeg, 300, 169),
                )?;
                eq(
                    &format!("{what}: transfer-encoding"),
                    got.header("transfer-encoding"),
                    Some("chunked"),
                )?;
            }
            Expect::Processed => {
                check_processed(&got, "image/jpeg", image::ImageFormat::Jpeg, (300, 169))
                    .map_err(|err| format!("{what}: {}", err.message().unwrap_or_default()))?;
            }
            Expect::Head => {
                eq(&format!("{what}: status"), got.status, 200)?;
                ensure(got.body.is_empty(), || {
                    format!("{what}: {} bytes of body", got.body.len())
                })?;
            }
            Expect::Object(key) => {
                let object = e.object(key);
                eq(&format!("{what}: status"), got.status, 200)?;
                ensure(got.body == object, || {
                    format!("{what}: body differs from the object {key}")
                })?;
                // (early mode sends what it meant to process chunked: the
                // text; the over-size image was let go in the headers phase)
                if !(early && key == LARGE_TEXT) {
                    eq(
                        &format!("{what}: content-length"),
                        got.header("content-length"),
                        Some(object.len().to_string().as_str()),
                    )?;
                }
            }
            Expect::Range => {
                eq(&format!("{what}: status"), got.status, 206)?;
                ensure(got.body == photo[100..1_400_100], || {
                    format!("{what}: body differs from bytes 100-1400099 of the object")
                })?;
                eq(
                    &format!("{what}: content-length"),
                    got.header("content-length"),
                    Some("1400000"),
                )?;
                eq(
                    &format!("{what}: content-range"),
                    got.header("content-range"),
                    Some(format!("bytes 100-1400099/{}", photo.len()).as_str()),
                )?;
            }
            Expect::NotFound => eq(&format!("{what}: status"), got.status, 404)?,
        }
    }

    // The temporary file was written for exactly the answers meant to use it.
    let log = std::fs::read_to_string(&stack.proxy_log).map_err(|err| err.to_string())?;
    for probe in &probes {
        let request = format!("request: \"{} {} HTTP/1.1\"", probe.method, probe.path);
        let spilled = log
            .lines()
            .any(|l| l.contains(TEMP_FILE_WARNING) && l.contains(&request));
        eq(
            &format!("{mode}: {}: held in a temporary file", probe.what),
            spilled,
            probe.spills,
        )?;
    }
    let trouble: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[error]") || stack::NGINX_TROUBLE.iter().any(|t| l.contains(t)))
        .collect();
    ensure(trouble.is_empty(), || {
        format!("{mode}: nginx's error log: {}", trouble.join("\n"))
    })?;

    // The same worker, and idle: not spinning in the event pipe.
    eq(
        &format!("{mode}: nginx workers after"),
        stack.nginx_worker_pids(),
        workers.clone(),
    )?;
    let before = cpu_ticks(workers[0]).ok_or("no /proc stat of the worker")?;
    std::thread::sleep(Duration::from_millis(500));
    let after = cpu_ticks(workers[0]).ok_or("no /proc stat of the worker")?;
    ensure(after - before < 10, || {
        format!(
            "{mode}: the idle worker used {} clock ticks in 0.5 s",
            after - before
        )
    })
}

/// User plus system CPU time of a process, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses: state is the
    // first, utime and stime the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// One HTTP/1.1 request on a connection of its own, whose answer is left
/// unread for `pause` first, as a slow client leaves it: meanwhile nginx
/// reads on from the storage into its buffers and then its temporary file.
/// A chunked body is returned decoded; a HEAD's body is whatever came after
/// the headers.
fn slow_request(
    url: &str,
    method: &str,
    header: Option<&str>,
    pause: Duration,
) -> Result<Response, Failed> {
    let rest = url.strip_prefix("http://").ok_or("not an http URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut conn = std::net::TcpStream::connect(authority).map_err(|err| err.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|err| err.to_string())?;
    let header = header.map(|h| format!("{h}\r\n")).unwrap_or_default();
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n{header}\r\n"
    )
    .map_err(|err| err.to_string())?;
    std::thread::sleep(pause);
    let mut got = Vec::new();
    conn.read_to_end(&mut got).map_err(|err| err.to_string())?;
    let end = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let (status, headers) = parse_head(&String::from_utf8_lossy(&got[..end]))?;
    let mut body = got[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked && method != "HEAD" {
        body = dechunk(&body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The data of a complete chunked body (no trailers expected).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, Failed> {
    let mut out = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size line not ended")?;
        let line = String::from_utf8_lossy(&rest[..line_end]).into_owned();
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|err| format!("chunk size '{line}': {err}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or("chunk cut short")?;
        out.extend_from_slice(chunk);
        ensure(rest.get(size..size + 2) == Some(b"\r\n"), || {
            "chunk not followed by CRLF".into()
        })?;
        rest = &rest[size + 2..];
    }
}
