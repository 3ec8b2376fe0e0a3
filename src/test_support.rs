//! Helpers shared by the unit tests.

#[path = "../tests/support/corpus.rs"]
mod corpus_path;

pub use corpus_path::corpus_dir;

/// The bytes of a corpus file, by its path under the corpus.
pub fn corpus(path: &str) -> Vec<u8> {
    let p = corpus_dir().join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
