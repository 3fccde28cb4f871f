#!/usr/bin/env python3
"""Build a desktop image (profile base, arc or bioimage), or the operator/gateway image, with
buildah, without a daemon.

    python3 images/build/desktop_image.py PROFILE    # prints "<tarball>\t<image name>"
    python3 images/build/desktop_image.py operator   # images/operator/Dockerfile, the same way

Steps: the debootstrap base (base.sh) is added to buildah's own storage as the image(s) the
Dockerfile starts FROM; `buildah build --isolation chroot --target PROFILE` builds
images/desktop/Dockerfile with the repository as context; the result is exported as an
uncompressed OCI archive to ~/.cache/arcdesk/images/desktop-<profile>-<key>.tar. The key
hashes the Dockerfile, every file it COPYs or ADDs, and the base, so an unchanged tree costs
one hash and no build. Buildah's storage (overlay, layer cache) lives beside the tarballs.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oci_layout import cache_dir

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DOCKERFILE = REPO / "images" / "desktop" / "Dockerfile"
PROFILES = ("base", "arc", "bioimage")
OPERATOR_DOCKERFILE = REPO / "images" / "operator" / "Dockerfile"
REGISTRY = "localhost/arcdesk"
BASE_IMAGE = f"{REGISTRY}/debian:bookworm"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def copied_sources(dockerfile: Path) -> list[str]:
    """Context paths that COPY/ADD read (copies --from another stage read no context)."""
    sources = []
    for word, rest in instructions(dockerfile):
        if word not in ("COPY", "ADD"):
            continue
        args = shlex.split(rest) if not rest.startswith("[") else eval_json_list(rest)
        if any(arg.startswith("--from") for arg in args):
            continue
        sources += [arg for arg in args if not arg.startswith("--")][:-1]
    return sources


def eval_json_list(text: str) -> list[str]:
    return [str(item) for item in json.loads(text)]


def base_arguments(dockerfile: Path) -> list[str]:
    """Build args that choose the base: each ARG before the first FROM that a FROM uses."""
    global_args, used = [], set()
    for word, rest in instructions(dockerfile):
        if word == "ARG" and not used:
            global_args.append(rest.split("=", 1)[0].strip())
        elif word == "FROM":
            used.update(re.findall(r"\$\{?(\w+)", rest))
            if not global_args:
                break
    return [name for name in global_args if name in used]


def base_references(dockerfile: Path) -> list[str]:
    """Literal images named in FROM that are not earlier stages (for a Dockerfile without a
    base ARG, our base is tagged as each of them in buildah's private storage)."""
    stages, external = set(), []
    for word, rest in instructions(dockerfile):
        if word != "FROM":
            continue
        args = [arg for arg in rest.split() if not arg.startswith("--")]
        if "$" not in args[0] and args[0] not in stages and args[0] not in external:
            external.append(args[0])
        if len(args) == 3 and args[1].upper() == "AS":
            stages.add(args[2])
    return external


def content_key(dockerfile: Path, base_tarball: Path, profile: str) -> str:
    digest = hashlib.sha256(profile.encode() + base_tarball.name.encode())
    paths = {dockerfile}
    for source in copied_sources(dockerfile):
        for match in REPO.glob(source.lstrip("/")):
            paths.update([match] if match.is_file() else
                         (p for p in match.rglob("*") if p.is_file() and
                          "__pycache__" not in p.parts))
    for path in sorted(paths):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def buildah_command(*args: str) -> list[str]:
    """buildah on our own storage: overlay on this ext4 root (vfs would copy every layer)."""
    return ["buildah", f"--root={cache_dir() / 'buildah'}", "--runroot=/run/arcdesk-buildah",
            "--storage-driver=overlay", *args]


def buildah(*args: str, quiet: bool = True) -> str:
    command = buildah_command(*args)
    result = subprocess.run(command, stdout=subprocess.PIPE if quiet else sys.stderr,
                            text=True)
    if result.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed (exit {result.returncode})")
    return result.stdout or ""


def untag(name: str) -> None:
    """Drop an old tag; buildah keeps the image while a newer one is built on top of it."""
    subprocess.run(buildah_command("rmi", name), capture_output=True)


def has_image(name: str) -> bool:
    return subprocess.run(buildah_command("inspect", "--type=image", name),
                          capture_output=True).returncode == 0


def ensure_base(base_tarball: Path, references: list[str]) -> str:
    """The debootstrap rootfs as a one-layer image, also tagged as ``references``."""
    key_name = f"{BASE_IMAGE}-{base_tarball.stem.rsplit('-', 1)[1]}"
    if not has_image(key_name):
        container = buildah("from", "--pull-never", "scratch").strip()
        buildah("add", container, str(base_tarball), "/")
        buildah("config", "--cmd=/bin/bash", "--env=LANG=C.UTF-8", container)
        buildah("commit", "--quiet", "--rm", container, key_name)
    for name in [BASE_IMAGE, *references]:
        buildah("tag", key_name, name)
    for old in buildah("images", "--format={{.Name}}:{{.Tag}}").split():
        if old.startswith(f"{BASE_IMAGE}-") and old != key_name:
            untag(old)
    return key_name


def egress_trust_mounts() -> list[str]:
    """Let pip in RUN steps trust this machine's extra CAs (a TLS-intercepting egress proxy).

    Only where the host has local CAs: the bundle and a pip.conf naming it are bind-mounted
    read-only for the build, never copied into a layer. buildah leaves empty mount points
    behind (/etc/pip.conf, /run/arcdesk-build/): harmless, and absent on other machines.
    """
    if not any(Path("/usr/local/share/ca-certificates").glob("*.crt")):
        return []
    pip_conf = cache_dir() / "build-pip.conf"
    pip_conf.write_text("[global]\ncert = /run/arcdesk-build/ca.pem\n")
    return [f"--volume={pip_conf}:/etc/pip.conf:ro",
            "--volume=/etc/ssl/certs/ca-certificates.crt:/run/arcdesk-build/ca.pem:ro"]


def recipe(image: str) -> tuple[str, Path, list[str]]:
    """(archive stem, Dockerfile, extra build flags) of a desktop profile or "operator"."""
    if image == "operator":
        return "operator", OPERATOR_DOCKERFILE, []
    if image not in PROFILES:
        raise SystemExit(f"unknown image {image!r}; one of {', '.join(PROFILES)}, operator")
    return f"desktop-{image}", DOCKERFILE, [f"--target={image}"]


def build(image: str) -> tuple[Path, str]:
    stem, dockerfile, target = recipe(image)
    base_tarball = Path(subprocess.run([str(HERE / "base.sh")], check=True,
                                       stdout=subprocess.PIPE, text=True).stdout.split()[-1])
    key = content_key(dockerfile, base_tarball, image)
    name = f"{REGISTRY}/{stem}:{key}"
    tarball = cache_dir() / f"{stem}-{key}.tar"
    if tarball.exists():
        return tarball, name
    base = ensure_base(base_tarball, base_references(dockerfile))
    build_args = [f"--build-arg={arg}={base}" for arg in base_arguments(dockerfile)]
    buildah("build", "--isolation=chroot", "--pull-never", "--layers", *target,
            *build_args, *egress_trust_mounts(), f"--file={dockerfile}", f"--tag={name}",
            str(REPO), quiet=False)
    partial = tarball.with_suffix(".partial")
    buildah("push", "--quiet", "--disable-compression", name, f"oci-archive:{partial}:{name}")
    partial.rename(tarball)
    forget_older_builds(stem, tarball, name)
    return tarball, name


def forget_older_builds(stem: str, tarball: Path, name: str) -> None:
    """One archive and one tagged image per image: each is most of a gigabyte. (buildah's
    untagged layer cache stays, so a rebuild after an edit reuses the unchanged steps.)"""
    for stale in cache_dir().glob(f"{stem}-[0-9a-f]*.tar"):
        if stale != tarball:
            stale.unlink()
    repository = name.rsplit(":", 1)[0]
    for old in buildah("images", "--format={{.Name}}:{{.Tag}}").split():
        if old.rsplit(":", 1)[0] == repository and old != name:
            untag(old)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print("\t".join(map(str, build(sys.argv[1]))))
