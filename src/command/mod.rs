//! The `x-bce-process` command language: grammar, styles and validation.
//!
//! Accepted forms of the (already percent-decoded) value:
//!
//! ```text
//! image/resize,m_lfit,w_200,h_100/format,f_webp   inline command
//! style/thumb                                      a style from the plugin config
//! ```
//!
//! Grammar (spec §1.2): the part after `image/` is split on `/` into actions;
//! each action on `,` into its name and parameters; each parameter at its
//! **first** `_` into key and value (values may contain `_` and `=`, as URL-safe
//! Base64 does). Keys are case-sensitive (`q` and `Q` differ).
//!
//! Limits enforced here, before anything is fetched: at most
//! [`MAX_ACTIONS`] actions, no repeated key inside one action, no unknown action
//! or key, every value in its documented range.

pub(crate) mod query;
mod styles;
pub(crate) mod system;

pub use styles::Styles;

#[cfg(any(target_arch = "wasm32", test))]
use crate::actions::blind_watermark::BlindMode;
use crate::actions::blind_watermark::{BlindMethod, BlindWatermarkSpec};
use crate::actions::format::{self, FormatSpec, OutputOptions, QualitySpec};
use crate::actions::watermark::{ObjectRef, WatermarkSpec};
use crate::actions::{pixel_action, rotate, PixelAction};
use crate::error::{ErrorCode, ProcessError, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// At most this many actions in one command (spec §1.3).
pub(crate) const MAX_ACTIONS: usize = 16;

/// One validated action, in command order.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// A pixel action: `resize`, `crop`, `rotate`, `blur` … (the list is
    /// [`crate::actions::PIXEL_ACTIONS`]).
    Pixel(Arc<dyn PixelAction>),
    /// `auto-orient,o_`: turn upright by EXIF (true) or keep as stored.
    AutoOrient(bool),
    /// `ignore-error,1` (spec §4.26, CLONE DECISION as OBS): answer with the
    /// untouched original when processing fails on the body; `ignore-error,0`
    /// reports the error (the default). Only the glue reads it
    /// (`Command::ignores_errors`), so natively outside tests it is unread.
    #[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
    IgnoreError(bool),
    /// `format,f_`.
    Format(FormatSpec),
    /// `quality`.
    Quality(QualitySpec),
    /// `interlace,i_`: progressive output (true) or baseline.
    Interlace(bool),
    /// `strip`: drop metadata.
    Strip,
    /// `info`: answer with the image's description as JSON (must be the only action).
    Info,
    /// `detect`: answer with the anomaly report as JSON (must be the only action).
    Detect,
    /// `watermark`: an image, a text, or both (spec §4.20–4.22).
    Watermark(Box<WatermarkSpec>),
    /// `blind-watermark`: embed or extract an invisible mark (spec §4.23).
    BlindWatermark(Box<BlindWatermarkSpec>),
}

impl Action {
    /// The action's name, as written in commands and error messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Action::Pixel(p) => p.name(),
            Action::AutoOrient(_) => "auto-orient",
            Action::IgnoreError(_) => "ignore-error",
            Action::Format(_) => "format",
            Action::Quality(_) => "quality",
            Action::Interlace(_) => "interlace",
            Action::Strip => "strip",
            Action::Info => "info",
            Action::Detect => "detect",
            Action::Watermark(_) => "watermark",
            Action::BlindWatermark(_) => "blind-watermark",
        }
    }

    /// Whether the action answers with JSON instead of an image.
    pub(crate) fn is_inspection(&self) -> bool {
        matches!(self, Action::Info | Action::Detect)
    }

    /// The pixel action inside, when it is a `T`.
    #[cfg(test)]
    pub(crate) fn pixel<T: PixelAction>(&self) -> Option<&T> {
        match self {
            Action::Pixel(p) => {
                let any: &dyn std::any::Any = &**p;
                any.downcast_ref()
            }
            _ => None,
        }
    }
}

/// A parsed, validated command: what the request asks for.
#[derive(Debug, Clone)]
pub struct Command {
    /// Actions in the order they run.
    pub(crate) actions: Vec<Action>,
    /// A canonical spelling (keys sorted inside each action), used to derive ETags:
    /// two spellings of the same command give the same string.
    pub normalized: String,
    /// The output settings, resolved from the actions.
    pub(crate) output: OutputOptions,
    /// Whether the image is turned upright by its EXIF orientation: yes
    /// unless `auto-orient,o_0` appears anywhere.
    pub(crate) auto_orient: bool,
}

/// Two commands are the same when their canonical spellings are.
impl PartialEq for Command {
    fn eq(&self, other: &Command) -> bool {
        self.normalized == other.normalized
    }
}

/// The actions besides the pixel actions that also accept the other
/// vendors' bare-value form (`interlace,1`); pixel actions say so in
/// [`crate::actions::PIXEL_ACTIONS`].
const ACCEPTS_BARE_VALUE: &[&str] = &["auto-orient", "interlace", "ignore-error"];

impl Command {
    /// Parses an `x-bce-process` value (already percent-decoded).
    pub fn parse(value: &str, styles: &Styles) -> Result<Command> {
        if let Some(rest) = value.strip_prefix("image/") {
            return Self::parse_actions(rest);
        }
        if let Some(name) = value.strip_prefix("style/") {
            return Self::parse_style(name, styles);
        }
        let kind = value.split('/').next().unwrap_or_default();
        Err(ProcessError::invalid(format!(
            "x-bce-process must start with 'image/' or 'style/', got '{kind}'"
        )))
    }

    fn parse_style(name: &str, styles: &Styles) -> Result<Command> {
        if !is_valid_style_name(name) {
            return Err(ProcessError::invalid(format!(
                "style name '{name}' must be 1-64 characters of [0-9A-Za-z_] not starting with '_'"
            )));
        }
        styles
            .command(name)
            .ok_or_else(|| {
                ProcessError::new(
                    ErrorCode::NoSuchStyle,
                    format!("style '{name}' does not exist"),
                )
            })?
            .clone()
    }

    /// Parses the action list that follows `image/`.
    pub(crate) fn parse_actions(text: &str) -> Result<Command> {
        let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            return Err(ProcessError::missing(
                "x-bce-process names no action after 'image/'",
            ));
        }
        if parts.len() > MAX_ACTIONS {
            return Err(ProcessError::invalid(format!(
                "{} actions given, at most {MAX_ACTIONS} are allowed",
                parts.len()
            )));
        }
        let mut actions = Vec::with_capacity(parts.len());
        let mut normalized = Vec::with_capacity(parts.len());
        for part in parts {
            let raw = RawAction::split(part)?;
            normalized.push(raw.normalized());
            actions.push(raw.into_action()?);
        }
        if actions.len() > 1 {
            if let Some(name) = actions.iter().find(|a| a.is_inspection()).map(Action::name) {
                return Err(ProcessError::invalid(format!(
                    "{name}: must be the only action of the command"
                )));
            }
        }
        check_blind_extraction(&actions)?;
        if actions.iter().all(|a| matches!(a, Action::IgnoreError(_))) {
            return Err(ProcessError::invalid(
                "ignore-error: must be combined with an action that processes the image",
            ));
        }
        Ok(Command::from_actions(
            actions,
            format!("image/{}", normalized.join("/")),
        ))
    }

    /// The command of no action (`image/`): decode, turn upright, encode.
    pub(crate) fn empty() -> Command {
        Command::from_actions(Vec::new(), "image/".into())
    }

    /// A command made of `actions` (already validated), spelled `normalized`.
    #[cfg(test)]
    pub(crate) fn of_actions(actions: Vec<Action>, normalized: &str) -> Command {
        Command::from_actions(actions, normalized.into())
    }

    /// A command of `actions`, with what they decide resolved once.
    fn from_actions(actions: Vec<Action>, normalized: String) -> Command {
        let mut output = OutputOptions::default();
        let mut auto_orient = true;
        for action in &actions {
            match action {
                Action::Format(f) => output.format = Some(*f),
                Action::Quality(q) => output.quality = Some(*q),
                Action::Interlace(p) => output.progressive = *p,
                Action::Strip => output.strip = true,
                Action::AutoOrient(false) => auto_orient = false,
                _ => {}
            }
        }
        Command {
            actions,
            normalized,
            output,
            auto_orient,
        }
    }

    /// The `format` action that decides the output, if any (the last one wins).
    pub(crate) fn format(&self) -> Option<&FormatSpec> {
        self.output.format.as_ref()
    }

    /// The inspection (`info` or `detect`) this command asks for, if any; it is
    /// then the only action.
    pub(crate) fn inspection(&self) -> Option<&Action> {
        self.actions.first().filter(|a| a.is_inspection())
    }

    /// Whether the image is turned upright by its EXIF orientation.
    pub(crate) fn auto_orients(&self) -> bool {
        self.auto_orient
    }

    /// Whether the output is progressive (the last `interlace`).
    pub(crate) fn progressive(&self) -> bool {
        self.output.progressive
    }

    /// Whether processing errors answer with the untouched original.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn ignores_errors(&self) -> bool {
        // The last `ignore-error` says so.
        self.actions
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::IgnoreError(on) => Some(*on),
                _ => None,
            })
            .unwrap_or(false)
    }

    /// Whether `strip` drops the metadata.
    pub(crate) fn strips_metadata(&self) -> bool {
        self.output.strip
    }

    pub fn objects(
        &self,
        request_bucket: &str,
        fonts: &BTreeMap<String, ObjectRef>,
    ) -> Result<Vec<ObjectRef>> {
        let mut out: Vec<ObjectRef> = Vec::new();
        for action in &self.actions {
            let objects = match action {
                Action::Watermark(spec) => spec.objects(request_bucket, fonts)?,
                Action::BlindWatermark(spec) => spec.object(request_bucket).into_iter().collect(),
                _ => continue,
            };
            for o in objects {
                if !out.contains(&o) {
                    out.push(o);
                }
            }
        }
        Ok(out)
    }

    /// The mode of the `blind-watermark,method_extract` that ends the command,
    /// if any: the answer is then the extracted mark, not an image.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn blind_extraction(&self) -> Option<BlindMode> {
        match self.actions.last() {
            Some(Action::BlindWatermark(spec)) if spec.method == BlindMethod::Extract => {
                Some(spec.mode)
            }
            _ => None,
        }
    }

    /// The `quality` action, if any (the last one wins).
    /// The `quality` action that decides the encoder quality, if any.
    pub(crate) fn quality(&self) -> Option<&QualitySpec> {
        self.output.quality.as_ref()
    }
}

/// `blind-watermark,method_extract` must be the last action, and the output
/// settings (`format`, `quality`, `interlace`, `strip`) do not apply to its
/// answer (JSON or a PNG of the mark).
fn check_blind_extraction(actions: &[Action]) -> Result<()> {
    let extracts =
        |a: &Action| matches!(a, Action::BlindWatermark(s) if s.method == BlindMethod::Extract);
    let Some(at) = actions.iter().position(extracts) else {
        return Ok(());
    };
    if at + 1 != actions.len() {
        return Err(ProcessError::invalid(
            "blind-watermark: method_extract must be the last action of the command",
        ));
    }
    if let Some(name) = actions
        .iter()
        .find(|a| {
            matches!(
                a,
                Action::Format(_) | Action::Quality(_) | Action::Interlace(_) | Action::Strip
            )
        })
        .map(Action::name)
    {
        return Err(ProcessError::invalid(format!(
            "blind-watermark: method_extract answers with the mark (JSON or PNG); {name} does not apply"
        )));
    }
    Ok(())
}

/// Style names: `[0-9A-Za-z_]`, not starting with `_`, 1–64 characters (spec §1.3).
pub(crate) fn is_valid_style_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// One action split into its name and `key_value` parameters, before typing.
#[derive(Debug)]
struct RawAction<'a> {
    name: &'a str,
    params: BTreeMap<&'a str, &'a str>,
    /// A token without `_` (`grayscale,1`, `contrast,-20`), accepted only by
    /// the actions whose other-vendor form is a bare value.
    bare: Option<&'a str>,
}

impl<'a> RawAction<'a> {
    fn split(part: &'a str) -> Result<Self> {
        let mut tokens = part.split(',');
        let name = tokens.next().unwrap_or_default();
        if name.is_empty() {
            return Err(ProcessError::invalid(format!(
                "action '{part}' has no name"
            )));
        }
        let mut params = BTreeMap::new();
        let mut bare = None;
        for token in tokens {
            let Some((key, value)) = token.split_once('_') else {
                if bare.replace(token).is_some() || token.is_empty() {
                    return Err(not_key_value(name, token));
                }
                continue;
            };
            if key.is_empty() {
                return Err(ProcessError::invalid(format!(
                    "{name}: parameter '{token}' has an empty key"
                )));
            }
            if params.insert(key, value).is_some() {
                return Err(ProcessError::invalid(format!(
                    "{name}: key '{key}' is given more than once"
                )));
            }
        }
        Ok(RawAction { name, params, bare })
    }

    fn normalized(&self) -> String {
        let mut s = self.name.to_string();
        if let Some(bare) = self.bare {
            s.push(',');
            s.push_str(bare);
        }
        for (k, v) in &self.params {
            s.push(',');
            s.push_str(k);
            s.push('_');
            s.push_str(v);
        }
        s
    }

    fn into_action(self) -> Result<Action> {
        let pixel = pixel_action(self.name);
        if let Some(bare) = self.bare {
            let accepts = match pixel {
                Some(entry) => entry.accepts_bare_value,
                None => ACCEPTS_BARE_VALUE.contains(&self.name),
            };
            if !accepts {
                return Err(not_key_value(self.name, bare));
            }
        }
        let mut params = Params {
            action: self.name,
            map: self.params,
            bare: self.bare,
        };
        let action = match (pixel, self.name) {
            (Some(entry), _) => Action::Pixel((entry.parse)(&mut params)?),
            (None, "auto-orient") => Action::AutoOrient(rotate::parse_auto_orient(&mut params)?),
            (None, "format") => Action::Format(FormatSpec::parse(&mut params)?),
            (None, "quality") => Action::Quality(QualitySpec::parse(&mut params)?),
            (None, "interlace") => Action::Interlace(format::parse_interlace(&mut params)?),
            (None, "strip") => Action::Strip,
            (None, "info") => Action::Info,
            (None, "detect") => Action::Detect,
            (None, "ignore-error") => {
                params.take_bare_as("v")?;
                Action::IgnoreError(params.take_int("v", 0, 1)?.unwrap_or(1) == 1)
            }
            (None, "watermark") => Action::Watermark(Box::new(WatermarkSpec::parse(&mut params)?)),
            (None, "blind-watermark") => {
                Action::BlindWatermark(Box::new(BlindWatermarkSpec::parse(&mut params)?))
            }
            (None, other) => {
                return Err(ProcessError::invalid(format!("unknown action '{other}'")));
            }
        };
        params.finish()?;
        Ok(action)
    }
}

#[derive(Debug)]
pub(crate) struct Params<'a> {
    action: &'a str,
    map: BTreeMap<&'a str, &'a str>,
    bare: Option<&'a str>,
}

impl<'a> Params<'a> {
    /// The parameters `map` of an action called `action`, as the parser
    /// would hand them over.
    #[cfg(test)]
    pub(crate) fn for_test(action: &'a str, map: BTreeMap<&'a str, &'a str>) -> Params<'a> {
        Params {
            action,
            map,
            bare: None,
        }
    }

    /// The action's name, for error messages.
    pub(crate) fn action(&self) -> &'a str {
        self.action
    }

    /// Takes a raw value.
    pub(crate) fn take(&mut self, key: &str) -> Option<&'a str> {
        self.map.remove(key)
    }

    /// Takes an integer in `min..=max`.
    pub(crate) fn take_int(&mut self, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
        let Some(raw) = self.take(key) else {
            return Ok(None);
        };
        let value: i64 = raw.parse().map_err(|_| {
            ProcessError::invalid(format!(
                "{}: {key}_{raw} is not an integer (expected {min}-{max})",
                self.action
            ))
        })?;
        if !(min..=max).contains(&value) {
            return Err(ProcessError::invalid(format!(
                "{}: {key}_{raw} is out of range (expected {min}-{max})",
                self.action
            )));
        }
        Ok(Some(value))
    }

    /// Takes one of a fixed set of words.
    pub(crate) fn take_enum<T: Copy>(
        &mut self,
        key: &str,
        choices: &[(&str, T)],
    ) -> Result<Option<T>> {
        let Some(raw) = self.take(key) else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|(name, _)| *name == raw)
            .map(|(_, v)| Some(*v))
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                ProcessError::invalid(format!(
                    "{}: {key}_{raw} is not allowed (expected one of {})",
                    self.action,
                    names.join(", ")
                ))
            })
    }

    /// Takes a bare value (a token without `_`) as if it were given as `key`,
    /// for actions that also accept the other vendors' bare form. Giving both
    /// the bare form and `key` is a repeated key.
    pub(crate) fn take_bare_as(&mut self, key: &'a str) -> Result<()> {
        if let Some(bare) = self.bare.take() {
            if self.map.insert(key, bare).is_some() {
                return Err(ProcessError::invalid(format!(
                    "{}: key '{key}' is given more than once",
                    self.action
                )));
            }
        }
        Ok(())
    }

    /// Fails unless at least one of `keys` was given.
    pub(crate) fn require_any(&self, keys: &[&str]) -> Result<()> {
        if keys.iter().any(|k| self.map.contains_key(k)) {
            return Ok(());
        }
        Err(ProcessError::missing(format!(
            "{}: needs {}",
            self.action,
            keys.join(" or ")
        )))
    }

    /// Takes a required integer in `min..=max`.
    pub(crate) fn require_int(&mut self, key: &str, min: i64, max: i64) -> Result<i64> {
        self.take_int(key, min, max)?.ok_or_else(|| {
            ProcessError::missing(format!("{}: needs {key} ({min}-{max})", self.action))
        })
    }

    fn finish(self) -> Result<()> {
        if let Some(bare) = self.bare {
            return Err(not_key_value(self.action, bare));
        }
        match self.map.keys().next() {
            None => Ok(()),
            Some(key) => Err(ProcessError::invalid(format!(
                "{}: unknown key '{key}'",
                self.action
            ))),
        }
    }
}

fn not_key_value(action: &str, token: &str) -> ProcessError {
    ProcessError::invalid(format!(
        "{action}: parameter '{token}' is not of the form key_value"
    ))
}

#[cfg(test)]
mod ignore_error_tests {
    use super::*;

    #[test]
    fn ignore_error_forms() {
        let parse = |s: &str| Command::parse_actions(s);
        assert!(parse("resize,w_10/ignore-error,1")
            .unwrap()
            .ignores_errors());
        assert!(parse("ignore-error/resize,w_10").unwrap().ignores_errors());
        assert!(!parse("resize,w_10/ignore-error,0")
            .unwrap()
            .ignores_errors());
        assert!(!parse("resize,w_10").unwrap().ignores_errors());
        assert_eq!(parse("ignore-error,1").unwrap_err().http_status(), 400);
        assert_eq!(
            parse("resize,w_10/ignore-error,2")
                .unwrap_err()
                .http_status(),
            400
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::format::FormatTarget;
    use crate::actions::resize::{ResizeMode, ResizeSpec};
    use crate::codec::ImageFormat;

    fn parse(s: &str) -> Result<Command> {
        Command::parse(s, &Styles::new())
    }

    #[test]
    fn parses_the_spec_example() {
        let c = parse("image/resize,m_lfit,w_200,h_100/format,f_webp").unwrap();
        assert_eq!(c.actions.len(), 2);
        let r = c.actions[0]
            .pixel::<ResizeSpec>()
            .unwrap_or_else(|| panic!("{:?}", c.actions[0]));
        assert_eq!(c.actions[0].name(), "resize");
        assert_eq!(r.mode, ResizeMode::Lfit);
        assert_eq!((r.w, r.h), (Some(200), Some(100)));
        assert_eq!(
            c.format().unwrap().target,
            FormatTarget::Fixed(ImageFormat::Webp)
        );
    }

    #[test]
    fn normalized_form_ignores_key_order() {
        let a = parse("image/resize,w_200,m_lfit,h_100").unwrap();
        let b = parse("image/resize,h_100,m_lfit,w_200").unwrap();
        assert_eq!(a.normalized, b.normalized);
        assert_eq!(a.normalized, "image/resize,h_100,m_lfit,w_200");
    }

    #[test]
    fn errors_name_action_and_key() {
        let cases: &[(&str, ErrorCode, &str)] = &[
            (
                "image/resize,w_0",
                ErrorCode::InvalidArgument,
                "resize: w_0 is out of range",
            ),
            (
                "image/resize,w_abc",
                ErrorCode::InvalidArgument,
                "resize: w_abc is not an integer",
            ),
            (
                "image/resize,w_10,w_20",
                ErrorCode::InvalidArgument,
                "resize: key 'w' is given more than once",
            ),
            (
                "image/resize,w_10,zz_1",
                ErrorCode::InvalidArgument,
                "resize: unknown key 'zz'",
            ),
            (
                "image/resize,m_huge,w_1",
                ErrorCode::InvalidArgument,
                "resize: m_huge is not allowed",
            ),
            (
                "image/resize,m_fixed,w_10",
                ErrorCode::MissingArgument,
                "resize: m_fixed needs both w and h",
            ),
            ("image/resize", ErrorCode::MissingArgument, "resize: needs"),
            (
                "image/frobnicate,x_1",
                ErrorCode::InvalidArgument,
                "unknown action 'frobnicate'",
            ),
            (
                "image/format,f_tiff",
                ErrorCode::InvalidArgument,
                "format: f_tiff is not allowed",
            ),
            (
                "image/format",
                ErrorCode::MissingArgument,
                "format: needs f",
            ),
            (
                "image/quality,q_101",
                ErrorCode::InvalidArgument,
                "quality: q_101 is out of range",
            ),
            (
                "image/quality,c_le",
                ErrorCode::MissingArgument,
                "quality: needs q or Q",
            ),
            (
                "image/resize,w10",
                ErrorCode::InvalidArgument,
                "resize: parameter 'w10' is not of the form key_value",
            ),
            ("image/", ErrorCode::MissingArgument, "names no action"),
            (
                "video/snapshot",
                ErrorCode::InvalidArgument,
                "must start with 'image/' or 'style/'",
            ),
            (
                "image/blind-watermark,mode_1,text_aGk",
                ErrorCode::MissingArgument,
                "blind-watermark: needs method",
            ),
            (
                "image/blind-watermark,method_embed,text_aGk",
                ErrorCode::MissingArgument,
                "blind-watermark: needs mode",
            ),
            (
                "image/blind-watermark,method_hide,mode_1,text_aGk",
                ErrorCode::InvalidArgument,
                "blind-watermark: method_hide is not allowed",
            ),
            (
                "image/blind-watermark,method_embed,mode_2",
                ErrorCode::InvalidArgument,
                "blind-watermark: mode_2 is out of range",
            ),
            (
                "image/blind-watermark,method_embed,mode_1",
                ErrorCode::MissingArgument,
                "blind-watermark: mode_1 embedding needs text",
            ),
            (
                "image/blind-watermark,method_embed,mode_0",
                ErrorCode::MissingArgument,
                "blind-watermark: mode_0 embedding needs image",
            ),
            (
                "image/blind-watermark,method_embed,mode_1,text_!!!",
                ErrorCode::InvalidArgument,
                "blind-watermark: text_!!! is not URL-safe Base64",
            ),
            (
                "image/blind-watermark,method_embed,mode_1,text_",
                ErrorCode::InvalidArgument,
                "blind-watermark: text_ decodes to nothing",
            ),
            (
                // 101 x 'a'
                "image/blind-watermark,method_embed,mode_1,text_YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE",
                ErrorCode::InvalidArgument,
                "blind-watermark: text_ decodes to 101 characters, at most 100",
            ),
            (
                // "ä"
                "image/blind-watermark,method_embed,mode_1,text_w6Q",
                ErrorCode::InvalidArgument,
                "blind-watermark: text_w6Q must be digits, letters and common symbols",
            ),
            (
                "image/blind-watermark,method_embed,mode_1,text_aGk,image_YS5wbmc",
                ErrorCode::InvalidArgument,
                "blind-watermark: image goes with mode_0",
            ),
            (
                "image/blind-watermark,method_embed,mode_0,image_YS5wbmc,text_aGk",
                ErrorCode::InvalidArgument,
                "blind-watermark: text goes with mode_1",
            ),
            (
                "image/blind-watermark,method_embed,mode_0,image_YS5wbmc,bucket_No_Such",
                ErrorCode::InvalidArgument,
                "blind-watermark: bucket_No_Such is not a bucket name",
            ),
            (
                "image/blind-watermark,method_embed,mode_0,image_",
                ErrorCode::InvalidArgument,
                "blind-watermark: image_ must name an object key",
            ),
            (
                "image/blind-watermark,method_extract,mode_1,text_aGk",
                ErrorCode::InvalidArgument,
                "blind-watermark: text goes with method_embed",
            ),
            (
                "image/blind-watermark,method_extract,mode_1,algorithm_1",
                ErrorCode::InvalidArgument,
                "blind-watermark: unknown key 'algorithm'",
            ),
            (
                "image/blind-watermark,method_extract,mode_1/resize,w_100",
                ErrorCode::InvalidArgument,
                "blind-watermark: method_extract must be the last action",
            ),
            (
                "image/format,f_png/blind-watermark,method_extract,mode_0",
                ErrorCode::InvalidArgument,
                "blind-watermark: method_extract answers with the mark (JSON or PNG); format does not apply",
            ),
            (
                "image/blind-watermark,method_embed,mode_1,text_aGk,mode_0",
                ErrorCode::InvalidArgument,
                "blind-watermark: key 'mode' is given more than once",
            ),
            (
                "image/watermark",
                ErrorCode::MissingArgument,
                "watermark: needs image or text",
            ),
            (
                "image/watermark,text_aGk,g_10",
                ErrorCode::InvalidArgument,
                "watermark: g_10 is out of range",
            ),
            (
                "image/watermark,text_aGk,t_0",
                ErrorCode::InvalidArgument,
                "watermark: t_0 is out of range",
            ),
            (
                "image/watermark,text_aGk,x_4097",
                ErrorCode::InvalidArgument,
                "watermark: x_4097 is out of range",
            ),
            (
                "image/watermark,text_aGk,y_-4097",
                ErrorCode::InvalidArgument,
                "watermark: y_-4097 is out of range",
            ),
            (
                "image/watermark,text_aGk,voffset_1001",
                ErrorCode::InvalidArgument,
                "watermark: voffset_1001 is out of range",
            ),
            (
                "image/watermark,text_aGk,a_361",
                ErrorCode::InvalidArgument,
                "watermark: a_361 is out of range",
            ),
            (
                "image/watermark,text_aGk,a_1,rotate_2",
                ErrorCode::InvalidArgument,
                "watermark: give a or rotate",
            ),
            (
                "image/watermark,text_aGk,size_0",
                ErrorCode::InvalidArgument,
                "watermark: size_0 is out of range",
            ),
            (
                "image/watermark,text_aGk,size_1025",
                ErrorCode::InvalidArgument,
                "watermark: size_1025 is out of range",
            ),
            (
                "image/watermark,text_aGk,color_red",
                ErrorCode::InvalidArgument,
                "watermark: color_red is not a colour",
            ),
            (
                "image/watermark,text_aGk,skc_12345",
                ErrorCode::InvalidArgument,
                "watermark: skc_12345 is not a colour",
            ),
            (
                "image/watermark,text_aGk,shc_1234567",
                ErrorCode::InvalidArgument,
                "watermark: shc_1234567 is not a colour",
            ),
            (
                "image/watermark,text_aGk,style_oblique",
                ErrorCode::InvalidArgument,
                "watermark: style_oblique is not allowed",
            ),
            (
                "image/watermark,text_aGk,skw_0",
                ErrorCode::InvalidArgument,
                "watermark: skw_0 is out of range",
            ),
            (
                "image/watermark,text_aGk,effect_glow",
                ErrorCode::InvalidArgument,
                "watermark: effect_glow is not allowed",
            ),
            (
                "image/watermark,text_aGk,effect_hardshadow,shx_11",
                ErrorCode::InvalidArgument,
                "watermark: shx_11 is out of range",
            ),
            (
                "image/watermark,text_aGk,shy_2",
                ErrorCode::MissingArgument,
                "watermark: shx and shy need effect_hardshadow",
            ),
            (
                "image/watermark,text_aGk,blr_2",
                ErrorCode::MissingArgument,
                "watermark: blr and bls need",
            ),
            (
                "image/watermark,text_aGk,effect_softoutline,bls_51",
                ErrorCode::InvalidArgument,
                "watermark: bls_51 is out of range",
            ),
            (
                "image/watermark,text_aGk,effect_softoutline,shadow_5",
                ErrorCode::InvalidArgument,
                "watermark: shadow goes with effect_hardshadow",
            ),
            (
                "image/watermark,text_aGk,shadow_101",
                ErrorCode::InvalidArgument,
                "watermark: shadow_101 is out of range",
            ),
            (
                "image/watermark,text_aGk,fill_2",
                ErrorCode::InvalidArgument,
                "watermark: fill_2 is out of range",
            ),
            (
                "image/watermark,text_aGk,layout_grid",
                ErrorCode::InvalidArgument,
                "watermark: layout_grid is not allowed",
            ),
            (
                "image/watermark,text_!!!",
                ErrorCode::InvalidArgument,
                "watermark: text_!!! is not URL-safe Base64",
            ),
            (
                "image/watermark,text_",
                ErrorCode::InvalidArgument,
                "watermark: text_ decodes to nothing",
            ),
            (
                "image/watermark,text_Cg",
                ErrorCode::InvalidArgument,
                "watermark: text_Cg holds control characters",
            ),
            (
                "image/watermark,text__w",
                ErrorCode::InvalidArgument,
                "watermark: text__w is not UTF-8",
            ),
            (
                "image/watermark,size_20",
                ErrorCode::MissingArgument,
                "watermark: needs image or text",
            ),
            (
                "image/watermark,image_YS5wbmc,size_20",
                ErrorCode::MissingArgument,
                "watermark: size needs text",
            ),
            (
                "image/watermark,text_aGk,P_20",
                ErrorCode::MissingArgument,
                "watermark: P needs image",
            ),
            (
                "image/watermark,text_aGk,bucket_demo",
                ErrorCode::MissingArgument,
                "watermark: bucket needs image",
            ),
            (
                "image/watermark,image_YS5wbmc,P_0",
                ErrorCode::InvalidArgument,
                "watermark: P_0 is out of range",
            ),
            (
                "image/watermark,image_YS5wbmc,P_101",
                ErrorCode::InvalidArgument,
                "watermark: P_101 is out of range",
            ),
            (
                "image/watermark,image_YS5wbmc,bucket_No_Such",
                ErrorCode::InvalidArgument,
                "watermark: bucket_No_Such is not a bucket name",
            ),
            (
                "image/watermark,image_YS5wbmc,order_1",
                ErrorCode::MissingArgument,
                "watermark: order needs both image and text",
            ),
            (
                "image/watermark,image_YS5wbmc,text_aGk,align_3",
                ErrorCode::InvalidArgument,
                "watermark: align_3 is out of range",
            ),
            (
                "image/watermark,image_YS5wbmc,text_aGk,interval_1001",
                ErrorCode::InvalidArgument,
                "watermark: interval_1001 is out of range",
            ),
            (
                "image/watermark,image_YS5wbmc,zz_1",
                ErrorCode::InvalidArgument,
                "watermark: unknown key 'zz'",
            ),
            (
                "image/watermark,image_YS5wbmc,image_YS5wbmc",
                ErrorCode::InvalidArgument,
                "watermark: key 'image' is given more than once",
            ),
            (
                // a.png?x-bce-process=image/resize,w_0
                "image/watermark,image_YS5wbmc_eC1iY2UtcHJvY2Vzcz1pbWFnZS9yZXNpemUsd18w",
                ErrorCode::InvalidArgument,
                "watermark: the watermark object's command: resize: w_0 is out of range",
            ),
            (
                // a.png?x-bce-process=image/watermark,text_aGk
                "image/watermark,image_YS5wbmc_eC1iY2UtcHJvY2Vzcz1pbWFnZS93YXRlcm1hcmssdGV4dF9hR2s",
                ErrorCode::InvalidArgument,
                "watermark: the watermark object's command may not hold watermark",
            ),
        ];
        for (cmd, code, needle) in cases {
            let err = parse(cmd).expect_err(cmd);
            assert_eq!(err.code, *code, "{cmd}: {err}");
            assert!(
                err.message.contains(needle),
                "{cmd}: '{}' lacks '{needle}'",
                err.message
            );
        }
    }

    #[test]
    fn at_most_sixteen_actions() {
        let ok = vec!["quality,q_90"; 16].join("/");
        assert!(parse(&format!("image/{ok}")).is_ok());
        let too_many = vec!["quality,q_90"; 17].join("/");
        let err = parse(&format!("image/{too_many}")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("17 actions"));
    }

    #[test]
    fn values_may_hold_underscores_and_padding() {
        let raw = RawAction::split("watermark,text_aGVsbG8_d29y==,t_50").unwrap();
        assert_eq!(raw.params["text"], "aGVsbG8_d29y==");
        assert_eq!(raw.params["t"], "50");
    }

    #[test]
    fn styles_resolve_from_config() {
        let mut styles = Styles::new();
        styles.insert("thumb", "image/resize,m_lfit,w_200,h_200");
        styles.insert("bare", "resize,w_10");
        let c = Command::parse("style/thumb", &styles).unwrap();
        assert_eq!(c.normalized, "image/resize,h_200,m_lfit,w_200");
        assert!(Command::parse("style/bare", &styles).is_ok());
        let err = Command::parse("style/nope", &styles).unwrap_err();
        assert_eq!(err.code, ErrorCode::NoSuchStyle);
        assert_eq!(err.http_status(), 404);
        let err = Command::parse("style/_bad", &styles).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn style_names() {
        assert!(is_valid_style_name("thumb_200"));
        assert!(!is_valid_style_name("_x"));
        assert!(!is_valid_style_name(""));
        assert!(!is_valid_style_name("a-b"));
        assert!(!is_valid_style_name(&"a".repeat(65)));
        assert!(is_valid_style_name(&"a".repeat(64)));
    }
}
