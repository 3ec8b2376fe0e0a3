//! Who may see what: request signatures, original-image protection, and the
//! signatures the filter puts on its own upstream requests.
//!
//! - [`bce_v1`]: BCE auth v1 (`bce-auth-v1/...`, header or presigned `authorization=`);
//! - [`sigv4`]: AWS Signature Version 4 (header or presigned `X-Amz-*`), for
//!   S3-compatible buckets;
//! - [`protection`]: BOS's `resource` patterns and the style-only rule;
//! - [`upstream`]: re-signing the request that goes to a private bucket.
//!
//! Everything here is host-free: the filter passes the request as it received
//! it and the host's clock in Unix seconds.

pub mod bce_v1;
pub mod clock;
pub mod encoding;
pub mod protection;
pub mod sigv4;
pub mod upstream;

use crate::error::{ErrorCode, ProcessError};
use serde::Deserialize;
use std::fmt;

/// An access key the filter accepts, with its secret (from the plugin config).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub access_key: String,
    pub secret_key: String,
}

impl fmt::Debug for Credential {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// The secret of `access_key` among `keys` (several keys allow rotation).
pub(crate) fn secret_for<'k>(keys: &'k [Credential], access_key: &str) -> Option<&'k str> {
    keys.iter()
        .find(|k| k.access_key == access_key)
        .map(|k| k.secret_key.as_str())
}

/// A request as the filter received it, before anything is stripped.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// `GET`, `HEAD`, ... (as sent).
    pub method: &'a str,
    /// `:path`: the path and query exactly as sent.
    pub path: &'a str,
    /// Every header, names lower-case; `host` carries `:authority`.
    pub headers: &'a [(String, String)],
}

impl IncomingRequest<'_> {
    /// The first value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub(crate) fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The signature schemes the filter verifies and produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Scheme {
    /// BCE auth v1 (Baidu BOS).
    #[serde(rename = "bce-v1")]
    BceV1,
    /// AWS Signature Version 4 (S3-compatible storage).
    #[serde(rename = "sigv4")]
    SigV4,
}

/// Where a request carries its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Header,
    Query,
}

/// A request whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub scheme: Scheme,
    pub carrier: Carrier,
    pub access_key: String,
    /// The headers the signature covers (lower-case names). The query is
    /// always covered, by both schemes.
    pub(crate) signed_headers: Vec<String>,
}

impl Verified {
    /// Whether the signature covers header `name` (lower-case).
    pub(crate) fn covers_header(&self, name: &str) -> bool {
        self.signed_headers.iter().any(|h| h == name)
    }
}

/// Why a request was refused, as counted in the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// No signature where one is needed (the original of a protected object).
    Missing,
    /// Signing time outside its validity (expired, or too far in the future).
    Expired,
    /// The signature does not match, or is malformed.
    BadSignature,
    /// The access key is not configured.
    UnknownKey,
    /// Unsigned free-form processing of a protected object: only styles are public.
    StyleOnly,
    /// A write the configuration does not allow: persistence off or without
    /// credentials, overwriting the source, a bucket not listed.
    NotAllowed,
}

impl RefusalReason {
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) const ALL: [RefusalReason; 6] = [
        RefusalReason::Missing,
        RefusalReason::Expired,
        RefusalReason::BadSignature,
        RefusalReason::UnknownKey,
        RefusalReason::StyleOnly,
        RefusalReason::NotAllowed,
    ];

    /// The metric's last name part.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RefusalReason::Missing => "missing",
            RefusalReason::Expired => "expired",
            RefusalReason::BadSignature => "bad_signature",
            RefusalReason::UnknownKey => "unknown_key",
            RefusalReason::StyleOnly => "style_only",
            RefusalReason::NotAllowed => "not_allowed",
        }
    }
}

/// A refused request: the reason for the metrics and the error for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: RefusalReason,
    pub error: ProcessError,
}

impl Refusal {
    pub(crate) fn new(reason: RefusalReason, code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            reason,
            error: ProcessError::new(code, message),
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Refusal::new(
            RefusalReason::BadSignature,
            ErrorCode::InvalidHTTPAuthHeader,
            message,
        )
    }

    pub(crate) fn mismatch() -> Self {
        Refusal::new(
            RefusalReason::BadSignature,
            ErrorCode::SignatureDoesNotMatch,
            "the request signature does not match",
        )
    }

    pub(crate) fn unknown_key() -> Self {
        // The key itself is not echoed: error bodies name nothing secret.
        Refusal::new(
            RefusalReason::UnknownKey,
            ErrorCode::InvalidAccessKeyId,
            "the access key of the signature is not known",
        )
    }
}

/// How much the filter trusts timestamps: `now` from the host's clock, and the
/// skew allowed for signing times in the future (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Unix seconds.
    pub now: i64,
    /// Seconds (default 900).
    pub max_skew: i64,
}

impl Clock {
    /// Checks that `now` lies in `[signed_at − skew, signed_at + valid_for]`.
    pub(crate) fn check_window(&self, signed_at: i64, valid_for: i64) -> Result<(), Refusal> {
        if self.now < signed_at.saturating_sub(self.max_skew) {
            return Err(Refusal::new(
                RefusalReason::Expired,
                ErrorCode::RequestTimeTooSkewed,
                "the signing time is too far in the future",
            ));
        }
        if self.now > signed_at.saturating_add(valid_for) {
            return Err(Refusal::new(
                RefusalReason::Expired,
                ErrorCode::RequestExpired,
                format!(
                    "the request has expired: signed at {}, valid for {valid_for} s",
                    clock::format_bce(signed_at)
                ),
            ));
        }
        Ok(())
    }
}

/// Which scheme a request claims, if any.
pub(crate) fn presented_scheme(req: &IncomingRequest<'_>) -> Option<(Scheme, Carrier)> {
    if let Some(auth) = req.header("authorization") {
        let auth = auth.trim_start();
        if auth.starts_with(sigv4::ALGORITHM) {
            return Some((Scheme::SigV4, Carrier::Header));
        }
        return Some((Scheme::BceV1, Carrier::Header));
    }
    let (_, query) = encoding::split_path(req.path);
    let params = encoding::parse_query(query);
    if params.iter().any(|p| p.is("authorization")) {
        return Some((Scheme::BceV1, Carrier::Query));
    }
    if params
        .iter()
        .any(|p| p.is("x-amz-signature") || p.is("x-amz-algorithm") || p.is("x-amz-credential"))
    {
        return Some((Scheme::SigV4, Carrier::Query));
    }
    None
}

/// Verifies the request's signature: `Ok(None)` when it carries none,
/// `Ok(Some(_))` when it verifies against one of `keys`, else the refusal.
pub fn verify(
    req: &IncomingRequest<'_>,
    keys: &[Credential],
    clock: Clock,
) -> Result<Option<Verified>, Refusal> {
    let Some((scheme, carrier)) = presented_scheme(req) else {
        return Ok(None);
    };
    let (access_key, signed_headers) = match scheme {
        Scheme::BceV1 => bce_v1::verify_covering(req, carrier, keys, clock)?,
        Scheme::SigV4 => sigv4::verify_covering(req, carrier, keys, clock)?,
    };
    Ok(Some(Verified {
        scheme,
        carrier,
        access_key,
        signed_headers,
    }))
}

/// Request headers that carry a client's signature (dropped before the
/// request goes upstream when the filter verified or re-signs it).
pub const SIGNATURE_HEADERS: &[&str] = &[
    "authorization",
    "x-bce-date",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-bce-security-token",
];

/// Constant-time equality of two signatures.
pub(crate) fn signatures_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// HMAC-SHA256.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// SHA-256, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    encoding::hex(&sha2::Sha256::digest(bytes))
}
