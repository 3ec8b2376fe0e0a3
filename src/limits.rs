//! The fixed limits of the language (spec §1.3) and of this filter, in one
//! leaf module every layer may use: it imports nothing of the crate but
//! [`crate::error`]. What a request may *cost* is the budget's business
//! ([`crate::budget`]); these bound what may be asked at all.
//!
//! | limit | value |
//! |---|---|
//! | source body | ≤ [`MAX_SOURCE_BYTES`] (20 MB) |
//! | source side | ≤ [`MAX_SOURCE_SIDE`] (30 000 px) |
//! | source pixels | ≤ [`MAX_SOURCE_PIXELS`] (200 Mpx, × frames) |
//! | every intermediate and output side | ≤ [`MAX_OUTPUT_SIDE`] (9 999 px) |
//! | frames of an animated result | ≤ [`MAX_OUTPUT_FRAMES`] (20) |

use crate::error::{ProcessError, Result};

/// Largest source body accepted, in bytes (20 MB).
pub const MAX_SOURCE_BYTES: usize = 20 * 1024 * 1024;
/// Largest source side, in px.
pub const MAX_SOURCE_SIDE: u32 = 30_000;
/// Largest source area, in px (× frames for animations).
pub const MAX_SOURCE_PIXELS: u64 = 200_000_000;
/// Largest side of any result or intermediate result, in px.
pub const MAX_OUTPUT_SIDE: u32 = 9_999;
/// Most frames an animated result may have.
pub const MAX_OUTPUT_FRAMES: u32 = 20;

/// Checks a source's header size (`width` × `height` px, `frames` frames)
/// against the source limits: `400 InvalidImage` for a zero side, `400
/// ImageTooLarge` past a limit.
pub fn check_source(width: u32, height: u32, frames: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(ProcessError::bad_image("the image has a zero side"));
    }
    if width > MAX_SOURCE_SIDE || height > MAX_SOURCE_SIDE {
        return Err(ProcessError::too_large(format!(
            "the image is {width}x{height} px, each side must be at most {MAX_SOURCE_SIDE} px"
        )));
    }
    let pixels = u64::from(width) * u64::from(height) * u64::from(frames.max(1));
    if pixels > MAX_SOURCE_PIXELS {
        return Err(ProcessError::too_large(format!(
            "the image has {pixels} px (width x height x frames), at most {MAX_SOURCE_PIXELS} are allowed"
        )));
    }
    Ok(())
}
