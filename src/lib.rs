//! image-process-filter: the BOS `x-bce-process` image-processing language as a
//! proxy-wasm filter.
//!
//! The crate is host-free except for `filter` (compiled for `wasm32` only),
//! which is the thin proxy-wasm glue. Everything else is plain Rust:
//!
//! - [`command`]: the grammar, styles and validation of `x-bce-process`;
//! - [`actions`]: one module per action family (parameters and geometry);
//! - [`pipeline`]: planning from the image header and execution;
//! - `limits`: the fixed limits (bytes, sides, pixels, frames), a leaf every layer may use;
//! - [`budget`]: what a request may cost, its estimate and the guard that holds it to it;
//! - [`codec`] and [`raster`]: formats and pixels;
//! - [`exchange`]: which requests and responses are ours and how headers change;
//! - `local_reply`: the `local_reply` header mode (answering from the request phase);
//! - [`auth`] and [`access`]: signatures, original-image protection, upstream signing;
//! - `objects`: fetching and caching watermark objects and fonts;
//! - `persistence`: `system/load` and `system/save`, writing results to the storage;
//! - [`config`]: the plugin configuration;
//! - `proxy_host`: what differs between Envoy and nginx, as properties the glue asks about;
//! - `metrics`: the filter's metrics, their names and kinds;
//! - `glue`: the per-request state machine and the `Host` interface it talks to the
//!   proxy through (tested natively against a fake Envoy and a fake nginx).
//!
//! Visibility: only what the `imgproc` CLI, the benches, the examples, the fuzz
//! targets and the integration tests use is `pub`; the rest is crate-private,
//! so the compiler reports dead code. What only the glue uses (`local_reply`,
//! `metrics`, `objects`, `proxy_host`, and single items elsewhere) is compiled
//! where the glue is, for `wasm32` and the tests
//! (`#[cfg(any(target_arch = "wasm32", test))]`); what only tests use is
//! `#[cfg(test)]`.

// Public items may document the crate-private ones they rest on; read the
// docs with `cargo doc --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]
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
mod error;
pub mod exchange;
mod limits;
mod persistence;
pub mod pipeline;
pub mod raster;
#[cfg(test)]
mod test_support;

// Used by the glue only, so compiled where it is.
#[cfg(any(target_arch = "wasm32", test))]
mod local_reply;
#[cfg(any(target_arch = "wasm32", test))]
mod metrics;
#[cfg(any(target_arch = "wasm32", test))]
mod objects;
#[cfg(any(target_arch = "wasm32", test))]
mod proxy_host;

/// The filter and the unit tests count what they allocate
/// ([`budget::meter`]), so the pipeline can hold requests to their budget.
#[cfg(any(target_arch = "wasm32", test))]
#[global_allocator]
static ALLOCATOR: budget::meter::MeteredAlloc = budget::meter::MeteredAlloc;

#[cfg(any(target_arch = "wasm32", test))]
mod glue;

#[cfg(target_arch = "wasm32")]
mod filter;

pub use error::{ErrorCode, ProcessError};
pub use pipeline::RequestContext;
