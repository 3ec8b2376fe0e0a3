//! BCE auth v1 (spec: protection-and-signing §2): verifying the signature of a
//! request (in the `Authorization` header or a presigned `authorization=`
//! query parameter) and signing requests the same way.
//!
//! ```text
//! bce-auth-v1/{accessKeyId}/{timestamp}/{expirationPeriodInSeconds}/{signedHeaders}/{signature}
//! signingKey = hex(HMAC-SHA256(secret, "bce-auth-v1/{ak}/{timestamp}/{expiration}"))
//! signature  = hex(HMAC-SHA256(signingKey, method \n uri \n query \n headers))
//! ```

use super::encoding::{self, canonical_uri, parse_query, uri_encode, QueryParam};
use super::{clock, hmac_sha256, secret_for, signatures_equal, Carrier, Clock, Credential};
use super::{IncomingRequest, Refusal};

/// The version tag that starts an auth string.
pub(crate) const VERSION: &str = "bce-auth-v1";

/// Headers signed when the auth string lists none (plus every `x-bce-*`).
const DEFAULT_SIGNED_HEADERS: &[&str] = &["host", "content-length", "content-type", "content-md5"];

/// The six fields of an auth string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthString<'a> {
    pub(crate) access_key: &'a str,
    /// As written (`yyyy-mm-ddThh:mm:ssZ`).
    pub(crate) timestamp: &'a str,
    /// Unix seconds of `timestamp`.
    pub(crate) signed_at: i64,
    /// Validity in seconds from `signed_at` (0 – 2^31).
    pub(crate) expiration: i64,
    /// Lower-case header names; empty means the default set.
    pub(crate) signed_headers: Vec<String>,
    pub(crate) signature: &'a str,
}

impl AuthString<'_> {
    /// `bce-auth-v1/{ak}/{timestamp}/{expiration}`: the key derivation input.
    pub(crate) fn prefix(&self) -> String {
        format!(
            "{VERSION}/{}/{}/{}",
            self.access_key, self.timestamp, self.expiration
        )
    }
}

/// Splits an auth string into its fields, checking each one's shape.
pub(crate) fn parse_auth_string(text: &str) -> Result<AuthString<'_>, Refusal> {
    let fields: Vec<&str> = text.trim().split('/').collect();
    let [version, access_key, timestamp, expiration, signed_headers, signature] = fields[..] else {
        return Err(Refusal::malformed(
            "the authorization string must have 6 fields separated by '/'",
        ));
    };
    if version != VERSION {
        return Err(Refusal::malformed(format!(
            "unsupported authorization version (expected {VERSION})"
        )));
    }
    if access_key.is_empty() {
        return Err(Refusal::malformed(
            "the authorization string has no access key",
        ));
    }
    let signed_at = clock::parse_bce(timestamp).ok_or_else(|| {
        Refusal::malformed("the authorization timestamp must look like 2015-04-27T08:23:49Z")
    })?;
    let expiration = expiration
        .parse::<u32>()
        .ok()
        .filter(|e| *e <= i32::MAX as u32)
        .ok_or_else(|| {
            Refusal::malformed("the authorization expiration must be a number of seconds")
        })?;
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal::malformed(
            "the authorization signature must be 64 hex digits",
        ));
    }
    let signed_headers = signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    Ok(AuthString {
        access_key,
        timestamp,
        signed_at,
        expiration: i64::from(expiration),
        signed_headers,
        signature,
    })
}

/// `hex(HMAC-SHA256(secret, prefix))`: the per-request signing key.
pub(crate) fn signing_key(secret: &str, prefix: &str) -> String {
    encoding::hex(&hmac_sha256(secret.as_bytes(), prefix.as_bytes()))
}

/// The canonical query: every parameter but `authorization`, `name=value`
/// encoded, sorted as whole strings, joined by `&`.
pub(crate) fn canonical_query(params: &[QueryParam<'_>]) -> String {
    let mut pairs: Vec<String> = params
        .iter()
        .filter(|p| !p.is("authorization"))
        .map(QueryParam::canonical_pair)
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// The canonical headers for `names`: `name:value` (both encoded, value
/// trimmed, empty values skipped), sorted, joined by `\n`.
pub(crate) fn canonical_headers(headers: &[(String, String)], names: &[String]) -> String {
    let mut lines: Vec<String> = headers
        .iter()
        .filter(|(k, _)| names.iter().any(|n| n == k))
        .filter_map(|(k, v)| {
            let v = v.trim();
            (!v.is_empty()).then(|| {
                format!(
                    "{}:{}",
                    uri_encode(k.as_bytes(), false),
                    uri_encode(v.as_bytes(), false)
                )
            })
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// `method \n uri \n query \n headers`.
pub(crate) fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    signed_header_names: &[String],
) -> String {
    let (path, query) = encoding::split_path(path_and_query);
    format!(
        "{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(path),
        canonical_query(&parse_query(query)),
        canonical_headers(headers, signed_header_names)
    )
}

/// The signature of a canonical request.
pub(crate) fn signature(secret: &str, prefix: &str, canonical_request: &str) -> String {
    let key = signing_key(secret, prefix);
    encoding::hex(&hmac_sha256(key.as_bytes(), canonical_request.as_bytes()))
}

/// Signs a request: the auth string for `Authorization` (or, URI-encoded, for
/// a presigned `authorization=` parameter). `headers` are lower-case; the
/// signed ones are `signed_headers` (those present with a value), or, when it
/// is empty, the default set and every `x-bce-*` header (written as `//`).
pub fn sign(
    credential: &Credential,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    signed_at: i64,
    expiration: u32,
    signed_headers: &[&str],
) -> String {
    let timestamp = clock::format_bce(signed_at);
    let prefix = format!(
        "{VERSION}/{}/{timestamp}/{expiration}",
        credential.access_key
    );
    let listed: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let names = if listed.is_empty() {
        default_header_names(headers)
    } else {
        listed.clone()
    };
    let canonical = canonical_request(method, path_and_query, headers, &names);
    let sig = signature(&credential.secret_key, &prefix, &canonical);
    format!("{prefix}/{}/{sig}", listed.join(";"))
}

/// The default set plus every `x-bce-*` header present.
fn default_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = DEFAULT_SIGNED_HEADERS
        .iter()
        .map(|h| h.to_string())
        .collect();
    names.extend(
        headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-bce-"))
            .map(|(k, _)| k.clone()),
    );
    names
}

/// The header names a verifier tries for an auth string, in order: the listed
/// ones (or the default set and every `x-bce-*` header when none are listed);
/// then, for the Python SDK, which always signs `x-bce-*` headers without
/// listing them, the listed ones plus those.
fn header_sets(auth: &AuthString<'_>, headers: &[(String, String)]) -> Vec<Vec<String>> {
    let bce_headers: Vec<String> = headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-bce-"))
        .map(|(k, _)| k.clone())
        .collect();
    if auth.signed_headers.is_empty() {
        return vec![default_header_names(headers)];
    }
    let mut sets = vec![auth.signed_headers.clone()];
    let unlisted: Vec<String> = bce_headers
        .into_iter()
        .filter(|h| !auth.signed_headers.contains(h))
        .collect();
    if !unlisted.is_empty() {
        let mut with_bce = auth.signed_headers.clone();
        with_bce.extend(unlisted);
        sets.push(with_bce);
    }
    sets
}

/// Verifies a BCE v1 signed request; returns its access key.
#[cfg(test)]
pub(crate) fn verify(
    req: &IncomingRequest<'_>,
    carrier: Carrier,
    keys: &[Credential],
    clock: Clock,
) -> Result<String, Refusal> {
    verify_covering(req, carrier, keys, clock).map(|(key, _)| key)
}

/// Verifies a BCE v1 signed request; returns its access key and the names of
/// the headers the matching signature covers (lower-case).
pub(crate) fn verify_covering(
    req: &IncomingRequest<'_>,
    carrier: Carrier,
    keys: &[Credential],
    clock: Clock,
) -> Result<(String, Vec<String>), Refusal> {
    let (_, query) = encoding::split_path(req.path);
    let params = parse_query(query);
    let text = match carrier {
        Carrier::Header => req.header("authorization").unwrap_or_default().to_string(),
        Carrier::Query => {
            let mut found = params.iter().filter(|p| p.is("authorization"));
            let first = found.next().map(QueryParam::value_str).unwrap_or_default();
            if found.next().is_some() {
                return Err(Refusal::malformed("authorization is given more than once"));
            }
            first
        }
    };
    let auth = parse_auth_string(&text)?;
    let secret = secret_for(keys, auth.access_key).ok_or_else(Refusal::unknown_key)?;
    let prefix = auth.prefix();
    let mut matched: Option<Vec<String>> = None;
    for names in header_sets(&auth, req.headers) {
        let canonical = canonical_request(req.method, req.path, req.headers, &names);
        if signatures_equal(&signature(secret, &prefix, &canonical), auth.signature) {
            matched.get_or_insert(names);
        }
    }
    let Some(covered) = matched else {
        return Err(Refusal::mismatch());
    };
    // The time is checked after the signature, so a tampered expiration reads
    // as a bad signature rather than as a valid but expired one.
    clock.check_window(auth.signed_at, auth.expiration)?;
    // Headers without a value are not in the canonical request.
    let covered = covered
        .into_iter()
        .filter(|name| req.header(name).is_some_and(|v| !v.trim().is_empty()))
        .collect();
    Ok((auth.access_key.to_string(), covered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::RefusalReason;
    use crate::error::ErrorCode;

    fn official_credential() -> Credential {
        Credential {
            access_key: "a".repeat(32),
            secret_key: "b".repeat(32),
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Spec §2.10, the official BCE test vector.
    #[test]
    fn official_vector() {
        let cred = official_credential();
        let prefix = format!("bce-auth-v1/{}/2015-04-27T08:23:49Z/1800", cred.access_key);
        assert_eq!(
            signing_key(&cred.secret_key, &prefix),
            "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"
        );
        let headers = h(&[
            ("host", "bj.bcebos.com"),
            ("date", "Mon, 27 Apr 2015 16:23:49 +0800"),
            ("content-type", "text/plain"),
            ("content-length", "8"),
            ("content-md5", "NFzcPqhviddjRNnSOGo4rw=="),
            ("x-bce-date", "2015-04-27T08:23:49Z"),
        ]);
        let path =
            "/v1/test/myfolder/readme.txt?partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851";
        let canonical = canonical_request(
            "PUT",
            path,
            &headers,
            &["host".to_string(), "x-bce-date".to_string()],
        );
        assert_eq!(
            canonical,
            "PUT\n/v1/test/myfolder/readme.txt\npartNumber=9&uploadId=a44cc9bab11cbd156984767aad637851\nhost:bj.bcebos.com\nx-bce-date:2015-04-27T08%3A23%3A49Z"
        );
        let auth = sign(
            &cred,
            "PUT",
            path,
            &headers,
            1_430_123_029,
            1800,
            &["host", "x-bce-date"],
        );
        assert_eq!(
            auth,
            "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/host;x-bce-date/1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32"
        );
    }

    /// Spec §2.11, derived vectors for image URLs.
    #[test]
    fn derived_image_vectors() {
        let cred = official_credential();
        let headers = h(&[("host", "bucket-a.bj.bcebos.com")]);
        for (path, want) in [
            (
                "/sample.jpg?x-bce-process=image/resize,m_lfit,w_200,h_100",
                "655d14b658aad05080a405bd223e94124c230445876eeacbf3e804e48beea547",
            ),
            (
                "/sample.jpg?x-bce-process=style/mystylename",
                "bc2432f0d708c667fc629f478515cdfc92cc9e6755e1d2a74229c03d905ffbdb",
            ),
            (
                "/dir/中文 a.jpg",
                "04dc1faa820171280d90e82e4783537ff4743b0a35821821d96dbad148eb2b3d",
            ),
            // The same requests escaped differently by the client sign the same.
            (
                "/sample.jpg?x-bce-process=image%2Fresize%2Cm_lfit%2Cw_200%2Ch_100",
                "655d14b658aad05080a405bd223e94124c230445876eeacbf3e804e48beea547",
            ),
            (
                "/dir/%E4%B8%AD%E6%96%87%20a.jpg",
                "04dc1faa820171280d90e82e4783537ff4743b0a35821821d96dbad148eb2b3d",
            ),
        ] {
            let auth = sign(&cred, "GET", path, &headers, 1_430_123_029, 1800, &["host"]);
            assert!(auth.ends_with(want), "{path}: {auth}");
        }
    }

    fn request<'a>(path: &'a str, headers: &'a [(String, String)]) -> IncomingRequest<'a> {
        IncomingRequest {
            method: "GET",
            path,
            headers,
        }
    }

    const NOW: i64 = 1_430_123_029 + 60;

    fn clock() -> Clock {
        Clock {
            now: NOW,
            max_skew: 900,
        }
    }

    fn presign(path: &str, headers: &[(String, String)], signed_at: i64, exp: u32) -> String {
        let auth = sign(
            &official_credential(),
            "GET",
            path,
            headers,
            signed_at,
            exp,
            &[],
        );
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "{path}{sep}authorization={}",
            uri_encode(auth.as_bytes(), false)
        )
    }

    #[test]
    fn presigned_and_header_requests_verify() {
        let keys = [official_credential()];
        let headers = h(&[("host", "127.0.0.1:8080"), ("accept", "*/*")]);
        let url = presign(
            "/demo/a.jpg?x-bce-process=style/thumb",
            &headers,
            1_430_123_029,
            1800,
        );
        let ak = verify(&request(&url, &headers), Carrier::Query, &keys, clock()).unwrap();
        assert_eq!(ak, "a".repeat(32));

        let auth = sign(
            &keys[0],
            "GET",
            "/demo/a.jpg",
            &headers,
            1_430_123_029,
            1800,
            &["host"],
        );
        let mut signed = headers.clone();
        signed.push(("authorization".into(), auth));
        verify(
            &request("/demo/a.jpg", &signed),
            Carrier::Header,
            &keys,
            clock(),
        )
        .unwrap();
    }

    #[test]
    fn tampering_is_refused() {
        let keys = [official_credential()];
        let headers = h(&[("host", "127.0.0.1:8080")]);
        let url = presign(
            "/demo/a.jpg?x-bce-process=image/resize,w_100",
            &headers,
            1_430_123_029,
            1800,
        );
        let check = |url: &str, headers: &[(String, String)]| {
            verify(&request(url, headers), Carrier::Query, &keys, clock())
                .map_err(|r| (r.reason, r.error.code))
        };
        let mismatch = Err((
            RefusalReason::BadSignature,
            ErrorCode::SignatureDoesNotMatch,
        ));
        assert_eq!(check(&url.replace("/a.jpg", "/b.jpg"), &headers), mismatch);
        assert_eq!(check(&url.replace("w_100", "w_101"), &headers), mismatch);
        assert_eq!(check(&format!("{url}&extra=1"), &headers), mismatch);
        assert_eq!(
            check(&url.replace("%2F1800%2F", "%2F9999%2F"), &headers),
            mismatch
        );
        assert_eq!(check(&url, &h(&[("host", "evil.example")])), mismatch);
        assert_eq!(
            check(&url.replace("aaaaaaaa", "cccccccc"), &headers),
            Err((RefusalReason::UnknownKey, ErrorCode::InvalidAccessKeyId))
        );
        assert_eq!(
            check(&url.replace("bce-auth-v1", "bce-auth-v2"), &headers),
            Err((
                RefusalReason::BadSignature,
                ErrorCode::InvalidHTTPAuthHeader
            ))
        );
        assert_eq!(
            check(&format!("{url}&authorization=x"), &headers),
            Err((
                RefusalReason::BadSignature,
                ErrorCode::InvalidHTTPAuthHeader
            ))
        );
    }

    #[test]
    fn time_window() {
        let keys = [official_credential()];
        let headers = h(&[("host", "h")]);
        let at = |signed_at: i64, exp: u32| {
            let url = presign("/k", &headers, signed_at, exp);
            verify(&request(&url, &headers), Carrier::Query, &keys, clock())
                .map_err(|r| r.error.code)
        };
        assert!(at(NOW - 1800, 1800).is_ok(), "last valid second");
        assert_eq!(at(NOW - 1801, 1800), Err(ErrorCode::RequestExpired));
        assert!(at(NOW + 900, 60).is_ok(), "within the future skew");
        assert_eq!(at(NOW + 901, 60), Err(ErrorCode::RequestTimeTooSkewed));
    }

    #[test]
    fn key_rotation_accepts_every_configured_key() {
        let old = official_credential();
        let new = Credential {
            access_key: "new-ak".into(),
            secret_key: "new-sk".into(),
        };
        let keys = [old.clone(), new.clone()];
        let headers = h(&[("host", "h")]);
        for cred in [&old, &new] {
            let auth = sign(cred, "GET", "/k", &headers, NOW, 60, &[]);
            let mut signed = headers.clone();
            signed.push(("authorization".into(), auth));
            verify(&request("/k", &signed), Carrier::Header, &keys, clock()).unwrap();
        }
    }

    #[test]
    fn default_headers_include_x_bce_and_python_quirk_is_tolerated() {
        let keys = [official_credential()];
        let headers = h(&[
            ("host", "h"),
            ("x-bce-date", "2015-04-27T08:23:49Z"),
            ("user-agent", "u"),
        ]);
        // Empty signedHeaders: host and every x-bce-* header are signed.
        let auth = sign(
            &keys[0],
            "GET",
            "/k",
            &headers,
            NOW,
            60,
            &["host", "x-bce-date"],
        );
        let sig = auth.rsplit('/').next().unwrap();
        let prefix = format!(
            "bce-auth-v1/{}/{}/60",
            keys[0].access_key,
            clock::format_bce(NOW)
        );
        for listed in ["", "host"] {
            let mut signed = headers.clone();
            signed.push(("authorization".into(), format!("{prefix}/{listed}/{sig}")));
            verify(&request("/k", &signed), Carrier::Header, &keys, clock())
                .unwrap_or_else(|e| panic!("listed '{listed}': {e:?}"));
        }
        // Changing the x-bce-date header breaks it.
        let mut signed = h(&[("host", "h"), ("x-bce-date", "2015-04-27T08:23:50Z")]);
        signed.push(("authorization".into(), format!("{prefix}//{sig}")));
        assert!(verify(&request("/k", &signed), Carrier::Header, &keys, clock()).is_err());
    }
}
