//! Helpers for the codec's property tests.

/// Splits `bytes` at the given points (any order, repeats and points past the end ignored): the
/// same stream as a different sequence of reads.
pub fn chunked(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.retain(|&c| c <= bytes.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut from = 0;
    for cut in cuts {
        chunks.push(bytes.get(from..cut).unwrap_or_default());
        from = cut;
    }
    chunks.push(bytes.get(from..).unwrap_or_default());
    chunks
}
