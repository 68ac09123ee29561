//! Golden PDUs for the seeds and regression tests: the core's own (`echoprobe_core::wire::golden`,
//! feature `golden`), described in `docs/captures.md`. One copy, in the core.

pub use echoprobe_core::wire::golden::*;

/// Decodes a hex string (test data only: panics on bad hex).
pub fn hex(text: &str) -> Vec<u8> {
    assert!(
        text.len().is_multiple_of(2) && text.bytes().all(|d| d.is_ascii_hexdigit()),
        "bad hex"
    );
    bytes(text).collect()
}
