"""The default DesktopProfiles (base, arc, bioimage) with a registry prefix and tag.

Each spec comes from the chart's ``files/profiles/<name>.yaml``, which the chart's
``templates/desktopprofiles.yaml`` reads too: one source for both ways of installing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from arcdesk.api import labels
from arcdesk.api.resources import data_dir

DEFAULT_PROFILES = ("base", "arc", "bioimage")
DEFAULT_REGISTRY = "localhost/arcdesk"
DEFAULT_TAG = "0.1.0"


def default_profiles(
    registry: str = DEFAULT_REGISTRY, tag: str = DEFAULT_TAG, pull_policy: str = "IfNotPresent",
    digests: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """DesktopProfile manifests for the built-in profiles; a profile with a digest in
    ``digests`` pulls <registry>/desktop-<name>@<digest> (tag ignored)."""
    registry = registry.rstrip("/")
    return [_profile(name, image_reference(registry, name, tag, (digests or {}).get(name)),
                     pull_policy) for name in DEFAULT_PROFILES]


def image_reference(registry: str, profile: str, tag: str, digest: str | None = None) -> str:
    """<registry>/desktop-<profile>, by digest when there is one, else by tag."""
    repository = f"{registry.rstrip('/')}/desktop-{profile}"
    return f"{repository}@{digest}" if digest else f"{repository}:{tag}"


def _profile(name: str, image: str, pull_policy: str) -> dict[str, Any]:
    spec = yaml.safe_load((data_dir("profile_specs") / f"{name}.yaml").read_text())
    spec.update(image=image, imagePullPolicy=pull_policy)
    return {"apiVersion": labels.API_VERSION, "kind": "DesktopProfile",
            "metadata": {"name": name, "labels": {labels.PART_OF: labels.MANAGER}},
            "spec": spec}
