#!/usr/bin/env python3
"""Review inbox benchmark and grouping threshold.

`--calibrate`: chooses the grouping threshold on the knowledge base's own
example questions (knowledge/*.yml), never on questions citizens asked: per
language, the examples are embedded as the inbox embeds questions and grouped
by services/review_inbox.cluster at each threshold; a grouping is right when
questions of the same answer share a group and questions of different answers
do not (B-cubed precision, recall and F1 against the answers). Prints the
table and the threshold with the best mean F1 of the two languages.

Default: with --messages generated messages (default 1,000,000, bench/insight.py's
generator) in a PostgreSQL schema of its own, the failures of the last 14 days
get varied question texts (the generator repeats a few), the outcome backfill
captures the inbox, the two weeks' items are embedded, and the bridge groups
the last 7 days' open items through HTTP with an editor session: the first
call and the median of --repeat more, per language and both. Target: 5 s.

Run with the bridge's virtualenv: `make -C handoff bench-review-inbox` or
`handoff/.venv/bin/python bench/review_inbox.py --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVICE_DIR = ROOT / "handoff"
sys.path.insert(0, str(SERVICE_DIR))
sys.path.insert(0, str(ROOT))

THRESHOLDS = [round(0.80 + 0.01 * i, 2) for i in range(17)]  # 0.80 .. 0.96


def knowledge_examples() -> dict[str, list[tuple[str, str]]]:
    """(answer id, example question) per language, from every knowledge-base file."""
    import yaml

    out: dict[str, list[tuple[str, str]]] = {"da": [], "sv": []}
    for path in sorted((ROOT / "knowledge").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for answer in data.get("answers") or []:
            for language in out:
                for example in (answer.get(language) or {}).get("examples") or []:
                    out[language].append((answer["id"], str(example)))
    return out


def bcubed(labels: list[str], groups: list[int]) -> tuple[float, float]:
    by_group: dict[int, list[int]] = {}
    by_label: dict[str, list[int]] = {}
    for i, (label, group) in enumerate(zip(labels, groups)):
        by_group.setdefault(group, []).append(i)
        by_label.setdefault(label, []).append(i)
    precision = recall = 0.0
    for i, (label, group) in enumerate(zip(labels, groups)):
        same_group = by_group[group]
        correct = sum(1 for j in same_group if labels[j] == label)
        precision += correct / len(same_group)
        recall += correct / len(by_label[label])
    return precision / len(labels), recall / len(labels)


def calibrate(seed: int) -> dict:
    import numpy as np

    from handoff_bridge.services import embeddings
    from handoff_bridge.services.outcomes import question_key
    from handoff_bridge.services.review_inbox import cluster

    rng = random.Random(seed)
    examples = knowledge_examples()
    rows = []
    per_language = {}
    for language, pairs in examples.items():
        pairs = list({(a, question_key(q)): (a, q) for a, q in pairs}.values())
        rng.shuffle(pairs)
        t0 = time.perf_counter()
        vectors = embeddings.embed([q for _a, q in pairs])
        labels = [a for a, _q in pairs]
        same = vectors @ vectors.T
        mask_same = np.equal.outer(np.array(labels), np.array(labels))
        upper = np.triu(np.ones_like(same, dtype=bool), 1)
        per_language[language] = {
            "questions": len(pairs), "answers": len(set(labels)), "embed_seconds": round(time.perf_counter() - t0, 1),
            "similarity_same_answer_median": round(float(np.median(same[upper & mask_same])), 3),
            "similarity_other_answer_median": round(float(np.median(same[upper & ~mask_same])), 3),
        }
        for threshold in THRESHOLDS:
            groups, _ = cluster(vectors, threshold)
            p, r = bcubed(labels, groups)
            rows.append({"language": language, "threshold": threshold, "groups": len(set(groups)),
                         "precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3)})
    mean_f1 = {t: round(statistics.mean(r["f1"] for r in rows if r["threshold"] == t), 3) for t in THRESHOLDS}
    best = max(THRESHOLDS, key=lambda t: (mean_f1[t], -t))
    return {"languages": per_language, "rows": rows, "mean_f1": mean_f1, "best_threshold": best}


# --- the 1,000,000-message benchmark ------------------------------------------------------------

# Varied failing questions: subjects x phrasings give some thousand distinct texts per language.
SUBJECTS = {
    "da": ["skraldespanden", "storskrald", "min cykel", "skatten", "parkeringen", "biblioteket", "svømmehallen",
           "vejarbejdet", "hundeskatten", "snerydningen", "gadelyset", "busserne", "genbrugspladsen",
           "legepladsen", "min pension", "valgkortet", "fjernvarmen", "vandregningen", "kirkegården", "stranden"],
    "sv": ["soptunnan", "grovsoporna", "min cykel", "skatten", "parkeringen", "biblioteket", "simhallen",
           "vägarbetet", "hundskatten", "snöröjningen", "gatubelysningen", "bussarna", "återvinningscentralen",
           "lekplatsen", "min pension", "röstkortet", "fjärrvärmen", "vattenräkningen", "kyrkogården", "stranden"],
}
PHRASINGS = {
    "da": ["hvornår åbner {s}", "hvad koster {s}", "hvem skal jeg kontakte om {s}", "hvordan klager jeg over {s}",
           "kan i hjælpe med {s}", "hvor finder jeg info om {s}", "{s} virker ikke", "hvorfor er {s} lukket",
           "jeg har et spørgsmål om {s}", "hvordan søger jeg om {s}", "er der nyt om {s}", "{s} i weekenden",
           "problemer med {s} igen", "hvad gør jeg med {s}", "må jeg selv ordne {s}"],
    "sv": ["när öppnar {s}", "vad kostar {s}", "vem ska jag kontakta om {s}", "hur klagar jag på {s}",
           "kan ni hjälpa till med {s}", "var hittar jag info om {s}", "{s} fungerar inte", "varför är {s} stängd",
           "jag har en fråga om {s}", "hur ansöker jag om {s}", "finns det nytt om {s}", "{s} på helgen",
           "problem med {s} igen", "vad gör jag med {s}", "får jag själv fixa {s}"],
}


async def vary_recent_failures(dsn: str, schema: str, days: int, seed: int) -> dict:
    """Gives the citizen messages the bot fell back on in the last `days` days varied texts."""
    import asyncpg

    rng = random.Random(seed)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        rows = await conn.fetch(
            "SELECT m.id, c.language FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "JOIN messages b ON b.conversation_id = m.conversation_id AND b.seq = m.seq + 1 "
            "WHERE m.sender = 'citizen' AND b.sender = 'bot' AND b.topic = 'nlu_fallback' "
            "AND m.created_at >= now() - make_interval(days => $1)", days)
        updates = []
        for r in rows:
            language = r["language"]
            text = rng.choice(PHRASINGS[language]).format(s=rng.choice(SUBJECTS[language]))
            if rng.random() < 0.3:
                text += rng.choice(["?", " tak", " hjælp", " please", "!!"])
            updates.append((r["id"], text))
        await conn.executemany("UPDATE messages SET text = $2 WHERE id = $1", updates)
        distinct = len({t for _i, t in updates})
    finally:
        await conn.close()
    return {"varied_messages": len(updates), "distinct_texts": distinct}


def time_grouping(url: str, login: str, password: str, repeat: int) -> list[dict]:
    import httpx

    results = []
    with httpx.Client(base_url=url, timeout=120) as client:
        token = client.post("/api/v1/editor/login", json={"login": login, "password": password}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for language in ("da", "sv", None):
            params = {"language": language} if language else {}
            times = []
            body = None
            for _ in range(repeat + 1):
                t0 = time.perf_counter()
                resp = client.get("/api/v1/editor/inbox", headers=headers, params=params)
                times.append(time.perf_counter() - t0)
                resp.raise_for_status()
                body = resp.json()
            results.append({"language": language or "da+sv", "items": body["items"], "groups": body["groups_total"],
                            "not_yet_embedded": body["not_yet_embedded"], "first_s": round(times[0], 3),
                            "median_s": round(statistics.median(times[1:]), 3), "max_s": round(max(times), 3),
                            "bytes": len(resp.content)})
    return results


async def bench(args) -> dict:
    import asyncpg

    import insight as insight_bench
    from handoff_bridge.__main__ import migrate
    from handoff_bridge.services import outcomes, review_inbox
    from handoff_bridge.settings import Settings

    schema = f"inbox_bench_{secrets.token_hex(3)}"
    dsn_async = args.database_url
    dsn = dsn_async.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    await admin.close()
    queues = SERVICE_DIR / "config" / "queues.yml"
    env = {"HANDOFF_ENV": "development", "HANDOFF_DATABASE_URL": dsn_async, "HANDOFF_DB_SCHEMA": schema,
           "HANDOFF_QUEUES_CONFIG": str(queues), "HANDOFF_PASSWORD_TIME_COST": "1",
           "HANDOFF_PASSWORD_MEMORY_KIB": "8192", "HANDOFF_LOG_LEVEL": "WARNING",
           "HANDOFF_RASA_URL": f"http://127.0.0.1:{insight_bench.free_port()}",
           # The bench embeds the items itself; the served bridge only answers.
           "HANDOFF_INSIGHT_REFRESH_SECONDS": "3600", "HANDOFF_KNOWLEDGE_IMPORT_ON_START": "false"}
    settings = Settings(env="development", database_url=dsn_async, db_schema=schema, queues_config=queues)
    proc = None
    result: dict = {"schema": schema}
    try:
        await asyncio.to_thread(migrate, settings)
        await insight_bench.sync_reference_tables(settings)
        t0 = time.perf_counter()
        result["data"] = await insight_bench.generate(dsn, schema, args.messages, args.seed)
        result["data"]["generate_and_copy_seconds"] = round(time.perf_counter() - t0, 2)
        result["varied"] = await vary_recent_failures(dsn, schema, 14, args.seed)
        print(json.dumps({"data": result["data"], "varied": result["varied"]}), flush=True)
        deps = insight_bench._Deps(settings)
        try:
            t0 = time.perf_counter()
            computed = await outcomes.refresh(deps)
            backfill = time.perf_counter() - t0
            conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
            try:
                counts = {r["kind"]: r["n"] for r in await conn.fetch(
                    "SELECT kind, count(*) AS n FROM inbox_items GROUP BY kind")}
                recent = await conn.fetchval(
                    "SELECT count(*) FROM inbox_items WHERE asked_at >= now() - interval '14 days'")
            finally:
                await conn.close()
            t0 = time.perf_counter()
            embedded = 0
            # Only the two weeks the grouping looks at are embedded here; the rest is the background's work.
            since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=14)
            while True:
                n = await review_inbox.embed_pending(deps, max_items=100_000, asked_since=since)
                embedded += n
                if n == 0:
                    break
            embed_seconds = time.perf_counter() - t0
        finally:
            await deps.engine.dispose()
        result["capture"] = {"backfill_conversations": computed, "backfill_seconds": round(backfill, 2),
                             "inbox_items_by_kind": counts, "items_last_14_days": recent,
                             "embedded": embedded, "embed_seconds": round(embed_seconds, 1)}
        print(json.dumps({"capture": result["capture"]}), flush=True)
        login = "bench-editor-" + secrets.token_hex(3)
        password = "bench password " + secrets.token_hex(4)
        import subprocess

        subprocess.run([sys.executable, "-m", "handoff_bridge", "create-agent", login, "--role", "editor",
                        "--languages", "da,sv"], cwd=SERVICE_DIR,
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}, **env,
                            "HANDOFF_NEW_AGENT_PASSWORD": password}, check=True, stdout=subprocess.DEVNULL)
        proc, url = insight_bench.serve(env)
        result["grouping"] = time_grouping(url, login, password, args.repeat)
        return result
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        if not args.keep:
            admin = await asyncpg.connect(dsn)
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibrate", action="store_true", help="choose the grouping threshold on the knowledge base")
    parser.add_argument("--database-url", default=os.environ.get(
        "HANDOFF_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the schema (its name is printed)")
    args = parser.parse_args()
    if args.calibrate:
        result = calibrate(args.seed)
        print(json.dumps(result["languages"], indent=1))
        print(f"{'threshold':>9} {'lang':4} {'groups':>6} {'precision':>9} {'recall':>6} {'f1':>6}")
        for r in result["rows"]:
            print(f"{r['threshold']:9.2f} {r['language']:4} {r['groups']:6} {r['precision']:9.3f} "
                  f"{r['recall']:6.3f} {r['f1']:6.3f}")
        print("mean f1 by threshold: " + ", ".join(f"{t:.2f}: {f:.3f}" for t, f in result["mean_f1"].items()))
        print(f"best threshold: {result['best_threshold']:.2f}")
        return
    sys.path.insert(0, str(HERE))
    result = asyncio.run(bench(args))
    print(json.dumps({k: v for k, v in result.items() if k != "grouping"}, indent=1))
    print(f"{'language':8} {'items':>6} {'groups':>6} {'first s':>8} {'median s':>9} {'max s':>7} {'bytes':>9}")
    for g in result["grouping"]:
        print(f"{g['language']:8} {g['items']:6} {g['groups']:6} {g['first_s']:8.3f} {g['median_s']:9.3f} "
              f"{g['max_s']:7.3f} {g['bytes']:9}")
    print(f"slowest inbox grouping of a week: {max(g['max_s'] for g in result['grouping']):.3f} s (target 5 s)")


if __name__ == "__main__":
    main()
