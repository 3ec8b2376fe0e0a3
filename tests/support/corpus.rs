//! Where the shared test corpus (`MANIFEST.md` and its files) lives.
//!
//! The project keeps it beside the checkout, at `../shared/corpus`. A checkout
//! elsewhere (a clean clone in `/tmp`, say) finds it through `IPF_CORPUS` or
//! the workspace's usual place, `/work/shared/corpus`. Tests that need it fail
//! with this message rather than skip.

use std::path::PathBuf;

/// The corpus directory; panics with a clear message when it cannot be found.
pub fn corpus_dir() -> PathBuf {
    let candidates = [
        std::env::var_os("IPF_CORPUS").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")),
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
