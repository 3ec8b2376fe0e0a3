//! Objects a command needs besides its source (watermark images, fonts):
//! how the filter asks the storage upstream for them and how it keeps them in
//! the proxy's shared cache. Host-free; [`crate::filter`] only makes the calls.
//!
//! Cache rules:
//!
//! - An entry is the object's body, its `ETag` and when the storage last
//!   confirmed it (Unix seconds).
//! - Within `object_cache_ttl_seconds` of that, the entry is used without
//!   asking the storage ([`Lookup::Fresh`]).
//! - After it, the object is fetched again with `If-None-Match: <etag>`
//!   ([`Lookup::Revalidate`]); a `304` keeps the body and restarts the clock, a
//!   `200` replaces the entry. An entry without ETag is fetched again in full.
//! - The cache holds at most `object_cache_bytes` of bodies. The index of
//!   what is stored is itself kept in the shared data; the oldest entries are
//!   dropped first (first in, first out). A body larger than the bound is used
//!   for the request but not kept.

use crate::actions::watermark::{missing_object, ObjectRef};
use crate::auth::upstream::UpstreamSigning;
use crate::error::{ProcessError, Result};
use crate::limits::MAX_SOURCE_BYTES;
use std::sync::Arc;

/// Shared-data key prefix of cache entries.
const ENTRY_PREFIX: &str = "image-process-filter/object/";
/// Shared-data key of the cache index.
pub const INDEX_KEY: &str = "image-process-filter/object-index";
/// How long a fetch from the storage may take, in milliseconds.
pub const FETCH_TIMEOUT_MS: u64 = 10_000;

/// The shared-data key of `object`'s cache entry.
pub fn cache_key(object: &ObjectRef) -> String {
    format!("{ENTRY_PREFIX}{}", object.path())
}

/// The request headers (HTTP/2 style pseudo-headers included) for fetching
/// `object` from the storage upstream. `authority` is the `Host` of the
/// client's request (the storage may route by it); `cached_etag` asks for a
/// `304` if the object did not change. With `signer` (the config's
/// `upstream_signing`) the fetch is signed like the filter's upstream reads,
/// at Unix time `now`, so private buckets work.
pub fn watermark_fetch_headers(
    object: &ObjectRef,
    authority: &str,
    cached_etag: Option<&str>,
    signer: Option<&UpstreamSigning>,
    now: i64,
) -> Vec<(String, String)> {
    let mut path = object.path();
    let mut signed_headers = Vec::new();
    if let Some(signer) = signer {
        // Private buckets: the same signature as the filter's upstream reads.
        let signed = signer.sign("GET", &path, authority, now);
        path = signed.path;
        signed_headers = signed.headers;
    }
    let mut headers = vec![
        (":method".to_string(), "GET".to_string()),
        (":path".to_string(), path),
        (":authority".to_string(), authority.to_string()),
        (":scheme".to_string(), "http".to_string()),
        (
            "user-agent".to_string(),
            concat!("image-process-filter/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    for (name, value) in signed_headers {
        match headers.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => headers.push((name.to_string(), value)),
        }
    }
    if let Some(etag) = cached_etag {
        headers.push(("if-none-match".to_string(), etag.to_string()));
    }
    headers
}

/// A cached object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The object's `ETag` as the storage sent it (quotes included).
    pub(crate) etag: Option<String>,
    /// When the storage last confirmed the body, in Unix seconds.
    pub(crate) checked_at: u64,
    pub(crate) body: Arc<[u8]>,
}

const ENTRY_MAGIC: &[u8; 4] = b"IPF1";

impl CacheEntry {
    /// The shared-data value: magic, `checked_at` (u64 LE), ETag length (u32
    /// LE, `u32::MAX` for none), ETag, body.
    pub fn encode(&self) -> Vec<u8> {
        let etag = self.etag.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(16 + etag.len() + self.body.len());
        out.extend_from_slice(ENTRY_MAGIC);
        out.extend_from_slice(&self.checked_at.to_le_bytes());
        let len = if self.etag.is_some() {
            etag.len() as u32
        } else {
            u32::MAX
        };
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(etag.as_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads a shared-data value; `None` for anything else (e.g. an evicted,
    /// emptied entry).
    pub fn decode(bytes: &[u8]) -> Option<CacheEntry> {
        let rest = bytes.strip_prefix(ENTRY_MAGIC)?;
        let checked_at = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
        let len = u32::from_le_bytes(rest.get(8..12)?.try_into().ok()?);
        let rest = &rest[12..];
        let (etag, body) = if len == u32::MAX {
            (None, rest)
        } else {
            let len = len as usize;
            let etag = std::str::from_utf8(rest.get(..len)?).ok()?.to_string();
            (Some(etag), &rest[len..])
        };
        Some(CacheEntry {
            etag,
            checked_at,
            body: Arc::from(body),
        })
    }
}

/// What to do for an object, given what the cache holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Use the cached body as it is.
    Fresh,
    /// Ask the storage with `If-None-Match: etag`.
    Revalidate { etag: String },
    /// Fetch the object in full.
    Fetch,
}

/// Decides from the cached entry (if any), the time `now` (Unix seconds) and
/// the freshness lifetime `ttl` (seconds).
pub fn lookup(entry: Option<&CacheEntry>, now: u64, ttl: u64) -> Lookup {
    match entry {
        None => Lookup::Fetch,
        Some(e) if now.saturating_sub(e.checked_at) < ttl && now >= e.checked_at => Lookup::Fresh,
        Some(CacheEntry {
            etag: Some(etag), ..
        }) => Lookup::Revalidate { etag: etag.clone() },
        Some(_) => Lookup::Fetch,
    }
}

/// The storage's answer to a fetch.
#[derive(Debug, Clone, Default)]
pub struct FetchAnswer<'a> {
    /// `:status`; `None` when the call failed (timeout, connection reset).
    pub(crate) status: Option<&'a str>,
    pub(crate) etag: Option<&'a str>,
    pub(crate) body: Vec<u8>,
}

/// What a fetch gives: the body to use, and the entry to store in the cache
/// (`None`: leave the cache alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub(crate) body: Arc<[u8]>,
    pub(crate) store: Option<CacheEntry>,
}

/// Interprets the storage's answer for `object`. `cached` is the entry the
/// request was made for (a `304` refers to it). A missing object is a 404
/// `NoSuchKey`, a refused one a 403, anything else a 500, each naming the
/// object.
pub fn on_fetch_answer(
    object: &ObjectRef,
    answer: FetchAnswer<'_>,
    cached: Option<&CacheEntry>,
    now: u64,
) -> Result<Fetched> {
    match (answer.status, cached) {
        (Some("304"), Some(entry)) => Ok(Fetched {
            body: Arc::clone(&entry.body),
            store: Some(CacheEntry {
                checked_at: now,
                ..entry.clone()
            }),
        }),
        (Some("200"), _) => {
            if answer.body.len() > MAX_SOURCE_BYTES {
                return Err(ProcessError::too_large(format!(
                    "watermark: object '{object}' is {} bytes, at most {MAX_SOURCE_BYTES} can be used",
                    answer.body.len()
                )));
            }
            let body: Arc<[u8]> = Arc::from(answer.body);
            Ok(Fetched {
                body: Arc::clone(&body),
                store: Some(CacheEntry {
                    etag: answer.etag.map(str::to_string),
                    checked_at: now,
                    body,
                }),
            })
        }
        (Some("404"), _) => Err(missing_object(object)),
        (Some(s @ ("401" | "403")), _) => Err(ProcessError::new(
            crate::error::ErrorCode::AccessDenied,
            format!("watermark: the storage refused object '{object}' (status {s})"),
        )),
        (Some(s), _) => Err(ProcessError::internal(format!(
            "watermark: fetching object '{object}' failed: the storage answered {s}"
        ))),
        (None, _) => Err(ProcessError::internal(format!(
            "watermark: fetching object '{object}' failed: no answer from the storage"
        ))),
    }
}

/// The cache's index: which entries are stored and how large they are,
/// oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheIndex {
    entries: Vec<(String, usize)>,
}

impl CacheIndex {
    /// Reads the shared-data value (one `size key` line per entry).
    pub fn decode(bytes: &[u8]) -> CacheIndex {
        let entries = std::str::from_utf8(bytes)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (size, key) = l.split_once(' ')?;
                Some((key.to_string(), size.parse().ok()?))
            })
            .collect();
        CacheIndex { entries }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        for (key, size) in &self.entries {
            out.push_str(&format!("{size} {key}\n"));
        }
        out.into_bytes()
    }

    /// Bytes held.
    pub fn total(&self) -> usize {
        self.entries.iter().map(|(_, s)| s).sum()
    }

    /// Records `key` (re)stored with `size` bytes under the bound `limit`.
    /// Returns the keys to empty to stay within it, or `None` if the entry
    /// does not fit at all (it must not be stored).
    pub fn admit(&mut self, key: &str, size: usize, limit: usize) -> Option<Vec<String>> {
        if size > limit {
            return None;
        }
        self.entries.retain(|(k, _)| k != key);
        let mut evicted = Vec::new();
        while self.total() + size > limit && !self.entries.is_empty() {
            evicted.push(self.entries.remove(0).0);
        }
        self.entries.push((key.to_string(), size));
        Some(evicted)
    }

    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }
}

/// The ETag the response's derived ETag is made from: the source's, joined
/// with the ETags of the watermark objects, so a changed watermark gives a new
/// ETag. `None` when any of them has none (the response then gets no ETag).
pub fn combined_etag(
    upstream: Option<&str>,
    objects: &std::collections::BTreeMap<ObjectRef, Option<String>>,
) -> Option<String> {
    let mut out = upstream?.trim().to_string();
    for (object, etag) in objects {
        out.push_str(&format!(" {}={}", object.path(), etag.as_deref()?.trim()));
    }
    Some(out)
}

/// The bucket of a path-style request path (`/<bucket>/<key>`), if it names one.
pub fn bucket_of_path(path: &str) -> Option<&str> {
    let path = path.split('?').next().unwrap_or_default();
    let bucket = path.strip_prefix('/')?.split('/').next()?;
    (!bucket.is_empty()).then_some(bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn obj() -> ObjectRef {
        ObjectRef::parse("demo/wm/logo.png").unwrap()
    }

    fn entry(etag: Option<&str>, at: u64) -> CacheEntry {
        CacheEntry {
            etag: etag.map(str::to_string),
            checked_at: at,
            body: Arc::from(&b"body"[..]),
        }
    }

    #[test]
    fn entries_round_trip() {
        for e in [
            entry(Some("\"abc\""), 7),
            entry(None, 0),
            entry(Some(""), 1),
        ] {
            assert_eq!(CacheEntry::decode(&e.encode()), Some(e));
        }
        assert_eq!(CacheEntry::decode(b""), None);
        assert_eq!(CacheEntry::decode(b"IPF1\x01"), None);
    }

    #[test]
    fn freshness_then_revalidation() {
        assert_eq!(lookup(None, 100, 60), Lookup::Fetch);
        let e = entry(Some("\"v1\""), 100);
        assert_eq!(lookup(Some(&e), 100, 60), Lookup::Fresh);
        assert_eq!(lookup(Some(&e), 159, 60), Lookup::Fresh);
        assert_eq!(
            lookup(Some(&e), 160, 60),
            Lookup::Revalidate {
                etag: "\"v1\"".into()
            }
        );
        assert_eq!(
            lookup(Some(&e), 100, 0),
            Lookup::Revalidate {
                etag: "\"v1\"".into()
            }
        );
        // A clock that went backwards revalidates; no ETag fetches in full.
        assert!(matches!(
            lookup(Some(&e), 50, 60),
            Lookup::Revalidate { .. }
        ));
        assert_eq!(lookup(Some(&entry(None, 100)), 200, 60), Lookup::Fetch);
    }

    #[test]
    fn answers() {
        let cached = entry(Some("\"v1\""), 10);
        let ok = |status: &'static str, etag: Option<&'static str>| FetchAnswer {
            status: Some(status),
            etag,
            body: b"new".to_vec(),
        };
        // 304 keeps the cached body and restarts its clock.
        let f = on_fetch_answer(&obj(), ok("304", None), Some(&cached), 99).unwrap();
        assert_eq!(&*f.body, b"body");
        assert_eq!(f.store.unwrap().checked_at, 99);
        // 200 replaces it.
        let f = on_fetch_answer(&obj(), ok("200", Some("\"v2\"")), Some(&cached), 99).unwrap();
        assert_eq!(&*f.body, b"new");
        assert_eq!(f.store.unwrap().etag.as_deref(), Some("\"v2\""));
        let e = on_fetch_answer(&obj(), ok("404", None), None, 1).unwrap_err();
        assert_eq!((e.code, e.http_status()), (ErrorCode::NoSuchKey, 404));
        assert!(e.message.contains("'demo/wm/logo.png'"), "{}", e.message);
        let e = on_fetch_answer(&obj(), ok("403", None), None, 1).unwrap_err();
        assert_eq!(e.http_status(), 403);
        let e = on_fetch_answer(&obj(), ok("503", None), None, 1).unwrap_err();
        assert_eq!(e.http_status(), 500);
        // A 304 without a cached entry is not a body.
        assert!(on_fetch_answer(&obj(), ok("304", None), None, 1).is_err());
        let e = on_fetch_answer(&obj(), FetchAnswer::default(), None, 1).unwrap_err();
        assert!(e.message.contains("no answer"));
    }

    #[test]
    fn index_is_bounded_oldest_out() {
        let mut i = CacheIndex::default();
        assert_eq!(i.admit("a", 40, 100), Some(vec![]));
        assert_eq!(i.admit("b", 40, 100), Some(vec![]));
        assert_eq!(i.admit("c", 40, 100), Some(vec!["a".to_string()]));
        assert_eq!(i.total(), 80);
        // Re-storing a key replaces its size.
        assert_eq!(i.admit("b", 10, 100), Some(vec![]));
        assert_eq!(i.total(), 50);
        assert_eq!(i.admit("huge", 101, 100), None);
        let back = CacheIndex::decode(&i.encode());
        assert_eq!(back, i);
        assert_eq!(back.keys().collect::<Vec<_>>(), vec!["c", "b"]);
    }

    #[test]
    fn fetch_headers() {
        let h = watermark_fetch_headers(&obj(), "img.example", Some("\"v1\""), None, 0);
        let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get(":path"), Some("/demo/wm/logo.png"));
        assert_eq!(get(":method"), Some("GET"));
        assert_eq!(get(":authority"), Some("img.example"));
        assert_eq!(get("if-none-match"), Some("\"v1\""));
        let h = watermark_fetch_headers(&obj(), "x", None, None, 0);
        assert!(!h.iter().any(|(n, _)| n == "if-none-match"));
        assert_eq!(
            cache_key(&obj()),
            "image-process-filter/object//demo/wm/logo.png"
        );
    }

    #[test]
    fn signed_fetches_verify() {
        use crate::auth::{verify, Clock, Credential, IncomingRequest, Scheme};
        let signer = UpstreamSigning {
            scheme: Scheme::SigV4,
            access_key: "demo-ak".into(),
            secret_key: "demo-sk".into(),
            region: "us-east-1".into(),
            host: None,
        };
        let now = 1_800_000_000;
        let h = watermark_fetch_headers(&obj(), "store:9000", None, Some(&signer), now);
        let path = h.iter().find(|(k, _)| k == ":path").unwrap().1.clone();
        let mut headers: Vec<(String, String)> = h
            .iter()
            .filter(|(k, _)| !k.starts_with(':'))
            .cloned()
            .collect();
        headers.push(("host".into(), "store:9000".into()));
        let req = IncomingRequest {
            method: "GET",
            path: &path,
            headers: &headers,
        };
        let keys = [Credential {
            access_key: "demo-ak".into(),
            secret_key: "demo-sk".into(),
        }];
        assert!(verify(&req, &keys, Clock { now, max_skew: 900 })
            .unwrap()
            .is_some());
    }

    #[test]
    fn combined_etags() {
        let mut m = std::collections::BTreeMap::new();
        assert_eq!(combined_etag(Some("\"s\""), &m).as_deref(), Some("\"s\""));
        m.insert(obj(), Some("\"w1\"".to_string()));
        let a = combined_etag(Some("\"s\""), &m).unwrap();
        m.insert(obj(), Some("\"w2\"".to_string()));
        let b = combined_etag(Some("\"s\""), &m).unwrap();
        assert_ne!(a, b);
        m.insert(obj(), None);
        assert_eq!(combined_etag(Some("\"s\""), &m), None);
        assert_eq!(combined_etag(None, &Default::default()), None);
    }

    #[test]
    fn buckets_of_paths() {
        assert_eq!(bucket_of_path("/demo/photo.jpg"), Some("demo"));
        assert_eq!(bucket_of_path("/demo/a/b.jpg?x=1"), Some("demo"));
        assert_eq!(bucket_of_path("/"), None);
    }
}
