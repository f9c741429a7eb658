#!/bin/sh
# jepsen/hosts: namespaces on a bridge that reach each other, partitions
# that cut them apart both ways (as groups, or pair by pair: a bridge) and
# heal, idempotent up and down that
# leave nothing behind; then a real 3-member c8s cluster on those hosts,
# whose leader is partitioned away: the majority elects another and takes
# writes, and after the heal all three agree again. Clients run in a 4th
# host: no traffic leaves the test's namespaces.
. "${top_srcdir:-.}/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
for t in ip nft ping; do
    command -v $t >/dev/null || skip_all "$t is not installed"
done
ip netns add c8sj-probe-$$ 2>/dev/null || skip_all "cannot make network namespaces here"
ip netns del c8sj-probe-$$
plan 20
hosts="$top_srcdir/jepsen/hosts"
master="$top_builddir/c8s-master"
ctl="$top_builddir/c8sctl"
run=$((1 + $$ % 99)) # jepsen/run takes 100-250
tmp=$(mktemp -d)
trap '"$hosts" down $run; rm -rf "$tmp"' EXIT INT TERM
h() { "$hosts" "$@"; }
reach() { h exec $run "$1" ping -c 1 -W 1 "$(h addr $run "$2")" >/dev/null 2>&1; }

h up $run 4
check "up makes 4 hosts" test "$(ip netns list | grep -c "^c8sj-$run-")" -eq 4
check "up again changes nothing" sh -c "'$hosts' up $run 4 &&
    test \$(ip netns list | grep -c '^c8sj-$run-') -eq 4"
check "hosts reach each other over the bridge" sh -c \
    "'$hosts' exec $run 1 ping -c 1 -W 1 $(h addr $run 3) >/dev/null"
h partition $run "1|2,3,4"
if reach 1 2 || reach 2 1; then not_ok "a partition cuts both ways"
else ok "a partition cuts both ways"; fi
check "...and not within a group" reach 2 3
h heal $run
check "heal restores the link" reach 1 2
h cut $run "1-3"
if reach 1 3 || reach 3 1; then not_ok "cut 1-3 cuts 1 and 3 both ways"
else ok "cut 1-3 cuts 1 and 3 both ways"; fi
check "...and leaves the bridge 2 reaching both" sh -c \
    "'$hosts' exec $run 2 ping -c 1 -W 1 $(h addr $run 1) >/dev/null &&
     '$hosts' exec $run 2 ping -c 1 -W 1 $(h addr $run 3) >/dev/null"
"$hosts" cut $run "1-x" 2>"$tmp/err"
check "a bad pair is refused by name" sh -c "test $? -eq 1 && grep -q \"not '1-x'\" '$tmp/err'"
h heal $run

# A cluster on hosts 1-3: peers and API on their bridge addresses.
spec="" i=1
while [ $i -le 3 ]; do
    spec="$spec${spec:+,}m$i=$(h addr $run $i):7000"
    i=$((i + 1))
done
for i in 1 2 3; do
    h exec $run $i "$master" --name m$i --data-dir "$tmp/m$i" \
        --peer-listen "$(h addr $run $i):7000" --initial-cluster "$spec" \
        --api-listen "$(h addr $run $i):6443" --token t0ken \
        >"$tmp/m$i.log" 2>&1 &
done
kc="$tmp/m1/admin.kubeconfig"
n=0
while [ $n -lt 300 ] && ! grep -q "serving the Kubernetes API" "$tmp/m3.log" 2>/dev/null; do
    sleep 0.1; n=$((n + 1))
done
for i in 1 2 3; do
    n=0
    while [ $n -lt 300 ] && ! grep -q "serving the Kubernetes API" "$tmp/m$i.log" 2>/dev/null; do
        sleep 0.1; n=$((n + 1))
    done
done
# Status as seen from host 4 through member $1.
status() {
    h exec $run 4 "$ctl" --kubeconfig "$kc" \
        --server "https://$(h addr $run "$1"):6443" cluster status 2>&1
}
leader_of() { # the host number of the leader that member $1 reports
    status "$1" | awk '$2 == "leader" { print $1 }' |
        sed -n "s|https://10\.213\.$run\.\([0-9]*\):6443|\1|p" | head -n 1
}
wait_leader() { # wait_leader VIA NOT: a leader other than NOT, seen via VIA
    n=0
    while [ $n -lt 100 ]; do
        l=$(leader_of "$1")
        [ -n "$l" ] && [ "$l" != "$2" ] && { echo "$l"; return 0; }
        sleep 0.2; n=$((n + 1))
    done
    return 1
}
all_but() { echo "1 2 3 4" | tr ' ' '\n' | grep -vx "$1" | paste -sd, -; }
# logged_since FILE LINES TEXT: TEXT is in FILE after its first LINES lines
logged_since() { tail -n +$(($2 + 1)) "$1" | grep -q "$3"; }
old=$(wait_leader 1 none) || old=""
check "the cluster on hosts 1-3 has a leader" test -n "$old"
[ -n "$old" ] || { sed 's/^/# /' "$tmp"/m*.log | tail -n 30; tap_done; }
other=1
[ "$old" = 1 ] && other=2
h partition $run "$old|$(all_but "$old")"
new=$(wait_leader "$other" "$old") || new=""
check "with the leader cut off, the majority elects another" test -n "$new"
cm="apiVersion: v1
kind: ConfigMap
metadata: {name: during-partition, namespace: default}
data: {k: v}"
check "...and takes writes" sh -c "echo '$cm' | '$hosts' exec $run 4 '$ctl' \
    --kubeconfig '$kc' --server https://$(h addr $run "$new"):6443 apply -f - >/dev/null"
check "the cut-off member cannot reach the others" sh -c \
    "! '$hosts' exec $run $old ping -c 1 -W 1 $(h addr $run "$new") >/dev/null 2>&1"
h heal $run
n=0 ready=0
while [ $n -lt 100 ]; do
    ready=$(status "$new" | grep -c ' yes ')
    [ "$ready" -eq 3 ] && [ "$(status "$new" | grep -c ' leader ')" -eq 1 ] && break
    sleep 0.2; n=$((n + 1))
done
check "after the heal all three are ready under one leader" test "$ready" -eq 3
check "the old leader serves the write made without it" sh -c \
    "'$hosts' exec $run 4 '$ctl' --kubeconfig '$kc' \
     --server https://$(h addr $run "$old"):6443 get cm during-partition -o name |
     grep -qx configmap/during-partition"

# A follower cut off for 30 s while heartbeats keep coming hears the leader
# right after the heal. Peer connections drop data unacknowledged for 5 s
# (TCP_USER_TIMEOUT) and are dialled again; before that, queued heartbeats
# waited out TCP's retransmission backoff: 24 s in this scene, over 60 s in
# a Jepsen ring run.
cur=$(wait_leader "$new" none) || cur=""
cut=1
[ "$cur" = 1 ] && cut=2
lines=$(wc -l < "$tmp/m$cut.log")
h partition $run "$cut|$(all_but "$cut")"
sleep 30
check "the cut-off follower lost the leader" \
    logged_since "$tmp/m$cut.log" "$lines" "raft: no leader known"
lines=$(wc -l < "$tmp/m$cut.log")
h heal $run
n=0
while [ $n -lt 100 ] &&
    ! logged_since "$tmp/m$cut.log" "$lines" "raft: leader is"; do
    sleep 0.1; n=$((n + 1))
done
check "a follower cut off for 30 s hears the leader within 10 s of the heal" \
    test $n -lt 100

h down $run
h down $run
check "down twice leaves no namespace" test "$(ip netns list | grep -c "^c8sj-$run-")" -eq 0
check "...no bridge or veth" test "$(ip -o link show | grep -c "c8sj$run[bh]")" -eq 0
no_member() { ! pgrep -f -- "--data-dir $tmp/m" >/dev/null; }
check "...and no member running" no_member
tap_done
