//! image-process-filter: the BOS `x-bce-process` image-processing language as a
//! proxy-wasm filter.
//!
//! The crate is host-free except for `filter` (compiled for `wasm32` only),
//! which is the thin proxy-wasm glue. Everything else is plain Rust:
//!
//! - [`command`]: the grammar, styles and validation of `x-bce-process`;
//! - [`actions`]: one module per action family (parameters and geometry);
//! - [`pipeline`]: planning from the image header and execution;
//! - [`limits`]: the fixed limits (bytes, sides, pixels, frames), a leaf every layer may use;
//! - [`budget`]: what a request may cost, its estimate and the guard that holds it to it;
//! - [`codec`] and [`raster`]: formats and pixels;
//! - [`exchange`]: which requests and responses are ours and how headers change;
//! - [`local_reply`]: the `local_reply` header mode (answering from the request phase);
//! - [`auth`] and [`access`]: signatures, original-image protection, upstream signing;
//! - [`objects`]: fetching and caching watermark objects and fonts;
//! - [`persistence`]: `system/load` and `system/save`, writing results to the storage;
//! - [`config`]: the plugin configuration;
//! - [`proxy_host`]: what differs between Envoy and nginx, as properties the glue asks about;
//! - `glue`: the per-request state machine and the `Host` interface it talks to the
//!   proxy through (tested natively against a fake Envoy and a fake nginx).

// No panics outside tests: in the filter a panic traps the VM.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod actions;
pub mod auth;
pub mod budget;
pub mod codec;
pub mod command;
pub mod config;
pub mod error;
pub mod exchange;
pub mod limits;
#[cfg(any(target_arch = "wasm32", test))]
pub mod local_reply;
#[cfg(any(target_arch = "wasm32", test))]
pub mod metrics;
#[cfg(any(target_arch = "wasm32", test))]
pub mod objects;
pub mod persistence;
pub mod pipeline;
#[cfg(any(target_arch = "wasm32", test))]
pub mod proxy_host;
pub mod raster;
#[cfg(test)]
mod test_support;

/// The filter and the unit tests count what they allocate
/// ([`budget::meter`]), so the pipeline can hold requests to their budget.
#[cfg(any(target_arch = "wasm32", test))]
#[global_allocator]
static ALLOCATOR: budget::meter::MeteredAlloc = budget::meter::MeteredAlloc;

#[cfg(any(target_arch = "wasm32", test))]
mod glue;

#[cfg(target_arch = "wasm32")]
mod filter;

pub use command::Command;
pub use error::{ErrorCode, ProcessError};
pub use pipeline::{process, Processed, RequestContext};
