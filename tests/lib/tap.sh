# Minimal TAP helpers for shell tests: source it, call plan N, then ok/fail.
tap_n=0
tap_failed=0
plan() { echo "1..$1"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=1; echo "not ok $tap_n - $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
tap_done() { exit $tap_failed; }
