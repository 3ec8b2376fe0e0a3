//! Helpers shared by the unit tests.

use std::path::PathBuf;

/// The shared test corpus (`../shared/corpus`, see its `MANIFEST.md`).
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// The bytes of a corpus file, by its path under the corpus.
pub fn corpus(path: &str) -> Vec<u8> {
    let p = corpus_dir().join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
