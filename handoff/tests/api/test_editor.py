"""The editor API: drafts, validation, the publish gate, publishing, history and
rollback, against the real knowledge engine (../.venv) on a copy of the
publication (SQLite and PostgreSQL)."""

import asyncio
import json
import shutil
import subprocess

import httpx
import pytest
from helpers import agent_session, editor_session
from sqlalchemy import select

from handoff_bridge.db.models import EditorAuditEntry
from handoff_bridge.rasa import tls_context
from handoff_bridge.services import answers as answers_svc
from handoff_bridge.services import knowledge_files as kf
from handoff_bridge.services import publishing
from handoff_bridge.settings import REPO_DIR, Settings

SHIPPED = REPO_DIR / "knowledge"
ENGINE = Settings(env="development").knowledge_command.split()

LIBRARY = {
    "category": "contact_and_selfservice",
    "source": "kk.dk",
    "last_verified": "2026-12-01",
    "da": {
        "title": "Lånerkort til biblioteket",
        "answer": "Du får et lånerkort på biblioteket, når du viser dit sundhedskort. Læs mere på https://bibliotek.kk.dk",
        "examples": ["hvordan får jeg et lånerkort", "kan jeg låne bøger uden lånerkort",
                     "lånerkort bibliotek"],
    },
}


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    """A copy of the checkout's live publication (make knowledge made it), so the
    gate and publish reuse its vectors instead of embedding the whole base."""
    seed = tmp_path_factory.mktemp("seed-index")
    live = REPO_DIR / "var" / "knowledge"
    current = (live / "CURRENT").read_text().strip() if (live / "CURRENT").exists() else None
    if current:
        shutil.copytree(live / "versions" / current, seed / "versions" / current)
        (seed / "CURRENT").write_text(current + "\n")
        if (live / "gate-vectors.npz").exists():
            shutil.copy(live / "gate-vectors.npz", seed / "gate-vectors.npz")
    else:
        subprocess.run([*ENGINE, "--index", str(seed), "publish"], cwd=REPO_DIR, check=True, capture_output=True)
    if not (seed / "gate-vectors.npz").exists():
        # `make knowledge` embeds the held-out questions ahead; without it, one gate run
        # embeds them once for the whole session.
        questions = seed / "questions.json"
        questions.write_text('{"questions": []}')
        subprocess.run([*ENGINE, "--index", str(seed), "gate", "--questions", str(questions), "--json"],
                       cwd=REPO_DIR, check=True, capture_output=True)
    return seed


@pytest.fixture
def bridge_overrides(seed_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    return {"knowledge_index": index}


@pytest.fixture
async def client(bridge):
    # The engine runs take seconds (more on a busy machine): a generous bound.
    async with httpx.AsyncClient(base_url=bridge.url, timeout=180, verify=tls_context()) as c:
        yield c


async def import_shipped(deps):
    async with deps.sessionmaker() as session:
        async with session.begin():
            await answers_svc.import_content(session, kf.read_directory(SHIPPED))


async def engine_post(client, path: str, **kwargs) -> httpx.Response:
    """POST a check, gate, publish or rollback and follow it: the bridge answers 202 with
    /api/v1/editor/jobs/<id> when the engine takes longer than a request waits (25 s)."""
    resp = await client.post(path, **kwargs)
    deadline = asyncio.get_running_loop().time() + 600
    while resp.status_code == 202:
        job = resp.json()["job_id"]
        assert asyncio.get_running_loop().time() < deadline, f"{path}: job {job} still running after 600 s"
        await asyncio.sleep(0.5)  # the next look at a running job
        resp = await client.get(f"/api/v1/editor/jobs/{job}", headers=kwargs.get("headers"))
    return resp


def current(bridge) -> str:
    return (bridge.deps.settings.knowledge_index_path / "CURRENT").read_text().strip()


async def audit(deps) -> list[tuple[str, str]]:
    async with deps.sessionmaker() as session:
        rows = await session.scalars(select(EditorAuditEntry).order_by(EditorAuditEntry.id))
        return [(e.action, e.subject, e.actor_login, e.detail) for e in rows]


async def test_an_editor_writes_checks_and_publishes_a_new_answer(client, bridge, tmp_path):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_session(d, client, "edda")
    created = await client.post("/api/v1/editor/answers", headers=editor,
                                json={"id": "library_card", "document": {**LIBRARY, "da": {**LIBRARY["da"], "answer": "Kom på biblioteket."}}})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft" and created.json()["draft_version"] == 1
    # The engine's schema: the answer must end with the official link.
    checked = await engine_post(client, "/api/v1/editor/answers/library_card/check", headers=editor)
    assert checked.status_code == 200 and checked.json()["ok"] is False
    problem = checked.json()["problems"][0]
    assert problem["answer_id"] == "library_card" and problem["field"].startswith("da")
    assert "official link" in problem["message"]
    saved = await client.put("/api/v1/editor/answers/library_card/draft", headers=editor,
                             json={"document": LIBRARY, "draft_version": 1})
    assert saved.status_code == 200 and saved.json()["draft_version"] == 2
    stale = await client.put("/api/v1/editor/answers/library_card/draft", headers=editor,
                             json={"document": LIBRARY, "draft_version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "draft_changed"
    assert (await engine_post(client, "/api/v1/editor/answers/library_card/check", headers=editor)).json() == {
        "ok": True, "problems": []}

    before = current(bridge)
    published = await engine_post(client, "/api/v1/editor/publish", headers=editor, json={"answer_ids": ["library_card"]})
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["published"] is True and body["gate"]["counts"]["heldout"]["regressions"] == 0
    version = body["publication"]["version"]
    # Live: the publication directory the assistant polls names the new version.
    assert current(bridge) == version != before
    found = subprocess.run([*ENGINE, "--index", str(d.settings.knowledge_index_path), "search",
                            "hvor får jeg et lånerkort", "--language", "da"],
                           cwd=REPO_DIR, check=True, capture_output=True, text=True)
    result = json.loads(found.stdout)
    assert result["decision"] == "answer" and result["answer_id"] == "library_card", result

    detail = (await client.get("/api/v1/editor/answers/library_card", headers=editor)).json()
    assert detail["status"] == "published" and detail["draft"] is None
    assert detail["published"]["da"]["title"] == "Lånerkort til biblioteket"
    history = (await client.get("/api/v1/editor/answers/library_card/history", headers=editor)).json()
    assert [r["number"] for r in history["revisions"]] == [1] and history["revisions"][0]["created_by"] == "edda"
    assert {c["field"] for c in history["revisions"][0]["changes"]} >= {"category", "da.title", "da.answer"}
    publications = (await client.get("/api/v1/editor/publications", headers=editor)).json()["publications"]
    assert publications[0]["version"] == version and publications[0]["changed"] == ["library_card"]
    # Exported back to the files git reviews: only the changed category file differs.
    out = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, out)
    changed = await publishing.export_directory(d, out)
    assert changed == [out / "contact_and_selfservice.yml"]
    assert "- id: library_card\n  source: kk.dk\n  last_verified: 2026-12-01\n" in changed[0].read_text()
    actions = [a for a, *_ in await audit(d)]
    assert actions[-4:] == ["answer_new", "answer_draft_save", "answer_draft_save", "publish"] or \
        actions[-3:] == ["answer_new", "answer_draft_save", "publish"]


async def test_the_gate_blocks_a_regression_until_the_editor_accepts_it(client, bridge):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_session(d, client, "edda")
    # A reviewed question attached to the answer: it joins the regression set.
    added = await client.post("/api/v1/editor/answers/mitid_forgot_user_id/examples", headers=editor,
                              json={"language": "da", "questions": ["jeg har glemt mit bruger-id til mitid"]})
    assert added.status_code == 200, added.text
    detail = (await client.get("/api/v1/editor/answers/mitid_forgot_user_id", headers=editor)).json()
    assert detail["regression_questions"] == {"da": 1, "sv": 0}
    broken = json.loads(json.dumps(detail["draft"]))
    broken["da"] = {"title": "Hundeskat", "answer": "Hundeskat betaler du til kommunen. Læs mere på https://www.kk.dk",
                    "examples": ["hvad koster hundeskat", "skal jeg betale for min hund"]}
    saved = await client.put("/api/v1/editor/answers/mitid_forgot_user_id/draft", headers=editor,
                             json={"document": broken, "draft_version": detail["draft_version"]})
    assert saved.status_code == 200, saved.text
    before = current(bridge)
    blocked = await engine_post(client, "/api/v1/editor/publish", headers=editor, json={"answer_ids": ["mitid_forgot_user_id"]})
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "gate_blocked", blocked.text
    gate = blocked.json()["error"]["gate"]
    keys = [r["key"] for r in gate["regressions"]]
    assert "regression:da:jeg har glemt mit bruger-id til mitid" in keys
    assert gate["counts"]["regression"]["regressions"] == 1
    assert all(r["before"]["outcome"] in ("right", "offered") and r["after"]["outcome"] == "wrong"
               for r in gate["regressions"])
    mine = next(r for r in gate["regressions"] if r["set"] == "regression")
    assert mine["before"]["answer_id"] == "mitid_forgot_user_id" and mine["after"]["answer_id"] != "mitid_forgot_user_id"
    assert current(bridge) == before  # nothing went live
    # Accepting only some of them is not enough.
    partial = await engine_post(client, "/api/v1/editor/publish", headers=editor,
                                json={"answer_ids": ["mitid_forgot_user_id"], "accept": keys[:-1]})
    assert partial.status_code == 409
    accepted = await engine_post(client, "/api/v1/editor/publish", headers=editor,
                                 json={"answer_ids": ["mitid_forgot_user_id"], "accept": keys})
    assert accepted.status_code == 200, accepted.text
    assert current(bridge) == accepted.json()["publication"]["version"]
    entries = await audit(d)
    accept_entry = [e for e in entries if e[0] == "gate_accept"]
    assert len(accept_entry) == 1 and accept_entry[0][2] == "edda"
    assert sorted(a["key"] for a in accept_entry[0][3]["accepted"]) == sorted(keys)

    # One-click rollback to the imported revision: a new revision through the same gate.
    history = (await client.get("/api/v1/editor/answers/mitid_forgot_user_id/history", headers=editor)).json()
    first = history["revisions"][-1]
    assert first["number"] == 1 and history["revisions"][0]["live"]
    restored = await engine_post(client, "/api/v1/editor/answers/mitid_forgot_user_id/rollback", headers=editor,
                                 json={"revision_id": first["revision_id"]})
    if restored.status_code == 409:
        # Restoring recalibrates too: what the broken version had made "offered" may move; accept it.
        assert restored.json()["error"]["code"] == "gate_blocked", restored.text
        again_keys = [r["key"] for r in restored.json()["error"]["gate"]["regressions"]]
        restored = await engine_post(client, "/api/v1/editor/answers/mitid_forgot_user_id/rollback", headers=editor,
                                     json={"revision_id": first["revision_id"], "accept": again_keys})
    assert restored.status_code == 200, restored.text
    assert restored.json()["publication"]["kind"] == "rollback"
    assert restored.json()["gate"]["counts"]["regression"]["fixed"] == 1
    history = (await client.get("/api/v1/editor/answers/mitid_forgot_user_id/history", headers=editor)).json()
    newest = history["revisions"][0]
    assert newest["number"] == 3 and newest["restores_revision_id"] == first["revision_id"]
    assert newest["document"] == first["document"] and newest["live"]
    again = await engine_post(client, "/api/v1/editor/answers/mitid_forgot_user_id/rollback", headers=editor,
                              json={"revision_id": first["revision_id"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_restore"


async def test_one_publish_at_a_time(client, bridge):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_session(d, client, "edda")
    async with publishing.publish_lease(d):
        # Another instance (or request) holds the lease: refused at once, nothing runs.
        busy = await engine_post(client, "/api/v1/editor/publish", headers=editor, json={"answer_ids": ["mitid_get"]})
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "publish_busy"
        assert not await publishing._take_lease(d, "other")
    assert await publishing._take_lease(d, "other")  # given back
    await publishing._give_back(d, "other")
    results = await asyncio.gather(*[publishing._take_lease(d, f"racer-{n}") for n in range(5)])
    assert sum(results) == 1
    nothing = await engine_post(client, "/api/v1/editor/publish", headers=editor, json={"answer_ids": ["mitid_get"]})
    assert nothing.status_code == 409  # the lease is held by the racer until it expires
    assert nothing.json()["error"]["code"] == "publish_busy"


async def test_an_agent_cannot_publish_and_an_editor_reads_no_chat(client, bridge):
    d = bridge.deps
    await import_shipped(d)
    agent = await agent_session(d, client, "bo")
    supervisor = await agent_session(d, client, "sara", role="supervisor")
    editor = await editor_session(d, client, "edda")
    for headers in (agent, supervisor):
        resp = await engine_post(client, "/api/v1/editor/publish", headers=headers, json={"answer_ids": ["mitid_get"]})
        assert resp.status_code == 403
    for path in ("/api/v1/agent/queues", "/api/v1/agent/chats", "/api/v1/agent/callbacks",
                 "/api/v1/agent/conversations/0123456789abcdef0123456789abcdef/transcript",
                 "/api/v1/agent/stats/live", "/api/v1/agent/insight"):
        resp = await client.get(path, headers=editor)
        assert resp.status_code == 403, path


async def test_bad_bodies_name_the_field(client, bridge):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_session(d, client, "edda")
    resp = await client.post("/api/v1/editor/answers", headers=editor, json={"id": "Bad Id", "document": LIBRARY})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_body"
    assert resp.json()["error"]["problems"][0]["field"] == "id"
    resp = await client.post("/api/v1/editor/answers", headers=editor,
                             json={"id": "x_card", "document": {**LIBRARY, "category": "nope"}})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_category"
    resp = await client.post("/api/v1/editor/answers", headers=editor, json={"id": "mitid_get", "document": LIBRARY})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "answer_exists"
    resp = await engine_post(client, "/api/v1/editor/publish", headers=editor, json={"answer_ids": ["mitid_get"]})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "no_draft"
    resp = await client.delete("/api/v1/editor/answers/mitid_get/draft", headers=editor)
    assert resp.status_code == 409
