//! Original-image protection (spec: protection-and-signing §1): on objects that
//! match a `resource` pattern, an unsigned request may only use styles
//! (`x-bce-process=style/<name>` or V1 `@!<name>`); the original and free-form
//! `image/...` processing need a valid signature.

use super::encoding::{percent_decode, split_path};
use crate::command::query::v1_style_suffix;
use serde::Deserialize;

/// Where the bucket name of a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BucketAddressing {
    /// Path-style: `/<bucket>/<key>`.
    #[default]
    Path,
    /// Virtual-hosted: `Host: <bucket>.<endpoint>`, path `/<key>`.
    Host,
}

/// The protection settings of the plugin config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Protection {
    /// BOS `resource` entries, `<bucket>/<object pattern>`: `demo/private/*`,
    /// `demo/*.png`, `demo/exact/key.jpg`. `*` matches any run of characters,
    /// `/` included. Empty: nothing is protected.
    pub(crate) resources: Vec<String>,
    /// Where the bucket name is taken from (default `path`).
    pub(crate) bucket_from: BucketAddressing,
}

/// A bucket and an object key, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectName {
    pub(crate) bucket: String,
    pub(crate) key: String,
}

impl Protection {
    /// Checks the patterns' shape: a non-empty bucket, `/`, a non-empty pattern.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (i, r) in self.resources.iter().enumerate() {
            match r.split_once('/') {
                Some((bucket, pattern))
                    if !bucket.is_empty() && !bucket.contains('*') && !pattern.is_empty() => {}
                _ => {
                    return Err(format!(
                        "protection.resources[{i}] '{r}' must be <bucket>/<object pattern>"
                    ))
                }
            }
        }
        Ok(())
    }

    /// The bucket and key a request addresses (`path` is `:path`; the query and
    /// a V1 `@!style` suffix are not part of the key).
    pub(crate) fn object_of(&self, path: &str, host: Option<&str>) -> Option<ObjectName> {
        let (path, _) = split_path(path);
        let path = v1_style_suffix(path).map_or(path, |(object, _)| object);
        let decoded = String::from_utf8_lossy(&percent_decode(path)).into_owned();
        let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
        match self.bucket_from {
            BucketAddressing::Path => {
                let (bucket, key) = match rest.split_once('/') {
                    // `//demo/key`, `/./demo/key`: the bucket a storage that
                    // normalizes the path would see.
                    Some(("" | "." | "..", _)) => {
                        let normalized = remove_dot_segments(rest);
                        let (bucket, key) = normalized.split_once('/')?;
                        (bucket.to_string(), key.to_string())
                    }
                    Some((bucket, key)) => (bucket.to_string(), key.to_string()),
                    None => return None,
                };
                (!bucket.is_empty() && !key.is_empty()).then_some(ObjectName { bucket, key })
            }
            BucketAddressing::Host => {
                let host = host?;
                let bucket = host.split(['.', ':']).next().unwrap_or_default();
                (!bucket.is_empty() && !rest.is_empty()).then(|| ObjectName {
                    bucket: bucket.to_ascii_lowercase(),
                    key: rest.to_string(),
                })
            }
        }
    }

    /// Whether an object matches one of the patterns, as written or as a
    /// storage that normalizes keys would read it: `.` segments, `..`
    /// segments and empty segments (`//`) removed. s3s-fs serves
    /// `demo/./private/a.jpg` and `demo/x/../private/a.jpg` as
    /// `demo/private/a.jpg`, so those must be protected like it.
    pub(crate) fn covers(&self, object: &ObjectName) -> bool {
        let full = format!("{}/{}", object.bucket, object.key);
        let normalized = format!("{}/{}", object.bucket, remove_dot_segments(&object.key));
        self.resources.iter().any(|pattern| {
            glob_match(pattern.as_bytes(), full.as_bytes())
                || glob_match(pattern.as_bytes(), normalized.as_bytes())
        })
    }
}

/// A decoded key or path with its `.` and empty segments dropped and each
/// `..` removing the segment before it (never going above the start), joined
/// with single slashes: `./a//b/../c` → `a/c`.
pub(crate) fn remove_dot_segments(key: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in key.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    kept.join("/")
}

/// Whether a command (as found in the query, V1 `@!name` already turned into
/// `style/name`) is a style reference, the only processing open to unsigned
/// requests on protected objects.
pub(crate) fn is_style_command(command: &str) -> bool {
    command.starts_with("style/")
}

/// `*` matches any run of bytes (including `/`); everything else matches itself.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protection(resources: &[&str]) -> Protection {
        Protection {
            resources: resources.iter().map(|s| s.to_string()).collect(),
            bucket_from: BucketAddressing::Path,
        }
    }

    #[test]
    fn glob_patterns() {
        for (pattern, text, want) in [
            ("demo/private/*", "demo/private/a.jpg", true),
            ("demo/private/*", "demo/private/deep/er/a.jpg", true),
            ("demo/private/*", "demo/public/a.jpg", false),
            ("demo/private/*", "demo/private", false),
            ("demo/*/thumb.jpg", "demo/a/b/thumb.jpg", true),
            ("demo/*.png", "demo/x/y.png", true),
            ("demo/*.png", "demo/x/y.png.jpg", false),
            ("demo/exact.jpg", "demo/exact.jpg", true),
            ("demo/exact.jpg", "demo/exact.jpg2", false),
            ("demo/*", "other/a.jpg", false),
            ("demo/a*b*c", "demo/aXbYbZc", true),
            ("demo/a*b*c", "demo/aXbYbZ", false),
        ] {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes()),
                want,
                "{pattern} ~ {text}"
            );
        }
    }

    #[test]
    fn object_names_from_path_and_host() {
        let p = protection(&["demo/private/*"]);
        let o = p
            .object_of("/demo/private/a%20b.jpg?x-bce-process=style/t", None)
            .unwrap();
        assert_eq!(
            o,
            ObjectName {
                bucket: "demo".into(),
                key: "private/a b.jpg".into()
            }
        );
        assert!(p.covers(&o));
        let v1 = p.object_of("/demo/private/a.jpg@!thumb", None).unwrap();
        assert_eq!(v1.key, "private/a.jpg");
        assert_eq!(p.object_of("/demo", None), None, "a bucket, not an object");
        assert!(!p.covers(&p.object_of("/demo/public/a.jpg", None).unwrap()));

        let h = Protection {
            bucket_from: BucketAddressing::Host,
            ..protection(&["demo/private/*"])
        };
        let o = h
            .object_of("/private/a.jpg", Some("Demo.bj.bcebos.com:8080"))
            .unwrap();
        assert_eq!(
            o,
            ObjectName {
                bucket: "demo".into(),
                key: "private/a.jpg".into()
            }
        );
        assert!(h.covers(&o));
        assert_eq!(h.object_of("/private/a.jpg", None), None);
    }

    #[test]
    fn dot_segments_and_double_slashes_do_not_escape_protection() {
        let p = protection(&["demo/private/*", "demo/exact.jpg"]);
        for path in [
            "/demo/./private/a.jpg",
            "/demo/x/../private/a.jpg",
            "/demo//private/a.jpg",
            "/demo/private//a.jpg",
            "/demo/%2E/private/a.jpg",
            "/demo/%2e%2e/private/a.jpg",
            "/demo/x/%2E%2E/private/a.jpg",
            "/demo/private%2Fa.jpg",
            "/demo%2Fprivate%2Fa.jpg",
            "//demo/private/a.jpg",
            "/./demo/private/a.jpg",
            "/demo/./exact.jpg",
            "/demo/x/../exact.jpg?x-bce-process=image/resize,w_1",
            "/demo/./private/a.jpg@!thumb",
        ] {
            let o = p.object_of(path, None);
            assert!(o.as_ref().is_some_and(|o| p.covers(o)), "{path}: {o:?}");
        }
        for path in [
            "/demo/public/a.jpg",
            "/demo/private.jpg",
            "/demo/x/private/a.jpg",
        ] {
            let o = p.object_of(path, None).unwrap();
            assert!(!p.covers(&o), "{path}");
        }
        assert_eq!(remove_dot_segments("./a//b/../c"), "a/c");
        assert_eq!(remove_dot_segments("../../a"), "a");
    }

    #[test]
    fn validation_names_the_bad_entry() {
        assert!(protection(&["demo/*"]).validate().is_ok());
        for bad in ["demo", "/x", "demo/", "*/x"] {
            let e = protection(&["ok/*", bad]).validate().unwrap_err();
            assert!(e.contains("resources[1]"), "{e}");
        }
    }

    #[test]
    fn styles_are_recognised() {
        assert!(is_style_command("style/thumb"));
        assert!(!is_style_command("image/resize,w_10"));
        assert!(!is_style_command("image/style/x"));
    }
}
