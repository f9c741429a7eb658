#!/bin/sh
# jepsen/unsyncfs forgets exactly the writes not yet fsynced: a drop puts
# every file back as it was at its last fsync (overwrites, appends,
# truncations, a file never synced, one renamed since), keeps what was
# synced, and refuses bad control input. Then a c8s-master on it, killed
# with -9 and its unsynced writes dropped, restarts with every write it
# acknowledged (the set workload's final read checks them all).
. "${top_srcdir:-.}/tests/lib/tap.sh"
fs="$top_builddir/jepsen/unsyncfs"
[ -x "$fs" ] || skip_all "jepsen/unsyncfs is not built (install libfuse3-dev and re-run configure)"
[ "$(id -u)" = 0 ] || skip_all "needs root (mounting FUSE)"
[ -c /dev/fuse ] || skip_all "no /dev/fuse on this machine"
plan 21
tmp=$(mktemp -d)
mnt="$tmp/mnt" master_pid='' fs_pid=''
cleanup() {
    [ -z "$master_pid" ] || kill -9 "$master_pid" 2>/dev/null || true
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    [ -z "$fs_pid" ] || wait "$fs_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/disk" "$mnt"
# Bad arguments: usage (2), or the backing directory named in the error (1).
st=0; "$fs" >"$tmp/err" 2>&1 || st=$?
check "without arguments it prints its usage and exits 2" \
    sh -c "test $st = 2 && grep -q 'usage: .* BACKING MOUNTPOINT' '$tmp/err'"
st=0; "$fs" "$tmp/nonexistent" "$mnt" >"$tmp/err" 2>&1 || st=$?
check "a missing backing directory is named, exit 1" \
    sh -c "test $st = 1 && grep -q '$tmp/nonexistent: No such file' '$tmp/err'"
"$fs" "$tmp/disk" "$mnt" 2>"$tmp/fs.log" &
fs_pid=$!
for _ in $(seq 100); do grep -q " $mnt fuse" /proc/mounts && break; sleep 0.1; done
check "it mounts" grep -q " $mnt fuse" /proc/mounts

# What the files hold before the drop, each written with python (which
# can fsync a file without closing it).
/usr/bin/python3 - "$mnt" <<'EOF'
import os, sys
d = sys.argv[1]
def put(name, data, sync, flags=os.O_CREAT | os.O_WRONLY):
    fd = os.open(os.path.join(d, name), flags, 0o644)
    os.write(fd, data)
    if sync:
        os.fsync(fd)
    return fd
fd = put("synced", b"kept", True); os.close(fd)
fd = put("appended", b"kept", True); os.write(fd, b"-lost"); os.close(fd)
fd = put("overwritten", b"0123456789", True)
os.pwrite(fd, b"XXXX", 2); os.pwrite(fd, b"YY", 3); os.close(fd)
fd = put("never-synced", b"lost", False); os.close(fd)
fd = put("truncated", b"0123456789", True); os.ftruncate(fd, 3); os.close(fd)
fd = put("renamed", b"abc", True); os.write(fd, b"def"); os.close(fd)
os.rename(os.path.join(d, "renamed"), os.path.join(d, "renamed-to"))
fd = put("synced-twice", b"one", True); os.write(fd, b"two"); os.fsync(fd)
os.write(fd, b"three"); os.close(fd)
fd = put("reopened", b"0123456789", True); os.close(fd)
fd = put("reopened", b"ab", False, os.O_WRONLY | os.O_TRUNC); os.close(fd)
fd = put("reopened", b"cd", False, os.O_WRONLY | os.O_APPEND); os.close(fd)
EOF
check "the pending files are listed" grep -q "pending 7 file(s)" "$mnt/.unsyncfs"
check "what O_TRUNC and O_APPEND did shows before the drop" test "$(cat "$mnt/reopened")" = abcd
echo drop >"$mnt/.unsyncfs"
content() { cat "$mnt/$1" 2>&1; }
check "a synced file is kept" test "$(content synced)" = kept
check "an append after the fsync is lost" test "$(content appended)" = kept
check "overwrites after the fsync are undone, newest first" test "$(content overwritten)" = 0123456789
check "a file never synced is empty" test "$(content never-synced)" = "" -a -e "$mnt/never-synced"
check "a truncation after the fsync is undone" test "$(content truncated)" = 0123456789
check "a renamed file is restored under its new name" test "$(content renamed-to)" = abc
check "the second fsync counts" test "$(content synced-twice)" = onetwo
check "a truncation by open(O_TRUNC) is undone" test "$(content reopened)" = 0123456789
check "the drop is counted" grep -q "drop 1: 7 file(s) restored" "$mnt/.unsyncfs"
check "nothing is pending after it" grep -q "pending 0 file(s)" "$mnt/.unsyncfs"
check "anything but drop is refused" sh -c "! echo nonsense >'$mnt/.unsyncfs' 2>/dev/null &&
    ! echo dropx >'$mnt/.unsyncfs' 2>/dev/null"

# A member that acknowledged writes, killed and its unsynced writes lost.
master="$top_builddir/c8s-master" workload="$top_builddir/jepsen/workload"
port=$(( 20000 + $$ % 20000 ))
start_master() {
    "$master" --name m1 --data-dir "$mnt/m1" --peer-listen 127.0.0.1:$port \
        --api-listen 127.0.0.1:$((port + 1)) >>"$tmp/m1.log" 2>&1 &
    master_pid=$!
    n=0
    until grep -c "serving the Kubernetes API" "$tmp/m1.log" 2>/dev/null | grep -qx "$1"; do
        n=$((n + 1)); [ $n -lt 600 ] || return 1
        kill -0 $master_pid 2>/dev/null || return 1
        sleep 0.1
    done
}
check "a member starts on it" start_master 1
"$workload" --workload set --kubeconfig "$mnt/m1/admin.kubeconfig" \
    --server https://127.0.0.1:$((port + 1)) --clients 4 --time-limit 3 \
    --out "$tmp/history" >"$tmp/workload.log" 2>&1
acked=$(sed -n '1s/^\([0-9]*\) ok.*/\1/p' "$tmp/workload.log")
check "it acknowledged writes ($acked) before it was killed" test "${acked:-0}" -gt 0
kill -9 $master_pid; wait $master_pid 2>/dev/null; master_pid=''
echo drop >"$mnt/.unsyncfs"
check "killed and its unsynced writes lost, it starts again" start_master 2
"$workload" --workload set --final-read --kubeconfig "$mnt/m1/admin.kubeconfig" \
    --server https://127.0.0.1:$((port + 1)) --time-limit 30 --timeout-ms 3000 \
    --out "$tmp/history" >>"$tmp/workload.log" 2>&1
"$top_builddir/jepsen/check" "$tmp/history" >"$tmp/verdict" 2>&1
check "every acknowledged write is read back (jepsen/check)" \
    grep -q 'set: 1 final readers, valid' "$tmp/verdict"
# Unmounted, it exits 0 (and clean under ASan).
kill -9 $master_pid 2>/dev/null; wait $master_pid 2>/dev/null; master_pid=''
umount "$mnt"
st=0; wait $fs_pid || st=$?; fs_pid=''
check "unmounted, it exits 0" test $st = 0
if [ $tap_failed != 0 ]; then
    sed 's/^/# /' "$tmp/fs.log" "$tmp/m1.log" "$tmp/workload.log" "$tmp/verdict" | tail -n 60
fi
tap_done
