#!/usr/bin/env bash
# Install CellProfiler 5 into its own venv, and its launcher into the profile venv.
# Used by the Dockerfile AND `make desktop-deps`:
#   install-cellprofiler.sh CP_VENV PROFILE_PREFIX
# CP_VENV gets packages/cellprofiler*.pip (pinned by constraints-cellprofiler.txt) on Debian's
# python3 with system site packages (wxPython: Debian's python3-wxgtk4.0). PROFILE_PREFIX/bin/
# cellprofiler runs it offline: the JVM starts with the Bio-Formats jar install-imagej.py put
# in PROFILE_PREFIX/share/imagej, instead of resolving ome:formats-gpl from a Maven repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lists="$here/packages"
venv="$1" prefix="$2"
pip_install() { "$venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir "$@"; }

[[ -x "$venv/bin/python" ]] || /usr/bin/python3 -m venv --system-site-packages "$venv"
pip_install -c "$lists/constraints-cellprofiler.txt" -r "$lists/cellprofiler.pip"
pip_install --no-deps -r "$lists/cellprofiler-nodeps.pip"
install -m 0755 "$here/cellprofiler-offline.py" "$venv/bin/cellprofiler-offline"
sed -i "1s|.*|#!$venv/bin/python|" "$venv/bin/cellprofiler-offline"

mkdir -p "$prefix/bin" "$prefix/share/icons/hicolor/scalable/apps"
cat > "$prefix/bin/cellprofiler" <<LAUNCHER
#!/bin/sh
# Written by install-cellprofiler.sh: CellProfiler 5 from $venv, offline.
export ARCDESK_BIOFORMATS_JAR="$prefix/share/imagej/plugins/bioformats_package.jar"
export JAVA_HOME="\${JAVA_HOME:-/usr/lib/jvm/default-java}"
exec "$venv/bin/cellprofiler-offline" "\$@"
LAUNCHER
chmod 0755 "$prefix/bin/cellprofiler"
install -m 0644 "$here/icons/cellprofiler.svg" "$prefix/share/icons/hicolor/scalable/apps/"
