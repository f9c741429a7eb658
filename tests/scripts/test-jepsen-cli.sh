#!/bin/sh
# The Jepsen tools refuse bad input by name, with their documented exit
# status: jepsen/check (usage, a missing or malformed history), jepsen/
# workload (flags), jepsen/hosts (run numbers, hosts, partition specs,
# usage that shows only its help), jepsen/run (workloads, member counts)
# and jepsen/matrix (modes; --list). Needs no root: nothing is set up.
. "${top_srcdir:-.}/tests/lib/tap.sh"
[ -x "$top_builddir/jepsen/check" ] || skip_all "jepsen/check is not built"
plan 17
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
check_bin="$top_builddir/jepsen/check"
workload="$top_builddir/jepsen/workload"
hosts="$top_srcdir/jepsen/hosts"

# refuses STATUS PATTERN COMMAND...: exits STATUS and says PATTERN.
refuses() {
    st=$1 pat=$2
    shift 2
    "$@" >"$tmp/out" 2>&1
    got=$?
    [ $got -eq "$st" ] && grep -q -- "$pat" "$tmp/out" && return 0
    echo "# exit $got, output:"; sed 's/^/# /' "$tmp/out"
    return 1
}

check "check without a history is bad usage" refuses 2 "usage: check HISTORY" "$check_bin"
check "check names a missing file" refuses 2 "/nonexistent: No such file" \
    "$check_bin" /nonexistent
printf '0 1 invoke read r -\n1 1 ok read\n' >"$tmp/bad"
check "check names the line of a malformed history" refuses 2 \
    "bad:2: 4 fields" "$check_bin" "$tmp/bad"
printf '0 1 invoke write r 1\n1 1 ok write r 1\n2 2 invoke read r -\n3 2 ok read r 7\n' >"$tmp/phantom"
check "check exits 1 on an anomaly and names it" refuses 1 \
    "no operation ever wrote that value" "$check_bin" "$tmp/phantom"
check "workload refuses a flag that is not a number" refuses 2 \
    "--clients wants a number from 1 to 1000, not 'x'" \
    "$workload" --clients x --kubeconfig k --out "$tmp/h"
check "workload refuses an unknown workload" refuses 2 "'nope' is not register, set, watch, list or monotonic" \
    "$workload" --workload nope --kubeconfig k --out "$tmp/h"
check "workload names a kubeconfig it cannot read" refuses 1 "/nonexistent" \
    "$workload" --kubeconfig /nonexistent --out "$tmp/h" --time-limit 1
check "hosts refuses a run that is not a number" refuses 1 \
    "RUN must be a number from 1 to 250, not 'abc'" "$hosts" addr abc 1
check "hosts names a host that does not exist" refuses 1 "no host 9 in run 250" \
    "$hosts" addr 250 9
check "hosts usage is its help, not its code" sh -c \
    "'$hosts' frob 2>&1 | grep -q 'Exit status: 0 done' &&
     ! '$hosts' frob 2>&1 | grep -q 'set -eu'"
check "run usage is its help, not its code" sh -c \
    "'$top_srcdir/jepsen/run' --bogus 2>&1 | grep -q 'Exit status: 0 valid' &&
     ! '$top_srcdir/jepsen/run' --bogus 2>&1 | grep -q 'set -eu'"
check "run refuses an unknown workload by name" refuses 1 \
    "workload 'bank' is not register, set, watch, list or monotonic" \
    "$top_srcdir/jepsen/run" --workload bank
check "run takes 3 or 5 members only" refuses 1 "--members must be 3 or 5" \
    "$top_srcdir/jepsen/run" --members 4
check "matrix without a mode is bad usage" refuses 2 "--quick|--full" \
    "$top_srcdir/jepsen/matrix"
# lose needs jepsen/unsyncfs and /dev/fuse: 11 nemesis cells per workload
# with them, 10 without.
per=10
[ ! -x "$top_builddir/jepsen/unsyncfs" ] || [ ! -c /dev/fuse ] || per=11
check "matrix --list names every workload under every nemesis" sh -c \
    "test \$('$top_srcdir/jepsen/matrix' --full --list --bin '$top_builddir' 2>/dev/null | wc -l) -eq $((per * 5)) &&
     test \$('$top_srcdir/jepsen/matrix' --full --list --bin '$top_builddir' --only watch/ 2>/dev/null | wc -l) -eq $per"
check "matrix without unsyncfs leaves the lose cells out, and says so" sh -c \
    "test \$('$top_srcdir/jepsen/matrix' --full --list --bin /nonexistent 2>'$tmp/err' | wc -l) -eq 50 &&
     grep -q 'lose cells are left out' '$tmp/err'"
check "run refuses lose with member" refuses 1 \
    "the lose and member nemeses cannot run together" \
    "$top_srcdir/jepsen/run" --nemesis lose,member --bin "$top_builddir"
tap_done
