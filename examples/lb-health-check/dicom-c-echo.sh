#!/bin/sh
# dicom-c-echo.sh: DICOM C-ECHO health check for load balancers (POSIX sh).
#
# A working version of the external check published for load-balancer appliances (the original had an unclosed `if`,
# `[[ ]]` without `then`, and never set the real-server address). It runs one C-ECHO against the real server:
#
#     echoscu -aet LOADBALANCER -aec LB-SCP <real server> <real port>
#
# and exits with echoscu's status: 0 healthy, anything else unhealthy. With echoprobe installed as `echoscu` (or
# ECHOSCU=echoprobe) every failure has its own non-zero code (63 refused, 61 rejected, 68 non-success C-ECHO status,
# ...; `echoprobe -h`), where DCMTK's echoscu exits 0 on a failure status or an abort.
#
# Calling conventions (both are the same four positions; the script takes either):
#
#   ldirectord, keepalived, appliances:   dicom-c-echo.sh VIP VPORT RIP RPORT
#       RPORT 0 means "the real server listens on the virtual port" (ldirectord passes 0 for a `real=` without a port).
#       An IPv6 RIP may come in brackets ([2001:db8::1], ldirectord's real6=); they are removed.
#
#   HAProxy `external-check command`:     dicom-c-echo.sh <proxy_address> <proxy_port> <server_address> <server_port>
#       In a `backend` section HAProxy passes NOT_USED for the proxy address and port. A server without a port gets
#       port 0 (even with a `port` check port, which external checks never see), which then needs a `listen`
#       section with a `bind` to take the port from: give each server its port. HAProxy also sets
#       HAPROXY_SERVER_ADDR / HAPROXY_SERVER_PORT / HAPROXY_PROXY_PORT; when HAPROXY_SERVER_ADDR is set they are
#       used where the arguments are empty or NOT_USED, and the script may then be called with no arguments at all.
#       HAProxy runs the check with an empty environment and PATH taken from `external-check path` (default
#       empty): set it so that `echoscu` is found (see examples/haproxy/haproxy.cfg).
#
# Settings (environment; defaults in brackets). HAProxy passes no environment: edit the defaults below, or point
# `external-check command` at a two-line wrapper that exports them and execs this script.
#   DICOM_AET      calling AE title, ours                      [LOADBALANCER]
#   DICOM_AEC      called AE title, the PACS node's            [LB-SCP]
#   DICOM_AEC_MAP  file of per-node called AE titles, one `KEY AE-TITLE` a line (`#` comments); KEY is HAProxy's
#                  server name (HAPROXY_SERVER_NAME), `RIP:RPORT` (`[RIP]:RPORT` for IPv6) or RIP; the first line
#                  whose KEY matches, in that order of preference, wins; none: DICOM_AEC
#                                                              [/etc/echoprobe/dicom-aec.map, if it exists]
#   DICOM_DEADLINE seconds for the whole check (echoprobe's --deadline), below the load balancer's check interval
#                  and timeout: HAProxy kills a check still running after `inter` ("External check timeout") and
#                  the exit code that says why is lost; empty: echoprobe's default (30)          [4]
#   DICOM_VERBOSE  1: let echoprobe print its summary line for a healthy check too; otherwise a healthy check
#                  prints nothing and a failed one prints one line on stderr with the reason       [empty]
#   ECHOSCU        the echoscu program (name or path)          [echoscu, from PATH]
#   ECHOSCU_OPTS   extra options, split on blanks, placed before the peer, e.g. "-to 5 -ta 5 -td 5" (DCMTK's echoscu
#                  waits forever for a C-ECHO-RSP by default; echoprobe bounds every phase by default), or TLS:
#                  "+tls key.pem cert.pem +cf ca.pem" (file names without blanks)
# DICOM_DEADLINE and the quiet default apply when ECHOSCU is echoprobe (its --version says so; one extra run per
# check). DCMTK's echoscu has no overall deadline and prints nothing when healthy: bound it with ECHOSCU_OPTS
# ("-to 1 -ta 1 -td 1" keeps it below a 5 s interval).
#
# Exit status: echoscu's; 1 with a usage line on stderr for bad arguments; 126/127 if echoscu cannot be run.
# Uses shell built-ins only (HAProxy's default PATH is empty).

aet=${DICOM_AET:-LOADBALANCER}
aec=${DICOM_AEC:-LB-SCP}
aec_map=${DICOM_AEC_MAP-/etc/echoprobe/dicom-aec.map}
deadline=${DICOM_DEADLINE-4}
verbose=${DICOM_VERBOSE:-}
echoscu=${ECHOSCU:-echoscu}

# usage REASON: say what is wrong and how to call the script, exit 1.
usage() {
    printf '%s: %s\n' "${0##*/}" "$1" >&2
    printf 'usage: %s VIP VPORT RIP RPORT   (RPORT 0: use VPORT; HAProxy: see the header)\n' "$0" >&2
    exit 1
}

# is_port VALUE: a decimal TCP port number 0..65535.
is_port() {
    case $1 in
        '' | *[!0-9]*) return 1 ;;
    esac
    [ "${#1}" -le 5 ] && [ "$1" -le 65535 ]
}

case $# in
    4) ;;
    0) [ -n "${HAPROXY_SERVER_ADDR:-}" ] || usage "no arguments" ;;
    *) usage "expected 4 arguments, got $#" ;;
esac

vport=${2:-}
rip=${3:-}
rport=${4:-}
if [ -n "${HAPROXY_SERVER_ADDR:-}" ]; then
    [ -n "$rip" ] || rip=$HAPROXY_SERVER_ADDR
    [ -n "$rport" ] || rport=${HAPROXY_SERVER_PORT:-}
    case $vport in '' | NOT_USED) vport=${HAPROXY_PROXY_PORT:-} ;; esac
fi

# ldirectord writes IPv6 addresses in brackets ([2001:db8::1]); echoscu wants them bare.
case $rip in
    \[*\]) rip=${rip#\[} && rip=${rip%\]} ;;
esac
case $rip in
    '') usage "RIP is empty" ;;
    -*) usage "RIP must not start with '-': $rip" ;;
esac
is_port "$rport" || usage "RPORT is not a port number: '$rport'"
if [ "$rport" -eq 0 ]; then
    if ! is_port "$vport" || [ "$vport" -eq 0 ]; then
        usage "RPORT is 0 and VPORT is not a port number: '$vport'"
    fi
    rport=$vport
fi

# The called AE title of this node from the map file: the first line keyed by the server name, else by
# RIP:RPORT, else by RIP. Keys are compared as strings (no patterns), so any server name is safe.
if [ -n "$aec_map" ] && [ -r "$aec_map" ]; then
    case $rip in
        *:*) rip_port="[$rip]:$rport" ;;
        *) rip_port="$rip:$rport" ;;
    esac
    by_name='' by_rip_port='' by_rip=''
    while read -r key value || [ -n "$key" ]; do
        case $key in '' | \#*) continue ;; esac
        [ -n "$value" ] || continue
        if [ -n "${HAPROXY_SERVER_NAME:-}" ] && [ "$key" = "$HAPROXY_SERVER_NAME" ]; then
            [ -n "$by_name" ] || by_name=$value
        elif [ "$key" = "$rip_port" ]; then
            [ -n "$by_rip_port" ] || by_rip_port=$value
        elif [ "$key" = "$rip" ]; then
            [ -n "$by_rip" ] || by_rip=$value
        fi
    done <"$aec_map"
    if [ -n "$by_name" ]; then
        aec=$by_name
    elif [ -n "$by_rip_port" ]; then
        aec=$by_rip_port
    elif [ -n "$by_rip" ]; then
        aec=$by_rip
    fi
fi

# echoprobe (also when installed as `echoscu`) gets a deadline and stays quiet when healthy; DCMTK's echoscu
# knows neither option and is left alone.
set --
case $("$echoscu" --version 2>/dev/null) in
    *echoprobe*)
        [ -z "$deadline" ] || set -- --deadline "$deadline"
        [ -n "$verbose" ] || set -- "$@" -q
        ;;
esac

# ECHOSCU_OPTS is split into words on purpose (and never globbed: set -f).
set -f
# shellcheck disable=SC2086
exec "$echoscu" "$@" $ECHOSCU_OPTS -aet "$aet" -aec "$aec" "$rip" "$rport"
