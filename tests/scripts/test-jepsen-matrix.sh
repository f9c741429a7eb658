#!/bin/sh
# The quick Jepsen matrix (make jepsen-quick): the register under each
# nemesis alone (partitions of every shape, kill -9, pause, clock jumps
# and strobes, a member removed and added back, unsynced writes lost) and
# the set, watch, list and monotonic workloads under several, each test
# one TAP point that passes only if its history checks valid; then its
# summary table, and nothing left behind.
. "${top_srcdir:-.}/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"
for t in ip nft; do
    command -v $t >/dev/null || skip_all "$t is not installed"
done
ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 ||
    skip_all "libfaketime is not installed (the clock nemesis needs it)"
ip netns add c8sj-probe-$$ 2>/dev/null || skip_all "cannot make network namespaces here"
ip netns del c8sj-probe-$$
matrix="$top_srcdir/jepsen/matrix"
# The cells this machine runs (lose needs jepsen/unsyncfs and /dev/fuse).
cells=$("$matrix" --quick --list --bin "$top_builddir" 2>/dev/null | wc -l)
plan $((cells + 6))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$matrix" --quick --bin "$top_builddir" --dir "$tmp" >"$tmp/out" 2>&1
status=$?
while read -r line; do
    case "$line" in
    *": valid"*) ok "$line" ;; # member crashes (restarted) show here too
    *": NOT VALID"*)
        not_ok "$line"
        dir=${line##*(}; dir=${dir%)}
        for f in verdict.txt nemesis.log workload.log; do
            sed "s|^|# $f: |" "$dir/$f" 2>/dev/null | head -n 40
        done ;;
    esac
done <"$tmp/out"
check "every test ran and the matrix says valid" sh -c \
    "test $status -eq 0 && test \$(grep -c ': valid' '$tmp/out') -eq $cells"
check "the summary has a row for each test" test \
    "$(grep -c '| valid[^|]* |$' "$tmp/summary.md" 2>/dev/null || echo 0)" -eq "$cells"
# --resume runs only the cells the summary has no row for.
"$matrix" --quick --bin "$top_builddir" --dir "$tmp" --resume >"$tmp/again" 2>&1
status=$?
check "--resume on a finished matrix runs nothing" sh -c \
    "test $status -eq 0 && test \$(grep -c ': already in ' '$tmp/again') -eq $cells"
grep -v '^| register | partition |' "$tmp/summary.md" >"$tmp/cut"
cp "$tmp/cut" "$tmp/summary.md"
"$matrix" --quick --bin "$top_builddir" --dir "$tmp" --resume >"$tmp/again" 2>&1
status=$?
check "--resume runs the cell whose row is missing, and only it" sh -c \
    "test $status -eq 0 &&
     test \$(grep -c ': already in ' '$tmp/again') -eq $((cells - 1)) &&
     test \$(grep -c ': valid' '$tmp/again') -eq 1 &&
     grep -q '^register, partition: valid' '$tmp/again' &&
     test \$(grep -c '| valid[^|]* |\$' '$tmp/summary.md') -eq $cells"
check "--resume with another --time-limit is refused" sh -c \
    "! '$matrix' --quick --bin '$top_builddir' --dir '$tmp' --resume --time-limit 16 \
        >'$tmp/again' 2>&1 && grep -q 'resume with --time-limit 15' '$tmp/again'"
# Only this test's runs (their number ends the run directory's name): other
# jepsen runs may be going on beside it.
nothing_left() {
    for rundir in "$tmp"/*/*-*-[0-9]*; do
        [ -d "$rundir" ] || continue
        ! ip netns list | grep -q "^c8sj-${rundir##*-}-" || return 1
    done
    ! pgrep -f -- "--data-dir $tmp/" >/dev/null
}
check "nothing is left: no namespace, no member" nothing_left
tap_done
