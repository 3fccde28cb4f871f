"""kube: URL paths for the kinds arcdesk writes, and errors that say what happened
without echoing what was sent."""

from __future__ import annotations

import pytest

from arcdesk import kube
from arcdesk.kube import kinds


@pytest.mark.parametrize(("args", "expected"), [
    (("Pod", "training", "bio-seat-001"), "/api/v1/namespaces/training/pods/bio-seat-001"),
    (("Seat", "training", "bio-seat-001", "status"),
     "/apis/arcdesk.dev/v1alpha1/namespaces/training/seats/bio-seat-001/status"),
    (("NetworkPolicy", "training"),
     "/apis/networking.k8s.io/v1/namespaces/training/networkpolicies"),
    (("DesktopProfile", "training", "base"), "/apis/arcdesk.dev/v1alpha1/desktopprofiles/base"),
    (("Secret", "*"), "/api/v1/secrets"),
    (("Seat", "a b", "x/y"), "/apis/arcdesk.dev/v1alpha1/namespaces/a%20b/seats/x%2Fy"),
])
def test_paths(args: tuple[str, ...], expected: str) -> None:
    assert kinds.path(*args) == expected


def test_quota_errors_are_recognised() -> None:
    quota = kube.ApiError(403, "Forbidden", 'pods "bio-seat-003" is forbidden: exceeded quota: '
                          "desktops, requested: pods=1, used: pods=2, limited: pods=2")
    assert quota.quota_exceeded
    assert not kube.ApiError(403, "Forbidden", "cannot create pods").quota_exceeded
    assert str(quota).startswith("403 Forbidden: pods")


@pytest.mark.parametrize(("status", "transient"), [(0, True), (500, True), (503, True),
                                                   (429, True),
                                                   (403, False), (422, False), (409, False)])
def test_transient_errors(status: int, transient: bool) -> None:
    assert kube.ApiError(status, "", "").transient is transient
