# devcluster: a real Kubernetes control plane + KWOK nodes on this machine.
# Included by the top-level Makefile; targets run from the repository root.

DEVCLUSTER_PYTHON ?= python3

.PHONY: devcluster-build cluster-up cluster-down cluster-status

devcluster-build:  ## build/cached: hyperkube (etcd + control plane + kubectl), kwok, helm
	devcluster/build.sh

cluster-up: devcluster-build  ## start the devcluster (idempotent); kubeconfig in .devcluster/kubeconfig
	$(DEVCLUSTER_PYTHON) -m devcluster.cluster up

cluster-down:  ## stop every devcluster process and free its ports (keeps etcd data)
	$(DEVCLUSTER_PYTHON) -m devcluster.cluster down

cluster-status:  ## components, pids, RSS, nodes and PVs of the devcluster
	$(DEVCLUSTER_PYTHON) -m devcluster.cluster status
