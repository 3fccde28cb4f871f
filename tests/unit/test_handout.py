"""Handouts: one card per trainee in CSV, HTML and PDF; every QR code decodes to its link."""

from __future__ import annotations

import base64
import csv
import io
import re

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from arcdesk.tasks import handout
from arcdesk.tasks.handout import Card

pytestmark = pytest.mark.unit


def cards(count: int, name: str = "") -> list[Card]:
    return [Card(course="bio", title="Bioimage data in ARCs", seat=f"seat-{i:03d}",
                 name=name, email="", when="Starts 2026-12-01T08:00:00Z",
                 link=f"https://desktops.example.test/s/tok{i:03d}-{'x' * 40}")
            for i in range(1, count + 1)]


def pdf_codes(data: bytes) -> list[list[str]]:
    """Decoded QR codes, page by page."""
    return [[found.text for found in zxingcpp.read_barcodes(page.render(scale=3).to_pil())]
            for page in pypdfium2.PdfDocument(data)]


def test_csv_has_a_header_and_one_row_per_card() -> None:
    rows = list(csv.DictReader(io.StringIO(handout.to_csv(cards(3, name='Zoë "Z", Ünal')))))
    assert len(rows) == 3
    assert rows[0] == {"course": "bio", "title": "Bioimage data in ARCs", "seat": "seat-001",
                       "name": 'Zoë "Z", Ünal', "email": "",
                       "link": cards(1)[0].link}


def test_pdf_has_eight_cards_a_page_and_each_code_decodes_to_its_link() -> None:
    made = cards(11)
    pages = pdf_codes(handout.to_pdf(made, "Bioimage data in ARCs"))
    assert [len(page) for page in pages] == [8, 3]
    assert sorted(code for page in pages for code in page) == sorted(c.link for c in made)


def test_pdf_without_a_unicode_font_still_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handout, "UNICODE_FONTS", ())
    made = cards(2, name="李雷 — Zoë")
    pages = pdf_codes(handout.to_pdf(made, "x"))
    assert sorted(pages[0]) == sorted(c.link for c in made)


def test_html_codes_decode_and_names_are_escaped() -> None:
    made = cards(3, name="<script>alert(1)</script>")
    html = handout.to_html(made, "Bioimage data in ARCs")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    decoded = [zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(i))))[0].text
               for i in images]
    assert decoded == [c.link for c in made]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count('class="card"') == 3


def test_a_card_is_headed_by_the_trainee_name_else_the_seat() -> None:
    assert cards(1, name="Ann")[0].heading == "Ann"
    assert cards(1)[0].heading == "seat-001"
