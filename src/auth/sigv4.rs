//! AWS Signature Version 4 for S3-compatible storage (spec: protection-and-signing
//! §3): verifying header-signed (`Authorization: AWS4-HMAC-SHA256 ...`) and
//! presigned (`X-Amz-*` query) requests, and signing requests with headers.

use super::encoding::{self, canonical_uri, parse_query, uri_encode, QueryParam};
use super::{clock, hmac_sha256, secret_for, sha256_hex, signatures_equal, Carrier, Clock};
use super::{Credential, IncomingRequest, Refusal};

/// The only algorithm of SigV4.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash presigned URLs sign.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of an empty body.
pub(crate) const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Longest validity of a presigned URL: 7 days, in seconds.
pub(crate) const MAX_EXPIRES: i64 = 604_800;
/// Allowed distance between a header-signed request's time and now, in seconds.
pub(crate) const HEADER_TIME_WINDOW: i64 = 900;

/// `AK/yyyymmdd/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    pub access_key: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> CredentialScope<'a> {
    fn parse(text: &'a str) -> Result<Self, Refusal> {
        let parts: Vec<&str> = text.split('/').collect();
        let [access_key, date, region, service, "aws4_request"] = parts[..] else {
            return Err(Refusal::malformed(
                "the SigV4 credential must be AK/date/region/service/aws4_request",
            ));
        };
        if access_key.is_empty() || region.is_empty() || date.len() != 8 {
            return Err(Refusal::malformed(
                "the SigV4 credential scope is malformed",
            ));
        }
        if service != "s3" {
            return Err(Refusal::malformed(
                "the SigV4 credential scope must name service s3",
            ));
        }
        Ok(CredentialScope {
            access_key,
            date,
            region,
            service,
        })
    }

    /// `date/region/service/aws4_request` (the scope without the key).
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The SigV4 signing key for a scope.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The canonical query: every parameter but `skip`, names and values encoded,
/// sorted by name then value.
fn canonical_query(params: &[QueryParam<'_>], skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|p| skip.is_none_or(|s| !p.is(s)))
        .map(|p| (uri_encode(&p.name, false), uri_encode(&p.value, false)))
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `name:value\n` for each signed header: values of repeated headers joined by
/// `,`, trimmed, inner runs of spaces collapsed.
fn canonical_headers(headers: &[(String, String)], signed: &[&str]) -> String {
    let mut out = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The canonical request. `signed` must be sorted lower-case names.
pub fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    signed: &[&str],
    payload_hash: &str,
    skip_param: Option<&str>,
) -> String {
    let (path, query) = encoding::split_path(path_and_query);
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(path),
        canonical_query(&parse_query(query), skip_param),
        canonical_headers(headers, signed),
        signed.join(";"),
        payload_hash
    )
}

/// `hex(HMAC(signingKey, "AWS4-HMAC-SHA256\n" amzDate \n scope \n hex(sha256(canonical))))`.
pub fn signature(
    secret: &str,
    amz_date: &str,
    scope: &CredentialScope<'_>,
    canonical: &str,
) -> String {
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        scope.scope(),
        sha256_hex(canonical.as_bytes())
    );
    let key = signing_key(secret, scope.date, scope.region, scope.service);
    encoding::hex(&hmac_sha256(&key, string_to_sign.as_bytes()))
}

/// The headers to add to sign a request without a body (`authorization`,
/// `x-amz-date`, `x-amz-content-sha256`), signing `host` and those two.
/// `host` must be the value the upstream will see.
pub fn sign_headers(
    credential: &Credential,
    region: &str,
    method: &str,
    path_and_query: &str,
    host: &str,
    now: i64,
) -> Vec<(&'static str, String)> {
    sign_headers_with(
        credential,
        region,
        &SignInput {
            method,
            path_and_query,
            host,
            now,
            payload_sha256: EMPTY_PAYLOAD_SHA256,
            extra: &[],
        },
    )
}

/// What a SigV4 signature covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignInput<'a> {
    pub(crate) method: &'a str,
    pub(crate) path_and_query: &'a str,
    /// The `Host` the upstream will see.
    pub(crate) host: &'a str,
    /// Unix seconds.
    pub(crate) now: i64,
    /// Lower-case hex SHA-256 of the body ([`EMPTY_PAYLOAD_SHA256`] for none),
    /// sent as `x-amz-content-sha256`; S3 servers check the body against it.
    pub(crate) payload_sha256: &'a str,
    /// Further headers the request carries and the signature must cover
    /// (lower-case names, e.g. `content-type`, `content-md5`).
    pub(crate) extra: &'a [(&'static str, String)],
}

/// The headers to add to sign a request (`authorization`, `x-amz-date`,
/// `x-amz-content-sha256`), signing `host`, those two and `input.extra`.
pub(crate) fn sign_headers_with(
    credential: &Credential,
    region: &str,
    input: &SignInput<'_>,
) -> Vec<(&'static str, String)> {
    let amz_date = clock::format_amz(input.now);
    let scope = CredentialScope {
        access_key: &credential.access_key,
        date: &amz_date[..8],
        region,
        service: "s3",
    };
    let mut headers = vec![
        ("host".to_string(), input.host.to_string()),
        (
            "x-amz-content-sha256".to_string(),
            input.payload_sha256.to_string(),
        ),
        ("x-amz-date".to_string(), amz_date.clone()),
    ];
    headers.extend(input.extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let mut signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    signed.sort_unstable();
    signed.dedup();
    let canonical = canonical_request(
        input.method,
        input.path_and_query,
        &headers,
        &signed,
        input.payload_sha256,
        None,
    );
    let sig = signature(&credential.secret_key, &amz_date, &scope, &canonical);
    vec![
        (
            "authorization",
            format!(
                "{ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={sig}",
                credential.access_key,
                scope.scope(),
                signed.join(";")
            ),
        ),
        ("x-amz-date", amz_date),
        ("x-amz-content-sha256", input.payload_sha256.to_string()),
    ]
}

/// The parts of a SigV4 signature, wherever it came from.
struct Presented<'a> {
    scope: CredentialScope<'a>,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
    amz_date: &'a str,
    signed_at: i64,
    /// How long the signature is valid after `signed_at`, in seconds.
    valid_for: i64,
    payload_hash: &'a str,
    skip_param: Option<&'static str>,
}

fn check_signed_headers(list: &str) -> Result<Vec<&str>, Refusal> {
    let names: Vec<&str> = list.split(';').collect();
    if names
        .iter()
        .any(|n| n.is_empty() || n.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err(Refusal::malformed(
            "SignedHeaders must be lower-case names separated by ';'",
        ));
    }
    if !names.contains(&"host") {
        return Err(Refusal::malformed("SignedHeaders must include host"));
    }
    Ok(names)
}

fn parse_header<'a>(req: &'a IncomingRequest<'a>) -> Result<Presented<'a>, Refusal> {
    let auth = req.header("authorization").unwrap_or_default().trim();
    let rest = auth
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| Refusal::malformed("unsupported SigV4 algorithm"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {
                return Err(Refusal::malformed(
                    "the SigV4 Authorization header is malformed",
                ))
            }
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(Refusal::malformed(
            "the SigV4 Authorization header needs Credential, SignedHeaders and Signature",
        ));
    };
    let amz_date = req
        .header("x-amz-date")
        .ok_or_else(|| Refusal::malformed("a SigV4 header-signed request needs x-amz-date"))?;
    let signed_at = clock::parse_amz(amz_date.trim())
        .ok_or_else(|| Refusal::malformed("x-amz-date must look like 20130524T000000Z"))?;
    Ok(Presented {
        scope: CredentialScope::parse(credential)?,
        signed_headers: check_signed_headers(signed)?,
        signature,
        amz_date: amz_date.trim(),
        signed_at,
        // S3 accepts header-signed requests within 15 minutes either way.
        valid_for: HEADER_TIME_WINDOW,
        payload_hash: req
            .header("x-amz-content-sha256")
            .unwrap_or(EMPTY_PAYLOAD_SHA256),
        skip_param: None,
    })
}

/// The value of the single query parameter `name` (ASCII case-insensitive).
fn single_param(params: &[QueryParam<'_>], name: &str) -> Result<String, Refusal> {
    let mut found = params.iter().filter(|p| p.is(name));
    match (found.next(), found.next()) {
        (Some(p), None) => Ok(p.value_str()),
        (None, _) => Err(Refusal::malformed(format!(
            "a presigned SigV4 URL needs {name}"
        ))),
        (Some(_), Some(_)) => Err(Refusal::malformed(format!(
            "{name} is given more than once"
        ))),
    }
}

/// Verifies a SigV4 signed request; returns its access key.
#[cfg(test)]
pub(crate) fn verify(
    req: &IncomingRequest<'_>,
    carrier: Carrier,
    keys: &[Credential],
    clock: Clock,
) -> Result<String, Refusal> {
    verify_covering(req, carrier, keys, clock).map(|(key, _)| key)
}

/// Verifies a SigV4 signed request; returns its access key and the names of
/// the headers the signature covers (`SignedHeaders`, lower-case).
pub(crate) fn verify_covering(
    req: &IncomingRequest<'_>,
    carrier: Carrier,
    keys: &[Credential],
    clock: Clock,
) -> Result<(String, Vec<String>), Refusal> {
    let (_, query) = encoding::split_path(req.path);
    let params = parse_query(query);
    // Presigned values are decoded from the query, so they are owned here.
    let owned: [String; 6];
    let presented = match carrier {
        Carrier::Header => parse_header(req)?,
        Carrier::Query => {
            owned = [
                single_param(&params, "X-Amz-Algorithm")?,
                single_param(&params, "X-Amz-Credential")?,
                single_param(&params, "X-Amz-Date")?,
                single_param(&params, "X-Amz-Expires")?,
                single_param(&params, "X-Amz-SignedHeaders")?,
                single_param(&params, "X-Amz-Signature")?,
            ];
            let [algorithm, credential, amz_date, expires, signed, signature] = &owned;
            if algorithm != ALGORITHM {
                return Err(Refusal::malformed("unsupported X-Amz-Algorithm"));
            }
            let signed_at = clock::parse_amz(amz_date)
                .ok_or_else(|| Refusal::malformed("X-Amz-Date must look like 20130524T000000Z"))?;
            let valid_for = expires
                .parse::<i64>()
                .ok()
                .filter(|e| (1..=MAX_EXPIRES).contains(e))
                .ok_or_else(|| Refusal::malformed("X-Amz-Expires must be 1-604800 seconds"))?;
            Presented {
                scope: CredentialScope::parse(credential)?,
                signed_headers: check_signed_headers(signed)?,
                signature,
                amz_date,
                signed_at,
                valid_for,
                payload_hash: UNSIGNED_PAYLOAD,
                skip_param: Some("X-Amz-Signature"),
            }
        }
    };
    if !presented.amz_date.starts_with(presented.scope.date) {
        return Err(Refusal::malformed(
            "the credential scope date is not the signing date",
        ));
    }
    let secret = secret_for(keys, presented.scope.access_key).ok_or_else(Refusal::unknown_key)?;
    let mut signed = presented.signed_headers.clone();
    signed.sort_unstable();
    let canonical = canonical_request(
        req.method,
        req.path,
        req.headers,
        &signed,
        presented.payload_hash,
        presented.skip_param,
    );
    let expected = signature(secret, presented.amz_date, &presented.scope, &canonical);
    if !signatures_equal(&expected, presented.signature) {
        return Err(Refusal::mismatch());
    }
    let window = match carrier {
        // As S3: 15 minutes either side of x-amz-date.
        Carrier::Header => Clock {
            max_skew: HEADER_TIME_WINDOW,
            ..clock
        },
        Carrier::Query => clock,
    };
    window.check_window(presented.signed_at, presented.valid_for)?;
    Ok((
        presented.scope.access_key.to_string(),
        signed.iter().map(|s| s.to_string()).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::RefusalReason;
    use crate::error::ErrorCode;

    fn aws_example() -> Credential {
        Credential {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        }
    }

    const EXAMPLE_URL: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    fn headers(host: &str) -> Vec<(String, String)> {
        vec![("host".into(), host.into())]
    }

    fn at(now: i64) -> Clock {
        Clock { now, max_skew: 900 }
    }

    /// AWS's documented presigned GET example (spec §3).
    #[test]
    fn aws_presigned_example_verifies() {
        let h = headers("examplebucket.s3.amazonaws.com");
        let req = IncomingRequest {
            method: "GET",
            path: EXAMPLE_URL,
            headers: &h,
        };
        let t = clock::parse_amz("20130524T000000Z").unwrap();
        assert_eq!(
            verify(&req, Carrier::Query, &[aws_example()], at(t + 3600)).unwrap(),
            "AKIAIOSFODNN7EXAMPLE"
        );
    }

    #[test]
    fn aws_presigned_example_refusals() {
        let h = headers("examplebucket.s3.amazonaws.com");
        let t = clock::parse_amz("20130524T000000Z").unwrap();
        let check = |path: &str, h: &[(String, String)], now: i64| {
            let req = IncomingRequest {
                method: "GET",
                path,
                headers: h,
            };
            verify(&req, Carrier::Query, &[aws_example()], at(now))
                .map_err(|r| (r.reason, r.error.code))
        };
        let mismatch = Err((
            RefusalReason::BadSignature,
            ErrorCode::SignatureDoesNotMatch,
        ));
        assert_eq!(
            check(&EXAMPLE_URL.replace("test.txt", "test2.txt"), &h, t),
            mismatch
        );
        assert_eq!(
            check(
                &format!("{EXAMPLE_URL}&x-bce-process=image/resize,w_1"),
                &h,
                t
            ),
            mismatch
        );
        assert_eq!(
            check(
                &EXAMPLE_URL.replace("Expires=86400", "Expires=86401"),
                &h,
                t
            ),
            mismatch
        );
        assert_eq!(check(EXAMPLE_URL, &headers("other.example"), t), mismatch);
        assert_eq!(
            check(EXAMPLE_URL, &h, t + 86_401),
            Err((RefusalReason::Expired, ErrorCode::RequestExpired))
        );
        assert_eq!(
            check(EXAMPLE_URL, &h, t - 901),
            Err((RefusalReason::Expired, ErrorCode::RequestTimeTooSkewed))
        );
        assert_eq!(
            check(
                &EXAMPLE_URL.replace("AKIAIOSFODNN7EXAMPLE%2F", "AKIAOTHER%2F"),
                &h,
                t
            ),
            Err((RefusalReason::UnknownKey, ErrorCode::InvalidAccessKeyId))
        );
        assert_eq!(
            check(
                &EXAMPLE_URL.replace("Expires=86400", "Expires=999999"),
                &h,
                t
            ),
            Err((
                RefusalReason::BadSignature,
                ErrorCode::InvalidHTTPAuthHeader
            ))
        );
    }

    #[test]
    fn signed_headers_verify_and_tampering_fails() {
        let cred = Credential {
            access_key: "demo-ak".into(),
            secret_key: "demo-sk".into(),
        };
        let now = 1_700_000_000;
        let path = "/demo/a b.jpg?x-bce-process=image%2Fresize%2Cw_10";
        let mut h = headers("127.0.0.1:8080");
        for (k, v) in sign_headers(&cred, "us-east-1", "GET", path, "127.0.0.1:8080", now) {
            h.push((k.to_string(), v));
        }
        let keys = [cred];
        let req = IncomingRequest {
            method: "GET",
            path,
            headers: &h,
        };
        assert_eq!(
            verify(&req, Carrier::Header, &keys, at(now + 600)).unwrap(),
            "demo-ak"
        );
        // Same path escaped differently by another client.
        let req = IncomingRequest {
            method: "GET",
            path: "/demo/a%20b.jpg?x-bce-process=image/resize,w_10",
            headers: &h,
        };
        assert!(verify(&req, Carrier::Header, &keys, at(now)).is_ok());
        let req = IncomingRequest {
            method: "HEAD",
            path,
            headers: &h,
        };
        assert!(
            verify(&req, Carrier::Header, &keys, at(now)).is_err(),
            "method is signed"
        );
        let req = IncomingRequest {
            method: "GET",
            path: "/demo/a b.jpg?x-bce-process=image%2Fresize%2Cw_11",
            headers: &h,
        };
        assert!(verify(&req, Carrier::Header, &keys, at(now)).is_err());
        let req = IncomingRequest {
            method: "GET",
            path,
            headers: &h,
        };
        assert_eq!(
            verify(&req, Carrier::Header, &keys, at(now + 901)).map_err(|r| r.error.code),
            Err(ErrorCode::RequestExpired)
        );
    }
}
