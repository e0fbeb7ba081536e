"""The content store's answers: examples from reviewed questions, new drafts, the
pickers' list, and the regression set (SQLite and PostgreSQL)."""

import pytest
from helpers import make_agent
from sqlalchemy import select

from handoff_bridge.db.models import Agent, EditorAuditEntry, KbAnswer, KbRegressionQuestion
from handoff_bridge.errors import ApiError
from handoff_bridge.services import answers as answers_svc
from handoff_bridge.services import knowledge_files as kf
from handoff_bridge.settings import REPO_DIR

SHIPPED = REPO_DIR / "knowledge"


async def import_shipped(deps):
    async with deps.sessionmaker() as session:
        async with session.begin():
            return await answers_svc.import_content(session, kf.read_directory(SHIPPED))


async def editor_of(deps, login="edda", role="editor") -> Agent:
    made = await make_agent(deps, login, role=role)
    async with deps.sessionmaker() as session:
        return await session.get(Agent, made["id"])


async def regression(deps, answer_id):
    async with deps.sessionmaker() as session:
        rows = await session.scalars(select(KbRegressionQuestion).where(KbRegressionQuestion.answer_id == answer_id)
                                     .order_by(KbRegressionQuestion.id))
        return [(r.language, r.question, r.source) for r in rows]


async def test_import_makes_every_shipped_answer_published(bridge):
    summary = await import_shipped(bridge.deps)
    assert summary["answers"] == 137 and summary["changed"] == 137 and summary["categories"] == 18
    again = await import_shipped(bridge.deps)
    assert again["changed"] == 0 and again["withdrawn"] == 0
    async with bridge.deps.sessionmaker() as session:
        listed = await answers_svc.list_answers(session)
        danish = await answers_svc.list_answers(session, language="da")
    assert len(listed) == 137 and all(a["status"] == "published" for a in listed)
    mitid = next(a for a in listed if a["id"] == "mitid_get")
    assert mitid == {"id": "mitid_get", "category": "mitid", "status": "published",
                     "titles": {"da": "Få MitID", "sv": "MitID (Danmark)"}}
    assert all("da" in a["titles"] for a in danish) and len(danish) < len(listed)


async def test_examples_fill_the_list_to_five_and_all_join_the_regression_set(bridge):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_of(d)
    questions = ["Hvordan skaffar jeg MitID  i Danmark?", "mitid til min søn 0101901234",
                 "hur skaffar jag mitid?", "MitID som ny i Danmark", "mitid for studerende"]
    async with d.sessionmaker() as session:
        async with session.begin():
            result = await answers_svc.add_example_questions(
                session, answer_id="mitid_get", language="sv", questions=questions, editor=editor, source="inbox:17")
    # Two Swedish examples before: three fit, one was already there (case-insensitive), one is over the limit.
    examples = result["document"]["sv"]["examples"]
    assert len(examples) == 5 and result["status"] == "changed"
    assert result["added_examples"] == ["Hvordan skaffar jeg MitID i Danmark?", "mitid til min søn ##########",
                                        "MitID som ny i Danmark"]
    assert result["regression_only"] == ["hur skaffar jag mitid?", "mitid for studerende"]
    stored = await regression(d, "mitid_get")
    assert len(stored) == 5 and {s for _l, _q, s in stored} == {"inbox:17"}
    assert all("0101901234" not in q for _l, q, _s in stored)
    # The published answer is untouched until it is published; the draft holds the change.
    async with d.sessionmaker() as session:
        row = await session.get(KbAnswer, "mitid_get")
        published = await answers_svc.published_document(session, row)
        audit = (await session.scalars(select(EditorAuditEntry))).all()
    assert len(published["sv"]["examples"]) == 2 and row.draft["sv"]["examples"] == examples
    assert [(a.action, a.subject, a.actor_login) for a in audit if a.action != "knowledge_import"] == [
        ("answer_examples_add", "answer:mitid_get", "edda")]
    # Adding the same questions again adds nothing twice.
    async with d.sessionmaker() as session:
        async with session.begin():
            again = await answers_svc.add_example_questions(
                session, answer_id="mitid_get", language="sv", questions=questions[:2], editor=editor, source="inbox")
    assert again["added_examples"] == [] and len(await regression(d, "mitid_get")) == 5
    assert again["draft_version"] == result["draft_version"] + 1


async def test_examples_for_a_language_the_answer_lacks_start_its_text(bridge):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_of(d)
    async with d.sessionmaker() as session:
        async with session.begin():
            result = await answers_svc.add_example_questions(
                session, answer_id="swefaq_familjehem_1", language="da", questions=["hvad skal en plejefamilie"],
                editor=editor, source="inbox")
    assert result["document"]["da"] == {"title": "", "answer": "", "examples": ["hvad skal en plejefamilie"]}


async def test_a_new_draft_from_questions(bridge):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_of(d)
    questions = [f"hvornår har biblioteket åbent {n}" for n in range(7)]
    async with d.sessionmaker() as session:
        async with session.begin():
            draft = await answers_svc.new_draft_from_questions(
                session, language="da", questions=questions, category="contact_and_selfservice",
                editor=editor, source="inbox")
            second = await answers_svc.new_draft_from_questions(
                session, language="da", questions=questions[:1], category=None, editor=editor, source="inbox")
    assert draft["answer_id"] == "hvornaar_har_biblioteket_aabent_0" and draft["status"] == "draft"
    assert second["answer_id"] == "hvornaar_har_biblioteket_aabent_0_2"
    document = draft["document"]
    assert document["category"] == "contact_and_selfservice" and document["da"]["examples"] == questions[:5]
    assert document["da"]["title"] == questions[0] and document["da"]["answer"] == ""
    assert len(await regression(d, draft["answer_id"])) == 7
    async with d.sessionmaker() as session:
        listed = {a["id"]: a for a in await answers_svc.list_answers(session)}
    assert listed[draft["answer_id"]]["status"] == "draft"
    assert listed[second["answer_id"]]["category"] is None


@pytest.mark.parametrize("change, code", [
    ({"language": "en"}, "invalid_language"),
    ({"questions": []}, "invalid_questions"),
    ({"questions": ["x" * 401]}, "invalid_questions"),
    ({"questions": ["ok question", 5]}, "invalid_questions"),
    ({"source": "Inbox; drop"}, "invalid_source"),
    ({"category": "no_such_category"}, "invalid_category"),
])
async def test_bad_input_is_refused_with_a_clear_error(bridge, change, code):
    d = bridge.deps
    await import_shipped(d)
    editor = await editor_of(d)
    args = {"language": "da", "questions": ["hvornår åbner biblioteket"], "category": None, "source": "inbox", **change}
    async with d.sessionmaker() as session:
        async with session.begin():
            with pytest.raises(ApiError) as raised:
                await answers_svc.new_draft_from_questions(session, editor=editor, **args)
    assert raised.value.code == code


async def test_only_editors_change_content(bridge):
    d = bridge.deps
    await import_shipped(d)
    supervisor = await editor_of(d, "sara", role="supervisor")
    async with d.sessionmaker() as session:
        async with session.begin():
            with pytest.raises(ApiError) as raised:
                await answers_svc.add_example_questions(session, answer_id="mitid_get", language="da",
                                                        questions=["mitid"], editor=supervisor, source="inbox")
            assert raised.value.status == 403
            with pytest.raises(ApiError) as missing:
                await answers_svc.add_example_questions(session, answer_id="no_such_answer", language="da",
                                                        questions=["mitid"], editor=await editor_of(d), source="inbox")
            assert missing.value.status == 404
