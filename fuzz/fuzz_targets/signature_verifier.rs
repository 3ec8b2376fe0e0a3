//! `signature_verifier`: requests through the filter's request phase
//! (`access::admit`: BCE auth v1 and SigV4 verification, header and
//! presigned, protection, upstream re-signing) and `auth::verify` alone.
//!
//! Two input modes, chosen by the first byte:
//!
//! - `0x00`: the rest is an [`Arbitrary`] [`Signed`] request: method, object,
//!   query, headers, a scheme and a key. The target signs it itself with the
//!   crate's signer (BCE v1) or canonical request (SigV4, header or
//!   presigned), then maybe tampers with it. Oracle: an untampered request
//!   signed with a configured key, checked inside its validity, verifies as
//!   that key; a tampered one never verifies.
//! - anything else: the input is a request written as text (the seeds in
//!   `fuzz/seeds/signature_verifier/` are the unit-test vectors):
//!
//!   ```text
//!   @1430123029                       optional: the clock, Unix seconds
//!   GET /path?query HTTP/1.1          method and :path (" HTTP/1.1" optional)
//!   host: bj.bcebos.com               headers, one per line
//!   ```
//!
//! Everywhere: no panic, and every refusal is a 400/403 with its reason.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use image_process_filter::access::{admit, Admission};
use image_process_filter::auth::encoding::uri_encode;
use image_process_filter::auth::protection::Protection;
use image_process_filter::auth::upstream::UpstreamSigning;
use image_process_filter::auth::{
    bce_v1, clock, sigv4, verify, Clock, Credential, IncomingRequest, Scheme,
};
use image_process_filter::config::FilterConfig;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The configured keys: the BCE and AWS documentation examples and the demo's.
fn credentials() -> Vec<Credential> {
    [
        ("a".repeat(32), "b".repeat(32)),
        (
            "AKIAIOSFODNN7EXAMPLE".to_string(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
        ),
        ("demo-ak".to_string(), "demo-sk".to_string()),
    ]
    .into_iter()
    .map(|(access_key, secret_key)| Credential {
        access_key,
        secret_key,
    })
    .collect()
}

fn config() -> &'static FilterConfig {
    static CONFIG: OnceLock<FilterConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let json = r#"{
            "credentials": [
                {"access_key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "secret_key": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
                {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                {"access_key": "demo-ak", "secret_key": "demo-sk"}
            ],
            "protection": {"resources": ["demo/private/*", "v1/*", "examplebucket/*"]},
            "styles": {"thumb": "image/resize,m_lfit,w_200,h_200"},
            "upstream_signing": {"scheme": "sigv4", "access_key": "demo-ak", "secret_key": "demo-sk"}
        }"#;
        match FilterConfig::from_json(json.as_bytes()) {
            Ok(c) => c,
            Err(e) => panic!("the fuzz config is invalid: {e}"),
        }
    })
}

/// A second config: virtual-hosted buckets, BCE v1 upstream signing.
fn host_config() -> &'static FilterConfig {
    static CONFIG: OnceLock<FilterConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let mut c = config().clone();
        let json = r#"{"resources": ["bucket-a/*"], "bucket_from": "host"}"#;
        c.protection = serde_json_from::<Protection>(json);
        c.upstream_signing = Some(serde_json_from::<UpstreamSigning>(
            r#"{"scheme": "bce-v1", "access_key": "demo-ak", "secret_key": "demo-sk", "host": "storage:9000"}"#,
        ));
        c
    })
}

fn serde_json_from<T: for<'de> serde::Deserialize<'de>>(json: &str) -> T {
    match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => panic!("{json}: {e}"),
    }
}

/// Runs the request phase under both configs and checks the answer's shape.
fn run_admit(req: &IncomingRequest<'_>, now: i64) {
    for (config, has_body) in [(config(), false), (config(), true), (host_config(), false)] {
        match admit(config, req, has_body, now) {
            Admission::Refuse(r) => {
                let status = r.error.http_status();
                assert!(status == 400 || status == 403, "refusal {status}: {r:?}");
            }
            Admission::Reject(e) => {
                let status = e.http_status();
                assert!((400..=599).contains(&status), "rejection {status}: {e:?}");
            }
            Admission::Forward { edits, .. } => {
                for (name, value) in &edits {
                    if let Some(v) = value {
                        assert!(
                            !v.contains('\n') || *name == ":path",
                            "header {name} with a newline: {v:?}"
                        );
                    }
                }
            }
            // Persistence is off in these configs: never a write.
            Admission::Persist(plan) => panic!("persistence admitted while off: {plan:?}"),
        }
    }
}

/// Parses the text form; `None` when there is no request line.
fn parse_text(text: &str) -> Option<(i64, String, String, Vec<(String, String)>)> {
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut first = lines.next()?;
    let mut now = 1_430_123_029;
    if let Some(t) = first.strip_prefix('@') {
        now = t.trim().parse().ok()?;
        first = lines.next()?;
    }
    let (method, rest) = first.split_once(' ')?;
    let path = rest.strip_suffix(" HTTP/1.1").unwrap_or(rest);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim_start().to_string()))
        .collect();
    Some((now, method.to_string(), path.to_string(), headers))
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Method {
    Get,
    Head,
    Put,
    LowerGet,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::LowerGet => "get",
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum HeaderName {
    Host,
    XBceDate,
    XBceMeta,
    ContentType,
    ContentMd5,
    Range,
    Accept,
    Other(String),
}

impl HeaderName {
    fn name(&self) -> String {
        match self {
            HeaderName::Host => "host".into(),
            HeaderName::XBceDate => "x-bce-date".into(),
            HeaderName::XBceMeta => "x-bce-meta-fuzz".into(),
            HeaderName::ContentType => "content-type".into(),
            HeaderName::ContentMd5 => "content-md5".into(),
            HeaderName::Range => "range".into(),
            HeaderName::Accept => "accept".into(),
            HeaderName::Other(s) => s.to_ascii_lowercase(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum How {
    Unsigned,
    BceHeader {
        expiration: u32,
        listed: Vec<HeaderName>,
    },
    BcePresigned {
        expiration: u32,
        listed: Vec<HeaderName>,
    },
    SigV4Header {
        region: bool,
    },
    SigV4Presigned {
        region: bool,
        expires: u32,
    },
}

#[derive(Arbitrary, Debug, Clone)]
enum Tamper {
    FlipSignature(u8),
    OtherMethod,
    LongerPath,
    ExtraQuery(String),
}

#[derive(Arbitrary, Debug)]
struct Signed {
    method: Method,
    /// Index into the configured keys; past the end is an unknown key.
    key: u8,
    /// After `/`: `<bucket>/<key>`, URI-encoded.
    object: String,
    query: Vec<(String, String)>,
    headers: Vec<(HeaderName, String)>,
    how: How,
    /// Signing time, seconds after 2020-01-01.
    signed_at: u32,
    /// The clock, seconds after the signing time.
    now_delta: i32,
    tamper: Option<Tamper>,
}

const EPOCH_2020: i64 = 1_577_836_800;

fn is_reserved_param(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.to_ascii_lowercase().starts_with("x-amz-")
}

fn is_reserved_header(name: &str) -> bool {
    name == "authorization" || name.starts_with("x-amz-")
}

fn signed_request(s: &Signed) {
    let creds = credentials();
    let unknown = Credential {
        access_key: "unknown-ak".into(),
        secret_key: "unknown-sk".into(),
    };
    let cred = creds.get(usize::from(s.key % 4)).unwrap_or(&unknown);
    let known = usize::from(s.key % 4) < creds.len();
    let method = s.method.as_str();
    let signed_at = EPOCH_2020 + i64::from(s.signed_at);
    let now = signed_at + i64::from(s.now_delta);
    let base = format!("/{}", uri_encode(s.object.as_bytes(), true));
    let query: Vec<String> = s
        .query
        .iter()
        .filter(|(k, _)| !is_reserved_param(k))
        .map(|(k, v)| {
            format!(
                "{}={}",
                uri_encode(k.as_bytes(), false),
                uri_encode(v.as_bytes(), false)
            )
        })
        .collect();
    let mut headers: Vec<(String, String)> = s
        .headers
        .iter()
        .map(|(k, v)| (k.name(), v.clone()))
        .filter(|(k, _)| !is_reserved_header(k))
        .collect();
    let with_query = |extra: &[String]| {
        let all: Vec<&str> = query
            .iter()
            .chain(extra.iter())
            .map(String::as_str)
            .collect();
        if all.is_empty() {
            base.clone()
        } else {
            format!("{base}?{}", all.join("&"))
        }
    };
    // Whether the validity window holds `now` for this scheme (for the oracle).
    let mut window = 0..=-1i64;
    let path = match &s.how {
        How::Unsigned => with_query(&[]),
        How::BceHeader { expiration, listed } | How::BcePresigned { expiration, listed } => {
            let expiration = expiration % 100_000;
            let listed: Vec<String> = listed.iter().map(HeaderName::name).collect();
            let listed: Vec<&str> = listed
                .iter()
                .map(String::as_str)
                .filter(|n| !n.is_empty() && !n.contains([';', '/']) && n.trim() == *n)
                .collect();
            let path = with_query(&[]);
            let auth = bce_v1::sign(
                cred, method, &path, &headers, signed_at, expiration, &listed,
            );
            window = signed_at - 900..=signed_at + i64::from(expiration);
            if matches!(s.how, How::BceHeader { .. }) {
                headers.push(("authorization".into(), auth));
                path
            } else {
                with_query(&[format!(
                    "authorization={}",
                    uri_encode(auth.as_bytes(), false)
                )])
            }
        }
        How::SigV4Header { region } => {
            let region = if *region { "us-east-1" } else { "bj" };
            let path = with_query(&[]);
            headers.retain(|(k, _)| k != "host");
            headers.push(("host".into(), "examplebucket.s3.amazonaws.com".into()));
            // sign_headers signs `host` and its own x-amz-* headers only.
            let extra = sigv4::sign_headers(
                cred,
                region,
                method,
                &path,
                "examplebucket.s3.amazonaws.com",
                signed_at,
            );
            headers.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
            window = signed_at - 900..=signed_at + 900;
            path
        }
        How::SigV4Presigned { region, expires } => {
            let region = if *region { "us-east-1" } else { "bj" };
            let expires = 1 + i64::from(*expires % 604_800);
            let amz_date = clock::format_amz(signed_at);
            let scope = sigv4::CredentialScope {
                access_key: &cred.access_key,
                date: &amz_date[..8],
                region,
                service: "s3",
            };
            let params = vec![
                "X-Amz-Algorithm=AWS4-HMAC-SHA256".to_string(),
                format!(
                    "X-Amz-Credential={}",
                    uri_encode(
                        format!("{}/{}", cred.access_key, scope.scope()).as_bytes(),
                        false
                    )
                ),
                format!("X-Amz-Date={amz_date}"),
                format!("X-Amz-Expires={expires}"),
                "X-Amz-SignedHeaders=host".to_string(),
            ];
            let unsigned = with_query(&params);
            let host_headers = vec![(
                "host".to_string(),
                headers
                    .iter()
                    .find(|(k, _)| k == "host")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            )];
            let canonical = sigv4::canonical_request(
                method,
                &unsigned,
                &host_headers,
                &["host"],
                sigv4::UNSIGNED_PAYLOAD,
                Some("X-Amz-Signature"),
            );
            let signature = sigv4::signature(&cred.secret_key, &amz_date, &scope, &canonical);
            // Only one `host` value, as signed.
            headers.retain(|(k, _)| k != "host");
            headers.extend(host_headers);
            window = signed_at - 900..=signed_at + expires;
            format!("{unsigned}&X-Amz-Signature={signature}")
        }
    };
    let (method, path) = match &s.tamper {
        None => (method.to_string(), path),
        Some(Tamper::OtherMethod) => (
            if method.eq_ignore_ascii_case("GET") {
                "HEAD"
            } else {
                "GET"
            }
            .to_string(),
            path,
        ),
        Some(Tamper::LongerPath) => (
            method.to_string(),
            match path.split_once('?') {
                Some((p, q)) => format!("{p}x?{q}"),
                None => format!("{path}x"),
            },
        ),
        Some(Tamper::ExtraQuery(v)) => (
            method.to_string(),
            format!(
                "{path}{}x-bce-process={}",
                if path.contains('?') { '&' } else { '?' },
                uri_encode(v.as_bytes(), false)
            ),
        ),
        Some(Tamper::FlipSignature(i)) => {
            let flip = |text: &mut String| {
                // The signature is the last 64 hex digits of the auth string.
                let at = text.len().saturating_sub(1 + usize::from(*i % 64));
                if let Some(c) = text.get(at..=at) {
                    let new = if c == "0" { "1" } else { "0" };
                    text.replace_range(at..=at, new);
                }
            };
            let mut path = path;
            if matches!(s.how, How::BceHeader { .. } | How::SigV4Header { .. }) {
                if let Some((_, v)) = headers.iter_mut().find(|(k, _)| k == "authorization") {
                    flip(v);
                }
            } else {
                flip(&mut path);
            }
            (method.to_string(), path)
        }
    };
    let req = IncomingRequest {
        method: &method,
        path: &path,
        headers: &headers,
    };
    let result = verify(&req, &creds, Clock { now, max_skew: 900 });
    let signed = !matches!(s.how, How::Unsigned);
    if signed && s.tamper.is_none() && known && window.contains(&now) && now >= signed_at {
        match &result {
            Ok(Some(v)) => {
                assert_eq!(v.access_key, cred.access_key);
                // `IPF_FUZZ_TRACE=1` shows how often the oracle holds (corpus checks).
                if std::env::var_os("IPF_FUZZ_TRACE").is_some() {
                    eprintln!("oracle: verified {:?} {:?}", v.scheme, v.carrier);
                }
            }
            other => panic!("a correctly signed request does not verify: {other:?}\n{req:#?}"),
        }
        let scheme = match s.how {
            How::SigV4Header { .. } | How::SigV4Presigned { .. } => Scheme::SigV4,
            _ => Scheme::BceV1,
        };
        if let Ok(Some(v)) = &result {
            assert_eq!(v.scheme, scheme);
        }
    }
    if signed && s.tamper.is_some() {
        if let Ok(Some(v)) = &result {
            panic!("a tampered request verifies as {v:?}\n{req:#?}");
        }
        if std::env::var_os("IPF_FUZZ_TRACE").is_some() {
            eprintln!(
                "oracle: tampered request refused: {:?}",
                result.err().map(|r| r.reason)
            );
        }
    }
    run_admit(&req, now);
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 8192 {
        return;
    }
    match data.split_first() {
        Some((0, rest)) => {
            if let Ok(s) = Signed::arbitrary_take_rest(Unstructured::new(rest)) {
                signed_request(&s);
            }
        }
        _ => {
            let text = String::from_utf8_lossy(data);
            if let Some((now, method, path, headers)) = parse_text(&text) {
                let req = IncomingRequest {
                    method: &method,
                    path: &path,
                    headers: &headers,
                };
                let _ = verify(&req, &credentials(), Clock { now, max_skew: 900 });
                run_admit(&req, now);
            }
        }
    }
});
