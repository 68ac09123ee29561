#!/usr/bin/env bash
# scripts/test.sh: the one test command of echoprobe (the README names it, CI runs it via .ci/run).
#
#   scripts/test.sh            run everything; exit 0 only if every step passed
#
# Steps, in order (each timed; a failed step does not stop the independent ones after it):
#   deps       scripts/install-deps.sh (apt/pip/rustup, quick when all is present)
#   msrv       the rust-version each Cargo.toml claims is the toolchain CI builds it with
#              (workspace: rustup's stable; firmware: Debian's /usr/bin/rustc)
#   fmt        cargo fmt --all --check, for the workspace, firmware/ and fuzz/
#   lint       shellcheck on scripts/*.sh and .ci/run
#   clippy     cargo clippy --workspace --all-targets -- -D warnings, and core with its
#              async and nal features, and as the firmware has it: find without find-scp; and
#              cargo doc of core with -D warnings (its links hold with and without its features)
#   build      cargo test --workspace --no-run, cargo build --workspace --bins (needs the network
#              for crates; everything later runs offline)
#   thumbv7m   scripts/build-thumbv7m.sh (core for Cortex-M3, no alloc)
#   core-async cargo test -p echoprobe-core --features async,nal (the async driver's and the
#              embedded-nal adapter's tests)
#   core-find  cargo test -p echoprobe-core --features async,find (the find requestor without
#              the find SCP, as the firmware builds it)
#   test       cargo test --workspace --offline inside a fresh network namespace that only has
#              loopback (unshare -n), so DCMTK, pynetdicom, HAProxy and our own servers can only
#              listen on and talk to 127.0.0.0/8 and ::1. Not run if `build` failed.
#   suites     the suites that live in their own scripts; each must exist and be executable:
#                firmware/qemu-test.sh   firmware on QEMU (must isolate its own networking)
#                fuzz/smoke.sh           short fuzz runs of every target
#              Each runs by absolute path from the repo root, with the network available (it
#              must isolate what it starts itself). One that is missing or not executable is a
#              failure: CI cannot quietly lose a suite.
#   ship       scripts/test-ship.sh: the .deb (lintian, install, remove, purge), the systemd unit,
#              the static musl binary, the Nagios plugin mode (as root, own namespaces)
#
# Environment: CI=true adds --locked to cargo. ECHOPROBE_TEST_TIMEOUT (seconds, default 1800)
# bounds the namespaced test run. As non-root the namespace is made with `unshare -r -n`.
set -euo pipefail
cd "$(dirname "$0")/.."

T_START=$(date +%s)
SUMMARY=()
FAILURES=0
declare -A RESULT=()
LOCKED=()
[ "${CI:-}" = "true" ] && LOCKED=(--locked)
TEST_TIMEOUT=${ECHOPROBE_TEST_TIMEOUT:-1800}

ts() { date -u +%H:%M:%S; }

# step NAME CMD...: run CMD, record PASS/FAIL and the duration. Never aborts the script.
step() {
    local name=$1
    shift
    local t0 rc dt
    t0=$(date +%s)
    printf '\n==> [%s] %s: %s\n' "$(ts)" "$name" "$*"
    if "$@"; then rc=0; else rc=$?; fi
    dt=$(($(date +%s) - t0))
    if [ "$rc" -eq 0 ]; then
        RESULT[$name]=pass
        SUMMARY+=("$(printf 'PASS    %5ss  %s' "$dt" "$name")")
        printf '<== [%s] %s: ok (%ss)\n' "$(ts)" "$name" "$dt"
    else
        RESULT[$name]=fail
        FAILURES=$((FAILURES + 1))
        SUMMARY+=("$(printf 'FAIL    %5ss  %s (exit %s)' "$dt" "$name" "$rc")")
        printf '<== [%s] %s: FAILED with exit %s (%ss)\n' "$(ts)" "$name" "$rc" "$dt"
    fi
}

# not_run NAME WHY: a step that could not run counts as a failure.
not_run() {
    RESULT[$1]=fail
    FAILURES=$((FAILURES + 1))
    SUMMARY+=("$(printf 'NOT RUN %5s   %s (%s)' "-" "$1" "$2")")
    printf '\n==> [%s] %s: NOT RUN (%s)\n' "$(ts)" "$1" "$2"
}

summary() {
    local total=$(($(date +%s) - T_START))
    printf '\n==================== echoprobe test summary ====================\n'
    printf '%s\n' "${SUMMARY[@]}"
    printf -- '----------------------------------------------------------------\n'
    if [ "$FAILURES" -eq 0 ]; then
        printf 'ALL PASSED in %ss (%dm%02ds)\n' "$total" $((total / 60)) $((total % 60))
    else
        printf '%s STEP(S) FAILED, total %ss (%dm%02ds)\n' "$FAILURES" "$total" $((total / 60)) $((total % 60))
    fi
}

# The namespaced test run. Runs as `bash -c` inside `unshare -n`.
netns_tests() {
    local unshare_args=(-n)
    [ "$(id -u)" -eq 0 ] || unshare_args=(-r -n)
    # Bring up lo (a new namespace has it down), refuse to go on if anything but lo exists,
    # then run every test of the workspace with no network beyond loopback.
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout -k 15 "$TEST_TIMEOUT" unshare "${unshare_args[@]}" -- bash -c '
        set -euo pipefail
        ip link set lo up
        ifaces=$(awk -F: "NR > 2 { gsub(/ /, \"\", \$1); print \$1 }" /proc/self/net/dev | tr "\n" " ")
        echo "test namespace: interfaces: $ifaces"
        [ "$ifaces" = "lo " ] || { echo "test namespace is not loopback-only" >&2; exit 1; }
        exec cargo test --workspace --offline "$@" --no-fail-fast
    ' netns-test "${LOCKED[@]}"
}

echo "echoprobe scripts/test.sh: started $(date -u '+%Y-%m-%d %H:%M:%S') UTC in $PWD (CI=${CI:-})"

step deps scripts/install-deps.sh
if [ "${RESULT[deps]}" != pass ]; then
    summary
    exit 1
fi
echo "toolchain: $(rustc -V); $(cargo -V); python: $(command -v "${ECHOPROBE_PYTHON:-python3}")"

# msrv_matches TOML RUSTC: the rust-version TOML claims is RUSTC's major.minor.
msrv_matches() {
    local claimed have
    claimed=$(sed -n 's/^rust-version = "\([0-9]*\.[0-9]*\).*"/\1/p' "$1")
    have=$("$2" -V | sed -n 's/^rustc \([0-9]*\.[0-9]*\).*/\1/p')
    echo "$1: rust-version ${claimed:-none}, built in CI by $2 $have"
    [ -n "$claimed" ] && [ "$claimed" = "$have" ]
}
step msrv bash -c "$(declare -f msrv_matches); msrv_matches Cargo.toml rustc && msrv_matches firmware/Cargo.toml /usr/bin/rustc"
step fmt bash -c 'cargo fmt --all --check && (cd firmware && cargo fmt --all --check) && (cd fuzz && cargo fmt --all --check)'
step lint bash -c 'shellcheck scripts/*.sh firmware/*.sh fuzz/*.sh .ci/run && shellcheck -s sh examples/lb-health-check/dicom-c-echo.sh examples/serve/echoprobe-status && shellcheck packaging/*.sh'
step clippy bash -c 'cargo clippy --workspace --all-targets "$@" -- -D warnings &&
    cargo clippy -p echoprobe-core --features async --all-targets "$@" -- -D warnings &&
    cargo clippy -p echoprobe-core --features nal --all-targets "$@" -- -D warnings &&
    cargo clippy -p echoprobe-core --features async,find --all-targets "$@" -- -D warnings &&
    RUSTDOCFLAGS="-D warnings" cargo doc -p echoprobe-core --no-deps "$@" &&
    RUSTDOCFLAGS="-D warnings" cargo doc -p echoprobe-core --no-deps --features async,nal,find-scp "$@"' clippy "${LOCKED[@]}"
step build bash -c 'cargo test --workspace --no-run "$@" && cargo build --workspace --bins "$@"' build "${LOCKED[@]}"
step thumbv7m scripts/build-thumbv7m.sh
# The async driver's and the embedded-nal adapter's tests only exist with their features (no
# network: a socket pair, a fake stack).
step core-async cargo test -p echoprobe-core --features async,nal "${LOCKED[@]}"
# The find requestor without the acceptor's C-FIND path (feature find-scp), as the firmware has it.
step core-find cargo test -p echoprobe-core --features async,find "${LOCKED[@]}"

if [ "${RESULT[build]}" = pass ]; then
    step test netns_tests
else
    not_run test "the build step failed"
fi

# The suites in their own scripts. A missing one fails: CI cannot quietly lose a suite.
for suite in firmware/qemu-test.sh fuzz/smoke.sh; do
    if [ -x "$suite" ]; then
        step "suite $suite" "$PWD/$suite"
    elif [ -e "$suite" ]; then
        not_run "suite $suite" "exists but is not executable"
    else
        not_run "suite $suite" "missing"
    fi
done

step ship scripts/test-ship.sh "${LOCKED[@]}"

summary
[ "$FAILURES" -eq 0 ]
