"""Fixtures for the notification tests: a real PDF label and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from reportlab.lib.pagesizes import A6
from reportlab.pdfgen import canvas

from .support import RecordingHandler, SmtpServer, free_port


@pytest.fixture
def label_pdf(tmp_path: Path) -> Path:
    """A small but real PDF, drawn with reportlab like the label activity does."""
    path = tmp_path / "labels" / "RMA-R-1001.pdf"
    path.parent.mkdir(parents=True)
    c = canvas.Canvas(str(path), pagesize=A6)
    c.drawString(20, 380, "RETURN LABEL RMA-R-1001")
    c.drawString(20, 360, "Maison Perle, 11 rue Alix, 93600 Aulnay-sous-Bois")
    c.showPage()
    c.save()
    return path


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.hostname, controller.port, handler)
    finally:
        controller.stop()
