#!/usr/bin/env bash
# Install a desktop profile's packages from images/desktop/packages/. Used by the Dockerfile
# AND by `make desktop-deps`, so the image and the test machine install the same things.
#   install-packages.sh apt PROFILE [EXTRA.apt ...]   Debian packages of PROFILE (+ extras)
#   install-packages.sh pip PROFILE VENV               PyPI packages of PROFILE into VENV
# Profiles layer: base < arc < bioimage; each includes the lists of the ones before it.
# pip pins come from PROFILE's own constraints-PROFILE.txt, a freeze of all of its lists:
# a version bump for bioimage leaves the arc layers (and their cache) alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lists="$here/packages"

chain() {
  case "$1" in
    base) echo base ;;
    arc) echo base arc ;;
    bioimage) echo base arc bioimage ;;
    *) echo "unknown profile '$1' (base, arc, bioimage)" >&2; exit 2 ;;
  esac
}

# Names from list files: strip comments and blank lines.
names() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$@" | grep -v '^$' || true; }

install_apt() {
  local profile="$1"; shift
  local files=()
  for p in $(chain "$profile"); do files+=("$lists/$p.apt"); done
  files+=("$@")
  # shellcheck disable=SC2046 # one word per package name is what we want
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    $(names "${files[@]}")
}

install_pip() {
  local profile="$1" venv="$2"
  local reqs=()
  for p in $(chain "$profile"); do
    [[ -f "$lists/$p.pip" ]] && reqs+=(-r "$lists/$p.pip")
  done
  # Debian's python3, as in the image: the venv must not depend on the machine's other Pythons.
  [[ -x "$venv/bin/python" ]] || /usr/bin/python3 -m venv "$venv"
  if ((${#reqs[@]})); then
    "$venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir \
      -c "$lists/constraints-$profile.txt" "${reqs[@]}"
  fi
}

case "${1:-}" in
  apt) shift; install_apt "$@" ;;
  pip) shift; install_pip "$@" ;;
  *) sed -n '2,6p' "$0" >&2; exit 2 ;;
esac
