# shellcheck shell=bash
# scripts/netns.sh: sourced by the benchmarks (from the repository root), not run.
#
# bench_netns NAME ENV... CMD...: outside the namespace, builds echoprobe in release mode (the first build may fetch
# crates) and execs CMD (the benchmark again) inside a new network namespace, `unshare -n` (`unshare -rn` as
# non-root), with ECHOPROBE_BENCH_NETNS=1 and the NAME=VALUE words ENV; inside, it brings lo up and refuses (exit 1,
# NAME in the message) a namespace with any other interface.

bench_netns() {
    local name=$1
    shift
    if [ -z "${ECHOPROBE_BENCH_NETNS:-}" ]; then
        cargo build --release -p echoprobe --bin echoprobe
        local ns=(-n)
        [ "$(id -u)" -eq 0 ] || ns=(-r -n)
        exec unshare "${ns[@]}" -- env ECHOPROBE_BENCH_NETNS=1 "$@"
    fi
    ip link set lo up
    local ifaces
    ifaces=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/self/net/dev | tr '\n' ' ')
    [ "$ifaces" = "lo " ] || { echo "$name: namespace has interfaces $ifaces, refusing" >&2; exit 1; }
}
