"""Command line: `python -m handoff_bridge {serve,migrate,create-agent,purge,openapi,...}`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import sys

from .settings import SERVICE_DIR, Settings


def migrate(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    if settings.is_sqlite:
        db_path = settings.database_url.split(":///", 1)[-1]
        if db_path and db_path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
    cfg = Config(str(SERVICE_DIR / "alembic.ini"))
    cfg.attributes["settings"] = settings
    cfg.attributes["configure_logging"] = False
    command.upgrade(cfg, "head")


def serve(settings: Settings) -> None:
    from .app import create_app

    migrate(settings)
    app = create_app(settings, name="handoff")
    _tune_garbage_collection(app)
    # One process per instance; scale out by running more instances (state is
    # in the database, live events go through Redis).
    app.run(host=settings.host, port=settings.port, single_process=True, access_log=False,
            motd=False)


def _tune_garbage_collection(app) -> None:
    """Keep the cyclic garbage collector from pausing a busy instance.

    With Python's defaults, the messages in flight are promoted to the oldest
    generation, whose collections walk every object of the process (the
    modules and start-up state too) and stopped a relaying instance for
    60-140 ms several times a minute. Collecting the youngest generation less
    often lets in-flight objects die young; freezing what exists after
    start-up keeps it out of every later collection.
    """
    gc.set_threshold(10_000, 20, 20)

    @app.after_server_start
    async def freeze_startup_objects(_app):
        gc.collect()
        gc.freeze()


async def _create_agent(settings: Settings, args) -> None:
    from .api.models import NewAgentBody, validate
    from .resources import open_resources
    from .services import accounts as accounts_svc

    password = os.environ.get("HANDOFF_NEW_AGENT_PASSWORD") or getpass.getpass("Password: ")
    # The same rules as a supervisor's POST /api/v1/agent/agents.
    new = validate(NewAgentBody, {
        "login": args.login, "password": password, "display_name": args.name or args.login,
        "role": args.role, "capacity": args.capacity, "languages": args.languages.split(","),
        "municipalities": args.municipalities.split(","),
    })
    async with open_resources(settings, pool_size=1, fanout=False) as deps:
        agent = await accounts_svc.create_agent(deps, new)
    print(f"created agent {agent['id']} ({agent['login']}, {agent['role']})")


async def _knowledge(settings: Settings, command: str, directory) -> int:
    """knowledge-import / knowledge-export between a knowledge directory and the content store."""
    from pathlib import Path

    from .errors import ApiError
    from .resources import open_resources
    from .services import knowledge_files as kf
    from .services import publishing

    try:
        async with open_resources(settings, pool_size=2, fanout=False) as deps:
            if command == "knowledge-import":
                summary = await publishing.import_and_publish(deps, Path(directory).resolve())
                print(f"imported {summary['answers']} answers in {summary['categories']} categories: "
                      f"{summary['changed']} new or changed, {summary['withdrawn']} withdrawn; "
                      f"published as {summary['version']}")
            else:
                changed = await publishing.export_directory(deps, Path(directory).resolve())
                print(f"exported the published content to {directory}: {len(changed)} file(s) changed")
                for path in changed:
                    print(f"  {path}")
        return 0
    except ApiError as err:
        print(f"error: {err.message}", file=sys.stderr)
        for problem in err.extra.get("problems", [])[:200]:
            print(f"  {problem.get('file')}:{problem.get('line')}: {problem.get('message')}", file=sys.stderr)
        return 1
    except kf.FileProblem as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


async def _purge(settings: Settings) -> dict:
    """One retention run (the same the running service does every retention_interval_seconds)."""
    from .resources import open_resources
    from .services.retention import purge_expired

    # Through Redis, the running instances tell agents about chats that disappear.
    async with open_resources(settings, pool_size=2) as deps:
        return await purge_expired(deps)


def write_openapi(out: str, check: bool) -> int:
    """The OpenAPI document generated from the routes, written to `out` (or, with
    `check`, compared with it: 1 when it is out of date)."""
    from pathlib import Path

    from .app import create_app
    from .openapi import build_document, render

    app = create_app(Settings(env="development", _env_file=None), name="openapi")
    text = render(build_document(app))
    path = Path(out)
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date: run `make -C handoff openapi`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="handoff_bridge")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run migrations, then serve")
    sub.add_parser("migrate", help="alembic upgrade head")
    ca = sub.add_parser("create-agent", help="create an agent, supervisor or editor (password from HANDOFF_NEW_AGENT_PASSWORD or prompt)")
    ca.add_argument("login")
    ca.add_argument("--name")
    ca.add_argument("--role", choices=["agent", "supervisor", "editor"], default="agent",
                    help="editor: the answer editor and review inbox only (no chats)")
    ca.add_argument("--capacity", type=int, default=3)
    ca.add_argument("--languages", default="da")
    ca.add_argument("--municipalities", default="*")
    ki = sub.add_parser("knowledge-import", help="validate knowledge/*.yml and make them the content store's published content and the live publication")
    ki.add_argument("--from", dest="directory", default="../knowledge")
    ke = sub.add_parser("knowledge-export", help="write the published content to knowledge/*.yml (unchanged files stay as they are)")
    ke.add_argument("--to", dest="directory", default="../knowledge")
    sub.add_parser("purge", help="delete conversations older than HANDOFF_RETENTION_DAYS and retry pending Rasa deletions")
    oa = sub.add_parser("openapi", help="write the OpenAPI document generated from the routes")
    oa.add_argument("out", nargs="?", default=str(SERVICE_DIR / "openapi.yaml"))
    oa.add_argument("--check", action="store_true", help="only compare: exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    if args.command == "openapi":
        return write_openapi(args.out, args.check)
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("sanic").propagate = False
    from .log_redaction import install_url_redaction
    from .privacy import install_log_masking

    install_log_masking()
    install_url_redaction()
    if args.command == "migrate":
        migrate(settings)
    elif args.command == "serve":
        serve(settings)
    elif args.command == "purge":
        import json

        print(json.dumps(asyncio.run(_purge(settings)), sort_keys=True))
    elif args.command in ("knowledge-import", "knowledge-export"):
        migrate(settings)
        return asyncio.run(_knowledge(settings, args.command, args.directory))
    elif args.command == "create-agent":
        from .errors import ApiError

        migrate(settings)  # also before the bridge has ever run
        try:
            asyncio.run(_create_agent(settings, args))
        except ApiError as err:
            print(f"error: {err.message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
