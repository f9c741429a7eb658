#!/bin/sh
# The unit runner reports every kind of failure (assertion, crash, time-out,
# leak under ASan) and runs cleanups: a runner that cannot fail proves nothing.
. "${top_srcdir:-.}/tests/lib/tap.sh"
plan 10
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
out=$(SELFTEST_MARK_FD=9 "$top_builddir/tests/lib/runner_selftest" 2>"$tmp/err" 9>"$tmp/mark")
status=$?
has() { printf '%s\n' "$out" | grep -q -- "$1"; }
check "the run fails overall" test $status -ne 0
check "plan line first" has '^1\.\.7$'
check "passing test is ok" has '^ok 1 - self/passes'
check "failed assertion is not ok" has '^not ok 2 - self/assertion_fails'
check "crash is not ok" has '^not ok 3 - self/crashes # \(killed by signal 11\|exit status\)'
check "skip carries its reason" has '^ok 4 - self/skips # SKIP needs something this machine lacks'
check "a hang is killed at its limit" has '^not ok 5 - self/hangs # timed out after 1 s'
check "cleanups run after a failure" grep -q cleaned "$tmp/mark"
dir=$(sed -n 's/^tmpdir=//p' "$tmp/mark")
check "a hung test's temp dir is removed" test -n "$dir" -a ! -e "$dir"
if [ "${C8S_SANITIZERS:-no}" = yes ]; then
    check "a leak fails the test (LeakSanitizer)" has '^not ok 6 - self/leaks'
else
    ok "a leak fails the test # SKIP built without --enable-sanitizers"
fi
tap_done
