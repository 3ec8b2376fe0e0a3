//! Helpers shared by the unit tests.

pub use ipf_test_support::corpus::corpus_dir;

/// The bytes of a corpus file, by its path under the corpus.
pub fn corpus(path: &str) -> Vec<u8> {
    let p = corpus_dir().join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every JPEG (by its SOI) in the corpus folders that hold JPEGs, as (file
/// name, bytes), sorted by folder and name.
pub fn corpus_jpegs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["jpeg", "orientation", "photos", "hostile"] {
        let mut entries: Vec<_> = std::fs::read_dir(corpus_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.starts_with(&[0xFF, 0xD8]) {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, bytes));
            }
        }
    }
    out
}

/// The largest difference between two equally long sample buffers.
pub fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x.abs_diff(y))
        .max()
        .unwrap_or(0)
}

/// Peak signal-to-noise ratio of `b` against `a` (equally long 8-bit sample
/// buffers), in dB; infinite for identical samples.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    10.0 * (255.0f64.powi(2) / (se / a.len() as f64)).log10()
}

/// Asserts that a decoder over [`corpus_jpegs`] answered every file of
/// `must` (they are in `handled`) and declined every file of
/// `must_decline` (they are in `declined`).
pub fn assert_handled_and_declined(
    handled: &[String],
    declined: &[String],
    must: &[&str],
    must_decline: &[&str],
) {
    for name in must {
        assert!(handled.iter().any(|n| n == name), "{name} not handled");
    }
    for name in must_decline {
        assert!(declined.iter().any(|n| n == name), "{name} handled");
    }
}
