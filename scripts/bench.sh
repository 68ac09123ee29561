#!/usr/bin/env bash
# scripts/bench.sh: DCMTK echoscu vs echoprobe, N sequential C-ECHO checks against a local DCMTK
# storescp, then DCMTK findscu vs `echoprobe find`, N sequential C-FIND checks of one study in
# Orthanc with its index in PostgreSQL, in a network namespace that only has loopback. Not part
# of scripts/test.sh.
#
# How to run (from anywhere; root, or a user allowed to create user namespaces):
#   scripts/install-deps.sh      # once: dcmtk, hyperfine, time, orthanc, postgresql
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
# benchmark stops. The find part (BENCH_FIND=0 skips it) starts a private PostgreSQL (initdb in
# the temp dir, Unix socket only, run as the postgres user) and Orthanc on 127.0.0.1:14242, stores
# one study made with dump2dcm (storescu), and times findscu and echoprobe find of that study the
# same way (findscu exits 0 whatever the answer, so only echoprobe's verdict is checked).

# shellcheck disable=SC2086 # $DCMTK_CMD / $PROBE_CMD / $1 are split into words on purpose
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-50}
if ! [[ "$N" =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 10000 ]; then
    echo "usage: $0 [N (1..10000)]" >&2
    exit 1
fi

# shellcheck source=scripts/netns.sh
. scripts/netns.sh
bench_netns bench BENCH_LOOP="${BENCH_LOOP:-}" BENCH_FIND="${BENCH_FIND:-1}" bash "$0" "$N"

# --- inside the namespace -----------------------------------------------------------------------

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
ORTHANC_PID=
PG_PID=
cleanup() {
    kill "$SCP_PID" 2>/dev/null || true
    wait "$SCP_PID" 2>/dev/null || true
    if [ -n "$ORTHANC_PID" ]; then
        kill "$ORTHANC_PID" 2>/dev/null || true
        wait "$ORTHANC_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_PID" ]; then
        kill -QUIT "$PG_PID" 2>/dev/null || true
        wait "$PG_PID" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Wait (at most 10 s) for a server to listen on port $1: state 0A in /proc/net/tcp, port in hex.
wait_listen() {
    local hexport
    hexport=$(printf '%04X' "$1")
    for _ in $(seq 200); do
        awk -v p=":$hexport" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
            /proc/self/net/tcp && return 0
        sleep 0.05
    done
    return 1
}
wait_listen "$PORT" || true
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

# Mean wall time per check in microseconds of two commands ($3, $4) named $1 and $2: "T1 T2".
mean_us() {
    if [ -z "${BENCH_LOOP:-}" ] && command -v hyperfine >/dev/null; then
        hyperfine --shell=none --warmup 3 --runs "$N" --style basic --export-json "$work/h.json" \
            -n "$1" "$3" -n "$2" "$4" >&2
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(" ".join(str(round(x["mean"] * 1e6)) for x in r))
' "$work/h.json"
    else
        loop_us() {
            local t0 t1 i
            t0=$(date +%s%N)
            for ((i = 0; i < N; i++)); do
                $1 >/dev/null 2>&1 || { echo "bench: check $i of '$1' failed" >&2; return 1; }
            done
            t1=$(date +%s%N)
            echo $(((t1 - t0) / 1000 / N))
        }
        echo "$(loop_us "$3") $(loop_us "$4")"
    fi
}
if [ -z "${BENCH_LOOP:-}" ] && command -v hyperfine >/dev/null; then
    echo "timing: hyperfine --shell=none --warmup 3 --runs $N"
else
    echo "timing: bounded loop of $N runs with date +%s%N"
fi
read -r T_DCMTK T_PROBE < <(mean_us echoscu echoprobe "$DCMTK_CMD" "$PROBE_CMD")

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

[ "${BENCH_FIND:-1}" = 1 ] || exit 0

# --- find: one study in Orthanc with its index in PostgreSQL ------------------------------------
FINDSCU=/usr/bin/findscu
ORTHANC=/usr/sbin/Orthanc
PGBIN=/usr/lib/postgresql/15/bin
for b in "$FINDSCU" "$ORTHANC" "$PGBIN/initdb" "$PGBIN/postgres" /usr/bin/dump2dcm /usr/bin/storescu; do
    [ -x "$b" ] || { echo "bench: $b missing (scripts/install-deps.sh)" >&2; exit 1; }
done
OPORT=14242
STUDY_UID=2.25.318273690472515310358316218733152101
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
    chown postgres "$work"
fi
"${as_pg[@]}" "$PGBIN/initdb" -A trust -U postgres --no-sync -D "$work/pg" >"$work/initdb.log" 2>&1 ||
    { echo "bench: initdb failed:" >&2; cat "$work/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$PGBIN/postgres" -D "$work/pg" -k "$work" -c listen_addresses= -c fsync=off >"$work/pg.log" 2>&1 &
PG_PID=$!
for _ in $(seq 200); do
    grep -q "ready to accept connections" "$work/pg.log" && break
    sleep 0.05
done
mkdir -p "$work/orthanc"
cat >"$work/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$work/orthanc", "IndexDirectory": "$work/orthanc",
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"],
  "HttpServerEnabled": false, "RemoteAccessAllowed": false,
  "DicomAet": "ORTHANC", "DicomPort": $OPORT, "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true, "DicomAlwaysAllowStore": true, "DicomAlwaysAllowFind": true,
  "PostgreSQL": { "EnableIndex": true, "EnableStorage": false, "Host": "$work", "Port": 5432,
    "Database": "postgres", "Username": "postgres", "Password": "", "Lock": false,
    "MaximumConnectionRetries": 1, "ConnectionRetryInterval": 1 } }
JSON
"$ORTHANC" "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
ORTHANC_PID=$!
wait_listen "$OPORT" || { echo "bench: Orthanc did not start:" >&2; tail "$work/orthanc.log" >&2; exit 1; }
cat >"$work/study.dump" <<DUMP
(0002,0001) OB 00\01
(0002,0002) UI =SecondaryCaptureImageStorage
(0002,0003) UI [2.25.318273690472515310358316218733152103]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [2.25.318273690472515310358316218733152103]
(0008,0060) CS [OT]
(0010,0010) PN [PROBE^FIND]
(0010,0020) LO [EPFIND1]
(0020,000d) UI [$STUDY_UID]
(0020,000e) UI [2.25.318273690472515310358316218733152102]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 2
(0028,0011) US 2
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(7fe0,0010) OB 00\01\02\03
DUMP
/usr/bin/dump2dcm --write-file "$work/study.dump" "$work/study.dcm"
/usr/bin/storescu -aet BENCH -aec ORTHANC 127.0.0.1 "$OPORT" "$work/study.dcm"

FIND_DCMTK="$FINDSCU -S -aet LOADBALANCER -aec ORTHANC -k 0008,0052=STUDY -k StudyInstanceUID=$STUDY_UID -k PatientID 127.0.0.1 $OPORT"
FIND_PROBE="$PROBE find -S -aet LOADBALANCER -aec ORTHANC -k StudyInstanceUID=$STUDY_UID -k PatientID 127.0.0.1 $OPORT"
$FIND_PROBE >/dev/null || { echo "bench: '$FIND_PROBE' is not healthy (exit $?)" >&2; exit 1; }
$FIND_DCMTK >/dev/null 2>&1 || { echo "bench: '$FIND_DCMTK' failed (exit $?)" >&2; exit 1; }

echo
echo "bench: $N sequential find checks each of one study in Orthanc $("$ORTHANC" --version | head -1 | cut -d' ' -f2) (PostgreSQL index) on 127.0.0.1:$OPORT"
echo "  dcmtk:     $FIND_DCMTK"
echo "  echoprobe: $FIND_PROBE"
read -r F_DCMTK F_PROBE < <(mean_us findscu "echoprobe find" "$FIND_DCMTK" "$FIND_PROBE")
FM_DCMTK=$(peak_rss_kb "$FIND_DCMTK")
FM_PROBE=$(peak_rss_kb "$FIND_PROBE")
echo
printf '%-15s %16s %14s\n' tool "time/check (us)" "peak RSS (kB)"
printf '%-15s %16s %14s\n' findscu "$F_DCMTK" "$FM_DCMTK"
printf '%-15s %16s %14s\n' "echoprobe find" "$F_PROBE" "$FM_PROBE"
printf '%-15s %16s %14s\n' ratio "$(ratio "$F_DCMTK" "$F_PROBE")" "$(ratio "$FM_DCMTK" "$FM_PROBE")"
echo "(ratio = findscu / echoprobe find)"
