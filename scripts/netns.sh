# shellcheck shell=bash
# scripts/netns.sh: sourced by the benchmarks (from the repository root), not run.
#
# bench_netns NAME ENV... CMD...: outside the namespace, builds echoprobe in release mode (the first build may fetch
# crates) and execs CMD (the benchmark again) inside a new network namespace, `unshare -n` (`unshare -rn` as
# non-root), with ECHOPROBE_BENCH_NETNS=1 and the NAME=VALUE words ENV; inside, it brings lo up and refuses (exit 1,
# NAME in the message) a namespace with any other interface.
#
# wait_listeners PORT N: waits (at most 10 s) until N sockets listen on PORT, on any addresses (state 0A in
# /proc/self/net/tcp, the port in hex); the caller finds out by the benchmark's checks whether they did.

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

wait_listeners() {
    local port
    port=$(printf '%04X' "$1")
    for _ in $(seq 200); do
        [ "$(awk -v p=":$port" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p' /proc/self/net/tcp |
            wc -l)" -ge "$2" ] && return 0
        sleep 0.05
    done
}
