//! The adjustment family: `blur` (§4.9), `bright` (§4.10), `contrast`
//! (§4.11), `sharpen` (§4.12) and `grayscale` (§4.13). None changes the size.
//!
//! | action | key | range | default | meaning |
//! |---|---|---|---|---|
//! | `blur` | `r` | 1–50 px | required | kernel radius |
//! | `blur` | `s` | 1–50 px | required | Gaussian standard deviation |
//! | `sharpen` | `r`, `s` | 1–50 px | required | radius and standard deviation of the unsharp mask |
//! | `bright` | `b` | −100–100 | required | <0 darker, >0 brighter (% of full scale added) |
//! | `contrast` | `c` (or bare value) | −100–100 | required | <0 flatter, >0 stronger |
//! | `grayscale` | bare `0`/`1`, or none | 0, 1 | 1 | 1: convert to grey |
//!
//! CLONE DECISIONS (spec §4.9–4.13 leave them open): `blur` and `sharpen`
//! need both keys; `contrast` takes `c_<n>` or the bare `contrast,<n>` of
//! [OSS]/[OBS]; `grayscale` is bare or `grayscale,<0|1>` ([COS]).

use super::Op;
use crate::command::Params;
use crate::error::Result;

/// Parses `blur,r_<1-50>,s_<1-50>`.
pub fn parse_blur(params: &mut Params<'_>) -> Result<Op> {
    let radius = params.require_int("r", 1, 50)? as u32;
    let sigma = params.require_int("s", 1, 50)? as u32;
    Ok(Op::Blur { radius, sigma })
}

/// Parses `sharpen,r_<1-50>,s_<1-50>`.
pub fn parse_sharpen(params: &mut Params<'_>) -> Result<Op> {
    let radius = params.require_int("r", 1, 50)? as u32;
    let sigma = params.require_int("s", 1, 50)? as u32;
    Ok(Op::Sharpen { radius, sigma })
}

/// Parses `bright,b_<-100..100>`.
pub fn parse_bright(params: &mut Params<'_>) -> Result<Op> {
    Ok(Op::Bright(params.require_int("b", -100, 100)? as i32))
}

/// Parses `contrast,c_<-100..100>` or `contrast,<-100..100>`.
pub fn parse_contrast(params: &mut Params<'_>) -> Result<Op> {
    params.take_bare_as("c")?;
    Ok(Op::Contrast(params.require_int("c", -100, 100)? as i32))
}

/// Parses `grayscale` or `grayscale,<0|1>`; false for `grayscale,0`.
pub fn parse_grayscale(params: &mut Params<'_>) -> Result<bool> {
    params.take_bare_as("g")?;
    Ok(params.take_int("g", 0, 1)?.unwrap_or(1) == 1)
}
