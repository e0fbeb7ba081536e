"""Conversations with every kind of review inbox item, written straight to the database.

Times are relative to now, so the inbox's default period (the last 7 days)
holds them. The expected items are in tests/services/test_review_inbox.py.
"""

from __future__ import annotations

import datetime as dt
import secrets

from handoff_bridge.db.models import Conversation, Escalation, Message, utcnow

HELPFUL = {"buttons": [{"title": "Ja", "payload": "/affirm"}, {"title": "Nej", "payload": "/deny"}]}


def c(text, payload=None):
    return ("citizen", text, None, {"payload": payload} if payload else None)


def b(text, topic, response=None, **payload):
    body = dict(payload)
    if response:
        body["response"] = response
    return ("bot", text, topic, body or None)


# id: (municipality, language, hours ago, messages, escalation reason or None)
CONVERSATIONS = {
    # The knowledge base found no answer (with and without the municipality's site).
    "k01": ("101", "da", 30, [
        c("Hvornår tømmes min skraldespand?"),
        b("Det har jeg desværre ikke et svar på ...", "out_of_scope", "knowledge_no_answer_with_site"),
    ], None),
    "k02": ("751", "da", 20, [
        c("hvornår bliver skraldespanden tømt"),
        b("Det har jeg desværre ikke et svar på ...", "out_of_scope", "knowledge_no_answer"),
    ], None),
    # A fallback turn that asks to rephrase: a clarifying question.
    "k03": ("101", "da", 10, [
        c("xyz blah"), b("Jeg er ikke helt sikker på, hvad du mener ...", "nlu_fallback", "ask_rephrase"),
    ], None),
    # "Did you mean ...?", then the citizen picks an answer (a button: not a question).
    "k04": ("1480", "sv", 5, [
        c("Hur ansöker jag om bygglov för en altan?"),
        b("Menar du något av de här?", "knowledge_question", "knowledge_did_you_mean"),
        c("Bygglov", "/knowledge_question{\"answer_id\":\"building_permit\"}"),
        b("Bygglov söker du ...", "building_permit", "knowledge_answer"),
    ], None),
    # Not helpful: the question the answer was about.
    "k05": ("101", "da", 4, [
        c("Hvordan fornyer jeg mit pas?"), b("Pas fornyer du ...", "passport", "knowledge_answer"),
        b("Hjalp svaret dig?", "passport", "utter_ask_helpful", **HELPFUL), c("Nej", "/deny"),
        b("Det er jeg ked af.", "deny", "utter_not_helpful"),
    ], None),
    # The bot fell short and the citizen asked for a person: reason not_helpful, answered question.
    "k06": ("751", "da", 3, [
        c("Hvad koster et nyt sundhedskort?"), b("Et sundhedskort ...", "health_card", "knowledge_answer"),
        c("Tal med en medarbejder", "bridge:handoff"),
    ], "not_helpful"),
    # Asked for a person right away: nothing for the inbox.
    "k07": ("101", "da", 2, [
        c("Jeg vil tale med et menneske"), b("Jeg sætter dig i kø.", "request_human"),
    ], "citizen_request"),
    # Answered well: nothing for the inbox; the identity number is form input.
    "k08": ("101", "da", 1, [
        c("Hvornår får jeg min udbetaling?"), b("Skriv dit CPR-nummer.", "payout_inquiry", "ask_national_id"),
        c("######-####"), b("Din næste udbetaling ...", "payout_inquiry"),
    ], None),
}
EXPECTED = {
    ("k01", 1): ("no_answer", "Hvornår tømmes min skraldespand?"),
    ("k02", 1): ("no_answer", "hvornår bliver skraldespanden tømt"),
    ("k03", 1): ("clarification", "xyz blah"),
    ("k04", 1): ("clarification", "Hur ansöker jag om bygglov för en altan?"),
    ("k05", 1): ("not_helpful", "Hvordan fornyer jeg mit pas?"),
    ("k06", 1): ("escalation", "Hvad koster et nyt sundhedskort?"),
}


async def load(deps, conversations=CONVERSATIONS, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    async with deps.sessionmaker() as session:
        async with session.begin():
            for cid, (municipality, language, hours, msgs, _reason) in conversations.items():
                start = now - dt.timedelta(hours=hours)
                session.add(Conversation(
                    id=cid, token_hash=secrets.token_hex(32), municipality=municipality, language=language,
                    mode="closed", last_seq=len(msgs), created_at=start, updated_at=start, closed_at=start,
                    close_reason="citizen_inactive", citizen_active_at=start, citizen_seen_at=start,
                    last_message_at=start))
            await session.flush()
            for cid, (_m, language, hours, msgs, reason) in conversations.items():
                start = now - dt.timedelta(hours=hours)
                for seq, (sender, text, topic, payload) in enumerate(msgs, start=1):
                    session.add(Message(conversation_id=cid, seq=seq, sender=sender, text=text, payload=payload,
                                        topic=topic, created_at=start + dt.timedelta(seconds=10 * seq)))
                if reason:
                    at = start + dt.timedelta(seconds=10 * len(msgs) + 5)
                    session.add(Escalation(conversation_id=cid, queue_name=f"{language}-general", reason=reason,
                                           status="done", enqueued_at=at, created_at=at, ended_at=at))


async def add_message(deps, cid: str, sender: str, text: str, topic=None, payload=None) -> None:
    """Appends a message as the bridge does (the conversation's last_seq moves on)."""
    from sqlalchemy import select, update

    async with deps.sessionmaker() as session:
        async with session.begin():
            seq = await session.scalar(select(Conversation.last_seq).where(Conversation.id == cid)) + 1
            await session.execute(update(Conversation).where(Conversation.id == cid).values(last_seq=seq))
            session.add(Message(conversation_id=cid, seq=seq, sender=sender, text=text, payload=payload, topic=topic,
                                created_at=utcnow()))
