#!/bin/sh
# The fuzz step of scripts/test.sh: every regression input replayed through the harness (stable),
# then every target fuzzed for ${FUZZ_SECONDS:-30} s (nightly), bounded by fuzz/run.sh.
set -eu
cd "$(dirname "$0")"
cargo test -p echoprobe-fuzz-harness
./run.sh "${FUZZ_SECONDS:-30}"
