"""Concurrent Service creates on every member never share a ClusterIP or a
NodePort, and deleting a Service frees them.

usage: python_alloc.py KUBECONFIG [KUBECONFIG...]   (one per member)
Prints TAP.
"""
import sys
import threading

from kubernetes import client, config

PER_MEMBER = 15


def api_for(path):
    cfg = client.Configuration()
    config.load_kube_config(config_file=path, client_configuration=cfg)
    return client.CoreV1Api(client.ApiClient(cfg))


def create_many(api, prefix, errors):
    for i in range(PER_MEMBER):
        svc = client.V1Service(
            metadata=client.V1ObjectMeta(name="%s-%d" % (prefix, i)),
            spec=client.V1ServiceSpec(
                type="NodePort", selector={"app": "x"},
                ports=[client.V1ServicePort(port=80)]))
        try:
            api.create_namespaced_service("default", svc)
        except Exception as e:  # collected and reported below
            errors.append(repr(e))


def main(paths):
    results = []
    apis = [api_for(p) for p in paths]
    errors = []
    threads = [threading.Thread(target=create_many,
                                args=(a, "s%d" % i, errors))
               for i, a in enumerate(apis)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    results.append((not errors, "every create succeeded %s" % errors[:1]))
    svcs = apis[0].list_namespaced_service("default").items
    ours = [s for s in svcs if s.metadata.name.startswith("s")]
    results.append((len(ours) == PER_MEMBER * len(apis),
                    "all %d services exist" % (PER_MEMBER * len(apis))))
    ips = [s.spec.cluster_ip for s in ours]
    ports = [s.spec.ports[0].node_port for s in ours]
    results.append((len(set(ips)) == len(ips) and all(ips),
                    "no ClusterIP is handed out twice"))
    results.append((len(set(ports)) == len(ports) and all(ports),
                    "no NodePort is handed out twice"))
    first = ours[0]
    apis[1].delete_namespaced_service(first.metadata.name, "default")
    again = client.V1Service(
        metadata=client.V1ObjectMeta(name="reuse"),
        spec=client.V1ServiceSpec(cluster_ip=first.spec.cluster_ip,
                                  ports=[client.V1ServicePort(port=80)]))
    got = apis[2].create_namespaced_service("default", again)
    results.append((got.spec.cluster_ip == first.spec.cluster_ip,
                    "a deleted Service's ClusterIP can be taken again"))
    return results


if __name__ == "__main__":
    try:
        res = main(sys.argv[1:])
    except Exception as e:
        res = [(False, "unexpected error: %r" % (e,))]
    print("1..%d" % len(res))
    for i, (ok, desc) in enumerate(res, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    sys.exit(0 if all(ok for ok, _ in res) else 1)
