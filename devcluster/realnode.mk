# The devcluster's real node (containerd + runc + CNI bridge + kubelet) and locally built
# images. Included by the top-level Makefile; targets run from the repository root.

REALNODE_PYTHON ?= python3
REALNODE_APT := containerd runc containernetworking-plugins iptables busybox-static socat
REALNODE_FILES := /usr/bin/containerd /usr/sbin/runc /usr/lib/cni/bridge /usr/sbin/iptables \
	/bin/busybox /usr/bin/socat

.PHONY: realnode-deps realnode-tools realnode-up realnode-down realnode-status

realnode-deps:  ## Debian packages of the real node (installed once)
	@for f in $(REALNODE_FILES); do test -e $$f || missing=1; done; \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $(REALNODE_APT); fi

realnode-tools: devcluster-build  ## crictl, built once into the devcluster's binary cache
	devcluster/node_tools.sh

realnode-up: realnode-deps realnode-tools cluster-up  ## start the real node arcdesk-real-0 (idempotent)
	$(REALNODE_PYTHON) -m devcluster.node_launcher up

realnode-down:  ## stop the real node: pods, kubelet, containerd, bridge
	$(REALNODE_PYTHON) -m devcluster.node_launcher down

realnode-status:  ## containerd and kubelet pids/RSS, node readiness
	$(REALNODE_PYTHON) -m devcluster.node_launcher status

# Local images: the debootstrap base, then images/desktop/Dockerfile built with buildah
# (no daemon, --isolation chroot), cached in ~/.cache/arcdesk/images/ by a content key.
PROFILE ?= base
IMAGE_TAG ?= 0.1.0
IMAGE_APT := buildah debootstrap skopeo

.PHONY: image-deps image image-import image-push test-e2e

image-deps:  ## buildah, debootstrap and skopeo (installed once)
	@command -v buildah >/dev/null && command -v debootstrap >/dev/null \
		&& command -v skopeo >/dev/null || { apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(IMAGE_APT); }

image: image-deps  ## build the image PROFILE=base|arc|bioimage|operator (cached by content)
	$(REALNODE_PYTHON) images/build/desktop_image.py $(PROFILE)

image-import: image realnode-up  ## build PROFILE and import it into the real node as :$(IMAGE_TAG) too
	@set -e; built="$$($(REALNODE_PYTHON) images/build/desktop_image.py $(PROFILE))"; \
	$(REALNODE_PYTHON) -m devcluster.node_launcher import $$built \
		--alias localhost/arcdesk/desktop-$(PROFILE):$(IMAGE_TAG)

# PROFILE=operator builds images/operator/Dockerfile (the operator/gateway image) the same way.
image-push: image cluster-up  ## build PROFILE and push it to the devcluster registry as :$(IMAGE_TAG); prints its digest reference
	@set -e; built="$$($(REALNODE_PYTHON) images/build/desktop_image.py $(PROFILE))"; \
	repository="$$(echo "$$built" | cut -f2 | sed 's|^localhost/||; s|:[^:]*$$||')"; \
	$(REALNODE_PYTHON) -m devcluster.registry push "$$(echo "$$built" | cut -f1)" \
		"$$repository:$(IMAGE_TAG)"

test-e2e: setup desktop-deps realnode-up image-deps  ## real node: real pods, the base desktop image (tests/e2e)
	$(PYTEST) tests/e2e -q
