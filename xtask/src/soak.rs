//! `cargo xtask soak [--host envoy|nginx] [--seconds N] [--concurrency C]`:
//! the demo stack (s3s-fs and Envoy or nginx with the filter, 2 workers)
//! driven by `wrk` with a mix of processed, pass-through and bad requests,
//! checking every answer.
//!
//! - wrk runs C threads with one connection each and no pipelining, so each
//!   thread's requests and responses alternate and its Lua script knows which
//!   request every response answers. The script checks status, `Content-Type`,
//!   `x-bce-image-info`, length and magic bytes of every response against its
//!   kind, and counts the answers per kind.
//! - Every 2 s a processed URL of each kind is fetched beside the load and
//!   decoded in full by `imgproc` (format conversion to PNG): its size must
//!   be the expected one, and its bytes the same as the first fetch.
//! - The proxy's RSS (`VmRSS`: Envoy's, or the sum of nginx's workers) is
//!   read every second. The first reading after the
//!   warm-up (a quarter of the run, at least 5 s) and the last must satisfy
//!   last ≤ first × 1.2 + 16 MiB: each worker's VM keeps its linear memory at
//!   its high-water mark, so after warm-up RSS must stay flat; the margin
//!   covers allocator noise and Envoy's own buffers, not a leak per request.
//! - No Wasm VM may fail or be reloaded (Envoy's `wasm.*` stats); on nginx,
//!   no trap, panic or crashed worker in the error log and the same worker
//!   processes at the end as at the start.
//!
//! No assertion on speed: the numbers are printed, not judged.

use crate::{root, run, tools, Result};
use ipf_test_support::stack::{self, Stack, StackOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One kind of request in the mix and what its answer must be.
struct Kind {
    name: &'static str,
    path: &'static str,
    status: u16,
    content_type: Option<&'static str>,
    /// `x-bce-image-info` (processed) — and the size a full decode must give.
    image: Option<(u32, u32)>,
    /// Exact body length (pass-through), bytes.
    length: Option<usize>,
    /// The body starts with these bytes.
    magic: Option<&'static [u8]>,
    /// The body contains this text (error codes).
    contains: Option<&'static str>,
}

fn kinds(bucket: &Path) -> Result<Vec<Kind>> {
    let len = |key: &str| -> Result<usize> {
        std::fs::metadata(bucket.join(key))
            .map(|m| m.len() as usize)
            .map_err(|e| format!("{key}: {e}"))
    };
    Ok(vec![
        Kind {
            name: "style thumb (JPEG)",
            path: "/demo/photo.jpg?x-bce-process=style/thumb",
            status: 200,
            content_type: Some("image/jpeg"),
            image: Some((200, 113)),
            length: None,
            magic: Some(b"\xFF\xD8\xFF"),
            contains: None,
        },
        Kind {
            name: "resize + WebP",
            path: "/demo/photo.jpg?x-bce-process=image/resize,m_lfit,w_300/format,f_webp",
            status: 200,
            content_type: Some("image/webp"),
            image: Some((300, 169)),
            length: None,
            magic: Some(b"RIFF"),
            contains: None,
        },
        Kind {
            name: "WebP -> PNG",
            path: "/demo/flower.webp?x-bce-process=image/resize,w_120/format,f_png",
            status: 200,
            content_type: Some("image/png"),
            image: Some((120, 90)),
            length: None,
            magic: Some(b"\x89PNG"),
            contains: None,
        },
        Kind {
            name: "PNG -> WebP",
            path: "/demo/alpha.png?x-bce-process=image/resize,w_16/format,f_webp",
            status: 200,
            content_type: Some("image/webp"),
            image: Some((16, 16)),
            length: None,
            magic: Some(b"RIFF"),
            contains: None,
        },
        Kind {
            name: "pass-through WebP",
            path: "/demo/flower.webp",
            status: 200,
            content_type: None,
            image: None,
            length: Some(len("flower.webp")?),
            magic: Some(b"RIFF"),
            contains: None,
        },
        Kind {
            name: "pass-through text",
            path: "/demo/hello.txt",
            status: 200,
            content_type: None,
            image: None,
            length: Some(len("hello.txt")?),
            magic: None,
            contains: None,
        },
        Kind {
            name: "bad command (400)",
            path: "/demo/photo.jpg?x-bce-process=image/resize,w_0",
            status: 400,
            content_type: Some("application/json"),
            image: None,
            length: None,
            magic: None,
            contains: Some("\"code\":\"InvalidArgument\""),
        },
        Kind {
            name: "missing object (404)",
            path: "/demo/missing.jpg?x-bce-process=image/resize,w_10",
            status: 404,
            content_type: None,
            image: None,
            length: None,
            magic: None,
            contains: Some("NoSuchKey"),
        },
        Kind {
            name: "protected original (403)",
            path: "/demo/private/photo.jpg",
            status: 403,
            content_type: Some("application/json"),
            image: None,
            length: None,
            magic: None,
            contains: Some("\"code\":\"AccessDenied\""),
        },
    ])
}

/// A Lua string literal with every byte escaped.
fn lua_str(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for b in bytes {
        out.push_str(&format!("\\{b}"));
    }
    out.push('"');
    out
}

/// The wrk script: the kinds, the kind of each thread's request in flight, the checks.
fn lua_script(kinds: &[Kind]) -> String {
    let mut table = String::from("kinds = {\n");
    for k in kinds {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "nil".into());
        table.push_str(&format!(
            "  {{ name = {}, path = {}, status = {}, ctype = {}, info = {}, length = {}, magic = {}, contains = {} }},\n",
            lua_str(k.name.as_bytes()),
            lua_str(k.path.as_bytes()),
            k.status,
            opt(k.content_type.map(|c| lua_str(c.as_bytes()))),
            opt(k.image.map(|(w, h)| lua_str(format!("width={w}; height={h}").as_bytes()))),
            opt(k.length.map(|l| l.to_string())),
            opt(k.magic.map(lua_str)),
            opt(k.contains.map(|c| lua_str(c.as_bytes()))),
        ));
    }
    table.push_str("}\n");
    table
        + r#"
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = tid or 0
  current = nil
  ok = {}
  bad = {}
  for i = 1, #kinds do ok[i] = 0; bad[i] = 0 end
  notes = {}
  unmatched = 0
end

-- wrk calls request() once more than it sends (to verify the request),
-- and with one connection per thread and no pipelining the response that
-- comes next answers the last request made: remember only that one.
function request()
  counter = counter + 1
  current = (counter % #kinds) + 1
  return wrk.format("GET", kinds[current].path)
end

function response(status, raw_headers, body)
  -- Header names as sent: Envoy sends them lowercase, nginx capitalised.
  local headers = {}
  for name, value in pairs(raw_headers) do headers[string.lower(name)] = value end
  local i = current
  current = nil
  if i == nil then unmatched = unmatched + 1; return end
  local k = kinds[i]
  local why = nil
  local info = headers["x-bce-image-info"]
  if status ~= k.status then why = "status " .. status
  elseif k.ctype ~= nil and headers["content-type"] ~= k.ctype then why = "content-type " .. tostring(headers["content-type"])
  elseif k.info ~= nil and info ~= k.info then why = "x-bce-image-info " .. tostring(info)
  elseif k.info == nil and info ~= nil then why = "unexpected x-bce-image-info " .. info
  elseif k.length ~= nil and #body ~= k.length then why = "length " .. #body
  elseif k.magic ~= nil and body:sub(1, #k.magic) ~= k.magic then why = "magic bytes"
  elseif k.contains ~= nil and not body:find(k.contains, 1, true) then why = "body lacks " .. k.contains
  elseif headers["content-length"] ~= nil and tonumber(headers["content-length"]) ~= #body then why = "content-length " .. headers["content-length"] .. " for " .. #body .. " bytes"
  end
  if why then
    bad[i] = bad[i] + 1
    if #notes < 10 then table.insert(notes, k.name .. ": " .. why) end
  else
    ok[i] = ok[i] + 1
  end
end

function done(summary, latency, requests)
  local oks, bads, unmatched_all = {}, {}, 0
  for i = 1, #kinds do oks[i] = 0; bads[i] = 0 end
  for _, t in ipairs(threads) do
    local o, b = t:get("ok"), t:get("bad")
    for i = 1, #kinds do oks[i] = oks[i] + o[i]; bads[i] = bads[i] + b[i] end
    unmatched_all = unmatched_all + t:get("unmatched")
    for _, n in ipairs(t:get("notes")) do io.write("SOAK note ", n, "\n") end
  end
  for i = 1, #kinds do
    io.write(string.format("SOAK kind %d %d %d\n", i, oks[i], bads[i]))
  end
  local e = summary.errors
  io.write(string.format("SOAK errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.timeout, unmatched_all))
  io.write(string.format("SOAK total %d %d\n", summary.requests, summary.duration))
  io.write(string.format("SOAK latency %.1f %.1f %.1f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"#
}

/// Options of `cargo xtask soak`.
pub struct SoakOptions {
    /// The proxy that runs the filter.
    pub host: stack::ProxyHost,
    /// Length of the load, seconds (1–3600).
    pub seconds: u64,
    /// wrk threads = connections (1–64).
    pub concurrency: u32,
}

impl SoakOptions {
    pub fn parse(args: &[String]) -> Result<SoakOptions> {
        let mut opts = SoakOptions {
            host: stack::ProxyHost::Envoy,
            seconds: 60,
            concurrency: 4,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut number = |range: std::ops::RangeInclusive<u64>| -> Result<u64> {
                it.next()
                    .and_then(|v| v.parse().ok())
                    .filter(|v| range.contains(v))
                    .ok_or_else(|| format!("{arg} needs a number in {range:?}"))
            };
            match arg.as_str() {
                "--host" => {
                    opts.host = match it.next().map(String::as_str) {
                        Some("envoy") => stack::ProxyHost::Envoy,
                        Some("nginx") => stack::ProxyHost::Nginx,
                        _ => return Err("--host needs 'envoy' or 'nginx'".into()),
                    }
                }
                "--seconds" => opts.seconds = number(1..=3600)?,
                "--concurrency" => opts.concurrency = number(1..=64)? as u32,
                other => return Err(format!("unknown soak option '{other}'")),
            }
        }
        Ok(opts)
    }
}

/// Builds what it needs (wasm, imgproc, Envoy or nginx, s3s-fs, wrk) and runs the soak.
pub fn soak(args: &[String]) -> Result<()> {
    let opts = SoakOptions::parse(args)?;
    let tools = crate::prepare_stack(opts.host == stack::ProxyHost::Nginx)?;
    tools::ensure_wrk()?;
    run(crate::cargo().args(["build", "--workspace", "--bin", "imgproc"]))?;
    run_soak(&tools, &root().join("target/debug/imgproc"), &opts)
}

/// One soak run against a fresh stack.
pub fn run_soak(tools: &stack::Tools, imgproc: &Path, opts: &SoakOptions) -> Result<()> {
    let work = root().join("target/soak");
    let bucket = root().join("samples");
    let kinds = kinds(&bucket)?;
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let script = work.join("mix.lua");
    std::fs::write(&script, lua_script(&kinds)).map_err(|e| e.to_string())?;
    let host = opts.host;
    let mut stack = Stack::start(
        tools,
        &StackOptions {
            host,
            config_template: root().join(host.template()),
            listen_port: 0,
            bucket_dir: bucket.clone(),
            work_dir: work.join(format!("stack-{}", host.name())),
            concurrency: 2,
            replacements: Vec::new(),
        },
    )?;
    let proxy = host.name();
    // Envoy's process, or nginx's workers (the master does no work).
    let pids = match host {
        stack::ProxyHost::Envoy => vec![stack.proxy_pid().ok_or("no Envoy pid")?],
        // The stack is ready once every worker has started.
        stack::ProxyHost::Nginx => stack.nginx_worker_pids(),
    };
    if pids.is_empty() {
        return Err(format!("no {proxy} process to watch"));
    }
    let port = stack.listen_port;
    println!(
        "xtask: soak {} s, {} connections, against {proxy} (pids {pids:?}) on port {port}",
        opts.seconds, opts.concurrency
    );

    let running = Arc::new(AtomicBool::new(true));
    // The proxy's RSS every second, (seconds since start, KiB).
    let rss: Arc<Mutex<Vec<(f64, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let (running, rss, pids) = (Arc::clone(&running), Arc::clone(&rss), pids.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while running.load(Ordering::SeqCst) {
                let kib: std::result::Result<Vec<u64>, String> = pids
                    .iter()
                    .map(|&pid| crate::bench::proc_status_kib(pid, "VmRSS"))
                    .collect();
                if let Ok(kib) = kib {
                    if let Ok(mut v) = rss.lock() {
                        v.push((start.elapsed().as_secs_f64(), kib.iter().sum()));
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    // Spot checks: every processed kind fetched and decoded in full.
    let spot_paths: Vec<(String, (u32, u32))> = kinds
        .iter()
        .filter_map(|k| k.image.map(|size| (k.path.to_string(), size)))
        .collect();
    let spot_dir = work.join("spot");
    std::fs::create_dir_all(&spot_dir).map_err(|e| e.to_string())?;
    let spot = {
        let running = Arc::clone(&running);
        let imgproc = imgproc.to_path_buf();
        std::thread::spawn(move || spot_check(port, &spot_paths, &imgproc, &spot_dir, &running))
    };

    let wrk = Command::new("wrk")
        .args(["--latency", "--timeout", "60s"])
        .arg(format!("-t{}", opts.concurrency))
        .arg(format!("-c{}", opts.concurrency))
        .arg(format!("-d{}s", opts.seconds))
        .arg("-s")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .map_err(|e| format!("wrk: {e}"));
    running.store(false, Ordering::SeqCst);
    let _ = sampler.join();
    let spot = spot.join().map_err(|_| "the spot checker panicked")?;
    let wrk = wrk?;
    let out = String::from_utf8_lossy(&wrk.stdout).into_owned();
    if !wrk.status.success() {
        return Err(format!(
            "wrk failed: {}\n{out}",
            String::from_utf8_lossy(&wrk.stderr)
        ));
    }

    let stats = match host {
        stack::ProxyHost::Envoy => stack
            .admin_get("/stats?filter=wasm")
            .map_err(|e| format!("Envoy admin: {e}"))?,
        stack::ProxyHost::Nginx => String::new(),
    };
    let nginx_trouble = stack.nginx_trouble();
    let workers_after = stack.nginx_worker_pids();
    let alive = stack.all_running();
    stack.stop();

    // Report.
    let mut failures = Vec::new();
    let mut total_ok = 0u64;
    println!("\n| request kind | expected | answered as expected | unexpected |");
    println!("|---|---|---:|---:|");
    for (i, k) in kinds.iter().enumerate() {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("SOAK kind {} ", i + 1)))
            .ok_or_else(|| format!("wrk printed no count for '{}':\n{out}", k.name))?;
        let n: Vec<u64> = line
            .split_whitespace()
            .skip(3)
            .filter_map(|v| v.parse().ok())
            .collect();
        let (good, bad) = (
            n.first().copied().unwrap_or(0),
            n.get(1).copied().unwrap_or(0),
        );
        total_ok += good;
        let expected = match k.image {
            Some((w, h)) => format!("{} {}, {w}×{h}", k.status, k.content_type.unwrap_or("")),
            None => format!("{}", k.status),
        };
        println!("| {} | {expected} | {good} | {bad} |", k.name);
        if bad > 0 {
            failures.push(format!("{}: {bad} unexpected answers", k.name));
        }
        if good == 0 {
            failures.push(format!("{}: never answered", k.name));
        }
    }
    for note in out.lines().filter_map(|l| l.strip_prefix("SOAK note ")) {
        println!("  unexpected: {note}");
    }
    let numbers = |prefix: &str| -> Vec<f64> {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| {
                rest.split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let errors = numbers("SOAK errors ");
    let total = numbers("SOAK total ");
    let latency = numbers("SOAK latency ");
    if errors.len() == 5 && errors.iter().any(|&e| e > 0.0) {
        failures.push(format!(
            "wrk socket errors: connect {} read {} write {} timeout {}, unmatched responses {}",
            errors[0], errors[1], errors[2], errors[3], errors[4]
        ));
    }
    let requests = total.first().copied().unwrap_or(0.0);
    let duration_s = total.get(1).copied().unwrap_or(1.0) / 1e6;
    println!(
        "\nrequests: {requests} in {duration_s:.1} s ({:.1}/s), all kinds as expected: {total_ok}",
        requests / duration_s.max(0.001)
    );
    if latency.len() == 3 {
        println!(
            "latency (all kinds): median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            latency[0], latency[1], latency[2]
        );
    }

    // Spot checks.
    match &spot {
        Ok(n) => println!("spot checks: {n} processed responses decoded in full, right size, same bytes each time"),
        Err(e) => failures.push(format!("spot check: {e}")),
    }

    // Memory.
    let samples = rss.lock().map_err(|_| "rss lock")?.clone();
    let warmup = (opts.seconds as f64 / 4.0).max(5.0);
    let after: Vec<&(f64, u64)> = samples.iter().filter(|(t, _)| *t >= warmup).collect();
    match (after.first(), after.last()) {
        (Some(first), Some(last)) => {
            let mib = |kib: u64| kib as f64 / 1024.0;
            let max = after.iter().map(|(_, k)| *k).max().unwrap_or(0);
            let bound = mib(first.1) * 1.2 + 16.0;
            println!(
                "{proxy} RSS: {:.1} MiB at start, {:.1} MiB at {:.0} s (after warm-up), {:.1} MiB at {:.0} s (last), max {:.1} MiB; bound {:.1} MiB",
                mib(samples.first().map_or(0, |s| s.1)),
                mib(first.1),
                first.0,
                mib(last.1),
                last.0,
                mib(max),
                bound
            );
            if mib(last.1) > bound {
                failures.push(format!(
                    "{proxy} RSS grew from {:.1} to {:.1} MiB (bound {bound:.1})",
                    mib(first.1),
                    mib(last.1)
                ));
            }
        }
        _ => failures.push(format!(
            "no RSS reading after the {warmup:.0} s warm-up ({} readings)",
            samples.len()
        )),
    }

    // VM health.
    match host {
        stack::ProxyHost::Envoy => {
            let troubles: Vec<&str> = stats
                .lines()
                .filter(|l| l.contains("vm_reload") || l.contains("vm_failed"))
                .filter(|l| l.rsplit(':').next().map(str::trim) != Some("0"))
                .collect();
            if !stats.contains("wasm.image_process_filter.vm_reload_success:") {
                failures.push("Envoy shows no reload stats for the filter's VM".into());
            }
            if troubles.is_empty() {
                println!("Wasm VM: no failure, no reload");
            } else {
                failures.push(format!("Wasm VM trouble: {troubles:?}"));
            }
        }
        stack::ProxyHost::Nginx => {
            // A worker that crashed or hung and was replaced has a new pid.
            if workers_after != pids {
                failures.push(format!(
                    "nginx's workers changed during the soak: {pids:?} -> {workers_after:?}"
                ));
            }
            if nginx_trouble.is_empty() {
                println!("Wasm VM: no trap, no panic, same nginx workers");
            } else {
                failures.push(format!("nginx's error log: {}", nginx_trouble.join("\n")));
            }
        }
    }
    if !alive {
        failures.push(format!(
            "{proxy} or the storage server exited during the soak"
        ));
    }
    if failures.is_empty() {
        println!("xtask: soak passed");
        Ok(())
    } else {
        Err(format!("soak failed:\n  {}", failures.join("\n  ")))
    }
}

/// Fetches each processed path every 2 s while `running`, decodes it in full
/// with `imgproc` and compares its size with the expected one and its bytes
/// with the first answer. Returns how many responses it checked.
fn spot_check(
    port: u16,
    paths: &[(String, (u32, u32))],
    imgproc: &Path,
    dir: &Path,
    running: &AtomicBool,
) -> Result<usize> {
    let mut first: Vec<Option<Vec<u8>>> = vec![None; paths.len()];
    let mut checked = 0;
    while running.load(Ordering::SeqCst) {
        for (i, (path, (w, h))) in paths.iter().enumerate() {
            let reply = crate::bench::http_get(port, path).map_err(|e| format!("{path}: {e}"))?;
            if reply.status != 200 {
                return Err(format!("{path}: status {}", reply.status));
            }
            let file: PathBuf = dir.join(format!("spot-{i}"));
            std::fs::write(&file, &reply.body).map_err(|e| e.to_string())?;
            let out = Command::new(imgproc)
                .arg("process")
                .arg(&file)
                .arg("image/format,f_png")
                .arg("-o")
                .arg(dir.join(format!("spot-{i}.png")))
                .output()
                .map_err(|e| format!("{}: {e}", imgproc.display()))?;
            let stderr = String::from_utf8_lossy(&out.stderr);
            let want = format!("width={w}; height={h}");
            if !out.status.success() || !stderr.contains(&want) {
                return Err(format!(
                    "{path}: decoded as '{}', want {want}",
                    stderr.trim()
                ));
            }
            match &first[i] {
                None => first[i] = Some(reply.body),
                Some(body) if *body != reply.body => {
                    return Err(format!("{path}: the answer changed during the soak"));
                }
                Some(_) => {}
            }
            checked += 1;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    Ok(checked)
}
