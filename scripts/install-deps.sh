#!/usr/bin/env bash
# Install everything scripts/test.sh, scripts/bench.sh and scripts/bench-serve.sh need, on Debian 12
# (bookworm), as root.
#
# prometheus, prometheus-blackbox-exporter and chromium add 36 packages (150 MB download) and about
# 30 s to a fresh install; Debian's packages only install the programs here: nothing is started (the
# tests run each as a plain process with a temporary config).
#
# Assumes rustup with the stable and nightly toolchains is already installed. Idempotent and quick
# when everything is present: apt is only touched (one `apt-get update`, one `apt-get install`)
# when a package is missing, pip only when pynetdicom is missing or has another version, rustup
# only when a component is missing. Prints what it installs.
#
# Environment:
#   ECHOPROBE_PYTHON  the python the interop tests run (default: python3 on PATH). pynetdicom is
#                     installed for exactly this interpreter.
set -euo pipefail

PYNETDICOM_VERSION=3.0.4
PYDICOM_VERSION=3.0.2
PYTHON=${ECHOPROBE_PYTHON:-python3}

# Debian packages, each with what it is for.
APT_PACKAGES=(
    dcmtk           # storescp, echoscu, dcmqrscp: the reference peers
    haproxy         # load-balancer interop (external-check, agent-check against echoprobe serve)
    prometheus      # echoprobe serve tests: a real Prometheus scrapes /metrics and /probe; ships promtool
    prometheus-blackbox-exporter # bench-serve.sh: the tcp_connect /probe that echoprobe's /probe is compared to
    chromium        # echoprobe serve tests: the status page in headless Chromium (DOM and screenshot)
    orthanc         # the find check's real PACS (tests/tests/find_orthanc.rs, bench.sh)
    orthanc-postgresql # Orthanc's index in PostgreSQL: the database the find check must see die
    postgresql      # initdb/pg_ctl/postgres 15 for that index (run as the postgres user)
    qemu-system-arm # firmware tests on an emulated Cortex-M3
    rustc-web       # Debian's rustc 1.96 (with the thumbv7m target spec) for -Zbuild-std
    cargo-web       # the matching cargo
    rust-web-src    # library sources for -Zbuild-std=core (/usr/lib/rustlib/src/rust)
    rust-web-llvm   # llvm tools for rustc-web
    rust-web-clippy # clippy for the firmware (built by Debian's toolchain, outside the workspace)
    lld-22          # linker for the embedded target
    socat           # firmware/qemu-test.sh: relays QEMU guestfwd connections to loopback peers
    curl            # firmware/qemu-test.sh: the probe's HTTP health endpoint
    iproute2        # ip: bring up lo inside the test namespace
    util-linux      # unshare
    python3-pip     # pip for Debian's python (pyenv pythons bring their own)
    time            # /usr/bin/time -v for peak RSS in bench.sh
    hyperfine       # bench.sh
    shellcheck      # test.sh lints scripts/ and .ci/run
    gcc             # host linker for cargo
    libc6-dev
    ca-certificates # crates.io, pypi
    lintian         # test-ship.sh: the .deb passes lintian
    musl-tools      # build-static.sh: musl-gcc compiles ring's C code and links the static binary
    libunwind-16-dev # build-static.sh: libunwind.a, std's unwinder for the musl target
    systemd         # test-ship.sh: systemd-analyze verify/security of echoprobe.service (not booted)
    man-db          # test-ship.sh: man -l renders the packaged man page
    file            # test-ship.sh: `file` says the static binary is statically linked
    nagios4-core    # test-ship.sh: a real Nagios 4 runs check_dicom (lighter than icinga2: no boost, no cgi)
)

log() { printf '[install-deps %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        log "need root for: $*"
        return 1
    fi
}

# --- apt ------------------------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    log "apt: all ${#APT_PACKAGES[@]} packages present"
else
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- pip: pynetdicom for the python the tests use -------------------------------------------
have=$("$PYTHON" -c 'import pynetdicom, pydicom; print(pynetdicom.__version__)' 2>/dev/null || true)
if [ "$have" = "$PYNETDICOM_VERSION" ]; then
    log "pip: pynetdicom $have present for $(command -v "$PYTHON")"
else
    log "pip: installing pynetdicom==$PYNETDICOM_VERSION pydicom==$PYDICOM_VERSION for $(command -v "$PYTHON") (had: ${have:-none})"
    # Debian's own python refuses pip installs (PEP 668) unless told otherwise; pyenv ignores this.
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$PYTHON" -m pip install -q "pynetdicom==$PYNETDICOM_VERSION" "pydicom==$PYDICOM_VERSION"
    "$PYTHON" -c 'import pynetdicom; print("pynetdicom", pynetdicom.__version__)'
fi

# --- rustup components ----------------------------------------------------------------------
cd "$(dirname "$0")/.."
toolchain=$(rustup show active-toolchain | cut -d' ' -f1)
installed=$(rustup component list --installed --toolchain "$toolchain")
components=()
for c in rustfmt clippy; do
    grep -q "^$c" <<<"$installed" || components+=("$c")
done
if [ "${#components[@]}" -eq 0 ]; then
    log "rustup: rustfmt and clippy present for $toolchain"
else
    log "rustup: adding ${components[*]} to $toolchain"
    rustup component add --toolchain "$toolchain" "${components[@]}"
fi

# --- sanity: the binaries the tests call by absolute path -----------------------------------
# Cargo-installed tools: defmt-print decodes the firmware's log in firmware/qemu-test.sh,
# cargo-fuzz runs fuzz/ (with rustup's nightly toolchain, which the machine image provides).
cargo_tool() {
    local bin=$1 crate=$2 version=$3
    if "$bin" --version 2>/dev/null | grep -q "$version"; then
        log "cargo: $crate $version present"
    else
        log "cargo: installing $crate $version"
        cargo install --locked --quiet "$crate" --version "$version"
    fi
}
cargo_tool defmt-print defmt-print 1.2.0
cargo_tool cargo-fuzz cargo-fuzz 0.13.2
cargo_tool cargo-deb cargo-deb 3.8.0 # packaging/build-deb.sh
rustup toolchain list | grep -q '^nightly' || {
    log "rustup: installing the nightly toolchain for cargo fuzz"
    rustup toolchain install nightly --profile minimal
}

for bin in /usr/bin/storescp /usr/bin/echoscu /usr/bin/dcmqrscp /usr/sbin/haproxy \
    /usr/bin/qemu-system-arm /usr/bin/rustc /usr/bin/cargo /usr/bin/cargo-clippy /usr/bin/unshare \
    /usr/bin/time /usr/bin/socat /usr/bin/curl /usr/bin/prlimit /usr/bin/prometheus /usr/bin/promtool \
    /usr/bin/prometheus-blackbox-exporter /usr/bin/chromium /usr/bin/musl-gcc /usr/sbin/nagios4 \
    /usr/bin/lintian /usr/bin/systemd-analyze /usr/bin/dump2dcm /usr/bin/storescu \
    /usr/bin/findscu /usr/sbin/Orthanc /usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pg_ctl \
    /usr/sbin/runuser; do
    [ -x "$bin" ] || { log "missing after install: $bin"; exit 1; }
done
[ -f /usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so ] || { log "missing: Orthanc's PostgreSQL index plugin"; exit 1; }
[ -d /usr/lib/rustlib/src/rust/library/core ] || { log "missing: rust-web-src library sources"; exit 1; }
log "done"
