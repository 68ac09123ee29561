#!/usr/bin/env bash
# Build the Debian package echoprobe_VERSION_amd64.deb with cargo-deb (metadata: host-cli/Cargo.toml
# [package.metadata.deb]); prints the path of the .deb as its last line.
#
# The man pages and the completions are generated from the clap definition by the release binary
# itself (`echoprobe generate man|bash|zsh|fish DIR`) into $CARGO_TARGET_DIR/release/deb/, where
# the metadata's assets find them; the man pages are gzipped as Debian wants (gzip -9n).
#
# Usage: packaging/build-deb.sh [cargo options, e.g. --locked]   (needs `cargo install cargo-deb`)
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -p echoprobe "$@" >&2
bin=$target/release/echoprobe
gen=$target/release/deb
rm -rf "$gen"
mkdir -p "$gen/man" "$gen/completions"
"$bin" generate man "$gen/man" >/dev/null
gzip -9n "$gen"/man/*.1
for shell in bash zsh fish; do
    "$bin" generate "$shell" "$gen/completions" >/dev/null
done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
deb=$target/debian/echoprobe_${version}-1_amd64.deb
mkdir -p "$target/debian"
rm -f "$deb"
cargo deb -p echoprobe --no-build --output "$deb" >&2
[ -f "$deb" ] || { echo "build-deb: $deb was not made" >&2; exit 1; }
echo "$deb"
