#!/bin/sh
# libc8s installs like a library: `make install` into a temporary prefix
# puts the shared library, its headers and c8s.pc there; the library
# exports only versioned c8s_* symbols; `make installcheck` builds the
# examples against the installed copy with pkg-config and runs them.
. "${top_srcdir:-.}/tests/lib/tap.sh"
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed"
command -v nm >/dev/null || skip_all "nm (binutils) is not installed"
[ -f "${top_builddir:-.}/Makefile" ] || skip_all "no build directory"
plan 6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
make=${MAKE:-make}

"$make" -s -C "$top_builddir" install prefix="$tmp/prefix" \
    >"$tmp/install.log" 2>&1
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/install.log"
check "make install into a temporary prefix" test $status -eq 0
check "headers, library and c8s.pc are installed" test \
    -f "$tmp/prefix/include/c8s/c8s.h" -a \
    -f "$tmp/prefix/include/c8s/client.h" -a \
    -f "$tmp/prefix/lib/libc8s.so.0" -a \
    -f "$tmp/prefix/lib/pkgconfig/c8s.pc"
check "the API reference is installed as man pages" test \
    -f "$tmp/prefix/share/man/man3/c8s_client.3" -a \
    -f "$tmp/prefix/share/man/man3/c8s_informer.3"
nm -D --defined-only "$tmp/prefix/lib/libc8s.so.0" | awk '$2 == "T"' \
    >"$tmp/syms"
others=$(grep -v ' c8s_[a-z_]*@@C8S_0\.1$' "$tmp/syms")
check "only versioned c8s_* functions are exported" test -z "$others" -a \
    -s "$tmp/syms"
[ -z "$others" ] || echo "# also exported: $others"
check "c8s_kubeconfig_load is among them" grep -q \
    ' c8s_kubeconfig_load@@C8S_0.1$' "$tmp/syms"
"$make" -s -C "$top_builddir" installcheck prefix="$tmp/prefix" \
    >"$tmp/check.log" 2>&1
status=$?
[ $status -eq 0 ] || sed 's/^/# /' "$tmp/check.log"
check "make installcheck builds and runs the examples" test $status -eq 0
tap_done
