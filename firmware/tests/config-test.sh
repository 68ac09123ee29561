#!/bin/bash
# The expected messages quote keys in backticks, literally.
# shellcheck disable=SC2016
# Bad probe configurations must fail the build with a message naming the key. Runs the real build (build.sh).
# Prints `N passed, M failed` last.
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# case NAME EXPECTED-MESSAGE-FRAGMENT SED-EXPRESSION (applied to probe.toml) [BUILD.SH ARGUMENTS]
case_() {
  local name=$1 want=$2 expr=$3
  shift 3
  sed "$expr" probe.toml > "$tmp/$name.toml"
  if cmp -s probe.toml "$tmp/$name.toml"; then
    echo "FAIL $name: the edit changed nothing"; fail=$((fail + 1)); return
  fi
  if out=$(ECHOPROBE_CONFIG="$tmp/$name.toml" ./build.sh "$@" 2>&1); then
    echo "FAIL $name: build succeeded"; fail=$((fail + 1)); return
  fi
  if grep -qF -- "$want" <<< "$out"; then
    echo "ok   $name: $(grep -m1 'error: probe configuration' <<< "$out")"; pass=$((pass + 1))
  else
    echo "FAIL $name: no \"$want\" in:"; echo "$out" | tail -5; fail=$((fail + 1))
  fi
}

case_ long-ae '`target[0].called_ae`: `STORESCPSTORESCPX` is not a valid AE title' \
  '0,/called_ae = "STORESCP"/s//called_ae = "STORESCPSTORESCPX"/'
case_ gateway-outside '`network.gateway`: 198.51.100.1 is outside' 's/^gateway = "192.0.2.2"/gateway = "198.51.100.1"/'
case_ bad-address '`target[1].address`: `192.0.2.300` is not an IPv4 address' 's/"192.0.2.101"/"192.0.2.300"/'
case_ port-twice '`target[1].agent_port`: port 5555 is already used by `target[0].agent_port`' 's/^agent_port = 5556/agent_port = 5555/'
case_ typo '`target[0].interval`: unknown key' '0,/^interval_ms/s//interval/'
case_ zero-rise '`target[0].rise`: 0 is out of range 1..=255' '0,/^rise = 2/s//rise = 0/'
case_ not-toml 'not valid TOML' 's/^\[http\]/[http/'
case_ slots '`serve.max_concurrent`: 5 check slots: the probe has room for 1 to 4' 's/^\[http\]/[serve]\nmax_concurrent = 5\n[http]/'
# A find check needs the `find` feature (this build has not got it); its keys are checked as the daemon checks them.
case_ find-without-feature '`target[0].check`: `find` needs the firmware'"'"'s find feature' \
  '0,/^fall = 2/s//fall = 2\ncheck = "find"\nquery_model = "study"\nquery = ["PatientID"]/'
case_ find-bad-key "\`target[0].query[0]\`: unknown key 'NoSuchKey'" \
  '0,/^fall = 2/s//fall = 2\ncheck = "find"\nquery_model = "study"\nquery = ["NoSuchKey=1"]/' --features find
case_ find-key-on-echo '`target[0].min_matches`: only a find check has it' '0,/^fall = 2/s//fall = 2\nmin_matches = 1/'

# and the real file still builds
if ./build.sh > "$tmp/good.log" 2>&1; then echo "ok   probe.toml builds"; pass=$((pass + 1));
else echo "FAIL probe.toml does not build"; tail -5 "$tmp/good.log"; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
