"""Installation-wide settings that shape the desired objects (from the chart's values)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

GATEWAY_NAMESPACE_ENV = "ARCDESK_GATEWAY_NAMESPACE"  # set by the chart to the release namespace
PREPULL_NAMESPACE_ENV = "ARCDESK_PREPULL_NAMESPACE"  # the chart: the release namespace too
GATEWAY_SELECTOR = {"app.kubernetes.io/name": "arcdesk", "app.kubernetes.io/component": "gateway"}


@dataclass(frozen=True)
class Settings:
    gateway_namespace: str = "arcdesk-system"
    # Where the image pre-pull DaemonSets run (the operator's own namespace, so their pods
    # never count against a course namespace's quota); empty: no pre-pull.
    prepull_namespace: str = ""
    gateway_selector: dict[str, str] = field(default_factory=lambda: dict(GATEWAY_SELECTOR))
    blocked_ipv4: tuple[str, ...] = (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",  # cloud metadata (169.254.169.254) and link-local
    )
    blocked_ipv6: tuple[str, ...] = ("fc00::/7", "fe80::/10")

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Settings of the running operator: the chart tells it where the gateway lives."""
        namespace = env.get(GATEWAY_NAMESPACE_ENV) or cls.gateway_namespace
        return cls(gateway_namespace=namespace,
                   prepull_namespace=env.get(PREPULL_NAMESPACE_ENV, ""))
