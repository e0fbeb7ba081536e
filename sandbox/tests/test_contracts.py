"""The OpenAPI contracts are valid, and the sandbox implements exactly them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from municipal_sandbox.app import create_app
from openapi_spec_validator import validate
from sanic import Sanic

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
FILES = ["payout-system.yaml", "case-system.yaml", "sms-gateway.yaml", "sandbox-admin.yaml"]
PERSONAL_PARAMETER_NAMES = {"national_id", "cpr", "personnummer", "recipient", "phone", "mobile_number"}


def load(name: str) -> dict:
    return yaml.safe_load((CONTRACTS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_contract_is_valid_openapi_3_1(name):
    spec = load(name)
    assert spec["openapi"] == "3.1.0"
    validate(spec)


@pytest.mark.parametrize("name", FILES)
def test_no_personal_data_in_paths_or_query_strings(name):
    spec = load(name)
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    continue
                if parameter["in"] in ("path", "query"):
                    assert parameter["name"] not in PERSONAL_PARAMETER_NAMES, (name, path)


@pytest.mark.parametrize("name", FILES)
def test_every_operation_requires_a_bearer_token(name):
    spec = load(name)
    schemes = spec["components"]["securitySchemes"]
    assert all(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    assert spec["security"]


def contract_operations() -> set[tuple[str, str]]:
    operations = set()
    for name in FILES:
        spec = load(name)
        prefix = "/" + spec["servers"][0]["url"].split("/", 3)[3]
        for path, items in spec["paths"].items():
            for method in items:
                operations.add((method.upper(), prefix + path.replace("{system}", "<system>")))
    return operations


def app_operations(app: Sanic) -> set[tuple[str, str]]:
    operations = set()
    for route in app.router.routes:
        path = "/" + route.path
        if "<custom_method:" in path:
            # "/x/<custom_method:cases:lookup>" -> "/x/cases:lookup"
            head, _, tail = path.partition("<custom_method:")
            path = head + tail.rstrip(">").replace("\\", "")
        path = path.replace("<system:str>", "<system>")
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                operations.add((method, path))
    return operations


def test_sandbox_routes_match_the_contracts(tmp_path):
    from conftest import make_settings

    Sanic.test_mode = True
    app = create_app(make_settings(tmp_path))
    app.router.finalize()
    implemented = app_operations(app) - {("GET", "/health")}
    assert implemented == contract_operations()
