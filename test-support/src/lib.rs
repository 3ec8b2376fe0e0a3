//! Test support shared by the filter's tests and `cargo xtask`: a dev-dependency
//! of `image-process-filter` (its unit tests and the `envoy_e2e` and
//! `deploy_examples` suites) and a dependency of `xtask`.
//!
//! - [`stack`]: starting the real stack (s3s-fs, and Envoy or nginx with the
//!   filter), for the end-to-end tests and `cargo xtask demo`/`soak`/`bench`.
//! - [`corpus`]: where the shared test corpus lives.
//! - [`fault_upstream`]: a misbehaving storage server for the upstream-fault
//!   tests.
//!
//! Only [`corpus`] builds for wasm32-wasip1, where `cargo xtask test` runs the
//! filter's unit tests a second time (the stack and the fault server need
//! Unix sockets and processes).

pub mod corpus;
#[cfg(unix)]
pub mod fault_upstream;
#[cfg(unix)]
pub mod stack;
