"""Absolute links to meeting pages: for the QR codes (scanned by phones) and
the .ics files (opened in calendars), which leave the browser's context."""

from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """SITE_URL (the public address, e.g. behind a proxy) and the page's path;
    without SITE_URL, the address this request came in on."""
    site = current_app.config.get("SITE_URL")
    if site:
        return site.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
