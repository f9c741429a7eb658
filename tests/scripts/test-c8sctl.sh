#!/bin/sh
# c8sctl against a local 3-master cluster it starts itself (cluster up):
# apply says created, unchanged and configured; get in every output; -l;
# directories and stdin; delete -f; cluster status finds every master and
# one leader; member list over the peer port; usage errors exit 2 and
# failures 1 with a message; cluster down leaves no process behind.
. "${top_srcdir:-.}/tests/lib/tap.sh"
master="$top_builddir/c8s-master"
ctl="$top_builddir/c8sctl"
[ -x "$master" ] && [ -x "$ctl" ] || skip_all "c8s-master or c8sctl is not built"
plan 27
tmp=$(mktemp -d)
base=$((30000 + ($$ % 900) * 10))
restored=
cleanup() {
    [ -n "$restored" ] && kill -9 "$restored" 2>/dev/null
    "$ctl" cluster down --dir "$tmp" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
out=$("$ctl" cluster up --dir "$tmp" --base-port "$base" 2>&1)
status=$?
check "cluster up starts 3 masters and names the kubeconfig" sh -c \
    "test $status -eq 0 && echo '$out' | grep -q 'kubeconfig: $tmp/admin.kubeconfig'"
[ $status -eq 0 ] || tap_done
out=$("$ctl" cluster up --dir "$tmp" --base-port "$base" 2>&1)
check "cluster up again changes nothing" test \
    "$(echo "$out" | grep -c 'already running')" -eq 3
c() { "$ctl" --kubeconfig "$tmp/admin.kubeconfig" "$@"; }

mkdir "$tmp/m"
cat > "$tmp/m/1-cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: one, labels: {team: a}}
data: {k: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two, labels: {team: b}}
YAML
cat > "$tmp/m/2-deploy.json" <<'JSON'
{"apiVersion": "apps/v1", "kind": "Deployment",
 "metadata": {"name": "web"},
 "spec": {"selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}},
                       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
JSON
echo "not a manifest" > "$tmp/m/README"

out=$(c apply -f "$tmp/m" 2>&1)
check "apply -f DIR creates each object, in file order" test "$out" = \
"configmap/one created
configmap/two created
deployment.apps/web created"
out=$(c apply -f "$tmp/m" 2>&1)
check "applied again: unchanged" test "$(echo "$out" | grep -c unchanged)" -eq 3
sed 's/k: "1"/k: "2"/' "$tmp/m/1-cm.yaml" > "$tmp/changed.yaml"
out=$(c apply -f - < "$tmp/changed.yaml" 2>&1)
check "a change from stdin: configured" test "$out" = \
"configmap/one configured
configmap/two unchanged"

check "get -o yaml shows the new data" sh -c \
    "'$ctl' --kubeconfig '$tmp/admin.kubeconfig' get cm one -o yaml | grep -q 'k: \"2\"'"
out=$(c get deploy -o name)
check "get -o name" test "$out" = "deployment.apps/web"
out=$(c get configmaps -l team=b -o name)
check "get -l selects by label" test "$out" = "configmap/two"
check "get -o json of a list of objects" sh -c \
    "'$ctl' --kubeconfig '$tmp/admin.kubeconfig' get cm -o json | grep -c '\"kind\": \"ConfigMap\"' | grep -qx 2"
check "get -A has a NAMESPACE column" sh -c \
    "'$ctl' --kubeconfig '$tmp/admin.kubeconfig' get cm -A | head -n 1 | grep -q '^NAMESPACE'"

out=$(c cluster status)
check "cluster status lists the 3 masters, all ready" test \
    "$(echo "$out" | grep -c ' yes ')" -eq 3
check "...and exactly one leader" test "$(echo "$out" | grep -c ' leader ')" -eq 1
check "member list over the peer port shows 3 members" sh -c \
    "'$ctl' member list --peer 127.0.0.1:$((base + 1)) --token-file '$tmp/token' | grep -c voter | grep -qx 3"

# Disaster recovery: save from the live cluster, restore into a new member.
out=$(c snapshot save "$tmp/snap.db" 2>&1)
check "snapshot save writes a checked file" sh -c \
    "echo '$out' | grep -q '^saved revision' && test -s '$tmp/snap.db'"
check "snapshot status reads it back" sh -c \
    "'$ctl' snapshot status '$tmp/snap.db' | grep -q '^revision [0-9]*, [0-9]* keys'"
head -c 2000 "$tmp/snap.db" > "$tmp/cut.db"
"$ctl" snapshot status "$tmp/cut.db" >/dev/null 2>"$tmp/err"
status=$?
check "a truncated snapshot is refused by name" sh -c \
    "test $status -eq 1 && grep -q 'not a valid c8s snapshot' '$tmp/err'"
c get cm -o json | grep -E '"(name|resourceVersion)"' > "$tmp/before"
rport=$((base + 600))
"$ctl" snapshot restore "$tmp/snap.db" --data-dir "$tmp/r1" --name r1 \
    --peer-listen "127.0.0.1:$rport" >/dev/null 2>&1
"$master" --name r1 --data-dir "$tmp/r1" --peer-listen "127.0.0.1:$rport" \
    --api-listen "127.0.0.1:$((rport + 1))" --token-file "$tmp/token" \
    >"$tmp/r1.log" 2>&1 &
restored=$!
for _ in $(seq 1 100); do
    grep -q "serving the Kubernetes API" "$tmp/r1.log" 2>/dev/null && break
    sleep 0.1
done
"$ctl" --kubeconfig "$tmp/r1/admin.kubeconfig" get cm -o json 2>&1 |
    grep -E '"(name|resourceVersion)"' > "$tmp/after"
check "the restored member has the same objects at the same versions" \
    sh -c "test -s '$tmp/before' && cmp -s '$tmp/before' '$tmp/after'"
out=$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\n' |
    "$ctl" --kubeconfig "$tmp/r1/admin.kubeconfig" apply -f - 2>&1)
check "...and takes writes" test "$out" = "configmap/new created"
"$ctl" snapshot restore "$tmp/snap.db" --data-dir "$tmp/r1" --name r1 \
    --peer-listen "127.0.0.1:$rport" >/dev/null 2>"$tmp/err"
status=$?
check "restore refuses a data dir that is not empty" sh -c \
    "test $status -eq 1 && grep -q 'not empty' '$tmp/err'"
kill -9 "$restored" 2>/dev/null
restored=

out=$(c delete -f "$tmp/m" 2>&1)
check "delete -f DIR deletes what it names" test \
    "$(echo "$out" | grep -c deleted)" -eq 3
c get cm one >/dev/null 2>"$tmp/err"
status=$?
check "get of a deleted object fails with 1 and says NotFound" sh -c \
    "test $status -eq 1 && grep -q NotFound '$tmp/err'"
c get nosuchthing >/dev/null 2>"$tmp/err"
status=$?
check "an unknown resource type: exit 1, named" sh -c \
    "test $status -eq 1 && grep -q 'resource type \"nosuchthing\"' '$tmp/err'"
c get cm -o wide >/dev/null 2>&1
check "a bad -o value is a usage error (2)" test $? -eq 2
printf 'kind: [unclosed\n' > "$tmp/bad.yaml"
c apply -f "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"
status=$?
check "a manifest that is not YAML: exit 1 naming the file" sh -c \
    "test $status -eq 1 && grep -q '$tmp/bad.yaml' '$tmp/err'"
printf -- '- a\n- list\n---\napiVersion: v1\nkind: ConfigMap\n' > "$tmp/odd.yaml"
c apply -f "$tmp/odd.yaml" >/dev/null 2>"$tmp/err"
status=$?
check "documents that are not objects or lack a name are refused by name" \
    sh -c "test $status -eq 1 && grep -q 'document 1 is not an object' '$tmp/err' && grep -q 'metadata.name' '$tmp/err'"
"$ctl" --kubeconfig "$tmp/absent" get ns >/dev/null 2>"$tmp/err"
status=$?
check "a missing kubeconfig: exit 1 naming the file" sh -c \
    "test $status -eq 1 && grep -q '$tmp/absent' '$tmp/err'"
"$ctl" cluster down --dir "$tmp" >/dev/null 2>&1
sleep 0.2
left=$(pgrep -f "$tmp" || true)
check "cluster down leaves no process behind${left:+ (left: $left)}" \
    test -z "$left"
tap_done
