"""HTTP security headers, with a content security policy that allows only the portal's own assets; the client's
address, behind trusted reverse proxies only when configured."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """The policy: only the portal's own assets. ``form_targets`` (``CSP_FORM_ACTIONS``) are the other origins a
    form may lead to: browsers check a form's redirections against ``form-action`` too, so the ProConnect button,
    a form whose answer redirects to the provider, needs the provider's origin there when it is configured."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def set_security_headers(response):
    headers = response.headers
    form_targets = tuple(current_app.config.get("CSP_FORM_ACTIONS") or ())
    headers.setdefault(
        "Content-Security-Policy", content_security_policy(form_targets) if form_targets else CONTENT_SECURITY_POLICY
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE") and request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages behind a login must not be kept by shared caches or the back button after logout.
    if request.endpoint != "static" and not headers.get("Cache-Control"):
        headers["Cache-Control"] = "no-store"
    return response


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, read the client's address and scheme from the values they
    add to X-Forwarded-For and X-Forwarded-Proto (the last ones: what the client wrote itself is not believed).
    With 0, the default, the headers are ignored: anybody can send them."""
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def client_address() -> str:
    """The client's address: the peer of the WSGI server, or what the trusted proxies say (``trust_proxies``)."""
    return (request.remote_addr or "inconnue")[:45]
