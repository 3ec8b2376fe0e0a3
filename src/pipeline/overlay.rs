//! Images that other objects add to the result: a watermark's image
//! (`watermark,image_`) and a blind watermark's mark (`blind-watermark,
//! mode_0`). The pipeline admits each once, when the request is planned
//! (found among the fetched objects, within its byte limit, an image whose
//! header passes the source limits, its own command planned), and renders
//! each once, after the budget admitted the plan and before the source is
//! decoded, however many animation frames it is then drawn on.

use super::{Plan, RequestContext};
use crate::actions::watermark::{ObjectRef, Resources};
use crate::budget::{self, Stage, Work};
use crate::codec;
use crate::command::Command;
use crate::error::{ProcessError, Result};
use crate::limits::{check_source, MAX_SOURCE_PIXELS};
use crate::raster::Raster;
use std::sync::Arc;

/// What an action allows for its overlay object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverlayRules {
    /// The action, first in messages (`watermark`, `blind-watermark`).
    pub(crate) action: &'static str,
    /// What the overlay is called in messages (`watermark`, `mark`).
    pub(crate) noun: &'static str,
    /// Largest object, in bytes.
    pub(crate) max_bytes: usize,
    /// Rendered with an alpha channel (drawn with transparency).
    pub(crate) with_alpha: bool,
    /// The work kind rendering is counted as.
    pub(crate) work: Work,
}

/// An admitted overlay: its object's bytes and its own command, planned.
#[derive(Debug, Clone)]
pub(crate) struct Overlay {
    rules: OverlayRules,
    object: ObjectRef,
    bytes: Arc<[u8]>,
    plan: Box<Plan>,
}

impl Overlay {
    /// Finds `object` in `resources` and checks it against the limits of
    /// spec §1.3: at most `rules.max_bytes`, an image within the source
    /// limits, its pixels plus `source_pixels` at most
    /// [`MAX_SOURCE_PIXELS`], and its own command (`own`, if any) plans.
    pub fn admit(
        rules: OverlayRules,
        object: ObjectRef,
        resources: &Resources,
        source_pixels: u64,
        own: Option<&Command>,
    ) -> Result<Overlay> {
        let action = rules.action;
        let bytes = resources.object(&object)?;
        if bytes.len() > rules.max_bytes {
            return Err(ProcessError::too_large(format!(
                "{action}: object '{object}' is {} bytes, at most {} are allowed",
                bytes.len(),
                rules.max_bytes
            )));
        }
        let info = codec::probe(&bytes).map_err(|e| {
            ProcessError::new(
                e.code,
                format!("{action}: object '{object}': {}", e.message),
            )
        })?;
        check_source(info.width, info.height, info.frames)?;
        let pixels = u64::from(info.width) * u64::from(info.height);
        if pixels + source_pixels > MAX_SOURCE_PIXELS {
            return Err(ProcessError::too_large(format!(
                "{action}: the {} ({}x{}) and the image together have {} px, at most {MAX_SOURCE_PIXELS} are allowed",
                rules.noun,
                info.width,
                info.height,
                pixels + source_pixels
            )));
        }
        let empty = Command::empty();
        let plan = Plan::new(own.unwrap_or(&empty), info, &RequestContext::default())?;
        Ok(Overlay {
            rules,
            object,
            bytes,
            plan: Box::new(plan),
        })
    }

    /// Decodes the object and runs its own command on it.
    pub fn render(&self) -> Result<Raster> {
        let (decoded, windowed) =
            self.plan
                .decode(&self.bytes, super::EarlyDecode::default(), None)?;
        let raster = self.plan.execute(decoded, windowed, &[])?;
        Ok(if self.rules.with_alpha {
            raster.with_alpha()
        } else {
            raster
        })
    }

    /// Bytes of the rendered overlay, held while the source is processed.
    pub fn rendered_bytes(&self) -> u64 {
        let (w, h) = self.plan.output_size;
        u64::from(w) * u64::from(h) * 4
    }

    /// The cost of [`Overlay::render`], estimated like a request's stages,
    /// as one stage.
    pub fn cost_stage(&self) -> Stage {
        let costs = self.plan.cost_plan(&self.bytes);
        let mut stages = vec![costs.decode];
        stages.extend(costs.orient);
        stages.extend(costs.ops.into_iter().flatten());
        let e = budget::estimate(0, &stages);
        let what = format!("the {} image '{}'", self.rules.noun, self.object);
        let mut stage = Stage::new(self.rules.work, what, 0);
        stage.extra = (e.peak_bytes, e.time_ms);
        stage
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BLIND_MARK, WATERMARK_IMAGE};
    use super::*;
    use crate::codec::{EncodeOptions, ImageFormat};
    use crate::command::Styles;
    use crate::error::ErrorCode;
    use crate::raster::PixelLayout;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let opaque = Raster::new(w, h, PixelLayout::Rgb8, vec![90; (w * h * 3) as usize]).unwrap();
        codec::encode(&opaque, ImageFormat::Png, &EncodeOptions::with_quality(90)).unwrap()
    }

    fn resources() -> Resources {
        let mut r = Resources {
            bucket: "demo".into(),
            ..Default::default()
        };
        r.objects
            .insert(object("demo/wm.png"), Arc::from(png(40, 20).as_slice()));
        r.objects
            .insert(object("demo/t.txt"), Arc::from(&b"hello"[..]));
        r
    }

    fn object(path: &str) -> ObjectRef {
        ObjectRef::parse(path).unwrap()
    }

    /// Every limit is checked from the object's header, at plan time.
    #[test]
    fn admission_checks_the_object_from_its_header() {
        let r = resources();
        let wm = object("demo/wm.png");
        // The overlay's pixels and the source's together ≤ 200 Mpx.
        let err = Overlay::admit(
            WATERMARK_IMAGE,
            wm.clone(),
            &r,
            MAX_SOURCE_PIXELS - 799,
            None,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::ImageTooLarge);
        assert!(
            err.message
                .starts_with("watermark: the watermark (40x20) and the image together have"),
            "{}",
            err.message
        );
        assert!(Overlay::admit(
            WATERMARK_IMAGE,
            wm.clone(),
            &r,
            MAX_SOURCE_PIXELS - 800,
            None
        )
        .is_ok());
        // Larger than the action allows.
        let small = OverlayRules {
            max_bytes: 100,
            ..BLIND_MARK
        };
        let err = Overlay::admit(small, wm.clone(), &r, 1, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::ImageTooLarge);
        assert!(
            err.message
                .starts_with("blind-watermark: object 'demo/wm.png' is"),
            "{}",
            err.message
        );
        // Not an image; not there.
        let err = Overlay::admit(WATERMARK_IMAGE, object("demo/t.txt"), &r, 1, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidImage);
        assert!(err.message.contains("'demo/t.txt'"), "{}", err.message);
        let err = Overlay::admit(BLIND_MARK, object("demo/no.png"), &r, 1, None).unwrap_err();
        assert_eq!(err.http_status(), 404, "{}", err.message);
        // Its own command is planned for its header.
        let own = Command::parse("image/crop,x_100", &Styles::new()).unwrap();
        let err = Overlay::admit(WATERMARK_IMAGE, wm, &r, 1, Some(&own)).unwrap_err();
        assert!(
            err.message.starts_with("crop: the corner (100, 0)"),
            "{}",
            err.message
        );
    }

    /// Rendering runs the overlay's own command; a watermark image gets an
    /// alpha channel, a blind mark keeps its layout.
    #[test]
    fn rendering_runs_the_own_command() {
        let r = resources();
        let own = Command::parse("image/resize,w_20", &Styles::new()).unwrap();
        let mark =
            Overlay::admit(WATERMARK_IMAGE, object("demo/wm.png"), &r, 1, Some(&own)).unwrap();
        let raster = mark.render().unwrap();
        assert_eq!(raster.size(), (20, 10));
        assert_eq!(raster.layout, PixelLayout::Rgba8);
        assert_eq!(mark.rendered_bytes(), 20 * 10 * 4);
        let blind = Overlay::admit(BLIND_MARK, object("demo/wm.png"), &r, 1, None).unwrap();
        assert_eq!(blind.render().unwrap().layout, PixelLayout::Rgb8);
        assert!(blind.cost_stage().memory_bytes() > 0);
    }
}
