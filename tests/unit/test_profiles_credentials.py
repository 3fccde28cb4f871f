"""Built-in DesktopProfiles and seat credentials."""

from __future__ import annotations

from typing import Any

import pytest

from arcdesk.api import credentials
from arcdesk.api.model import parse_profile
from arcdesk.build import profiles
from arcdesk.tasks import offline


@pytest.mark.parametrize("profile", profiles.default_profiles("registry.example.org/lab/"),
                         ids=lambda p: p["metadata"]["name"])
def test_built_in_profiles_are_valid_and_use_the_registry_prefix(profile: dict[str, Any]) -> None:
    assert offline.check_document(profile) == []
    parsed = parse_profile(profile)
    assert parsed.image == f"registry.example.org/lab/desktop-{parsed.name}:{profiles.DEFAULT_TAG}"
    assert any(app.exec == "xfce4-terminal" for app in parsed.apps)


def test_a_profile_with_a_digest_is_pulled_by_digest_and_the_others_by_tag() -> None:
    digest = "sha256:" + "ab" * 32
    found = {p["metadata"]["name"]: parse_profile(p) for p in profiles.default_profiles(
        "127.0.0.1:5000/arcdesk", tag="0.3.0", digests={"base": digest})}
    assert found["base"].image == f"127.0.0.1:5000/arcdesk/desktop-base@{digest}"
    assert found["arc"].image == "127.0.0.1:5000/arcdesk/desktop-arc:0.3.0"


def test_built_in_profile_names() -> None:
    names = [p["metadata"]["name"] for p in profiles.default_profiles()]
    assert names == ["base", "arc", "bioimage"]


def test_bioimage_gets_more_resources_than_base() -> None:
    found = {p["metadata"]["name"]: parse_profile(p) for p in profiles.default_profiles()}
    assert (found["base"].cpu, found["base"].memory) == ("1", "2Gi")
    assert (found["bioimage"].cpu, found["bioimage"].memory) == ("2", "4Gi")


def test_new_seat_credentials_are_random_and_shaped_for_vnc() -> None:
    drawn = [credentials.new_seat_credentials() for _ in range(50)]
    for creds in drawn:
        # TigerVNC's VncAuth uses only 8 characters; longer passwords would be silently cut.
        assert len(creds.vnc_password) == len(creds.view_password) == 8
        assert creds.vnc_password != creds.view_password
        assert creds.vnc_password.isalnum() and creds.view_password.isalnum()
        assert len(creds.token) >= 43  # 256 bits, URL-safe base64
    assert len({c.token for c in drawn}) == len(drawn)
    assert len({c.vnc_password for c in drawn}) == len(drawn)


def test_credentials_never_show_in_a_repr_or_log_line() -> None:
    creds = credentials.new_seat_credentials()
    shown = f"{creds!r} {creds}"
    for secret in (creds.vnc_password, creds.view_password, creds.token):
        assert secret not in shown


def test_operator_settings_take_the_gateway_namespace_from_the_chart() -> None:
    from arcdesk.api.settings import GATEWAY_NAMESPACE_ENV, Settings

    assert Settings.from_environment({GATEWAY_NAMESPACE_ENV: "desks"}).gateway_namespace == "desks"
    assert Settings.from_environment({}).gateway_namespace == "arcdesk-system"
