//! Upstream faults, end to end: what a client gets through the filter in
//! real Envoy when the storage misbehaves.
//!
//! s3s-fs cannot be made to misbehave, so a small fault-injecting HTTP/1.1
//! server (`test-support/src/fault_upstream.rs`) stands in for a misbehaving
//! storage. Both e2e Envoys (`held` and `early`) route `/faults/` to it with a
//! 3 s route timeout (see `fault_routes` in `tests/envoy_e2e/main.rs`); the last
//! path segment selects the fault. Every case checks that no half image is
//! ever served as a whole one, that errors from the storage pass through byte
//! for byte, that no response carries a validator of a body it does not
//! have, and that the next normal request is processed correctly. That no VM
//! trapped or was reloaded is checked by the suite's last case
//! (`envoy_survives_and_vm_never_reloaded`).

use super::*;
use fault_upstream::{
    ERROR_403_XML, ERROR_404_JSON, ERROR_500_XML, FAULT_ETAG, LYING_HTML, OVERSIZE_BYTES,
};

/// The fault server's JPEG: 1800x1200 baseline, 342 KiB.
pub const FAULT_JPEG: &str = "orientation/Landscape_0.jpg";
const FAULT_JPEG_SIZE: (u32, u32) = (1800, 1200);
/// `resize,w_200` of it.
const RESIZED: (u32, u32) = (200, 133);
const RESIZE: &str = "x-bce-process=image/resize,w_200";

pub fn cases() -> Vec<Case> {
    vec![
        ("fault_reset_mid_body_no_half_image", reset_mid_body),
        ("fault_short_body_no_half_image", short_body),
        (
            "fault_truncated_chunked_jpeg_400_without_validators",
            truncated_chunked,
        ),
        ("fault_slow_body_within_timeout_processed", slow_body),
        ("fault_stalled_headers_504", stalled_headers),
        ("fault_stalled_body_no_half_image", stalled_body),
        (
            "fault_storage_errors_pass_through_byte_for_byte",
            storage_errors,
        ),
        ("fault_storage_304_passes_with_processed_etag", storage_304),
        ("fault_oversize_bodies_pass_through_untouched", oversize),
        ("fault_lying_content_type_untouched", lying_content_type),
    ]
}

/// What curl got, even when the transfer failed.
#[derive(Debug)]
struct Fetched {
    /// curl's exit code (0: a complete response).
    exit: i32,
    /// The status, if a status line arrived.
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    stderr: String,
}

impl Fetched {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A complete response with this status (curl succeeded).
    fn complete(&self, status: u16) -> bool {
        self.exit == 0 && self.status == Some(status)
    }
}

fn fetch(e: &Env, url: &str, extra: &[&str]) -> Result<Fetched, Failed> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let body_file = e.scratch.join(format!("fault-body-{n}"));
    let head_file = e.scratch.join(format!("fault-head-{n}"));
    let out = Command::new("curl")
        .args(["-s", "-S", "--http1.1", "--max-time", "30", "-o"])
        .arg(&body_file)
        .arg("-D")
        .arg(&head_file)
        .args(extra)
        .arg(url)
        .output()
        .map_err(|err| format!("curl: {err}"))?;
    let head = std::fs::read_to_string(&head_file).unwrap_or_default();
    let body = std::fs::read(&body_file).unwrap_or_default();
    let _ = std::fs::remove_file(&body_file);
    let _ = std::fs::remove_file(&head_file);
    let block = head
        .trim_end()
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default();
    let mut lines = block.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Fetched {
        exit: out.status.code().unwrap_or(-1),
        status,
        headers,
        body,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn fault_url(e: &Env, early: bool, name: &str, query: &str) -> String {
    let path = if query.is_empty() {
        format!("/faults/{name}")
    } else {
        format!("/faults/{name}?{query}")
    };
    if early {
        e.early_url(&path)
    } else {
        e.held_url(&path)
    }
}

/// The storage's bytes were cut short. In `held` mode the filter still holds
/// the response headers, so Envoy answers 502 with its own text body; in
/// `early` mode the headers are gone and Envoy resets the stream, so the
/// client sees an incomplete transfer. Never a complete 200 (a client or
/// cache would keep a broken image).
fn cut_short(f: &Fetched, early: bool, what: &str) -> Check {
    if early {
        no_complete_response(f, what)
    } else {
        ensure(f.complete(502), || {
            format!("{what}: want Envoy's 502, got {f:?}")
        })?;
        eq(&format!("{what}: etag"), f.header("etag"), None)?;
        ensure(image::load_from_memory(&f.body).is_err(), || {
            format!("{what}: the 502 carries an image")
        })
    }
}

/// The client got no complete response (curl saw the stream cut).
fn no_complete_response(f: &Fetched, what: &str) -> Check {
    ensure(f.exit != 0, || {
        format!(
            "{what}: a complete response (status {:?}, {} bytes, headers {:?}) from a cut-short upstream",
            f.status,
            f.body.len(),
            f.headers
        )
    })?;
    // Whatever arrived before the reset is no decodable image.
    ensure(image::load_from_memory(&f.body).is_err(), || {
        format!("{what}: the partial body decodes as an image")
    })
}

/// After a fault, the next normal request through the same Envoy is processed.
fn next_request_is_processed(e: &Env, early: bool) -> Check {
    let f = fetch(e, &fault_url(e, early, "ok.jpg", RESIZE), &[])?;
    ensure(f.complete(200), || format!("ok.jpg after a fault: {f:?}"))?;
    let (format, w, h) = decode(&f.body)?;
    eq("ok.jpg format", format, image::ImageFormat::Jpeg)?;
    eq("ok.jpg size", (w, h), RESIZED)?;
    ensure(f.header("etag").is_some_and(|t| t != FAULT_ETAG), || {
        "processed ok.jpg has no derived etag".into()
    })
}

fn reset_mid_body(e: &Env) -> Check {
    for early in [false, true] {
        let what = if early { "early" } else { "held" };
        let f = fetch(e, &fault_url(e, early, "reset.jpg", RESIZE), &[])?;
        cut_short(&f, early, &format!("reset, {what}"))?;
        // Without a command the filter is not involved: Envoy streams what
        // came and resets the stream, so the client sees the transfer fail.
        let f = fetch(e, &fault_url(e, early, "reset.jpg", ""), &[])?;
        ensure(f.exit != 0, || {
            format!("reset without command, {what}: a complete response {f:?}")
        })?;
        next_request_is_processed(e, early)?;
    }
    Ok(())
}

fn short_body(e: &Env) -> Check {
    for early in [false, true] {
        let what = if early { "early" } else { "held" };
        let f = fetch(e, &fault_url(e, early, "short.jpg", RESIZE), &[])?;
        cut_short(&f, early, &format!("short body, {what}"))?;
        next_request_is_processed(e, early)?;
    }
    Ok(())
}

/// Correct HTTP framing around half a JPEG: the filter decodes it, fails, and
/// (held mode) answers 400 `InvalidImage`, with no ETag or Last-Modified and
/// `no-store`, so nothing caches it as the image.
fn truncated_chunked(e: &Env) -> Check {
    let f = fetch(
        e,
        &fault_url(e, false, "truncated-chunked.jpg", RESIZE),
        &[],
    )?;
    ensure(f.complete(400), || format!("truncated JPEG: {f:?}"))?;
    let v: serde_json::Value =
        serde_json::from_slice(&f.body).map_err(|err| format!("error body is not JSON: {err}"))?;
    eq("code", v["code"].as_str(), Some("InvalidImage"))?;
    eq("etag", f.header("etag"), None)?;
    eq("last-modified", f.header("last-modified"), None)?;
    eq("cache-control", f.header("cache-control"), Some("no-store"))?;
    eq(
        "content-length",
        f.header("content-length"),
        Some(f.body.len().to_string().as_str()),
    )?;
    next_request_is_processed(e, false)
}

/// A storage that trickles the body over about a second, inside the route
/// timeout: the image is processed as usual, in both modes.
fn slow_body(e: &Env) -> Check {
    for early in [false, true] {
        let f = fetch(e, &fault_url(e, early, "slow.jpg", RESIZE), &[])?;
        ensure(f.complete(200), || {
            format!("slow body (early {early}): {f:?}")
        })?;
        let (format, w, h) = decode(&f.body)?;
        eq("format", format, image::ImageFormat::Jpeg)?;
        eq("size", (w, h), RESIZED)?;
        if !early {
            eq(
                "x-bce-image-info",
                f.header("x-bce-image-info"),
                Some("width=200; height=133"),
            )?;
        }
    }
    // And untouched without a command.
    let f = fetch(e, &fault_url(e, false, "slow.jpg", ""), &[])?;
    ensure(f.complete(200), || format!("slow original: {f:?}"))?;
    let (_, w, h) = decode(&f.body)?;
    eq("original size", (w, h), FAULT_JPEG_SIZE)
}

/// No response headers within the route timeout: Envoy's 504, not an image.
fn stalled_headers(e: &Env) -> Check {
    for early in [false, true] {
        let started = std::time::Instant::now();
        let f = fetch(e, &fault_url(e, early, "stall-headers.jpg", RESIZE), &[])?;
        ensure(f.complete(504), || {
            format!("stalled headers (early {early}): {f:?}")
        })?;
        ensure(image::load_from_memory(&f.body).is_err(), || {
            "a 504 carries an image".into()
        })?;
        ensure(started.elapsed() < fault_upstream::Fault::STALL, || {
            format!("the 504 took {:?}", started.elapsed())
        })?;
    }
    next_request_is_processed(e, false)
}

/// Headers in time, then the body trickles on past the route timeout: Envoy's
/// 504 while the filter holds the headers, a cut stream once they are gone;
/// never a complete image made of half the source. nginx's timeouts
/// (`proxy_read_timeout`, the Wasm socket's read timeout) are between two
/// reads, not for the whole body, and no gap of the trickle is that long: on
/// nginx the whole body arrives and is processed, in both modes.
fn stalled_body(e: &Env) -> Check {
    for early in [false, true] {
        let f = fetch(e, &fault_url(e, early, "stall-body.jpg", RESIZE), &[])?;
        let what = format!("stalled body (early {early})");
        if e.is_nginx() {
            ensure(f.complete(200), || format!("{what}: {f:?}"))?;
            let (format, w, h) = decode(&f.body)?;
            eq(&format!("{what}: format"), format, image::ImageFormat::Jpeg)?;
            eq(&format!("{what}: size"), (w, h), RESIZED)?;
        } else if early {
            no_complete_response(&f, &what)?;
        } else {
            // The headers were still held, so Envoy can answer 504.
            ensure(f.complete(504), || format!("{what}: {f:?}"))?;
            ensure(image::load_from_memory(&f.body).is_err(), || {
                "a 504 carries an image".into()
            })?;
        }
    }
    next_request_is_processed(e, true)
}

/// 500/403/404 from the storage, with XML or JSON bodies: passed on with the
/// storage's status, type and bytes, never processed, never given an ETag.
fn storage_errors(e: &Env) -> Check {
    for (name, status, body, mime) in [
        ("error-500.xml", 500, ERROR_500_XML, "application/xml"),
        ("error-403.xml", 403, ERROR_403_XML, "application/xml"),
        ("error-404.json", 404, ERROR_404_JSON, "application/json"),
    ] {
        for early in [false, true] {
            for query in [RESIZE, "x-bce-process=image/info", ""] {
                let f = fetch(e, &fault_url(e, early, name, query), &[])?;
                let what = format!("{name}?{query} (early {early})");
                ensure(f.complete(status), || format!("{what}: {f:?}"))?;
                ensure(f.body == body.as_bytes(), || {
                    format!("{what}: body changed: {}", String::from_utf8_lossy(&f.body))
                })?;
                eq(
                    &format!("{what}: content-type"),
                    f.header("content-type"),
                    Some(mime),
                )?;
                eq(&format!("{what}: etag"), f.header("etag"), None)?;
                eq(
                    &format!("{what}: x-bce-image-info"),
                    f.header("x-bce-image-info"),
                    None,
                )?;
            }
        }
    }
    next_request_is_processed(e, false)
}

/// The client's `If-Modified-Since` reaches the storage, whose 304 passes
/// through without a body and with the ETag of the processed image (the
/// derived one, which a later `If-None-Match` matches), not the original's.
fn storage_304(e: &Env) -> Check {
    let full = fetch(e, &fault_url(e, false, "cond.jpg", RESIZE), &[])?;
    ensure(full.complete(200), || format!("cond.jpg: {full:?}"))?;
    let processed_etag = full
        .header("etag")
        .ok_or("processed cond.jpg has no etag")?
        .to_string();
    ensure(processed_etag != FAULT_ETAG, || {
        "the processed image carries the original's etag".into()
    })?;
    let ims = format!("If-Modified-Since: {}", fault_upstream::FAULT_LAST_MODIFIED);
    for early in [false, true] {
        let what = format!("304 (early {early})");
        let f = fetch(e, &fault_url(e, early, "cond.jpg", RESIZE), &["-H", &ims])?;
        ensure(f.complete(304), || format!("{what}: {f:?}"))?;
        ensure(f.body.is_empty(), || format!("{what}: a body"))?;
        eq(
            &format!("{what}: etag"),
            f.header("etag"),
            Some(processed_etag.as_str()),
        )?;
        // That tag is answered by the filter itself next time.
        let again = fetch(
            e,
            &fault_url(e, early, "cond.jpg", RESIZE),
            &["-H", &format!("If-None-Match: {processed_etag}")],
        )?;
        ensure(again.complete(304), || {
            format!("{what}: If-None-Match with the derived tag: {again:?}")
        })?;
    }
    // Without a command the storage's 304 and ETag are the client's business.
    let f = fetch(e, &fault_url(e, false, "cond.jpg", ""), &["-H", &ims])?;
    ensure(f.complete(304), || format!("304 without command: {f:?}"))?;
    eq("original 304 etag", f.header("etag"), Some(FAULT_ETAG))?;
    // What reached the storage: the condition, never the command.
    let seen = e.faults.requests_with("cond.jpg");
    ensure(
        seen.iter().any(|r| r.header("if-modified-since").is_some()),
        || "If-Modified-Since never reached the storage".into(),
    )?;
    ensure(
        seen.iter().all(|r| !r.path.contains("x-bce-process")),
        || "the command reached the storage".into(),
    )?;
    let leaked: Vec<_> = seen
        .iter()
        .filter(|r| r.header("if-none-match").is_some())
        .collect();
    ensure(leaked.is_empty(), || {
        format!("If-None-Match reached the storage: {leaked:?}")
    })
}

/// 21 MiB, over the 20 MB limit: passed through untouched, with or without
/// Content-Length (chunked: the filter stops buffering at the limit).
/// docs/behaviour.md.
fn oversize(e: &Env) -> Check {
    let jpeg =
        std::fs::read(corpus::corpus_dir().join(FAULT_JPEG)).map_err(|err| err.to_string())?;
    let want = fault_upstream::oversize(&jpeg);
    for name in ["big.jpg", "big-chunked.jpg"] {
        for early in [false, true] {
            let what = format!("{name} (early {early})");
            let f = fetch(e, &fault_url(e, early, name, RESIZE), &[])?;
            ensure(f.complete(200), || {
                format!(
                    "{what}: status {:?}, exit {}, {}",
                    f.status, f.exit, f.stderr
                )
            })?;
            eq(&format!("{what}: length"), f.body.len(), OVERSIZE_BYTES)?;
            ensure(f.body == want, || format!("{what}: body changed"))?;
            eq(
                &format!("{what}: content-type"),
                f.header("content-type"),
                Some("image/jpeg"),
            )?;
            eq(
                &format!("{what}: x-bce-image-info"),
                f.header("x-bce-image-info"),
                None,
            )?;
        }
    }
    next_request_is_processed(e, false)
}

/// `Content-Type: image/jpeg` on an HTML body, and `text/html` on a JPEG:
/// both pass through untouched. The filter processes only what both the type
/// (an image, octet-stream or none) and the magic bytes say is an image.
fn lying_content_type(e: &Env) -> Check {
    let jpeg =
        std::fs::read(corpus::corpus_dir().join(FAULT_JPEG)).map_err(|err| err.to_string())?;
    for early in [false, true] {
        let what = format!("html as jpeg (early {early})");
        let f = fetch(e, &fault_url(e, early, "lying-html.jpg", RESIZE), &[])?;
        ensure(f.complete(200), || format!("{what}: {f:?}"))?;
        ensure(f.body == LYING_HTML.as_bytes(), || {
            format!("{what}: body changed")
        })?;
        if !early {
            // Held mode: the headers are the storage's (nothing was processed).
            eq(&format!("{what}: etag"), f.header("etag"), Some(FAULT_ETAG))?;
            eq(
                &format!("{what}: x-bce-image-info"),
                f.header("x-bce-image-info"),
                None,
            )?;
        }
        let what = format!("jpeg as html (early {early})");
        let f = fetch(e, &fault_url(e, early, "lying-type.jpg", RESIZE), &[])?;
        ensure(f.complete(200), || format!("{what}: {f:?}"))?;
        ensure(f.body == jpeg, || format!("{what}: body changed"))?;
        eq(
            &format!("{what}: content-type"),
            f.header("content-type"),
            Some("text/html"),
        )?;
        eq(&format!("{what}: etag"), f.header("etag"), Some(FAULT_ETAG))?;
    }
    next_request_is_processed(e, false)
}
