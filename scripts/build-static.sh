#!/usr/bin/env bash
# Build echoprobe as one fully static x86_64-unknown-linux-musl binary for appliances (old
# distributions, no package manager): copy the one file, run it. Prints its path as the last line.
#
# Built the way core is built for Cortex-M (scripts/build-thumbv7m.sh): Debian's rustc-web/cargo-web
# (/usr/bin, rustc 1.96) with RUSTC_BOOTSTRAP=1 and -Zbuild-std=std,panic_abort, the library sources
# from rust-web-src; musl-tools' musl-gcc compiles ring's C code and links. Rust's musl target wants
# its own self-contained crt objects and libunwind.a, which Debian does not ship, so:
#   -C link-self-contained=no       musl-gcc's crt and libc instead;
#   -C target-feature=+crt-static   a static executable ...
#   -C relocation-model=static      ... not static-pie (with static-pie `file` shows a musl interpreter);
#   -L /usr/lib/llvm-16/lib         libunwind.a from libunwind-16-dev (std's unwinder, for panics and
#                                   backtraces); it calls glibc's fortified __fprintf_chk, which a
#                                   four-line C shim (below, compiled with musl-gcc) forwards to vfprintf.
# Looked at and not taken (from the sources, not built): -C panic=abort does not drop the unwinder
# (library/unwind links libunwind for every crt-static musl build, std's backtraces call
# _Unwind_Backtrace); gcc's libgcc_eh.a needs glibc's _dl_find_object (nm), a shim again; std's
# llvm-libunwind feature builds libunwind from src/llvm-project, which rust-web-src does not ship.
#
# A separate target dir (target/static) keeps it apart from the host build. The first run downloads
# the library workspace's crates. Usage: scripts/build-static.sh [cargo options, e.g. --locked]
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl
TARGET_DIR=$PWD/target/static
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
LIBUNWIND_DIR=/usr/lib/llvm-16/lib

for f in "$DEB_CARGO" "$DEB_RUSTC" /usr/bin/musl-gcc "$LIBUNWIND_DIR/libunwind.a"; do
    [ -e "$f" ] || { echo "build-static: $f missing (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -d /usr/lib/rustlib/src/rust/library/std ] || {
    echo "build-static: std sources missing (package rust-web-src)" >&2
    exit 1
}

# The shim: libunwind.a (built against glibc) calls __fprintf_chk; musl has vfprintf.
shim=$TARGET_DIR/shim
mkdir -p "$shim"
cat >"$shim/fortify.c" <<'C'
#include <stdarg.h>
#include <stdio.h>
int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = vfprintf(stream, format, ap);
    va_end(ap);
    (void)flag;
    return n;
}
C
musl-gcc -O2 -c "$shim/fortify.c" -o "$shim/fortify.o"

# Keep rustup's overrides out of Debian's toolchain.
unset RUSTUP_TOOLCHAIN CARGO_BUILD_TARGET RUSTFLAGS CARGO_TARGET_DIR
export RUSTC=$DEB_RUSTC RUSTC_BOOTSTRAP=1
export CC_x86_64_unknown_linux_musl=musl-gcc
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=+crt-static \
-C link-self-contained=no -C relocation-model=static -L $LIBUNWIND_DIR -C link-arg=$shim/fortify.o"

echo "build-static: $("$DEB_RUSTC" -V), $("$DEB_CARGO" -V), $(musl-gcc --version | head -n 1)" >&2
"$DEB_CARGO" build -p echoprobe --bin echoprobe --release --target "$TARGET" \
    -Zbuild-std=std,panic_abort --target-dir "$TARGET_DIR" "$@" >&2
bin=$TARGET_DIR/$TARGET/release/echoprobe
[ -x "$bin" ] || { echo "build-static: $bin was not made" >&2; exit 1; }
echo "$bin"
