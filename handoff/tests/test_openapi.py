"""The OpenAPI document is generated from the routes; openapi.yaml is that document, up to date."""

import pytest
from sanic import json

from handoff_bridge.api.contract import Reply, operation
from handoff_bridge.api.models import ConversationIdPath
from handoff_bridge.app import create_app
from handoff_bridge.openapi import OPENAPI_YAML, Undeclared, build_document, check, document_operations, load_document, render
from handoff_bridge.settings import Settings


def test_every_route_is_documented_and_every_documented_path_exists():
    app = create_app(Settings(env="development"), name="openapi_test")
    assert check(app) == []


def test_document_is_structurally_sound():
    doc = load_document()
    assert doc["openapi"].startswith("3.")
    assert len(document_operations(doc)) >= 39

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(doc):
        target = doc
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        assert target, ref
    for path, item in doc["paths"].items():
        for name in [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]:
            params = item.get("parameters", []) + [p for op in item.values() if isinstance(op, dict) for p in op.get("parameters", [])]
            resolved = [doc["components"]["parameters"][p["$ref"].split("/")[-1]] if "$ref" in p else p for p in params]
            assert any(p["name"] == name and p["in"] == "path" for p in resolved), (path, name)


async def test_document_is_served(client):
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.json()["info"]["title"] == "Handoff bridge API"


def test_committed_document_is_the_generated_one():
    app = create_app(Settings(env="development"), name="openapi_fresh")
    assert OPENAPI_YAML.read_text(encoding="utf-8") == render(build_document(app)), \
        "openapi.yaml is out of date: run `make -C handoff openapi`"


def test_a_route_without_a_declaration_is_refused():
    app = create_app(Settings(env="development"), name="openapi_undeclared")

    @app.get("/api/v1/undeclared")
    async def undeclared(request):
        return json({})

    with pytest.raises(Undeclared, match="GET /api/v1/undeclared"):
        build_document(app)


def test_shapes_come_from_the_models():
    app = create_app(Settings(env="development"), name="openapi_shapes")

    @app.get("/api/v1/example/<conversation_id:str>")
    @operation(summary="An example", path=ConversationIdPath, responses={200: Reply(None, "Done")}, errors=(404,))
    async def example(request, conversation_id):
        return json({})

    doc = build_document(app)
    op = doc["paths"]["/api/v1/example/{conversation_id}"]["get"]
    assert op["parameters"] == [{"name": "conversation_id", "in": "path", "required": True,
                                 "schema": {"maxLength": 64, "type": "string"}}]
    assert op["responses"] == {"200": {"description": "Done"}, "404": {"$ref": "#/components/responses/Error"}}
    body = doc["paths"]["/api/v1/citizen/conversations"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CreateConversationBody"}
    assert doc["components"]["schemas"]["CreateConversationBody"]["required"] == ["municipality", "language"]

