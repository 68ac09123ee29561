#!/usr/bin/env bash
# scripts/bench-serve.sh: `echoprobe serve` at scale, and its /probe side by side with Debian's
# prometheus-blackbox-exporter. Prints figures and ratios; not a test (scripts/test.sh does not run it).
#
# How to run (root, or a user allowed to create user namespaces; every process runs in a fresh network
# namespace that has only loopback, and stops by itself):
#   scripts/install-deps.sh          # once: prometheus-blackbox-exporter, python3
#   scripts/bench-serve.sh           # 60 s scale run, 30 s of /probe each side
#   scripts/bench-serve.sh 120 20    # SCALE_SECONDS (60..3600), PROBE_SECONDS (10..600)
#
# Environment: BENCH_TARGETS (10000), BENCH_INTERVAL_MS (10000), BENCH_RATE (/probe requests a second, 1000),
# BENCH_LISTENERS (echoprobe scp processes, 20), BENCH_CONNS (driver keep-alive connections, 16), BENCH_SPARSE
# (a second /probe run as RATE/CONNS, 322/8: the rate the issue measured blackbox_exporter at, from enough
# connections that neither server's answer time holds the pace back, as Prometheus scrapes its targets
# concurrently; `none` leaves it out), BENCH_HEADERS (`prometheus`: each request carries what Prometheus 2.42
# sends with a scrape: its Accept header, which prefers OpenMetrics, `Accept-Encoding: gzip`, the scrape-timeout
# header (10 s, its default) and the target URL-encoded; `bare`: the request line and Host only).
#
# 1. Scale. BENCH_TARGETS targets, each checked every BENCH_INTERVAL_MS (10,000 every 10 s: 1,000 checks a
#    second) against BENCH_LISTENERS `echoprobe scp` processes on 127.0.1.1, 127.0.1.2, ... port 11112 (many
#    addresses, so that client ports never run out). After a warm-up (one interval and every target up, at most
#    3 intervals), over SCALE_SECONDS: the daemon's CPU from /proc/PID/stat (utime+stime) as % of one core,
#    its peak RSS (VmHWM), the p99 of the lag between a check's planned and actual start (from the
#    echoprobe_schedule_lag_seconds histogram on /metrics, if the daemon exposes it; else it says so), and how
#    many targets are up at the end. Goals: <= 10 % of one core, <= 64 MiB, p99 lag < 100 ms, all up.
# 2. /probe side by side. blackbox_exporter with a tcp_connect module, then a second `echoprobe serve` with one
#    target (its own schedule idle), are each driven with /probe requests at BENCH_RATE against the same
#    listeners, as Prometheus would drive them (keep-alive HTTP/1.1 from BENCH_CONNS connections, paced, with
#    Prometheus's request headers: blackbox_exporter then gzips its answer, echoprobe does not). Only the
#    server process's CPU is measured (utime+stime over the run); the driver is a small asyncio client. Prints CPU
#    per probe of each and the ratio echoprobe / blackbox (goal: a full DICOM check <= 0.2x a bare TCP connect).
#    Then the same at BENCH_SPARSE: with probes further apart, fewer arrive within one of the daemon's 10 ms ticks
#    (its /probe checks start on that grid and share wake-ups), so each costs more; blackbox_exporter's do too.
# Parts whose program is missing are reported and skipped (this is a benchmark, not a test): without a
# `serve` subcommand in the echoprobe build, only blackbox_exporter's figure is printed.

set -euo pipefail
cd "$(dirname "$0")/.."

SCALE_SECONDS=${1:-60}
PROBE_SECONDS=${2:-30}
TARGETS=${BENCH_TARGETS:-10000}
INTERVAL_MS=${BENCH_INTERVAL_MS:-10000}
RATE=${BENCH_RATE:-1000}
LISTENERS=${BENCH_LISTENERS:-20}
CONNS=${BENCH_CONNS:-16}
SPARSE=${BENCH_SPARSE:-322/8}
HEADERS=${BENCH_HEADERS:-prometheus}
num() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
if ! { num "$SCALE_SECONDS" 60 3600 && num "$PROBE_SECONDS" 10 600 && num "$TARGETS" 1 100000 &&
    num "$INTERVAL_MS" 100 600000 && num "$RATE" 1 20000 && num "$LISTENERS" 1 250 && num "$CONNS" 1 256 &&
    { [ "$SPARSE" = none ] || { num "${SPARSE%/*}" 1 20000 && num "${SPARSE#*/}" 1 256; }; } &&
    { [ "$HEADERS" = prometheus ] || [ "$HEADERS" = bare ]; }; }; then
    echo "usage: $0 [SCALE_SECONDS (60..3600)] [PROBE_SECONDS (10..600)]; see the header for the environment" >&2
    exit 1
fi

# shellcheck source=scripts/netns.sh
. scripts/netns.sh
bench_netns bench-serve BENCH_TARGETS="$TARGETS" BENCH_INTERVAL_MS="$INTERVAL_MS" BENCH_RATE="$RATE" \
    BENCH_LISTENERS="$LISTENERS" BENCH_CONNS="$CONNS" BENCH_SPARSE="$SPARSE" BENCH_HEADERS="$HEADERS" \
    timeout $((SCALE_SECONDS + 4 * PROBE_SECONDS + 600)) bash "$0" "$SCALE_SECONDS" "$PROBE_SECONDS"

# --- inside the namespace -----------------------------------------------------------------------
PROBE=${CARGO_TARGET_DIR:-$PWD/target}/release/echoprobe
BLACKBOX=/usr/bin/prometheus-blackbox-exporter
PYTHON=/usr/bin/python3
for b in "$PROBE" "$PYTHON"; do
    [ -x "$b" ] || { echo "bench-serve: $b missing (scripts/install-deps.sh)" >&2; exit 1; }
done
HZ=$(getconf CLK_TCK)
PORT=11112
HTTP=127.0.0.1:19107
PROBE_HTTP=127.0.0.1:19108
BLACKBOX_HTTP=127.0.0.1:19115

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# listening PORT [ADDR-HEX]: whether a socket listens on PORT (any address), from /proc/self/net/tcp.
listening() {
    awk -v p=":$(printf '%04X' "$1")" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/self/net/tcp
}
# wait_listen PID PORT NAME: at most 20 s.
wait_listen() {
    for _ in $(seq 400); do
        listening "$2" && return 0
        kill -0 "$1" 2>/dev/null || { echo "bench-serve: $3 exited:" >&2; cat "$work/$3.log" >&2; exit 1; }
        sleep 0.05
    done
    echo "bench-serve: $3 does not listen on $2:" >&2
    cat "$work/$3.log" >&2
    exit 1
}
# cpu_ticks PID: utime + stime (fields 14 and 15 of /proc/PID/stat; the command name may hold blanks).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# hwm_kib PID: peak RSS.
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
addr() { echo "127.0.1.$(($1 % LISTENERS + 1))"; }

# --- the peers: echoprobe scp on 127.0.1.1..N ------------------------------------------------------
for i in $(seq 0 $((LISTENERS - 1))); do
    "$PROBE" scp -q --bind "$(addr "$i")" --max-associations 512 -aet BENCH-SCP "$PORT" >"$work/scp$i.log" 2>&1 &
    pids+=($!)
done
wait_listeners "$PORT" "$LISTENERS" || true
targets_csv=$(for i in $(seq 0 $((LISTENERS - 1))); do printf '%s:%s\n' "$(addr "$i")" "$PORT"; done | paste -sd,)

echo "bench-serve: $(nproc) CPUs, $(uname -r), $("$PROBE" --version | head -1), $LISTENERS echoprobe scp listeners"
# The machine's load (other work skews every figure below): printed at the start of each part and at the end.
load() { echo "  load average $(cut -d' ' -f1-3 /proc/loadavg) ($1)"; }

# --- the /probe driver: paced keep-alive HTTP/1.1 GETs; prints "sent ok seconds" --------------------------
cat >"$work/driver.py" <<'PY'
import asyncio, gzip, sys, time
from urllib.parse import quote

host, port, path_fmt, targets, rate, conns, seconds, headers = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4].split(","), float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
# What Prometheus 2.42 (Debian's) sends with each scrape (captured from it), with its default 10 s scrape timeout.
PROMETHEUS = ("User-Agent: Prometheus/2.42.0+ds\r\n"
              "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
              "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
              "Accept-Encoding: gzip\r\n"
              "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n")
extra = PROMETHEUS if headers == "prometheus" else ""
done = ok = 0

async def read_response(r):
    head = await r.readuntil(b"\r\n\r\n")
    length, chunked, gzipped = None, False, False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
        elif k == b"content-encoding" and b"gzip" in v.lower():
            gzipped = True
    body = await read_body(r, length, chunked)
    return head, gzip.decompress(body) if gzipped else body

async def read_body(r, length, chunked):
    if chunked:
        body = b""
        while True:
            size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await r.readexactly(size + 2)
            if size == 0:
                return body
    return await r.readexactly(length or 0)

async def worker(i, start):
    global done, ok
    r, w = await asyncio.open_connection(host, port)
    k = 0
    while True:
        n = k * conns + i
        at = start + n / rate
        if at - start >= seconds:
            break
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        target = targets[n % len(targets)]
        path = path_fmt.replace("TARGET", quote(target, safe="") if extra else target)
        w.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode())
        head, body = await read_response(r)
        done += 1
        ok += b"\nprobe_success 1" in b"\n" + body
        k += 1
    w.close()

async def main():
    start = time.monotonic() + 0.2
    await asyncio.wait_for(asyncio.gather(*(worker(i, start) for i in range(conns))), seconds + 60)
    print(done, ok, round(time.monotonic() - start, 3))

asyncio.run(main())
PY

# drive NAME PID HOSTPORT PATH RATE CONNS: drive the server for PROBE_SECONDS, print its CPU per probe; sets
# PER_PROBE_US.
drive() {
    local name=$1 pid=$2 hostport=$3 path=$4 rate=$5 conns=$6 t0 t1 out sent ok secs
    # Warm-up: one second at the same rate.
    "$PYTHON" "$work/driver.py" "${hostport%:*}" "${hostport##*:}" "$path" "$targets_csv" "$rate" "$conns" 1 \
        "$HEADERS" >/dev/null
    t0=$(cpu_ticks "$pid")
    out=$("$PYTHON" "$work/driver.py" "${hostport%:*}" "${hostport##*:}" "$path" "$targets_csv" "$rate" "$conns" \
        "$PROBE_SECONDS" "$HEADERS")
    t1=$(cpu_ticks "$pid")
    read -r sent ok secs <<<"$out"
    PER_PROBE_US=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$sent" 'BEGIN { printf "%.0f", n ? t / hz / n * 1e6 : 0 }')
    awk -v name="$name" -v t=$((t1 - t0)) -v hz="$HZ" -v n="$sent" -v ok="$ok" -v s="$secs" -v us="$PER_PROBE_US" \
        'BEGIN { printf "  %-22s %6d probes in %5.1f s (%6.0f/s), %6d successful, CPU %6.2f s = %5.1f%% of a core, %5d us CPU/probe\n",
                 name, n, s, n / s, ok, t / hz, 100 * t / hz / s, us }'
    [ "$ok" -eq "$sent" ] || echo "  ($name: $((sent - ok)) probes did not succeed)"
    awk -v s="$secs" -v p="$PROBE_SECONDS" 'BEGIN { exit !(s > p * 1.05) }' &&
        echo "  ($name: the pace was not held: answers came too slowly for $conns connections; use more)"
    return 0
}

# --- 1. scale --------------------------------------------------------------------------------------------
# The daemon's help names --check-config; before `serve` existed, `echoprobe serve --help` was the echo help.
SERVE_OK=
"$PROBE" serve --help 2>&1 | grep -q -- --check-config && SERVE_OK=1
if [ -z "$SERVE_OK" ]; then
    echo "scale: skipped: this echoprobe build has no 'serve' subcommand"
else
    {
        printf '[listen]\nhttp = "%s"\nagent = "127.0.0.1:19555"\n\n' "$HTTP"
        printf '[defaults]\ncalling_ae = "BENCH"\ncalled_ae = "BENCH-SCP"\ninterval_ms = %s\n' "$INTERVAL_MS"
        printf 'connect_timeout_ms = 2000\nacse_timeout_ms = 2000\ndimse_timeout_ms = 2000\nrise = 1\nfall = 2\n\n'
        printf '[probe]\nallow = ["127.0.0.0/8"]\n'
        for i in $(seq 0 $((TARGETS - 1))); do
            printf '\n[[target]]\nname = "t%05d"\naddress = "%s"\nport = %s\n' "$i" "$(addr "$i")" "$PORT"
        done
    } >"$work/scale.toml"
    "$PROBE" serve --config "$work/scale.toml" --check-config
    "$PROBE" serve --config "$work/scale.toml" >"$work/serve.log" 2>&1 &
    SERVE_PID=$!
    pids+=("$SERVE_PID")
    wait_listen "$SERVE_PID" "${HTTP##*:}" serve
    up_count() { curl -s --max-time 60 "http://$HTTP/api/targets" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
d = d["targets"] if isinstance(d, dict) else d
print(sum(t["state"] == "up" for t in d), len(d))'; }
    # Warm-up: one interval, then until every target is up (at most two more intervals).
    sleep $((INTERVAL_MS / 1000 + 1))
    for _ in $(seq $((2 * INTERVAL_MS / 1000 + 1))); do
        read -r up total <<<"$(up_count)"
        [ "$up" -eq "$TARGETS" ] && break
        sleep 1
    done
    lag_buckets() { curl -s --max-time 60 "http://$HTTP/metrics" | grep '^echoprobe_schedule_lag_seconds_bucket' || true; }
    lag0=$(lag_buckets)
    t0=$(cpu_ticks "$SERVE_PID")
    s0=$(date +%s.%N)
    sleep "$SCALE_SECONDS"
    t1=$(cpu_ticks "$SERVE_PID")
    s1=$(date +%s.%N)
    lag1=$(lag_buckets)
    hwm=$(hwm_kib "$SERVE_PID")
    read -r up total <<<"$(up_count)"
    echo "scale: $TARGETS targets every $INTERVAL_MS ms ($((TARGETS * 1000 / INTERVAL_MS)) checks/s), $SCALE_SECONDS s measured"
    load "at the end of the scale run"
    awk -v t=$((t1 - t0)) -v hz="$HZ" -v a="$s0" -v b="$s1" \
        'BEGIN { printf "  CPU      %5.1f%% of one core (goal <= 10%%)\n", 100 * t / hz / (b - a) }'
    awk -v k="$hwm" 'BEGIN { printf "  peak RSS %5.1f MiB (goal <= 64 MiB)\n", k / 1024 }'
    if [ -n "$lag1" ]; then
        # p99 of the checks started during the window: the difference of the cumulative buckets.
        printf '%s\n--\n%s\n' "$lag0" "$lag1" | awk '
            /^--$/ { second = 1; next }
            { le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); v = $NF
              if (second) { after[le] = v; order[++n] = le } else { before[le] = v } }
            END { total = after["+Inf"] - before["+Inf"]
                  for (i = 1; i <= n; i++) { c = after[order[i]] - before[order[i]]
                      if (c >= 0.99 * total) { printf "  lag p99  <= %s s over %d checks (goal < 0.1 s)\n", order[i], total; exit } } }'
    else
        echo "  lag p99  not measured: the daemon exposes no echoprobe_schedule_lag_seconds on /metrics"
    fi
    echo "  up       $up of $total targets at the end (goal: all)"
    kill "$SERVE_PID"
fi

# --- 2. /probe side by side -----------------------------------------------------------------------------------
# Both servers run through every setting; each one's CPU is counted only while it is driven.
BB_PID='' PS_PID=''
if [ -x "$BLACKBOX" ]; then
    printf 'modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n' >"$work/blackbox.yml"
    "$BLACKBOX" --config.file="$work/blackbox.yml" --web.listen-address="$BLACKBOX_HTTP" >"$work/blackbox.log" 2>&1 &
    BB_PID=$!
    pids+=("$BB_PID")
    wait_listen "$BB_PID" "${BLACKBOX_HTTP##*:}" blackbox
fi
if [ -n "$SERVE_OK" ]; then
    printf '[listen]\nhttp = "%s"\nagent = "127.0.0.1:19556"\n\n[defaults]\ncalling_ae = "BENCH"\n' "$PROBE_HTTP" >"$work/probe.toml"
    printf 'interval_ms = 600000\n\n[probe]\nallow = ["127.0.0.0/8"]\n\n[[target]]\nname = "idle"\n' >>"$work/probe.toml"
    printf 'address = "127.0.1.1"\nport = %s\ncalled_ae = "BENCH-SCP"\n' "$PORT" >>"$work/probe.toml"
    "$PROBE" serve --config "$work/probe.toml" >"$work/probe-serve.log" 2>&1 &
    PS_PID=$!
    pids+=("$PS_PID")
    wait_listen "$PS_PID" "${PROBE_HTTP##*:}" probe-serve
fi

# side_by_side RATE CONNS: each server driven at RATE from CONNS connections, and the ratio.
side_by_side() {
    local rate=$1 conns=$2 bb_us='' ep_us=''
    echo "/probe at $rate requests/s for $PROBE_SECONDS s from $conns keep-alive connections over $LISTENERS targets ($HEADERS request headers):"
    load "before /probe"
    if [ -n "$BB_PID" ]; then
        drive "blackbox tcp_connect" "$BB_PID" "$BLACKBOX_HTTP" "/probe?module=tcp_connect&target=TARGET" "$rate" "$conns"
        bb_us=$PER_PROBE_US
        echo "    ($("$BLACKBOX" --version 2>&1 | head -1))"
    else
        echo "  blackbox_exporter: skipped: $BLACKBOX missing (scripts/install-deps.sh)"
    fi
    if [ -n "$PS_PID" ]; then
        drive "echoprobe DICOM check" "$PS_PID" "$PROBE_HTTP" \
            "/probe?target=TARGET&called_ae=BENCH-SCP&calling_ae=BENCH" "$rate" "$conns"
        ep_us=$PER_PROBE_US
    else
        echo "  echoprobe /probe: skipped: this echoprobe build has no 'serve' subcommand"
    fi
    if [ -n "$bb_us" ] && [ -n "$ep_us" ] && [ "$bb_us" -gt 0 ]; then
        awk -v e="$ep_us" -v b="$bb_us" \
            'BEGIN { printf "  ratio: echoprobe full DICOM check / blackbox tcp_connect = %.2fx CPU per probe (goal <= 0.2x)\n", e / b }'
    fi
}
side_by_side "$RATE" "$CONNS"
[ "$SPARSE" = none ] || side_by_side "${SPARSE%/*}" "${SPARSE#*/}"
load "at the end"
