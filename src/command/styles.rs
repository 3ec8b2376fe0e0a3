//! Named styles (`x-bce-process=style/<name>`), compiled into commands once,
//! when the configuration is read, instead of on every request.

use super::Command;
use crate::error::Result;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// One style: its text as configured and the command it compiles to (or the
/// error it gives, answered as parsing it per request would answer).
#[derive(Debug, Clone)]
struct Style {
    body: String,
    command: Result<Command>,
}

/// Named styles from the plugin config: name → command text (with or without
/// `image/`), each compiled once.
#[derive(Debug, Clone, Default)]
pub struct Styles {
    by_name: BTreeMap<String, Style>,
}

impl Styles {
    pub fn new() -> Styles {
        Styles::default()
    }

    /// Adds (or replaces) a style, compiling its text now.
    pub fn insert(&mut self, name: impl Into<String>, body: impl Into<String>) {
        let body = body.into();
        let command = Command::parse_actions(body.strip_prefix("image/").unwrap_or(&body));
        self.by_name.insert(name.into(), Style { body, command });
    }

    /// The style's text as configured.
    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(|s| s.body.as_str())
    }

    /// The style's compiled command (or the error its text gives).
    pub(crate) fn command(&self, name: &str) -> Option<&Result<Command>> {
        self.by_name.get(name).map(|s| &s.command)
    }

    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }

    /// (name, text, compiled command) of every style, by name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str, &Result<Command>)> {
        self.by_name
            .iter()
            .map(|(name, s)| (name.as_str(), s.body.as_str(), &s.command))
    }
}

impl PartialEq for Styles {
    /// Styles are equal when their names and texts are (the commands follow).
    fn eq(&self, other: &Styles) -> bool {
        self.by_name.len() == other.by_name.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl<'de> Deserialize<'de> for Styles {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Styles, D::Error> {
        let texts = BTreeMap::<String, String>::deserialize(deserializer)?;
        let mut styles = Styles::new();
        for (name, body) in texts {
            styles.insert(name, body);
        }
        Ok(styles)
    }
}

impl<const N: usize> From<[(&str, &str); N]> for Styles {
    fn from(pairs: [(&str, &str); N]) -> Styles {
        let mut styles = Styles::new();
        for (name, body) in pairs {
            styles.insert(name, body);
        }
        styles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_compile_once_with_or_without_the_prefix() {
        let styles = Styles::from([
            ("thumb", "image/resize,w_200"),
            ("bare", "resize,w_200"),
            ("bad", "image/resize,w_0"),
        ]);
        assert_eq!(styles.len(), 3);
        assert_eq!(styles.get("thumb"), Some("image/resize,w_200"));
        let thumb = styles.command("thumb").unwrap().as_ref().unwrap();
        let bare = styles.command("bare").unwrap().as_ref().unwrap();
        assert_eq!(thumb, bare);
        assert_eq!(
            thumb,
            &Command::parse("image/resize,w_200", &Styles::new()).unwrap()
        );
        // The error is the one parsing the text gives.
        let bad = styles.command("bad").unwrap().as_ref().unwrap_err();
        let direct = Command::parse("image/resize,w_0", &Styles::new()).unwrap_err();
        assert_eq!(bad.to_string(), direct.to_string());
        assert!(styles.command("missing").is_none());
    }
}
