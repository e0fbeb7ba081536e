"""The action server with masked logs: `python -m rasa_addons.action_server
--actions actions --port 5055` takes rasa_sdk's arguments."""

from __future__ import annotations

from rasa_addons import log_masking


def main() -> None:
    log_masking.install()
    from rasa_sdk.__main__ import main as rasa_sdk_main

    rasa_sdk_main()


if __name__ == "__main__":
    main()
