//! HTTP rules of the filter, host-free: which requests and responses are ours,
//! what goes upstream, and which response headers must change so they describe
//! the new body.
//!
//! The proxy-wasm glue asks these functions and applies their answers; it makes
//! no decision of its own. Most of them serve the glue alone and are compiled
//! where it is (`wasm32` and the tests); [`decide_request`],
//! [`STRIP_REQUEST_HEADERS`] and [`image_info_header`] are also used natively
//! (the CLI, the fuzz targets, the tests).

use crate::command::query;
use crate::command::{Command, Styles};
use crate::error::ProcessError;
#[cfg(any(target_arch = "wasm32", test))]
use crate::{
    actions::format::{accepts_avif, accepts_webp, FormatTarget},
    budget::Budget,
    codec::ImageFormat,
    error::Result,
    pipeline::Processed,
};
#[cfg(any(target_arch = "wasm32", test))]
use base64::Engine;
#[cfg(any(target_arch = "wasm32", test))]
use md5::{Digest, Md5};

/// Request headers removed from the upstream request when we process the
/// response: a partial or conditional answer from upstream would be wrong for
/// the processed body (our ETag is not the upstream's).
pub const STRIP_REQUEST_HEADERS: &[&str] = &["range", "if-range", "if-none-match", "if-match"];

/// Set on a response that carries the untouched original because processing
/// failed (`ignore-error,1`); its value is the error code (`InvalidImage`, ...).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) const FALLBACK_HEADER: &str = "x-bce-process-error";

/// Response headers that describe the original body and become false once it
/// is replaced.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) const STALE_RESPONSE_HEADERS: &[&str] = &[
    "accept-ranges",
    "content-range",
    "content-md5",
    "x-bce-content-crc32",
    "x-bce-content-crc64ecma",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "x-amz-checksum-type",
];

/// What to do with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestDecision {
    /// Not ours: forward unchanged, and leave the response alone.
    PassThrough,
    /// A bad command: answer with this error at once, without contacting upstream.
    Reject(ProcessError),
    /// Process the response: send `upstream_path` upstream.
    Process {
        command: Command,
        upstream_path: String,
    },
}

/// Decides from the request line. GET and HEAD are processed (a HEAD is sent
/// upstream as a GET, so its answer has the headers the GET would have); every
/// other method passes through untouched.
pub fn decide_request(method: &str, path: &str, styles: &Styles) -> RequestDecision {
    if !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD") {
        return RequestDecision::PassThrough;
    }
    match query::extract(path) {
        Ok(None) => RequestDecision::PassThrough,
        Err(e) => RequestDecision::Reject(e),
        Ok(Some(q)) => match Command::parse(&q.command, styles) {
            Ok(command) => RequestDecision::Process {
                command,
                upstream_path: q.upstream_path,
            },
            Err(e) => RequestDecision::Reject(e),
        },
    }
}

/// The upstream response headers that decide whether we process.
#[derive(Debug, Clone, Default)]
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) struct UpstreamHead<'a> {
    pub(crate) status: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) content_length: Option<&'a str>,
    pub(crate) content_encoding: Option<&'a str>,
}

/// Whether a response is processed, or passed through and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) enum Gate {
    Process,
    PassThrough(&'static str),
}

/// Decides from the upstream response headers, before any body byte is buffered.
/// `max_body_bytes` is the largest body the filter will buffer.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn gate_response(head: &UpstreamHead<'_>, max_body_bytes: usize) -> Gate {
    if head.status != Some("200") {
        return Gate::PassThrough("status is not 200");
    }
    if head
        .content_encoding
        .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"))
    {
        return Gate::PassThrough("body is content-encoded");
    }
    if let Some(ct) = head.content_type {
        let mime = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let maybe_image = mime.starts_with("image/")
            || mime == "application/octet-stream"
            || mime == "binary/octet-stream"
            || mime.is_empty();
        if !maybe_image {
            return Gate::PassThrough("content-type is not an image");
        }
    }
    match head.content_length.map(|v| v.trim().parse::<u64>()) {
        Some(Ok(len)) if len > max_body_bytes as u64 => {
            Gate::PassThrough("body is over the size limit")
        }
        Some(Err(_)) => Gate::PassThrough("content-length is not a number"),
        _ => Gate::Process,
    }
}

/// A header change: set to `Some(value)` or remove with `None`.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) type HeaderEdit = (&'static str, Option<String>);

/// The output `Content-Type` a command will produce, when it can be known before
/// the body is seen: from the `format` action, or from the upstream type.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn predicted_content_type(
    command: &Command,
    upstream_content_type: Option<&str>,
    accept: Option<&str>,
) -> Option<&'static str> {
    if command.inspection().is_some() {
        return Some("application/json");
    }
    if let Some(mode) = command.blind_extraction() {
        return Some(crate::actions::blind_watermark::extract_content_type(mode));
    }
    let source = upstream_content_type.and_then(ImageFormat::from_mime);
    match command.format() {
        Some(f) => match (f.target, source) {
            (FormatTarget::Fixed(out), _) => Some(out.mime()),
            // AVIF or not depends on the image's size and the budget.
            (FormatTarget::Auto, _) if accepts_avif(accept) => None,
            // WebP whatever the source (even when the storage gave no type).
            (FormatTarget::Auto, _) if accepts_webp(accept) => Some(ImageFormat::Webp.mime()),
            (FormatTarget::Auto, source) => source.map(ImageFormat::mime),
        },
        None => source.map(ImageFormat::mime),
    }
}

/// Whether the response depends on `Accept` (`format,f_auto`).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn varies_on_accept(command: &Command) -> bool {
    command
        .format()
        .is_some_and(|f| f.target == FormatTarget::Auto)
}

/// What, besides the source and the command, decides a processed response:
/// for `format,f_auto`, the formats `Accept` offers and, when it offers AVIF,
/// the request's budget (AVIF is chosen when its estimate fits it); otherwise
/// nothing (the output type follows from the command and the source).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn etag_variant(command: &Command, accept: Option<&str>, budget: &Budget) -> String {
    if !varies_on_accept(command) {
        String::new()
    } else if accepts_avif(accept) {
        format!("auto:avif:{}ms:{}B", budget.time_ms, budget.memory_bytes)
    } else if accepts_webp(accept) {
        "auto:webp".to_string()
    } else {
        "auto:source".to_string()
    }
}

/// The ETag of a processed response: a strong tag derived from the upstream
/// ETag, the normalized command, the [`etag_variant`] and this build's version,
/// so it changes whenever any of them does. It is known from the upstream
/// headers alone, before the body: conditional requests are answered without
/// processing, and `held` and `early` modes send the same tag. `None` when
/// upstream sent no ETag.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn derived_etag(
    upstream_etag: Option<&str>,
    normalized: &str,
    variant: &str,
) -> Option<String> {
    let etag = upstream_etag?.trim();
    if etag.is_empty() {
        return None;
    }
    let mut h = Md5::new();
    for part in [etag, normalized, variant, env!("CARGO_PKG_VERSION")] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    Some(format!("\"{}\"", hex(&h.finalize())))
}

/// Whether an `If-None-Match` value matches `etag` (RFC 9110 weak comparison:
/// `W/` prefixes ignored; `*` matches any).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn if_none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let etag = bare(etag);
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || bare(candidate) == etag)
}

/// Upstream response headers a 304 repeats (RFC 9110 §15.4.5), besides the ETag.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) const NOT_MODIFIED_KEPT_HEADERS: &[&str] = &[
    "cache-control",
    "content-location",
    "expires",
    "last-modified",
];

/// The headers of a `304 Not Modified` the filter answers itself, or `None`
/// when the client's `If-None-Match` does not hold the ETag the processed
/// response would have (it depends only on the upstream ETag, the command and
/// `Accept`, so no processing is needed). `upstream_header` reads one header
/// of the upstream answer; `upstream_etag` is its ETag combined with those of
/// any watermark objects.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn not_modified_answer(
    command: &Command,
    accept: Option<&str>,
    budget: &Budget,
    if_none_match: Option<&str>,
    upstream_etag: Option<&str>,
    upstream_header: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<(String, String)>> {
    let if_none_match = if_none_match?;
    let etag = derived_etag(
        upstream_etag,
        &command.normalized,
        &etag_variant(command, accept, budget),
    )?;
    if !if_none_match_hits(if_none_match, &etag) {
        return None;
    }
    let mut headers: Vec<(String, String)> = vec![("etag".into(), etag)];
    for name in NOT_MODIFIED_KEPT_HEADERS {
        if let Some(v) = upstream_header(name) {
            headers.push((name.to_string(), v));
        }
    }
    if varies_on_accept(command) {
        let vary = vary_with_accept(upstream_header("vary").as_deref());
        headers.push(("vary".into(), vary));
    }
    Some(headers)
}

/// `Content-MD5`: Base64 of the MD5 of the body.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn content_md5(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(body))
}

/// `x-bce-image-info`: `width=W; height=H` of the output image.
pub fn image_info_header(width: u32, height: u32) -> String {
    format!("width={width}; height={height}")
}

/// Adds `Accept` to an existing `Vary` value.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn vary_with_accept(existing: Option<&str>) -> String {
    match existing.map(str::trim).filter(|v| !v.is_empty()) {
        None => "Accept".to_string(),
        Some(v)
            if v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("accept") || t.trim() == "*") =>
        {
            v.to_string()
        }
        Some(v) => format!("{v}, Accept"),
    }
}

/// Facts about the exchange that header rules need.
#[derive(Debug, Clone, Default)]
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) struct ExchangeFacts<'a> {
    pub(crate) upstream_etag: Option<&'a str>,
    pub(crate) upstream_vary: Option<&'a str>,
    pub(crate) accept: Option<&'a str>,
    /// The request's budget (`f_auto` chooses AVIF when it fits).
    pub(crate) budget: Budget,
}

/// Header edits for a response whose body was replaced by `processed`
/// (held-headers mode: everything is exact).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn processed_header_edits(
    command: &Command,
    processed: &Processed,
    facts: &ExchangeFacts<'_>,
) -> Vec<HeaderEdit> {
    let mut edits: Vec<HeaderEdit> = STALE_RESPONSE_HEADERS.iter().map(|h| (*h, None)).collect();
    edits.push(("content-type", Some(processed.content_type.to_string())));
    edits.push(("content-length", Some(processed.body.len().to_string())));
    edits.push(("content-md5", Some(content_md5(&processed.body))));
    edits.push((
        "etag",
        derived_etag(
            facts.upstream_etag,
            &command.normalized,
            &etag_variant(command, facts.accept, &facts.budget),
        ),
    ));
    edits.push((
        "x-bce-image-info",
        processed.size.map(|(w, h)| image_info_header(w, h)),
    ));
    if varies_on_accept(command) {
        edits.push(("vary", Some(vary_with_accept(facts.upstream_vary))));
    }
    edits
}

/// Header edits made in the response-headers phase when headers cannot be held
/// (early mode): only what is known before the body. Content-Length and
/// Content-MD5 are removed (the response goes out chunked).
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn early_header_edits(
    command: &Command,
    upstream_content_type: Option<&str>,
    facts: &ExchangeFacts<'_>,
) -> Vec<HeaderEdit> {
    let mut edits: Vec<HeaderEdit> = STALE_RESPONSE_HEADERS.iter().map(|h| (*h, None)).collect();
    edits.push(("content-length", None));
    let predicted = predicted_content_type(command, upstream_content_type, facts.accept);
    if let Some(ct) = predicted {
        edits.push(("content-type", Some(ct.to_string())));
    }
    edits.push((
        "etag",
        derived_etag(
            facts.upstream_etag,
            &command.normalized,
            &etag_variant(command, facts.accept, &facts.budget),
        ),
    ));
    if varies_on_accept(command) {
        edits.push(("vary", Some(vary_with_accept(facts.upstream_vary))));
    }
    edits
}

/// Header edits for a `304 Not Modified` the storage sent to a request the
/// filter would have processed (the client's `If-Modified-Since` goes
/// upstream). The 304 passes through, but its validators must be those of the
/// processed response the client holds, not the original's: the ETag becomes
/// the [`derived_etag`] of the 304's ETag (a 304 carries the ETag the 200
/// would have), or is removed when none can be derived, so a cache never
/// stores the original's ETag on a processed body. Headers describing the
/// original's bytes are dropped, and `Vary: Accept` is added for `f_auto`.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn not_modified_passthrough_edits(
    command: &Command,
    facts: &ExchangeFacts<'_>,
) -> Vec<HeaderEdit> {
    let mut edits: Vec<HeaderEdit> = STALE_RESPONSE_HEADERS.iter().map(|h| (*h, None)).collect();
    edits.push((
        "etag",
        derived_etag(
            facts.upstream_etag,
            &command.normalized,
            &etag_variant(command, facts.accept, &facts.budget),
        ),
    ));
    if varies_on_accept(command) {
        edits.push(("vary", Some(vary_with_accept(facts.upstream_vary))));
    }
    edits
}

/// An error answer replacing an upstream response whose headers are still held.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn error_header_edits(error: &ProcessError, body: &str) -> Vec<HeaderEdit> {
    let mut edits: Vec<HeaderEdit> = STALE_RESPONSE_HEADERS.iter().map(|h| (*h, None)).collect();
    edits.extend([
        (":status", Some(error.http_status().to_string())),
        ("content-type", Some("application/json".to_string())),
        ("content-length", Some(body.len().to_string())),
        ("etag", None),
        ("last-modified", None),
        ("x-bce-image-info", None),
        ("cache-control", Some("no-store".to_string())),
    ]);
    edits
}

/// The headers of a locally generated error response.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn error_response_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
    ]
}

/// Whether a buffered body starts like an image of a known format. Bodies that
/// do not are passed through untouched; ones that do but fail to decode get an
/// `InvalidImage` error.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn is_image_body(body: &[u8]) -> bool {
    ImageFormat::sniff(body).is_some()
}

/// Checks a buffered body length against the limit while it streams in.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn check_buffered_size(len: usize, max_body_bytes: usize) -> Result<()> {
    if len > max_body_bytes {
        return Err(ProcessError::too_large(format!(
            "the object is over {max_body_bytes} bytes, the most that can be processed"
        )));
    }
    Ok(())
}

#[cfg(any(target_arch = "wasm32", test))]
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Command {
        Command::parse(s, &Styles::new()).unwrap()
    }

    #[test]
    fn requests() {
        let styles = Styles::new();
        assert_eq!(
            decide_request("GET", "/demo/a.jpg", &styles),
            RequestDecision::PassThrough
        );
        assert_eq!(
            decide_request("PUT", "/demo/a.jpg?x-bce-process=image/resize,w_1", &styles),
            RequestDecision::PassThrough
        );
        assert!(matches!(
            decide_request(
                "HEAD",
                "/demo/a.jpg?x-bce-process=image/resize,w_1",
                &styles
            ),
            RequestDecision::Process { .. }
        ));
        match decide_request(
            "GET",
            "/demo/a.jpg?x-bce-process=image/resize,w_10&v=1",
            &styles,
        ) {
            RequestDecision::Process { upstream_path, .. } => {
                assert_eq!(upstream_path, "/demo/a.jpg?v=1")
            }
            other => panic!("{other:?}"),
        }
        match decide_request("GET", "/demo/a.jpg?x-bce-process=image/resize,w_0", &styles) {
            RequestDecision::Reject(e) => assert_eq!(e.http_status(), 400),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gate() {
        let ok = UpstreamHead {
            status: Some("200"),
            content_type: Some("image/jpeg"),
            content_length: Some("1000"),
            content_encoding: None,
        };
        assert_eq!(gate_response(&ok, 2000), Gate::Process);
        assert!(matches!(gate_response(&ok, 999), Gate::PassThrough(_)));
        let cases = [
            UpstreamHead {
                status: Some("404"),
                ..ok.clone()
            },
            UpstreamHead {
                status: Some("304"),
                ..ok.clone()
            },
            UpstreamHead {
                status: Some("206"),
                ..ok.clone()
            },
            UpstreamHead {
                content_type: Some("text/html"),
                ..ok.clone()
            },
            UpstreamHead {
                content_encoding: Some("gzip"),
                ..ok.clone()
            },
            UpstreamHead {
                content_length: Some("x"),
                ..ok.clone()
            },
        ];
        for head in cases {
            assert!(
                matches!(gate_response(&head, 2000), Gate::PassThrough(_)),
                "{head:?}"
            );
        }
        let octet = UpstreamHead {
            content_type: Some("application/octet-stream"),
            ..ok.clone()
        };
        assert_eq!(gate_response(&octet, 2000), Gate::Process);
        let chunked = UpstreamHead {
            content_length: None,
            ..ok
        };
        assert_eq!(gate_response(&chunked, 2000), Gate::Process);
    }

    #[test]
    fn etag_depends_on_source_command_and_type() {
        let a = derived_etag(Some("\"abc\""), "image/resize,w_1", "").unwrap();
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
        assert_eq!(
            Some(a.clone()),
            derived_etag(Some("\"abc\""), "image/resize,w_1", "")
        );
        assert_ne!(
            Some(a.clone()),
            derived_etag(Some("\"abd\""), "image/resize,w_1", "")
        );
        assert_ne!(
            Some(a.clone()),
            derived_etag(Some("\"abc\""), "image/resize,w_2", "")
        );
        assert_ne!(
            Some(a),
            derived_etag(Some("\"abc\""), "image/resize,w_1", "auto:webp")
        );
        assert_eq!(derived_etag(None, "x", ""), None);
    }

    #[test]
    fn conditional_matching() {
        assert!(if_none_match_hits("\"a\"", "\"a\""));
        assert!(if_none_match_hits("\"x\", W/\"a\"", "\"a\""));
        assert!(if_none_match_hits("*", "\"a\""));
        assert!(!if_none_match_hits("\"b\"", "\"a\""));
        assert!(!if_none_match_hits("", "\"a\""));
    }

    #[test]
    fn etag_variant_follows_accept_only_for_auto() {
        let auto = cmd("image/resize,w_10/format,f_auto");
        let plain = cmd("image/resize,w_10");
        let budget = Budget::DEFAULT;
        assert_eq!(etag_variant(&plain, Some("image/webp"), &budget), "");
        assert_eq!(etag_variant(&plain, Some("image/avif"), &budget), "");
        assert_eq!(
            etag_variant(&auto, Some("image/webp,*/*"), &budget),
            "auto:webp"
        );
        assert_eq!(
            etag_variant(&auto, Some("image/jpeg"), &budget),
            "auto:source"
        );
        assert_eq!(etag_variant(&auto, None, &budget), "auto:source");
        // With AVIF on offer the format depends on the budget: two budgets,
        // two variants (a signed and an unsigned request never share a tag).
        let avif = Some("image/avif,image/webp,*/*");
        let small = Budget {
            time_ms: 2_000,
            ..Budget::DEFAULT
        };
        assert!(etag_variant(&auto, avif, &budget).starts_with("auto:avif"));
        assert_ne!(
            etag_variant(&auto, avif, &budget),
            etag_variant(&auto, avif, &small)
        );
    }

    #[test]
    fn content_md5_is_base64_md5() {
        // RFC 1864 example-style check: MD5("") = d41d8cd98f00b204e9800998ecf8427e.
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }

    #[test]
    fn predicted_types() {
        let c = cmd("image/resize,w_10/format,f_webp");
        assert_eq!(
            predicted_content_type(&c, Some("image/jpeg"), None),
            Some("image/webp")
        );
        let c = cmd("image/resize,w_10");
        assert_eq!(
            predicted_content_type(&c, Some("image/png"), None),
            Some("image/png")
        );
        assert_eq!(
            predicted_content_type(&c, Some("application/octet-stream"), None),
            None
        );
        let c = cmd("image/format,f_auto");
        assert_eq!(
            predicted_content_type(&c, Some("image/png"), Some("image/webp")),
            Some("image/webp")
        );
        assert_eq!(
            predicted_content_type(&c, Some("image/png"), Some("*/*")),
            Some("image/png")
        );
        assert_eq!(
            predicted_content_type(&c, None, Some("image/webp")),
            Some("image/webp")
        );
        assert_eq!(predicted_content_type(&c, None, Some("*/*")), None);
        // AVIF or WebP is known only once the image's size is.
        assert_eq!(
            predicted_content_type(&c, Some("image/png"), Some("image/avif,image/webp")),
            None
        );
        assert!(varies_on_accept(&c));
        assert_eq!(
            predicted_content_type(&cmd("image/info"), Some("image/png"), None),
            Some("application/json")
        );
    }

    #[test]
    fn vary_merges() {
        assert_eq!(vary_with_accept(None), "Accept");
        assert_eq!(vary_with_accept(Some("Origin")), "Origin, Accept");
        assert_eq!(vary_with_accept(Some("accept")), "accept");
    }

    #[test]
    fn storage_304_gets_the_processed_etag_not_the_original() {
        let c = cmd("image/resize,w_10/format,f_auto");
        let facts = ExchangeFacts {
            upstream_etag: Some("\"orig\""),
            upstream_vary: None,
            accept: Some("image/webp"),
            budget: Budget::DEFAULT,
        };
        let edits = not_modified_passthrough_edits(&c, &facts);
        let get = |k: &str| {
            edits
                .iter()
                .rev()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
        };
        let etag = get("etag").flatten().unwrap();
        assert_ne!(etag, "\"orig\"");
        assert_eq!(
            Some(etag),
            derived_etag(Some("\"orig\""), &c.normalized, "auto:webp")
        );
        assert_eq!(get("vary"), Some(Some("Accept".into())));
        assert_eq!(get("content-md5"), Some(None));
        // Without an upstream ETag, none is sent (the original's would be wrong).
        let none =
            not_modified_passthrough_edits(&cmd("image/resize,w_10"), &ExchangeFacts::default());
        assert!(none.contains(&("etag", None)));
        assert!(!none.iter().any(|(n, _)| *n == "vary"));
    }

    #[test]
    fn processed_edits_describe_the_new_body() {
        let c = cmd("image/resize,w_10");
        let p = Processed {
            body: b"abc".to_vec(),
            content_type: "image/jpeg",
            size: Some((10, 7)),
        };
        let facts = ExchangeFacts {
            upstream_etag: Some("\"e\""),
            ..Default::default()
        };
        let edits = processed_header_edits(&c, &p, &facts);
        let get = |k: &str| {
            edits
                .iter()
                .rev()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("content-length"), Some(Some("3".into())));
        assert_eq!(get("content-md5"), Some(Some(content_md5(b"abc"))));
        assert_eq!(
            get("x-bce-image-info"),
            Some(Some("width=10; height=7".into()))
        );
        assert_eq!(get("accept-ranges"), Some(None));
        assert!(get("etag").unwrap().is_some());
        assert_eq!(get("vary"), None);
    }
}
