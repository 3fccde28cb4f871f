"""The devcluster: a real local Kubernetes built from Go modules (etcd, kube-apiserver,
controller-manager, scheduler), KWOK nodes, an optional real node (containerd + kubelet),
and the demo stack on top. Run its modules with ``python3 -m devcluster.<module>``."""
