#!/bin/bash
# Host unit tests of the firmware's pure modules (no board, no smoltcp): each file is built alone as a test crate
# with the host's rustc and run. Prints the test harness's summary.
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for m in metrics schedule; do
  /usr/bin/rustc --edition 2021 --test -o "$out/$m" "src/$m.rs"
  "$out/$m" -q
done
