//! Shared helpers for the interop tests.
