//! `blind-watermark` (spec §4.23): embed an invisible text or image mark, or
//! extract one. This module parses the keys, checks the source limits from the
//! header and names the mark object to fetch; the pixels are in
//! [`crate::raster::blind_watermark`].
//!
//! | key | values | required | meaning |
//! |---|---|---|---|
//! | `method` | `embed`, `extract` | yes | operation |
//! | `mode` | `0` image mark, `1` text mark | yes | kind of mark |
//! | `image` | URL-safe Base64 of an object key | `mode_0` embedding | the mark picture; composited over white, scaled to 64×64 and thresholded at mid-grey |
//! | `bucket` | bucket name | no (the request's bucket) | bucket holding `image` |
//! | `text` | URL-safe Base64 of 1–100 printable ASCII characters | `mode_1` embedding | the mark text |
//!
//! Limits (spec §4.23), checked from the header before decoding: the source
//! is PNG, JPEG or BMP (others → 400 `UnsupportedFormat`); to embed, the image
//! the action sees is more than 512 px on both sides (→ 400 `InvalidArgument`);
//! the mark object is at most 5 MB (→ 400 `ImageTooLarge`).
//! CLONE DECISION: extraction accepts images of at least 128 px a side, so a
//! marked image that was scaled down (to half size or less) can be read.
//!
//! CLONE DECISIONS (the spec is silent or unconfirmed):
//! * One algorithm for both modes; BOS's unconfirmed algorithm selector
//!   (0/1) is not accepted (an unknown key is a 400).
//! * The action runs where it appears: `resize,w_800/blind-watermark,...`
//!   marks the 800 px image. `method_extract` must be the last action; it
//!   reads the image the actions before it made and answers `{"text":"..."}`
//!   (`application/json`, `""` when no mark is found) for `mode_1`, and the
//!   64×64 recovered mark as a black-on-white PNG for `mode_0` (always a
//!   picture; noise when there is no mark). `format`, `quality`,
//!   `interlace` and `strip` do not go with `method_extract`.
//! * Text is limited to printable ASCII (0x20–0x7E), the spec's "digits,
//!   letters, common symbols".

use super::watermark::{decode_base64url, is_valid_bucket, ObjectRef};
use super::{Step, StepCost};
use crate::budget::Work;
use crate::codec::{self, ImageFormat, SourceInfo};
use crate::command::Params;
use crate::error::{ErrorCode, ProcessError, Result};
use crate::raster::blind_watermark as bw;
use crate::raster::Raster;

/// The action's name in messages.
const ACTION: &str = "blind-watermark";

/// Largest mark object, in bytes (spec §4.23: 5 MB).
pub const MAX_MARK_BYTES: usize = 5 * 1024 * 1024;
/// Both sides of the image must be larger than this, in px (spec §4.23).
pub const MIN_SIDE_EXCLUSIVE: u32 = 512;

/// Extraction needs at least this many px on both sides (2 px per cell of
/// the 64×64 grid): a mark embedded at ≥ 513 px is still read at a quarter of
/// that size.
pub const MIN_EXTRACT_SIDE: u32 = 128;

/// `method_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlindMethod {
    Embed,
    Extract,
}

/// `mode_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlindMode {
    /// `mode_0`: a 64×64 binary picture.
    Image,
    /// `mode_1`: a text.
    Text,
}

/// What an embedding writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlindPayload {
    /// Nothing (`method_extract`).
    None,
    /// `text_`: 1–100 printable ASCII characters.
    Text(String),
    /// `image_` (+ `bucket_`; `None` is the request's bucket).
    Image { bucket: Option<String>, key: String },
}

/// A validated `blind-watermark` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlindWatermarkSpec {
    pub(crate) method: BlindMethod,
    pub(crate) mode: BlindMode,
    pub(crate) payload: BlindPayload,
}

impl BlindWatermarkSpec {
    pub(crate) fn parse(params: &mut Params<'_>) -> Result<BlindWatermarkSpec> {
        let method = params
            .take_enum(
                "method",
                &[
                    ("embed", BlindMethod::Embed),
                    ("extract", BlindMethod::Extract),
                ],
            )?
            .ok_or_else(|| {
                ProcessError::missing(format!("{ACTION}: needs method (embed or extract)"))
            })?;
        let mode = match params.require_int("mode", 0, 1)? {
            0 => BlindMode::Image,
            _ => BlindMode::Text,
        };
        let text = params.take("text");
        let image = params.take("image");
        let bucket = params.take("bucket");
        let payload = match (method, mode) {
            (BlindMethod::Extract, _) => {
                if let Some(key) = [("text", text), ("image", image), ("bucket", bucket)]
                    .iter()
                    .find_map(|(k, v)| v.map(|_| *k))
                {
                    return Err(ProcessError::invalid(format!(
                        "{ACTION}: {key} goes with method_embed, not method_extract"
                    )));
                }
                BlindPayload::None
            }
            (BlindMethod::Embed, BlindMode::Text) => {
                if let Some(key) = [("image", image), ("bucket", bucket)]
                    .iter()
                    .find_map(|(k, v)| v.map(|_| *k))
                {
                    return Err(ProcessError::invalid(format!(
                        "{ACTION}: {key} goes with mode_0, not mode_1"
                    )));
                }
                let raw = text.ok_or_else(|| {
                    ProcessError::missing(format!("{ACTION}: mode_1 embedding needs text"))
                })?;
                BlindPayload::Text(parse_text(raw)?)
            }
            (BlindMethod::Embed, BlindMode::Image) => {
                if text.is_some() {
                    return Err(ProcessError::invalid(format!(
                        "{ACTION}: text goes with mode_1, not mode_0"
                    )));
                }
                let raw = image.ok_or_else(|| {
                    ProcessError::missing(format!("{ACTION}: mode_0 embedding needs image"))
                })?;
                let key =
                    String::from_utf8(decode_base64url(ACTION, "image", raw)?).map_err(|_| {
                        ProcessError::invalid(format!("{ACTION}: image_{raw} is not UTF-8"))
                    })?;
                let key = key.trim_start_matches('/');
                if key.is_empty() || key.len() > 1024 || key.contains('?') {
                    return Err(ProcessError::invalid(format!(
                        "{ACTION}: image_{raw} must name an object key (1-1024 bytes, no '?')"
                    )));
                }
                let bucket = match bucket {
                    None => None,
                    Some(b) if is_valid_bucket(b) => Some(b.to_string()),
                    Some(b) => {
                        return Err(ProcessError::invalid(format!(
                            "{ACTION}: bucket_{b} is not a bucket name (3-63 of a-z, 0-9, -)"
                        )))
                    }
                };
                BlindPayload::Image {
                    bucket,
                    key: key.to_string(),
                }
            }
        };
        Ok(BlindWatermarkSpec {
            method,
            mode,
            payload,
        })
    }

    /// The mark object to fetch, given the request's bucket (image embedding only).
    pub(crate) fn object(&self, request_bucket: &str) -> Option<ObjectRef> {
        match &self.payload {
            BlindPayload::Image { bucket, key } => Some(ObjectRef {
                bucket: bucket.clone().unwrap_or_else(|| request_bucket.to_string()),
                key: key.clone(),
            }),
            _ => None,
        }
    }
}

/// Decodes `text_`: URL-safe Base64 of 1–[`bw::MAX_TEXT_BYTES`] printable ASCII characters.
fn parse_text(raw: &str) -> Result<String> {
    let bytes = decode_base64url(ACTION, "text", raw)?;
    if bytes.is_empty() {
        return Err(ProcessError::invalid(format!(
            "{ACTION}: text_ decodes to nothing"
        )));
    }
    if bytes.len() > bw::MAX_TEXT_BYTES {
        return Err(ProcessError::invalid(format!(
            "{ACTION}: text_ decodes to {} characters, at most {} are allowed",
            bytes.len(),
            bw::MAX_TEXT_BYTES
        )));
    }
    if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ProcessError::invalid(format!(
            "{ACTION}: text_{raw} must be digits, letters and common symbols (printable ASCII)"
        )));
    }
    Ok(bytes.into_iter().map(char::from).collect())
}

/// Checks what spec §4.23 allows, from the header: a PNG, JPEG or BMP source;
/// to embed, an image (as the action sees it: `size`) larger than 512 px on
/// both sides; to extract, at least [`MIN_EXTRACT_SIDE`] px on both sides
/// (a marked image scaled down must stay readable).
pub fn check_source(source: &SourceInfo, size: (u32, u32), method: BlindMethod) -> Result<()> {
    if !matches!(
        source.format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Bmp
    ) {
        return Err(ProcessError::new(
            ErrorCode::UnsupportedFormat,
            format!(
                "{ACTION}: {} sources are not supported (PNG, JPEG or BMP only)",
                source.format.info_name()
            ),
        ));
    }
    if method == BlindMethod::Extract {
        if size.0 < MIN_EXTRACT_SIDE || size.1 < MIN_EXTRACT_SIDE {
            return Err(ProcessError::invalid(format!(
                "{ACTION}: the image is {}x{} px, extraction needs at least {MIN_EXTRACT_SIDE} px on both sides",
                size.0, size.1
            )));
        }
        return Ok(());
    }
    if size.0 <= MIN_SIDE_EXCLUSIVE || size.1 <= MIN_SIDE_EXCLUSIVE {
        return Err(ProcessError::invalid(format!(
            "{ACTION}: the image is {}x{} px, both sides must be more than {MIN_SIDE_EXCLUSIVE} px",
            size.0, size.1
        )));
    }
    Ok(())
}

/// An embedding ready to run: the text, or the mark (an overlay the
/// pipeline admitted and renders). A [`Step`].
#[derive(Debug, Clone, PartialEq)]
pub enum BlindEmbedJob {
    /// `mode_1`: the text's bytes.
    Text(Vec<u8>),
    /// `mode_0`: the index of the mark among the plan's overlays.
    Mark(usize),
}

impl BlindEmbedJob {
    /// Plans an embedding of `spec`; `overlay` is where the pipeline
    /// admitted the mark object (for `mode_0`).
    pub fn plan(spec: &BlindWatermarkSpec, overlay: Option<usize>) -> Result<BlindEmbedJob> {
        match (&spec.payload, overlay) {
            (BlindPayload::Text(t), None) => Ok(BlindEmbedJob::Text(t.as_bytes().to_vec())),
            (BlindPayload::Image { .. }, Some(index)) => Ok(BlindEmbedJob::Mark(index)),
            _ => Err(ProcessError::internal(
                "blind-watermark: the payload and the overlay disagree",
            )),
        }
    }
}

impl Step for BlindEmbedJob {
    fn output_size(&self, input: (u32, u32)) -> (u32, u32) {
        input
    }
    /// Embeds the mark into `raster` (same size out).
    fn run(&self, mut raster: Raster, overlays: &[Raster]) -> Result<Raster> {
        match self {
            BlindEmbedJob::Text(text) => bw::embed_text(&mut raster, text),
            BlindEmbedJob::Mark(index) => {
                let mark = overlays
                    .get(*index)
                    .ok_or_else(|| ProcessError::internal("blind-watermark: overlay missing"))?;
                bw::embed_mark(&mut raster, &bw::mark_bits(mark)?);
            }
        }
        Ok(raster)
    }
    fn cost(&self) -> Option<StepCost> {
        StepCost::once(Work::BlindWatermark, "blind-watermark")
    }
}

/// The answer of `method_extract` on `raster`: `(body, content type, size)`.
/// Text: `{"text":"..."}` (empty when no mark is found). Image: the 64×64
/// mark as a PNG.
pub fn extract(
    mode: BlindMode,
    raster: &Raster,
) -> Result<(Vec<u8>, &'static str, Option<(u32, u32)>)> {
    Ok(match mode {
        BlindMode::Text => {
            let text = bw::extract_text(raster)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let body = serde_json::json!({ "text": text }).to_string().into_bytes();
            (body, "application/json", None)
        }
        BlindMode::Image => {
            let picture = bw::mark_picture(&bw::extract_mark(raster));
            let body = codec::encode(
                &picture,
                ImageFormat::Png,
                &codec::EncodeOptions::with_quality(100),
            )?;
            (body, ImageFormat::Png.mime(), Some(picture.size()))
        }
    })
}

/// The `Content-Type` of an extraction's answer.
#[cfg(any(target_arch = "wasm32", test))]
pub fn extract_content_type(mode: BlindMode) -> &'static str {
    match mode {
        BlindMode::Text => "application/json",
        BlindMode::Image => ImageFormat::Png.mime(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::command::{Command, Styles};
    use base64::Engine;

    /// Also used by `pipeline::blind_watermark_tests`.
    pub(crate) fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    pub(crate) fn command(cmd: &str) -> Command {
        Command::parse(&format!("image/{cmd}"), &Styles::new()).unwrap()
    }

    #[test]
    fn keys_parse() {
        let spec = |cmd: &str| match command(cmd).actions.into_iter().next() {
            Some(crate::command::Action::BlindWatermark(s)) => *s,
            other => panic!("{other:?}"),
        };
        let s = spec(&format!(
            "blind-watermark,method_embed,mode_1,text_{}",
            b64("Hello, BOS!")
        ));
        assert_eq!(
            (s.method, s.mode, s.payload),
            (
                BlindMethod::Embed,
                BlindMode::Text,
                BlindPayload::Text("Hello, BOS!".into())
            )
        );
        let s = spec(&format!(
            "blind-watermark,method_embed,mode_0,image_{},bucket_marks-b",
            b64("logo.png")
        ));
        assert_eq!(s.object("demo").unwrap().to_string(), "marks-b/logo.png");
        let s = spec("blind-watermark,mode_0,method_extract");
        assert_eq!((s.method, s.mode), (BlindMethod::Extract, BlindMode::Image));
        assert_eq!(s.object("demo"), None);
        // 100 characters is the most allowed.
        let hundred = "x".repeat(100);
        let s = spec(&format!(
            "blind-watermark,method_embed,mode_1,text_{}",
            b64(&hundred)
        ));
        assert_eq!(s.payload, BlindPayload::Text(hundred));
        // The mark object is one of the command's objects (fetched by the filter).
        let c = command(&format!(
            "blind-watermark,method_embed,mode_0,image_{}",
            b64("marks/logo.png")
        ));
        assert_eq!(
            c.objects("demo", &Default::default()).unwrap(),
            vec![ObjectRef {
                bucket: "demo".into(),
                key: "marks/logo.png".into()
            }]
        );
        assert_eq!(
            command("resize,w_800/blind-watermark,method_extract,mode_1").blind_extraction(),
            Some(BlindMode::Text)
        );
    }
}
