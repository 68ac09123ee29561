#!/bin/sh
# Usage: fuzz/run.sh [SECONDS]   (default 30; env TARGETS="frame pdu" to pick targets)
# Builds every fuzz target (nightly, release + debug assertions, so arithmetic overflow panics),
# seeds the corpora if they are missing, then runs each target for SECONDS, one at a time in one
# process, bounded by -max_total_time and a hard `timeout`. Prints the executions per target;
# exits non-zero if any target crashed, leaked, timed out or could not run. Crash inputs land in
# fuzz/artifacts/<target>/; turn each one into a test in harness/tests/regressions.rs.
set -u
secs="${1:-30}"
cd "$(dirname "$0")" || exit 2
targets="${TARGETS:-frame pdu command requestor acceptor dataset find_requestor find_acceptor}"

cargo +nightly fuzz build -O -a || { echo "fuzz build failed" >&2; exit 2; }
[ -d corpus ] || ./seed.sh corpus

mkdir -p artifacts
failed=""
summary=""
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="artifacts/$t.log"
    echo "=== $t: ${secs}s" >&2
    timeout -k 10 $((secs + 120)) cargo +nightly fuzz run -O -a "$t" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
        -max_len=8192 >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    units=$(find "corpus/$t" -type f | wc -l)
    line=$(printf '%-10s rc=%-3s execs=%-10s cov=%-6s corpus=%s' "$t" "$rc" "${execs:-?}" "${cov:-?}" "$units")
    summary="$summary$line
"
    if [ "$rc" -ne 0 ]; then
        failed="$failed $t"
        echo "--- $t failed (rc=$rc); end of $log:" >&2
        tail -n 40 "$log" >&2
    fi
done
printf '%s' "$summary"
if [ -n "$failed" ]; then
    echo "FAILED:$failed (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
