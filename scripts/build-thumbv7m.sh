#!/usr/bin/env bash
# Build echoprobe-core for thumbv7m-none-eabi (Cortex-M3) and prove it links neither std nor alloc.
#
# Uses Debian's rustc-web/cargo-web (rustc 1.96 at /usr/bin) with -Zbuild-std=core: only `core`
# (and compiler_builtins) is built from /usr/lib/rustlib/src/rust (package rust-web-src), so any
# `extern crate alloc` or `std` in core fails to compile. RUSTC_BOOTSTRAP=1 unlocks -Z on that
# stable compiler. A separate target dir keeps it apart from the host build.
#
# The first run downloads the library workspace's crates (it needs the network); later runs are
# offline-safe. Usage: scripts/build-thumbv7m.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=thumbv7m-none-eabi
TARGET_DIR=target/thumbv7m
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
SRC=/usr/lib/rustlib/src/rust/library/core

for f in "$DEB_CARGO" "$DEB_RUSTC"; do
    [ -x "$f" ] || { echo "build-thumbv7m: $f missing (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -d "$SRC" ] || { echo "build-thumbv7m: $SRC missing (package rust-web-src)" >&2; exit 1; }

# Keep rustup's overrides out of Debian's toolchain.
unset RUSTUP_TOOLCHAIN CARGO_BUILD_TARGET RUSTFLAGS
export RUSTC=$DEB_RUSTC RUSTC_BOOTSTRAP=1

echo "build-thumbv7m: $("$DEB_RUSTC" -V), $("$DEB_CARGO" -V)"

deps_dir=$TARGET_DIR/$TARGET/release/deps
for features in "" "async" "nal"; do
    label=${features:-default}
    echo "build-thumbv7m: echoprobe-core [$label]"
    # Each feature set builds into the same dir; clear the old rlibs so the checks below only see
    # this build's artefacts.
    rm -f "$deps_dir"/libechoprobe_core-*.rlib "$deps_dir"/liballoc-*.rlib "$deps_dir"/libstd-*.rlib
    "$DEB_CARGO" build -p echoprobe-core --target "$TARGET" -Zbuild-std=core --release \
        --target-dir "$TARGET_DIR" ${features:+--features "$features"}

    shopt -s nullglob
    rlibs=("$deps_dir"/libechoprobe_core-*.rlib)
    forbidden=("$deps_dir"/liballoc-*.rlib "$deps_dir"/libstd-*.rlib)
    shopt -u nullglob
    if [ "${#rlibs[@]}" -ne 1 ]; then
        echo "build-thumbv7m: expected one echoprobe_core rlib, found ${#rlibs[@]}" >&2
        exit 1
    fi
    if [ "${#forbidden[@]}" -ne 0 ]; then
        echo "build-thumbv7m: alloc/std was built: ${forbidden[*]}" >&2
        exit 1
    fi
    # No allocator calls or alloc/std symbols referenced from the object code.
    # (v0 mangling names a crate as C[s<hash>_]<len><name>, legacy as _ZN<len><name>.)
    if nm -u "${rlibs[0]}" 2>/dev/null | grep -E '__rust_(alloc|dealloc|realloc)|C(s[0-9A-Za-z]*_)?(5alloc|3std)|_ZN(5alloc|3std)'; then
        echo "build-thumbv7m: echoprobe-core [$label] references alloc/std symbols (above)" >&2
        exit 1
    fi
    size=$(stat -c %s "${rlibs[0]}")
    echo "build-thumbv7m: echoprobe-core [$label] OK (no alloc, no std; rlib $size bytes)"
done
