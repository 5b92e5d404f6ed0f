"""Shared checks for the 帳票 tests: PDF text, page images, access-log rows."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfReader

from casework.models import AccessLog

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def pdf_text(response) -> str:
    """Return the text of every page of a PDF response (pypdf), whitespace removed for matching."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return "".join(text.split())


def pdf_pages(response) -> int:
    return len(PdfReader(io.BytesIO(response.content)).pages)


def save_page_one(response, name: str) -> Path | None:
    """Save page 1 of the PDF as PNG under var/screenshots/ (pdftoppm) for review by eye."""
    if shutil.which("pdftoppm") is None:
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SCREENSHOTS / f"{name}.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(  # noqa: S603 - a fixed Debian tool on a file this test wrote
        ["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(SCREENSHOTS / name)],
        check=True,
        timeout=60,
    )
    pdf.unlink()
    return SCREENSHOTS / f"{name}.png"


def last_row(user, object_type: str) -> AccessLog | None:
    return AccessLog.objects.filter(actor=user, object_type=object_type).order_by("-id").first()
