#!/usr/bin/env bash
# Build the devcluster binaries from Go modules into a cache outside the clone:
#   ~/.cache/arcdesk/devcluster/<k8s-version>/bin/
#     hyperkube (+ symlinks etcd, kube-apiserver, ... kubectl), kwok, helm, registry
# Idempotent: each binary is rebuilt only when its version (or, for hyperkube,
# the hash of the wrapper module files) changes. Prints the cache bin dir last.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${here}/versions.env"

export PATH="${PATH}:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "devcluster/build.sh: 'go' not found on PATH nor in /usr/local/go/bin." >&2
  echo "  Install Go >= 1.26 (https://go.dev/doc/install) and re-run 'make devcluster-build'." >&2
  exit 1
fi

cache_root="${ARCDESK_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/arcdesk}/devcluster"
bin_dir="${cache_root}/${K8S_VERSION}/bin"
mkdir -p "${bin_dir}"
export GOFLAGS=-mod=mod
log() { echo "devcluster/build.sh: $*" >&2; }

hyperkube_key() {
  (cd "${here}" && cat versions.env hyperkube/go.mod hyperkube/go.sum hyperkube/main.go \
    && go env GOVERSION) | sha256sum | cut -c1-16
}

ensure_gomod() {
  local gomod="${here}/hyperkube/go.mod"
  if ! head -1 "${gomod}" 2>/dev/null | grep -q "k8s.io/kubernetes ${K8S_VERSION}\."; then
    log "generating hyperkube/go.mod for k8s.io/kubernetes ${K8S_VERSION}"
    python3 "${here}/gen-gomod.py" "${K8S_VERSION}" > "${gomod}.new"
    mv "${gomod}.new" "${gomod}"
    rm -f "${here}/hyperkube/go.sum"
    (cd "${here}/hyperkube" && go mod tidy)
  fi
}

version_ldflags() {
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local date; date="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Time"])' 2>/dev/null || echo 1970-01-01T00:00:00Z)"
  local pkg flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    flags+=" -X ${pkg}.gitTreeState=archive -X ${pkg}.gitCommit= -X ${pkg}.buildDate=${date}"
  done
  echo "${flags}"
}

build_hyperkube() {
  ensure_gomod
  local key; key="$(hyperkube_key)"
  if [[ -x "${bin_dir}/hyperkube" && "$(cat "${bin_dir}/hyperkube.key" 2>/dev/null)" == "${key}" ]]; then
    log "hyperkube ${K8S_VERSION} (key ${key}) is cached in ${bin_dir}"
  else
    log "building hyperkube ${K8S_VERSION} (key ${key}); a cold build takes a while on 2 cores"
    local started=${SECONDS}
    (cd "${here}/hyperkube" && go build -trimpath -ldflags "-s -w $(version_ldflags)" \
      -o "${bin_dir}/hyperkube.tmp" .)
    mv "${bin_dir}/hyperkube.tmp" "${bin_dir}/hyperkube"
    echo "${key}" > "${bin_dir}/hyperkube.key"
    log "built hyperkube in $((SECONDS - started))s"
  fi
  local name
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
    ln -sfn hyperkube "${bin_dir}/${name}"
  done
}

# go_install <binary> <package> <version>
go_install() {
  local binary="$1" package="$2" version="$3"
  if [[ -x "${bin_dir}/${binary}" && "$(cat "${bin_dir}/${binary}.version" 2>/dev/null)" == "${version}" ]]; then
    log "${binary} ${version} is cached in ${bin_dir}"
    return
  fi
  log "go install ${package}@${version}"
  local started=${SECONDS}
  GOBIN="${bin_dir}" go install -trimpath -ldflags "-s -w" "${package}@${version}"
  echo "${version}" > "${bin_dir}/${binary}.version"
  log "built ${binary} in $((SECONDS - started))s"
}

# KWOK does nothing without Stages. Take the stock ones shipped with the pinned
# release (kustomize/stage): nodes initialise and keep a lease, pods become Ready
# with an IP, Job pods complete, deleted pods go away; plus ours (devcluster/kwok-stages).
write_kwok_stages() {
  local source; source="$(go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  local stage
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
               pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"
    cat "${source}/kustomize/stage/${stage}.yaml"
  done > "${bin_dir}/kwok-stages.yaml"
  for stage in "${here}"/kwok-stages/*.yaml; do
    echo "---"
    cat "${stage}"
  done >> "${bin_dir}/kwok-stages.yaml"
  log "wrote ${bin_dir}/kwok-stages.yaml from sigs.k8s.io/kwok@${KWOK_VERSION}"
}

build_hyperkube
write_kwok_stages
go_install kwok sigs.k8s.io/kwok/cmd/kwok "${KWOK_VERSION}"
go_install helm helm.sh/helm/v3/cmd/helm "${HELM_VERSION}"
go_install registry github.com/distribution/distribution/v3/cmd/registry "${REGISTRY_VERSION}"
echo "${bin_dir}"
