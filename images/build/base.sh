#!/usr/bin/env bash
# A Debian bookworm root filesystem made with debootstrap, as a tarball in the image cache:
#   ~/.cache/arcdesk/images/debian-bookworm-<key>.tar     (prints its path last)
# The key hashes this script, so editing it makes a new base; otherwise the tarball is reused
# (delete it, or set ARCDESK_BASE_REFRESH=1, to pick up newer Debian packages).
set -euo pipefail

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${ARCDESK_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/arcdesk}/images"
key="$(sha256sum "${here}/base.sh" | cut -c1-12)"
tarball="${cache}/debian-${SUITE}-${key}.tar"
log() { echo "images/build/base.sh: $*" >&2; }

if [[ -f "${tarball}" && -z "${ARCDESK_BASE_REFRESH:-}" ]]; then
  echo "${tarball}"; exit 0
fi
command -v debootstrap >/dev/null || { log "needs debootstrap (apt-get install debootstrap)"; exit 1; }
mkdir -p "${cache}"
rootfs="$(mktemp -d "${cache}/rootfs.XXXXXX")"
trap 'umount -R "${rootfs}/proc" "${rootfs}/sys" 2>/dev/null || true; rm -rf "${rootfs}"' EXIT

log "debootstrap ${SUITE} (minbase) into ${rootfs}"
debootstrap --variant=minbase --components=main "${SUITE}" "${rootfs}" "${MIRROR}" >&2
cat > "${rootfs}/etc/apt/sources.list" <<SOURCES
deb ${MIRROR} ${SUITE} main
deb ${MIRROR} ${SUITE}-updates main
deb http://deb.debian.org/debian-security ${SUITE}-security main
SOURCES
# Like Debian's bookworm-slim image (what the Dockerfile names by default): no docs, man
# pages or translations, no .deb files left in layers, no daemons started during builds.
printf '#!/bin/sh\nexit 101\n' > "${rootfs}/usr/sbin/policy-rc.d"
chmod +x "${rootfs}/usr/sbin/policy-rc.d"
cat > "${rootfs}/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
cat > "${rootfs}/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
printf 'Acquire::Languages "none";\nAcquire::GzipIndexes "true";\n' \
  > "${rootfs}/etc/apt/apt.conf.d/docker-no-languages"
rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin \
  "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/log/* "${rootfs}"/usr/share/doc/*/changelog*
# Files only: maintainer scripts expect the directories (default-jre's update-alternatives
# links into /usr/share/man/man1 and fails without it, as on Debian's slim images).
find "${rootfs}"/usr/share/man "${rootfs}"/usr/share/info "${rootfs}"/usr/share/locale \
  ! -type d ! -name locale.alias -delete
tar --numeric-owner --xattrs -C "${rootfs}" -cf "${tarball}.partial" .
mv "${tarball}.partial" "${tarball}"
find "${cache}" -maxdepth 1 -name "debian-${SUITE}-*.tar" ! -name "$(basename "${tarball}")" -delete
log "base rootfs $(du -h "${tarball}" | cut -f1)"
echo "${tarball}"
