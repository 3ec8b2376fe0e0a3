//! One module per action family: parsing of its parameters and the geometry or
//! encoding decisions it implies. Pixels are touched only in [`crate::pipeline`].

pub mod format;
pub mod resize;
