#!/bin/sh
# The include-rule check catches a forbidden include and accepts allowed ones.
. "${top_srcdir:-.}/tests/lib/tap.sh"
plan 5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/scripts" "$tmp/lib" "$tmp/store" "$tmp/api/server" "$tmp/client"
cp "$top_srcdir/scripts/check-includes" "$top_srcdir/scripts/include-rules" "$tmp/scripts/"
echo '/* x */' > "$tmp/lib/err.h"
echo '/* x */' > "$tmp/api/server/http.h"
printf '#include "lib/err.h"\n#include <stdio.h>\n' > "$tmp/store/store.c"

check "a tree that follows the rules passes" "$tmp/scripts/check-includes" "$tmp"

printf '#include "lib/err.h"\n#include "api/server/http.h"\n' > "$tmp/store/bad.c"
if out=$("$tmp/scripts/check-includes" "$tmp"); then
    not_ok "store/ including api/server/ is refused"
else
    ok "store/ including api/server/ is refused"
fi
case "$out" in
    *"store/bad.c:2: store/ may not include api/server/http.h"*) ok "the message names file, line and header" ;;
    *) echo "# got: $out"; not_ok "the message names file, line and header" ;;
esac
rm "$tmp/store/bad.c"

printf '#include "err.h"\n' > "$tmp/lib/rel.c"
if "$tmp/scripts/check-includes" "$tmp" >/dev/null; then
    not_ok "a relative include is refused"
else
    ok "a relative include is refused"
fi
rm "$tmp/lib/rel.c"

printf '#include "store/store.h"\n' > "$tmp/client/c.c"
echo '/* x */' > "$tmp/store/store.h"
if "$tmp/scripts/check-includes" "$tmp" >/dev/null; then
    not_ok "client/ including store/ is refused"
else
    ok "client/ including store/ is refused"
fi
tap_done
