"""The minutes as a PDF (A4, for the notice board), made by WeasyPrint from
the same sanitised HTML as the page and the print stylesheet.

The Chinese text needs a CJK font on the server (Debian: ``fonts-wqy-microhei``
or ``fonts-noto-cjk``) and Pango (``libpango-1.0-0 libpangoft2-1.0-0``); the
font is embedded in the PDF, so it prints the same anywhere.

WeasyPrint is imported on the first PDF, not with the app: it loads native
libraries (Pango through cffi), which takes a moment, and a server without
them still serves every page — only the PDF answers 503.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

from PIL import ImageFile


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its native libraries are missing on this server."""


@cache
def _weasyprint():
    try:
        with warnings.catch_warnings():
            # Without libharfbuzz-subset0 WeasyPrint still makes the PDF, with
            # the fonts embedded whole (docs/deploy.md installs it, for small
            # files), and says at every import that it will need it one day.
            warnings.filterwarnings(
                "ignore", "HarfBuzz-Subset will be required", DeprecationWarning
            )
            import weasyprint  # noqa: PLC0415 — optional native dependency, see above
    except (ImportError, OSError) as error:
        raise PdfUnavailable(str(error)) from error
    # Importing WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES,
    # after which a cut-off photo upload would pass as sound
    # (meetings.projects.uploads). The minutes embed no images: turn it off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


def html_to_pdf(html: str, stylesheet: Path) -> bytes:
    """Render a complete HTML document. Nothing is fetched from anywhere: the
    document has no images, and any address in it is refused."""
    weasyprint = _weasyprint()
    refuse_all = weasyprint.urls.URLFetcher(allowed_protocols=())
    css = weasyprint.CSS(string=stylesheet.read_text(encoding="utf-8"), url_fetcher=refuse_all)
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=refuse_all)
    return document.write_pdf(stylesheets=[css])
