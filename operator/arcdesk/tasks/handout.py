"""Pure: handouts with one card per trainee (course title, name or seat, link, QR code).

CSV for mail merges, HTML for a browser's print dialog, PDF for the printer: eight cards to
an A4 page. The cards hold personal links, so callers write them only where asked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import segno
from fpdf import FPDF
from fpdf.enums import WrapMode

CSV_COLUMNS = ("course", "title", "seat", "name", "email", "link")
# A Unicode font where the system has one (Debian: fonts-dejavu-core); else the PDF core
# font, which covers Latin-1 only.
UNICODE_FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                 Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"))
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 10.0
COLUMNS, ROWS = 2, 4
QR_MM = 38.0


@dataclass(frozen=True)
class Card:
    course: str
    title: str
    seat: str
    name: str
    email: str
    link: str
    when: str = ""  # e.g. the course start, printed under the title

    @property
    def heading(self) -> str:
        return self.name or self.seat


def qr(link: str) -> segno.QRCode:
    return segno.make(link, error="m", micro=False)


def to_csv(cards: Sequence[Card]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for card in cards:
        writer.writerow([card.course, card.title, card.seat, card.name, card.email, card.link])
    return out.getvalue()


_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} — desktop links</title>
<style>
  @page { size: A4; margin: 10mm; }
  body { font-family: system-ui, sans-serif; margin: 0; }
  .cards { display: grid; grid-template-columns: 1fr 1fr; gap: 0; }
  .card { box-sizing: border-box; height: 69mm; padding: 5mm; border: 1px dashed #999;
          break-inside: avoid; display: flex; gap: 4mm; align-items: center; }
  .card img { width: 38mm; height: 38mm; image-rendering: pixelated; flex: none; }
  .title { font-weight: bold; } .who { font-size: 1.3em; margin: 2mm 0; }
  .link { font-family: monospace; font-size: 8pt; word-break: break-all; }
  .hint { font-size: 9pt; color: #444; }
</style></head>
<body><main class="cards">
{% for card in cards %}
<section class="card" data-seat="{{ card.seat }}">
  <img alt="QR code of the personal link for {{ card.heading }}" src="{{ images[loop.index0] }}">
  <div><div class="title">{{ card.title }}</div>
    {% if card.when %}<div class="hint">{{ card.when }}</div>{% endif %}
    <div class="who">{{ card.heading }}</div>
    <div class="hint">Scan the code or open this personal link in a browser:</div>
    <div class="link"><a href="{{ card.link }}">{{ card.link }}</a></div></div>
</section>
{% endfor %}
</main></body></html>
""")


def to_html(cards: Sequence[Card], title: str) -> str:
    """A printable page; each QR code is an embedded PNG (scale 8: crisp at 38 mm)."""
    images = [qr(card.link).png_data_uri(scale=8, border=4) for card in cards]
    return _HTML.render(cards=cards, title=title, images=images)


def to_pdf(cards: Sequence[Card], title: str) -> bytes:
    """Eight cards per A4 page; QR codes drawn as vector squares so they print sharply."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"{title} - desktop links")
    family = _font(pdf)
    card_w = (PAGE_W - 2 * MARGIN) / COLUMNS
    card_h = (PAGE_H - 2 * MARGIN) / ROWS
    for index, card in enumerate(cards):
        if index % (COLUMNS * ROWS) == 0:
            pdf.add_page()
        slot = index % (COLUMNS * ROWS)
        x = MARGIN + (slot % COLUMNS) * card_w
        y = MARGIN + (slot // COLUMNS) * card_h
        _pdf_card(pdf, family, card, x, y, card_w, card_h)
    return bytes(pdf.output())


def _font(pdf: FPDF) -> str:
    for path in UNICODE_FONTS:
        if path.is_file():
            pdf.add_font("handout", "", str(path))
            return "handout"
    return "helvetica"


def _text(family: str, text: str) -> str:
    """Core fonts take Latin-1 only: anything else becomes '?' rather than failing."""
    return text if family != "helvetica" else text.encode("latin-1", "replace").decode("latin-1")


def _pdf_card(pdf: FPDF, family: str, card: Card, x: float, y: float, w: float,
              h: float) -> None:
    pdf.set_draw_color(160, 160, 160)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.rect(x, y, w, h)
    pdf.set_dash_pattern()
    _pdf_qr(pdf, card.link, x + 4, y + (h - QR_MM) / 2)
    left, width = x + QR_MM + 8, w - QR_MM - 12
    pdf.set_xy(left, y + 6)
    pdf.set_font(family, size=10)
    pdf.multi_cell(width, 4.5, _text(family, card.title), new_x="LEFT", new_y="NEXT", align="L")
    if card.when:
        pdf.set_font(family, size=8)
        pdf.multi_cell(width, 4, _text(family, card.when), new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_font(family, size=15)
    pdf.multi_cell(width, 8, _text(family, card.heading), new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_font(family, size=8)
    pdf.multi_cell(width, 4, "Scan the code or open this personal link in a browser:",
                   new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_font("courier", size=7)
    pdf.multi_cell(width, 3.2, card.link, new_x="LEFT", new_y="NEXT", wrapmode=WrapMode.CHAR,
                   align="L")


def _pdf_qr(pdf: FPDF, link: str, x: float, y: float) -> None:
    matrix = [list(row) for row in qr(link).matrix_iter(border=4)]
    module = QR_MM / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):  # one rectangle per run of dark modules: smaller files
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + start * module, y + r * module, (c - start) * module, module,
                     style="F")
