//! Output encoding family: `format` (spec §4.15) and `quality` (spec §4.14).
//!
//! `format,f_<jpg|png|bmp|webp|gif|heic|avif|auto>` picks the output format;
//! without it the output keeps the source format (CLONE DECISION, spec §3).
//! `f_auto` picks, from what the request's `Accept` lists explicitly (`image/*`
//! and `*/*` name no format): AVIF for a still image when `image/avif` is listed
//! and the AVIF result fits the request's cost budget, else WebP when
//! `image/webp` is listed, else the source format; the response carries
//! `Vary: Accept`. (BOS negotiates only WebP; AVIF is this filter's addition.)
//!
//! `quality` applies to lossy outputs (JPEG, WebP; HEIC later) and is ignored for
//! lossless ones. `q_<1-100>` is relative to the source's estimated quality N
//! (N × q %), `Q_<1-100>` absolute, gated by `c_<le|ge|any>` (default `le`:
//! only lower, never raise). When both are given `Q` wins ([OSS]/[OBS]).
//! N is estimated from a JPEG source's quantisation tables and taken as 100 for
//! other sources. Without a `quality` action the output uses
//! min([`DEFAULT_QUALITY`], N).

use crate::codec::ImageFormat;
use crate::command::Params;
use crate::error::{ProcessError, Result};

/// Quality used for lossy output when the command does not say (1–100).
pub const DEFAULT_QUALITY: u8 = 85;

/// What `f_` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatTarget {
    /// A fixed output format.
    Fixed(ImageFormat),
    /// `f_auto`: negotiated from `Accept`.
    Auto,
}

/// A validated `format` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FormatSpec {
    pub(crate) target: FormatTarget,
}

impl FormatSpec {
    pub(crate) fn parse(params: &mut Params<'_>) -> Result<FormatSpec> {
        let target = params
            .take_enum(
                "f",
                &[
                    ("jpg", FormatTarget::Fixed(ImageFormat::Jpeg)),
                    ("png", FormatTarget::Fixed(ImageFormat::Png)),
                    ("bmp", FormatTarget::Fixed(ImageFormat::Bmp)),
                    ("webp", FormatTarget::Fixed(ImageFormat::Webp)),
                    ("gif", FormatTarget::Fixed(ImageFormat::Gif)),
                    ("heic", FormatTarget::Fixed(ImageFormat::Heic)),
                    ("avif", FormatTarget::Fixed(ImageFormat::Avif)),
                    ("auto", FormatTarget::Auto),
                ],
            )?
            .ok_or_else(|| ProcessError::missing(format!("{}: needs f", params.action())))?;
        Ok(FormatSpec { target })
    }

    /// The output format for a source of format `source`, given the request's
    /// `Accept`: the fixed format, or `f_auto`'s first choice. `still` says the
    /// source has one frame (AVIF output keeps no animation, so an animation
    /// never gets it). An AVIF chosen here is provisional: when the AVIF result
    /// would not fit the request's budget the pipeline takes
    /// [`FormatSpec::resolve_without_avif`] instead.
    pub(crate) fn resolve(
        &self,
        source: ImageFormat,
        still: bool,
        accept: Option<&str>,
    ) -> ImageFormat {
        match self.target {
            FormatTarget::Auto if still && accepts(accept, "image/avif") => ImageFormat::Avif,
            _ => self.resolve_without_avif(source, accept),
        }
    }

    /// [`FormatSpec::resolve`] with AVIF left out of `f_auto`'s choices.
    pub fn resolve_without_avif(&self, source: ImageFormat, accept: Option<&str>) -> ImageFormat {
        match self.target {
            FormatTarget::Fixed(f) => f,
            FormatTarget::Auto if accepts(accept, "image/webp") => ImageFormat::Webp,
            FormatTarget::Auto => source,
        }
    }
}

/// Whether an `Accept` header value lists `image/webp` with a non-zero q.
#[cfg(any(target_arch = "wasm32", test))]
pub fn accepts_webp(accept: Option<&str>) -> bool {
    accepts(accept, "image/webp")
}

/// Whether an `Accept` header value lists `image/avif` with a non-zero q.
#[cfg(any(target_arch = "wasm32", test))]
pub fn accepts_avif(accept: Option<&str>) -> bool {
    accepts(accept, "image/avif")
}

/// Whether an `Accept` header value lists the media type `mime` by name
/// (case-insensitive) with a non-zero q. Ranges (`image/*`, `*/*`) do not count:
/// a client that lists only them may not decode the format.
fn accepts(accept: Option<&str>, mime: &str) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let named = parts.next().is_some_and(|m| m.eq_ignore_ascii_case(mime));
            let zero_q = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            named && !zero_q
        })
    })
}

/// `accept` without the `image/avif` entries: what `f_auto` may use when the
/// response's `Content-Type` must be decided before the image is seen (the
/// `early` header mode), since AVIF depends on the image's size.
#[cfg(any(target_arch = "wasm32", test))]
pub fn accept_without_avif(accept: Option<&str>) -> Option<String> {
    accept.map(|a| {
        a.split(',')
            .filter(|item| {
                !item
                    .split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("image/avif"))
            })
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Condition for applying an absolute quality `Q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QualityCondition {
    /// Apply only when Q < N (never raise quality). Default.
    Le,
    /// Apply only when Q > N.
    Ge,
    /// Always apply.
    Any,
}

/// A validated `quality` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QualitySpec {
    /// `q`: relative quality in percent of the source's, 1–100.
    pub(crate) relative: Option<u8>,
    /// `Q`: absolute quality, 1–100.
    pub(crate) absolute: Option<u8>,
    /// `c`: when `Q` applies.
    pub(crate) condition: QualityCondition,
}

impl QualitySpec {
    pub(crate) fn parse(params: &mut Params<'_>) -> Result<QualitySpec> {
        let relative = params.take_int("q", 1, 100)?.map(|v| v as u8);
        let absolute = params.take_int("Q", 1, 100)?.map(|v| v as u8);
        let condition = params
            .take_enum(
                "c",
                &[
                    ("le", QualityCondition::Le),
                    ("ge", QualityCondition::Ge),
                    ("any", QualityCondition::Any),
                ],
            )?
            .unwrap_or(QualityCondition::Le);
        if relative.is_none() && absolute.is_none() {
            return Err(ProcessError::missing(format!(
                "{}: needs q or Q",
                params.action()
            )));
        }
        Ok(QualitySpec {
            relative,
            absolute,
            condition,
        })
    }
}

/// Parses `interlace,i_<baseline|progressive>` (also `i_0`/`i_1` and the bare
/// `interlace,1` of [OSS]); returns whether the output is progressive.
///
/// Progressive output is a progressive JPEG or an Adam7-interlaced PNG; other
/// formats have no such mode and are written as usual.
pub fn parse_interlace(params: &mut Params<'_>) -> Result<bool> {
    params.take_bare_as("i")?;
    params
        .take_enum(
            "i",
            &[
                ("baseline", false),
                ("progressive", true),
                ("0", false),
                ("1", true),
            ],
        )?
        .ok_or_else(|| ProcessError::missing(format!("{}: needs i", params.action())))
}

/// The output settings of a command, resolved once when it is parsed: the
/// last `format`, the last `quality`, the last `interlace` and any `strip`
/// decide. The pipeline and the encoder read only this.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OutputOptions {
    /// The last `format`, if any (else the source's format).
    pub(crate) format: Option<FormatSpec>,
    /// The last `quality`, if any.
    pub(crate) quality: Option<QualitySpec>,
    /// Progressive JPEG / interlaced PNG (the last `interlace`; default baseline).
    pub(crate) progressive: bool,
    /// `strip`: drop metadata.
    pub(crate) strip: bool,
}

/// The encoder quality (1–100) for a lossy output, given the command's `quality`
/// action (if any) and the source's estimated quality N (if known).
pub fn resolve_quality(spec: Option<&QualitySpec>, source_quality: Option<u8>) -> u8 {
    let n = source_quality.unwrap_or(100).clamp(1, 100);
    let Some(spec) = spec else {
        return DEFAULT_QUALITY.min(n);
    };
    if let Some(q) = spec.absolute {
        let apply = match spec.condition {
            QualityCondition::Le => q < n,
            QualityCondition::Ge => q > n,
            QualityCondition::Any => true,
        };
        return if apply { q } else { n };
    }
    let rel = spec.relative.unwrap_or(100);
    let v = (u32::from(n) * u32::from(rel) + 50) / 100;
    v.clamp(1, 100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, Styles};

    fn quality(cmd: &str) -> QualitySpec {
        *Command::parse(&format!("image/{cmd}"), &Styles::new())
            .unwrap()
            .quality()
            .unwrap()
    }

    #[test]
    fn quality_rules() {
        // (command, source quality, expected)
        let cases: &[(Option<&str>, Option<u8>, u8)] = &[
            (None, Some(95), 85),
            (None, Some(70), 70),
            (None, None, 85),
            (Some("quality,q_50"), Some(90), 45),
            (Some("quality,q_50"), None, 50),
            (Some("quality,Q_75"), Some(90), 75),
            (Some("quality,Q_75"), Some(60), 60),
            (Some("quality,Q_75,c_le"), Some(60), 60),
            (Some("quality,Q_75,c_ge"), Some(60), 75),
            (Some("quality,Q_75,c_ge"), Some(90), 90),
            (Some("quality,Q_75,c_any"), Some(60), 75),
            (Some("quality,q_10,Q_75,c_any"), Some(60), 75),
        ];
        for (cmd, n, want) in cases {
            let spec = cmd.map(quality);
            assert_eq!(resolve_quality(spec.as_ref(), *n), *want, "{cmd:?} N={n:?}");
        }
    }

    #[test]
    fn accept_negotiation() {
        assert!(accepts_webp(Some("image/avif,image/webp,*/*")));
        assert!(accepts_webp(Some("image/WebP;q=0.8")));
        assert!(!accepts_webp(Some("image/webp;q=0")));
        assert!(!accepts_webp(Some("image/png,*/*")));
        assert!(!accepts_webp(None));
        assert!(accepts_avif(Some("image/avif,image/webp,*/*")));
        assert!(!accepts_avif(Some("image/avif;q=0,image/webp")));
        assert!(!accepts_avif(Some("image/*,*/*")));
        let auto = FormatSpec {
            target: FormatTarget::Auto,
        };
        let chrome = Some("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8");
        // (Accept, still source, first choice, choice without AVIF)
        let cases: &[(Option<&str>, bool, ImageFormat, ImageFormat)] = &[
            (chrome, true, ImageFormat::Avif, ImageFormat::Webp),
            (chrome, false, ImageFormat::Webp, ImageFormat::Webp),
            (
                Some("image/avif"),
                true,
                ImageFormat::Avif,
                ImageFormat::Jpeg,
            ),
            (
                Some("image/avif;q=0, image/webp"),
                true,
                ImageFormat::Webp,
                ImageFormat::Webp,
            ),
            (
                Some("image/webp"),
                true,
                ImageFormat::Webp,
                ImageFormat::Webp,
            ),
            (Some("*/*"), true, ImageFormat::Jpeg, ImageFormat::Jpeg),
            (None, true, ImageFormat::Jpeg, ImageFormat::Jpeg),
        ];
        for (accept, still, first, without) in cases {
            assert_eq!(
                auto.resolve(ImageFormat::Jpeg, *still, *accept),
                *first,
                "{accept:?}"
            );
            assert_eq!(
                auto.resolve_without_avif(ImageFormat::Jpeg, *accept),
                *without,
                "{accept:?}"
            );
        }
        let fixed = FormatSpec {
            target: FormatTarget::Fixed(ImageFormat::Png),
        };
        assert_eq!(
            fixed.resolve(ImageFormat::Jpeg, true, chrome),
            ImageFormat::Png
        );
    }

    #[test]
    fn accept_without_avif_keeps_the_rest() {
        let chrome = "image/avif,image/webp,image/apng,*/*;q=0.8";
        let early = accept_without_avif(Some(chrome));
        assert_eq!(early.as_deref(), Some("image/webp,image/apng,*/*;q=0.8"));
        assert!(!accepts_avif(early.as_deref()));
        assert!(accepts_webp(early.as_deref()));
        assert_eq!(
            accept_without_avif(Some("image/webp, IMAGE/AVIF;q=0.9")).as_deref(),
            Some("image/webp")
        );
        assert_eq!(accept_without_avif(None), None);
    }
}
