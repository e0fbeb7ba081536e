"""Writes the Procfile `make run` starts (honcho): the sandbox, the bridge and
N Rasa servers, each with its own action server.

Every Rasa instance calls its own action server first and the others when it
cannot be reached; the bridge spreads conversations over the Rasa instances
(HANDOFF_RASA_URL lists them). Several instances need shared stores:
`--endpoints deploy/production/endpoints.yml` (PostgreSQL tracker store,
Redis lock store). The embedded default (SQLite tracker store, in-process
lock store) runs one instance: SQLite cannot be shared safely by several
writers, and an in-process lock does not serialise a conversation's messages
across processes.

Usage: python scripts/procfile.py --instances 2 --endpoints deploy/production/endpoints.yml > var/Procfile
"""

from __future__ import annotations

import argparse
import os
import sys

EMBEDDED = "endpoints.yml"
RASA_PORT = 5005
ACTION_PORT = 5055
# Ports of instance i: 5005 + i (Rasa), 5055 + i (actions); up to 50 instances.
PORT_STEP = 1


def default_instances(endpoints: str) -> int:
    return 1 if os.path.normpath(endpoints) == EMBEDDED else (os.cpu_count() or 1)


def procfile(instances: int, endpoints: str) -> str:
    action_urls = [f"http://127.0.0.1:{ACTION_PORT + PORT_STEP * i}/webhook" for i in range(instances)]
    rasa_urls = ",".join(f"http://127.0.0.1:{RASA_PORT + PORT_STEP * i}" for i in range(instances))
    lines = [
        "# Written by scripts/procfile.py (make run); edit that script, not this file.",
        "sandbox: cd sandbox && SANDBOX_ENV=development .venv/bin/python -m municipal_sandbox",
    ]
    for i in range(instances):
        own, others = action_urls[i], ",".join(u for u in action_urls if u != action_urls[i])
        env = f'ACTION_SERVER_URL={own} ACTION_SERVER_FALLBACK_URLS="{others}"'
        lines.append(
            f"actions{i + 1}: SANIC_HOST=127.0.0.1 .venv/bin/python -m rasa_addons.action_server "
            f"--actions actions --port {ACTION_PORT + PORT_STEP * i}"
        )
        lines.append(
            f"rasa{i + 1}: {env} .venv/bin/python -m rasa_addons.server run --model models/ddh.tar.gz "
            f"--interface 127.0.0.1 --port {RASA_PORT + PORT_STEP * i} --enable-api "
            f'--auth-token "$RASA_TOKEN" --credentials credentials.yml --endpoints {endpoints}'
        )
    lines.append(
        f"bridge: cd handoff && HANDOFF_ENV=development HANDOFF_COOKIE_SECURE=false HANDOFF_RASA_URL={rasa_urls} "
        ".venv/bin/python -m handoff_bridge serve"
    )
    # Prints the addresses to open once every service answers.
    lines.append("ready: python3 -u scripts/announce_ready.py")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", default=EMBEDDED)
    parser.add_argument("--instances", type=int, default=0,
                        help="Rasa instances (default: 1 on the embedded default, else the number of cores)")
    args = parser.parse_args()
    instances = args.instances or default_instances(args.endpoints)
    if not 1 <= instances <= ACTION_PORT - RASA_PORT:
        parser.error(f"--instances must be 1-{ACTION_PORT - RASA_PORT}")
    if instances > 1 and os.path.normpath(args.endpoints) == EMBEDDED:
        sys.exit(
            "Several Rasa instances need shared stores: the embedded default's SQLite tracker store and "
            "in-process lock store serve one instance. Use RASA_ENDPOINTS=deploy/production/endpoints.yml "
            "with PostgreSQL and Redis (RASA_DB_*, REDIS_* in var/local.env)."
        )
    sys.stdout.write(procfile(instances, args.endpoints))


if __name__ == "__main__":
    main()
