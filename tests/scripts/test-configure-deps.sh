#!/bin/sh
# configure refuses a machine without libraft, or with bookworm's 0.15, and
# names the package and the backports suite to install from.
. "${top_srcdir:-.}/tests/lib/tap.sh"
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed"
pkg-config --exists raft || skip_all "libraft is not installed on this machine"
plan 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# A copy of what configure needs, so the source tree's own configuration
# (in-tree or VPATH) is never touched.
mkdir -p "$tmp/src/store"
cp -R "$top_srcdir/configure" "$top_srcdir/build-aux" "$tmp/src/"
cp "$top_srcdir/store/store.h" "$tmp/src/store/"
cp "$top_srcdir/Makefile.in" "$top_srcdir/config.h.in" "$tmp/src/"

# 1. No libraft at all: pkg-config says it does not know the package.
real=$(command -v pkg-config)
cat > "$tmp/pkg-config" <<EOF2
#!/bin/sh
for a in "\$@"; do case "\$a" in raft|raft\ *) echo "Package raft was not found" >&2; exit 1;; esac; done
exec "$real" "\$@"
EOF2
chmod +x "$tmp/pkg-config"
out=$(cd "$tmp/src" && PKG_CONFIG="$tmp/pkg-config" ./configure 2>&1)
status=$?
check "configure fails without libraft" test $status -ne 0
case "$out" in
    *libraft-dev*bookworm-backports*) ok "the message names libraft-dev and bookworm-backports" ;;
    *) printf '%s\n' "$out" | tail -n 3 | sed 's/^/# /'; not_ok "the message names libraft-dev and bookworm-backports" ;;
esac

# 2. bookworm's 0.15: a raft.pc of that version found first on the path.
mkdir -p "$tmp/pc"
libdir=$(pkg-config --variable=libdir raft)
cat > "$tmp/pc/raft.pc" <<EOF2
prefix=/usr
libdir=$libdir
includedir=/usr/include
Name: raft
Description: stand-in for Debian 12's libraft-dev 0.15
Version: 0.15.0
Libs: -lraft
Cflags:
EOF2
out=$(cd "$tmp/src" && PKG_CONFIG_PATH="$tmp/pc" ./configure 2>&1)
status=$?
check "configure fails with libraft 0.15" test $status -ne 0
case "$out" in
    *"0.15.0 is too old"*libraft-dev*bookworm-backports*) ok "the message says 0.15 is too old and where 0.22 comes from" ;;
    *) printf '%s\n' "$out" | tail -n 3 | sed 's/^/# /'; not_ok "the message says 0.15 is too old and where 0.22 comes from" ;;
esac
tap_done
