"""The default DesktopProfiles (base, arc, bioimage) with a registry prefix and tag.

Each spec comes from the chart's ``files/profiles/<name>.yaml``, which the chart's
``templates/desktopprofiles.yaml`` reads too: one source for both ways of installing them.
"""

from __future__ import annotations

from typing import Any

import yaml

from arcdesk.api import labels
from arcdesk.api.resources import data_dir

DEFAULT_PROFILES = ("base", "arc", "bioimage")
DEFAULT_REGISTRY = "localhost/arcdesk"
DEFAULT_TAG = "0.1.0"


def default_profiles(
    registry: str = DEFAULT_REGISTRY, tag: str = DEFAULT_TAG, pull_policy: str = "IfNotPresent"
) -> list[dict[str, Any]]:
    """DesktopProfile manifests for the built-in profiles."""
    registry = registry.rstrip("/")
    return [_profile(name, registry, tag, pull_policy) for name in DEFAULT_PROFILES]


def _profile(name: str, registry: str, tag: str, pull_policy: str) -> dict[str, Any]:
    spec = yaml.safe_load((data_dir("profile_specs") / f"{name}.yaml").read_text())
    spec.update(image=f"{registry}/desktop-{name}:{tag}", imagePullPolicy=pull_policy)
    return {"apiVersion": labels.API_VERSION, "kind": "DesktopProfile",
            "metadata": {"name": name, "labels": {labels.PART_OF: labels.MANAGER}},
            "spec": spec}
