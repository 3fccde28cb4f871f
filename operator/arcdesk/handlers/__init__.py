"""kopf handlers, one module per kind; importing this package registers them all."""

from arcdesk.handlers import (
    claims,
    courses,
    lifecycle,
    pods,
    policies,
    profiles,
    seats,
    secrets,
    services,
)

__all__ = ["claims", "courses", "lifecycle", "pods", "policies", "profiles", "seats",
           "secrets", "services"]
