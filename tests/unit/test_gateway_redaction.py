"""Tokens and passwords never reach the gateway's logs."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from arcdesk.api.credentials import new_token
from arcdesk.gateway.logs import RedactingFilter, install_redaction, redact, redact_path
from arcdesk.gateway.records import Key, SeatSecret
from tests.unit.gateway_helpers import load, make_course, new_gateway, run_with

pytestmark = pytest.mark.unit
SCRIPT = {"X-Arcdesk-Request": "1"}


def test_redact_hides_link_tokens_and_token_shaped_text_but_keeps_names() -> None:
    token = new_token()
    line = f"GET /s/{token}?x=1 /i/{token} seat introduction-to-bioimage-seat-001 {token}"
    out = redact(line)
    assert token not in out
    assert "/s/<redacted>" in out and "/i/<redacted>" in out
    assert "introduction-to-bioimage-seat-001" in out
    assert redact_path(f"/seat/training/bio-seat-001/?token={token}") == \
        "/seat/training/bio-seat-001/"


def test_filter_scrubs_messages_args_and_tracebacks() -> None:
    token = new_token()
    try:
        raise ValueError(f"bad url /s/{token}")
    except ValueError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed %s", (token,), exc_info=sys.exc_info())
    RedactingFilter().filter(record)
    assert token not in record.getMessage()
    assert record.exc_text and token not in record.exc_text


def test_secret_records_do_not_print_passwords() -> None:
    secret = SeatSecret(Key("ns", "x"), b"digest", "hunter22", "viewonly")
    assert "hunter22" not in repr(secret) and "viewonly" not in repr(secret)


def test_a_whole_session_logs_no_token_or_password(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    course = make_course(control=True)
    gw = new_gateway()
    load(gw.index, course)
    seat = course.seats[0]

    async def scenario(client: TestClient[Any, Any]) -> None:
        await client.get(f"/s/{seat.token}")
        await client.get(course.seat_base(0) + "credentials", headers=SCRIPT)
        await client.get(f"/s/{new_token()}")
        await client.get(f"/i/{course.instructor_token}")
        await client.get(f"{course.course_base()}seats/{seat.key.name}/control/credentials",
                         headers=SCRIPT)

    with caplog.at_level(logging.DEBUG):
        run_with(gw, scenario)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "/s/<redacted>" in text  # the access log did record the requests
    for secret in (seat.token, course.instructor_token, seat.vnc_password, seat.view_password):
        assert secret not in text
