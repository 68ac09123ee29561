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
#   ECHOSCU        the echoscu program (name or path)          [echoscu, from PATH]
#   ECHOSCU_OPTS   extra options, split on blanks, placed before the peer, e.g. "-to 5 -ta 5 -td 5" (DCMTK's echoscu
#                  waits forever for a C-ECHO-RSP by default; echoprobe bounds every phase by default), or TLS:
#                  "+tls key.pem cert.pem +cf ca.pem" (file names without blanks)
#
# Exit status: echoscu's; 1 with a usage line on stderr for bad arguments; 126/127 if echoscu cannot be run.
# Uses shell built-ins only (HAProxy's default PATH is empty).

aet=${DICOM_AET:-LOADBALANCER}
aec=${DICOM_AEC:-LB-SCP}
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

# ECHOSCU_OPTS is split into words on purpose (and never globbed: set -f).
set -f
# shellcheck disable=SC2086
exec "$echoscu" $ECHOSCU_OPTS -aet "$aet" -aec "$aec" "$rip" "$rport"
