"""The action server: rasa_sdk's, with masked logs, a shared token and a local address.

`python -m rasa_addons.action_server --actions actions --port 5055` takes
rasa_sdk's arguments. Every request except `GET /health` must carry
`Authorization: Bearer $ACTION_SERVER_TOKEN` (Rasa sends it: endpoints.yml,
`action_endpoint.headers`); without it the server answers 401, so nobody on
the host can run actions with the action server's credentials. It listens on
127.0.0.1 unless SANIC_HOST says otherwise.
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Optional

from rasa_addons import log_masking

TOKEN_ENV = "ACTION_SERVER_TOKEN"
HOST_ENV = "SANIC_HOST"
DEFAULT_HOST = "127.0.0.1"
MIN_TOKEN_CHARS = 24
# Liveness checks come from process managers that hold no secret.
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)


def action_server_token(env: Optional[dict] = None) -> str:
    """The shared token, refusing to start without a usable one."""
    token = (os.environ if env is None else env).get(TOKEN_ENV, "")
    if len(token) < MIN_TOKEN_CHARS:
        raise SystemExit(
            f"{TOKEN_ENV} must be set to a random value of at least {MIN_TOKEN_CHARS} "
            "characters (scripts/local_env.sh generates one)."
        )
    return token


def require_token(app, token: str) -> None:
    """Refuse every request without the shared bearer token, except the health check."""
    from sanic import response

    expected = token.encode()

    @app.on_request
    async def authenticate(request):
        if request.path in OPEN_PATHS:
            return None
        scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(supplied.encode(), expected):
            return None
        return response.json({"error": "missing or invalid bearer token"}, status=401)


def main() -> None:
    log_masking.install()
    from rasa_sdk import endpoint
    from rasa_sdk.__main__ import main as rasa_sdk_main

    token = action_server_token()
    # rasa_sdk binds to 0.0.0.0 by default; this server is for Rasa on the same host.
    os.environ.setdefault(HOST_ENV, DEFAULT_HOST)
    create_app = endpoint.create_app

    def create_authenticated_app(*args, **kwargs):
        app = create_app(*args, **kwargs)
        require_token(app, token)
        return app

    # rasa_sdk's run() builds its app through this module attribute.
    endpoint.create_app = create_authenticated_app
    rasa_sdk_main()


if __name__ == "__main__":
    main()
