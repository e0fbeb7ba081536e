"""A week of conversations whose insight figures were counted by hand.

Period: Monday 2026-03-02 to Sunday 2026-03-08 (Europe/Copenhagen); the
previous period is 2026-02-23 to 2026-03-01. The expected figures are in
tests/api/test_insight.py, each with the conversations that make it up.
"""

from __future__ import annotations

import datetime as dt
import secrets

from handoff_bridge.db.models import (
    Agent,
    Claim,
    Closure,
    ClosureTag,
    Conversation,
    Escalation,
    Message,
    Rating,
)

UTC = dt.timezone.utc
HELPFUL = {"buttons": [{"title": "Ja", "payload": "/affirm"}, {"title": "Nej", "payload": "/deny"}]}
PERIOD = {"from": "2026-03-02", "to": "2026-03-08"}


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def c(text, payload=None):
    return ("citizen", text, None, {"payload": payload} if payload else None)


def b(text, topic, payload=None):
    return ("bot", text, topic, payload)


# id: (municipality, language, start (UTC), messages)
CONVERSATIONS = {
    # resolved; "did it help?" yes
    "c01": ("101", "da", at(2, 9, 15), [
        c("Hvordan får jeg MitID?"), b("Sådan får du MitID ...", "mitid_get"), b("Hjalp svaret dig?", "mitid_get", HELPFUL),
        c("Ja", "/affirm"), b("Dejligt!", "affirm"),
    ]),
    # not helpful
    "c02": ("101", "da", at(2, 13, 0), [
        c("Hvordan fornyer jeg mit pas?"), b("Pas fornyer du ...", "passport"), b("Hjalp svaret dig?", "passport", HELPFUL),
        c("Nej", "/deny"), b("Det er jeg ked af.", "deny"),
    ]),
    # abandoned clarification; unanswered "xyz blah"
    "c03": ("101", "da", at(3, 10, 30), [
        c("xyz blah"), b("Jeg er ikke helt sikker på, hvad du mener.", "nlu_fallback"),
    ]),
    # repeated question
    "c04": ("751", "da", at(3, 18, 45), [
        c("Hvordan melder jeg flytning?"), b("Flytning melder du ...", "moving"),
        c("Men hvordan melder jeg flytning?"), b("Flytning melder du ...", "moving"),
    ]),
    # failed identity check
    "c05": ("751", "da", at(4, 8, 5), [
        c("Hvornår får jeg min udbetaling?"), b("Skriv dit CPR-nummer.", "payout_inquiry", {"response": "ask_national_id"}),
        c("######-####"), b("Systemet kunne ikke bruge CPR-nummeret.", "payout_inquiry", {"response": "national_id_rejected"}),
    ]),
    # escalated (citizen_request, 120 s wait), tags, rating 8; unanswered
    "c06": ("101", "da", at(4, 12, 0), [
        c("Hvad er klokken på månen"), b("Jeg er ikke helt sikker på, hvad du mener.", "nlu_fallback"),
        c("Tal med en medarbejder", "bridge:handoff"),
    ]),
    # resolved (Swedish, no "did it help?")
    "c07": ("101", "sv", at(5, 7, 20), [
        c("Hur får jag BankID?"), b("BankID får du ...", "bankid_get"),
    ]),
    # clarification answered, then resolved; unanswered "xyz blah" again
    "c08": ("751", "sv", at(5, 15, 10), [
        c("XYZ   blah"), b("Jag är inte riktigt säker på vad du menar.", "nlu_fallback"),
        c("bankid"), b("BankID får du ...", "bankid_get"),
    ]),
    # no answer (greeting, then out of scope)
    "c09": ("101", "da", at(6, 19, 0), [
        c("hej"), b("Hej!", "greet"), c("what's the weather"), b("Det kan jeg desværre ikke hjælpe med.", "out_of_scope"),
    ]),
    # answered, then two fallbacks: escalated (repeated_fallback, left the queue)
    "c10": ("101", "da", at(7, 10, 0), [
        c("MitID"), b("Sådan får du MitID ...", "mitid_get"),
        c("???"), b("Jeg er ikke helt sikker.", "nlu_fallback"), c("???"), b("Jeg forstår stadig ikke.", "nlu_fallback"),
    ]),
    # escalated (citizen_request, 300 s wait), tag, rating 3
    "c11": ("101", "da", at(8, 11, 0), [
        c("pas"), b("Pas fornyer du ...", "passport"), c("Tal med en medarbejder", "bridge:handoff"),
    ]),
    # previous period: resolved; escalated (60 s wait)
    "p01": ("101", "da", at(24, 9, 0, month=2), [c("MitID"), b("Sådan får du MitID ...", "mitid_get")]),
    "p02": ("101", "da", at(26, 9, 0, month=2), [
        c("pas"), b("Pas fornyer du ...", "passport"), c("Tal med en medarbejder", "bridge:handoff"),
    ]),
    # after the period: not counted
    "n01": ("101", "da", at(9, 9, 0), [c("MitID"), b("Sådan får du MitID ...", "mitid_get")]),
}
# id: (reason, status, wait seconds or None, tags, rating)
ESCALATIONS = {
    "c06": ("citizen_request", "done", 120, ["digital.mitid", "uden.svar"], 8),
    "c10": ("repeated_fallback", "abandoned", None, [], None),
    "c11": ("citizen_request", "done", 300, ["digital.mitid"], 3),
    "p02": ("citizen_request", "done", 60, [], 9),
}


async def load(deps) -> None:
    """Writes the fixture: every conversation closed, as the sweeper leaves them."""
    async with deps.sessionmaker() as session:
        async with session.begin():
            agent = Agent(login=f"fixture-{secrets.token_hex(3)}", display_name="Fixture", password_hash="x",
                          role="agent", languages=["da", "sv"], municipalities=["*"])
            session.add(agent)
            # A conversation that never got a message is no conversation.
            session.add(Conversation(id="empty0", token_hash=secrets.token_hex(32), municipality="101", language="da",
                                     mode="closed", last_seq=0, created_at=at(3, 9)))
            for cid, (municipality, language, start, msgs) in CONVERSATIONS.items():
                session.add(Conversation(
                    id=cid, token_hash=secrets.token_hex(32), municipality=municipality, language=language,
                    mode="closed", last_seq=len(msgs), created_at=start, updated_at=start, closed_at=start,
                    close_reason="agent_closed" if cid in ESCALATIONS else "citizen_inactive",
                    citizen_active_at=start, citizen_seen_at=start, last_message_at=start,
                ))
            await session.flush()
            for cid, (_m, _l, start, msgs) in CONVERSATIONS.items():
                for seq, (sender, text, topic, payload) in enumerate(msgs, start=1):
                    session.add(Message(conversation_id=cid, seq=seq, sender=sender, text=text, payload=payload,
                                        topic=topic, confidence=0.9 if topic else None,
                                        created_at=start + dt.timedelta(seconds=10 * seq)))
            await session.flush()
            for cid, (reason, status, wait, tags, rating) in ESCALATIONS.items():
                start = CONVERSATIONS[cid][2]
                enqueued = start + dt.timedelta(minutes=2)
                esc = Escalation(conversation_id=cid, queue_name="da-general", reason=reason, status=status,
                                 enqueued_at=enqueued, created_at=enqueued,
                                 assigned_agent_id=agent.id if wait is not None else None,
                                 assigned_at=enqueued + dt.timedelta(seconds=wait) if wait is not None else None,
                                 ended_at=enqueued + dt.timedelta(minutes=10))
                session.add(esc)
                await session.flush()
                if wait is None:
                    continue
                session.add(Claim(escalation_id=esc.id, conversation_id=cid, agent_id=agent.id,
                                  started_at=esc.assigned_at, ended_at=esc.ended_at, end_reason="closed"))
                closure = Closure(conversation_id=cid, agent_id=agent.id, reason="agent_closed", created_at=esc.ended_at)
                session.add(closure)
                await session.flush()
                for tag in tags:
                    session.add(ClosureTag(closure_id=closure.id, tag_code=tag))
                if rating is not None:
                    session.add(Rating(conversation_id=cid, score=rating, created_at=esc.ended_at + dt.timedelta(minutes=1)))
