import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from handoff_bridge.settings import Settings

GOOD = dict(
    env="production",
    rasa_token="a-real-rasa-token",
    fernet_key=Fernet.generate_key().decode(),
    database_url="postgresql+asyncpg://bridge@db/bridge",
    redis_url="redis://127.0.0.1:6379/0",
)


def test_production_accepts_real_configuration():
    assert Settings(**GOOD).env == "production"


@pytest.mark.parametrize("change", [
    {"rasa_token": ""}, {"rasa_token": "changeme"},
    {"fernet_key": "not-a-key"}, {"database_url": "sqlite+aiosqlite:///x.db"}, {"redis_url": None},
    {"cookie_secure": False},
])
def test_production_refuses_placeholders_and_embedded_mode(change):
    with pytest.raises(ValidationError):
        Settings(**{**GOOD, **change})


def test_production_refuses_development_defaults(monkeypatch):
    monkeypatch.delenv("HANDOFF_ENV", raising=False)
    with pytest.raises(ValidationError):
        Settings()


def test_development_runs_with_no_configuration():
    s = Settings(env="development")
    assert s.is_sqlite and s.redis_url is None and s.rasa_url == "http://127.0.0.1:5005"


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("HANDOFF_ENV", "development")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("HANDOFF_RASA_TIMEOUT_SECONDS", "2.5")
    s = Settings()
    assert s.rasa_url == "http://127.0.0.1:5999" and s.rasa_timeout_seconds == 2.5
