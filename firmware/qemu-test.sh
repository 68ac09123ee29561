#!/bin/bash
# End-to-end test of the probe firmware in QEMU against real DCMTK peers.
#
# Builds the firmware (build.sh), then, inside a fresh network namespace that has only loopback (`unshare -n`):
#   - DCMTK storescp (AE STORESCP) on 127.0.0.1:11112 - target 0;
#   - DCMTK dcmqrscp (AE QRSCP, checks the called AE title) on 127.0.0.1:11113 - target 1, which probe.toml calls with
#     the wrong AE title;
#   - QEMU lm3s6965evb on the restricted user network 192.0.2.0/24 (never QEMU's default 10.0.2.0/24): the guest's
#     connections to 192.0.2.100:11112 / 192.0.2.101:11113 are relayed by socat to those loopback ports (guestfwd), and
#     the probe's agent ports (5555, 5556), HTTP (8080) and SCP (104 -> 10104) are forwarded to 127.0.0.1 (hostfwd).
# A real HAProxy (agent-check only) follows the agent ports.
# Asserts through the forwarded ports: target 0 `up` while storescp runs, `down` after it is stopped (within the fall
# count), `up` again after a restart; target 1 `down` with the rejection as reason; GET /health/<n> 200/503/404;
# DCMTK echoscu to the probe's SCP succeeds (and is rejected with a wrong called AE). Before all that,
# tests/config-test.sh: bad probe.toml files fail the build with a message naming the key.
# The find build (`--features find`, probe-find.toml) runs second in the same namespace: one study is stored into
# dcmqrscp with DCMTK's storescu (made with dump2dcm), and the probe's find target for it must come up (agent and
# /health) while a second find target, querying an unknown Study Instance UID, is down with the too-few-matches reason.
# Its flash may exceed the echo build's by at most 8 KiB, its RAM the same 32 KiB budget.
# Every wait is bounded; QEMU and the peers are killed by PID; the namespace part has a hard deadline.
# Prints `N passed, M failed`, then `flash=N ram=M` as the last line; fails above the budget
# (flash = .text + .rodata + .data <= 48 KiB, ram = .data + .bss + reserved stack <= 32 KiB).
set -u
self=$(readlink -f "$0")
cd "$(dirname "$self")" || exit 1
FLASH_BUDGET=$((48 * 1024))
RAM_BUDGET=$((32 * 1024))
FIND_FLASH_EXTRA=$((8 * 1024))
DEADLINE=${QEMU_TEST_DEADLINE:-300}

if [ "${1:-}" != "--inside" ]; then
  # Root (CI) gets a plain network namespace; others a user namespace with one.
  ns=(unshare -n)
  [ "$(id -u)" -eq 0 ] || ns=(unshare -r -n)
  for tool in /usr/bin/cargo-clippy qemu-system-arm socat haproxy /usr/bin/storescp /usr/bin/dcmqrscp /usr/bin/echoscu /usr/bin/storescu /usr/bin/dump2dcm unshare ip curl; do
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
  # Bad configurations fail the build with a clear message (runs the build several times; the good one last).
  config_rc=0
  tests/config-test.sh || config_rc=1
  work=$(mktemp -d)
  build_log=$(mktemp)
  # The find build first: its ELF is kept in $work, the echo build's stays where build.sh puts it.
  find_rc=0
  if ECHOPROBE_CONFIG=probe-find.toml ./build.sh --features find > "$build_log" 2>&1; then
    find_sizes=$(tail -1 "$build_log")
    cp target/thumbv7m-none-eabi/release/echoprobe-firmware "$work/find.elf"
  else
    tail -20 "$build_log"; echo "qemu-test.sh: FAIL: the find build (--features find, probe-find.toml)"; find_rc=1
  fi
  if ! ./build.sh > "$build_log" 2>&1; then
    cat "$build_log"; rm -f "$build_log"; echo "qemu-test.sh: build failed"; exit 1
  fi
  sizes=$(tail -1 "$build_log")
  grep -E '^vector_table=' "$build_log"
  # The second board (NUCLEO-F429ZI) must build too; its sizes are shown, not budget-checked (no QEMU model for it).
  stm32_rc=0
  if BOARD=stm32f429 ./build.sh > "$build_log" 2>&1; then
    echo "stm32f429 build: $(tail -1 "$build_log")"
  else
    tail -20 "$build_log"; echo "qemu-test.sh: FAIL: the stm32f429 board does not build"; stm32_rc=1
  fi
  rm -f "$build_log"
  timeout -k 5 "$DEADLINE" "${ns[@]}" "$self" --inside "$work"
  rc=$?
  [ $rc -eq 124 ] && echo "qemu-test.sh: FAIL: hard deadline of ${DEADLINE}s reached"
  [ $config_rc -eq 0 ] || { echo "qemu-test.sh: FAIL: tests/config-test.sh"; rc=1; }
  [ $stm32_rc -eq 0 ] || rc=1
  [ $lint_rc -eq 0 ] || rc=1
  flash=$(sed -n 's/^flash=\([0-9]*\) .*/\1/p' <<< "$sizes")
  ram=$(sed -n 's/.* ram=\([0-9]*\)$/\1/p' <<< "$sizes")
  if [ -z "$flash" ] || [ -z "$ram" ]; then echo "qemu-test.sh: no sizes from build.sh"; rc=1; fi
  if [ "${flash:-0}" -gt $FLASH_BUDGET ]; then echo "qemu-test.sh: FAIL: flash $flash > budget $FLASH_BUDGET"; rc=1; fi
  if [ "${ram:-0}" -gt $RAM_BUDGET ]; then echo "qemu-test.sh: FAIL: ram $ram > budget $RAM_BUDGET"; rc=1; fi
  [ $find_rc -eq 0 ] || rc=1
  if [ $find_rc -eq 0 ]; then
    find_flash=$(sed -n 's/^flash=\([0-9]*\) .*/\1/p' <<< "$find_sizes")
    find_ram=$(sed -n 's/.* ram=\([0-9]*\)$/\1/p' <<< "$find_sizes")
    echo "find build: $find_sizes (echo build: $sizes; flash +$((find_flash - ${flash:-0})))"
    if [ "$find_flash" -gt $((${flash:-0} + FIND_FLASH_EXTRA)) ]; then
      echo "qemu-test.sh: FAIL: find build flash $find_flash > echo build + $FIND_FLASH_EXTRA"; rc=1
    fi
    if [ "$find_ram" -gt $RAM_BUDGET ]; then echo "qemu-test.sh: FAIL: find build ram $find_ram > budget $RAM_BUDGET"; rc=1; fi
  fi
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
stack_ok() { # stack_ok LOG WHAT: the painted stack's high-water mark stays 1 KiB inside the reservation
  local hw reserved
  hw=$(grep -o 'stack high-water [0-9]*' "$1" | tail -1 | grep -o '[0-9]*$')
  reserved=$(($(sed -n 's/^_stack_size = \([0-9]*\)K;.*/\1/p' memory.x) * 1024))
  if [ -n "$hw" ] && [ "$hw" -le $((reserved - 1024)) ]; then ok "$2: stack high-water $hw B <= reserved $reserved B - 1 KiB"
  else bad "$2: stack high-water ${hw:-unknown} B vs reserved $reserved B - 1 KiB"; fi
}

elf=target/thumbv7m-none-eabi/release/echoprobe-firmware
mkdir -p "$work/scp" "$work/qr"

start_storescp() {
  /usr/bin/storescp -aet STORESCP -od "$work/scp" 11112 >> "$work/storescp.log" 2>&1 &
  storescp_pid=$!
  pids+=("$storescp_pid")
}
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
AETable END
CFG
start_storescp
/usr/bin/dcmqrscp -c "$work/dcmqrscp.cfg" > "$work/dcmqrscp.log" 2>&1 &
pids+=($!)

# -lf /dev/null: the relay's stderr is the guest's connection too (libslirp), so socat must not log there.
relay="socat -lf /dev/null STDIO TCP:127.0.0.1"
nic="user,model=stellaris,net=192.0.2.0/24,host=192.0.2.2,restrict=on"
nic+=",guestfwd=tcp:192.0.2.100:11112-cmd:$relay:11112,guestfwd=tcp:192.0.2.101:11113-cmd:$relay:11113"
nic+=",hostfwd=tcp:127.0.0.1:5555-:5555,hostfwd=tcp:127.0.0.1:5556-:5556"
nic+=",hostfwd=tcp:127.0.0.1:8080-:8080,hostfwd=tcp:127.0.0.1:10104-:104"
start_qemu() { # start_qemu ELF NAME: boots ELF, its defmt output in $work/NAME.defmt; sets qemu_pid
  qemu-system-arm -M lm3s6965evb -cpu cortex-m3 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -nic "$nic" -kernel "$1" > "$work/$2.defmt" 2> "$work/$2.err" &
  qemu_pid=$!
  pids+=("$qemu_pid")
}
start_qemu "$elf" qemu
qemu_t0=$(date +%s%N)

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
http_code() { curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:8080$1"; }
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

# 1. target 0 comes up (rise 2, interval 1 s: a few seconds after boot)
expect_agent "storescp running" 5555 '^up$' 30

# 2. target 1: a peer that checks the called AE title rejects us
expect_agent "wrong called AE" 5556 '^down #association rejected' 15

# 3. HTTP health
expect_http "" /health/0 200
expect_http "" /health/1 503
expect_http "" /health/7 404

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

# 5. stop storescp: down within the fall count. probe.toml: fall 2, interval 1 s, and a check of a dead peer ends at
#    once (the relay closes; at worst connect + ACSE timeouts, 4 s): 2 x (1 + 4) s + 2 s of polling = 12 s.
kill "$storescp_pid"; wait "$storescp_pid" 2> /dev/null
expect_agent "storescp stopped" 5555 '^down #' 12
c=$(http_code /health/0)
if [ "$c" = 503 ]; then ok "GET /health/0 -> 503 while down"; else bad "GET /health/0 -> $c while down"; fi
if st=$(wait_hastate t0 '^DOWN \(agent\)' 10); then ok "HAProxy: server t0 $st after storescp stopped"
else bad "HAProxy: server t0 '$st' after storescp stopped"; fi

# 6. restart: up again within rise (2) good checks: 2 x (1 s + a check) + 2 s of polling.
start_storescp
expect_agent "storescp restarted" 5555 '^up$' 8

if st=$(wait_hastate t0 '^(UP|no check)$' 10); then ok "HAProxy: server t0 '$st' again"
else bad "HAProxy: server t0 '$st' after restart"; fi

# 7. the firmware is still running (no fault, no exit)
if kill -0 "$qemu_pid" 2> /dev/null; then ok "firmware still running"; else bad "QEMU exited: $(cat "$work/qemu.err")"; fi

kill "$qemu_pid" 2> /dev/null; wait "$qemu_pid" 2> /dev/null
wall_ms=$((($(date +%s%N) - qemu_t0) / 1000000))
if command -v defmt-print > /dev/null; then
  defmt-print -e "$elf" < "$work/qemu.defmt" > "$work/qemu.log" 2>&1
  echo "--- firmware log (last 15 lines; defmt decoded)"; tail -15 "$work/qemu.log"
  # The SysTick clock runs at the real rate: the firmware reports its uptime every 2 s, so the last report lies
  # within (wall - 2.5 s, wall] of the time QEMU ran. A wrong core clock (e.g. 2x) fails this.
  last=$(grep -o 't=[0-9]*ms' "$work/qemu.log" | tail -1 | tr -dc 0-9)
  if [ -n "$last" ] && [ "$last" -le "$wall_ms" ] && [ "$last" -gt $((wall_ms - 2500)) ]; then
    ok "clock: firmware uptime ${last} ms after ${wall_ms} ms of QEMU"
  else bad "clock: firmware uptime ${last:-unknown} ms after ${wall_ms} ms of QEMU"; fi
  # The RAM budget counts the reserved stack, so the stack must really stay inside it (with 1 KiB to spare).
  stack_ok "$work/qemu.log" "echo build"
else
  bad "firmware log not decoded: defmt-print missing (cargo install defmt-print): stack high-water unknown"
fi
# 8. the find build (probe-find.toml): both targets C-FIND dcmqrscp, which now gets one study (storescu, as the
#    host tests store theirs). The study's UID and Patient ID are read from probe-find.toml, so they are written once.
find_run() {
  local find_elf=$work/find.elf uid pid
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
    stack_ok "$work/find.log" "find build"
  fi
}
find_run

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
