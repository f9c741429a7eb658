#!/bin/sh
# scripts/local-cluster: up elects a leader, a killed member is restarted by
# its supervisor, up is idempotent, down leaves no process behind.
. "${top_srcdir:-.}/tests/lib/tap.sh"
master="$top_builddir/c8s-master"
[ -x "$master" ] || skip_all "c8s-master is not built"
plan 8
tmp=$(mktemp -d)
lc="$top_srcdir/scripts/local-cluster"
base=$((20000 + ($$ % 900) * 10))
quiet() { "$@" >/dev/null 2>&1; }
cleanup() { "$lc" down --dir "$tmp" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

check "up starts 3 masters and they agree on a leader" \
    quiet "$lc" up --dir "$tmp" --bin "$master" --base-port "$base"
n=$("$lc" status --dir "$tmp" | grep -c "running; leader is.*API https://")
check "status shows 3 running members that know the leader and serve ($n)" test "$n" -eq 3

k=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.33 /usr/bin/kubectl 2>/dev/null | head -n 1)
if [ -n "$k" ]; then
    check "kubectl reads the namespaces through DIR/admin.kubeconfig" \
        sh -c "'$k' --kubeconfig '$tmp/admin.kubeconfig' --cache-dir '$tmp/kc' get ns 2>&1 | grep -q kube-system"
else
    ok "kubectl reads the namespaces # SKIP no kubectl binary installed"
fi

old=$(cat "$tmp/m1.pid")
kill -9 "$old"
restarted=no
for _ in $(seq 1 50); do
    new=$(cat "$tmp/m1.pid" 2>/dev/null || true)
    if [ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null; then
        restarted=yes; break
    fi
    sleep 0.1
done
check "a member killed with -9 is restarted by its supervisor" test $restarted = yes

out=$("$lc" up --dir "$tmp" --bin "$master" --base-port "$base")
case "$out" in *"m1 already running"*"is up"*) ok "up again is idempotent" ;;
    *) echo "# $out"; not_ok "up again is idempotent" ;; esac

out=$("$lc" up --dir "$tmp" --bin "$master" --base-port "$base" --masters 1 2>&1)
case "$out" in *"holds a cluster of masters 3, base port $base, not masters 1"*)
    ok "up with another --masters on the same DIR is refused, saying why" ;;
    *) echo "# $out"; not_ok "up with another --masters on the same DIR is refused, saying why" ;; esac

check "down succeeds" quiet "$lc" down --dir "$tmp"
sleep 0.2
left=$(pgrep -f -- "--data-dir $tmp/" | wc -l)
check "down leaves no process behind ($left left)" test "$left" -eq 0
tap_done
