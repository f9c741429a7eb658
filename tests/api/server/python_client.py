"""The official Python client (Debian python3-kubernetes) against c8s.

usage: python_client.py KUBECONFIG
Prints TAP. Lists, creates, replaces, deletes and watches ConfigMaps, and
checks that a stale replace gets 409 Conflict.
"""
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

results = []


def check(desc, cond):
    results.append((bool(cond), desc))


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    names = [n.metadata.name for n in v1.list_namespace().items]
    check("lists the built-in namespaces", "kube-system" in names)

    ns = client.V1Namespace(metadata=client.V1ObjectMeta(name="py"))
    v1.create_namespace(ns)
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c1"),
                            data={"k": "v"})
    created = v1.create_namespaced_config_map("py", cm)
    check("creates a ConfigMap with a resourceVersion",
          created.metadata.resource_version)

    events = []
    start_rv = created.metadata.resource_version

    def watcher():
        w = watch.Watch()
        for ev in w.stream(v1.list_namespaced_config_map, "py",
                           resource_version=start_rv, timeout_seconds=10):
            events.append((ev["type"], ev["object"].metadata.name,
                           ev["object"].data))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=watcher)
    t.start()

    created.data = {"k": "v2"}
    replaced = v1.replace_namespaced_config_map("c1", "py", created)
    check("replaces it", replaced.data == {"k": "v2"})

    created.data = {"k": "stale"}  # still carries the old resourceVersion
    try:
        v1.replace_namespaced_config_map("c1", "py", created)
        check("a stale replace is refused with 409", False)
    except ApiException as e:
        check("a stale replace is refused with 409", e.status == 409)

    got = v1.read_namespaced_config_map("c1", "py")
    check("reads the replaced version", got.data == {"k": "v2"})
    v1.delete_namespaced_config_map("c1", "py")
    t.join(timeout=15)
    kinds = [e[0] for e in events]
    check("the watch saw MODIFIED then DELETED",
          kinds[:2] == ["MODIFIED", "DELETED"])
    lst = v1.list_namespaced_config_map("py")
    check("the list is empty after the delete", len(lst.items) == 0)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # report, do not crash without a plan line
        results.append((False, "unexpected error: %r" % (e,)))
    print("1..%d" % len(results))
    for i, (ok, desc) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    sys.exit(0 if all(ok for ok, _ in results) else 1)
