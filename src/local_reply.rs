//! The `local_reply` header mode, host-free: for hosts that cannot hold
//! response headers (nginx with ngx_wasm_module, Istio's `WasmPlugin`, Envoy
//! Gateway), a processed request is answered from the request phase.
//!
//! 1. The request phase decides as in every mode ([`crate::access::admit`]):
//!    the command is stripped, the request signed for the storage.
//! 2. The filter reads the original itself: a GET through `upstream_cluster`
//!    with exactly the headers the proxy would send upstream
//!    ([`original_request`]).
//! 3. [`judge_original`] looks at the answer. What the filter would not process
//!    in the other modes (an error status, a non-image type, a body over
//!    `max_body_bytes`) is handed back to the proxy: the request resumes, the
//!    proxy forwards it, and the storage's answer passes through untouched,
//!    byte for byte. A 304 is answered at once. A read that failed (refused,
//!    reset, cut short, timed out) is answered 502 or 504 with a BOS error
//!    body, as Envoy answers when it holds the headers ([`failed_read_error`]).
//! 4. Otherwise the body is processed and the filter answers with a local
//!    reply whose status and headers describe the new body exactly
//!    ([`reply_headers`] over [`crate::exchange::processed_header_edits`]), or
//!    with the BOS error of a failure (or the original, for `ignore-error`).
//!
//! The price: a request that is handed back reads the object twice (the
//! filter's read and the proxy's), so an object over `max_body_bytes` costs one
//! extra transfer. Processed requests read it once, as in the other modes.

use crate::access::RequestEdit;
use crate::error::{ErrorCode, ProcessError};
use crate::exchange::{self, Gate, HeaderEdit, UpstreamHead};

/// Headers never copied from one HTTP message into another: they describe one
/// connection or the framing of one message. `content-length` is among them:
/// the host sets it from the body it sends.
pub const HOP_BY_HOP_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "http2-settings",
    "content-length",
];

fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// The headers of the filter's own GET for the original: the client's request
/// headers (`headers`: lowercase names, no pseudo-headers, `host` included)
/// with the admission's `edits` applied, exactly as the proxy would send them
/// upstream (signature, stripped `range`/`if-none-match`, the command removed
/// from `:path`), always with method GET (a HEAD is read with GET, as in the
/// other modes). `path` is the request's path before the edits.
pub fn original_request(
    headers: &[(String, String)],
    edits: &[RequestEdit],
    path: &str,
) -> Vec<(String, String)> {
    let mut path = path.to_string();
    let mut authority = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !k.starts_with(':') && k != "host" && !is_hop_by_hop(k))
        .cloned()
        .collect();
    for (name, value) in edits {
        match (*name, value) {
            (":path", Some(v)) => path = v.clone(),
            (":authority" | "host", Some(v)) => authority = v.clone(),
            (":method", _) => {} // always GET
            (name, value) => {
                out.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
                if let Some(v) = value {
                    out.push((name.to_string(), v.clone()));
                }
            }
        }
    }
    let mut request = vec![
        (":method".to_string(), "GET".to_string()),
        (":path".to_string(), path),
        (":authority".to_string(), authority),
    ];
    request.extend(out);
    request
}

/// What to do with the storage's answer to the filter's read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginalVerdict {
    /// Hand the request back to the proxy, which forwards it and passes the
    /// answer through untouched (the reason is for the log).
    HandBack(&'static str),
    /// The storage answered `304 Not Modified` (the client's
    /// `If-Modified-Since`): answer 304 with the processed validators.
    NotModified,
    /// Process the body.
    Process,
    /// The read failed: no answer, or one cut short ([`failed_read_error`]).
    Failed,
}

/// The error for a failed read of the original that took `elapsed_ms` with a
/// timeout of `timeout_ms`: 504 `GatewayTimeout` when it ran out the timeout
/// (the host reports a timeout and a reset alike), else 502 `BadGateway`.
pub fn failed_read_error(elapsed_ms: u64, timeout_ms: u64) -> ProcessError {
    if ran_out_the_clock(elapsed_ms, timeout_ms) {
        ProcessError::new(
            ErrorCode::GatewayTimeout,
            "the storage did not answer in time",
        )
    } else {
        ProcessError::new(
            ErrorCode::BadGateway,
            "the storage failed before the whole original arrived",
        )
    }
}

/// Whether a read that took `elapsed_ms` ran out its timeout of `timeout_ms`
/// (timers fire a little early or late: 95 % of the timeout counts).
pub fn ran_out_the_clock(elapsed_ms: u64, timeout_ms: u64) -> bool {
    elapsed_ms.saturating_mul(20) >= timeout_ms.saturating_mul(19)
}

/// Whether a read whose answer declared `content_length` and delivered
/// `body_size` bytes arrived whole (no declared length: whatever came).
pub fn arrived_whole(content_length: Option<&str>, body_size: usize) -> bool {
    content_length
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_none_or(|declared| declared == body_size)
}

/// Judges the storage's answer: `status` is its `:status` (none when the call
/// failed: refused, reset or timed out), `headers` its headers (lowercase
/// names), `timed_out` whether the read ran out its timeout
/// ([`ran_out_the_clock`]). The rules are those of the other modes
/// ([`exchange::gate_response`]), with one more: a 504 that arrives when the
/// read ran out its timeout is the host's own answer to that timeout (Envoy's
/// async client answers a timed-out call with a local `504`; nginx reports no
/// answer), so it is a failed read, not the storage's error to pass through
/// (handing it back would make the proxy wait a whole timeout again).
pub fn judge_original(
    status: Option<&str>,
    headers: &[(String, String)],
    max_body_bytes: usize,
    timed_out: bool,
) -> OriginalVerdict {
    let Some(status) = status else {
        return OriginalVerdict::Failed;
    };
    if status == "504" && timed_out {
        return OriginalVerdict::Failed;
    }
    if status == "304" {
        return OriginalVerdict::NotModified;
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let head = UpstreamHead {
        status: Some(status),
        content_type: header("content-type"),
        content_length: header("content-length"),
        content_encoding: header("content-encoding"),
    };
    match exchange::gate_response(&head, max_body_bytes) {
        Gate::PassThrough(reason) => OriginalVerdict::HandBack(reason),
        Gate::Process => OriginalVerdict::Process,
    }
}

/// The headers of the local reply: the storage's headers (`upstream`, from
/// the filter's read) without pseudo-headers and hop-by-hop headers, with
/// `edits` applied (removed for `None`, replaced for `Some`). `Content-Length`
/// is left to the host, which sets it from the body it sends (for a HEAD, from
/// the body a GET would get).
pub fn reply_headers(upstream: &[(String, String)], edits: &[HeaderEdit]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = upstream
        .iter()
        .filter(|(k, _)| !k.starts_with(':') && !is_hop_by_hop(k))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    for (name, value) in edits {
        if name.starts_with(':') || is_hop_by_hop(name) {
            continue;
        }
        out.retain(|(k, _)| k != name);
        if let Some(v) = value {
            out.push((name.to_string(), v.clone()));
        }
    }
    out
}

/// The numeric status of a `:status` value (200 when it cannot be read).
pub fn status_code(status: Option<&str>) -> u32 {
    status
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|s| (100..=599).contains(s))
        .unwrap_or(200)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_read_is_the_request_the_proxy_would_send() {
        let client = owned(&[
            ("host", "img.example.com"),
            ("accept", "image/webp"),
            ("range", "bytes=0-10"),
            ("connection", "keep-alive"),
            ("x-request-id", "abc"),
            ("authorization", "bce-auth-v1/ak/..."),
        ]);
        let edits: Vec<RequestEdit> = vec![
            (":method", Some("GET".into())),
            ("range", None),
            ("authorization", None),
            (
                "authorization",
                Some("AWS4-HMAC-SHA256 Credential=demo-ak/...".into()),
            ),
            ("x-amz-date", Some("20261205T000000Z".into())),
            (":path", Some("/demo/a.jpg".into())),
        ];
        let request = original_request(&client, &edits, "/demo/a.jpg?x-bce-process=image/info");
        let get = |name: &str| {
            request
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get(":method"), ["GET"]);
        assert_eq!(get(":path"), ["/demo/a.jpg"]);
        assert_eq!(get(":authority"), ["img.example.com"]);
        assert_eq!(
            get("authorization"),
            ["AWS4-HMAC-SHA256 Credential=demo-ak/..."]
        );
        assert_eq!(get("x-amz-date"), ["20261205T000000Z"]);
        assert_eq!(get("accept"), ["image/webp"]);
        assert_eq!(get("x-request-id"), ["abc"]);
        assert!(get("range").is_empty(), "{request:?}");
        assert!(get("connection").is_empty(), "{request:?}");
        assert!(get("host").is_empty(), "{request:?}");
    }

    #[test]
    fn the_path_is_kept_when_no_edit_changes_it() {
        let request = original_request(&owned(&[("host", "h")]), &[], "/demo/a.jpg");
        assert_eq!(request[1], (":path".to_string(), "/demo/a.jpg".to_string()));
    }

    #[test]
    fn answers_that_are_not_processed_are_handed_back() {
        let image = owned(&[("content-type", "image/jpeg"), ("content-length", "1000")]);
        assert_eq!(
            judge_original(Some("200"), &image, 10_000, false),
            OriginalVerdict::Process
        );
        assert_eq!(
            judge_original(Some("304"), &[], 10_000, false),
            OriginalVerdict::NotModified
        );
        assert_eq!(
            judge_original(None, &image, 10_000, false),
            OriginalVerdict::Failed
        );
        for (status, headers, why) in [
            (Some("404"), image.clone(), "status"),
            (Some("206"), image.clone(), "status"),
            (Some("503"), image.clone(), "status"),
            (Some("504"), image.clone(), "a storage's 504 in time"),
            (
                Some("200"),
                owned(&[("content-type", "text/plain")]),
                "content-type",
            ),
            (
                Some("200"),
                owned(&[("content-type", "image/jpeg"), ("content-length", "10001")]),
                "size",
            ),
            (
                Some("200"),
                owned(&[("content-type", "image/jpeg"), ("content-encoding", "gzip")]),
                "encoding",
            ),
        ] {
            assert!(
                matches!(
                    judge_original(status, &headers, 10_000, false),
                    OriginalVerdict::HandBack(_)
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn a_504_when_the_read_ran_out_of_time_is_the_hosts_timeout() {
        let image = owned(&[("content-type", "text/plain"), ("content-length", "24")]);
        assert_eq!(
            judge_original(Some("504"), &image, 10_000, true),
            OriginalVerdict::Failed
        );
        assert!(matches!(
            judge_original(Some("502"), &image, 10_000, true),
            OriginalVerdict::HandBack(_)
        ));
        assert!(ran_out_the_clock(2_850, 3_000));
        assert!(!ran_out_the_clock(2_849, 3_000));
    }

    #[test]
    fn a_failed_read_is_a_timeout_only_when_it_ran_out_the_clock() {
        assert_eq!(
            failed_read_error(3_000, 3_000).code,
            ErrorCode::GatewayTimeout
        );
        assert_eq!(
            failed_read_error(2_900, 3_000).code,
            ErrorCode::GatewayTimeout
        );
        assert_eq!(failed_read_error(2_000, 3_000).code, ErrorCode::BadGateway);
        assert_eq!(failed_read_error(5, 60_000).code, ErrorCode::BadGateway);
        assert_eq!(failed_read_error(5, 60_000).http_status(), 502);
        assert_eq!(failed_read_error(60_001, 60_000).http_status(), 504);
    }

    #[test]
    fn a_body_shorter_than_declared_did_not_arrive_whole() {
        assert!(arrived_whole(Some("10"), 10));
        assert!(!arrived_whole(Some("10"), 4));
        assert!(arrived_whole(None, 4));
        assert!(arrived_whole(Some("junk"), 4));
    }

    #[test]
    fn reply_headers_describe_the_new_body() {
        let upstream = owned(&[
            (":status", "200"),
            ("Content-Type", "image/jpeg"),
            ("content-length", "5000"),
            ("transfer-encoding", "chunked"),
            ("etag", "\"orig\""),
            ("last-modified", "Sat, 05 Dec 2026 00:00:00 GMT"),
            ("content-md5", "orig=="),
            ("x-amz-meta-owner", "me"),
        ]);
        let edits: Vec<HeaderEdit> = vec![
            ("content-md5", None),
            ("content-type", Some("image/webp".into())),
            ("content-length", Some("42".into())),
            ("etag", Some("\"new\"".into())),
            (":status", Some("400".into())),
        ];
        let reply = reply_headers(&upstream, &edits);
        let get = |name: &str| {
            reply
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("content-type"), ["image/webp"]);
        assert_eq!(get("etag"), ["\"new\""]);
        assert_eq!(get("last-modified"), ["Sat, 05 Dec 2026 00:00:00 GMT"]);
        assert_eq!(get("x-amz-meta-owner"), ["me"]);
        for gone in [
            "content-md5",
            "content-length",
            "transfer-encoding",
            ":status",
        ] {
            assert!(get(gone).is_empty(), "{gone}: {reply:?}");
        }
    }

    #[test]
    fn status_codes() {
        assert_eq!(status_code(Some("200")), 200);
        assert_eq!(status_code(Some("206")), 206);
        assert_eq!(status_code(Some("x")), 200);
        assert_eq!(status_code(Some("999")), 200);
        assert_eq!(status_code(None), 200);
    }
}
