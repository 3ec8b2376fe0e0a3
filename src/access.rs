//! The request phase, host-free: verify the signature, apply original-image
//! protection, find the command, and decide what goes upstream (path and
//! headers, re-signed for a private bucket).
//!
//! Rules (docs/protection-and-signing.md):
//! - Signatures are checked on GET and HEAD when the config has `credentials`
//!   or `protection`; a signature that does not verify is refused (403), on
//!   any object, as S3 and BOS do.
//! - On a protected object an unsigned request may only use a style.
//! - Writes (PUT, POST, DELETE, ...) are not the filter's business: they pass
//!   through untouched and are never signed by the filter. The exception is
//!   persistence (`system/load` on a PUT, `system/save` on a GET), which the
//!   filter carries out itself under the rules of [`crate::persistence`].
//! - A client's signature never reaches the upstream once the filter verified
//!   it or changed the request; with `upstream_signing` the filter signs reads
//!   with its own key.

use crate::auth::protection::is_style_command;
use crate::auth::{self, Clock, IncomingRequest, Refusal, RefusalReason, Verified};
use crate::command::{query, Command};
use crate::config::FilterConfig;
use crate::error::{ErrorCode, ProcessError};
use crate::exchange::{self, RequestDecision};
use crate::persistence::{self, PersistPlan};

/// A request header change: set (`Some`) or remove (`None`). `:path` and
/// `:authority` are among them.
pub(crate) type RequestEdit = (&'static str, Option<String>);

/// The outcome of the request phase.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Refused by the signature check or the protection (403, or 400 for a
    /// malformed signature).
    Refuse(Refusal),
    /// A bad command: answer with this error at once (400/404/501).
    Reject(ProcessError),
    /// Send upstream with these edits; process the response if `command` is set.
    Forward {
        command: Option<Command>,
        edits: Vec<RequestEdit>,
        verified: Option<Verified>,
        /// Whether the original may be sent when processing fails
        /// (`ignore-error`): not to unsigned requests on protected objects.
        original_allowed: bool,
    },
    /// `system/load` / `system/save`: the filter reads, processes and writes
    /// itself, and answers; the request never goes upstream.
    Persist(Box<PersistPlan>),
}

/// Query parameters that carry a client's signature or session token.
const SIGNATURE_PARAMS: &[&str] = &[
    "authorization",
    "x-bce-security-token",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-security-token",
];

fn is_read(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// Whether the config makes the filter a gate (verifying signatures).
pub(crate) fn gate_enabled(config: &FilterConfig) -> bool {
    !config.credentials.is_empty() || !config.protection.resources.is_empty()
}

/// Decides a request. `has_body` says whether the request carries a body;
/// `now` is Unix seconds from the host's clock.
pub fn admit(
    config: &FilterConfig,
    req: &IncomingRequest<'_>,
    has_body: bool,
    now: i64,
) -> Admission {
    match persistence::admit(config, req, has_body, now) {
        persistence::Decision::NotOurs => {}
        persistence::Decision::Refuse(refusal) => return Admission::Refuse(refusal),
        persistence::Decision::Reject(error) => return Admission::Reject(error),
        persistence::Decision::Persist(plan) => return Admission::Persist(plan),
    }
    let reads = is_read(req.method);
    let gate = gate_enabled(config) && reads;
    let clock = Clock {
        now,
        max_skew: i64::from(config.clock_skew_seconds),
    };
    let verified = if gate {
        match auth::verify(req, &config.credentials, clock) {
            Ok(v) => v,
            Err(refusal) => return Admission::Refuse(refusal),
        }
    } else {
        None
    };
    let mut original_allowed = true;
    if gate && verified.is_none() {
        if let Some(refusal) = protection_refusal(config, req) {
            return Admission::Refuse(refusal);
        }
        original_allowed = !is_protected(config, req);
    }
    let (command, mut upstream_path) =
        match exchange::decide_request(req.method, req.path, &config.styles) {
            RequestDecision::Reject(e) => return Admission::Reject(e),
            RequestDecision::PassThrough => (None, req.path.to_string()),
            RequestDecision::Process {
                command,
                upstream_path,
            } => (Some(command), upstream_path),
        };
    let mut edits: Vec<RequestEdit> = Vec::new();
    // A processed HEAD is fetched with GET: its answer needs the processed
    // body's headers (Envoy sends no body to a HEAD request).
    let upstream_method = if command.is_some() && req.method.eq_ignore_ascii_case("HEAD") {
        edits.push((":method", Some("GET".to_string())));
        "GET"
    } else {
        req.method
    };
    if command.is_some() {
        edits.extend(exchange::STRIP_REQUEST_HEADERS.iter().map(|h| (*h, None)));
    }
    let signer = config.upstream_signing.as_ref().filter(|_| reads);
    // The client's signature is dropped when it was ours to check, when the
    // request changed (it would no longer match), or when we sign instead.
    if verified.is_some() || command.is_some() || signer.is_some() {
        upstream_path = without_signature_params(&upstream_path);
        edits.extend(auth::SIGNATURE_HEADERS.iter().map(|h| (*h, None)));
    }
    if let Some(signer) = signer {
        let host = req.header("host").unwrap_or_default();
        let signed = signer.sign(upstream_method, &upstream_path, host, now);
        upstream_path = signed.path;
        edits.extend(signed.headers.into_iter().map(|(k, v)| (k, Some(v))));
    }
    if upstream_path != req.path {
        edits.push((":path", Some(upstream_path)));
    }
    Admission::Forward {
        command,
        edits,
        verified,
        original_allowed,
    }
}

/// Whether the request addresses an object under `protection.resources`.
fn is_protected(config: &FilterConfig, req: &IncomingRequest<'_>) -> bool {
    let protection = &config.protection;
    !protection.resources.is_empty()
        && protection
            .object_of(req.path, req.header("host"))
            .is_some_and(|o| protection.covers(&o))
}

/// The refusal an unsigned read of a protected object gets, if any.
fn protection_refusal(config: &FilterConfig, req: &IncomingRequest<'_>) -> Option<Refusal> {
    let protection = &config.protection;
    if protection.resources.is_empty() {
        return None;
    }
    let object = protection.object_of(req.path, req.header("host"))?;
    if !protection.covers(&object) {
        return None;
    }
    match query::extract(req.path) {
        Ok(Some(q)) if is_style_command(&q.command) => None,
        Ok(Some(_)) => Some(Refusal::new(
            RefusalReason::StyleOnly,
            ErrorCode::AccessDenied,
            "this object is protected: unsigned requests may only use a style (x-bce-process=style/<name>)",
        )),
        Ok(None) => Some(Refusal::new(
            RefusalReason::Missing,
            ErrorCode::AccessDenied,
            "this object is protected: its original needs a signed request",
        )),
        // A broken command on a protected object is still refused for what it is.
        Err(_) => Some(Refusal::new(
            RefusalReason::StyleOnly,
            ErrorCode::AccessDenied,
            "this object is protected: unsigned requests may only use a style (x-bce-process=style/<name>)",
        )),
    }
}

/// `path_and_query` without the query parameters that carry a signature.
fn without_signature_params(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let kept: Vec<&str> = auth::encoding::parse_query(query)
        .into_iter()
        .filter(|p| !SIGNATURE_PARAMS.iter().any(|s| p.is(s)))
        .map(|p| p.raw)
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::bce_v1;
    use crate::auth::encoding::uri_encode;
    use crate::auth::upstream::UpstreamSigning;
    use crate::auth::{Credential, Scheme};

    const NOW: i64 = 1_800_000_000;

    fn config(json: &str) -> FilterConfig {
        FilterConfig::from_json(json.as_bytes()).unwrap()
    }

    fn demo() -> FilterConfig {
        config(
            r#"{"styles":{"thumb":"image/resize,w_20"},
                "credentials":[{"access_key":"demo-ak","secret_key":"demo-sk"}],
                "protection":{"resources":["demo/private/*"]}}"#,
        )
    }

    fn headers() -> Vec<(String, String)> {
        vec![("host".into(), "127.0.0.1:8080".into())]
    }

    fn admit_path(config: &FilterConfig, method: &str, path: &str) -> Admission {
        let h = headers();
        admit(
            config,
            &IncomingRequest {
                method,
                path,
                headers: &h,
            },
            false,
            NOW,
        )
    }

    fn presigned(path: &str) -> String {
        let cred = Credential {
            access_key: "demo-ak".into(),
            secret_key: "demo-sk".into(),
        };
        let auth = bce_v1::sign(&cred, "GET", path, &headers(), NOW, 1800, &[]);
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "{path}{sep}authorization={}",
            uri_encode(auth.as_bytes(), false)
        )
    }

    fn refusal(a: &Admission) -> Option<(RefusalReason, u16)> {
        match a {
            Admission::Refuse(r) => Some((r.reason, r.error.http_status())),
            _ => None,
        }
    }

    #[test]
    fn protected_objects_allow_only_styles_unsigned() {
        let c = demo();
        assert_eq!(
            refusal(&admit_path(&c, "GET", "/demo/private/a.jpg")),
            Some((RefusalReason::Missing, 403))
        );
        assert_eq!(
            refusal(&admit_path(&c, "HEAD", "/demo/private/a.jpg")),
            Some((RefusalReason::Missing, 403))
        );
        assert_eq!(
            refusal(&admit_path(
                &c,
                "GET",
                "/demo/private/a.jpg?x-bce-process=image/resize,w_10"
            )),
            Some((RefusalReason::StyleOnly, 403))
        );
        for style in [
            "/demo/private/a.jpg?x-bce-process=style/thumb",
            "/demo/private/a.jpg@!thumb",
        ] {
            match admit_path(&c, "GET", style) {
                Admission::Forward {
                    command: Some(_),
                    verified: None,
                    ..
                } => {}
                other => panic!("{style}: {other:?}"),
            }
        }
        // Outside the patterns: anything goes, unsigned.
        assert!(matches!(
            admit_path(
                &c,
                "GET",
                "/demo/public/a.jpg?x-bce-process=image/resize,w_10"
            ),
            Admission::Forward {
                command: Some(_),
                ..
            }
        ));
        assert!(matches!(
            admit_path(&c, "GET", "/demo/a.jpg"),
            Admission::Forward { command: None, .. }
        ));
        // Writes are not the filter's business.
        assert!(matches!(
            admit_path(&c, "PUT", "/demo/private/a.jpg"),
            Admission::Forward { .. }
        ));
    }

    #[test]
    fn signed_requests_may_do_anything_and_lose_their_signature_upstream() {
        let c = demo();
        let url = presigned("/demo/private/a.jpg?x-bce-process=image/resize,w_10&v=2");
        match admit_path(&c, "GET", &url) {
            Admission::Forward {
                command: Some(cmd),
                edits,
                verified: Some(v),
                ..
            } => {
                assert_eq!(cmd.normalized, "image/resize,w_10");
                assert_eq!(v.access_key, "demo-ak");
                assert!(
                    edits.contains(&(":path", Some("/demo/private/a.jpg?v=2".into()))),
                    "{edits:?}"
                );
                assert!(edits.contains(&("authorization", None)));
            }
            other => panic!("{other:?}"),
        }
        let original = presigned("/demo/private/a.jpg");
        match admit_path(&c, "GET", &original) {
            Admission::Forward {
                command: None,
                edits,
                verified: Some(_),
                ..
            } => {
                assert!(edits.contains(&(":path", Some("/demo/private/a.jpg".into()))));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_signatures_are_refused_everywhere() {
        let c = demo();
        let url = presigned("/demo/public/a.jpg");
        let tampered = url.replace("/public/", "/other/");
        assert_eq!(
            refusal(&admit_path(&c, "GET", &tampered)),
            Some((RefusalReason::BadSignature, 403))
        );
        // Without credentials or protection the filter is not a gate.
        let open = config("{}");
        assert!(matches!(
            admit_path(&open, "GET", &tampered),
            Admission::Forward { .. }
        ));
    }

    #[test]
    fn upstream_signing_replaces_the_clients_signature() {
        let mut c = demo();
        c.upstream_signing = Some(UpstreamSigning {
            scheme: Scheme::SigV4,
            access_key: "up".into(),
            secret_key: "up-sk".into(),
            region: "us-east-1".into(),
            host: None,
        });
        let url = presigned("/demo/private/a b.jpg?x-bce-process=style/thumb");
        let Admission::Forward { edits, .. } = admit_path(&c, "GET", &url) else {
            panic!()
        };
        assert!(
            edits.contains(&(":path", Some("/demo/private/a%20b.jpg".into()))),
            "{edits:?}"
        );
        let auth = edits
            .iter()
            .rev()
            .find(|(k, v)| *k == "authorization" && v.is_some())
            .unwrap();
        assert!(auth
            .1
            .as_deref()
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=up/"));
        // The removal of the client's header comes before our own.
        let remove = edits
            .iter()
            .position(|e| *e == ("authorization", None))
            .unwrap();
        let set = edits
            .iter()
            .position(|(k, v)| *k == "authorization" && v.is_some())
            .unwrap();
        assert!(remove < set);
        // Writes are never signed by the filter.
        let Admission::Forward { edits, .. } = admit_path(&c, "PUT", "/demo/a.jpg") else {
            panic!()
        };
        assert!(edits.is_empty(), "{edits:?}");
    }

    #[test]
    fn the_original_is_never_a_fallback_for_unsigned_protected_reads() {
        let c = demo();
        let allowed = |a: Admission| match a {
            Admission::Forward {
                original_allowed, ..
            } => original_allowed,
            other => panic!("{other:?}"),
        };
        assert!(!allowed(admit_path(
            &c,
            "GET",
            "/demo/private/a.jpg?x-bce-process=style/thumb"
        )));
        assert!(allowed(admit_path(
            &c,
            "GET",
            "/demo/public/a.jpg?x-bce-process=style/thumb"
        )));
        let signed = presigned("/demo/private/a.jpg?x-bce-process=image/resize,w_10");
        assert!(allowed(admit_path(&c, "GET", &signed)));
    }

    #[test]
    fn processed_head_is_fetched_with_get() {
        let c = demo();
        let Admission::Forward {
            command: Some(_),
            edits,
            ..
        } = admit_path(&c, "HEAD", "/demo/a.jpg?x-bce-process=image/resize,w_10")
        else {
            panic!()
        };
        assert!(
            edits.contains(&(":method", Some("GET".into()))),
            "{edits:?}"
        );
        let Admission::Forward { edits, .. } = admit_path(&c, "HEAD", "/demo/a.jpg") else {
            panic!()
        };
        assert!(!edits.iter().any(|(k, _)| *k == ":method"), "{edits:?}");
    }

    #[test]
    fn query_signature_params_are_removed() {
        assert_eq!(
            without_signature_params("/a?x=1&authorization=abc&X-Amz-Signature=s&y"),
            "/a?x=1&y"
        );
        assert_eq!(without_signature_params("/a?Authorization=abc"), "/a");
        assert_eq!(without_signature_params("/a"), "/a");
    }
}
