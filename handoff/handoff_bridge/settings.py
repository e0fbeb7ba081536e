"""One settings object, read from HANDOFF_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = SERVICE_DIR.parent
DEFAULT_SQLITE_PATH = SERVICE_DIR / "var" / "handoff.db"

# Values that mean "somebody forgot to configure this".
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "token", "xxx", "todo", "placeholder"}

# Fixed keys so a laptop run works with no configuration at all. They are
# refused outside development (see _check_secrets).
_DEV_RASA_TOKEN = "dev-rasa-token"
_DEV_FERNET_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1kby1ub3QtdXNlISE="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HANDOFF_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = 8080

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    # PostgreSQL only: schema to use (tests give every run its own).
    db_schema: str | None = None
    db_pool_size: int = 10
    # PostgreSQL: citizen-message transactions (group commits) in flight at once.
    writer_lanes: int = Field(4, ge=1, le=32)

    # Redis pub/sub fan-out between instances; empty = in-process fan-out.
    redis_url: str | None = None
    redis_channel_prefix: str = "handoff"

    # One Rasa instance, or several separated by commas (they must share the
    # tracker store and lock store: deploy/production/endpoints.yml).
    rasa_url: str = Field("http://127.0.0.1:5005", validation_alias=AliasChoices("HANDOFF_RASA_URL", "RASA_URL"))
    # With several instances: how often each one's health is checked.
    rasa_health_interval_seconds: float = Field(1.0, gt=0, le=30)
    rasa_token: str = Field(_DEV_RASA_TOKEN, validation_alias=AliasChoices("HANDOFF_RASA_TOKEN", "RASA_TOKEN"))
    # Bound on a bot turn: the citizen hears back within 5 s even when Rasa hangs.
    rasa_timeout_seconds: float = Field(4.0, gt=0, le=4.0)

    fernet_key: str = _DEV_FERNET_KEY

    cookie_secure: bool = True
    session_ttl_seconds: int = 12 * 3600
    cors_origins: list[str] = Field(default_factory=list)

    max_message_chars: int = 2000
    max_summary_chars: int = 500
    request_max_size: int = 64 * 1024
    websocket_max_size: int = 16 * 1024
    long_poll_max_seconds: float = 25.0

    queues_config: Path = SERVICE_DIR / "config" / "queues.yml"
    tags_config: Path = SERVICE_DIR / "config" / "tags.yml"

    # Citizen timeouts: silent with a live connection, or gone altogether.
    citizen_inactivity_seconds: int = 900
    citizen_leave_grace_seconds: int = 120
    # Agents count as online while their websocket heartbeats are this fresh.
    agent_presence_ttl_seconds: int = 60
    sweeper_interval_seconds: float = 5.0
    # Queue-position broadcasts are coalesced over this window.
    queue_update_delay_seconds: float = 0.1
    # Topics that mean the bot did not understand; counted per conversation
    # (the bot itself offers a person after repeated misunderstanding).
    fallback_topics: list[str] = Field(default_factory=lambda: ["nlu_fallback", "out_of_scope"])
    # Insight: conversation outcomes are brought up to date this often (and before each report).
    insight_refresh_seconds: float = Field(60.0, ge=1.0)

    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    password_time_cost: int = 3
    password_memory_kib: int = 65536

    # Retention: conversations with no activity for this many days are deleted
    # (with their messages, queue entries, callbacks, ratings) by the job that
    # runs every retention_interval_seconds on each instance, or by `purge`.
    retention_days: int = Field(30, ge=1, le=3650)
    retention_interval_seconds: float = Field(3600.0, gt=0)
    # Audit entries (who opened which conversation) are kept longer: they hold no content.
    audit_retention_days: int = Field(1825, ge=1)
    # Bound on the call that asks Rasa to delete a conversation's tracker.
    rasa_delete_timeout_seconds: float = Field(5.0, gt=0)

    # Agent login throttling (failures counted in the database, so across instances).
    login_max_failures: int = Field(5, ge=1)
    login_address_max_failures: int = Field(30, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    login_lockout_seconds: int = Field(900, ge=1)

    # Rate limits (0 = off). Counted in Redis when configured (shared by the
    # instances), otherwise in the process (development, one instance).
    messages_per_minute_per_conversation: int = Field(30, ge=0)
    messages_per_minute_per_address: int = Field(120, ge=0)
    conversations_per_minute_per_address: int = Field(20, ge=0)
    websockets_per_address: int = Field(50, ge=0)
    # Reverse proxies in front of the bridge whose X-Forwarded-For is trusted
    # (the client address for the limits above); 0 = use the peer address.
    proxies_count: int = Field(0, ge=0, le=5)
    # Strict-Transport-Security max-age outside development (0 = header off).
    hsts_seconds: int = Field(31536000, ge=0)

    # Demo sign-in of the demo pages (development only, api/demo.py): the
    # PEM EC P-256 private key that signs test login tokens, generated by
    # scripts/local_env.sh; the action server trusts its public key. Unset: off.
    demo_login_key_file: Path | None = None
    demo_login_issuer: str = "https://demo-login.invalid"
    demo_login_audience: str = "ddh-chat"

    # The knowledge base (services/knowledge.py). The engine that validates,
    # evaluates and publishes content is rasa_addons.knowledge in the
    # assistant's environment, run as this command (split like a shell would).
    knowledge_command: str = f"{REPO_DIR / '.venv' / 'bin' / 'python'} -m rasa_addons.knowledge"
    # The repository's content files: imported when the store is empty at start.
    knowledge_dir: Path = REPO_DIR / "knowledge"
    # The publication directory the assistant reads (its DDH_KNOWLEDGE_INDEX).
    knowledge_index: Path = Field(REPO_DIR / "var" / "knowledge",
                                  validation_alias=AliasChoices("HANDOFF_KNOWLEDGE_INDEX", "DDH_KNOWLEDGE_INDEX"))
    # The catalogue's held-out sets the publish gate evaluates (tests/nlu/<language>.yml).
    knowledge_heldout_dir: Path = REPO_DIR / "tests" / "nlu"
    # Bound on one engine run (validate, gate, publish).
    knowledge_timeout_seconds: float = Field(300.0, gt=0, le=3600)
    # Import knowledge_dir into the content store at start when the store is empty.
    knowledge_import_on_start: bool = True
    # How long a publish may hold the publish lease before another instance may take it.
    knowledge_publish_lease_seconds: int = Field(900, ge=30, le=7200)

    log_level: str = "INFO"

    @property
    def knowledge_index_path(self) -> Path:
        path = Path(self.knowledge_index)
        return path if path.is_absolute() else REPO_DIR / path

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @model_validator(mode="after")
    def _check_secrets(self) -> "Settings":
        if self.is_development:
            return self
        problems = []
        for name, dev_value in (
            ("rasa_token", _DEV_RASA_TOKEN),
            ("fernet_key", _DEV_FERNET_KEY),
        ):
            value = getattr(self, name)
            if value.strip().lower() in _PLACEHOLDERS or value == dev_value:
                problems.append(f"{name} is empty or a placeholder")
        if not self.cookie_secure:
            problems.append("cookie_secure may only be off in development")
        if self.is_sqlite:
            problems.append("production needs PostgreSQL (database_url)")
        if not self.redis_url:
            problems.append("production needs Redis (redis_url) for fan-out")
        if self.demo_login_key_file:
            problems.append("demo_login_key_file (the demo sign-in) may only be set in development")
        if problems:
            raise ValueError("; ".join(problems) + " (set HANDOFF_ENV=development for a local run)")
        return self

    @model_validator(mode="after")
    def _check_fernet(self) -> "Settings":
        try:
            Fernet(self.fernet_key.encode())
        except Exception as exc:  # noqa: BLE001 - any parse error means a bad key
            raise ValueError("fernet_key is not a valid Fernet key") from exc
        return self


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
