//! The watermark family: `watermark` with an image (§4.20), a text (§4.21) or
//! both (§4.22). This module parses and validates the keys and names the
//! objects a watermark needs (the watermark image and non-built-in fonts);
//! the pixels are made in [`crate::raster::watermark`].
//!
//! | group | key | range | default | meaning |
//! |---|---|---|---|---|
//! | image | `image` | URL-safe Base64 of an object key, optionally `?x-bce-process=image/...` | – | watermark object (its own command runs first) |
//! | image | `bucket` | bucket name | the request's bucket | bucket holding the watermark object |
//! | image | `P` | 1–100 % | 20 | the watermark is scaled (aspect kept, up or down) to fit `P` % of the base's width and height |
//! | text | `text` | URL-safe Base64 of UTF-8, ≤ 200 characters encoded | – | the text (one line) |
//! | text | `type` | URL-safe Base64 of a font name | built-in Open Sans | font: `OpenSans` or a name from the `fonts` config |
//! | text | `size` | 1–1024 px | 30 | font size (em height) |
//! | text | `color` | `RRGGBB[AA]` | `000000` | colour; `AA` is transparency (00 opaque, FF invisible), as the spec reads BOS |
//! | text | `style` | `normal`, `italic`, `bold` | `normal` | synthetic slant (0.2) or emboldening |
//! | text | `skw` | 1–1024 px | none | outline (stroke) width |
//! | text | `skc` | `RRGGBB[AA]` | `000000` | outline colour |
//! | text | `effect` | `hardshadow`, `softoutline` | none | a shadow copy, or a blurred halo under the text |
//! | text | `shx`, `shy` | 0–10 px | 2 | shadow offset (right, down) |
//! | text | `shc` | `RRGGBB[AA]` | `000000` | shadow / halo colour |
//! | text | `shadow` | 0–100 % | – | [OSS] shadow opacity; implies `effect_hardshadow` |
//! | text | `blr`, `bls` | 1–50 | 3, 2 | blur radius and sigma of the outline / halo |
//! | common | `t` | 1–100 % | 100 | opacity of the whole watermark (100 = opaque) |
//! | common | `g` | 1–9 | 9 | anchor: 1 2 3 top row, 4 5 6 middle, 7 8 9 bottom |
//! | common | `x`, `y` | −4096–4096 px | 10 from an edge, 0 on a centre line | offsets inward from the anchored edges; on a centre line a shift right / down |
//! | common | `voffset` | −1000–1000 px | 0 | [OSS] extra vertical shift (down) for the middle row (`g` 4–6) |
//! | common | `a` (or [OSS] `rotate`) | −360–360 ° | 0 | clockwise rotation of the watermark, canvas grows |
//! | common | `fill` (or `layout_tile`) | 0, 1 | 0 | tile the watermark over the whole image |
//! | mixed | `order` | 0, 1 | 0 | 0 image first, 1 text first |
//! | mixed | `align` | 0, 1, 2 | 2 | text against the image: top, centre, bottom |
//! | mixed | `interval` | 0–1000 px | 0 | gap between image and text |
//!
//! CLONE DECISIONS (the spec is silent or unconfirmed): an unknown font is a
//! 400 naming it (BOS falls back to Song); the mixed-layout keys need both an
//! image and a text; the watermark object's own command may not contain a
//! watermark, `info` or `detect`; the text effects are accepted on a text-only
//! watermark too; when tiled, `g` is ignored and tiles repeat every watermark
//! size plus `x` (horizontally) and `y` (vertically), starting at the top-left.

use super::{Step, StepCost};
use crate::budget::Work;
use crate::command::{Action, Command, Params, Styles};
use crate::error::{ErrorCode, ProcessError, Result};
use crate::limits::MAX_OUTPUT_SIDE;
use crate::raster::watermark::{
    anchor_position, composite, mixed_layout, render_text, tile_positions,
};
pub(crate) use crate::raster::watermark::{Align, FontStyle, TextEffect, TextPart, DEFAULT_FONT};
use crate::raster::{rotated_size, Raster};
use base64::Engine;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The font used when `type` is absent, built into the module.
pub(crate) const DEFAULT_FONT_NAME: &str = "OpenSans";

/// Longest `text_` value, in Base64 characters (spec §4.21).
pub(crate) const MAX_TEXT_BASE64: usize = 200;

/// An object in a bucket, addressed path-style as `/<bucket>/<key>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl ObjectRef {
    /// Parses `bucket/key` (the form used in the `fonts` config).
    pub fn parse(path: &str) -> Option<ObjectRef> {
        let (bucket, key) = path.trim_start_matches('/').split_once('/')?;
        (is_valid_bucket(bucket) && !key.is_empty()).then(|| ObjectRef {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// The request path for the object: `/<bucket>/<key>`, the key
    /// percent-encoded except for `/` and the unreserved characters.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn path(&self) -> String {
        const KEY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'/')
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        format!(
            "/{}/{}",
            self.bucket,
            percent_encoding::utf8_percent_encode(&self.key, KEY)
        )
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.bucket, self.key)
    }
}

/// BOS bucket names: 3–63 characters of `[a-z0-9-]`, starting and ending
/// with a letter or digit.
pub(crate) fn is_valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The image part of a watermark.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ImagePart {
    /// `bucket_`: `None` means the request's own bucket.
    pub(crate) bucket: Option<String>,
    /// The object key (decoded, without the `?x-bce-process=` suffix).
    pub(crate) key: String,
    /// The watermark object's own command, run on it first.
    pub(crate) process: Option<Box<Command>>,
    /// `P`: the watermark fits this percentage of the base's width and height.
    pub(crate) scale_percent: u32,
}

impl ImagePart {
    /// The object, given the request's bucket.
    pub(crate) fn object(&self, request_bucket: &str) -> ObjectRef {
        ObjectRef {
            bucket: self
                .bucket
                .clone()
                .unwrap_or_else(|| request_bucket.to_string()),
            key: self.key.clone(),
        }
    }
}

/// A validated `watermark` action.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WatermarkSpec {
    pub(crate) image: Option<ImagePart>,
    pub(crate) text: Option<TextPart>,
    /// `t`: opacity of the whole watermark in percent, 1–100.
    pub(crate) opacity: u32,
    /// `g`: 1–9.
    pub(crate) gravity: u8,
    /// `x`, `y` as given (px); `None` takes the default of the anchor.
    pub(crate) x: Option<i32>,
    pub(crate) y: Option<i32>,
    /// `voffset` in px (down), middle row only.
    pub(crate) voffset: i32,
    /// `a`: clockwise degrees.
    pub(crate) angle: i32,
    /// `fill_1`: tile over the whole image.
    pub(crate) tile: bool,
    /// `order_1`: text before the image.
    pub(crate) text_first: bool,
    pub(crate) align: Align,
    /// `interval` in px.
    pub(crate) interval: u32,
}

impl WatermarkSpec {
    pub(crate) fn parse(params: &mut Params<'_>) -> Result<WatermarkSpec> {
        let action = params.action();
        params.require_any(&["image", "text"])?;
        let image = match params.take("image") {
            Some(raw) => Some(parse_image(params, raw)?),
            None => {
                for key in ["bucket", "P"] {
                    if params.take(key).is_some() {
                        return Err(ProcessError::missing(format!(
                            "{action}: {key} needs image"
                        )));
                    }
                }
                None
            }
        };
        let text = match params.take("text") {
            Some(raw) => Some(parse_text(params, raw)?),
            None => {
                const TEXT_KEYS: &[&str] = &[
                    "type", "size", "color", "style", "skw", "skc", "effect", "shx", "shy", "shc",
                    "shadow", "blr", "bls",
                ];
                if let Some(key) = TEXT_KEYS.iter().find(|k| params.take(k).is_some()) {
                    return Err(ProcessError::missing(format!("{action}: {key} needs text")));
                }
                None
            }
        };
        let opacity = params.take_int("t", 1, 100)?.unwrap_or(100) as u32;
        let gravity = params.take_int("g", 1, 9)?.unwrap_or(9) as u8;
        let x = params.take_int("x", -4096, 4096)?.map(|v| v as i32);
        let y = params.take_int("y", -4096, 4096)?.map(|v| v as i32);
        let voffset = params.take_int("voffset", -1000, 1000)?.unwrap_or(0) as i32;
        let a = params.take_int("a", -360, 360)?;
        let rotate = params.take_int("rotate", -360, 360)?;
        if a.is_some() && rotate.is_some() {
            return Err(ProcessError::invalid(format!(
                "{action}: give a or rotate, not both"
            )));
        }
        let angle = a.or(rotate).unwrap_or(0) as i32;
        let fill = params.take_int("fill", 0, 1)? == Some(1);
        let layout = params.take_enum("layout", &[("tile", true), ("normal", false)])?;
        let tile = fill || layout == Some(true);
        let both = image.is_some() && text.is_some();
        let mut mixed = |key: &str, min: i64, max: i64| -> Result<Option<i64>> {
            let v = params.take_int(key, min, max)?;
            if v.is_some() && !both {
                return Err(ProcessError::missing(format!(
                    "{action}: {key} needs both image and text"
                )));
            }
            Ok(v)
        };
        let text_first = mixed("order", 0, 1)? == Some(1);
        let align = match mixed("align", 0, 2)?.unwrap_or(2) {
            0 => Align::Top,
            1 => Align::Centre,
            _ => Align::Bottom,
        };
        let interval = mixed("interval", 0, 1000)?.unwrap_or(0) as u32;
        Ok(WatermarkSpec {
            image,
            text,
            opacity,
            gravity,
            x,
            y,
            voffset,
            angle,
            tile,
            text_first,
            align,
            interval,
        })
    }

    /// The objects this watermark needs fetched, given the request's bucket
    /// and the configured fonts (name → object). An unknown font is a 400.
    pub(crate) fn objects(
        &self,
        request_bucket: &str,
        fonts: &BTreeMap<String, ObjectRef>,
    ) -> Result<Vec<ObjectRef>> {
        let mut out = Vec::new();
        if let Some(image) = &self.image {
            out.push(image.object(request_bucket));
        }
        if let Some(name) = self.text.as_ref().and_then(|t| t.font.as_deref()) {
            match font_source(name, fonts)? {
                FontSource::BuiltIn => {}
                FontSource::Object(o) => out.push(o.clone()),
            }
        }
        Ok(out)
    }
}

/// Where a font's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FontSource<'a> {
    BuiltIn,
    Object(&'a ObjectRef),
}

/// Resolves a `type_` font name: the built-in name, or a configured font.
pub(crate) fn font_source<'a>(
    name: &str,
    fonts: &'a BTreeMap<String, ObjectRef>,
) -> Result<FontSource<'a>> {
    if let Some(object) = fonts.get(name) {
        return Ok(FontSource::Object(object));
    }
    if name == DEFAULT_FONT_NAME {
        return Ok(FontSource::BuiltIn);
    }
    let mut known: Vec<&str> = fonts.keys().map(String::as_str).collect();
    known.push(DEFAULT_FONT_NAME);
    known.sort_unstable();
    Err(ProcessError::invalid(format!(
        "watermark: font '{name}' (type) is not available (known: {})",
        known.join(", ")
    )))
}

/// Decodes URL-safe Base64, padded or not (standard `+` is accepted too).
pub(crate) fn decode_base64url(action: &str, key: &str, raw: &str) -> Result<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let normalized: String = raw
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, config)
        .decode(normalized.as_bytes())
        .map_err(|_| ProcessError::invalid(format!("{action}: {key}_{raw} is not URL-safe Base64")))
}

fn decode_utf8(action: &str, key: &str, raw: &str) -> Result<String> {
    let bytes = decode_base64url(action, key, raw)?;
    let s = String::from_utf8(bytes)
        .map_err(|_| ProcessError::invalid(format!("{action}: {key}_{raw} is not UTF-8 text")))?;
    if s.is_empty() {
        return Err(ProcessError::invalid(format!(
            "{action}: {key}_ decodes to nothing"
        )));
    }
    Ok(s)
}

fn parse_image(params: &mut Params<'_>, raw: &str) -> Result<ImagePart> {
    let action = params.action();
    let decoded = decode_utf8(action, "image", raw)?;
    let (key, query) = match decoded.split_once('?') {
        Some((k, q)) => (k, Some(q)),
        None => (decoded.as_str(), None),
    };
    let key = key.trim_start_matches('/');
    if key.is_empty() || key.len() > 1024 {
        return Err(ProcessError::invalid(format!(
            "{action}: image_{raw} names no object key (1-1024 bytes)"
        )));
    }
    let process = match query {
        None => None,
        Some(q) => Some(Box::new(parse_own_command(action, q)?)),
    };
    let bucket = match params.take("bucket") {
        None => None,
        Some(b) if is_valid_bucket(b) => Some(b.to_string()),
        Some(b) => {
            return Err(ProcessError::invalid(format!(
                "{action}: bucket_{b} is not a bucket name (3-63 of a-z, 0-9, -)"
            )))
        }
    };
    let scale_percent = params.take_int("P", 1, 100)?.unwrap_or(20) as u32;
    Ok(ImagePart {
        bucket,
        key: key.to_string(),
        process,
        scale_percent,
    })
}

/// The watermark object's own `x-bce-process=image/...` (spec §4.20).
fn parse_own_command(action: &str, query: &str) -> Result<Command> {
    let value = query
        .split('&')
        .find_map(|p| p.strip_prefix("x-bce-process="))
        .ok_or_else(|| {
            ProcessError::invalid(format!(
                "{action}: the image key's query '{query}' has no x-bce-process"
            ))
        })?;
    let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
    let command = Command::parse(&value, &Styles::new()).map_err(|e| {
        ProcessError::new(
            e.code,
            format!("{action}: the watermark object's command: {}", e.message),
        )
    })?;
    if command
        .actions
        .iter()
        .any(|a| matches!(a, Action::Watermark(_)) || a.is_inspection())
    {
        return Err(ProcessError::invalid(format!(
            "{action}: the watermark object's command may not hold watermark, info or detect"
        )));
    }
    Ok(command)
}

/// Parses `RRGGBB` or `RRGGBBAA` where `AA` is transparency (spec §4.21);
/// returns straight RGBA with alpha = opacity.
pub(crate) fn parse_color(action: &str, key: &str, raw: &str) -> Result<[u8; 4]> {
    let bad = || {
        ProcessError::invalid(format!(
            "{action}: {key}_{raw} is not a colour (expected RRGGBB or RRGGBBAA)"
        ))
    };
    if !(raw.len() == 6 || raw.len() == 8) || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let byte = |i: usize| u8::from_str_radix(&raw[i..i + 2], 16).map_err(|_| bad());
    let transparency = if raw.len() == 8 { byte(6)? } else { 0 };
    Ok([byte(0)?, byte(2)?, byte(4)?, 255 - transparency])
}

fn parse_text(params: &mut Params<'_>, raw: &str) -> Result<TextPart> {
    let action = params.action();
    if raw.len() > MAX_TEXT_BASE64 {
        return Err(ProcessError::invalid(format!(
            "{action}: text_ is {} characters, at most {MAX_TEXT_BASE64} are allowed (encoded)",
            raw.len()
        )));
    }
    let text = decode_utf8(action, "text", raw)?;
    if text.chars().any(char::is_control) {
        return Err(ProcessError::invalid(format!(
            "{action}: text_{raw} holds control characters (one line of text only)"
        )));
    }
    let font = match params.take("type") {
        Some(t) => Some(decode_utf8(action, "type", t)?),
        None => None,
    };
    let size = params.take_int("size", 1, 1024)?.unwrap_or(30) as u32;
    let color = match params.take("color") {
        Some(c) => parse_color(action, "color", c)?,
        None => [0, 0, 0, 255],
    };
    let style = params
        .take_enum(
            "style",
            &[
                ("normal", FontStyle::Normal),
                ("italic", FontStyle::Italic),
                ("bold", FontStyle::Bold),
            ],
        )?
        .unwrap_or(FontStyle::Normal);
    let stroke_width = params.take_int("skw", 1, 1024)?.unwrap_or(0) as u32;
    let stroke_color = match params.take("skc") {
        Some(c) => parse_color(action, "skc", c)?,
        None => [0, 0, 0, 255],
    };
    let mut effect = params.take_enum(
        "effect",
        &[
            ("hardshadow", TextEffect::HardShadow),
            ("softoutline", TextEffect::SoftOutline),
        ],
    )?;
    let shx = params.take_int("shx", 0, 10)?;
    let shy = params.take_int("shy", 0, 10)?;
    let mut shadow_color = match params.take("shc") {
        Some(c) => parse_color(action, "shc", c)?,
        None => [0, 0, 0, 255],
    };
    if let Some(percent) = params.take_int("shadow", 0, 100)? {
        if effect == Some(TextEffect::SoftOutline) {
            return Err(ProcessError::invalid(format!(
                "{action}: shadow goes with effect_hardshadow, not softoutline"
            )));
        }
        effect = Some(TextEffect::HardShadow);
        shadow_color[3] = (u32::from(shadow_color[3]) * percent as u32 / 100) as u8;
    }
    if (shx.is_some() || shy.is_some()) && effect != Some(TextEffect::HardShadow) {
        return Err(ProcessError::missing(format!(
            "{action}: shx and shy need effect_hardshadow"
        )));
    }
    let blr = params.take_int("blr", 1, 50)?;
    let bls = params.take_int("bls", 1, 50)?;
    if (blr.is_some() || bls.is_some())
        && effect != Some(TextEffect::SoftOutline)
        && stroke_width == 0
    {
        return Err(ProcessError::missing(format!(
            "{action}: blr and bls need effect_softoutline or skw"
        )));
    }
    Ok(TextPart {
        text,
        font,
        size,
        color,
        style,
        stroke_width,
        stroke_color,
        effect,
        shadow_offset: (shx.unwrap_or(2) as u32, shy.unwrap_or(2) as u32),
        shadow_color,
        blur: (blr.unwrap_or(3) as u32, bls.unwrap_or(2) as u32),
    })
}

/// What a request supplies for its watermarks: the request's bucket, the
/// configured fonts and the bytes of every fetched object.
#[derive(Clone, Default)]
pub struct Resources {
    /// Where a watermark image without `bucket_` lives (the request's bucket).
    pub bucket: String,
    /// Font name → the object holding the font (the `fonts` config).
    pub fonts: BTreeMap<String, ObjectRef>,
    /// Fetched objects.
    pub objects: BTreeMap<ObjectRef, Arc<[u8]>>,
}

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resources")
            .field("bucket", &self.bucket)
            .field("fonts", &self.fonts)
            .field(
                "objects",
                &self
                    .objects
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.len()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Resources {
    /// The bytes of `object`, or the client error for a missing object.
    pub(crate) fn object(&self, object: &ObjectRef) -> Result<Arc<[u8]>> {
        self.objects
            .get(object)
            .cloned()
            .ok_or_else(|| missing_object(object))
    }
}

/// A watermark ready to draw: its spec, its font's bytes, and the overlay
/// (the watermark image, rendered by the pipeline) it draws. A [`Step`].
#[derive(Clone, PartialEq)]
pub(crate) struct WatermarkJob {
    spec: WatermarkSpec,
    /// `None`: the built-in font.
    font: Option<Arc<[u8]>>,
    /// The index of the watermark image among the plan's overlays.
    overlay: Option<usize>,
}

impl std::fmt::Debug for WatermarkJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatermarkJob")
            .field("spec", &self.spec)
            .field("font_bytes", &self.font.as_ref().map(|b| b.len()))
            .field("overlay", &self.overlay)
            .finish()
    }
}

impl WatermarkJob {
    /// Finds the font of `spec` in `resources`; `overlay` is where the
    /// pipeline admitted the watermark image (when `spec` has one).
    pub(crate) fn plan(
        spec: &WatermarkSpec,
        resources: &Resources,
        overlay: Option<usize>,
    ) -> Result<Self> {
        if spec.image.is_some() != overlay.is_some() {
            return Err(ProcessError::internal(
                "watermark: image and overlay disagree",
            ));
        }
        let font = match spec.text.as_ref().and_then(|t| t.font.as_deref()) {
            None => None,
            Some(name) => match font_source(name, &resources.fonts)? {
                FontSource::BuiltIn => None,
                FontSource::Object(o) => Some(resources.object(o)?),
            },
        };
        Ok(WatermarkJob {
            spec: spec.clone(),
            font,
            overlay,
        })
    }

    /// Draws the watermark on `base` (same size out); `image` is the
    /// rendered watermark image (RGBA), when the watermark has one.
    pub(crate) fn apply(&self, base: Raster, image: Option<&Raster>) -> Result<Raster> {
        let spec = &self.spec;
        let (bw, bh) = base.size();
        let image = match (&spec.image, image) {
            (Some(part), Some(raster)) => {
                let (w, h) = fit_percent(raster.size(), (bw, bh), part.scale_percent);
                Some(if (w, h) == raster.size() {
                    raster.clone()
                } else {
                    raster.resize(w, h)?
                })
            }
            (None, None) => None,
            _ => {
                return Err(ProcessError::internal(
                    "watermark: the image was not rendered",
                ))
            }
        };
        let text = match &spec.text {
            Some(part) => Some(render_text(
                part,
                self.font.as_deref().unwrap_or(DEFAULT_FONT),
            )?),
            None => None,
        };
        let mark = match (image, text) {
            (Some(i), Some(t)) => mixed_layout(&i, &t, spec.text_first, spec.align, spec.interval)?,
            (Some(i), None) => i,
            (None, Some(t)) => t,
            (None, None) => return Ok(base),
        };
        let mark = if spec.angle.rem_euclid(360) == 0 {
            mark
        } else {
            let (w, h) = rotated_size(mark.size(), spec.angle);
            if w.max(h) > MAX_OUTPUT_SIDE {
                return Err(ProcessError::too_large(format!(
                    "watermark: the turned watermark would be {w}x{h} px, at most {MAX_OUTPUT_SIDE} are allowed on a side"
                )));
            }
            mark.rotate(spec.angle, [0, 0, 0, 0])
        };
        let positions = if spec.tile {
            tile_positions(
                (bw, bh),
                mark.size(),
                spec.x.unwrap_or(10),
                spec.y.unwrap_or(10),
            )
        } else {
            vec![anchor_position(
                (bw, bh),
                mark.size(),
                spec.gravity,
                spec.x,
                spec.y,
                spec.voffset,
            )]
        };
        let mut base = base;
        for (left, top) in positions {
            composite(&mut base, &mark, left, top, spec.opacity);
        }
        Ok(base)
    }
}

impl Step for WatermarkJob {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        input
    }
    fn run(&self, raster: Raster, overlays: &[Raster]) -> Result<Raster> {
        let image = match self.overlay {
            Some(index) => Some(
                overlays
                    .get(index)
                    .ok_or_else(|| ProcessError::internal("watermark: overlay missing"))?,
            ),
            None => None,
        };
        self.apply(raster, image)
    }
    fn cost(&self) -> Option<StepCost> {
        StepCost::once(Work::Watermark, "watermark")
    }
}

/// The size of a `mark` scaled (aspect kept, up or down) to fit `percent` %
/// of `base`'s width and height; each side at least 1 px.
pub(crate) fn fit_percent(mark: (u32, u32), base: (u32, u32), percent: u32) -> (u32, u32) {
    let (mw, mh) = (u64::from(mark.0), u64::from(mark.1));
    let bx = (u64::from(base.0) * u64::from(percent) / 100).max(1);
    let by = (u64::from(base.1) * u64::from(percent) / 100).max(1);
    let (w, h) = if mw * by >= mh * bx {
        (bx, (mh * bx * 2 + mw) / (2 * mw))
    } else {
        ((mw * by * 2 + mh) / (2 * mh), by)
    };
    (w.max(1) as u32, h.max(1) as u32)
}

/// The error for a watermark object the storage does not have.
pub(crate) fn missing_object(object: &ObjectRef) -> ProcessError {
    ProcessError::new(
        ErrorCode::NoSuchKey,
        format!("watermark: object '{object}' does not exist"),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::command::Styles;

    /// Also used by `pipeline::watermark_tests`.
    pub(crate) fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE.encode(s)
    }

    pub(crate) fn spec(cmd: &str) -> Result<WatermarkSpec> {
        let c = Command::parse(&format!("image/{cmd}"), &Styles::new())?;
        match c.actions.into_iter().next() {
            Some(Action::Watermark(w)) => Ok(*w),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn image_watermark_keys_and_defaults() {
        // The spec's example: bce-documentation/BOS/bce.jpg, 15 %, top-right.
        let w = spec("watermark,image_YmNlLWRvY3VtZW50YXRpb24vQk9TL2JjZS5qcGc=,P_15,g_3").unwrap();
        let image = w.image.unwrap();
        assert_eq!(image.key, "bce-documentation/BOS/bce.jpg");
        assert_eq!(image.scale_percent, 15);
        assert_eq!(image.bucket, None);
        assert_eq!(w.gravity, 3);
        assert_eq!(
            (w.opacity, w.x, w.y, w.angle, w.tile),
            (100, None, None, 0, false)
        );
        // Unpadded Base64, a bucket and every common key.
        let key = b64("logo.png").trim_end_matches('=').to_string();
        let w = spec(&format!(
            "watermark,image_{key},bucket_other-b,t_50,g_5,x_-3,y_4,voffset_7,a_45,fill_1"
        ))
        .unwrap();
        assert_eq!(
            w.image.as_ref().unwrap().object("demo").to_string(),
            "other-b/logo.png"
        );
        assert_eq!(
            (w.opacity, w.gravity, w.x, w.y, w.voffset, w.angle),
            (50, 5, Some(-3), Some(4), 7, 45)
        );
        assert!(w.tile);
        assert_eq!(w.image.unwrap().scale_percent, 20);
    }

    #[test]
    fn image_key_may_carry_its_own_command() {
        let key = b64("wm/logo.png?x-bce-process=image/resize,w_50/rotate,a_90");
        let w = spec(&format!("watermark,image_{key}")).unwrap();
        let image = w.image.unwrap();
        assert_eq!(image.key, "wm/logo.png");
        let own = image.process.unwrap();
        assert_eq!(own.normalized, "image/resize,w_50/rotate,a_90");
    }

    #[test]
    fn text_watermark_keys() {
        let w = spec(&format!(
            "watermark,text_{},type_{},size_40,color_FF000080,style_bold,skw_2,skc_00FF00,effect_hardshadow,shx_3,shy_4,shc_0000FF,g_1",
            b64("Hello, 世界"),
            b64("MyFont")
        ))
        .unwrap();
        let t = w.text.unwrap();
        assert_eq!(t.text, "Hello, 世界");
        assert_eq!(t.font.as_deref(), Some("MyFont"));
        assert_eq!(t.size, 40);
        assert_eq!(t.color, [255, 0, 0, 127], "AA is transparency");
        assert_eq!(t.style, FontStyle::Bold);
        assert_eq!((t.stroke_width, t.stroke_color), (2, [0, 255, 0, 255]));
        assert_eq!(t.effect, Some(TextEffect::HardShadow));
        assert_eq!(t.shadow_offset, (3, 4));
        assert_eq!(t.shadow_color, [0, 0, 255, 255]);
        let t = spec(&format!("watermark,text_{}", b64("x")))
            .unwrap()
            .text
            .unwrap();
        assert_eq!(
            (t.size, t.color, t.font.as_deref()),
            (30, [0, 0, 0, 255], None)
        );
        // OSS shadow_ (opacity) implies a hard shadow; rotate_ is a.
        let w = spec(&format!("watermark,text_{},shadow_50,rotate_30", b64("x"))).unwrap();
        assert_eq!(w.angle, 30);
        let t = w.text.unwrap();
        assert_eq!(t.effect, Some(TextEffect::HardShadow));
        assert_eq!(t.shadow_color[3], 127);
        let t = spec(&format!(
            "watermark,text_{},effect_softoutline,blr_5,bls_3",
            b64("x")
        ))
        .unwrap()
        .text
        .unwrap();
        assert_eq!((t.effect, t.blur), (Some(TextEffect::SoftOutline), (5, 3)));
    }

    #[test]
    fn mixed_watermark_layout_keys() {
        let w = spec(&format!(
            "watermark,image_{},text_{},order_1,align_1,interval_8",
            b64("a.png"),
            b64("hi")
        ))
        .unwrap();
        assert!(w.image.is_some() && w.text.is_some());
        assert!(w.text_first);
        assert_eq!((w.align, w.interval), (Align::Centre, 8));
        let w = spec(&format!(
            "watermark,image_{},text_{}",
            b64("a.png"),
            b64("hi")
        ))
        .unwrap();
        assert_eq!(
            (w.text_first, w.align, w.interval),
            (false, Align::Bottom, 0)
        );
    }

    #[test]
    fn fonts_resolve_or_fail_naming_the_font() {
        let mut fonts = BTreeMap::new();
        fonts.insert(
            "wqy".to_string(),
            ObjectRef::parse("fonts-b/wqy.ttc").unwrap(),
        );
        let w = spec(&format!("watermark,text_{},type_{}", b64("x"), b64("wqy"))).unwrap();
        assert_eq!(
            w.objects("demo", &fonts).unwrap(),
            vec![ObjectRef::parse("fonts-b/wqy.ttc").unwrap()]
        );
        let w = spec(&format!(
            "watermark,text_{},type_{}",
            b64("x"),
            b64("OpenSans")
        ))
        .unwrap();
        assert!(w.objects("demo", &fonts).unwrap().is_empty());
        let w = spec(&format!(
            "watermark,text_{},type_{}",
            b64("x"),
            b64("FZLanTingHei")
        ))
        .unwrap();
        let err = w.objects("demo", &fonts).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(
            err.message.contains("font 'FZLanTingHei'"),
            "{}",
            err.message
        );
        let w = spec(&format!(
            "watermark,image_{},text_{}",
            b64("k/a.png"),
            b64("x")
        ))
        .unwrap();
        assert_eq!(
            w.objects("demo", &fonts).unwrap(),
            vec![ObjectRef::parse("demo/k/a.png").unwrap()]
        );
    }

    #[test]
    fn object_paths_are_percent_encoded() {
        let o = ObjectRef {
            bucket: "demo".into(),
            key: "dir/a b+c?.png".into(),
        };
        assert_eq!(o.path(), "/demo/dir/a%20b%2Bc%3F.png");
        assert!(ObjectRef::parse("Bad_Bucket/x").is_none());
        assert!(ObjectRef::parse("demo/").is_none());
    }

    #[test]
    fn colours() {
        assert_eq!(
            parse_color("w", "color", "0A0B0C").unwrap(),
            [10, 11, 12, 255]
        );
        assert_eq!(
            parse_color("w", "color", "0A0B0CFF").unwrap(),
            [10, 11, 12, 0]
        );
        assert!(parse_color("w", "color", "0A0B0").is_err());
        assert!(parse_color("w", "color", "GG0B0C").is_err());
    }
}
