"""The hand-maintained OpenAPI document (openapi.yaml), checked against the routes.

`python -m handoff_bridge.openapi [out.json]` verifies that every route is
documented and every documented path exists, then writes the JSON form.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from .settings import SERVICE_DIR

OPENAPI_YAML = SERVICE_DIR / "openapi.yaml"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def load_document(path: Path = OPENAPI_YAML) -> dict:
    # libyaml when PyYAML has it: the document is read at every app start.
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def route_operations(app) -> set[tuple[str, str]]:
    """(method, path) of every API route, with Sanic's <name:type> turned into {name}.

    The web pages and their static files (handoff_bridge/web.py) are not API
    operations and are left out.
    """
    from .web import is_web_path

    if not app.router.finalized:
        app.router.finalize()
    ops = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(?::[^>]+)?>", r"{\1}", route.path)
        if getattr(route.extra, "static", False) or is_web_path(path):
            continue
        for method in route.methods:
            if method.lower() in HTTP_METHODS:
                ops.add((method.lower(), path))
    return ops


def document_operations(doc: dict) -> set[tuple[str, str]]:
    return {(m, p) for p, item in doc["paths"].items() for m in item if m in HTTP_METHODS}


def check(app, doc: dict | None = None) -> list[str]:
    doc = doc or load_document()
    routes, documented = route_operations(app), document_operations(doc)
    problems = [f"undocumented route: {m.upper()} {p}" for m, p in sorted(routes - documented)]
    problems += [f"documented but not routed: {m.upper()} {p}" for m, p in sorted(documented - routes)]
    return problems


def main(argv: list[str]) -> int:
    from .app import create_app
    from .settings import Settings

    out = Path(argv[0]) if argv else SERVICE_DIR / "openapi.json"
    app = create_app(Settings(env="development"), name="openapi_check")
    doc = load_document()
    problems = check(app, doc)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(document_operations(doc))} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
