"""Security headers of every response.

API answers (JSON, CSV) are never rendered, framed or cached. Pages and
static files get a Content-Security-Policy without inline scripts or styles,
no framing by other sites (the demo pages may be framed by the bridge's own
origin), no MIME sniffing, no referrer. Outside development every response
carries Strict-Transport-Security.
"""

from __future__ import annotations

import re

from sanic import Request, Sanic

from .web import is_web_path

API_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# Staff pages: never framed, never cached (they show masked citizen questions, chats, figures).
STAFF_PREFIXES = ("/console", "/supervisor", "/editor")

_BASE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def connect_src(host: str | None, scheme: str) -> str:
    """'self', plus the page's own websocket origin spelled out: older browsers
    do not let 'self' cover ws:// and wss://."""
    sources = ["'self'"]
    if host and _HOST.match(host):
        sources.append(f"wss://{host}")
        if scheme == "http":
            sources.append(f"ws://{host}")
    return "connect-src " + " ".join(sources) + "; "


def content_security_policy(path: str, host: str | None = None, scheme: str = "https") -> str:
    # The agent console and supervisor view are never framed; the demo pages only by the bridge itself.
    frames = "'none'" if path.startswith(STAFF_PREFIXES) else "'self'"
    return _BASE_CSP + connect_src(host, scheme) + f"frame-ancestors {frames}"


def security_headers(path: str, host: str | None = None, scheme: str = "https") -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(path, host, scheme),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if path.startswith(STAFF_PREFIXES):
        headers["X-Frame-Options"] = "DENY"
        # Agent pages show personal data: never cache them.
        headers["Cache-Control"] = "no-store"
    else:
        headers["X-Frame-Options"] = "SAMEORIGIN"
        # The widget is embedded by other sites: let them load it, and revalidate so updates reach citizens.
        if path.startswith("/widget/"):
            headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        headers["Cache-Control"] = "no-cache"
    return headers


def install(app: Sanic) -> None:
    @app.on_response
    async def add_security_headers(request: Request, response):
        if is_web_path(request.path):
            for key, value in security_headers(request.path, request.host, request.scheme).items():
                response.headers[key] = value
        else:
            # API answers (JSON, CSV) are never rendered, framed or cached.
            for key, value in API_HEADERS.items():
                response.headers.setdefault(key, value)
        settings = getattr(request.app.ctx, "settings", None)
        if settings is not None and not settings.is_development and settings.hsts_seconds:
            response.headers["Strict-Transport-Security"] = f"max-age={settings.hsts_seconds}; includeSubDomains"
