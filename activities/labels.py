"""`create_return_label`: the PDF the customer prints, sticks on the parcel and puts inside it.

Paper: A4 portrait, because customers print returns at home on an ordinary printer (a 4x6in
thermal label needs a label printer). The sheet folds or cuts in two along a dashed line:

- top half, the address label to stick on the parcel: RETURN TO (merchant name and return
  address, large), FROM (the customer), the RMA number in big type and a Code128 barcode of it
  for the warehouse scanner;
- bottom half, the packing slip to put inside the parcel: "Include this slip in the parcel",
  the RMA number with a QR code of it, order and return ids, the ship-by date when given, and
  the lines being returned (SKU, title, quantity), continued on further pages when long.

Both barcodes encode exactly the RMA number (`barcode_value`). Text that Helvetica's WinAnsi
encoding cannot show (Chinese names and addresses, for instance) is set in a CJK
font, run by run within a line: a CJK TrueType font embedded when the machine has one
(fonts-wqy-zenhei on Debian), else reportlab's built-in CID fonts STSong-Light (and
HYSMyeongJo-Medium for Korean), which viewers display with their own CJK fonts.

The file is `<labels_dir>/<rma_number>.pdf`, written atomically (temporary file, then
`os.replace`), with a sidecar `<rma_number>.json` recording the idempotency key and sha256. A
second call with the same key returns the existing file with `duplicate=True` without rendering
again. Rendering is deterministic (reportlab's invariant mode), so even a re-render after a crash
between the two writes produces the same bytes.
"""

from __future__ import annotations

import asyncio
import itertools
import hashlib
import json
import os
import re
import uuid
from datetime import datetime, time
from pathlib import Path
from typing import Protocol
from zoneinfo import TZPATH

from temporalio import activity
from temporalio.exceptions import ApplicationError

from returns.business_days import zone
from activities.contracts import CREATE_RETURN_LABEL, LabelCreated, LabelRequest
from returns.events import Address
from runtime.logging import get_logger

log = get_logger(__name__)

INVALID_LABEL_REQUEST = "InvalidLabelRequest"  # ApplicationError types: not retryable
LABEL_CONFLICT = "LabelConflict"

# The RMA number names the file and goes in a Code128 barcode: plain ASCII, no path separators.
_RMA_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")


class CarrierLabels(Protocol):
    """A carrier's label service (`activities.easypost_labels.EasyPostLabels`), idempotent on
    the request's idempotency key."""

    name: str

    async def create(self, req: LabelRequest) -> LabelCreated: ...


class LabelActivities:
    """The label activity, writing PDFs under `labels_dir` (created when missing).

    `carriers` maps a merchant id to that merchant's carrier label service; `default_carrier`
    serves requests of other merchants and requests without a merchant. Without either, every
    label is the embedded A4 PDF.
    """

    def __init__(self, labels_dir: Path, *, carriers: dict[str, CarrierLabels | None] | None = None,
                 default_carrier: CarrierLabels | None = None) -> None:
        self.labels_dir = Path(labels_dir)
        self.carriers = dict(carriers or {})
        self.default_carrier = default_carrier

    def carrier_for(self, merchant_id: str | None) -> CarrierLabels | None:
        if merchant_id is not None and merchant_id in self.carriers:
            return self.carriers[merchant_id]
        return self.default_carrier

    @activity.defn(name=CREATE_RETURN_LABEL)
    async def create_return_label(self, req: LabelRequest) -> LabelCreated:
        _validate(req)
        # 004 §3.4: never buy a carrier label for a parcel whose postage the customer bears.
        carrier = self.carrier_for(req.merchant_id) if req.prepaid else None
        if carrier is None:
            made = await asyncio.to_thread(self._create, req)
        else:
            made = await carrier.create(req)
        log.info("return label ready", rma_number=made.rma_number, return_id=req.return_id,
                 order_id=req.order_id, lines=len(req.lines), duplicate=made.duplicate,
                 sha256=made.sha256, provider=carrier.name if carrier else "pdf")
        return made

    def pdf_path(self, rma_number: str) -> Path:
        return self.labels_dir / f"{rma_number}.pdf"

    def _create(self, req: LabelRequest) -> LabelCreated:
        self.labels_dir.mkdir(parents=True, exist_ok=True)
        pdf = self.pdf_path(req.rma_number)
        sidecar = pdf.with_suffix(".json")

        recorded = _read_json(sidecar)
        if recorded is not None:
            if recorded.get("return_id") != req.return_id:
                raise ApplicationError(
                    f"rma_number: {req.rma_number} already labels return "
                    f"{recorded.get('return_id')}, not {req.return_id}",
                    type=LABEL_CONFLICT, non_retryable=True)
            if recorded.get("idempotency_key") == req.idempotency_key and pdf.exists() \
                    and _sha256(pdf.read_bytes()) == recorded.get("sha256"):
                return LabelCreated(rma_number=req.rma_number, barcode_value=req.rma_number,
                                    path=str(pdf), sha256=recorded["sha256"], duplicate=True)
            # Same return, another step (a re-issued label) or a file lost or damaged since:
            # render again and replace it.

        content = render_label(req)
        digest = _sha256(content)
        _write_atomically(pdf, content)
        _write_atomically(sidecar, json.dumps({
            "idempotency_key": req.idempotency_key, "rma_number": req.rma_number,
            "return_id": req.return_id, "order_id": req.order_id, "sha256": digest,
        }, indent=2).encode())
        return LabelCreated(rma_number=req.rma_number, barcode_value=req.rma_number,
                            path=str(pdf), sha256=digest)


def _validate(req: LabelRequest) -> None:
    def refuse(message: str) -> None:
        raise ApplicationError(message, type=INVALID_LABEL_REQUEST, non_retryable=True)

    if not _RMA_PATTERN.fullmatch(req.rma_number):
        refuse(f"rma_number: {req.rma_number!r} must be 1 to 80 letters, digits or . _ : - "
               "(it names the file and goes in the barcode)")
    if not req.idempotency_key:
        refuse("idempotency_key: required")
    if not req.lines:
        refuse("lines: a return label lists at least one item")
    for i, line in enumerate(req.lines):
        if line.quantity < 1:
            refuse(f"lines[{i}].quantity: must be at least 1, got {line.quantity}")
    if req.ship_by is not None and req.ship_by.tzinfo is None:
        refuse("ship_by: must be timezone-aware")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_atomically(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- rendering ------------------------------------------------------------------------------------
_LATIN, _LATIN_BOLD = "Helvetica", "Helvetica-Bold"
_CJK, _HANGUL = "STSong-Light", "HYSMyeongJo-Medium"  # reportlab's CID fonts, never embedded
_EMBEDDED = "ReturnsCJK"
# A CJK TrueType font found on the machine is embedded (as a subset), so the label shows Chinese,
# Japanese and Korean in any viewer and printer driver. Without one, the CID fonts above are
# used: desktop viewers (Acrobat, Preview, browsers) substitute their own CJK fonts for them.
_CJK_TRUETYPE = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # Debian/Ubuntu: fonts-wqy-zenhei
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # fonts-arphic-uming
    ("C:/Windows/Fonts/simsun.ttc", 0),
)
_fonts_registered = False
_embedded_glyphs: frozenset[int] = frozenset()


def _register_fonts() -> None:
    global _fonts_registered, _embedded_glyphs
    if _fonts_registered:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    pdfmetrics.registerFont(UnicodeCIDFont(_CJK))
    pdfmetrics.registerFont(UnicodeCIDFont(_HANGUL))
    for path, index in _CJK_TRUETYPE:
        if not os.path.exists(path):
            continue
        try:
            font = TTFont(_EMBEDDED, path, subfontIndex=index)
        except (TTFError, OSError):  # e.g. PostScript outlines, which reportlab cannot embed
            continue
        pdfmetrics.registerFont(font)
        _embedded_glyphs = frozenset(font.face.charToGlyph)
        break
    _fonts_registered = True


def _clean(text: str) -> str:
    """One printable line: control characters (newlines, tabs) become spaces."""
    return " ".join("".join(" " if ord(ch) < 32 or 127 <= ord(ch) < 160 else ch
                            for ch in text).split())


def _font_for(ch: str, bold: bool) -> str:
    try:
        ch.encode("cp1252")  # what reportlab's standard fonts can show
        return _LATIN_BOLD if bold else _LATIN
    except UnicodeEncodeError:
        pass
    if ord(ch) in _embedded_glyphs:
        return _EMBEDDED
    if "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f":
        return _HANGUL
    return _CJK


def _runs(text: str, bold: bool) -> list[tuple[str, str]]:
    """`text` split into (font, chunk) runs."""
    _register_fonts()
    try:
        text.encode("cp1252")  # the usual case: one run in the standard font
        return [(_LATIN_BOLD if bold else _LATIN, text)] if text else []
    except UnicodeEncodeError:
        pass
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = _font_for(ch, bold)
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


def _width(text: str, size: float, bold: bool = False) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return sum(stringWidth(chunk, font, size) for font, chunk in _runs(text, bold))


def _draw(c, x: float, y: float, text: str, size: float, bold: bool = False,
          max_width: float | None = None, align: str = "left") -> None:
    """Draw one line in mixed fonts, shortened with an ellipsis to fit `max_width`."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = _clean(text)
    if max_width is not None:
        text = _fit(text, size, max_width, bold)
    if align == "right":
        x -= _width(text, size, bold)
    elif align == "center":
        x -= _width(text, size, bold) / 2
    for font, chunk in _runs(text, bold):
        c.setFont(font, size)
        c.drawString(x, y, chunk)
        x += stringWidth(chunk, font, size)


def _fit(text: str, size: float, max_width: float, bold: bool = False) -> str:
    if _width(text, size, bold) <= max_width:
        return text
    while text and _width(text + "...", size, bold) > max_width:
        text = text[:-1]
    return text.rstrip() + "..."


def _wrap(text: str, size: float, max_width: float, bold: bool = False,
          max_lines: int = 2) -> list[str]:
    """Greedy wrap at spaces (anywhere inside CJK text), at most `max_lines` lines."""
    text = _clean(text)
    lines: list[str] = []
    while text and len(lines) < max_lines - 1 and _width(text, size, bold) > max_width:
        cut = len(text)
        while cut > 1 and _width(text[:cut], size, bold) > max_width:
            cut -= 1
        space = text.rfind(" ", 0, cut + 1)
        if space > 0:
            cut = space
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        lines.append(_fit(text, size, max_width, bold))
    return lines or [""]


def _country_name(code: str) -> str:
    """"FR" -> "FRANCE" from the system tz database's iso3166.tab; the code when unavailable."""
    for root in TZPATH:
        try:
            with open(Path(root) / "iso3166.tab", encoding="utf-8") as f:
                for row in f:
                    if row.startswith(code + "\t"):
                        return row.split("\t", 1)[1].strip().upper()
        except OSError:
            continue
    return code


def _address_lines(name: str, address: Address) -> list[str]:
    lines = [name, address.line1]
    if address.line2:
        lines.append(address.line2)
    lines.append(" ".join(part for part in (address.postal_code, address.city) if part))
    if address.region:
        lines.append(address.region)
    lines.append(_country_name(address.country))
    return lines


def _format_ship_by(ship_by: datetime) -> str:
    """The date in ship_by's own offset (pass it in the merchant's time zone); the time too when
    it is not the end of that day."""
    day = ship_by.strftime("%a %d %b %Y")
    if ship_by.time().replace(microsecond=0) == time(23, 59, 59):
        return day
    return f"{day}, {ship_by.strftime('%H:%M')} {ship_by.tzname() or ''}".rstrip()


def _draw_qr(c, value: str, x: float, y: float, size: float) -> None:
    """The QR code of `value` (level M, 4-module quiet zone) in a `size` square at (x, y), drawn
    as one filled path: reportlab's QrCodeWidget builds and validates a shape per module, which
    cost more than the rest of the label together (bench/lifecycle.py, docs/performance.md)."""
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(value)
    code.make()
    count, border = code.getModuleCount(), 4
    cell = size / (count + 2 * border)
    path = c.beginPath()
    for r, row in enumerate(code.modules):
        col = 0
        for dark, run in itertools.groupby(bool(m) for m in row):
            width = len(list(run))
            if dark:
                path.rect(x + (col + border) * cell, y + size - (r + border + 1) * cell,
                          width * cell, cell)
            col += width
    c.drawPath(path, stroke=0, fill=1)


def render_label(req: LabelRequest) -> bytes:
    """The label as PDF bytes; the same request always gives the same bytes."""
    import io

    from reportlab.graphics.barcode import code128
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    _register_fonts()
    page_w, page_h = A4
    margin = 15 * mm
    left, right = margin, page_w - margin
    width = right - left
    rma = req.rma_number
    grey = (0.35, 0.35, 0.35)

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"Return label {rma}")
    c.setSubject(f"idempotency_key={req.idempotency_key}")
    c.setCreator("returns-on-temporal")

    def caption(x: float, y: float, text: str) -> None:
        c.setFillColorRGB(*grey)
        _draw(c, x, y, text.upper(), 8, bold=True)
        c.setFillColorRGB(0, 0, 0)

    # --- top half: the address label -----------------------------------------------------------
    top = page_h - margin
    cut_y = page_h / 2
    box_bottom = cut_y + 8 * mm
    c.setLineWidth(2)
    c.rect(left, box_bottom, width, top - box_bottom)

    # RETURN TO: the merchant, large, as the carrier reads it
    y = top - 16
    caption(left + 10, y, "Return to")
    _draw(c, right - 10, y, "RETURN", 8, bold=True, align="right")
    y -= 20
    to_lines = _address_lines(req.merchant_name, req.merchant_address)
    _draw(c, left + 10, y, to_lines[0], 16, bold=True, max_width=width - 20)
    for line in to_lines[1:]:
        y -= 16
        _draw(c, left + 10, y, line, 13, max_width=width - 20)
    y -= 14
    c.setLineWidth(1)
    c.line(left, y, right, y)

    # FROM (the customer) on the left, the RMA number on the right
    col = left + width * 0.5
    row_top = y
    y = row_top - 14
    caption(left + 10, y, "From (sender)")
    for i, line in enumerate(_address_lines(req.customer_name, req.customer_address)):
        y -= 13
        _draw(c, left + 10, y, line, 10, bold=(i == 0), max_width=col - left - 20)
    from_bottom = y
    c.line(col, row_top, col, from_bottom - 10)
    ry = row_top - 14
    caption(col + 10, ry, "RMA number")
    rma_size = 26.0
    while rma_size > 12 and _width(rma, rma_size, True) > right - col - 20:
        rma_size -= 1
    ry -= rma_size + 4
    _draw(c, col + 10, ry, rma, rma_size, bold=True)
    ry -= 18
    _draw(c, col + 10, ry, f"Order {req.order_id}", 10, max_width=right - col - 20)
    ry -= 13
    _draw(c, col + 10, ry, f"Return {req.return_id}", 10, max_width=right - col - 20)
    y = min(from_bottom, ry) - 10
    c.line(left, y, right, y)

    # Code128 of the RMA number, as wide as it may be for easy scanning
    bar_h = 70.0
    probe = code128.Code128(rma, barWidth=1, barHeight=bar_h, humanReadable=False)
    bar_w = min(1.6, (width - 30) / probe.width)
    barcode = code128.Code128(rma, barWidth=bar_w, barHeight=bar_h, humanReadable=False)
    bar_y = box_bottom + (y - box_bottom - bar_h) / 2 + 8  # centred, leaving room for the text
    barcode.drawOn(c, left + (width - barcode.width) / 2, bar_y)
    _draw(c, left + width / 2, bar_y - 16, rma, 12, bold=True, align="center")

    # --- the cut line ----------------------------------------------------------------------------
    c.setDash(4, 3)
    c.setLineWidth(0.7)
    c.line(left - 5 * mm, cut_y, right + 5 * mm, cut_y)
    c.setDash()
    note = "cut or fold here: stick the label above on the parcel, put the slip below inside"
    nw = _width(note, 8) + 12
    c.setFillColorRGB(1, 1, 1)
    c.rect(left + (width - nw) / 2, cut_y - 5, nw, 10, stroke=0, fill=1)
    c.setFillColorRGB(*grey)
    _draw(c, left + width / 2, cut_y - 3, note, 8, align="center")
    c.setFillColorRGB(0, 0, 0)

    # --- bottom half: the packing slip -----------------------------------------------------------
    qr_size = 100.0
    slip_top = cut_y - 10 * mm
    _draw_qr(c, rma, right - qr_size, slip_top - qr_size, qr_size)
    _draw(c, right - qr_size / 2, slip_top - qr_size - 10, rma, 8, align="center")

    text_w = width - qr_size - 15
    y = slip_top - 16
    _draw(c, left, y, "PACKING SLIP", 16, bold=True)
    y -= 24
    c.setLineWidth(1.5)
    c.rect(left, y - 6, text_w, 22)
    _draw(c, left + 8, y, "Include this slip in the parcel.", 13, bold=True)
    y -= 26
    facts = [("RMA number", rma), ("Order", req.order_id), ("Return", req.return_id),
             ("Merchant", req.merchant_name)]
    if req.ship_by is not None:
        ship_by = req.ship_by.astimezone(zone(req.timezone)) if req.timezone else req.ship_by
        facts.append(("Ship by", _format_ship_by(ship_by)))
    for label, value in facts:
        caption(left, y, label)
        _draw(c, left + 75, y, value, 11, bold=label in ("RMA number", "Ship by"),
              max_width=text_w - 75)
        y -= 15
    y = min(y, slip_top - qr_size - 22)

    # the lines being returned
    qty_x, sku_w = right, 120.0
    title_x = left + sku_w + 8
    title_w = qty_x - 40 - title_x

    def table_header(y: float) -> float:
        caption(left, y, "SKU")
        caption(title_x, y, "Item")
        c.setFillColorRGB(*grey)
        _draw(c, qty_x, y, "QTY", 8, bold=True, align="right")
        c.setFillColorRGB(0, 0, 0)
        c.setLineWidth(0.8)
        c.line(left, y - 4, right, y - 4)
        return y - 16

    def footer() -> None:
        c.setFillColorRGB(*grey)
        _draw(c, left, margin - 14, f"{rma} - page {c.getPageNumber()}", 7)
        c.setFillColorRGB(0, 0, 0)

    y -= 6
    y = table_header(y)
    total = 0
    for line in req.lines:
        title = line.title + (f" - for {line.wanted}" if line.wanted else "")
        title_lines = _wrap(title, 10, title_w, max_lines=3)
        needed = 13 * len(title_lines) + 2
        if y - needed < margin:
            footer()
            c.showPage()
            y = page_h - margin - 10
            _draw(c, left, y, f"PACKING SLIP {rma} (continued)", 12, bold=True)
            _draw(c, right, y, "Include this slip in the parcel.", 9, bold=True, align="right")
            y = table_header(y - 24)
        _draw(c, left, y, line.sku, 10, max_width=sku_w)
        for i, text in enumerate(title_lines):
            _draw(c, title_x, y - 13 * i, text, 10)
        _draw(c, qty_x, y, str(line.quantity), 10, bold=True, align="right")
        total += line.quantity
        y -= needed
        c.setLineWidth(0.3)
        c.setStrokeColorRGB(0.7, 0.7, 0.7)
        c.line(left, y + 9, right, y + 9)
        c.setStrokeColorRGB(0, 0, 0)
    if y - 14 < margin:
        footer()
        c.showPage()
        y = page_h - margin - 10
    _draw(c, qty_x, y - 2, f"Total quantity: {total}", 10, bold=True, align="right")
    footer()
    c.showPage()
    c.save()
    return buf.getvalue()


__all__ = ["LabelActivities", "render_label"]
