#!/bin/sh
# The API reference: every public header has a man page that groff renders
# without a warning and that shows every function the header declares.
. "${top_srcdir:-.}/tests/lib/tap.sh"
command -v groff >/dev/null || skip_all "groff is not installed"
headers=$(ls "$top_srcdir"/include/c8s/*.h)
plan $(($(echo "$headers" | wc -l) * 2))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
for h in $headers; do
    n=$(basename "$h" .h)
    sh "$top_srcdir/scripts/gen-man" "$h" 0 > "$tmp/$n.3"
    check "c8s_$n(3) renders without groff warnings" sh -c \
        "groff -man -Tutf8 -ww -z '$tmp/$n.3' 2>'$tmp/warn' && ! test -s '$tmp/warn'"
    missing=
    for f in $(grep -o '\bc8s_[a-z_]*(' "$h" | tr -d '(' | sort -u); do
        grep -q "$f" "$tmp/$n.3" || missing="$missing $f"
    done
    check "c8s_$n(3) shows every function of c8s/$n.h${missing:+ (missing:$missing)}" \
        test -z "$missing"
done
tap_done
