#!/bin/sh
# jepsen/run end to end: a 14-second register test of a 3-member cluster in
# network namespaces under partitions, kill -9 and SIGSTOP at once, whose history checks
# valid; its run directory has the history, the nemesis log, the verdict,
# plots and each member's log; and nothing is left behind. A seed repeats
# the nemesis's choices, and a member that crashes is restarted and
# reported. A set run under
# partitions finds every acknowledged add. Deliberately broken masters
# (reads from local state, tests/jepsen/c8s-master-broken; later pages of
# a list at the newest revision, c8s-master-broken-lists) are caught. Bad
# arguments are refused by name.
. "${top_srcdir:-.}/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
for t in ip nft; do
    command -v $t >/dev/null || skip_all "$t is not installed"
done
ip netns add c8sj-probe-$$ 2>/dev/null || skip_all "cannot make network namespaces here"
ip netns del c8sj-probe-$$
plan 16
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
runner="$top_srcdir/jepsen/run"

"$runner" --bin "$top_builddir" --time-limit 14 --concurrency 6 \
    --nemesis partition,kill,pause --together --dir "$tmp" >"$tmp/out" 2>&1
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/out"
check "a run under partitions, kills and pauses at once ends valid" test $status -eq 0
rundir=$(ls -d "$tmp"/register-* 2>/dev/null | head -n 1)
check "the verdict: linearizable and monotonic" sh -c \
    "grep -q 'register: .* valid' '$rundir/verdict.txt' && grep -q 'monotonic: .* valid' '$rundir/verdict.txt'"
check "the history holds completed operations" test \
    "$(grep -c ' ok ' "$rundir/history" 2>/dev/null || echo 0)" -gt 100
check "the nemesis partitioned, killed and paused" sh -c \
    "grep -q 'partition: m' '$rundir/nemesis.log' && grep -q 'kill -9 m' '$rundir/nemesis.log' &&
     grep -q 'pause m' '$rundir/nemesis.log'"
check "and the faults were felt (failed or unknown operations)" sh -c \
    "grep -qE ' (fail|info) ' '$rundir/history'"
check "each member's log is kept" test -s "$rundir/m1.log" -a -s "$rundir/m2.log" -a -s "$rundir/m3.log"
if command -v gnuplot >/dev/null; then
    check "latency and rate plots are drawn, faults shaded" sh -c \
        "head -c 4 '$rundir/latency.png' | grep -q PNG && head -c 4 '$rundir/rate.png' | grep -q PNG &&
         '$top_srcdir/jepsen/plot' --keep-data '$rundir' | grep -q ' [1-9][0-9]* fault windows'"
else
    ok "# SKIP gnuplot is not installed: no plots"
fi
runid=${rundir##*-}
nothing_left() {
    ! ip netns list | grep -q "^c8sj-$runid-" &&
        ! pgrep -f -- "--data-dir $rundir/" >/dev/null
}
check "nothing is left: no namespace, no member" nothing_left
"$runner" --bin "$top_builddir" --workload set --time-limit 8 \
    --concurrency 6 --nemesis partition --dir "$tmp/set" >"$tmp/out" 2>&1
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/out"
check "a set run under partitions: every acknowledged add found by all 3" sh -c \
    "test $status -eq 0 && grep -q 'set: 3 final readers, valid' $tmp/set/set-*/verdict.txt"
# A master that serves every read from local state: the harness must say so.
"$runner" --bin "$top_builddir" --master "$top_builddir/tests/jepsen/c8s-master-broken" \
    --time-limit 8 --concurrency 6 --nemesis partition --dir "$tmp/broken" \
    >"$tmp/out" 2>&1
status=$?
check "a master with unconfirmed local reads is caught: not linearizable" sh -c \
    "test $status -eq 1 && grep -q 'register: .* NOT VALID' $tmp/broken/register-*/verdict.txt &&
     grep -q 'not linearizable' $tmp/broken/register-*/verdict.txt"
# A master whose later pages of a list come from the newest revision.
"$runner" --bin "$top_builddir" --master "$top_builddir/tests/jepsen/c8s-master-broken-lists" \
    --workload list --time-limit 8 --concurrency 6 --nemesis none --dir "$tmp/broken-lists" \
    >"$tmp/out" 2>&1
status=$?
check "a master with paged lists across revisions is caught: not one snapshot" sh -c \
    "test $status -eq 1 && grep -q 'list: .* NOT VALID' $tmp/broken-lists/list-*/verdict.txt &&
     grep -q 'not one snapshot' $tmp/broken-lists/list-*/verdict.txt"
# A member that dies with no fault killing it is a crash: restarted (the
# set's final read goes through it) and listed in the verdict.
"$runner" --bin "$top_builddir" --workload set --time-limit 10 --concurrency 4 \
    --nemesis none --dir "$tmp/crash" >"$tmp/out" 2>&1 &
runner_pid=$!
n=0
until pid=$(pgrep -f -- "--data-dir $tmp/crash/.*/m2( |\$)" | head -n 1) && [ -n "$pid" ] &&
    grep -q "workload started" "$tmp"/crash/*/nemesis.log 2>/dev/null; do
    n=$((n + 1)); [ $n -lt 300 ] || break; sleep 0.1
done
sleep 2
kill -SEGV "$pid" 2>/dev/null
wait $runner_pid
status=$?
check "a member that crashes is restarted and the crash is in the verdict" sh -c \
    "test $status -eq 0 && grep -q 'set: 3 final readers, valid' $tmp/crash/set-*/verdict.txt &&
     grep -q 'member crashes: 1' $tmp/crash/set-*/verdict.txt &&
     grep -q 'm2 exited with status' $tmp/crash/set-*/crashes.txt"
# The same seed makes the same choices of faults.
first_fault() { # first_fault DIR: the first fault, without its time
    grep -h ' fault ' "$1"/*/nemesis.log 2>/dev/null | head -n 1 | cut -d' ' -f2-
}
for k in 1 2; do
    "$runner" --bin "$top_builddir" --time-limit 12 --concurrency 2 --seed 7 \
        --members 5 --nemesis ring,bridge --dir "$tmp/seed$k" >"$tmp/out$k" 2>&1
done
check "the seed is in the nemesis log" sh -c "grep -q 'seed 7\$' $tmp/seed1/*/nemesis.log"
f1=$(first_fault "$tmp/seed1") f2=$(first_fault "$tmp/seed2")
echo "# first faults: '$f1' and '$f2'"
check "and the same seed makes the same faults" test -n "$f1" -a "$f1" = "$f2"
"$runner" --nemesis flood --bin "$top_builddir" >/dev/null 2>"$tmp/err"
check "an unknown nemesis is refused by name" sh -c \
    "test $? -eq 1 && grep -q \"nemesis 'flood'\" '$tmp/err'"
"$runner" --bogus >/dev/null 2>&1
check "an unknown flag is bad usage" test $? -eq 2
tap_done
