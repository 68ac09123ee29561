#!/usr/bin/env bash
# scripts/test-ship.sh: the shipping suite (a step of scripts/test.sh). Runs as root on Debian 12.
#
#   1. deb       packaging/build-deb.sh (release build, cargo-deb); lintian with no error and no
#                warning that is not overridden; dpkg -i, then `echoprobe demo` from /usr/bin, `man -l`,
#                the completions, the conffile, no /usr/bin/echoscu of ours; dpkg -r keeps only the
#                conffile; dpkg --purge removes it. The package is purged at the end whatever happens.
#   2. systemd   systemd-analyze verify of the installed unit, enabled and not started on install;
#                `systemd-analyze security --offline=true` exposure printed, fail above 2.0.
#                Type=notify: this machine cannot boot systemd as PID 1, so a harness listens on a
#                unix datagram socket named in NOTIFY_SOCKET and waits for READY=1 from `echoprobe serve`.
#   3. static    scripts/build-static.sh; `file` and `ldd` say static; in a chroot holding only the
#                binary and /etc/hosts (no /lib, no /usr): `echoprobe demo`, a check of DCMTK storescp,
#                and `echoprobe scp` answering DCMTK echoscu; its size next to the glibc build's.
#   4. nagios    Nagios 4 (nagios4-core) configured in a temp dir runs check_dicom (a symlink to the
#                installed /usr/bin/echoprobe) every second against `echoprobe scp`; the state Nagios
#                records in its status.dat is OK while the SCP runs, CRITICAL after it stops.
# Every server runs inside a loopback-only network namespace (unshare -n). Every wait is bounded.
# A part that cannot run says SKIP loudly and the script fails: a skip is never a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
T0=$(date +%s)
FAILED=()
SKIPPED=()

log() { printf '[test-ship %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() {
    log "FAIL: $*"
    FAILED+=("$*")
}
skip() {
    printf '\n!!!!!!!!!! SKIP: %s !!!!!!!!!!\n\n' "$*"
    SKIPPED+=("$*")
}

[ "$(id -u)" -eq 0 ] || { log "must run as root (dpkg -i, chroot, nagios)"; exit 1; }
for tool in lintian dpkg systemd-analyze musl-gcc /usr/sbin/nagios4 man file ldd unshare chroot \
    /usr/bin/storescp /usr/bin/echoscu python3 shellcheck strip; do
    command -v "$tool" >/dev/null || { log "missing: $tool (run scripts/install-deps.sh)"; exit 1; }
done
shellcheck packaging/build-deb.sh || { log "shellcheck: packaging/build-deb.sh"; exit 1; }
cargo deb --version >/dev/null || { log "missing: cargo-deb (run scripts/install-deps.sh)"; exit 1; }

WORK=$(mktemp -d /tmp/echoprobe-ship.XXXXXX)
chmod 755 "$WORK"
cleanup() {
    if dpkg-query -W -f='${Status}' echoprobe 2>/dev/null | grep -qv 'not-installed'; then
        dpkg --purge echoprobe >/dev/null 2>&1 || log "cleanup: dpkg --purge echoprobe failed"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# in_netns SCRIPT ARGS...: bash SCRIPT in a fresh loopback-only network namespace, 120 s at most.
in_netns() {
    local script=$1
    shift
    timeout -k 5 120 unshare -n bash -c "set -euo pipefail; ip link set lo up; $script" netns "$@"
}

# --- 1. the .deb -----------------------------------------------------------------------------
t=$(date +%s)
DEB=$(packaging/build-deb.sh "$@" | tail -n 1)
log "built $DEB ($(stat -c %s "$DEB") bytes) in $(($(date +%s) - t)) s"
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/echoprobe

log "lintian $(lintian --version)"
if lintian --fail-on error,warning --info "$DEB"; then
    log "lintian: no error, no warning left"
else
    fail "lintian reports an error or a warning (above)"
fi

if dpkg-query -W -f='${Status}' echoprobe 2>/dev/null | grep -q 'ok installed'; then
    log "echoprobe is installed already (an earlier run?): purging it first"
    dpkg --purge echoprobe
fi
dpkg -i "$DEB"
UNIT=/lib/systemd/system/echoprobe.service
[ -f "$UNIT" ] || UNIT=/usr/lib/systemd/system/echoprobe.service
files=(/usr/bin/echoprobe /usr/share/man/man1/echoprobe.1.gz /usr/share/man/man1/echoprobe-scp.1.gz
    /usr/share/man/man1/echoprobe-demo.1.gz /usr/share/bash-completion/completions/echoprobe
    /usr/share/zsh/vendor-completions/_echoprobe /usr/share/fish/vendor_completions.d/echoprobe.fish
    /usr/share/doc/echoprobe/examples/haproxy/haproxy.cfg /usr/share/doc/echoprobe/copyright
    /etc/echoprobe/probe.toml "$UNIT")
for f in "${files[@]}"; do
    [ -f "$f" ] || fail "installed: $f missing"
done
if in_netns '/usr/bin/echoprobe demo'; then log "/usr/bin/echoprobe demo: ok"; else fail "/usr/bin/echoprobe demo"; fi
page=$(MANWIDTH=100 man -l /usr/share/man/man1/echoprobe.1.gz 2>"$WORK/man.err" | col -b)
if grep -q 'EXIT STATUS' <<<"$page" && grep -q 'echoprobe' <<<"$page" && [ ! -s "$WORK/man.err" ]; then
    log "man -l: $(wc -l <<<"$page") lines, no warning"
else
    fail "man -l: $(head -c 300 "$WORK/man.err")"
fi
# bash: the completion registers; zsh and fish: the files are what clap made for echoprobe.
if bash -c 'source /usr/share/bash-completion/completions/echoprobe && complete -p echoprobe' >/dev/null; then
    log "bash completion: registered"
else
    fail "bash completion does not register"
fi
grep -q '#compdef echoprobe' /usr/share/zsh/vendor-completions/_echoprobe || fail "zsh completion: no #compdef"
grep -q '^complete -c echoprobe' /usr/share/fish/vendor_completions.d/echoprobe.fish || fail "fish completion"
dpkg-query -W -f='${Conffiles}\n' echoprobe | grep -q '/etc/echoprobe/probe.toml' ||
    fail "/etc/echoprobe/probe.toml is not a conffile"
if dpkg -L echoprobe | grep -q 'echoscu'; then fail "the package ships an echoscu"; fi
owner=$(dpkg -S /usr/bin/echoscu 2>/dev/null | cut -d: -f1 || true)
[ "$owner" = "dcmtk" ] || fail "/usr/bin/echoscu belongs to '${owner:-nobody}', not dcmtk"

# --- 2. systemd --------------------------------------------------------------------------------
log "PID 1 here is '$(ps -p 1 -o comm=)': systemd cannot run as PID 1 on this machine, the unit is checked offline"
if systemd-analyze verify "$UNIT"; then log "systemd-analyze verify: ok"; else fail "systemd-analyze verify $UNIT"; fi
exposure=$(systemd-analyze security --offline=true --no-pager "$UNIT" |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
log "systemd-analyze security --offline=true: exposure ${exposure:-?} (limit 2.0)"
if [ -z "$exposure" ] || ! awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
    fail "exposure ${exposure:-unknown} is above 2.0"
fi
# Enabled (the symlink deb-systemd-helper makes), not started (no start in the maintainer scripts).
[ -L /etc/systemd/system/multi-user.target.wants/echoprobe.service ] || fail "echoprobe.service is not enabled"
# shellcheck disable=SC2016 # a literal $ in the pattern
if grep -Eq 'deb-systemd-invoke +(start|restart|\$_dh_action)' /var/lib/dpkg/info/echoprobe.postinst; then
    fail "the postinst starts echoprobe.service"
fi

# Type=notify: READY=1 from `echoprobe serve` on NOTIFY_SOCKET, and the shipped config is valid.
if /usr/bin/echoprobe serve --check-config --config /etc/echoprobe/probe.toml; then
    log "serve --check-config: the shipped /etc/echoprobe/probe.toml is valid"
else
    fail "serve --check-config refuses the shipped /etc/echoprobe/probe.toml"
fi
# shellcheck disable=SC2016 # expanded by the inner bash
if in_netns 'python3 - "$1" "$2" <<"PY"
import os, socket, subprocess, sys, time
sock_path, config = sys.argv[1] + "/notify.sock", sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(10)
daemon = subprocess.Popen(["/usr/bin/echoprobe", "serve", "--config", config],
                          env=dict(os.environ, NOTIFY_SOCKET=sock_path))
try:
    got = s.recv(4096).decode()
    print("notify harness: received", repr(got))
    sys.exit(0 if "READY=1" in got.split("\n") else 1)
except socket.timeout:
    print("notify harness: no READY=1 within 10 s")
    sys.exit(1)
finally:
    daemon.terminate()
    daemon.wait(timeout=5)
PY' "$WORK" /etc/echoprobe/probe.toml; then
    log "Type=notify: READY=1 arrived from echoprobe serve"
else
    fail "Type=notify: no READY=1 from echoprobe serve"
fi

# --- 4. Nagios 4 runs check_dicom (while the package is installed) ------------------------------
ln -s /usr/bin/echoprobe "$WORK/check_dicom"
NAG=$WORK/nagios
mkdir -p "$NAG/spool/checkresults"
cat >"$NAG/objects.cfg" <<EOF
define timeperiod {
    timeperiod_name always
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define command {
    command_name    nothing
    command_line    /bin/true
}
define command {
    command_name    check_dicom
    command_line    $WORK/check_dicom -w 2 -c 5 -to 2 -ta 2 -td 2 \$HOSTADDRESS\$ \$ARG1\$
}
define contact {
    contact_name                    nobody
    host_notifications_enabled      0
    service_notifications_enabled   0
    host_notification_period        always
    service_notification_period     always
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      nothing
    service_notification_commands   nothing
}
define host {
    host_name               pacs
    address                 127.0.0.1
    max_check_attempts      1
    check_period            always
    contacts                nobody
    notification_interval   0
    notification_period     always
}
define service {
    host_name               pacs
    service_description     DICOM
    check_command           check_dicom!11112
    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            always
    contacts                nobody
    notification_interval   0
    notification_period     always
}
EOF
cat >"$NAG/nagios.cfg" <<EOF
cfg_file=$NAG/objects.cfg
log_file=$NAG/nagios.log
status_file=$NAG/status.dat
object_cache_file=$NAG/objects.cache
precached_object_file=$NAG/objects.precache
temp_file=$NAG/nagios.tmp
temp_path=$NAG
lock_file=$NAG/nagios.lock
check_result_path=$NAG/spool/checkresults
state_retention_file=$NAG/retention.dat
retain_state_information=0
use_retained_program_state=0
use_retained_scheduling_info=0
nagios_user=nagios
nagios_group=nagios
check_external_commands=0
enable_notifications=0
use_syslog=0
interval_length=1
status_update_interval=1
check_result_reaper_frequency=1
max_service_check_spread=1
max_host_check_spread=1
service_inter_check_delay_method=n
host_inter_check_delay_method=n
execute_host_checks=0
enable_flap_detection=0
EOF
chown -R nagios:nagios "$NAG"
if /usr/sbin/nagios4 -v "$NAG/nagios.cfg" >"$NAG/verify.log" 2>&1; then
    log "nagios4 -v: configuration ok"
else
    cat "$NAG/verify.log"
    fail "nagios4 -v refuses the test configuration"
fi
# shellcheck disable=SC2016 # expanded by the inner bash
if in_netns '
    nag=$1
    state() { sed -n "/^servicestatus {/,/}/{s/^\t*current_state=//p}" "$nag/status.dat" 2>/dev/null; }
    checked() { sed -n "/^servicestatus {/,/}/{s/^\t*has_been_checked=//p}" "$nag/status.dat" 2>/dev/null; }
    output() { sed -n "/^servicestatus {/,/}/{s/^\t*plugin_output=//p}" "$nag/status.dat" 2>/dev/null; }
    perf() { sed -n "/^servicestatus {/,/}/{s/^\t*performance_data=//p}" "$nag/status.dat" 2>/dev/null; }
    /usr/bin/echoprobe scp -q --bind 127.0.0.1 11112 & scp=$!
    /usr/sbin/nagios4 "$nag/nagios.cfg" >"$nag/stdout.log" 2>&1 & nagios=$!
    trap "kill $scp $nagios 2>/dev/null || true; wait 2>/dev/null || true" EXIT
    ok=""
    for _ in $(seq 60); do
        if [ "$(checked)" = 1 ] && [ "$(state)" = 0 ]; then ok=1; break; fi
        sleep 0.5
    done
    [ -n "$ok" ] || { echo "nagios never recorded OK: $(output)"; cat "$nag/nagios.log"; exit 1; }
    echo "nagios recorded OK: $(output) | $(perf)"
    kill $scp; wait $scp 2>/dev/null || true
    crit=""
    for _ in $(seq 60); do
        if [ "$(state)" = 2 ]; then crit=1; break; fi
        sleep 0.5
    done
    [ -n "$crit" ] || { echo "nagios never recorded CRITICAL: state $(state): $(output)"; exit 1; }
    echo "nagios recorded CRITICAL after the SCP stopped: $(output)"
' "$NAG"; then
    log "nagios: OK while the SCP ran, CRITICAL after it stopped"
else
    fail "nagios did not record OK then CRITICAL"
fi

# --- 1 (end). dpkg -r keeps only the conffile; purge removes it ------------------------------
dpkg -r echoprobe
for f in "${files[@]}"; do
    if [ "$f" = /etc/echoprobe/probe.toml ]; then
        [ -f "$f" ] || fail "dpkg -r removed the conffile $f (policy keeps it until purge)"
    elif [ -e "$f" ]; then
        fail "dpkg -r left $f"
    fi
done
dpkg-query -W -f='${db:Status-Abbrev}' echoprobe | grep -q '^rc' || fail "after dpkg -r the package is not in state rc"
dpkg --purge echoprobe
[ ! -e /etc/echoprobe ] || fail "dpkg --purge left /etc/echoprobe"
[ ! -e /etc/systemd/system/multi-user.target.wants/echoprobe.service ] || fail "purge left the enable symlink"
dpkg-query -W echoprobe >/dev/null 2>&1 && fail "dpkg still knows echoprobe after purge"
log "dpkg -r kept only /etc/echoprobe/probe.toml; --purge removed it"

# --- 3. the static binary ----------------------------------------------------------------------
t=$(date +%s)
STATIC=$(scripts/build-static.sh "$@" | tail -n 1)
log "built $STATIC in $(($(date +%s) - t)) s"
desc=$(file -b "$STATIC")
log "file: $desc"
grep -q 'statically linked' <<<"$desc" || fail "file does not say statically linked"
if grep -q 'interpreter' <<<"$desc"; then fail "file names an interpreter"; fi
ldd_out=$(ldd "$STATIC" 2>&1 || true)
log "ldd: $ldd_out"
grep -q 'not a dynamic executable' <<<"$ldd_out" || fail "ldd does not say 'not a dynamic executable'"
ROOT=$WORK/root
mkdir -p "$ROOT/etc" "$ROOT/tmp"
cp "$STATIC" "$ROOT/echoprobe"
printf '127.0.0.1 localhost pacs\n::1 localhost\n' >"$ROOT/etc/hosts"
log "chroot holds: $(cd "$ROOT" && find . -mindepth 1 | sort | tr '\n' ' ')"
# shellcheck disable=SC2016 # expanded by the inner bash
if in_netns '
    root=$1
    chroot "$root" /echoprobe demo
    /usr/bin/storescp --aetitle STORESCP 11112 & store=$!
    chroot "$root" /echoprobe scp -q --bind 127.0.0.1 11113 & scp=$!
    trap "kill $store $scp 2>/dev/null || true; wait 2>/dev/null || true" EXIT
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/11112 && exec 3<>/dev/tcp/127.0.0.1/11113) 2>/dev/null && break
        sleep 0.1
    done
    chroot "$root" /echoprobe -aec STORESCP pacs 11112
    /usr/bin/echoscu -aec ECHOPROBE 127.0.0.1 11113
    echo "static binary in the chroot: demo, a check of storescp by name (pacs, from /etc/hosts), its scp answering echoscu: ok"
' "$ROOT"; then
    log "static binary: demo, check and scp in a chroot without /lib and /usr: ok"
else
    fail "static binary in the chroot"
fi
strip -o "$WORK/static.stripped" "$STATIC"
strip -o "$WORK/glibc.stripped" "$BIN"
printf '[test-ship] sizes: static musl %s bytes (stripped %s), glibc release %s bytes (stripped %s, as in the .deb)\n' \
    "$(stat -c %s "$STATIC")" "$(stat -c %s "$WORK/static.stripped")" \
    "$(stat -c %s "$BIN")" "$(stat -c %s "$WORK/glibc.stripped")"

# --- summary -------------------------------------------------------------------------------------
log "took $(($(date +%s) - T0)) s"
if [ "${#SKIPPED[@]}" -gt 0 ]; then
    printf '!!!!!!!!!! SKIPPED (counted as failures): %s\n' "${SKIPPED[@]}"
fi
if [ "${#FAILED[@]}" -gt 0 ]; then
    printf 'FAILED: %s\n' "${FAILED[@]}"
fi
if [ "${#FAILED[@]}" -gt 0 ] || [ "${#SKIPPED[@]}" -gt 0 ]; then
    exit 1
fi
log "all shipping checks passed"
