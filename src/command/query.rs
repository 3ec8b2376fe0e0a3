//! Finding `x-bce-process` in a request path and removing it before the request
//! goes upstream.
//!
//! CLONE DECISION (spec §1.2): the parameter is split at its first `=` only (Base64
//! padding may appear raw in the value) and percent-decoded once. Every other query
//! parameter is kept exactly as the client sent it, in order.

use crate::error::{ProcessError, Result};
use percent_encoding::percent_decode_str;

/// The query parameter that carries the command.
pub const PROCESS_PARAM: &str = "x-bce-process";

/// A request path split around its `x-bce-process` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessQuery {
    /// The decoded command, e.g. `image/resize,w_200`.
    pub(crate) command: String,
    /// The path to send upstream: the original path with the parameter removed
    /// (and the `?` too when nothing else remains).
    pub(crate) upstream_path: String,
}

/// Looks for `x-bce-process` in `path` (`/bucket/key?query`).
///
/// Returns `Ok(None)` when the parameter is absent, an error when it is present
/// but unusable (given twice, or not valid UTF-8 after decoding).
pub fn extract(path: &str) -> Result<Option<ProcessQuery>> {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let v1_style = v1_style_suffix(base);
    let found = extract_parameter(base, query)?;
    match (found, v1_style) {
        (Some(_), Some(_)) => Err(ProcessError::invalid(
            "x-bce-process and a V1 '@!style' suffix cannot be combined",
        )),
        (Some(q), None) => Ok(Some(q)),
        (None, Some((object, style))) => Ok(Some(ProcessQuery {
            command: format!("style/{style}"),
            upstream_path: if query.is_empty() {
                object.to_string()
            } else {
                format!("{object}?{query}")
            },
        })),
        (None, None) => Ok(None),
    }
}

/// Looks for the `x-bce-process` query parameter only (no V1 `@!style`
/// suffix: for a write, `@!` is part of the key).
pub fn extract_param(path: &str) -> Result<Option<ProcessQuery>> {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    extract_parameter(base, query)
}

/// The V1 style suffix of an object path (`/bucket/photo.jpg@!thumb`, spec §6),
/// also percent-encoded (`%40%21`, `%40!`): the object's path and the style
/// name. The style name must be a valid one, so an `@!` inside a key that is
/// followed by other characters is left alone.
pub fn v1_style_suffix(base: &str) -> Option<(&str, &str)> {
    ["@!", "%40!", "%40%21"].iter().find_map(|sep| {
        let (object, style) = base.rsplit_once(sep)?;
        (!object.is_empty() && crate::command::is_valid_style_name(style))
            .then_some((object, style))
    })
}

fn extract_parameter(base: &str, query: &str) -> Result<Option<ProcessQuery>> {
    if query.is_empty() {
        return Ok(None);
    }
    let mut command = None;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name == PROCESS_PARAM {
            if command.is_some() {
                return Err(ProcessError::invalid(
                    "x-bce-process is given more than once in the query",
                ));
            }
            let decoded = percent_decode_str(value).decode_utf8().map_err(|_| {
                ProcessError::invalid("x-bce-process is not valid UTF-8 after percent-decoding")
            })?;
            command = Some(decoded.into_owned());
        } else if !pair.is_empty() {
            kept.push(pair);
        }
    }
    Ok(command.map(|command| ProcessQuery {
        command,
        upstream_path: if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_parameter() {
        assert_eq!(extract("/demo/a.jpg").unwrap(), None);
        assert_eq!(extract("/demo/a.jpg?versionId=3").unwrap(), None);
        // A parameter that merely starts with the same letters is not ours.
        assert_eq!(extract("/demo/a.jpg?x-bce-processing=1").unwrap(), None);
    }

    #[test]
    fn strips_and_decodes() {
        let q = extract("/demo/a.jpg?x-bce-process=image%2Fresize%2Cw_200")
            .unwrap()
            .unwrap();
        assert_eq!(q.command, "image/resize,w_200");
        assert_eq!(q.upstream_path, "/demo/a.jpg");
    }

    #[test]
    fn keeps_other_parameters_verbatim() {
        let q = extract("/demo/a.jpg?a=1&x-bce-process=image/resize,w_2&b=%2F")
            .unwrap()
            .unwrap();
        assert_eq!(q.upstream_path, "/demo/a.jpg?a=1&b=%2F");
    }

    #[test]
    fn splits_at_first_equals_only() {
        let q = extract("/k?x-bce-process=image/watermark,text_aGk==")
            .unwrap()
            .unwrap();
        assert_eq!(q.command, "image/watermark,text_aGk==");
    }

    #[test]
    fn v1_style_suffix() {
        let q = extract("/demo/a.jpg@!thumb").unwrap().unwrap();
        assert_eq!(q.command, "style/thumb");
        assert_eq!(q.upstream_path, "/demo/a.jpg");
        let q = extract("/demo/a.jpg%40%21thumb_2?v=1").unwrap().unwrap();
        assert_eq!(q.command, "style/thumb_2");
        assert_eq!(q.upstream_path, "/demo/a.jpg?v=1");
        // Not a style name: an ordinary key.
        assert_eq!(extract("/demo/a@!b.jpg").unwrap(), None);
        assert!(extract("/demo/a.jpg@!thumb?x-bce-process=image/strip").is_err());
    }

    #[test]
    fn rejects_duplicates_and_bad_utf8() {
        assert!(extract("/k?x-bce-process=image/a&x-bce-process=image/b").is_err());
        assert!(extract("/k?x-bce-process=%FF").is_err());
    }
}
