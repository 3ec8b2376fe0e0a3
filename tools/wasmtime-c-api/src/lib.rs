//! The wasmtime C API (`wasmtime-c-api-impl`) re-exported as a static
//! library, `libwasmtime.a`: every `extern "C"` function of the dependency
//! ends up in the archive.

pub use wasmtime_c_api::*;
