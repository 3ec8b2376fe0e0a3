//! Persistence (spec §4.24), host-free: who may make the filter write a
//! processed result into the storage, what it reads and writes, the headers
//! of its own upstream calls, and what the client is told.
//!
//! Two forms, carried out the same way:
//!
//! | request | source | target |
//! |---|---|---|
//! | `PUT /<bucket>/<key>` with `x-bce-process: system/load,o_<b64>\|image/...` (header or query), empty body | `o_` (in `b_`, default the request's bucket) | the PUT's object |
//! | `GET /<bucket>/<key>?x-bce-process=image/...\|system/save,o_<b64>` | the GET's object | `o_` (in `b_`, default the request's bucket) |
//!
//! The client's request never reaches the storage. The filter reads the
//! source with its own signed `GET`, runs the pipeline, writes the result
//! with its own signed `PUT` (both through `upstream_cluster`, signed with
//! `upstream_signing`), and answers 200 with a JSON description of the saved
//! object, or the storage's refusal as a BCE error.
//!
//! Security rules, in the order they are checked ([`admit`]):
//!
//! 1. `persistence.enabled` must be true (default false), else 403.
//! 2. `credentials` must be configured and the request must carry a signature
//!    that verifies against them (BCE v1 or SigV4, header or presigned); an
//!    unsigned request is 403 `AccessDenied`, a bad one 403 as any read. The
//!    filter writes with its *own* upstream key, so an anonymous client must
//!    never be able to make it write.
//! 3. The signature must cover the command: the query is always signed; an
//!    `x-bce-process` header must be among the signed headers (403 otherwise).
//! 4. A `PUT` with a body (incremental persistence) is 501 `NotImplemented`.
//! 5. The grammar ([`crate::command::system`]) and the image command: 400.
//! 6. Source and target must be in the request's bucket or in
//!    `persistence.buckets` (403 otherwise).
//! 7. The target must not be the source unless
//!    `persistence.allow_overwrite_source` (403 otherwise).
//!
//! Original-image protection never refuses here: it limits unsigned requests
//! only, and every persistence request is signed. The source's original bytes
//! never leave the filter; only the processed copy is written.

use crate::actions::watermark::{is_valid_bucket, ObjectRef};
use crate::auth::encoding::{percent_decode, split_path};
use crate::auth::protection::BucketAddressing;
use crate::auth::{self, Clock, IncomingRequest, Refusal, RefusalReason, Verified};
use crate::command::system::{self, SystemAction};
use crate::command::{query, Command};
use crate::config::FilterConfig;
use crate::error::{ErrorCode, ProcessError, Result};
#[cfg(any(target_arch = "wasm32", test))]
use crate::{auth::upstream::UpstreamSigning, limits::MAX_SOURCE_BYTES};
#[cfg(any(target_arch = "wasm32", test))]
use base64::Engine;
#[cfg(any(target_arch = "wasm32", test))]
use md5::{Digest, Md5};
use serde::Deserialize;

/// The header that may carry the command on a `PUT` (spec §4.24).
pub const PROCESS_HEADER: &str = "x-bce-process";

/// How long the filter's source read and result write may each take, in
/// milliseconds.
#[cfg(any(target_arch = "wasm32", test))]
pub const CALL_TIMEOUT_MS: u64 = 30_000;

/// `persistence` in the plugin config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct PersistenceConfig {
    /// Whether `system/load` and `system/save` are carried out (default
    /// false: they are refused with 403).
    pub(crate) enabled: bool,
    /// Whether a result may replace its own source object (default false).
    pub(crate) allow_overwrite_source: bool,
    /// Buckets besides the request's own that `b_` may name, for reading or
    /// writing (default none: the request's bucket only).
    pub(crate) buckets: Vec<String>,
}

impl PersistenceConfig {
    /// Checks the bucket names.
    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        for (i, b) in self.buckets.iter().enumerate() {
            if !is_valid_bucket(b) {
                return Err(format!(
                    "persistence.buckets[{i}] '{b}' is not a bucket name (3-63 characters of a-z, 0-9 and '-')"
                ));
            }
        }
        Ok(())
    }
}

/// A persistence request the filter carries out.
#[derive(Debug, Clone, PartialEq)]
pub struct PersistPlan {
    /// `Load` for the `PUT` form, `Save` for the `GET` form.
    pub(crate) action: SystemAction,
    pub(crate) source: ObjectRef,
    pub(crate) target: ObjectRef,
    pub(crate) command: Command,
    pub(crate) verified: Verified,
}

/// What the request phase decides about persistence.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Not a persistence request: the usual rules apply.
    NotOurs,
    /// Refused for access (403, or 400 for a malformed signature).
    Refuse(Refusal),
    /// A bad request (400/501).
    Reject(ProcessError),
    /// Carry it out.
    Persist(Box<PersistPlan>),
}

/// Where the command was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carried {
    Header,
    Query,
}

/// Decides whether `req` is a persistence request and whether it may run.
/// `has_body` says whether the request carries a body; `now` is Unix seconds.
pub fn admit(
    config: &FilterConfig,
    req: &IncomingRequest<'_>,
    has_body: bool,
    now: i64,
) -> Decision {
    let is_put = req.method.eq_ignore_ascii_case("PUT");
    let is_read = req.method.eq_ignore_ascii_case("GET") || req.method.eq_ignore_ascii_case("HEAD");
    let (value, carried) = if is_put {
        match put_command(req) {
            Ok(Some(found)) => found,
            Ok(None) => return Decision::NotOurs,
            Err(e) => return Decision::Reject(e),
        }
    } else if is_read {
        match query::extract(req.path) {
            Ok(Some(q)) if system::is_system_command(&q.command) => (q.command, Carried::Query),
            _ => return Decision::NotOurs,
        }
    } else {
        return Decision::NotOurs;
    };
    if !config.persistence.enabled {
        return refuse(
            RefusalReason::NotAllowed,
            "persistence (system/load, system/save) is not enabled on this proxy",
        );
    }
    if config.credentials.is_empty() {
        return refuse(
            RefusalReason::NotAllowed,
            "persistence needs signed requests, and this proxy has no credentials to verify them",
        );
    }
    let clock = Clock {
        now,
        max_skew: i64::from(config.clock_skew_seconds),
    };
    let verified = match auth::verify(req, &config.credentials, clock) {
        Ok(Some(v)) => v,
        Ok(None) => {
            return refuse(
                RefusalReason::Missing,
                "system/load and system/save write to the bucket: they need a signed request",
            )
        }
        Err(refusal) => return Decision::Refuse(refusal),
    };
    if carried == Carried::Header && !verified.covers_header(PROCESS_HEADER) {
        return Decision::Refuse(Refusal::new(
            RefusalReason::BadSignature,
            ErrorCode::AccessDenied,
            "the signature does not cover the x-bce-process header: sign it",
        ));
    }
    if is_put && has_body {
        return Decision::Reject(ProcessError::not_implemented(
            "incremental persistence (a PUT with a body and x-bce-process) is not implemented: \
             upload first, then PUT with an empty body and system/load",
        ));
    }
    match plan(config, req, &value, verified) {
        Ok(plan) => plan,
        Err(e) => Decision::Reject(e),
    }
}

fn refuse(reason: RefusalReason, message: &str) -> Decision {
    Decision::Refuse(Refusal::new(reason, ErrorCode::AccessDenied, message))
}

/// The command of a `PUT`: the `x-bce-process` header or query parameter.
fn put_command(req: &IncomingRequest<'_>) -> Result<Option<(String, Carried)>> {
    let mut headers = req.header_values(PROCESS_HEADER);
    let header = headers.next();
    if headers.next().is_some() {
        return Err(ProcessError::invalid(
            "the x-bce-process header is given more than once",
        ));
    }
    let param = query::extract_param(req.path)?;
    match (header, param) {
        (Some(_), Some(_)) => Err(ProcessError::invalid(
            "x-bce-process is given both as a header and as a query parameter",
        )),
        (Some(h), None) => Ok(Some((h.trim().to_string(), Carried::Header))),
        (None, Some(q)) => Ok(Some((q.command, Carried::Query))),
        (None, None) => Ok(None),
    }
}

/// Grammar, objects, buckets and overwrite checks.
fn plan(
    config: &FilterConfig,
    req: &IncomingRequest<'_>,
    value: &str,
    verified: Verified,
) -> Result<Decision> {
    let parsed = system::parse(value)?;
    let is_put = req.method.eq_ignore_ascii_case("PUT");
    match (parsed.action, is_put) {
        (SystemAction::Load, true) => {}
        (SystemAction::Save, false) if req.method.eq_ignore_ascii_case("GET") => {}
        (SystemAction::Load, false) => {
            return Err(ProcessError::invalid(
                "system/load needs a PUT: the PUT's object is where the result is saved",
            ))
        }
        (SystemAction::Save, true) => {
            return Err(ProcessError::invalid(
                "a PUT names its target itself: use 'system/load,o_<source>|image/...'",
            ))
        }
        (SystemAction::Save, false) => {
            return Err(ProcessError::invalid("system/save needs a GET"));
        }
    }
    let own = request_object(config.protection.bucket_from, req)?;
    let named = parsed.object.resolve(&own.bucket);
    let (source, target) = match parsed.action {
        SystemAction::Load => (named, own.clone()),
        SystemAction::Save => (own.clone(), named),
    };
    for object in [&source, &target] {
        if object.bucket != own.bucket && !config.persistence.buckets.contains(&object.bucket) {
            return Ok(refuse(
                RefusalReason::NotAllowed,
                &format!(
                    "system/{}: bucket '{}' is not the request's bucket and not in persistence.buckets",
                    parsed.action.as_str(),
                    object.bucket
                ),
            ));
        }
    }
    if source == target && !config.persistence.allow_overwrite_source {
        return Ok(refuse(
            RefusalReason::NotAllowed,
            &format!(
                "system/{}: the result would overwrite its source '{source}'",
                parsed.action.as_str()
            ),
        ));
    }
    let command = Command::parse(&parsed.image, &config.styles)?;
    if let Some(action) = command.inspection() {
        let name = if matches!(action, crate::command::Action::Info) {
            "info"
        } else {
            "detect"
        };
        return Err(ProcessError::invalid(format!(
            "{name}: answers with JSON, there is no image to save"
        )));
    }
    Ok(Decision::Persist(Box::new(PersistPlan {
        action: parsed.action,
        source,
        target,
        command,
        verified,
    })))
}

/// The object the request addresses (path-style `/<bucket>/<key>`, or the
/// bucket from `Host`), decoded; `@!` is part of the key here.
fn request_object(addressing: BucketAddressing, req: &IncomingRequest<'_>) -> Result<ObjectRef> {
    let (path, _) = split_path(req.path);
    let decoded = String::from_utf8(percent_decode(path))
        .map_err(|_| ProcessError::invalid("the object key is not UTF-8"))?;
    let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = match addressing {
        BucketAddressing::Path => rest.split_once('/').unwrap_or((rest, "")),
        BucketAddressing::Host => {
            let host = req.header("host").unwrap_or_default();
            (host.split(['.', ':']).next().unwrap_or_default(), rest)
        }
    };
    let bucket = bucket.to_ascii_lowercase();
    if !is_valid_bucket(&bucket) {
        return Err(ProcessError::invalid(format!(
            "'{bucket}' is not a bucket name (3-63 characters of a-z, 0-9 and '-')"
        )));
    }
    system::check_key(key).map_err(|why| {
        ProcessError::invalid(format!(
            "the request's object key {}",
            why.replace("decodes to ", "is ")
        ))
    })?;
    Ok(ObjectRef {
        bucket,
        key: key.to_string(),
    })
}

/// Decides from the storage's answer to the source read, before the body is
/// read: `status` is `:status` (`None` when the call failed), `body_size` in
/// bytes. The body may be at most [`MAX_SOURCE_BYTES`].
#[cfg(any(target_arch = "wasm32", test))]
pub fn check_source_answer(
    source: &ObjectRef,
    status: Option<&str>,
    body_size: usize,
) -> Result<()> {
    match status {
        Some("200") if body_size > MAX_SOURCE_BYTES => Err(ProcessError::too_large(format!(
            "system/load: object '{source}' is {body_size} bytes, at most {MAX_SOURCE_BYTES} can be processed"
        ))),
        Some("200") => Ok(()),
        Some("404") => Err(ProcessError::new(
            ErrorCode::NoSuchKey,
            format!("system/load: object '{source}' does not exist"),
        )),
        Some(s @ ("401" | "403")) => Err(ProcessError::new(
            ErrorCode::AccessDenied,
            format!("system/load: the storage refused to read '{source}' (status {s})"),
        )),
        Some(s) => Err(ProcessError::internal(format!(
            "system/load: reading '{source}' failed: the storage answered {s}"
        ))),
        None => Err(ProcessError::internal(format!(
            "system/load: reading '{source}' failed: no answer from the storage"
        ))),
    }
}

/// The result may be at most `max_body_bytes` (the config's) long.
#[cfg(any(target_arch = "wasm32", test))]
pub fn check_result_size(target: &ObjectRef, len: usize, max_body_bytes: usize) -> Result<()> {
    if len > max_body_bytes {
        return Err(ProcessError::too_large(format!(
            "system/save: the result for '{target}' is {len} bytes, at most {max_body_bytes} (max_body_bytes) can be saved"
        )));
    }
    Ok(())
}

/// The headers of the filter's `PUT` of `body` to `target`: path-style
/// `/<bucket>/<key>`, `content-type`, `content-length`, `content-md5`, signed
/// with `signer` at Unix time `now` (SigV4 covers the body by its SHA-256,
/// BCE v1 by the signed `content-md5`). `authority` is the client's `Host`.
#[cfg(any(target_arch = "wasm32", test))]
pub fn save_put_headers(
    target: &ObjectRef,
    authority: &str,
    content_type: &str,
    body: &[u8],
    signer: Option<&UpstreamSigning>,
    now: i64,
) -> Vec<(String, String)> {
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(body));
    let signed_extra: Vec<(&'static str, String)> = vec![
        ("content-md5", md5),
        ("content-type", content_type.to_string()),
    ];
    let mut path = target.path();
    let mut signature = Vec::new();
    if let Some(signer) = signer {
        let signed = signer.sign_write("PUT", &path, authority, now, body, &signed_extra);
        path = signed.path;
        signature = signed.headers;
    }
    let mut headers = vec![
        (":method".to_string(), "PUT".to_string()),
        (":path".to_string(), path),
        (":authority".to_string(), authority.to_string()),
        (":scheme".to_string(), "http".to_string()),
        (
            "user-agent".to_string(),
            concat!("image-process-filter/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
        ("content-length".to_string(), body.len().to_string()),
    ];
    headers.extend(signed_extra.into_iter().map(|(k, v)| (k.to_string(), v)));
    for (name, value) in signature {
        match headers.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => headers.push((name.to_string(), value)),
        }
    }
    headers
}

/// What was written, for the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg(any(target_arch = "wasm32", test))]
pub struct Saved<'a> {
    pub(crate) target: &'a ObjectRef,
    /// Bytes written.
    pub(crate) size: usize,
    pub(crate) content_type: &'a str,
}

/// The answer to the client from the storage's answer to the `PUT`
/// (`status` is `:status`, `None` when the call failed; `etag` its `ETag`):
/// 200 with the JSON body
/// `{"bucket","object","fileSize","contentType","eTag","status":"OK"}`, or
/// the storage's refusal as an error (401/403 → 403 `AccessDenied`, 404 →
/// 404 `NoSuchBucket`, 400 → 400 `InvalidArgument`, anything else → 500),
/// never a success the storage did not confirm.
#[cfg(any(target_arch = "wasm32", test))]
pub fn save_answer(saved: &Saved<'_>, status: Option<&str>, etag: Option<&str>) -> Result<String> {
    let target = saved.target;
    match status {
        Some("200") => Ok(serde_json::json!({
            "bucket": target.bucket,
            "object": target.key,
            "fileSize": saved.size,
            "contentType": saved.content_type,
            "eTag": etag.unwrap_or_default(),
            "status": "OK",
        })
        .to_string()),
        Some(s @ ("401" | "403")) => Err(ProcessError::new(
            ErrorCode::AccessDenied,
            format!("system/save: the storage refused to write '{target}' (status {s})"),
        )),
        Some("404") => Err(ProcessError::new(
            ErrorCode::NoSuchBucket,
            format!("system/save: the storage has no bucket '{}'", target.bucket),
        )),
        Some("400") => Err(ProcessError::invalid(format!(
            "system/save: the storage refused to write '{target}' (status 400)"
        ))),
        Some(s) => Err(ProcessError::internal(format!(
            "system/save: writing '{target}' failed: the storage answered {s}"
        ))),
        None => Err(ProcessError::internal(format!(
            "system/save: writing '{target}' failed: no answer from the storage"
        ))),
    }
}

/// Headers of the 200 answer (JSON, never cached).
#[cfg(any(target_arch = "wasm32", test))]
pub fn answer_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::encoding::uri_encode;
    use crate::auth::{bce_v1, sigv4, Carrier, Credential, Scheme};

    const NOW: i64 = 1_800_000_000;
    const HOST: &str = "127.0.0.1:8080";

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE.encode(s)
    }

    fn config(extra: &str) -> FilterConfig {
        FilterConfig::from_json(
            format!(
                r#"{{"styles":{{"thumb":"image/resize,w_20"}},
                    "credentials":[{{"access_key":"demo-ak","secret_key":"demo-sk"}}],
                    "protection":{{"resources":["demo/private/*"]}},
                    "upstream_cluster":"storage",
                    "persistence":{{"enabled":true{extra}}}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    fn cred() -> Credential {
        Credential {
            access_key: "demo-ak".into(),
            secret_key: "demo-sk".into(),
        }
    }

    fn load(src: &str, image: &str) -> String {
        format!("system/load,o_{}|{image}", b64(src))
    }

    /// A PUT signed with BCE v1 in the header; `sign_process` says whether the
    /// x-bce-process header is among the signed ones.
    fn bce_put(path: &str, process: &str, sign_process: bool) -> Vec<(String, String)> {
        let mut headers = vec![
            ("host".to_string(), HOST.to_string()),
            (PROCESS_HEADER.to_string(), process.to_string()),
        ];
        let names: &[&str] = if sign_process {
            &["host", "x-bce-process"]
        } else {
            &["host"]
        };
        let auth = bce_v1::sign(&cred(), "PUT", path, &headers, NOW, 1800, names);
        headers.push(("authorization".into(), auth));
        headers
    }

    /// A PUT signed with SigV4 in the header (as curl --aws-sigv4 does).
    fn sigv4_put(path: &str, process: &str) -> Vec<(String, String)> {
        let extra = [(PROCESS_HEADER, process.to_string())];
        let signed = sigv4::sign_headers_with(
            &cred(),
            "us-east-1",
            &sigv4::SignInput {
                method: "PUT",
                path_and_query: path,
                host: HOST,
                now: NOW,
                payload_sha256: sigv4::EMPTY_PAYLOAD_SHA256,
                extra: &extra,
            },
        );
        let mut headers = vec![
            ("host".to_string(), HOST.to_string()),
            (PROCESS_HEADER.to_string(), process.to_string()),
        ];
        headers.extend(signed.into_iter().map(|(k, v)| (k.to_string(), v)));
        headers
    }

    fn presigned_get(path: &str) -> String {
        let h = vec![("host".to_string(), HOST.to_string())];
        let auth = bce_v1::sign(&cred(), "GET", path, &h, NOW, 1800, &[]);
        format!(
            "{path}&authorization={}",
            uri_encode(auth.as_bytes(), false)
        )
    }

    fn decide(
        config: &FilterConfig,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        has_body: bool,
    ) -> Decision {
        admit(
            config,
            &IncomingRequest {
                method,
                path,
                headers,
            },
            has_body,
            NOW,
        )
    }

    /// (status, code) of a refusal or rejection; `None` for NotOurs/Persist.
    fn outcome(d: &Decision) -> Option<(u16, &'static str)> {
        match d {
            Decision::Refuse(r) => Some((r.error.http_status(), r.error.code.as_str())),
            Decision::Reject(e) => Some((e.http_status(), e.code.as_str())),
            _ => None,
        }
    }

    #[test]
    fn signed_put_with_load_is_carried_out() {
        let c = config("");
        let process = load("photo.jpg", "image/resize,w_100");
        for headers in [
            bce_put("/demo/out/t.jpg", &process, true),
            sigv4_put("/demo/out/t.jpg", &process),
        ] {
            let Decision::Persist(plan) = decide(&c, "PUT", "/demo/out/t.jpg", &headers, false)
            else {
                panic!(
                    "{:?}",
                    decide(&c, "PUT", "/demo/out/t.jpg", &headers, false)
                );
            };
            assert_eq!(plan.action, SystemAction::Load);
            assert_eq!(plan.source.to_string(), "demo/photo.jpg");
            assert_eq!(plan.target.to_string(), "demo/out/t.jpg");
            assert_eq!(plan.command.normalized, "image/resize,w_100");
            assert_eq!(plan.verified.access_key, "demo-ak");
        }
        // BCE v1 with the default signed set (`//`) covers every x-bce-* header.
        let mut headers = vec![
            ("host".to_string(), HOST.to_string()),
            (PROCESS_HEADER.to_string(), process.clone()),
        ];
        let auth = bce_v1::sign(&cred(), "PUT", "/demo/t.jpg", &headers, NOW, 1800, &[]);
        headers.push(("authorization".into(), auth));
        assert!(matches!(
            decide(&c, "PUT", "/demo/t.jpg", &headers, false),
            Decision::Persist(_)
        ));
    }

    #[test]
    fn signed_get_with_save_is_carried_out() {
        let c = config("");
        let url = presigned_get(&format!(
            "/demo/private/photo.jpg?x-bce-process=style/thumb%7Csystem/save,o_{}",
            b64("thumbs/p.jpg")
        ));
        let h = vec![("host".to_string(), HOST.to_string())];
        let Decision::Persist(plan) = decide(&c, "GET", &url, &h, false) else {
            panic!("{:?}", decide(&c, "GET", &url, &h, false));
        };
        assert_eq!(plan.action, SystemAction::Save);
        assert_eq!(plan.source.to_string(), "demo/private/photo.jpg");
        assert_eq!(plan.target.to_string(), "demo/thumbs/p.jpg");
        assert_eq!(
            (plan.verified.scheme, plan.verified.carrier),
            (Scheme::BceV1, Carrier::Query)
        );
    }

    #[test]
    fn not_ours() {
        let c = config("");
        let h = vec![("host".to_string(), HOST.to_string())];
        for (method, path) in [
            ("GET", "/demo/a.jpg"),
            ("GET", "/demo/a.jpg?x-bce-process=image/resize,w_10"),
            ("GET", "/demo/a.jpg@!thumb"),
            ("PUT", "/demo/a.jpg"),
            ("PUT", "/demo/a.jpg@!thumb"),
            ("DELETE", "/demo/a.jpg?x-bce-process=system/save"),
        ] {
            assert_eq!(
                decide(&c, method, path, &h, false),
                Decision::NotOurs,
                "{method} {path}"
            );
        }
    }

    /// The security table: each request and what it gets.
    #[test]
    fn security_decisions() {
        let process = load("photo.jpg", "image/resize,w_100");
        let enabled = config("");
        let host_only = vec![("host".to_string(), HOST.to_string())];
        let unsigned = vec![
            ("host".to_string(), HOST.to_string()),
            (PROCESS_HEADER.to_string(), process.clone()),
        ];
        let signed = bce_put("/demo/out.jpg", &process, true);
        let uncovered = bce_put("/demo/out.jpg", &process, false);
        let mut tampered = signed.clone();
        tampered[1].1 = load("private/photo.jpg", "image/resize,w_100");
        let disabled = FilterConfig::from_json(
            br#"{"credentials":[{"access_key":"demo-ak","secret_key":"demo-sk"}],"upstream_cluster":"s"}"#,
        )
        .unwrap();
        let keyless =
            FilterConfig::from_json(br#"{"upstream_cluster":"s","persistence":{"enabled":true}}"#)
                .unwrap();
        let overwrite = bce_put("/demo/photo.jpg", &process, true);
        let other_bucket = bce_put(
            "/demo/out.jpg",
            &format!("system/load,b_other,o_{}|image/strip", b64("a.jpg")),
            true,
        );
        let into_other = presigned_get(&format!(
            "/demo/photo.jpg?x-bce-process=image/strip%7Csystem/save,b_thumbs,o_{}",
            b64("a.jpg")
        ));
        let listed = config(r#","buckets":["thumbs"]"#);
        let may_overwrite = config(r#","allow_overwrite_source":true"#);
        let put_query = format!(
            "/demo/out.jpg?x-bce-process={}",
            uri_encode(process.as_bytes(), false)
        );
        let put_query_signed = {
            let auth = bce_v1::sign(&cred(), "PUT", &put_query, &host_only, NOW, 1800, &["host"]);
            vec![
                ("host".to_string(), HOST.to_string()),
                ("authorization".to_string(), auth),
            ]
        };
        type Row<'a> = (
            &'a str,
            &'a FilterConfig,
            &'a str,
            &'a str,
            &'a [(String, String)],
            bool,
            Option<(u16, &'static str)>,
        );
        let rows: Vec<Row> = vec![
            (
                "unsigned PUT",
                &enabled,
                "PUT",
                "/demo/out.jpg",
                &unsigned,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "unsigned GET save",
                &enabled,
                "GET",
                "/demo/photo.jpg?x-bce-process=image/strip%7Csystem/save,o_YS5qcGc=",
                &host_only,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "header not signed",
                &enabled,
                "PUT",
                "/demo/out.jpg",
                &uncovered,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "tampered command",
                &enabled,
                "PUT",
                "/demo/out.jpg",
                &tampered,
                false,
                Some((403, "SignatureDoesNotMatch")),
            ),
            (
                "disabled",
                &disabled,
                "PUT",
                "/demo/out.jpg",
                &signed,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "no credentials",
                &keyless,
                "PUT",
                "/demo/out.jpg",
                &signed,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "overwrite source",
                &enabled,
                "PUT",
                "/demo/photo.jpg",
                &overwrite,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "overwrite allowed",
                &may_overwrite,
                "PUT",
                "/demo/photo.jpg",
                &overwrite,
                false,
                None,
            ),
            (
                "other bucket",
                &enabled,
                "PUT",
                "/demo/out.jpg",
                &other_bucket,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "save into unlisted bucket",
                &enabled,
                "GET",
                &into_other,
                &host_only,
                false,
                Some((403, "AccessDenied")),
            ),
            (
                "save into listed bucket",
                &listed,
                "GET",
                &into_other,
                &host_only,
                false,
                None,
            ),
            (
                "PUT with a body",
                &enabled,
                "PUT",
                "/demo/out.jpg",
                &signed,
                true,
                Some((501, "NotImplemented")),
            ),
            (
                "command in the signed query",
                &enabled,
                "PUT",
                &put_query,
                &put_query_signed,
                false,
                None,
            ),
        ];
        for (name, config, method, path, headers, has_body, want) in rows {
            let got = decide(config, method, path, headers, has_body);
            assert_eq!(outcome(&got), want, "{name}: {got:?}");
            if want.is_none() {
                assert!(matches!(got, Decision::Persist(_)), "{name}: {got:?}");
            }
        }
        // Refusals are counted by reason.
        let Decision::Refuse(r) = decide(&enabled, "PUT", "/demo/out.jpg", &unsigned, false) else {
            panic!()
        };
        assert_eq!(r.reason, RefusalReason::Missing);
        let Decision::Refuse(r) = decide(&enabled, "PUT", "/demo/photo.jpg", &overwrite, false)
        else {
            panic!()
        };
        assert_eq!(r.reason, RefusalReason::NotAllowed);
        assert!(
            r.error
                .message
                .contains("overwrite its source 'demo/photo.jpg'"),
            "{}",
            r.error.message
        );
    }

    #[test]
    fn bad_requests_after_the_signature() {
        let c = config("");
        let cases: Vec<(&str, &str, String, &str)> = vec![
            (
                "PUT",
                "/demo/out.jpg",
                "image/resize,w_10".into(),
                "MissingArgument",
            ),
            (
                "PUT",
                "/demo/out.jpg",
                format!("image/strip|system/save,o_{}", b64("x.jpg")),
                "InvalidArgument",
            ),
            (
                "PUT",
                "/demo/out.jpg",
                "system/load,o_!!|image/strip".into(),
                "InvalidArgument",
            ),
            (
                "PUT",
                "/demo/out.jpg",
                load("a.jpg", "image/info"),
                "InvalidArgument",
            ),
            (
                "PUT",
                "/demo/out.jpg",
                load("a.jpg", "style/nope"),
                "NoSuchStyle",
            ),
            (
                "PUT",
                "/demo/out.jpg",
                load("a.jpg", "image/resize,w_0"),
                "InvalidArgument",
            ),
            (
                "PUT",
                "/demo/a/../b.jpg",
                load("a.jpg", "image/strip"),
                "InvalidArgument",
            ),
        ];
        for (method, path, process, code) in cases {
            let headers = bce_put(path, &process, true);
            let got = decide(&c, method, path, &headers, false);
            assert_eq!(outcome(&got).map(|o| o.1), Some(code), "{process}: {got:?}");
        }
        // GET with load, HEAD with save.
        let get_load = presigned_get(&format!(
            "/demo/a.jpg?x-bce-process={}",
            uri_encode(load("b.jpg", "image/strip").as_bytes(), false)
        ));
        let h = vec![("host".to_string(), HOST.to_string())];
        assert_eq!(
            outcome(&decide(&c, "GET", &get_load, &h, false)),
            Some((400, "InvalidArgument"))
        );
    }

    #[test]
    fn virtual_hosted_requests_take_the_bucket_from_host() {
        let mut c = config("");
        c.protection.bucket_from = BucketAddressing::Host;
        let process = load("photo.jpg", "image/strip");
        let mut headers = vec![
            ("host".to_string(), "demo.bj.bcebos.com".to_string()),
            (PROCESS_HEADER.to_string(), process),
        ];
        let auth = bce_v1::sign(&cred(), "PUT", "/out.jpg", &headers, NOW, 1800, &[]);
        headers.push(("authorization".into(), auth));
        let Decision::Persist(plan) = decide(&c, "PUT", "/out.jpg", &headers, false) else {
            panic!()
        };
        assert_eq!(plan.source.to_string(), "demo/photo.jpg");
        assert_eq!(plan.target.to_string(), "demo/out.jpg");
    }

    #[test]
    fn source_answers() {
        let src = ObjectRef {
            bucket: "demo".into(),
            key: "a.jpg".into(),
        };
        assert!(check_source_answer(&src, Some("200"), MAX_SOURCE_BYTES).is_ok());
        let code = |s, n| check_source_answer(&src, s, n).unwrap_err().code;
        assert_eq!(
            code(Some("200"), MAX_SOURCE_BYTES + 1),
            ErrorCode::ImageTooLarge
        );
        assert_eq!(code(Some("404"), 0), ErrorCode::NoSuchKey);
        assert_eq!(code(Some("403"), 0), ErrorCode::AccessDenied);
        assert_eq!(code(Some("503"), 0), ErrorCode::InternalError);
        assert_eq!(code(None, 0), ErrorCode::InternalError);
        assert!(check_result_size(&src, 10, 10).is_ok());
        assert_eq!(
            check_result_size(&src, 11, 10).unwrap_err().code,
            ErrorCode::ImageTooLarge
        );
    }

    #[test]
    fn save_answers() {
        let target = ObjectRef {
            bucket: "demo".into(),
            key: "out/t.jpg".into(),
        };
        let saved = Saved {
            target: &target,
            size: 1234,
            content_type: "image/jpeg",
        };
        let json = save_answer(&saved, Some("200"), Some("\"abc\"")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"bucket":"demo","object":"out/t.jpg","fileSize":1234,
                               "contentType":"image/jpeg","eTag":"\"abc\"","status":"OK"})
        );
        let err = |s| save_answer(&saved, s, None).unwrap_err();
        assert_eq!(
            (err(Some("403")).code, err(Some("403")).http_status()),
            (ErrorCode::AccessDenied, 403)
        );
        assert_eq!(
            (err(Some("404")).code, err(Some("404")).http_status()),
            (ErrorCode::NoSuchBucket, 404)
        );
        assert_eq!(err(Some("400")).http_status(), 400);
        assert_eq!(err(Some("500")).http_status(), 500);
        assert_eq!(err(None).http_status(), 500);
    }

    /// The filter's PUT verifies with the SigV4 verifier (which an S3 server
    /// runs too), and its payload hash is the body's; BCE v1 signs content-md5.
    #[test]
    fn signed_put_verifies() {
        let target = ObjectRef {
            bucket: "demo".into(),
            key: "out/a b.jpg".into(),
        };
        let body = b"\xFF\xD8 not really a jpeg".to_vec();
        for scheme in [Scheme::SigV4, Scheme::BceV1] {
            let signer = UpstreamSigning {
                scheme,
                access_key: "up-ak".into(),
                secret_key: "up-sk".into(),
                region: "us-east-1".into(),
                host: None,
            };
            let headers = save_put_headers(
                &target,
                "storage:9000",
                "image/jpeg",
                &body,
                Some(&signer),
                NOW,
            );
            let get = |n: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap()
            };
            assert_eq!(get(":method"), "PUT");
            assert_eq!(get(":path"), "/demo/out/a%20b.jpg");
            assert_eq!(get("content-length"), body.len().to_string());
            assert_eq!(
                get("content-md5"),
                base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body))
            );
            let mut plain: Vec<(String, String)> = headers
                .iter()
                .filter(|(k, _)| !k.starts_with(':'))
                .cloned()
                .collect();
            plain.push(("host".into(), get(":authority")));
            let path = get(":path");
            let req = IncomingRequest {
                method: "PUT",
                path: &path,
                headers: &plain,
            };
            let keys = [Credential {
                access_key: "up-ak".into(),
                secret_key: "up-sk".into(),
            }];
            let v = auth::verify(
                &req,
                &keys,
                Clock {
                    now: NOW,
                    max_skew: 900,
                },
            )
            .unwrap()
            .unwrap();
            assert_eq!(v.scheme, scheme);
            assert!(
                v.covers_header("content-md5") && v.covers_header("content-type"),
                "{v:?}"
            );
            if scheme == Scheme::SigV4 {
                assert_eq!(get("x-amz-content-sha256"), crate::auth::sha256_hex(&body));
                // Another body under the same signature does not verify.
                let mut forged = plain.clone();
                for (k, v) in forged.iter_mut() {
                    if k == "x-amz-content-sha256" {
                        *v = crate::auth::sha256_hex(b"other");
                    }
                }
                let req = IncomingRequest {
                    method: "PUT",
                    path: &path,
                    headers: &forged,
                };
                assert!(auth::verify(
                    &req,
                    &keys,
                    Clock {
                        now: NOW,
                        max_skew: 900
                    }
                )
                .is_err());
            } else {
                let mut forged = plain.clone();
                for (k, v) in forged.iter_mut() {
                    if k == "content-md5" {
                        *v = "AAAAAAAAAAAAAAAAAAAAAA==".into();
                    }
                }
                let req = IncomingRequest {
                    method: "PUT",
                    path: &path,
                    headers: &forged,
                };
                assert!(auth::verify(
                    &req,
                    &keys,
                    Clock {
                        now: NOW,
                        max_skew: 900
                    }
                )
                .is_err());
            }
        }
        // Without upstream_signing the PUT goes unsigned.
        let headers = save_put_headers(&target, "s", "image/png", &body, None, NOW);
        assert!(!headers.iter().any(|(k, _)| k == "authorization"));
    }
}
