#!/bin/sh
# The real tree obeys the dependency rule and every folder has its README.
. "${top_srcdir:-.}/tests/lib/tap.sh"
cd "${top_srcdir:-.}" || exit 1
plan 2

if out=$(scripts/check-includes . 2>&1); then
    ok "every #include follows scripts/include-rules"
else
    printf '# %s\n' "$out"
    not_ok "every #include follows scripts/include-rules"
fi

missing=""
for d in lib store raft api controllers node proxy client include/c8s jepsen \
         bench cmd tests scripts docs; do
    [ -s "$d/README.md" ] || missing="$missing $d"
done
if [ -z "$missing" ]; then ok "each top-level folder has a README.md"
else echo "# missing README.md in:$missing"; not_ok "each top-level folder has a README.md"; fi
tap_done
