"""Security headers on every response, the hosts the site answers to, proxy
awareness, secure cookies over HTTPS.

**Caching.** Every response is ``Cache-Control: no-store`` — pages show who
is signed in, the API answers one token's owner — unless its view chose a
policy of its own for what is the same for everyone: static files
(``no-cache``: kept, checked again by ETag), the PDF of published minutes
(``public, max-age=300``) and progress photos (public, a week: a stored photo
never changes). A 304 keeps the policy of the response it confirms.

**Hosts.** Absolute links (calendar files, feeds, QR codes, e-mails) are
built from ``SITE_URL``; when it is unset they are built from the request's
``Host``. Either way a request naming a host the site does not answer to is
refused (400) before any view runs: Flask's ``TRUSTED_HOSTS``, by default the
host of ``SITE_URL`` and this machine's own names (``localhost``,
``127.0.0.1``, ``::1``), so a forged ``Host: evil.example`` never reaches a
link.
"""

from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)

# The machine's own names: health checks and the embedded default (flask run).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _set_security_headers(response: Response) -> Response:
    """Each header unless the view set its own; not stored by any cache
    unless the view said otherwise (see the module's docstring)."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    if response.status_code != 304:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def trusted_hosts(config) -> list[str]:
    """``TRUSTED_HOSTS`` as configured, else ``SITE_URL``'s host and ``LOCAL_HOSTS``."""
    if config.get("TRUSTED_HOSTS"):
        return list(config["TRUSTED_HOSTS"])
    site_host = urlsplit(config.get("SITE_URL") or "").hostname
    return [*([site_host] if site_host else []), *LOCAL_HOSTS]


def init_security(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config["SESSION_COOKIE_SECURE"]:
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.after_request(_set_security_headers)
