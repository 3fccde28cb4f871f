"""The instructor's whole story with the CLI, against the devcluster with the operator
running: create --wait, list, show, seats with links, handouts whose QR codes decode to
those links, scale, extend, suspend/resume, re-issue, view-only link, end, delete."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import yaml
import zxingcpp
from PIL import Image

from devcluster.kit import wait_for
from tests.cluster.cli_helpers import arcdesk, one_line_error
from tests.cluster.operator_fixture import (  # noqa: F401 - fixtures
    OperatorProcess,
    operator_fixture,
    profile_fixture,
)

pytestmark = pytest.mark.cluster
GATEWAY = "https://desktops.example.test"
TITLE = "Bioimage data in ARCs"


class Instructor:
    """Runs `arcdesk` as the instructor of one namespace and parses what it prints."""

    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.base = ["--kubeconfig", str(kubeconfig), "-n", namespace]

    def ok(self, *args: str, env: dict[str, str] | None = None) -> Any:
        result = arcdesk(*args, *self.base, env=env)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return json.loads(self.ok(*args, "-o", "json", env=env).stdout)

    def links(self) -> dict[str, str]:
        rows = self.json("seats", "list", "bio", "--show-links", "--gateway-url", GATEWAY)
        return {row["seat"]: row["link"] for row in rows}


def decode_png(data: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def html_codes(html: str) -> list[str]:
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    return [text for image in images for text in decode_png(base64.b64decode(image))]


def pdf_codes(path: Path) -> list[str]:
    document = pypdfium2.PdfDocument(path.read_bytes())
    return [found.text for page in document
            for found in zxingcpp.read_barcodes(page.render(scale=3).to_pil())]


def write_course(tmp_path: Path, profile: str, end: datetime) -> Path:
    path = tmp_path / "course.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "arcdesk.dev/v1alpha1", "kind": "Course", "metadata": {"name": "bio"},
        "spec": {"title": TITLE, "profile": profile, "seats": {"count": 4},
                 "schedule": {"end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}}))
    return path


def test_instructor_story(kubeconfig: Path, namespace: str, operator: OperatorProcess,
                          profile: str, tmp_path: Path) -> None:
    me = Instructor(kubeconfig, namespace)
    end = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    created = me.ok("course", "create", "-f", str(write_course(tmp_path, profile, end)),
                    "--wait", "--timeout", "120")
    assert created.stdout.splitlines() == [f"course bio created in namespace {namespace}",
                                           "course bio ready"]
    assert "4/4 seats ready" in created.stderr

    [row] = me.json("course", "list")
    assert (row["name"], row["seats"], row["phase"], row["ready"]) == \
        ("bio", "4/4", "Running", "True")
    everywhere = me.json("course", "list", "-A")
    assert {"name": "bio", "namespace": me.base[-1]}.items() <= next(
        r for r in everywhere if r["namespace"] == me.base[-1]).items()
    shown = me.json("course", "show", "bio")
    assert shown["seats"] == {"desired": 4, "ready": 4, "byPhase": {"Running": 4}}
    assert [c["type"] for c in shown["conditions"]] == ["Ready", "Progressing", "Degraded",
                                                        "ImagesReady"]
    assert shown["images"] == "not pre-pulling"  # this operator runs without a namespace for it
    assert shown["events"], "course show lists the course's recent events"
    assert "Conditions:" in me.ok("course", "show", "bio").stdout

    seats = me.json("seats", "list", "bio")
    assert [s["seat"] for s in seats] == ["seat-001", "seat-002", "seat-003", "seat-004"]
    assert all(s["phase"] == "Running" and s["node"].startswith("kwok-") for s in seats)
    links = me.links()
    assert len(set(links.values())) == 4
    assert all(re.fullmatch(rf"{GATEWAY}/s/[A-Za-z0-9_-]{{20,}}", v) for v in links.values())
    tokens = [link.rsplit("/", 1)[1] for link in links.values()]
    plain = me.ok("seats", "list", "bio")
    assert not any(t in plain.stdout + plain.stderr for t in tokens), "links only when asked"

    check_handouts(me, links, tmp_path, tokens)
    check_scale_extend_suspend(me, end)
    check_reissue_and_shadow(me, links, namespace)

    ended = me.ok("course", "end", "bio", "--yes")
    assert ended.stdout.startswith("course bio ended at ")
    wait_for("phase Ended", lambda: me.json("course", "show", "bio")["phase"] == "Ended",
             timeout=60)
    deleted = me.ok("course", "delete", "bio", "--yes")
    assert deleted.stdout.strip() == \
        "course bio deleted; 6 home volumes kept (reclaimPolicy Retain)"
    assert one_line_error(arcdesk("course", "show", "bio", *me.base)).startswith(
        "course bio not found")


def check_handouts(me: Instructor, links: dict[str, str], tmp_path: Path,
                   tokens: list[str]) -> None:
    env = {"ARCDESK_GATEWAY_URL": GATEWAY}  # the environment variable instead of the option
    result = me.ok("handout", "bio", "--format", "csv", env=env)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4
    assert {r["seat"]: r["link"] for r in rows} == links
    assert {r["title"] for r in rows} == {TITLE}

    html = tmp_path / "cards.html"
    made = me.ok("handout", "bio", "--format", "html", "--out", str(html), env=env)
    assert sorted(html_codes(html.read_text())) == sorted(links.values())
    assert TITLE in html.read_text()
    assert not any(t in made.stderr for t in tokens)

    pdf = tmp_path / "cards.pdf"
    made = me.ok("handout", "bio", "--format", "pdf", "--out", str(pdf), env=env)
    assert made.stderr.startswith(f"wrote 4 cards to {pdf}")
    assert oct(pdf.stat().st_mode & 0o777) == "0o600"
    assert sorted(pdf_codes(pdf)) == sorted(links.values())


def check_scale_extend_suspend(me: Instructor, end: datetime) -> None:
    scaled = me.ok("course", "scale", "bio", "--seats", "6", "--wait", "--timeout", "120")
    assert "course bio scaled to 6 seats" in scaled.stdout and "6/6 seats ready" in scaled.stderr
    assert len(me.json("seats", "list", "bio")) == 6

    extended = me.ok("course", "extend", "bio", "--by", "2h")
    later = (end + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert extended.stdout.strip() == f"course bio now ends at {later}"
    assert me.json("course", "show", "bio")["schedule"]["end"] == later

    me.ok("course", "suspend", "bio")
    wait_for("phase Suspended with every seat stopped", lambda: (
        shown := me.json("course", "show", "bio"))["phase"] == "Suspended"
        and shown["seats"]["byPhase"] == {"Stopped": 6}, timeout=60)
    resumed = me.ok("course", "resume", "bio", "--wait", "--timeout", "120")
    assert resumed.stdout.splitlines()[-1] == "course bio ready"
    assert me.json("course", "show", "bio")["seats"]["byPhase"] == {"Running": 6}


def check_reissue_and_shadow(me: Instructor, links: dict[str, str], namespace: str) -> None:
    reissued = me.ok("seats", "reissue", "bio", "seat-002", "--show-link",
                     "--gateway-url", GATEWAY)
    first, new_link = reissued.stdout.splitlines()
    assert first.startswith("seat seat-002 of course bio: new link and passwords issued")
    assert new_link != links["seat-002"] and new_link.startswith(f"{GATEWAY}/s/")
    now_links = me.links()
    assert now_links["seat-002"] == new_link
    assert {k: v for k, v in now_links.items() if k != "seat-002" and k in links} == \
        {k: v for k, v in links.items() if k != "seat-002"}

    shadow = me.json("seats", "shadow", "bio", "seat-001", "--gateway-url", GATEWAY)
    assert shadow["view"] == f"{GATEWAY}/course/{namespace}/bio/seats/bio-seat-001/view"
    assert re.fullmatch(rf"{GATEWAY}/i/[A-Za-z0-9_-]{{20,}}", shadow["instructor"])
