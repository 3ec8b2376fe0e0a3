//! The persistence forms of `x-bce-process` (spec §4.24): `system/load` and
//! `system/save`, joined to an image command by `|`.
//!
//! ```text
//! system/load,b_<bucket>,o_<urlsafe-b64 key>|image/<actions>   PUT /<bucket>/<target key>
//! image/<actions>|system/save,b_<bucket>,o_<urlsafe-b64 key>   GET /<bucket>/<source key>
//! ```
//!
//! - `|` separates the parts; there are exactly two, one `system/...` and one
//!   `image/...` (or `style/<name>`). `load` comes first, `save` last.
//! - `b` (optional): the bucket, plain text (`[a-z0-9-]`, 3–63 characters);
//!   default the bucket of the request.
//! - `o` (required): the object key, URL-safe Base64 (padded or not).
//! - A key must decode to 1–[`MAX_KEY_BYTES`] bytes of UTF-8 without control
//!   characters, must not start with `/`, and must have no empty, `.` or `..`
//!   segment (CLONE DECISION: such keys could leave the bucket on a
//!   file-system backed store).
//! - No repeated key, no other key.
//!
//! Parsing is host-free and checks nothing about access; see
//! [`crate::persistence`] for who may load and save what.

use crate::actions::watermark::{decode_base64url, is_valid_bucket, ObjectRef};
use crate::error::{ProcessError, Result};

/// Longest object key, in bytes (BOS and S3 allow 1 024).
pub const MAX_KEY_BYTES: usize = 1024;

/// The separator between the `system/...` and the `image/...` part.
pub const PART_SEPARATOR: char = '|';

/// Which system action the command holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SystemAction {
    /// `system/load`: read the source from this object (a PUT names the target).
    Load,
    /// `system/save`: write the result to this object (a GET names the source).
    Save,
}

impl SystemAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SystemAction::Load => "load",
            SystemAction::Save => "save",
        }
    }
}

/// An object named by `b_`/`o_`; `bucket` is `None` when `b_` is absent (the
/// request's bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemObject {
    pub(crate) bucket: Option<String>,
    pub(crate) key: String,
}

impl SystemObject {
    /// The object, with `default_bucket` where `b_` was not given.
    pub fn resolve(&self, default_bucket: &str) -> ObjectRef {
        ObjectRef {
            bucket: self
                .bucket
                .clone()
                .unwrap_or_else(|| default_bucket.to_string()),
            key: self.key.clone(),
        }
    }
}

/// A parsed persistence command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemCommand {
    pub(crate) action: SystemAction,
    pub(crate) object: SystemObject,
    /// The image part as written (`image/...` or `style/<name>`), parsed by
    /// [`crate::command::Command::parse`].
    pub(crate) image: String,
}

/// Whether an `x-bce-process` value is a persistence command (holds `|` or
/// starts with `system/`); such values never go to the plain image parser.
pub fn is_system_command(value: &str) -> bool {
    value.contains(PART_SEPARATOR) || value.starts_with("system/")
}

/// Parses a persistence command (already percent-decoded).
pub fn parse(value: &str) -> Result<SystemCommand> {
    let parts: Vec<&str> = value.split(PART_SEPARATOR).collect();
    if let [only] = parts[..] {
        return Err(ProcessError::missing(if only.starts_with("system/") {
            format!("{only}: needs an image command beside it, separated by '|'")
        } else {
            "x-bce-process: persistence needs 'system/load,o_<source>|image/...' \
             (PUT) or 'image/...|system/save,o_<target>' (GET)"
                .to_string()
        }));
    }
    let [first, second] = parts[..] else {
        return Err(ProcessError::invalid(format!(
            "x-bce-process: a persistence command is 'system/load,...|image/...' or \
             'image/...|system/save,...', got {} parts separated by '|'",
            parts.len()
        )));
    };
    let (system, image, action) =
        match (
            first.strip_prefix("system/"),
            second.strip_prefix("system/"),
        ) {
            (Some(_), Some(_)) => {
                return Err(ProcessError::invalid(
                    "x-bce-process: system/load and system/save cannot be combined",
                ))
            }
            (Some(sys), None) => (sys, second, SystemAction::Load),
            (None, Some(sys)) => (sys, first, SystemAction::Save),
            (None, None) => return Err(ProcessError::missing(
                "x-bce-process: '|' separates a system/load or system/save part, and there is none",
            )),
        };
    let mut tokens = system.split(',');
    let name = tokens.next().unwrap_or_default();
    match (name, action) {
        ("load", SystemAction::Load) | ("save", SystemAction::Save) => {}
        ("load", SystemAction::Save) => {
            return Err(ProcessError::invalid(
                "system/load must come before the image command: 'system/load,...|image/...'",
            ))
        }
        ("save", SystemAction::Load) => {
            return Err(ProcessError::invalid(
                "system/save must come after the image command: 'image/...|system/save,...'",
            ))
        }
        (other, _) => {
            return Err(ProcessError::invalid(format!(
                "system: unknown action '{other}' (expected load or save)"
            )))
        }
    }
    let object = parse_object(name, tokens)?;
    if image.is_empty() {
        return Err(ProcessError::missing(format!(
            "system/{name} needs an image command beside it ('image/...' or 'style/<name>')"
        )));
    }
    if !image.starts_with("image/") && !image.starts_with("style/") {
        let kind = image.split('/').next().unwrap_or_default();
        return Err(ProcessError::invalid(format!(
            "system/{name}: the other part must start with 'image/' or 'style/', got '{kind}'"
        )));
    }
    Ok(SystemCommand {
        action,
        object,
        image: image.to_string(),
    })
}

fn parse_object<'a>(action: &str, tokens: impl Iterator<Item = &'a str>) -> Result<SystemObject> {
    let mut bucket = None;
    let mut key = None;
    for token in tokens.filter(|t| !t.is_empty()) {
        let (k, v) = token.split_once('_').ok_or_else(|| {
            ProcessError::invalid(format!(
                "system/{action}: '{token}' is not a key_value parameter"
            ))
        })?;
        let slot = match k {
            "b" => &mut bucket,
            "o" => &mut key,
            other => {
                return Err(ProcessError::invalid(format!(
                    "system/{action}: unknown key '{other}' (expected b or o)"
                )))
            }
        };
        if slot.is_some() {
            return Err(ProcessError::invalid(format!(
                "system/{action}: key '{k}' is given twice"
            )));
        }
        *slot = Some(v);
    }
    let bucket = match bucket {
        None => None,
        Some(b) if is_valid_bucket(b) => Some(b.to_string()),
        Some(b) => {
            return Err(ProcessError::invalid(format!(
                "system/{action}: b_{b} is not a bucket name (3-63 characters of a-z, 0-9 and '-')"
            )))
        }
    };
    let raw = key.ok_or_else(|| {
        ProcessError::missing(format!(
            "system/{action}: key 'o' (the URL-safe Base64 object key) is required"
        ))
    })?;
    let key = decode_key(action, raw)?;
    Ok(SystemObject { bucket, key })
}

/// Decodes and checks the `o_` value.
fn decode_key(action: &str, raw: &str) -> Result<String> {
    let context = format!("system/{action}");
    let bytes = decode_base64url(&context, "o", raw)?;
    let key = String::from_utf8(bytes)
        .map_err(|_| ProcessError::invalid(format!("{context}: o_{raw} is not UTF-8 text")))?;
    check_key(&key).map_err(|why| ProcessError::invalid(format!("{context}: o_{raw} {why}")))?;
    Ok(key)
}

/// Why `key` is not a key the filter writes or reads, if it is not.
pub fn check_key(key: &str) -> std::result::Result<(), String> {
    if key.is_empty() {
        return Err("decodes to an empty key".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "decodes to a key of {} bytes, at most {MAX_KEY_BYTES} are allowed",
            key.len()
        ));
    }
    if key.chars().any(char::is_control) {
        return Err("decodes to a key with control characters".into());
    }
    if key
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(
            "decodes to a key with an empty, '.' or '..' segment (or a leading '/')".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use base64::Engine;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE.encode(s)
    }

    #[test]
    fn the_spec_example() {
        // spec §4.24: o_dGVzdC5qcGc= is test.jpg.
        let c = parse(
            "system/load,b_mytest,o_dGVzdC5qcGc=|image/resize,m_fill,w_100,h_90/format,f_bmp",
        )
        .unwrap();
        assert_eq!(c.action, SystemAction::Load);
        assert_eq!(
            c.object,
            SystemObject {
                bucket: Some("mytest".into()),
                key: "test.jpg".into()
            }
        );
        assert_eq!(c.image, "image/resize,m_fill,w_100,h_90/format,f_bmp");
    }

    #[test]
    fn save_form_and_defaults() {
        let c = parse(&format!(
            "style/thumb|system/save,o_{}",
            b64("out/a b_.jpg")
        ))
        .unwrap();
        assert_eq!(c.action, SystemAction::Save);
        assert_eq!(c.object.bucket, None);
        assert_eq!(c.object.key, "out/a b_.jpg");
        assert_eq!(
            c.object.resolve("demo"),
            ObjectRef {
                bucket: "demo".into(),
                key: "out/a b_.jpg".into()
            }
        );
        // Unpadded and standard-alphabet Base64 are accepted too.
        let unpadded = b64("x.png").trim_end_matches('=').to_string();
        assert_eq!(
            parse(&format!("image/strip|system/save,o_{unpadded}"))
                .unwrap()
                .object
                .key,
            "x.png"
        );
    }

    #[test]
    fn detection() {
        assert!(is_system_command("system/load,o_YQ==|image/strip"));
        assert!(is_system_command("image/strip|system/save,o_YQ=="));
        assert!(is_system_command("system/save"));
        assert!(!is_system_command("image/resize,w_10"));
        assert!(!is_system_command("style/thumb"));
    }

    /// Each bad form: its code and a fragment of its message (which names the key).
    #[test]
    fn errors_name_the_key() {
        let long = b64(&"k".repeat(MAX_KEY_BYTES + 1));
        let cases: Vec<(String, ErrorCode, &str)> = vec![
            (
                "system/load,o_YQ==".into(),
                ErrorCode::MissingArgument,
                "needs an image command",
            ),
            (
                "image/strip".into(),
                ErrorCode::MissingArgument,
                "persistence needs",
            ),
            (
                "system/load,o_YQ==|image/strip|system/save,o_Yg==".into(),
                ErrorCode::InvalidArgument,
                "3 parts",
            ),
            (
                "system/load,o_YQ==|system/save,o_Yg==".into(),
                ErrorCode::InvalidArgument,
                "cannot be combined",
            ),
            (
                "image/strip|image/strip".into(),
                ErrorCode::MissingArgument,
                "there is none",
            ),
            (
                "system/load,b_demo|image/strip".into(),
                ErrorCode::MissingArgument,
                "key 'o'",
            ),
            (
                "system/save,o_YQ==|image/strip".into(),
                ErrorCode::InvalidArgument,
                "after the image",
            ),
            (
                "image/strip|system/load,o_YQ==".into(),
                ErrorCode::InvalidArgument,
                "before the image",
            ),
            (
                "system/copy,o_YQ==|image/strip".into(),
                ErrorCode::InvalidArgument,
                "unknown action 'copy'",
            ),
            (
                "system/load,o_YQ==,x_1|image/strip".into(),
                ErrorCode::InvalidArgument,
                "unknown key 'x'",
            ),
            (
                "system/load,o_YQ==,o_Yg==|image/strip".into(),
                ErrorCode::InvalidArgument,
                "key 'o' is given twice",
            ),
            (
                "system/load,o|image/strip".into(),
                ErrorCode::InvalidArgument,
                "'o' is not a key_value",
            ),
            (
                "system/load,b_UP,o_YQ==|image/strip".into(),
                ErrorCode::InvalidArgument,
                "b_UP is not a bucket",
            ),
            (
                "system/load,o_!!!|image/strip".into(),
                ErrorCode::InvalidArgument,
                "o_!!! is not URL-safe Base64",
            ),
            (
                "system/load,o_|image/strip".into(),
                ErrorCode::InvalidArgument,
                "empty key",
            ),
            (
                format!("system/load,o_{}|image/strip", b64("a/../b")),
                ErrorCode::InvalidArgument,
                "'..' segment",
            ),
            (
                format!("system/load,o_{}|image/strip", b64("..")),
                ErrorCode::InvalidArgument,
                "'..' segment",
            ),
            (
                format!("system/load,o_{}|image/strip", b64("/abs")),
                ErrorCode::InvalidArgument,
                "leading '/'",
            ),
            (
                format!("system/load,o_{}|image/strip", b64("a\nb")),
                ErrorCode::InvalidArgument,
                "control",
            ),
            (
                format!("system/load,o_{long}|image/strip"),
                ErrorCode::InvalidArgument,
                "1025 bytes",
            ),
            (
                "system/load,o_YQ==|".into(),
                ErrorCode::MissingArgument,
                "needs an image command",
            ),
            (
                "system/load,o_YQ==|video/snapshot".into(),
                ErrorCode::InvalidArgument,
                "got 'video'",
            ),
        ];
        for (value, code, fragment) in cases {
            let err = parse(&value).unwrap_err();
            assert_eq!(err.code, code, "{value}: {err}");
            assert!(err.message.contains(fragment), "{value}: {}", err.message);
        }
        // Just inside the key limit.
        let max = b64(&"k".repeat(MAX_KEY_BYTES));
        assert!(parse(&format!("system/load,o_{max}|image/strip")).is_ok());
        // A key may contain dots that are not whole segments.
        assert!(parse(&format!(
            "system/load,o_{}|image/strip",
            b64("a..b/c.d.jpg")
        ))
        .is_ok());
    }
}
