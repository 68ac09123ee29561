#!/usr/bin/env bash
# scripts/bench-serve-ab.sh: two builds of `echoprobe serve` side by side at scale, to tell whether a change moved
# the daemon's CPU. Prints figures and ratios; not a test (scripts/test.sh does not run it).
#
# Why: the scale figure of scripts/bench-serve.sh follows the machine more than the code (the same build gave 8.0%
# to 10.6% of a core on different days, 9.1% to 10.3% in short runs on one day). Two daemons that run at the same
# time against the same listeners see the same machine, so their ratio tells the builds apart where two separate
# runs cannot. Each round runs both daemons with TARGETS/2 targets each (every BENCH_INTERVAL_MS), and swaps which
# of the two gets which half of the listeners and ports in the next round, so that a place's advantage cancels out.
#
# How to run (root, or a user allowed to create user namespaces; every process runs in a fresh network namespace
# that has only loopback, and stops by itself):
#   scripts/bench-serve-ab.sh OLD_BINARY NEW_BINARY            # 4 rounds of 30 s
#   scripts/bench-serve-ab.sh OLD_BINARY NEW_BINARY 6 60       # ROUNDS (1..20), SECONDS (10..600)
# Environment: BENCH_TARGETS (10000 in all, half each), BENCH_INTERVAL_MS (10000), BENCH_LISTENERS (20 echoprobe scp
# processes, from OLD_BINARY).
#
# Each round prints both daemons' CPU (from /proc/PID/schedstat, the scheduler's run time, over SECONDS after a
# warm-up of one interval) and NEW/OLD; the end prints the geometric mean of the ratios and their spread. Two runs
# of the same build differed by up to 17% in one round on this project's 2-CPU machine: trust a mean over rounds.

set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: $0 OLD_BINARY NEW_BINARY [ROUNDS (1..20)] [SECONDS (10..600)]; see the header" >&2
    exit 1
}
[ $# -ge 2 ] || usage
OLD=$(realpath "$1")
NEW=$(realpath "$2")
ROUNDS=${3:-4}
SECONDS_EACH=${4:-30}
TARGETS=${BENCH_TARGETS:-10000}
INTERVAL_MS=${BENCH_INTERVAL_MS:-10000}
LISTENERS=${BENCH_LISTENERS:-20}
num() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
if ! { num "$ROUNDS" 1 20 && num "$SECONDS_EACH" 10 600 && num "$TARGETS" 2 100000 &&
    num "$INTERVAL_MS" 100 60000 && num "$LISTENERS" 2 250; }; then
    usage
fi
for b in "$OLD" "$NEW"; do
    [ -x "$b" ] || { echo "bench-serve-ab: $b is not an executable" >&2; exit 1; }
    { "$b" --version 2>/dev/null | grep -q '^echoprobe' && "$b" serve --help >/dev/null 2>&1; } ||
        { echo "bench-serve-ab: $b is not an echoprobe with a serve subcommand" >&2; exit 1; }
done

per_round=$((INTERVAL_MS / 1000 + SECONDS_EACH + 30))
# shellcheck source=scripts/netns.sh
. scripts/netns.sh
bench_netns bench-serve-ab BENCH_TARGETS="$TARGETS" BENCH_INTERVAL_MS="$INTERVAL_MS" BENCH_LISTENERS="$LISTENERS" \
    timeout $((ROUNDS * per_round + 60)) bash "$0" "$OLD" "$NEW" "$ROUNDS" "$SECONDS_EACH"

# --- inside the namespace -----------------------------------------------------------------------
PORT=11112

work=$(mktemp -d)
pids=()
daemons=()
stop_daemons() {
    for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null || true; done
    daemons=()
}
cleanup() {
    stop_daemons
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The listeners: half on 127.0.1.x, half on 127.0.2.x, one daemon's targets on each half.
half=$((LISTENERS / 2))
for side in 1 2; do
    for i in $(seq 1 "$half"); do
        "$OLD" scp -q --bind "127.0.$side.$i" --max-associations 512 -aet BENCH-SCP "$PORT" \
            >"$work/scp$side-$i.log" 2>&1 &
        pids+=($!)
    done
done
wait_listeners "$PORT" $((2 * half)) || true

# config SIDE: the configuration of the daemon whose targets are on 127.0.SIDE.x (its ports 1910SIDE, 1955SIDE).
config() {
    printf '[listen]\nhttp = "127.0.0.1:1910%d"\nagent = "127.0.0.1:1955%d"\n\n' "$1" "$1"
    printf '[defaults]\ncalling_ae = "BENCH"\ncalled_ae = "BENCH-SCP"\ninterval_ms = %d\n' "$INTERVAL_MS"
    printf 'connect_timeout_ms = 2000\nacse_timeout_ms = 2000\ndimse_timeout_ms = 2000\nrise = 1\nfall = 2\n'
    for i in $(seq 0 $((TARGETS / 2 - 1))); do
        printf '\n[[target]]\nname = "t%05d"\naddress = "127.0.%d.%d"\nport = %d\n' "$i" "$1" $((i % half + 1)) "$PORT"
    done
}
config 1 >"$work/side1.toml"
config 2 >"$work/side2.toml"

# run_ns PID: the scheduler's run time of PID in ns.
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# up PORT: how many targets the daemon on http PORT has up.
up() {
    python3 -c 'import json, sys, urllib.request
d = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/targets" % sys.argv[1], timeout=30))
d = d.get("targets", d) if isinstance(d, dict) else d
print(sum(t["state"] == "up" for t in d))' "$1" 2>/dev/null || echo "?"
}

echo "bench-serve-ab: $(nproc) CPUs, $(uname -r); OLD $OLD, NEW $NEW"
echo "  $((TARGETS / 2)) targets each every $INTERVAL_MS ms, $half listeners each; $ROUNDS rounds of $SECONDS_EACH s"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
    # Odd rounds: OLD on side 1, NEW on side 2; even rounds the other way round.
    if [ $((r % 2)) -eq 1 ]; then old_side=1 new_side=2; else old_side=2 new_side=1; fi
    "$OLD" serve --config "$work/side$old_side.toml" >"$work/old.log" 2>&1 &
    old_pid=$!
    "$NEW" serve --config "$work/side$new_side.toml" >"$work/new.log" 2>&1 &
    new_pid=$!
    daemons=("$old_pid" "$new_pid")
    sleep $((INTERVAL_MS / 1000 + 2))
    for pid in "$old_pid" "$new_pid"; do
        kill -0 "$pid" 2>/dev/null || { echo "bench-serve-ab: a daemon exited:" >&2; cat "$work"/*.log >&2; exit 1; }
    done
    o0=$(run_ns "$old_pid")
    n0=$(run_ns "$new_pid")
    sleep "$SECONDS_EACH"
    o1=$(run_ns "$old_pid")
    n1=$(run_ns "$new_pid")
    old_up=$(up "1910$old_side")
    new_up=$(up "1910$new_side")
    stop_daemons
    ratio=$(awk -v o=$((o1 - o0)) -v n=$((n1 - n0)) 'BEGIN { printf "%.3f", n / o }')
    ratios+=("$ratio")
    awk -v o=$((o1 - o0)) -v n=$((n1 - n0)) -v s="$SECONDS_EACH" -v r="$r" -v ou="$old_up" -v nu="$new_up" \
        -v l="$(cut -d' ' -f1 /proc/loadavg)" -v ratio="$ratio" 'BEGIN {
        printf "  round %d: OLD %.2f%% of a core (%s up), NEW %.2f%% (%s up), NEW/OLD %s; load %s\n",
            r, o / s / 1e7, ou, n / s / 1e7, nu, ratio, l }'
done
printf '%s\n' "${ratios[@]}" | awk '{ s += log($1); if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
    END { printf "NEW/OLD: geometric mean %.3f over %d rounds (%.3f to %.3f)\n", exp(s / NR), NR, lo, hi }'
