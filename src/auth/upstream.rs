//! Signing the request the filter sends to the storage upstream, so a private
//! bucket works unchanged behind the proxy: SigV4 for S3-compatible upstreams,
//! BCE v1 for BOS. The same signer serves the filter's own fetches.

use super::encoding::{canonical_uri, parse_query, split_path, QueryParam};
use super::{bce_v1, clock, sha256_hex, sigv4, Credential, Scheme};
use serde::Deserialize;
use std::fmt;

/// Validity of the BCE v1 signatures the filter makes, in seconds.
pub(crate) const BCE_EXPIRATION: u32 = 1800;

/// `upstream_signing` in the plugin config.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSigning {
    /// `sigv4` (S3-compatible) or `bce-v1` (BOS).
    pub scheme: Scheme,
    pub access_key: String,
    pub secret_key: String,
    /// SigV4 region of the credential scope (default `us-east-1`; BOS: `bj`, `gz`, ...).
    #[serde(default = "default_region")]
    pub region: String,
    /// The `Host` the upstream expects, when it is not the client's (the filter
    /// then sends and signs this one). Default: the client's `Host`.
    #[serde(default)]
    pub host: Option<String>,
}

fn default_region() -> String {
    "us-east-1".into()
}

impl fmt::Debug for UpstreamSigning {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamSigning")
            .field("scheme", &self.scheme)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("region", &self.region)
            .field("host", &self.host)
            .finish()
    }
}

/// What to send upstream: the path in canonical escaping (so the server's own
/// canonicalisation cannot differ from the one signed) and the headers to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUpstream {
    /// `:path` to send.
    pub(crate) path: String,
    /// `(name, value)` to set; `:authority` is among them when `host` is configured.
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl UpstreamSigning {
    /// Checks the fields that have no safe default.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.access_key.is_empty() {
            return Err("upstream_signing.access_key must not be empty".into());
        }
        if self.secret_key.is_empty() {
            return Err("upstream_signing.secret_key must not be empty".into());
        }
        if self.region.is_empty() {
            return Err("upstream_signing.region must not be empty".into());
        }
        if self.host.as_deref() == Some("") {
            return Err("upstream_signing.host must not be empty when given".into());
        }
        Ok(())
    }

    fn credential(&self) -> Credential {
        Credential {
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
        }
    }

    /// Signs `method path_and_query` (a request without a body) for the
    /// upstream at Unix time `now`. `client_host` is the request's `Host`.
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        client_host: &str,
        now: i64,
    ) -> SignedUpstream {
        self.sign_request(method, path_and_query, client_host, now, None, &[])
    }

    /// Signs a write (`PUT`) with `body`: SigV4 covers the body through
    /// `x-amz-content-sha256` (S3 servers check it), BCE v1 through the
    /// `content-md5` the caller puts in `extra`. `extra` are headers the
    /// request carries (lower-case names, e.g. `content-type`,
    /// `content-md5`); the signature covers them too.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn sign_write(
        &self,
        method: &str,
        path_and_query: &str,
        client_host: &str,
        now: i64,
        body: &[u8],
        extra: &[(&'static str, String)],
    ) -> SignedUpstream {
        self.sign_request(method, path_and_query, client_host, now, Some(body), extra)
    }

    fn sign_request(
        &self,
        method: &str,
        path_and_query: &str,
        client_host: &str,
        now: i64,
        body: Option<&[u8]>,
        extra: &[(&'static str, String)],
    ) -> SignedUpstream {
        let path = canonical_path(path_and_query);
        let host = self.host.as_deref().unwrap_or(client_host);
        let mut headers: Vec<(&'static str, String)> = Vec::new();
        if let Some(h) = &self.host {
            headers.push((":authority", h.clone()));
        }
        match self.scheme {
            Scheme::SigV4 => {
                let payload_sha256 =
                    body.map_or_else(|| sigv4::EMPTY_PAYLOAD_SHA256.to_string(), sha256_hex);
                headers.extend(sigv4::sign_headers_with(
                    &self.credential(),
                    &self.region,
                    &sigv4::SignInput {
                        method,
                        path_and_query: &path,
                        host,
                        now,
                        payload_sha256: &payload_sha256,
                        extra,
                    },
                ));
            }
            Scheme::BceV1 => {
                let date = clock::format_bce(now);
                let mut signed = vec![
                    ("host".to_string(), host.to_string()),
                    ("x-bce-date".to_string(), date.clone()),
                ];
                signed.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
                let mut names: Vec<&str> = signed.iter().map(|(k, _)| k.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                let auth = bce_v1::sign(
                    &self.credential(),
                    method,
                    &path,
                    &signed,
                    now,
                    BCE_EXPIRATION,
                    &names,
                );
                headers.push(("authorization", auth));
                headers.push(("x-bce-date", date));
            }
        }
        SignedUpstream { path, headers }
    }
}

/// The path in canonical escaping and the query re-escaped pair by pair, in
/// the client's order.
pub(crate) fn canonical_path(path_and_query: &str) -> String {
    let (path, query) = split_path(path_and_query);
    let mut out = canonical_uri(path);
    let params = parse_query(query);
    if !params.is_empty() {
        out.push('?');
        let pairs: Vec<String> = params.iter().map(QueryParam::canonical_pair).collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{verify, Carrier, Clock, IncomingRequest};

    fn signing(scheme: Scheme) -> UpstreamSigning {
        UpstreamSigning {
            scheme,
            access_key: "up-ak".into(),
            secret_key: "up-sk".into(),
            region: "us-east-1".into(),
            host: None,
        }
    }

    #[test]
    fn paths_are_sent_in_canonical_escaping() {
        assert_eq!(canonical_path("/demo/a b,c.jpg"), "/demo/a%20b%2Cc.jpg");
        assert_eq!(
            canonical_path("/demo/a%20b.jpg?x=1%2F2&flag"),
            "/demo/a%20b.jpg?x=1%2F2&flag="
        );
    }

    /// What the filter signs, a verifier holding the same key accepts.
    #[test]
    fn upstream_signatures_verify() {
        let now = 1_700_000_000;
        for scheme in [Scheme::SigV4, Scheme::BceV1] {
            let s = signing(scheme);
            let signed = s.sign("GET", "/demo/private/a b.jpg?v=1", "127.0.0.1:9000", now);
            let mut headers = vec![("host".to_string(), "127.0.0.1:9000".to_string())];
            headers.extend(
                signed
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone())),
            );
            let req = IncomingRequest {
                method: "GET",
                path: &signed.path,
                headers: &headers,
            };
            let keys = [s.credential()];
            let got = verify(&req, &keys, Clock { now, max_skew: 900 })
                .unwrap()
                .unwrap();
            assert_eq!(
                (got.scheme, got.carrier, got.access_key.as_str()),
                (scheme, Carrier::Header, "up-ak")
            );
        }
    }

    #[test]
    fn configured_host_replaces_the_clients() {
        let s = UpstreamSigning {
            host: Some("bucket.s3.example".into()),
            ..signing(Scheme::SigV4)
        };
        let signed = s.sign("GET", "/k", "proxy.example", 1_700_000_000);
        assert_eq!(
            signed.headers[0],
            (":authority", "bucket.s3.example".to_string())
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let text = format!("{:?}", signing(Scheme::SigV4));
        assert!(!text.contains("up-sk"), "{text}");
    }
}
