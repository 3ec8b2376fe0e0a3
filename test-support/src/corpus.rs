//! Where the shared test corpus (`MANIFEST.md` and its files) lives.
//!
//! The project keeps it beside the checkout, at `../shared/corpus`. A checkout
//! elsewhere (a clean clone in `/tmp`, say) finds it through `IPF_CORPUS` or
//! the workspace's usual place, `/work/shared/corpus`. Tests that need it fail
//! with this message rather than skip.
//!
//! Used by the filter's unit tests (`src/test_support.rs`) and the end-to-end
//! suite.

use std::path::{Path, PathBuf};

/// The corpus directory; panics with a clear message when it cannot be found.
pub fn corpus_dir() -> PathBuf {
    let candidates = [
        std::env::var_os("IPF_CORPUS").map(PathBuf::from),
        Some(checkout().join("../shared/corpus")),
        Some(PathBuf::from("/work/shared/corpus")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("MANIFEST.md").is_file())
        .unwrap_or_else(|| {
            panic!(
                "the test corpus was not found: set IPF_CORPUS, or put it at ../shared/corpus beside the checkout"
            )
        })
}

/// The root of the checkout: the parent of this crate's directory
/// (`test-support/`).
fn checkout() -> &'static Path {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir)
}
