#!/usr/bin/env bash
# Install one app that is NOT in Debian or PyPI, from a URL given as a Docker build arg.
#   install-extra.sh NAME URL SHA256
# An empty URL installs nothing (the default: these need the internet beyond our registries,
# which a real CI has and the development machines do not). A URL without SHA256 is refused.
# NAME: fiji | qupath | ilastik | arcitect | arc-commander
set -euo pipefail
name="$1" url="${2:-}" sha="${3:-}"
[[ -z "$url" ]] && exit 0
[[ -n "$sha" ]] || { echo "install-extra.sh: $name: a URL needs its SHA256 build arg too" >&2; exit 2; }

file="$(mktemp -d)/$(basename "${url%%\?*}")"
# python3 is in every profile; curl/wget/unzip are not, and need not be for this alone.
python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
  "$url" "$file"
echo "$sha  $file" | sha256sum -c --quiet -

launcher() {  # name, exec: a menu entry (the DesktopProfile's apps list adds desktop icons)
  printf '[Desktop Entry]\nType=Application\nName=%s\nExec=%s\nTerminal=false\nCategories=Science;\n' \
    "$1" "$2" > "/usr/local/share/applications/arcdesk-extra-${name}.desktop"
}
mkdir -p /usr/local/share/applications /opt/extras

case "$name" in
  fiji)
    python3 -m zipfile -e "$file" /opt/extras/
    chmod +x /opt/extras/Fiji.app/ImageJ-linux64
    ln -sf /opt/extras/Fiji.app/ImageJ-linux64 /usr/local/bin/fiji
    launcher Fiji fiji ;;
  qupath)
    mkdir -p /opt/extras/qupath && tar -xf "$file" -C /opt/extras/qupath --strip-components=1
    ln -sf /opt/extras/qupath/bin/QuPath /usr/local/bin/qupath
    launcher QuPath qupath ;;
  ilastik)
    mkdir -p /opt/extras/ilastik && tar -xf "$file" -C /opt/extras/ilastik --strip-components=1
    ln -sf /opt/extras/ilastik/run_ilastik.sh /usr/local/bin/ilastik
    launcher ilastik ilastik ;;
  arcitect)  # an AppImage, unpacked: pods have no FUSE
    chmod +x "$file" && (cd /opt/extras && "$file" --appimage-extract >/dev/null)
    mv /opt/extras/squashfs-root /opt/extras/arcitect
    ln -sf /opt/extras/arcitect/AppRun /usr/local/bin/arcitect
    launcher ARCitect arcitect ;;
  arc-commander)
    install -m 0755 "$file" /usr/local/bin/arc ;;
  *) echo "install-extra.sh: unknown app '$name'" >&2; exit 2 ;;
esac
rm -rf "$(dirname "$file")"
