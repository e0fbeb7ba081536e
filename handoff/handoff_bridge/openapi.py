"""The OpenAPI document, generated from the route table and the routes' declarations.

Every API route declares what it takes and answers with `@operation`
(api/contract.py); the shapes are pydantic models (api/models.py for
requests, api/responses.py for replies). `build_document(app)` walks the
app's routes and puts the paths, their parameters and the models' JSON
schemas (components/schemas) into one document; a route without a
declaration is an error. The app serves the document at
/api/v1/openapi.json; `python -m handoff_bridge openapi` (make openapi)
writes it to openapi.yaml, which the tests keep in step with the code.

This module reads an app it is given and never creates one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import create_model

from .api.contract import CSV, Operation, operation_of
from .api.responses import Error
from .settings import SERVICE_DIR
from .web import is_web_path

OPENAPI_YAML = SERVICE_DIR / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
REF = "#/components/schemas/{model}"

INFO = {
    "title": "Handoff bridge API",
    "version": "1.0.0",
    "description": """\
The bridge between the citizen chat widget, the Rasa assistant and the
contact centre's agents. Every citizen message passes through it; it
decides whether the bot or an agent gets it.

* Citizen API: create a conversation (returns an unguessable token), send
  and receive messages over a websocket or HTTP (with long-polling), ask
  for a person, request a callback, rate the chat.
* Agent API: session login, queue and claims, transcript, replies,
  transfer, close with tags, hand back to the bot, callbacks, canned
  responses; a websocket with live updates.
* Service API: escalation from the Rasa action server.

Errors are always JSON: `{"error": {"code": "...", "message": "..."}}`.
Too many requests (messages per minute per conversation or address, new
conversations per address, failed logins) get 429 with `Retry-After`.
Agent requests that change state and are authenticated by the session
cookie must carry `X-Handoff-CSRF: 1` and come from the bridge's own
origin (403 `csrf_failed` otherwise). Every API response is
`Cache-Control: no-store` with `X-Content-Type-Options: nosniff` and a
`default-src 'none'` Content-Security-Policy.
Messages carry a per-conversation sequence number (`seq`); a client that
reconnects with its last seen `seq` gets everything it missed, in order,
exactly once.
""",
}
SERVERS = [{"url": "http://127.0.0.1:8080", "description": "Local run (`make run`)"}]
TAGS = [{"name": name} for name in ("citizen", "agent", "operations", "demo", "editor")]
SECURITY_SCHEMES = {
    "citizenToken": {"type": "http", "scheme": "bearer",
                     "description": "The conversation token returned when the conversation was created."},
    "agentSession": {"type": "apiKey", "in": "cookie", "name": "handoff_session",
                     "description": "Session cookie set by /api/v1/agent/login (Secure, HttpOnly, SameSite=Strict)."},
    "agentBearer": {"type": "http", "scheme": "bearer",
                    "description": "The same session token as the cookie, for non-browser clients."},
    "editorSession": {"type": "apiKey", "in": "cookie", "name": "handoff_editor_session",
                      "description": "Session cookie set by /api/v1/editor/login for editors (Path=/api/v1/editor; "
                                     "Secure, HttpOnly, SameSite=Strict). The token from the login's body works as a "
                                     "bearer token too (agentBearer)."},
}


class Undeclared(Exception):
    """An API route has no @operation."""


def api_routes(app) -> list[tuple[str, str, Any]]:
    """(method, OpenAPI path, handler) of every API route, with Sanic's <name:type> as {name}.

    The web pages and their static files (handoff_bridge/web.py) are not API
    operations and are left out.
    """
    if not app.router.finalized:
        app.router.finalize()
    out = []
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(?::[^>]+)?>", r"{\1}", route.path)
        if getattr(route.extra, "static", False) or is_web_path(path):
            continue
        for method in route.methods:
            if method.lower() in HTTP_METHODS:
                out.append((method.lower(), path, route.handler))
    return sorted(out, key=lambda r: (r[1], HTTP_METHODS.index(r[0])))


def route_operations(app) -> set[tuple[str, str]]:
    return {(method, path) for method, path, _ in api_routes(app)}


def document_operations(doc: dict) -> set[tuple[str, str]]:
    return {(m, p) for p, item in doc["paths"].items() for m in item if m in HTTP_METHODS}


def _schemas(shapes: list) -> tuple[list[dict], dict]:
    """The JSON schema of each shape, with the models they use as shared definitions."""
    container = create_model("Contract", **{f"s{i}": (shape, ...) for i, shape in enumerate(shapes)})
    schema = container.model_json_schema(ref_template=REF)
    return [schema["properties"][f"s{i}"] for i in range(len(shapes))], schema.get("$defs", {})


def _parameters(model, where: str, schema_of) -> list[dict]:
    params = []
    for name, prop in schema_of(model)["properties"].items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", None)
        param = {"name": name, "in": where}
        if where == "path" or name in schema_of(model).get("required", []):
            param["required"] = True
        if description:
            param["description"] = description
        param["schema"] = prop
        params.append(param)
    return params


def build_document(app) -> dict:
    routes = []
    for method, path, handler in api_routes(app):
        op = operation_of(handler)
        if op is None:
            raise Undeclared(f"{method.upper()} {path} has no @operation")
        routes.append((method, path, op))

    # Every shape once, in one schema run: shared models become components.
    shapes: list = [Error]
    for _, _, op in routes:
        for shape in (op.path, op.query, op.body, *(r.shape for r in op.responses.values())):
            if shape is not None and shape is not CSV and not any(shape is s for s in shapes):
                shapes.append(shape)
    schemas, components = _schemas(shapes)

    def schema_of(shape):
        index = next(i for i, s in enumerate(shapes) if s is shape)
        found = schemas[index]
        if "$ref" in found and set(found) == {"$ref"} and shape is not Error:
            return components[found["$ref"].rsplit("/", 1)[-1]]
        return found

    def ref_or_schema(shape) -> dict:
        return schemas[next(i for i, s in enumerate(shapes) if s is shape)]

    paths: dict[str, dict] = {}
    for method, path, op in routes:
        paths.setdefault(path, {})[method] = _operation(op, ref_or_schema, schema_of)
    components = {name: _untitled(schema) for name, schema in components.items()}
    paths = _untitled(paths)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": SERVERS,
        "tags": TAGS,
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "responses": {
                "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}},
                "NoContent": {"description": "Done, nothing to return"},
            },
            "schemas": dict(sorted(components.items())),
        },
        "paths": paths,
    }


def _untitled(node, in_properties: bool = False):
    """Without the titles pydantic gives every model and field (their names say it)."""
    if isinstance(node, dict):
        return {k: _untitled(v, k == "properties" and not in_properties)
                for k, v in node.items() if in_properties or not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    return node


def _operation(op: Operation, ref_or_schema, schema_of) -> dict:
    out: dict[str, Any] = {}
    if op.tags:
        out["tags"] = list(op.tags)
    out["summary"] = op.summary
    if op.description:
        out["description"] = op.description
    if op.security is not None:
        out["security"] = [{name: []} for name in op.security]
    params = []
    if op.path is not None:
        params += _parameters(op.path, "path", schema_of)
    if op.query is not None:
        params += _parameters(op.query, "query", schema_of)
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required,
                              "content": {"application/json": {"schema": ref_or_schema(op.body)}}}
    responses: dict[str, Any] = {}
    for status in sorted({*op.responses, *op.errors}):
        reply = op.responses.get(status)
        if reply is None:
            responses[str(status)] = {"$ref": "#/components/responses/Error"}
        elif reply.shape is None:
            responses[str(status)] = {"description": reply.description}
        elif reply.shape is CSV:
            responses[str(status)] = {"description": reply.description,
                                      "content": {"text/csv": {"schema": {"type": "string"}}}}
        else:
            content = {"application/json": {"schema": ref_or_schema(reply.shape)}}
            if reply.csv:
                content["text/csv"] = {"schema": {"type": "string"}}
            responses[str(status)] = {"description": reply.description, "content": content}
    out["responses"] = responses
    return out


def check(app, doc: dict | None = None) -> list[str]:
    """Differences between the app's API routes and a document (the committed openapi.yaml by default)."""
    doc = doc or load_document()
    routes, documented = route_operations(app), document_operations(doc)
    problems = [f"undocumented route: {m.upper()} {p}" for m, p in sorted(routes - documented)]
    problems += [f"documented but not routed: {m.upper()} {p}" for m, p in sorted(documented - routes)]
    return problems


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper, value: str):
    # Texts of several lines as YAML blocks, readable in review.
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(doc: dict) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def load_document(path: Path = OPENAPI_YAML) -> dict:
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
