"""The default DesktopProfiles (base, arc, bioimage), rendered with a registry prefix."""

from __future__ import annotations

from typing import Any

from arcdesk.render import render

DEFAULT_PROFILES = ("base", "arc", "bioimage")
DEFAULT_REGISTRY = "localhost/arcdesk"
DEFAULT_TAG = "0.1.0"


def default_profiles(
    registry: str = DEFAULT_REGISTRY, tag: str = DEFAULT_TAG, pull_policy: str = "IfNotPresent"
) -> list[dict[str, Any]]:
    """DesktopProfile manifests for the built-in profiles."""
    registry = registry.rstrip("/")
    return [
        render(f"profiles/{name}.yaml.j2", registry=registry, tag=tag, pull_policy=pull_policy)
        for name in DEFAULT_PROFILES
    ]
