"""The demo pages' demo sign-in: development only, a generated key, tokens
the action server's verification (actions/login.py) accepts."""

import subprocess
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from handoff_bridge.settings import Settings


@pytest.fixture
def demo_key(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "demo-login-key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return key, path


@pytest.fixture
def bridge_overrides(demo_key):
    return {"demo_login_key_file": demo_key[1]}


async def test_a_demo_token_is_signed_with_the_generated_key(client, demo_key):
    status = await client.get("/api/v1/demo/login")
    assert status.status_code == 200 and status.json()["enabled"] is True
    resp = await client.post("/api/v1/demo/login", json={"national_id": "1503851112"})
    assert resp.status_code == 201
    claims = jwt.decode(resp.json()["token"], demo_key[0].public_key(), algorithms=["ES256"], audience="ddh-chat",
                        issuer="https://demo-login.invalid")
    assert claims["national_id"] == "1503851112" and claims["country"] == "DK" and claims["demo"] is True
    assert claims["exp"] - claims["iat"] == 600
    swedish = await client.post("/api/v1/demo/login", json={"national_id": "198503155684"})
    assert jwt.decode(swedish.json()["token"], options={"verify_signature": False})["country"] == "SE"


async def test_a_demo_token_needs_a_fictitious_number_of_the_right_length(client):
    for body in ({}, {"national_id": "150385-1112"}, {"national_id": 1503851112}, {"national_id": "1" * 11}):
        resp = await client.post("/api/v1/demo/login", json=body)
        assert resp.status_code == 400, body


@pytest.mark.parametrize("bridge_overrides", [{}], indirect=False)
async def test_without_a_key_there_is_no_demo_sign_in(client, bridge_overrides):
    status = await client.get("/api/v1/demo/login")
    assert status.status_code == 200 and status.json() == {"enabled": False}
    assert (await client.post("/api/v1/demo/login", json={"national_id": "1503851112"})).status_code == 404


def test_production_refuses_a_demo_key(tmp_path):
    with pytest.raises(ValueError, match="demo_login_key_file"):
        Settings(env="production", demo_login_key_file=tmp_path / "k.pem",
                 rasa_token="r" * 32, fernet_key="ZGV2LW9ubHktZmVybmV0LWtleS1kby1ub3QtdXNlISE=")


def test_local_env_generates_a_fresh_key_pair(tmp_path):
    """scripts/local_env.sh writes a private key for the bridge and its public key for the action server."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    script = Path(__file__).resolve().parents[3] / "scripts" / "local_env.sh"
    (repo / "scripts" / "local_env.sh").write_text(script.read_text())
    for _ in range(2):
        subprocess.run(["bash", str(repo / "scripts" / "local_env.sh")], check=True, capture_output=True, timeout=30)
    env = dict(line.split("=", 1) for line in (repo / "var" / "local.env").read_text().splitlines() if "=" in line)
    private = serialization.load_pem_private_key(open(env["HANDOFF_DEMO_LOGIN_KEY_FILE"], "rb").read(), None)
    public = serialization.load_pem_public_key(open(env["IDENTITY_JWT_KEY_FILE"], "rb").read())
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert public.public_numbers() == private.public_key().public_numbers()
    assert env["IDENTITY_JWT_AUDIENCE"] == "ddh-chat" and env["IDENTITY_JWT_ISSUER"] == "https://demo-login.invalid"
    assert (repo / "var" / "demo-login-key.pem").stat().st_mode & 0o077 == 0
