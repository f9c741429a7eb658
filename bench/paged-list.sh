#!/bin/sh
# bench/paged-list.sh: how long reading a big collection in LIST pages
# takes. A one-member c8s-master on loopback is filled with ConfigMaps by
# the Jepsen set workload for FILL seconds, then the set's final read
# (pages of 500 with continue tokens, as kubectl --chunk-size does) runs
# RUNS times; prints the objects, each read's time and objects/s.
# Measures and prints; asserts nothing.
#
#   bench/paged-list.sh [--bin BUILD] [--fill S] [--runs N]
set -eu
bin=$(cd "$(dirname "$0")/.." && pwd) fill=60 runs=2
while [ $# -gt 0 ]; do
    case "$1" in
    --bin) bin=${2:?}; shift 2 ;;
    --fill) fill=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    *) echo "usage: bench/paged-list.sh [--bin BUILD] [--fill S] [--runs N]" >&2; exit 2 ;;
    esac
done
case "$fill$runs" in *[!0-9]*) echo "bench/paged-list.sh: --fill and --runs take numbers" >&2; exit 2 ;; esac
for p in c8s-master jepsen/workload; do
    [ -x "$bin/$p" ] || { echo "bench/paged-list.sh: no $bin/$p (give --bin BUILD)" >&2; exit 1; }
done
tmp=$(mktemp -d) pid=''
trap '[ -z "$pid" ] || kill -9 $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# A port pair from the pid: a clash fails the start, showing the log.
port=$(( 20000 + $$ % 20000 ))
"$bin/c8s-master" --name p1 --data-dir "$tmp/p1" --peer-listen 127.0.0.1:$port \
    --api-listen 127.0.0.1:$((port + 1)) >"$tmp/log" 2>&1 &
pid=$!
n=0
until grep -q "serving the Kubernetes API" "$tmp/log"; do
    n=$((n + 1))
    [ $n -lt 300 ] && kill -0 $pid 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
    sleep 0.1
done
wl() { "$bin/jepsen/workload" --workload set --kubeconfig "$tmp/p1/admin.kubeconfig" \
    --server https://127.0.0.1:$((port + 1)) "$@"; }
wl --clients 16 --time-limit "$fill" --out "$tmp/fill" >"$tmp/fill.log" 2>&1
echo "filled for $fill s: $(head -n 1 "$tmp/fill.log")"
for k in $(seq "$runs"); do
    t0=$(date +%s%N)
    wl --final-read --time-limit 1 --timeout-ms 60000 --out "$tmp/read" >"$tmp/read.log" 2>&1
    t1=$(date +%s%N)
    seen=$(grep -c ' seen ' "$tmp/read" || true)
    ms=$(( (t1 - t0) / 1000000 ))
    echo "read $k: $seen objects in $ms ms ($(( seen * 1000 / (ms > 0 ? ms : 1) )) objects/s)"
    rm -f "$tmp/read"
done
