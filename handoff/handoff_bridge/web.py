"""The web front ends served by the bridge: the citizen widget, the agent
console, the supervisor view, the editor pages and two demo municipality pages.

Plain files from `handoff_bridge/static/` (no build step), served by Sanic
static routes. Their security headers are set in headers.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from sanic import Request, Sanic
from sanic.response import redirect, text

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Third-party browser libraries, installed by `npm ci` (handoff/package.json, pinned
# in package-lock.json) and served by the bridge itself: no page loads from a CDN.
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR = (("/vendor/chart.js", "chart.js/dist"),)

# (URL prefix, folder under static/)
_FOLDERS = (
    ("/widget", "widget"),
    ("/console", "console"),
    ("/supervisor", "supervisor"),
    ("/editor", "editor"),
    ("/shared", "shared"),
    ("/demo/assets", "demo/assets"),
)
# (URL, file under static/)
_PAGES = (
    ("/demo/da", "demo/da.html"),
    ("/demo/sv", "demo/sv.html"),
)
WEB_PREFIXES = ("/widget/", "/console", "/supervisor", "/editor", "/shared/", "/demo", "/vendor/")

# No file under static/ has a longer name or path; the file system refuses
# longer names (and NUL) with an error, so such requests are answered here.
MAX_NAME_BYTES = 255
MAX_WEB_PATH_CHARS = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def web_path_problem(path: str) -> int | None:
    """400 for a path with NUL or control characters, 404 for one no static file
    can have (too long), None when the static routes may look it up."""
    decoded = unquote(path, errors="replace")
    if _CONTROL.search(decoded):
        return 400
    if len(decoded) > MAX_WEB_PATH_CHARS:
        return 404
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in decoded.split("/")):
        return 404
    return None


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PREFIXES)


def install(app: Sanic) -> None:
    @app.on_request
    async def refuse_impossible_file_paths(request: Request):
        if is_web_path(request.path):
            status = web_path_problem(request.path)
            if status is not None:
                return text("Bad request" if status == 400 else "Not found", status=status)

    for uri, folder in _FOLDERS:
        app.static(uri, STATIC_DIR / folder, name=f"web_{folder.replace('/', '_')}", index="index.html")
    for uri, file in _PAGES:
        app.static(uri, STATIC_DIR / file, name=f"web_{Path(file).stem}", content_type="text/html; charset=utf-8")
    for uri, folder in VENDOR:
        if (NODE_MODULES / folder).is_dir():
            app.static(uri, NODE_MODULES / folder, name=f"vendor_{folder.split('/')[0].replace('.', '_')}")

    @app.get("/", name="web_root", error_format="html")
    async def root(request: Request):
        return redirect("/demo/da")

    @app.get("/console", name="web_console_slash", error_format="html")
    async def console_slash(request: Request):
        return redirect("/console/")

    @app.get("/supervisor", name="web_supervisor_slash", error_format="html")
    async def supervisor_slash(request: Request):
        return redirect("/supervisor/")

    @app.get("/editor", name="web_editor_slash", error_format="html")
    async def editor_slash(request: Request):
        return redirect("/editor/")
