#!/usr/bin/env bash
# Build crictl (the CRI command line, used by `node_launcher.py down` to remove pod sandboxes
# so CNI releases their addresses) from its Go module into the devcluster's binary cache.
# Idempotent; prints nothing when cached.
set -euo pipefail

CRICTL_VERSION=v1.34.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${here}/versions.env"
bin_dir="${ARCDESK_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/arcdesk}/devcluster/${K8S_VERSION}/bin"
export PATH="${PATH}:/usr/local/go/bin"

if [[ "$(cat "${bin_dir}/crictl.version" 2>/dev/null)" != "${CRICTL_VERSION}" ]]; then
  command -v go >/dev/null || { echo "node_tools.sh: 'go' is needed to build crictl" >&2; exit 1; }
  echo "node_tools.sh: building crictl ${CRICTL_VERSION} (about a minute)" >&2
  mkdir -p "${bin_dir}"
  (cd /tmp && GOBIN="${bin_dir}" GOFLAGS=-mod=mod \
    go install -ldflags='-s -w' "sigs.k8s.io/cri-tools/cmd/crictl@${CRICTL_VERSION}")
  echo "${CRICTL_VERSION}" > "${bin_dir}/crictl.version"
fi
