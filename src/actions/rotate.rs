//! The rotation family: `rotate` (§4.7) and `auto-orient` (§4.8).
//!
//! | action | key | range | default | meaning |
//! |---|---|---|---|---|
//! | `rotate` | `a` | −360–360 degrees | required | clockwise angle |
//! | `auto-orient` | `o` (or bare `0`/`1`) | 0, 1 | required | 1: turn the pixels upright by the EXIF Orientation tag; 0: keep them as stored |
//!
//! CLONE DECISIONS: angles that are not multiples of 90° grow the canvas to
//! the rotated bounding box; the corners are transparent, and white when the
//! output has no alpha (JPEG, BMP). Auto-orientation is on by default (as
//! [OSS]): the image is turned upright when decoded, before the first action,
//! so `w`/`h` refer to what a viewer sees; `auto-orient,o_0` anywhere in the
//! command keeps the stored orientation (and the Orientation tag stays in the
//! kept EXIF). After turning, the output's EXIF Orientation is set to 1.

use crate::command::Params;
use crate::error::Result;

/// Parses `rotate,a_<-360..360>`; returns the clockwise angle in degrees.
pub fn parse_rotate(params: &mut Params<'_>) -> Result<i32> {
    Ok(params.require_int("a", -360, 360)? as i32)
}

/// Parses `auto-orient,o_<0|1>` (or the bare `auto-orient,1`).
pub fn parse_auto_orient(params: &mut Params<'_>) -> Result<bool> {
    params.take_bare_as("o")?;
    Ok(params.require_int("o", 0, 1)? == 1)
}
