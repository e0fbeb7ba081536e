"""The serving patches (rasa_addons/rasa_patches.py): pinned to Rasa 3.6.21,
and each one keeps Rasa's behaviour while doing less work."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

import pytest
from aiohttp import web
from jsonschema import ValidationError

from rasa.core.actions.action import RemoteAction
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from rasa_addons import rasa_patches
from rasa_addons.tracker_store import MaskingSQLTrackerStore
from tests.support.processes import free_port

assert rasa_patches.install(), "the serving patches are switched off (RASA_SERVING_PATCHES)"


def test_rasa_is_the_version_the_patches_were_written_for():
    assert version("rasa") == "3.6.21", (
        "Rasa changed: check every patch in rasa_addons/rasa_patches.py against the new "
        "source, then update the pinned version and hashes"
    )


@pytest.mark.parametrize("path", sorted(rasa_patches.PINNED))
def test_every_patched_or_relied_upon_rasa_function_is_unchanged(path):
    assert rasa_patches.source_hash(path) == rasa_patches.PINNED[path], (
        f"{path} is not the code rasa_addons/rasa_patches.py was written against: "
        "review the patch against the new source, then update PINNED"
    )


def test_a_changed_rasa_function_switches_the_patches_off(monkeypatch):
    monkeypatch.setitem(rasa_patches.PINNED, "rasa.core.processor:MessageProcessor.save_tracker", "0" * 16)
    assert rasa_patches.changed_functions() == ["rasa.core.processor:MessageProcessor.save_tracker"]


# ------------------------------------------------------------ event classes


def test_event_classes_resolve_as_rasa_resolves_them():
    for cls in all_subclasses(Event):
        expected = next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is expected
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_an_event_class_defined_later_is_found():
    class LateEvent(SlotSet):
        type_name = "ddh_late_event_for_test"

    assert Event.resolve_by_type("ddh_late_event_for_test") is LateEvent


# ------------------------------------------------------------ action responses


def test_action_responses_are_validated_as_before():
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []})
    with pytest.raises(ValidationError) as error:
        action._validate_action_result({"events": "not a list"})
    assert "Failed to validate Action server response" in error.value.message


# ------------------------------------------------------------ action server calls


async def _action_server(answers: list) -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        answers.append((request.headers.get("Authorization"), request.remote))
        return web.json_response({"events": [], "responses": [{"text": "svar"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/webhook"


def _endpoints(tmp_path, monkeypatch, primary: str, fallbacks: str) -> AvailableEndpoints:
    monkeypatch.setenv("ACTION_SERVER_FALLBACK_URLS", fallbacks)
    monkeypatch.setenv("DDH_TEST_ACTION_URL", primary)
    path = tmp_path / "endpoints.yml"
    path.write_text("action_endpoint:\n  url: ${DDH_TEST_ACTION_URL}\n  headers:\n    Authorization: Bearer t0ken\n")
    return AvailableEndpoints.read_endpoints(str(path))


async def test_a_dead_action_server_is_replaced_by_the_next_and_connections_are_kept(tmp_path, monkeypatch):
    answers: list = []
    runner, live = await _action_server(answers)
    dead = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens here
    try:
        endpoint = _endpoints(tmp_path, monkeypatch, dead, live).action
        assert endpoint.url == dead and [f.url for f in endpoint.fallbacks] == [live]
        for _ in range(3):
            assert await endpoint.request(json={"next_action": "x"}, method="post") == {
                "events": [], "responses": [{"text": "svar"}]}
        assert [auth for auth, _ in answers] == ["Bearer t0ken"] * 3
        # One kept session per server, not one per call.
        assert len(endpoint.fallbacks[0]._sessions) == 1
    finally:
        await runner.cleanup()


async def test_without_a_live_action_server_the_call_fails_as_rasa_expects(tmp_path, monkeypatch):
    import aiohttp

    endpoint = _endpoints(tmp_path, monkeypatch, f"http://127.0.0.1:{free_port()}/webhook",
                          f"http://127.0.0.1:{free_port()}/webhook").action
    with pytest.raises(aiohttp.ClientConnectionError):
        await endpoint.request(json={}, method="post")


# ------------------------------------------------------------ tracker save and the turn's tracker


def _events(n: int) -> list:
    events = [ActionExecuted("action_listen")]
    for i in range(n):
        events += [UserUttered(f"besked {i}"), BotUttered(f"svar {i}"), ActionExecuted("action_listen")]
    return events


async def test_saves_store_each_event_once_without_counting(tmp_path):
    store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    sender = "counted-save"
    await store.save(DialogueStateTracker.from_events(sender, _events(2)))  # not read: counted as before
    tracker = await store.retrieve(sender)
    assert getattr(tracker, rasa_patches.STORED_EVENTS_ATTRIBUTE) == 7
    for event in _events(1)[1:]:
        tracker.update(event)
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing stored
    tracker.update(UserUttered("min cpr er 010203-1234"))
    await store.save(tracker)
    stored = await store.retrieve(sender)
    assert [e.as_dict()["event"] for e in stored.events] == [e.as_dict()["event"] for e in tracker.events]
    assert len(stored.events) == 11
    # The masking still applies to what is saved.
    assert stored.latest_message.text == "min cpr er [skjult]"


async def test_the_turn_record_keeps_the_saved_tracker(tmp_path):
    from rasa.core.processor import MessageProcessor

    class Processor:
        tracker_store = MaskingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))

    tracker = DialogueStateTracker.from_events("turn", _events(1))
    with rasa_patches.recording_turn("turn") as record:
        await MessageProcessor.save_tracker(Processor(), tracker)
    assert record.tracker is tracker
    other = DialogueStateTracker.from_events("another", _events(1))
    with rasa_patches.recording_turn("turn") as record:
        await MessageProcessor.save_tracker(Processor(), other)
    assert record.tracker is None


def test_the_switch_turns_the_patches_off(monkeypatch):
    monkeypatch.setenv(rasa_patches.SWITCH_ENV, "off")
    assert not rasa_patches.enabled()
    monkeypatch.setenv(rasa_patches.SWITCH_ENV, "on")
    assert rasa_patches.enabled()
    asyncio  # noqa: B018 - imported for the async tests' event loop plugin


def test_the_server_limits_openmp_before_rasa_loads_it():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", rasa_patches.SWITCH_ENV)}
    probe = ("import sys, rasa_addons.server, os; "
             "print(os.environ.get('OMP_NUM_THREADS'), [m for m in ('rasa', 'sklearn') if m in sys.modules])")
    # The limit is set when the server module starts, before its first Rasa import.
    source = open(rasa_patches.__file__.replace("rasa_patches.py", "server.py")).read()
    assert source.index("limit_embedding_threads()") < source.index("from rasa.")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
    assert out.stdout.startswith("1 "), out.stderr[-2000:]
    out = subprocess.run([sys.executable, "-c", probe], env={**env, rasa_patches.SWITCH_ENV: "off"},
                         capture_output=True, text=True, timeout=300)
    assert out.stdout.startswith("None "), out.stderr[-2000:]


# ------------------------------------------------------------ understanding off the event loop


def _processor_understanding(parse_with_graph):
    from rasa.core.processor import MessageProcessor

    processor = object.__new__(MessageProcessor)
    processor.http_interpreter = None
    processor._parse_message_with_graph = parse_with_graph
    processor._check_for_unseen_features = lambda parse_data: None
    return processor


def test_understanding_runs_in_its_thread_while_the_event_loop_serves_other_conversations():
    import threading

    from rasa.core.channels.channel import UserMessage

    loop_free = threading.Event()
    seen = {}

    def parse_with_graph(message, tracker, only_output_properties):
        seen["thread"] = threading.current_thread().name
        # Set by the event loop below: reached only if the loop is not waiting for this parse.
        seen["loop_was_free"] = loop_free.wait(timeout=10)
        return {"text": message.text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}

    processor = _processor_understanding(parse_with_graph)

    async def scenario():
        parsing = asyncio.ensure_future(processor.parse_message(UserMessage("hej", sender_id="a")))
        while "thread" not in seen:
            await asyncio.sleep(0.01)
        loop_free.set()  # another conversation's work on the loop
        return await parsing

    parse_data = asyncio.run(scenario())
    assert parse_data["intent"]["name"] == "greet" and parse_data["text"] == "hej"
    assert seen["thread"].startswith(rasa_patches.NLU_THREAD_NAME)
    assert seen["loop_was_free"]


def test_understanding_in_its_thread_answers_as_rasa_does_and_passes_errors_on():
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor

    def parse_with_graph(message, tracker, only_output_properties):
        if message.text == "fejl":
            raise RuntimeError("graph failed")
        # Rasa gives the parse an empty tracker of the conversation when none is passed.
        return {"text": message.text, "intent": {"name": "affirm", "confidence": 0.9}, "entities": [],
                "sender": tracker.sender_id, "only_output": only_output_properties}

    processor = _processor_understanding(parse_with_graph)
    parse_data = asyncio.run(processor.parse_message(UserMessage("ja", sender_id="b"), only_output_properties=False))
    assert parse_data == {"text": "ja", "intent": {"name": "affirm", "confidence": 0.9}, "entities": [],
                          "sender": "b", "only_output": False}
    with pytest.raises(RuntimeError, match="graph failed"):
        asyncio.run(processor.parse_message(UserMessage("fejl", sender_id="b")))
    assert MessageProcessor.parse_message.__module__ == rasa_patches.__name__
