"""Paper (帳票): one HTML template per form, shown as an A4 print view or rendered to PDF by WeasyPrint.

The PDF renderer loads nothing but the project's own static files: its URL fetcher refuses every
other URL (no network, no file: paths, no data the template did not put there itself), and fonts
come from the machine's fontconfig (Debian's fonts-noto-cjk). Apps above casework (referrals,
meetings) use the same helpers for their forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from core.japanese import staff_name

# The base URL the PDF renderer resolves relative URLs against: a name that can never be reached, so a
# link the fetcher does not map to a static file is refused rather than fetched.
PDF_BASE_URL = "https://paper.invalid/"


def static_only_fetcher():
    """Return a WeasyPrint URL fetcher that serves this site's static files and refuses every other URL."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path = static_path_for(url)
            if path is None:
                raise ValueError(f"refused: the 帳票 load only this site's static files ({url[:80]})")
            mime = MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return StaticOnlyFetcher(allowed_protocols=("https",), allow_redirects=False)


MIME_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def static_path_for(url: str) -> Path | None:
    """Return the file behind one of this site's static URLs as the PDF renderer sees it, or None."""
    parts = urlsplit(url)
    base = urlsplit(PDF_BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or parts.query or "\\" in parts.path:
        return None
    prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
    if not parts.path.startswith(prefix):
        return None
    relative = parts.path[len(prefix) :]
    if not relative or ".." in relative.split("/"):
        return None
    found = finders.find(relative)
    if not found and settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / relative
        found = str(candidate) if candidate.is_file() else None
    return Path(found) if found else None


@dataclass(frozen=True)
class Imprint:
    """Who printed a form and when: the footer on every page."""

    printed_by: str
    organization: str
    printed_at: datetime


def imprint_for(request, viewer) -> Imprint:
    """Return the footer's 出力者 and 出力日時 for this request."""
    user = request.user
    # Family name first, as Japanese forms write it.
    name = staff_name(user)
    orgs = [m.organization.name for m in viewer.memberships]
    return Imprint(printed_by=name, organization=orgs[0] if orgs else "", printed_at=timezone.now())


def render_document(request, template: str, context: dict, *, pdf: bool, filename: str) -> HttpResponse:
    """Answer the form as an A4 print view (HTML) or as a PDF download of the same document."""
    context = {**context, "as_pdf": pdf}
    if not pdf:
        return HttpResponse(render_to_string(template, context, request=request))
    html = render_to_string(template, context, request=request)
    data = html_to_pdf(html)
    response = HttpResponse(data, content_type="application/pdf")
    # RFC 6266: an ASCII fallback and the Japanese name.
    response["Content-Disposition"] = f"attachment; filename=\"document.pdf\"; filename*=UTF-8''{quote(filename)}"
    return response


def html_to_pdf(html: str) -> bytes:
    """Render the HTML with WeasyPrint, loading only this site's static files."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=static_only_fetcher()).write_pdf()
