#!/bin/bash
# Issue 7's walk, as a new user would do it: a 3-member cluster from
# scripts/local-cluster, every command sent to a follower with each of
# kubectl 1.27, 1.30 and 1.33 that is installed: apply (created,
# configured, unchanged; server-side), get in every output form with
# selectors, sorting, labels and several kinds, get -w, scale, the three
# patch types, label, annotate, the create generators, describe, explain,
# api-resources, api-versions, delete with its wait, wait --for=delete;
# create role/rolebinding, auth can-i (--as, --list), create token, Pod
# Security warnings and refusals; a
# CustomResourceDefinition and custom resources of it.
. "${top_srcdir:-.}/tests/lib/tap.sh"
master="$top_builddir/c8s-master"
[ -x "$master" ] || skip_all "c8s-master is not built"
versions=""
for v in 1.27 1.30 1.33; do
    for d in /usr/lib/google-cloud-sdk/bin /usr/bin; do
        [ -x "$d/kubectl.$v" ] && { versions="$versions $d/kubectl.$v"; break; }
    done
done
[ -n "$versions" ] || skip_all "no kubectl.1.27, .1.30 or .1.33 installed"
tmp=$(mktemp -d)
lc="$top_srcdir/scripts/local-cluster"
base=$((21000 + ($$ % 900) * 10))
cleanup() { "$lc" down --dir "$tmp" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

"$lc" up --dir "$tmp" --bin "$master" --base-port "$base" >/dev/null 2>&1 ||
    { echo "1..1"; echo "not ok 1 - the cluster starts"; exit 1; }
# A follower's kubeconfig (any member's works; a follower forwards writes).
follower=""
for i in 1 2 3; do
    "$lc" status --dir "$tmp" | grep "^m$i:" | grep -q "this member" ||
        { follower=m$i; break; }
done
kc="$tmp/$follower/admin.kubeconfig"

# want NAME PATTERN COMMAND...: the command succeeds and prints PATTERN.
want() {
    local name=$1 pat=$2 out; shift 2
    if out=$("$@" 2>&1) && printf '%s\n' "$out" | grep -q -- "$pat"; then
        ok "$v: $name"
    else
        printf '%s\n' "$out" | tail -n 3 | sed 's/^/# /'
        not_ok "$v: $name"
    fi
}

for bin in $versions; do
    v=${bin##*kubectl.}
    ns=walk-${v/./-}
    K="$bin --kubeconfig $kc --cache-dir $tmp/kc$v --request-timeout=20s"
    y=$tmp/app-$v.yaml
    cat > "$y" <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
Y
    want "create namespace" "created" $K create ns $ns
    want "apply -f: created" "deployment.apps/web created" $K -n $ns apply -f "$y"
    sed -i 's/a: "1"/a: "2"/' "$y"
    want "apply -f: configured" "configmap/cfg configured" $K -n $ns apply -f "$y"
    want "apply -f: unchanged" "configmap/cfg unchanged" $K -n $ns apply -f "$y"
    want "apply --server-side" "serverside-applied" \
        $K -n $ns apply --server-side --force-conflicts -f "$y"
    want "get -o wide" "nginx:1.27" $K -n $ns get deploy -o wide
    want "get -o yaml" "kind: Deployment" $K -n $ns get deploy web -o yaml
    want "get -o json" '"kind": "Service"' $K -n $ns get svc web -o json
    want "get -o jsonpath" "^8080$" $K -n $ns get svc web \
        -o jsonpath='{.spec.ports[0].targetPort}'
    want "get -o custom-columns" "web *nginx:1.27" $K -n $ns get deploy \
        -o custom-columns=N:.metadata.name,I:.spec.template.spec.containers[0].image
    want "get -l" "^web " $K -n $ns get deploy -l 'app!=x'
    want "get --field-selector" "^cfg " $K -n $ns get cm --field-selector metadata.name=cfg
    want "get -A" "^$ns  *cfg " $K get cm -A
    want "get --sort-by" "^cfg " $K -n $ns get cm --sort-by=.metadata.name
    want "get --show-labels" "LABELS" $K -n $ns get deploy --show-labels
    want "get several kinds" "service/web" $K -n $ns get deploy,svc,cm
    # (a watch ends only when stopped: 124 from timeout is its success)
    want "get -w" "^web " sh -c "timeout 3 $K -n $ns get deploy -w; true"
    want "scale" "scaled" $K -n $ns scale deploy web --replicas=2
    want "patch (strategic)" "patched" $K -n $ns patch deploy web \
        -p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}'
    want "patch (strategic) kept the ports" "^80$" $K -n $ns get deploy web \
        -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}'
    want "patch --type=merge" "patched" $K -n $ns patch cm cfg --type=merge \
        -p '{"data":{"b":"x"}}'
    want "patch --type=json" "patched" $K -n $ns patch cm cfg --type=json \
        -p '[{"op":"add","path":"/data/c","value":"y"}]'
    want "label" "labeled" $K -n $ns label cm cfg tier=x
    want "annotate" "annotate" $K -n $ns annotate cm cfg note=y
    want "create configmap" "created" $K -n $ns create configmap c2 --from-literal=k=v
    want "create secret" "created" $K -n $ns create secret generic s2 --from-literal=k=v
    want "create deployment" "created" $K -n $ns create deployment d2 --image=nginx --replicas=0
    want "create job" "created" $K -n $ns create job j2 --image=busybox -- echo hi
    want "create cronjob" "created" $K -n $ns create cronjob c3 --image=busybox \
        --schedule='*/5 * * * *' -- echo hi
    want "describe" "^Name: *web" $K -n $ns describe deploy web
    want "explain (our descriptions)" "rolling update" $K explain deployment.spec.strategy
    want "api-resources" "^deployments " $K api-resources
    want "api-versions" "^apps/v1$" $K api-versions
    want "delete (waits)" "deleted" $K -n $ns delete deploy d2
    want "delete --wait=false" "deleted" $K -n $ns delete cm c2 --wait=false
    want "wait --for=delete" "" $K -n $ns wait --for=delete cm/c2 --timeout=10s
    # RBAC: kubectl's role generators (protobuf from 1.32 on), then can-i
    # as another user (impersonation) and its --list.
    want "create role" "created" $K -n $ns create role sr --verb=get,list --resource=secrets
    want "create rolebinding" "created" $K -n $ns create rolebinding srb --role=sr --user=alice
    want "auth can-i (allowed)" "^yes$" $K -n $ns auth can-i list secrets --as=alice
    want "auth can-i (denied)" "^no$" sh -c "$K -n default auth can-i list secrets --as=alice; true"
    want "auth can-i --list" "^secrets .*\[get list\]" $K -n $ns auth can-i --list --as=alice
    want "get as a user without the right (Forbidden)" \
        "cannot list resource \"pods\" in API group \"\" in the namespace" \
        sh -c "$K -n $ns get pods --as=alice 2>&1; true"
    # A ServiceAccount token from the TokenRequest API, used as a bearer
    # token: it is that account, allowed what its bindings say.
    want "create serviceaccount" "created" $K -n $ns create sa walker
    tok=$($K -n $ns create token walker --duration 20m 2>&1)
    want "create token gives a JWT" "^eyJ" echo "$tok"
    want "the token is its ServiceAccount (Forbidden)" \
        "User \"system:serviceaccount:$ns:walker\" cannot list" \
        sh -c "$K --token '$tok' -n $ns get pods 2>&1; true"
    want "create token --duration below 10m (refused)" "less than 10 minutes" \
        sh -c "$K -n $ns create token walker --duration 5m 2>&1; true"
    # Pod Security Admission from namespace labels: warn, then enforce.
    want "label a namespace with Pod Security levels" "labeled" $K label ns $ns \
        pod-security.kubernetes.io/warn=restricted \
        pod-security.kubernetes.io/enforce=baseline
    want "a pod below warn=restricted is created with a warning" \
        "would violate PodSecurity \"restricted:latest\"" \
        sh -c "$K -n $ns run psa-plain --image=busybox 2>&1"
    want "a privileged pod is refused by enforce=baseline" \
        "violates PodSecurity \"baseline:latest\": privileged" \
        sh -c "$K -n $ns run psa-priv --image=busybox --privileged 2>&1; true"
    # A CustomResourceDefinition, one per version (its own group), then a
    # custom resource of it: served at once, on this follower too.
    g=v${v/./-}.walk.example.com
    crd=$tmp/crd-$v.yaml
    cat > "$crd" <<Y
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.$g}
spec:
  group: $g
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}, scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.size}}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget looks like.
            properties:
              color: {type: string, enum: [red, blue], description: The widget's color.}
              size: {type: integer, minimum: 0, default: 1}
          status:
            type: object
            properties:
              size: {type: integer}
Y
    w=$tmp/widget-$v.yaml
    printf 'apiVersion: %s/v1\nkind: Widget\nmetadata: {name: w1, namespace: %s}\nspec: {color: red}\n' \
        "$g" "$ns" > "$w"
    want "apply a CRD" "created" $K apply -f "$crd"
    want "wait for the CRD to be established" "condition met" \
        $K wait --for condition=established "crd/widgets.$g" --timeout=10s
    want "apply a custom resource" "widget.$g/w1 created" $K apply -f "$w"
    want "apply it again (unchanged)" "unchanged" $K apply -f "$w"
    sed -i 's/red/blue/' "$w"
    want "apply a change (configured)" "configured" $K apply -f "$w"
    want "get by short name (printer columns)" "^w1 *blue *1 *$" $K -n $ns get wg
    want "get -o jsonpath (default applied)" "^1$" $K -n $ns get widget w1 \
        -o jsonpath='{.spec.size}'
    want "a bad value is refused" "Unsupported value" sh -c \
        "$K -n $ns patch wg w1 --type=merge -p '{\"spec\":{\"color\":\"green\"}}' 2>&1; true"
    want "scale a custom resource" "scaled" $K -n $ns scale wg w1 --replicas=3
    want "get -w on a custom resource" "^w1 *blue *3 *$" \
        sh -c "timeout 3 $K -n $ns get wg -w; true"
    want "explain a custom resource" "widget's color" $K explain widget.spec.color
    want "delete the CRD (and its objects)" "deleted" $K delete crd "widgets.$g"
done
echo "1..$tap_n"
tap_done
