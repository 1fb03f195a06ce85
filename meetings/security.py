"""Security headers on every response, proxy awareness, the session cookie."""

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
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
# (lower-case name, name, value): header names are compared case-insensitively
_SECURITY_HEADERS = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS)


def _set_security_headers(response: Response) -> Response:
    """Each header unless the view set its own: one pass over the response's
    headers rather than one per header (this runs on every response)."""
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    headers.extend([(name, value) for key, name, value in _SECURITY_HEADERS if key not in present])
    return response


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session. A request without the cookie (every API
    call: bearer tokens only) gets a new empty session straight away, and an
    empty one left untouched is not saved, without Flask building the
    cookie's signer and settings for nothing."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Without any cookie (no Cookie header) the cookies are not even parsed.
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Empty and untouched: what Flask would do, without its cookie settings.
        if not session and not session.modified:
            if session.accessed:
                # Scanned by hand: werkzeug answers ``"Vary" in headers`` by
                # raising (and catching) an HTTP exception when it is absent.
                if any(name.lower() == "vary" for name, _value in response.headers):
                    response.vary.add("Cookie")
                else:  # the common case, without parsing a header set
                    response.headers["Vary"] = "Cookie"
            return
        super().save_session(app, session, response)


def init_security(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config["SESSION_COOKIE_SECURE"]:
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    app.after_request(_set_security_headers)
