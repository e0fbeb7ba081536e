#!/usr/bin/env python3
"""Insight benchmark: a year of generated traffic in PostgreSQL, every insight
endpoint timed for a year and for a week.

1. Creates a schema of its own in the PostgreSQL database (default
   postgresql+asyncpg://postgres@127.0.0.1:5432/test), migrates it, and loads
   --messages generated messages (default 1,000,000) with their conversations,
   escalations, claims, closures with tags and ratings over the last 365 days,
   for several municipalities in Danish and Swedish, with COPY.
2. Computes every conversation's outcome (services/outcomes.py, the backfill a
   new installation does once), then times a refresh with nothing to do and
   one after new messages (what the refresher does every minute).
3. Starts the bridge on that schema and times, through HTTP with a supervisor
   session, the insight report and each CSV export for the last 365 days and
   the last 7 days, unfiltered and for one municipality and one topic: the
   first (cold) call and the median of --repeat calls. The target is 2 s each.

The schema is dropped at the end (--keep keeps it). Run with the bridge's
virtualenv: `make -C handoff bench-insight` or
`handoff/.venv/bin/python bench/insight.py --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
SERVICE_DIR = HERE.parent / "handoff"
sys.path.insert(0, str(SERVICE_DIR))

HOST = "127.0.0.1"
PASSWORD = "bench password " + secrets.token_hex(4)
SUPERVISOR = "bench-sup-" + secrets.token_hex(3)
UTC = dt.timezone.utc

MUNICIPALITIES = {"da": ["101", "147", "751", "461"], "sv": ["1480", "1280", "0180"]}
FAQ_TOPICS = {
    "da": ["mitid_get", "mitid_new_phone", "mitid_forgot_user_id", "digital_post_read", "moving", "passport",
           "health_card", "drivers_license", "housing_benefit", "payout_dates", "childcare_place", "opening_hours"],
    "sv": ["bankid_get", "bankid_new_phone", "digital_mailbox", "moving", "passport", "housing_benefit",
           "building_permit", "parking_permit", "childcare_place", "opening_hours"],
}
PERSONAL_TOPICS = ["payout_inquiry", "case_status_inquiry"]
TAGS = ["borgerservice.pas", "borgerservice.flytning", "digital.mitid", "ydelser.boligstoette", "viderestillet",
        "uden.svar"]
HELPFUL = {"buttons": [{"title": "Ja", "payload": "/affirm"}, {"title": "Nej", "payload": "/deny"}]}
UNANSWERED = ["kan jeg få hjælp til min skat", "hvornår kommer skraldebilen", "what is the weather", "hej hej",
              "jeg har mistet min cykel", "hur söker jag bygglov för altan", "hvad koster det", "???",
              "kan I ringe til mig", "min mor er syg"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_time(rng: random.Random, first_day: dt.date, days: int) -> dt.datetime:
    """Office-hours heavy: most conversations start on weekdays between 8 and 20."""
    while True:
        day = first_day + dt.timedelta(days=rng.randrange(days))
        weekend = day.weekday() >= 5
        hour = int(rng.triangular(6, 23, 11)) if not weekend else rng.randrange(0, 24)
        if weekend and rng.random() < 0.6:
            continue
        return dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=UTC)


def conversation_script(rng: random.Random, language: str) -> tuple[list[tuple], str | None]:
    """(sender, text, topic, payload) rows and an escalation reason (or None)."""
    faq = FAQ_TOPICS[language]
    rows: list[tuple] = [("citizen", "Hej", None, None), ("bot", "Hej! Hvad kan jeg hjælpe med?", "greet", None)]
    kind = rng.random()
    escalation = None
    topic = rng.choice(faq)
    if kind < 0.40:  # answered, "did it help?" yes or not answered
        rows += [("citizen", f"spørgsmål om {topic}", None, None), ("bot", f"Svar om {topic} ...", topic, None),
                 ("bot", "Hjalp svaret dig?", topic, HELPFUL)]
        if rng.random() < 0.7:
            rows += [("citizen", "Ja", None, {"payload": "/affirm"}), ("bot", "Dejligt!", "affirm", None)]
        rows += [("citizen", "tak", None, None), ("bot", "Det var så lidt!", "thank_you", None)]
    elif kind < 0.52:  # not helpful
        rows += [("citizen", f"spørgsmål om {topic}", None, None), ("bot", f"Svar om {topic} ...", topic, None),
                 ("bot", "Hjalp svaret dig?", topic, HELPFUL), ("citizen", "Nej", None, {"payload": "/deny"}),
                 ("bot", "Det er jeg ked af.", "deny", None)]
        if rng.random() < 0.5:
            escalation = "not_helpful"
    elif kind < 0.64:  # fallback, clarification, maybe answered
        rows += [("citizen", rng.choice(UNANSWERED), None, None), ("bot", "Jeg er ikke helt sikker ...", "nlu_fallback", None)]
        if rng.random() < 0.5:
            rows += [("citizen", f"spørgsmål om {topic}", None, None), ("bot", f"Svar om {topic} ...", topic, None)]
        elif rng.random() < 0.5:
            rows += [("citizen", rng.choice(UNANSWERED), None, None), ("bot", "Jeg forstår stadig ikke.", "nlu_fallback", None)]
            escalation = "repeated_fallback"
    elif kind < 0.74:  # personal topic with identity check
        personal = rng.choice(PERSONAL_TOPICS)
        rows += [("citizen", "hvornår får jeg penge", None, None),
                 ("bot", "Skriv dit CPR-nummer.", personal, {"response": "ask_national_id"})]
        if rng.random() < 0.8:
            ok = rng.random() < 0.75
            rows += [("citizen", "######-####", None, None),
                     ("bot", "Din næste udbetaling ..." if ok else "Systemet kunne ikke bruge nummeret.", personal,
                      None if ok else {"response": "national_id_rejected"})]
    elif kind < 0.80:  # repeated question
        rows += [("citizen", f"spørgsmål om {topic}", None, None), ("bot", f"Svar om {topic} ...", topic, None),
                 ("citizen", f"men {topic}?", None, None), ("bot", f"Svar om {topic} ...", topic, None)]
    else:  # asks for a person
        rows += [("citizen", f"spørgsmål om {topic}", None, None), ("bot", f"Svar om {topic} ...", topic, None),
                 ("citizen", "Tal med en medarbejder", None, {"payload": "bridge:handoff"})]
        escalation = "citizen_request"
    if escalation:
        rows += [("system", "Du er i kø.", None, None), ("agent", "Hej, jeg hjælper dig.", None, None),
                 ("citizen", "tak", None, None), ("agent", "Selv tak.", None, None)]
    return rows, escalation


async def generate(dsn: str, schema: str, target_messages: int, seed: int) -> dict:
    rng = random.Random(seed)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        agent_ids = []
        for i in range(20):
            agent_ids.append(await conn.fetchval(
                "INSERT INTO agents (login, display_name, password_hash, role, status, capacity, languages, "
                "municipalities, active, created_at) VALUES ($1, $2, 'x', 'agent', 'offline', 3, '[\"da\",\"sv\"]', "
                "'[\"*\"]', true, now()) RETURNING id", f"bench-agent-{i}", f"Agent {i}"))
        today = dt.datetime.now(UTC).date()
        first_day = today - dt.timedelta(days=364)
        conversations, messages, escalations, claims, closures, closure_tags, ratings = [], [], [], [], [], [], []
        message_id = escalation_id = closure_id = 0
        n = 0
        while len(messages) < target_messages:
            n += 1
            language = "da" if rng.random() < 0.65 else "sv"
            municipality = rng.choice(MUNICIPALITIES[language])
            start = start_time(rng, first_day, 365)
            rows, reason = conversation_script(rng, language)
            cid = f"b{n:031x}"
            t = start
            for seq, (sender, text, topic, payload) in enumerate(rows, start=1):
                t += dt.timedelta(seconds=rng.randint(3, 40))
                message_id += 1
                messages.append((message_id, cid, seq, sender, text, json.dumps(payload) if payload else None, topic,
                                 0.9 if topic else None, t))
            end = t
            agent_closed = False
            if reason:
                escalation_id += 1
                enqueued = start + dt.timedelta(seconds=60)
                served = rng.random() < 0.85
                wait = rng.expovariate(1 / 150) if served else None
                agent = rng.choice(agent_ids)
                status = "done" if served else "abandoned"
                assigned = enqueued + dt.timedelta(seconds=wait) if served else None
                escalations.append((escalation_id, cid, "da-general" if language == "da" else "sv-general", reason,
                                    status, enqueued, agent if served else None, assigned, end, enqueued))
                if served:
                    claims.append((escalation_id, escalation_id, cid, agent, assigned, end, "closed"))
                    closure_id += 1
                    closures.append((closure_id, cid, agent, "agent_closed", end))
                    for tag in rng.sample(TAGS, rng.randint(1, 2)):
                        closure_tags.append((closure_id, tag))
                    agent_closed = True
                    if rng.random() < 0.55:
                        ratings.append((cid, max(1, min(9, int(rng.gauss(7.4, 1.6)))), end + dt.timedelta(minutes=1)))
            conversations.append((cid, secrets.token_hex(32), municipality, language, "closed", len(rows), 0,
                                  "agent_closed" if agent_closed else "citizen_inactive", start, end, end, end, end,
                                  end, None))
        t0 = time.perf_counter()
        await conn.copy_records_to_table("conversations", records=conversations, columns=[
            "id", "token_hash", "municipality", "language", "mode", "last_seq", "consecutive_fallbacks",
            "close_reason", "created_at", "updated_at", "closed_at", "citizen_active_at", "citizen_seen_at",
            "last_message_at", "timed_out_at"])
        await conn.copy_records_to_table("messages", records=messages, columns=[
            "id", "conversation_id", "seq", "sender", "text", "payload", "topic", "confidence", "created_at"])
        await conn.copy_records_to_table("escalations", records=escalations, columns=[
            "id", "conversation_id", "queue_name", "reason", "status", "enqueued_at", "assigned_agent_id",
            "assigned_at", "ended_at", "created_at"])
        await conn.copy_records_to_table("claims", records=claims, columns=[
            "id", "escalation_id", "conversation_id", "agent_id", "started_at", "ended_at", "end_reason"])
        await conn.copy_records_to_table("closures", records=closures, columns=[
            "id", "conversation_id", "agent_id", "reason", "created_at"])
        await conn.copy_records_to_table("closure_tags", records=closure_tags, columns=["closure_id", "tag_code"])
        await conn.copy_records_to_table("ratings", records=ratings, columns=["conversation_id", "score", "created_at"])
        for table, column in (("messages", "id"), ("escalations", "id"), ("claims", "id"), ("closures", "id")):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                               f"(SELECT coalesce(max({column}), 1) FROM {table}))")
        await conn.execute("ANALYZE")
        copy_seconds = time.perf_counter() - t0
    finally:
        await conn.close()
    return {"conversations": len(conversations), "messages": len(messages), "escalations": len(escalations),
            "closures": len(closures), "ratings": len(ratings), "copy_seconds": round(copy_seconds, 2)}


class _Deps:
    """What services.outcomes needs, without starting a bridge."""

    def __init__(self, settings):
        from handoff_bridge.config_files import load_queues
        from handoff_bridge.db.engine import make_engine, make_sessionmaker

        self.settings = settings
        self.engine = make_engine(settings)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.queues = {q.name: q for q in load_queues(settings.queues_config)}


async def sync_reference_tables(settings) -> None:
    """Queues and tags, as the bridge writes them at start-up (the generated rows refer to them)."""
    from handoff_bridge.config_files import load_queues, load_tags
    from handoff_bridge.services.setup import sync_config

    deps = _Deps(settings)
    try:
        await sync_config(deps.sessionmaker, load_queues(settings.queues_config), load_tags(settings.tags_config))
    finally:
        await deps.engine.dispose()


async def refresh_timings(settings, dsn: str, schema: str) -> dict:
    from handoff_bridge.services import outcomes

    deps = _Deps(settings)
    try:
        t0 = time.perf_counter()
        computed = await outcomes.refresh(deps)
        backfill = time.perf_counter() - t0
        t0 = time.perf_counter()
        nothing = await outcomes.refresh(deps)
        idle = time.perf_counter() - t0
        # What the background refresher does every minute: compare every conversation with its row.
        t0 = time.perf_counter()
        nothing += await outcomes.refresh(deps, full=True)
        idle_full = time.perf_counter() - t0
        # A minute of busy traffic: 1,000 conversations get a new message each.
        conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM conversations ORDER BY random() LIMIT 1000")]
            await conn.execute(
                "WITH bumped AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ANY($1::text[]) "
                "RETURNING id, last_seq, last_message_at) "
                "INSERT INTO messages (conversation_id, seq, sender, text, created_at) "
                "SELECT id, last_seq, 'citizen', 'one more question', last_message_at FROM bumped", ids)
        finally:
            await conn.close()
        t0 = time.perf_counter()
        changed = await outcomes.refresh(deps)
        incremental = time.perf_counter() - t0
    finally:
        await deps.engine.dispose()
    return {"backfill_conversations": computed, "backfill_seconds": round(backfill, 2),
            "idle_refresh_seconds": round(idle, 3), "idle_full_refresh_seconds": round(idle_full, 3),
            "idle_refreshed": nothing,
            "refresh_after_1000_changed_seconds": round(incremental, 3), "refreshed": changed}


def serve(settings_env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    env.update(settings_env)
    env["HANDOFF_PORT"] = str(port)
    subprocess.run([sys.executable, "-m", "handoff_bridge", "create-agent", SUPERVISOR, "--role", "supervisor",
                    "--languages", "da,sv"], cwd=SERVICE_DIR, env={**env, "HANDOFF_NEW_AGENT_PASSWORD": PASSWORD},
                   check=True, stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([sys.executable, "-m", "handoff_bridge", "serve"], cwd=SERVICE_DIR, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the bridge did not start")


def time_endpoints(url: str, repeat: int, municipality: str, topic: str) -> list[dict]:
    from handoff_bridge.services.insight import TABLES

    today = dt.date.today()
    periods = {"year": (today - dt.timedelta(days=364), today), "week": (today - dt.timedelta(days=6), today)}
    results = []
    with httpx.Client(base_url=url, timeout=60) as client:
        token = client.post("/api/v1/agent/login", json={"login": SUPERVISOR, "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        paths = [("report", "/api/v1/agent/insight")] + [(f"csv {t}", f"/api/v1/agent/insight/export/{t}") for t in TABLES]
        paths.append(("summary 7d (supervisor view)", "/api/v1/agent/stats/summary?period=7d"))
        filters = {"all": {}, "municipality": {"municipality": municipality}, "topic": {"topic": topic}}
        for period, (first, last) in periods.items():
            for filter_name, extra in filters.items():
                for name, path in paths:
                    if filter_name != "all" and name != "report":
                        continue
                    params = {"from": first.isoformat(), "to": last.isoformat(), **extra}
                    times = []
                    for _ in range(repeat + 1):
                        t0 = time.perf_counter()
                        resp = client.get(path, headers=headers, params=params)
                        times.append(time.perf_counter() - t0)
                        resp.raise_for_status()
                    results.append({"period": period, "filter": filter_name, "endpoint": name,
                                    "first_s": round(times[0], 3), "median_s": round(statistics.median(times[1:]), 3),
                                    "max_s": round(max(times), 3), "bytes": len(resp.content)})
    return results


async def main_async(args) -> dict:
    from handoff_bridge.__main__ import migrate
    from handoff_bridge.settings import Settings

    schema = args.reuse or f"insight_bench_{secrets.token_hex(3)}"
    dsn_async = args.database_url
    dsn = dsn_async.replace("postgresql+asyncpg://", "postgresql://")
    if not args.reuse:
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        await admin.close()
    queues = SERVICE_DIR / "config" / "queues.yml"
    env = {"HANDOFF_ENV": "development", "HANDOFF_DATABASE_URL": dsn_async, "HANDOFF_DB_SCHEMA": schema,
           "HANDOFF_QUEUES_CONFIG": str(queues), "HANDOFF_PASSWORD_TIME_COST": "1",
           "HANDOFF_PASSWORD_MEMORY_KIB": "8192", "HANDOFF_LOG_LEVEL": "WARNING",
           "HANDOFF_RASA_URL": f"http://{HOST}:{free_port()}"}
    settings = Settings(env="development", database_url=dsn_async, db_schema=schema, queues_config=queues)
    proc = None
    try:
        await asyncio.to_thread(migrate, settings)  # Alembic runs its own event loop
        if args.reuse:
            data, refresh = {"reused": schema}, {}
        else:
            await sync_reference_tables(settings)
            t0 = time.perf_counter()
            data = await generate(dsn, schema, args.messages, args.seed)
            data["generate_and_copy_seconds"] = round(time.perf_counter() - t0, 2)
            print(json.dumps({"data": data}), flush=True)
            refresh = await refresh_timings(settings, dsn, schema)
            print(json.dumps({"refresh": refresh}), flush=True)
        proc, url = serve(env)
        endpoints = time_endpoints(url, args.repeat, args.municipality, args.topic)
        return {"schema": schema, "data": data, "refresh": refresh, "endpoints": endpoints}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        if not args.keep and not args.reuse:
            admin = await asyncpg.connect(dsn)
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get(
        "HANDOFF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--municipality", default="751")
    parser.add_argument("--topic", default="passport")
    parser.add_argument("--keep", action="store_true", help="keep the schema (its name is printed)")
    parser.add_argument("--reuse", metavar="SCHEMA", help="time the endpoints on a schema kept by --keep")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    worst = max(e["max_s"] for e in result["endpoints"])
    print(json.dumps({k: v for k, v in result.items() if k != "endpoints"}, indent=1))
    print(f"{'period':6} {'filter':12} {'endpoint':30} {'first s':>8} {'median s':>9} {'max s':>7} {'bytes':>8}")
    for e in result["endpoints"]:
        print(f"{e['period']:6} {e['filter']:12} {e['endpoint']:30} {e['first_s']:8.3f} {e['median_s']:9.3f} "
              f"{e['max_s']:7.3f} {e['bytes']:8}")
    print(f"slowest insight call: {worst:.3f} s (target 2 s)")


if __name__ == "__main__":
    main()
