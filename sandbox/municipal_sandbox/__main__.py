"""Run the sandbox: python -m municipal_sandbox (settings from the environment)."""

from __future__ import annotations

import sys

from . import logmask
from .app import create_app
from .settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except SettingsError as error:
        print(f"municipal_sandbox: configuration error: {error}", file=sys.stderr)
        return 2
    # Records of loggers outside Sanic's configuration are masked too.
    logmask.install()
    # One process: the failure switch and the delivery worker live in memory.
    app.run(
        host=settings.host,
        port=settings.port,
        single_process=True,
        access_log=settings.access_log,
        motd=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
