#!/bin/bash
# End-to-end test of the probe firmware in QEMU against real DCMTK peers, with 16 targets over 2 check slots.
#
# Builds the firmware for tests/probe-16.toml (build.sh; probe.toml's two targets first, then 14 more), then, inside a
# fresh network namespace that has only loopback (`unshare -n`):
#   - DCMTK storescp (AE STORESCP) on 127.0.0.1:11112 - target 0; more storescp on 11114, 11115, 11116 (targets 4-9);
#   - DCMTK dcmqrscp (AE titles QRSCP and ARCHIVE, checks the called AE title) on 127.0.0.1:11113 - target 1, which
#     calls it with the wrong AE title, and targets 2 and 3, which call it right;
#   - nothing on 11120..11124 (targets 10-14: dead) and no relay at all for target 15 (silent: a connect timeout);
#   - QEMU lm3s6965evb on the restricted user network 192.0.2.0/24 (never QEMU's default 10.0.2.0/24): the guest's
#     connections to each target address:port are relayed by socat to that loopback port (guestfwd), and the probe's
#     agent ports (5555..5570), HTTP (8080) and SCP (104 -> 10104) are forwarded to 127.0.0.1 (hostfwd).
# A real HAProxy (agent-check only) follows the agent ports; a real Prometheus scrapes the probe's /metrics.
# Asserts through the forwarded ports: target 0 `up` while storescp runs, `down` after it is stopped (within the fall
# count), `up` again after a restart; target 1 `down` with the rejection as reason; every target's verdict by agent
# and GET /health/<n> (200/503; 404 past the last target); DCMTK echoscu to the probe's SCP succeeds (and is
# rejected with a wrong called AE); /metrics passes `promtool check metrics`, its schedule lag stays under a tenth of
# the interval, and Prometheus's query API sees target 0 go down when its storescp stops. Before all that,
# tests/config-test.sh (bad probe.toml files fail the build with a message naming the key) and tests/metrics-test.sh
# (host unit tests of the metrics writer and the scheduler).
# DHCP: the same probe.toml with `[network] address = "dhcp"` must build (with the `dhcp` feature, which must agree
# with the file) and, booted on the same network with the same forwards, log its lease before any check and answer the
# agent, HTTP and SCP over the leased address.
# The find build (`--features find`, probe-find.toml) runs last in the same namespace: one study is stored into
# dcmqrscp with DCMTK's storescu (made with dump2dcm), and the probe's find target for it must come up (agent and
# /health) while a second find target, querying an unknown Study Instance UID, is down with the too-few-matches reason.
# Its flash and RAM are printed next to the echo build of probe.toml; it fails above the issue's allowance (at most
# +8 KiB of flash over that echo build) or the RAM budget.
# Every wait is bounded; QEMU and the peers are killed by PID; the namespace part has a hard deadline.
# Prints `N passed, M failed`, then the figures of the 16-target build, `flash=N ram=M` as the last line; fails above
# the budget (flash = .text + .rodata + .data <= 48 KiB, ram = .data + .bss + reserved stack <= 32 KiB) or when the
# measured stack high-water mark comes within 1 KiB of the reserved stack.
set -u
self=$(readlink -f "$0")
cd "$(dirname "$self")" || exit 1
# The issue's goal: 16 targets in 48 KiB of flash (README, Footprint: met with a few bytes to spare).
FLASH_BUDGET=$((48 * 1024))
RAM_BUDGET=$((32 * 1024))
FIND_FLASH_EXTRA=$((8 * 1024))
DEADLINE=${QEMU_TEST_DEADLINE:-240}

if [ "${1:-}" != "--inside" ]; then
  # Root (CI) gets a plain network namespace; others a user namespace with one.
  ns=(unshare -n)
  [ "$(id -u)" -eq 0 ] || ns=(unshare -r -n)
  for tool in /usr/bin/cargo-clippy qemu-system-arm socat haproxy /usr/bin/storescp /usr/bin/dcmqrscp /usr/bin/echoscu /usr/bin/storescu /usr/bin/dump2dcm unshare ip curl \
    /usr/bin/prometheus /usr/bin/promtool /usr/bin/rustc; do
    command -v "$tool" > /dev/null || { echo "qemu-test.sh: missing $tool (scripts/install-deps.sh installs it)"; exit 1; }
  done
  # Lints: the firmware is outside the host workspace, so its clippy runs here (Debian's rust-web-clippy), both boards.
  lint_rc=0
  for board_args in "" "--features find" "--target thumbv7em-none-eabihf --no-default-features --features stm32f429"; do
    # shellcheck disable=SC2086 # word splitting of the board arguments is intended
    # PATH: Debian's cargo-clippy and clippy-driver first (rustup's shims would pick rustup's toolchain).
    if ! out=$(PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo clippy --release $board_args -- -D warnings 2>&1); then
      echo "$out" | tail -30; echo "qemu-test.sh: FAIL: clippy ${board_args:-(lm3s6965)}"; lint_rc=1
    fi
  done
  [ $lint_rc -eq 0 ] && echo "clippy: clean (both boards, and the find feature)"
  # ---- DHCP build (its own block): probe.toml with `[network] address = "dhcp"` (and no gateway) builds with the
  # `dhcp` feature; a feature that disagrees with the file fails the build. The ELF goes to target/dhcp/ for the
  # namespace part (dhcp_case). Before config-test.sh, whose last build is the static one again.
  dhcp_rc=0
  mkdir -p target/dhcp
  rm -f target/dhcp/echoprobe-firmware
  sed -e 's|^address = "[0-9.]*/[0-9]*"|address = "dhcp"|' -e '/^gateway = /d' probe.toml > target/dhcp/probe.toml
  dhcp_expect_fail() { # dhcp_expect_fail MESSAGE-FRAGMENT CONFIG CARGO-ARGS...: the build must fail with MESSAGE
    local want=$1 config=$2 out
    shift 2
    if out=$(ECHOPROBE_CONFIG=$config RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --release "$@" 2>&1); then
      echo "qemu-test.sh: FAIL: $config with ${*:-no features} builds"; dhcp_rc=1
    elif ! grep -qF -- "$want" <<< "$out"; then
      echo "$out" | tail -5; echo "qemu-test.sh: FAIL: no \"$want\""; dhcp_rc=1
    fi
  }
  # shellcheck disable=SC2016 # the messages quote keys in backticks, literally
  dhcp_expect_fail '`network.address`: is a static address, but this build has the `dhcp` feature' probe.toml --features dhcp
  # shellcheck disable=SC2016
  dhcp_expect_fail '`network.address`: "dhcp" needs the firmware'"'"'s `dhcp` feature' target/dhcp/probe.toml
  if ! out=$(ECHOPROBE_CONFIG=target/dhcp/probe.toml PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo clippy --release --features dhcp -- -D warnings 2>&1); then
    echo "$out" | tail -30; echo "qemu-test.sh: FAIL: clippy (dhcp)"; dhcp_rc=1
  fi
  if out=$(ECHOPROBE_CONFIG=target/dhcp/probe.toml ./build.sh 2>&1); then
    cp target/thumbv7m-none-eabi/release/echoprobe-firmware target/dhcp/
    echo "dhcp build (not budget-checked): $(tail -1 <<< "$out")"
  else
    echo "$out" | tail -20; echo "qemu-test.sh: FAIL: the DHCP build"; dhcp_rc=1
  fi
  [ $dhcp_rc -eq 0 ] && echo "dhcp: clippy clean, feature and file must agree, built"
  # ---- end of the DHCP build
  # Bad configurations fail the build with a clear message (runs the build several times; the good one last).
  config_rc=0
  tests/config-test.sh || config_rc=1
  # Host unit tests of the pure modules (the /metrics writer, the slot scheduler).
  unit_rc=0
  tests/metrics-test.sh || { echo "qemu-test.sh: FAIL: tests/metrics-test.sh"; unit_rc=1; }
  build_log=$(mktemp)
  # The shipped probe.toml (2 targets) and the second board (NUCLEO-F429ZI) must build too; their sizes are shown,
  # not budget-checked (the budget is for the 16-target build; no QEMU model for the NUCLEO).
  stm32_rc=0
  # The find build (probe-find.toml, `--features find`): its ELF goes to target/find/ for the namespace part.
  find_rc=0
  mkdir -p target/find
  rm -f target/find/echoprobe-firmware
  if ECHOPROBE_CONFIG=probe-find.toml ./build.sh --features find > "$build_log" 2>&1; then
    find_sizes=$(tail -1 "$build_log")
    cp target/thumbv7m-none-eabi/release/echoprobe-firmware target/find/
  else
    tail -20 "$build_log"; echo "qemu-test.sh: FAIL: the find build (--features find, probe-find.toml)"; find_rc=1
  fi
  if ./build.sh > "$build_log" 2>&1; then
    echo_sizes=$(tail -1 "$build_log")
    echo "probe.toml (2 targets) build: $echo_sizes"
  else
    cat "$build_log"; rm -f "$build_log"; echo "qemu-test.sh: build failed"; exit 1
  fi
  if BOARD=stm32f429 ./build.sh > "$build_log" 2>&1; then
    echo "stm32f429 build: $(tail -1 "$build_log")"
  else
    tail -20 "$build_log"; echo "qemu-test.sh: FAIL: the stm32f429 board does not build"; stm32_rc=1
  fi
  # Last, the build QEMU runs: 16 targets, 2 check slots.
  if ! ECHOPROBE_CONFIG=tests/probe-16.toml ./build.sh > "$build_log" 2>&1; then
    cat "$build_log"; rm -f "$build_log"; echo "qemu-test.sh: build failed (tests/probe-16.toml)"; exit 1
  fi
  sizes=$(tail -1 "$build_log")
  echo "tests/probe-16.toml (16 targets, 2 slots) build:"
  grep -E '^board=' "$build_log"
  rm -f "$build_log"
  work=$(mktemp -d)
  timeout -k 5 "$DEADLINE" "${ns[@]}" "$self" --inside "$work"
  rc=$?
  [ $rc -eq 124 ] && echo "qemu-test.sh: FAIL: hard deadline of ${DEADLINE}s reached"
  [ $config_rc -eq 0 ] || { echo "qemu-test.sh: FAIL: tests/config-test.sh"; rc=1; }
  [ $stm32_rc -eq 0 ] || rc=1
  [ $dhcp_rc -eq 0 ] || rc=1
  [ $unit_rc -eq 0 ] || rc=1
  [ $find_rc -eq 0 ] || rc=1
  if [ $find_rc -eq 0 ]; then
    find_flash=$(sed -n 's/^flash=\([0-9]*\) .*/\1/p' <<< "$find_sizes")
    find_ram=$(sed -n 's/.* ram=\([0-9]*\)$/\1/p' <<< "$find_sizes")
    echo_flash=$(sed -n 's/^flash=\([0-9]*\) .*/\1/p' <<< "$echo_sizes")
    echo "find build (probe-find.toml): $find_sizes (echo build of probe.toml: $echo_sizes; flash +$((find_flash - echo_flash)), allowance +$FIND_FLASH_EXTRA)"
    if [ "$find_flash" -gt $((echo_flash + FIND_FLASH_EXTRA)) ]; then
      echo "qemu-test.sh: FAIL: the find build's flash $find_flash > echo build's $echo_flash + $FIND_FLASH_EXTRA"; rc=1
    fi
    if [ "$find_ram" -gt $RAM_BUDGET ]; then echo "qemu-test.sh: FAIL: find build ram $find_ram > budget $RAM_BUDGET"; rc=1; fi
  fi
  [ $lint_rc -eq 0 ] || rc=1
  flash=$(sed -n 's/^flash=\([0-9]*\) .*/\1/p' <<< "$sizes")
  ram=$(sed -n 's/.* ram=\([0-9]*\)$/\1/p' <<< "$sizes")
  if [ -z "$flash" ] || [ -z "$ram" ]; then echo "qemu-test.sh: no sizes from build.sh"; rc=1; fi
  if [ "${flash:-0}" -gt $FLASH_BUDGET ]; then echo "qemu-test.sh: FAIL: flash $flash > budget $FLASH_BUDGET"; rc=1; fi
  if [ "${ram:-0}" -gt $RAM_BUDGET ]; then echo "qemu-test.sh: FAIL: ram $ram > budget $RAM_BUDGET"; rc=1; fi
  rm -rf "$work"
  echo "$sizes"
  exit $rc
fi

# ---------------------------------------------------------------- inside the namespace
work=$2
ip link set lo up
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null; done
}
trap cleanup EXIT
pass=0
fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

elf=target/thumbv7m-none-eabi/release/echoprobe-firmware
config=tests/probe-16.toml
mkdir -p "$work/scp" "$work/qr" "$work/qr2"

start_storescp() {
  /usr/bin/storescp -aet STORESCP -od "$work/scp" 11112 >> "$work/storescp.log" 2>&1 &
  storescp_pid=$!
  pids+=("$storescp_pid")
}
# More storescp peers (targets 4-9: each port called with two AE titles; storescp accepts any).
for port in 11114 11115 11116; do
  mkdir -p "$work/scp$port"
  /usr/bin/storescp -aet "STORE$port" -od "$work/scp$port" "$port" >> "$work/storescp$port.log" 2>&1 &
  pids+=($!)
done
cat > "$work/dcmqrscp.cfg" << CFG
NetworkTCPPort  = 11113
MaxPDUSize      = 16384
MaxAssociations = 4
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP   $work/qr   RW  (9, 1024mb)   ANY
ARCHIVE $work/qr2  R   (9, 1024mb)   ANY
AETable END
CFG
start_storescp
/usr/bin/dcmqrscp -c "$work/dcmqrscp.cfg" > "$work/dcmqrscp.log" 2>&1 &
pids+=($!)

# -lf /dev/null: the relay's stderr is the guest's connection too (libslirp), so socat must not log there.
relay="socat -lf /dev/null STDIO TCP:127.0.0.1"
nic="user,model=stellaris,net=192.0.2.0/24,host=192.0.2.2,restrict=on"
# From the config: each target's address:port relayed to that port on loopback (but the silent target's, 192.0.2.199:
# QEMU drops its SYN), each agent port forwarded.
targets=$(awk -F' *= *' '/^\[/ { t = ($0 == "[[target]]") } t && /^address/ { gsub(/"/, "", $2); a = $2 }
  t && /^port/ { print a, $2 }' "$config" | sort -u)
while read -r addr port; do
  [ "$addr" = 192.0.2.199 ] || nic+=",guestfwd=tcp:$addr:$port-cmd:$relay:$port"
done <<< "$targets"
agent_ports=$(awk -F' *= *' '/^agent_port/ { print $2 }' "$config")
n_targets=$(wc -l <<< "$agent_ports")
for port in $agent_ports; do nic+=",hostfwd=tcp:127.0.0.1:$port-:$port"; done
nic+=",hostfwd=tcp:127.0.0.1:8080-:8080,hostfwd=tcp:127.0.0.1:10104-:104"
qemu-system-arm -M lm3s6965evb -cpu cortex-m3 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -nic "$nic" -kernel "$elf" > "$work/qemu.defmt" 2> "$work/qemu.err" &
qemu_pid=$!
pids+=("$qemu_pid")
qemu_t0=$(date +%s%N)

# A real Prometheus scrapes the probe's /metrics through the host forward, every 2 s (started now: it takes a few
# seconds to come up).
cat > "$work/prometheus.yml" << CFG
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: probe
    static_configs:
      - targets: ['127.0.0.1:8080']
CFG
/usr/bin/prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address=127.0.0.1:9090 --log.level=warn > "$work/prometheus.log" 2>&1 &
pids+=($!)
# promql EXPR -> the first sample's value, or nothing
promql() {
  curl -s -m 3 --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
    sed -n 's/.*"value":\[[0-9.]*,"\([^"]*\)"\].*/\1/p'
}
wait_promql() { # wait_promql EXPR VALUE SECONDS
  local t0=$SECONDS v=""
  while [ $((SECONDS - t0)) -lt "$3" ]; do
    v=$(promql "$1")
    [ "$v" = "$2" ] && { echo "$v"; return 0; }
    sleep 1
  done
  echo "${v:-(no value)}"
  return 1
}

agent() { # agent PORT -> the line, or nothing
  # -t 3: after our (empty) stdin ends, wait up to 3 s for the line (default 0.5 s can miss it).
  timeout 5 socat -t 3 -T 4 - "TCP:127.0.0.1:$1" < /dev/null 2> /dev/null | head -1
}
# wait_agent PORT REGEX SECONDS: polls every 0.5 s until the line matches
wait_agent() {
  local port=$1 re=$2 secs=$3 t0=$SECONDS line=""
  while [ $((SECONDS - t0)) -lt "$secs" ]; do
    line=$(agent "$port")
    if [[ "$line" =~ $re ]]; then
      echo "$line"
      return 0
    fi
    kill -0 "$qemu_pid" 2> /dev/null || { echo "(QEMU exited)"; return 1; }
    sleep 0.5
  done
  echo "${line:-(no answer)}"
  return 1
}
# The probe has one HTTP socket: while it streams /metrics to Prometheus, another client's connection is refused
# (000); try again, as a load balancer's next check would.
http_code() {
  local c
  for _ in 1 2 3 4 5; do
    c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:8080$1")
    [ "$c" != 000 ] && break
    sleep 0.3
  done
  echo "$c"
}

# 1. target 0 comes up (rise 2, interval 1 s: a few seconds after boot)
t0=$SECONDS
if line=$(wait_agent 5555 '^up$' 30); then ok "storescp running: agent says '$line' after $((SECONDS - t0)) s"
else bad "storescp running: agent says '$line'"; fi

# 2. target 1: a peer that checks the called AE title rejects us
if line=$(wait_agent 5556 '^down #association rejected' 15); then ok "wrong called AE: agent says '$line'"
else bad "wrong called AE: agent says '$line'"; fi

# 3. HTTP health
c=$(http_code /health/0)
if [ "$c" = 200 ]; then ok "GET /health/0 -> 200"; else bad "GET /health/0 -> $c"; fi
c=$(http_code /health/1)
if [ "$c" = 503 ]; then ok "GET /health/1 -> 503"; else bad "GET /health/1 -> $c"; fi
c=$(http_code "/health/$n_targets")
if [ "$c" = 404 ]; then ok "GET /health/$n_targets (past the last target) -> 404"; else bad "GET /health/$n_targets -> $c"; fi
c=$(http_code /health/x)
if [ "$c" = 404 ]; then ok "GET /health/x -> 404"; else bad "GET /health/x -> $c"; fi

# 3a. every target's verdict, by agent and /health/<n>: the peers that answer right up, the wrong AE title rejected,
#     the closed ports and the silent address down. 16 targets share 2 slots: all settle within a few rounds.
want=(up 'down #association rejected' up up up up up up up up)
# A dead target's relay finds its port closed: refused, closed, or (slow to start) a connect timeout.
for _ in 10 11 12 13 14; do want+=('down #(peer closed|TCP conn)'); done
want+=('down #TCP connect timeout')
i=0
for port in $agent_ports; do
  re="^${want[$i]}"
  if line=$(wait_agent "$port" "$re" 20); then
    c=$(http_code "/health/$i")
    [[ ${want[$i]} == up ]] && code=200 || code=503
    if [ "$c" = "$code" ]; then ok "target $i: agent says '$line', /health/$i -> $c"
    else bad "target $i: agent says '$line', but /health/$i -> $c"; fi
  else bad "target $i: agent says '$line', want /${want[$i]}/"; fi
  i=$((i + 1))
done

# 3c. /metrics: Prometheus's text format (promtool), every target's series, and the schedule keeping up: no check of
#     the last round started an interval (1 s) late or more. (Late starts above a tenth of the interval are logged
#     and counted; on a busy machine a few are, so the test allows a whole interval.)
for _ in 1 2 3 4 5; do
  curl -s -m 5 -o "$work/metrics.txt" http://127.0.0.1:8080/metrics && break
  : > "$work/metrics.txt"
  sleep 0.3
done
if promtool check metrics < "$work/metrics.txt" > "$work/promtool.log" 2>&1; then
  ok "GET /metrics: promtool check metrics passes ($(wc -c < "$work/metrics.txt") bytes)"
else bad "promtool check metrics: $(head -5 "$work/promtool.log" | tr '\n' ' ')"; fi
n=$(grep -c '^echoprobe_target_up{' "$work/metrics.txt")
if [ "$n" = "$n_targets" ]; then ok "/metrics: echoprobe_target_up for all $n targets"; else bad "/metrics: $n echoprobe_target_up series"; fi
if grep -q '^echoprobe_checks_total{target="wrong-ae",outcome="rejected"} [1-9]' "$work/metrics.txt"; then
  ok "/metrics: checks counted by outcome (wrong-ae: rejected)"
else bad "/metrics: no rejected count for wrong-ae"; fi
# The boot round is slow (each relay's first connection starts a socat; one may time out) and its lag stays in a
# target's gauge until that target's next check, up to 3 s later for a dead one: read again until every target has
# been checked since (at most 4 s), then the worst last start must be under an interval.
worst_lag() { awk '/^echoprobe_schedule_lag_seconds/ { n++; if ($2 > m) m = $2 } END { if (n) print m + 0 }' "$1"; }
worst=$(worst_lag "$work/metrics.txt")
for _ in 1 2 3 4 5 6 7 8; do
  [ -n "$worst" ] && awk -v w="$worst" 'BEGIN { exit !(w < 1) }' && break
  sleep 0.5
  curl -s -m 5 -o "$work/metrics-lag.txt" http://127.0.0.1:8080/metrics && worst=$(worst_lag "$work/metrics-lag.txt")
done
if [ -n "$worst" ] && awk -v w="$worst" 'BEGIN { exit !(w < 1) }'; then
  ok "schedule lag: worst last start ${worst} s late (< 1 s, the interval)"
else bad "schedule lag: a check started ${worst} s late"; grep lag "$work/metrics-lag.txt"; fi

# 3b. a real load balancer reads the agent. t0: agent-check only, so its state comes from the probe alone (HAProxy
#     shows "no check" for a server that is up without a health check of its own, "DOWN (agent)" when the agent
#     says down). t1: HAProxy's own TCP check too - dcmqrscp accepts TCP, so only the agent can take it down.
cat > "$work/haproxy.cfg" << CFG
global
  stats socket $work/haproxy.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
listen dicom
  bind 127.0.0.1:21112
  server t0 127.0.0.1:11112 agent-check agent-port 5555 agent-inter 500ms
  server t1 127.0.0.1:11113 check inter 500ms agent-check agent-port 5556 agent-inter 500ms
CFG
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")
hastate() { # hastate SERVER -> HAProxy's status column (UP / DOWN / ...)
  echo "show stat" | socat -t 2 - "UNIX-CONNECT:$work/haproxy.sock" 2> /dev/null |
    awk -F, -v s="$1" '$1 == "dicom" && $2 == s { print $18 }'
}
wait_hastate() { # wait_hastate SERVER REGEX SECONDS
  local t0=$SECONDS st=""
  while [ $((SECONDS - t0)) -lt "$3" ]; do
    st=$(hastate "$1")
    [[ "$st" =~ $2 ]] && { echo "$st"; return 0; }
    sleep 0.5
  done
  echo "${st:-(no state)}"
  return 1
}
if st=$(wait_hastate t0 '^(UP|no check)$' 10); then ok "HAProxy: server t0 '$st' (agent up)"; else bad "HAProxy: server t0 '$st'"; fi
if st=$(wait_hastate t1 '^DOWN \(agent\)' 10); then ok "HAProxy: server t1 $st (agent down, TCP fine)"; else bad "HAProxy: server t1 '$st'"; fi

# 4. the probe's own SCP, checked by DCMTK echoscu
if timeout 20 /usr/bin/echoscu -to 5 -ta 5 -td 5 -aec ECHOPROBE -aet DCMTK 127.0.0.1 10104 > "$work/echoscu.log" 2>&1; then
  ok "echoscu -> probe SCP (AE ECHOPROBE) succeeds"
else bad "echoscu -> probe SCP: $(tail -2 "$work/echoscu.log" | tr '\n' ' ')"; fi
if timeout 20 /usr/bin/echoscu -to 5 -ta 5 -td 5 -aec WRONG -aet DCMTK 127.0.0.1 10104 > "$work/echoscu2.log" 2>&1; then
  bad "echoscu with a wrong called AE was accepted"
elif grep -qi "reject" "$work/echoscu2.log"; then ok "echoscu -> probe SCP with wrong called AE is rejected"
else bad "echoscu wrong AE: $(tail -2 "$work/echoscu2.log" | tr '\n' ' ')"; fi

# 4b. Prometheus scrapes the probe: target 0 up there too (its query API), before storescp stops.
if v=$(wait_promql 'echoprobe_target_up{target="storescp"}' 1 20); then
  ok "Prometheus: echoprobe_target_up{target=\"storescp\"} = $v"
else bad "Prometheus: echoprobe_target_up{target=\"storescp\"} = $v ($(tail -2 "$work/prometheus.log" | tr '\n' ' '))"; fi

# 5. stop storescp: down within the fall count. probe.toml: fall 2, interval 1 s, and a check of a dead peer ends at
#    once (the relay closes; at worst connect + ACSE timeouts, 4 s): 2 x (1 + 4) s + 2 s of polling = 12 s.
kill "$storescp_pid"; wait "$storescp_pid" 2> /dev/null
t0=$SECONDS
if line=$(wait_agent 5555 '^down #' 12); then ok "storescp stopped: agent says '$line' after $((SECONDS - t0)) s"
else bad "storescp stopped: agent says '$line'"; fi
c=$(http_code /health/0)
if [ "$c" = 503 ]; then ok "GET /health/0 -> 503 while down"; else bad "GET /health/0 -> $c while down"; fi
if st=$(wait_hastate t0 '^DOWN \(agent\)' 10); then ok "HAProxy: server t0 $st after storescp stopped"
else bad "HAProxy: server t0 '$st' after storescp stopped"; fi
if v=$(wait_promql 'echoprobe_target_up{target="storescp"}' 0 15); then
  ok "Prometheus: echoprobe_target_up{target=\"storescp\"} = $v after storescp stopped"
else bad "Prometheus: echoprobe_target_up{target=\"storescp\"} = $v after storescp stopped"; fi

# 6. restart: up again within rise (2) good checks: 2 x (1 s + a check + its lag behind 15 other targets on 2 slots)
#    + 2 s of polling.
start_storescp
t0=$SECONDS
if line=$(wait_agent 5555 '^up$' 12); then ok "storescp restarted: agent says '$line' after $((SECONDS - t0)) s"
else bad "storescp restarted: agent says '$line'"; fi

if st=$(wait_hastate t0 '^(UP|no check)$' 10); then ok "HAProxy: server t0 '$st' again"
else bad "HAProxy: server t0 '$st' after restart"; fi

# 7. the firmware is still running (no fault, no exit)
if kill -0 "$qemu_pid" 2> /dev/null; then ok "firmware still running"; else bad "QEMU exited: $(cat "$work/qemu.err")"; fi

kill "$qemu_pid" 2> /dev/null; wait "$qemu_pid" 2> /dev/null
wall_ms=$((($(date +%s%N) - qemu_t0) / 1000000))
if command -v defmt-print > /dev/null; then
  defmt-print -e "$elf" < "$work/qemu.defmt" > "$work/qemu.log" 2>&1
  cp "$work/qemu.log" target/qemu-test.log # the whole log, for a failure's post-mortem
  echo "--- firmware log (last 15 lines; defmt decoded)"; tail -15 "$work/qemu.log"
  # The SysTick clock runs at the real rate: the firmware reports its uptime every 2 s, so the last report lies
  # within (wall - 2.5 s, wall] of the time QEMU ran - on an idle host. QEMU delivers a SysTick that expired several
  # times while its vCPU thread waited for the host as one exception, so a loaded host loses ticks (measured: 20 s of
  # uptime in 26 s of QEMU at load 12); the bound allows a third lost. A wrong core clock (2x, 1/2) still fails it.
  last=$(grep -o 't=[0-9]*ms' "$work/qemu.log" | tail -1 | tr -dc 0-9)
  if [ -n "$last" ] && [ "$last" -le "$wall_ms" ] && [ "$last" -gt $((wall_ms * 2 / 3 - 2500)) ]; then
    ok "clock: firmware uptime ${last} ms after ${wall_ms} ms of QEMU"
  else bad "clock: firmware uptime ${last:-unknown} ms after ${wall_ms} ms of QEMU"; fi
  # The RAM budget counts the reserved stack, so the stack must really stay inside it (with 1 KiB to spare).
  hw=$(grep -o 'stack high-water [0-9]*' "$work/qemu.log" | tail -1 | grep -o '[0-9]*$')
  reserved=$((16#$(readelf -sW "$elf" | awk '$8 == "_stack_size" { print $2 }')))
  if [ -n "$hw" ] && [ "$hw" -le $((reserved - 1024)) ]; then ok "stack high-water $hw B <= reserved $reserved B - 1 KiB"
  else bad "stack high-water ${hw:-unknown} B vs reserved $reserved B - 1 KiB"; fi
else
  bad "firmware log not decoded: defmt-print missing (cargo install defmt-print): stack high-water unknown"
fi
# ---------------------------------------------------------------- DHCP (its own block)
# The DHCP build (target/dhcp/, built above) on the same user network, with the same forwards: QEMU's DHCP server leases
# it 192.0.2.20 (dhcpstart; not the static build's .15), and the host forwards, which name no guest address, go to that
# first DHCP address. Asserts: the lease is logged (address, prefix, router, lease time) before any check starts, the
# checks run (target 0 up, target 1 rejected), and the agent, HTTP and SCP answer over the leased address.
dhcp_case() {
  local elf=target/dhcp/echoprobe-firmware line c log="$work/dhcp.log"
  [ -f "$elf" ] || { bad "DHCP: no DHCP build (see above)"; return; }
  qemu-system-arm -M lm3s6965evb -cpu cortex-m3 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -nic "$nic,dhcpstart=192.0.2.20" -kernel "$elf" \
    > "$work/dhcp.defmt" 2> "$work/dhcp.err" &
  qemu_pid=$! # wait_agent watches it
  pids+=("$qemu_pid")
  t0=$SECONDS
  sleep 1 # boot, lease and the first checks: an earlier forwarded connection only waits (socat's 3 s) for the guest
  local port secs re # agent port, seconds to wait, the answer expected: target 0 up, target 1 rejected
  while read -r port secs re; do
    if line=$(wait_agent "$port" "$re" "$secs"); then ok "DHCP: agent $port says '$line' after $((SECONDS - t0)) s"
    else bad "DHCP: agent $port says '$line'"; fi
  done << 'AGENT'
5555 15 ^up$
5556 10 ^down #association rejected
AGENT
  c=$(http_code /health/0)
  if [ "$c" = 200 ]; then ok "DHCP: GET /health/0 -> 200"; else bad "DHCP: GET /health/0 -> $c"; fi
  if timeout 20 /usr/bin/echoscu -to 5 -ta 5 -td 5 -aec ECHOPROBE -aet DCMTK 127.0.0.1 10104 > "$work/dhcp-echoscu.log" 2>&1; then
    ok "DHCP: echoscu -> probe SCP succeeds"
  else bad "DHCP: echoscu -> probe SCP: $(tail -2 "$work/dhcp-echoscu.log" | tr '\n' ' ')"; fi
  if kill -0 "$qemu_pid" 2> /dev/null; then ok "DHCP: firmware still running"; else bad "DHCP: QEMU exited: $(cat "$work/dhcp.err")"; fi
  kill "$qemu_pid" 2> /dev/null; wait "$qemu_pid" 2> /dev/null
  command -v defmt-print > /dev/null || { bad "DHCP: firmware log not decoded: defmt-print missing"; return; }
  defmt-print -e "$elf" < "$work/dhcp.defmt" > "$log" 2>&1
  echo "--- DHCP firmware log (first 8 lines)"; head -8 "$log"
  local lease_at check_at
  lease_at=$(grep -n -m1 -E 'dhcp: lease 192\.0\.2\.20/24, router [0-9.a-z]+, lease [0-9]+ s' "$log" | cut -d: -f1)
  check_at=$(grep -n -m1 -E 'target [0-9]+ ' "$log" | cut -d: -f1)
  if [ -n "$lease_at" ]; then ok "DHCP: lease logged: $(sed -n "${lease_at}p" "$log" | sed 's/^[A-Z]* *//')"
  else bad "DHCP: no lease of 192.0.2.20/24 in the log"; fi
  if [ -n "$lease_at" ] && [ -n "$check_at" ] && [ "$lease_at" -lt "$check_at" ]; then ok "DHCP: no check before the lease"
  else bad "DHCP: first check at log line ${check_at:-none}, lease at ${lease_at:-none}"; fi
}
dhcp_case
# ---- end of the DHCP block

stack_ok() { # stack_ok LOG WHAT ELF: the painted stack's high-water mark stays 1 KiB inside ELF's reservation
  local hw reserved
  hw=$(grep -o 'stack high-water [0-9]*' "$1" | tail -1 | grep -o '[0-9]*$')
  reserved=$((16#$(readelf -sW "$3" | awk '$8 == "_stack_size" { print $2 }')))
  if [ -n "$hw" ] && [ "$hw" -le $((reserved - 1024)) ]; then ok "$2: stack high-water $hw B <= reserved $reserved B - 1 KiB"
  else bad "$2: stack high-water ${hw:-unknown} B vs reserved $reserved B - 1 KiB"; fi
}
start_qemu() { # start_qemu ELF NAME: boots ELF, its defmt output in $work/NAME.defmt; sets qemu_pid
  qemu-system-arm -M lm3s6965evb -cpu cortex-m3 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -nic "$nic" -kernel "$1" > "$work/$2.defmt" 2> "$work/$2.err" &
  qemu_pid=$!
  pids+=("$qemu_pid")
}
# expect_agent WHAT PORT REGEX SECONDS: the agent's line matches within SECONDS (the time taken is shown)
expect_agent() {
  local t0=$SECONDS line
  if line=$(wait_agent "$2" "$3" "$4"); then ok "$1: agent says '$line' after $((SECONDS - t0)) s"
  else bad "$1: agent says '$line'"; fi
}
# expect_http PREFIX PATH CODE: GET PATH answers CODE
expect_http() {
  local c
  c=$(http_code "$2")
  if [ "$c" = "$3" ]; then ok "$1GET $2 -> $3"; else bad "$1GET $2 -> $c"; fi
}

# the find build (probe-find.toml): both targets C-FIND dcmqrscp, which now gets one study (storescu, as the
#    host tests store theirs). The study's UID and Patient ID are read from probe-find.toml, so they are written once.
find_run() {
  local find_elf=target/find/echoprobe-firmware uid pid
  [ -f "$find_elf" ] || { bad "find build: no ELF (the build failed)"; return; }
  uid=$(sed -n 's/^query = \["StudyInstanceUID=\([0-9.]*\)".*/\1/p' probe-find.toml)
  pid=$(sed -n 's/^require = "PatientID=\([^"]*\)".*/\1/p' probe-find.toml)
  cat > "$work/study.dump" << DUMP
(0002,0001) OB 00\01
(0002,0002) UI =SecondaryCaptureImageStorage
(0002,0003) UI [$uid.1.1]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [$uid.1.1]
(0008,0020) DA [20260101]
(0008,0060) CS [OT]
(0010,0010) PN [PROBE^FIND]
(0010,0020) LO [$pid]
(0020,000d) UI [$uid]
(0020,000e) UI [$uid.1]
(0020,0010) SH [STUDY1]
(0020,0011) IS [1]
(0020,0013) IS [1]
DUMP
  if ! /usr/bin/dump2dcm --write-file "$work/study.dump" "$work/study.dcm" > "$work/dump2dcm.log" 2>&1; then
    bad "dump2dcm: $(tail -2 "$work/dump2dcm.log" | tr '\n' ' ')"; return
  fi
  # storescu's exit code alone does not say the store succeeded; its -v log does.
  timeout 30 /usr/bin/storescu -v -aet STORESCU -aec QRSCP 127.0.0.1 11113 "$work/study.dcm" > "$work/storescu.log" 2>&1
  if grep -q "Received Store Response (Success)" "$work/storescu.log"; then ok "find: study $uid stored into dcmqrscp"
  else bad "find: storescu: $(tail -2 "$work/storescu.log" | tr '\n' ' ')"; return; fi

  start_qemu "$find_elf" find
  expect_agent "find: the stored study" 5555 '^up$' 30
  expect_agent "find: unknown study UID" 5556 '^down #too few matches: 0' 15
  expect_http "find: " /health/0 200
  expect_http "find: " /health/1 503
  # The firmware reports its stack high-water every 2 s of its own time: give it one report after these checks.
  sleep 4
  if kill -0 "$qemu_pid" 2> /dev/null; then ok "find: firmware still running"; else bad "find: QEMU exited: $(cat "$work/find.err")"; fi
  kill "$qemu_pid" 2> /dev/null; wait "$qemu_pid" 2> /dev/null
  if command -v defmt-print > /dev/null; then
    defmt-print -e "$find_elf" < "$work/find.defmt" > "$work/find.log" 2>&1
    echo "--- find firmware log (last 6 lines)"; tail -6 "$work/find.log"
    stack_ok "$work/find.log" "find build" "$find_elf"
  fi
}
find_run

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
