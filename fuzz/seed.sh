#!/bin/sh
# Writes the seed corpora into fuzz/corpus/<target>/ (not committed: see .gitignore).
# The seeds are the golden PDUs (core/src/wire/golden.rs, feature "golden"; see docs/captures.md),
# PDUs built with the core's emitters, and scripted conversations for the two state-machine
# targets (format: harness/src/script.rs). Runs on stable Rust.
set -eu
cd "$(dirname "$0")"
out="${1:-corpus}"
cargo run --quiet -p echoprobe-fuzz-harness --bin seeds -- "$out"
for t in "$out"/*/; do
    printf '%-10s %3d seeds\n' "$(basename "$t")" "$(find "$t" -type f | wc -l)"
done
