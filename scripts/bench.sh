#!/usr/bin/env bash
# scripts/bench.sh: DCMTK echoscu vs echoprobe, N sequential C-ECHO checks against a local DCMTK
# storescp, in a network namespace that only has loopback. Not part of scripts/test.sh.
#
# How to run (from anywhere; root, or a user allowed to create user namespaces):
#   scripts/install-deps.sh      # once: dcmtk, hyperfine, time
#   scripts/bench.sh             # N=50 checks each
#   scripts/bench.sh 200         # N=200
#
# It builds echoprobe in release mode first (outside the namespace: the first build may fetch
# crates), then re-runs itself inside `unshare -n` (`unshare -rn` as non-root), starts storescp
# on 127.0.0.1:11112 and measures, per tool:
#   - wall time per check: hyperfine (--shell=none, 3 warm-up runs, N runs) when installed,
#     else (or with BENCH_LOOP=1) a bounded loop timed with `date +%s%N`;
#   - peak RSS: the largest "Maximum resident set size" of 5 runs under /usr/bin/time -v.
# Then it prints both and the ratios (echoscu / echoprobe). Every check must exit 0, or the
# benchmark stops.

# shellcheck disable=SC2086 # $DCMTK_CMD / $PROBE_CMD / $1 are split into words on purpose
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-50}
if ! [[ "$N" =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 10000 ]; then
    echo "usage: $0 [N (1..10000)]" >&2
    exit 1
fi

if [ -z "${ECHOPROBE_BENCH_NETNS:-}" ]; then
    cargo build --release -p echoprobe --bin echoprobe
    ns=(-n)
    [ "$(id -u)" -eq 0 ] || ns=(-r -n)
    exec unshare "${ns[@]}" -- env ECHOPROBE_BENCH_NETNS=1 BENCH_LOOP="${BENCH_LOOP:-}" bash "$0" "$N"
fi

# --- inside the namespace -----------------------------------------------------------------------
ip link set lo up
ifaces=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/self/net/dev | tr '\n' ' ')
[ "$ifaces" = "lo " ] || { echo "bench: namespace has interfaces $ifaces, refusing" >&2; exit 1; }

PORT=11112
ECHOSCU=/usr/bin/echoscu # not PATH: pynetdicom ships its own echoscu
STORESCP=/usr/bin/storescp
PROBE=$PWD/target/release/echoprobe
for b in "$ECHOSCU" "$STORESCP" "$PROBE" /usr/bin/time; do
    [ -x "$b" ] || { echo "bench: $b missing (scripts/install-deps.sh)" >&2; exit 1; }
done

work=$(mktemp -d)
"$STORESCP" --aetitle STORESCP --output-directory "$work" "$PORT" >"$work/storescp.log" 2>&1 &
SCP_PID=$!
cleanup() {
    kill "$SCP_PID" 2>/dev/null || true
    wait "$SCP_PID" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Wait (at most 10 s) for storescp to listen: state 0A in /proc/net/tcp, port in hex.
hexport=$(printf '%04X' "$PORT")
for _ in $(seq 200); do
    awk -v p=":$hexport" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/self/net/tcp && break
    sleep 0.05
done
kill -0 "$SCP_PID" || { echo "bench: storescp died:" >&2; cat "$work/storescp.log" >&2; exit 1; }

# The commands are plain words, word-split on purpose where they run.
DCMTK_CMD="$ECHOSCU -aet LOADBALANCER -aec STORESCP 127.0.0.1 $PORT"
PROBE_CMD="$PROBE -aet LOADBALANCER -aec STORESCP 127.0.0.1 $PORT"

for cmd in "$DCMTK_CMD" "$PROBE_CMD"; do
    $cmd >/dev/null 2>&1 || { echo "bench: '$cmd' failed (exit $?)" >&2; exit 1; }
done

echo "bench: $N sequential checks each against storescp on 127.0.0.1:$PORT ($(nproc) CPUs, $(uname -r))"
echo "  dcmtk:     $DCMTK_CMD   ($($ECHOSCU --version | head -1 | tr -d '$'))"
echo "  echoprobe: $PROBE_CMD   ($("$PROBE" --version | head -1))"

# Mean wall time per check in microseconds, for each of the two commands.
if [ -z "${BENCH_LOOP:-}" ] && command -v hyperfine >/dev/null; then
    echo "timing: hyperfine --shell=none --warmup 3 --runs $N"
    hyperfine --shell=none --warmup 3 --runs "$N" --style basic --export-json "$work/h.json" \
        -n echoscu "$DCMTK_CMD" -n echoprobe "$PROBE_CMD"
    read -r T_DCMTK T_PROBE < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join(str(round(x["mean"] * 1e6)) for x in r))
' "$work/h.json")
else
    echo "timing: bounded loop of $N runs with date +%s%N"
    loop_us() {
        local t0 t1 i
        t0=$(date +%s%N)
        for ((i = 0; i < N; i++)); do
            $1 >/dev/null 2>&1 || { echo "bench: check $i of '$1' failed" >&2; return 1; }
        done
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000 / N))
    }
    T_DCMTK=$(loop_us "$DCMTK_CMD")
    T_PROBE=$(loop_us "$PROBE_CMD")
fi

peak_rss_kb() {
    local max=0 kb
    for _ in 1 2 3 4 5; do
        kb=$(/usr/bin/time -v $1 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }')
        [ "$kb" -gt "$max" ] && max=$kb
    done
    echo "$max"
}
M_DCMTK=$(peak_rss_kb "$DCMTK_CMD")
M_PROBE=$(peak_rss_kb "$PROBE_CMD")

ratio() { python3 -c "import sys; a, b = map(float, sys.argv[1:]); print(f'{a / b:.1f}x' if b else 'n/a')" "$1" "$2"; }
echo
printf '%-10s %16s %14s\n' tool "time/check (us)" "peak RSS (kB)"
printf '%-10s %16s %14s\n' echoscu "$T_DCMTK" "$M_DCMTK"
printf '%-10s %16s %14s\n' echoprobe "$T_PROBE" "$M_PROBE"
printf '%-10s %16s %14s\n' ratio "$(ratio "$T_DCMTK" "$T_PROBE")" "$(ratio "$M_DCMTK" "$M_PROBE")"
echo "(ratio = echoscu / echoprobe; echoprobe binary $(stat -c %s "$PROBE") bytes)"
