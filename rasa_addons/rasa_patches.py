"""Every change this deployment makes to Rasa's own behaviour, in one place.

Applied at start-up by rasa_addons.server (`install()`), each patch cuts work a
turn does that is not the assistant's real work, or lets several Rasa
instances serve the same conversations; none changes what the bot answers:

- event classes: Rasa looks an event's class up by walking every subclass of
  `Event` for every event it deserialises (each tracker read walks the whole
  class tree once per stored event). Looked up in a table instead.
- action responses: Rasa checks every action server answer against its JSON
  schema with `jsonschema.validate`, which checks the schema itself and builds
  a validator on every call. Compiled once.
- action server calls: Rasa opens a new HTTP session (and TCP connection) for
  every action call and knows one action server. `ActionServerEndpoint`
  keeps its connections, and calls the next action server of
  ACTION_SERVER_FALLBACK_URLS (comma-separated) when one cannot be reached,
  so a dead action server costs a turn a retry instead of its answer. Only a
  call that never got an answer is retried: the connection failed or closed.
- tracker save: Rasa counts the stored events of the conversation before
  every save to know which events are new. The tracker store now remembers how
  many events it read, which is exact because a tracker is read and saved
  under the conversation's lock (shared by all instances through the lock
  store); a tracker it did not read is counted as before.
- the saved tracker of a turn is made available to the bridge channel
  (`TurnRecord`), so it answers without reading the tracker back.

- understanding off the event loop: Rasa runs the NLU graph (language,
  topic, sentence embedding, knowledge search) synchronously in the server's
  event loop, so while one message is understood no other conversation's
  tracker read, save or lock call can proceed. `MessageProcessor.parse_message`
  now runs in one worker thread per process (`NLU_THREAD_NAME`), one message
  at a time, in Rasa's own code; the embedding (C, without the GIL) and the
  database and Redis waits of other turns overlap.

- one OpenMP thread for the sentence embeddings (OMP_NUM_THREADS=1 unless
  set): a turn runs on one core anyway, and with two threads each embedding
  spent 4-5 times the CPU (spin-waiting) on a machine with other work:
  67.8 ms instead of 14.7 ms per message. More cores serve more instances.

RASA_SERVING_PATCHES=off leaves Rasa as it is (for comparison measurements).
PINNED holds a hash of the source of every Rasa 3.6.21 function patched or
relied upon: after a Rasa upgrade that changes one, the server runs Rasa
unpatched (and logs it), and tests/rasa_addons/test_rasa_patches.py fails
until each patch has been checked against the new code.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import threading
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Text, Type

import aiohttp

logger = logging.getLogger(__name__)

SWITCH_ENV = "RASA_SERVING_PATCHES"
FALLBACK_URLS_ENV = "ACTION_SERVER_FALLBACK_URLS"
# Attribute on a tracker read from the SQL store: how many of its events are stored.
STORED_EVENTS_ATTRIBUTE = "_ddh_stored_events"


def limit_embedding_threads() -> None:
    """One OpenMP thread per process unless OMP_NUM_THREADS says otherwise.

    OpenMP reads the variable once, when the first library using it loads
    (Rasa's imports load some), so this must run before Rasa is imported.
    """
    if enabled():
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def rasa_source(path: Text) -> Text:
    """The source of `module:Class.function` as the installed Rasa has it
    (read from the file, so it is Rasa's even after the patch replaced it)."""
    import ast
    import importlib.util

    module_name, attribute = path.split(":")
    class_name, function_name = attribute.split(".")
    spec = importlib.util.find_spec(module_name)
    source = open(spec.origin, encoding="utf-8").read()
    tree = ast.parse(source)
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name == class_name:
            for node in cls.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function_name:
                    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                    return "".join(source.splitlines(keepends=True)[first - 1:node.end_lineno])
    raise LookupError(f"{path} not found in the installed Rasa")


def source_hash(path: Text) -> str:
    """What PINNED holds: a short hash of the function's source."""
    return hashlib.sha256(rasa_source(path).encode()).hexdigest()[:16]


def changed_functions() -> List[Text]:
    """The pinned functions whose source is not the one the patches were written for."""
    changed = []
    for path, expected in PINNED.items():
        try:
            if source_hash(path) != expected:
                changed.append(path)
        except (LookupError, OSError):
            changed.append(path)
    return changed


# ------------------------------------------------------------ event classes


def _install_event_lookup() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    table: Dict[Text, Type[Event]] = {}

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        found = table.get(type_name)
        if found is None:
            # First use, or an event class defined since: rebuild, then let
            # Rasa's own lookup decide the rest (defaults, unknown names).
            table.clear()
            for cls in all_subclasses(Event):
                table.setdefault(cls.type_name, cls)
            found = table.get(type_name)
            if found is None:
                return original(type_name, default)
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)


# ------------------------------------------------------------ action responses


def _install_compiled_validation() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result


# ------------------------------------------------------------ action server calls


def _endpoint_class():
    from rasa.utils.endpoints import EndpointConfig

    class KeptConnectionsEndpoint(EndpointConfig):
        """Rasa's endpoint, keeping its HTTP session (and connections) per event loop."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._sessions: Dict[int, _KeptSession] = {}

        def session(self) -> "_KeptSession":
            import asyncio

            # One session per event loop (Sanic workers and tests run several).
            loop = id(asyncio.get_running_loop())
            current = self._sessions.get(loop)
            if current is None or current.closed:
                current = _KeptSession(super().session())
                self._sessions[loop] = current
            return current

    class ActionServerEndpoint(KeptConnectionsEndpoint):
        """The action endpoint: kept connections and fallback action servers."""

        def __init__(self, *args: Any, fallback_urls: Optional[List[Text]] = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            settings = dict(params=self.params, headers=self.headers, basic_auth=self.basic_auth,
                            token=self.token, token_name=self.token_name, cafile=self.cafile, **self.kwargs)
            self.fallbacks = [
                KeptConnectionsEndpoint(url=url, **settings)
                for url in dict.fromkeys(fallback_urls or []) if url and url != self.url
            ]

        @classmethod
        def wrapping(cls, endpoint: EndpointConfig, fallback_urls: List[Text]) -> "ActionServerEndpoint":
            return cls(
                url=endpoint.url,
                params=endpoint.params,
                headers=endpoint.headers,
                basic_auth=endpoint.basic_auth,
                token=endpoint.token,
                token_name=endpoint.token_name,
                cafile=endpoint.cafile,
                fallback_urls=fallback_urls,
                **endpoint.kwargs,
            )

        async def request(self, *args: Any, **kwargs: Any) -> Optional[Any]:
            targets = [self] + self.fallbacks
            for index, target in enumerate(targets):
                try:
                    return await EndpointConfig.request(target, *args, **dict(kwargs))
                except aiohttp.ClientConnectionError as error:
                    # Refused, reset or closed without an answer: the next server.
                    if index == len(targets) - 1:
                        raise
                    logger.warning("action server %s unreachable (%s); calling %s",
                                   target.url, type(error).__name__, targets[index + 1].url)
            return None  # not reached: the last error is raised

    return ActionServerEndpoint


class _KeptSession:
    """An aiohttp session that outlives `async with` (Rasa closes it after each call)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    @property
    def closed(self) -> bool:
        return self._session.closed

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def fallback_urls_from_env() -> List[Text]:
    return [url.strip() for url in os.environ.get(FALLBACK_URLS_ENV, "").split(",") if url.strip()]


def _install_action_endpoint() -> None:
    from rasa.core.utils import AvailableEndpoints

    original = AvailableEndpoints.read_endpoints.__func__
    endpoint_class = _endpoint_class()

    def read_endpoints(cls, endpoint_file: Text) -> "AvailableEndpoints":
        endpoints = original(cls, endpoint_file)
        if endpoints.action is not None and endpoints.action.url:
            endpoints.action = endpoint_class.wrapping(endpoints.action, fallback_urls_from_env())
        return endpoints

    AvailableEndpoints.read_endpoints = classmethod(read_endpoints)


# ------------------------------------------------------------ tracker save


def _install_counted_save() -> None:
    import itertools

    from rasa.core.tracker_store import SQLTrackerStore

    original_retrieve = SQLTrackerStore._retrieve
    original_additional = SQLTrackerStore._additional_events

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool):
        tracker = await original_retrieve(self, sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))
        return tracker

    def _additional_events(self, session, tracker) -> Iterator:
        stored = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
        if stored is None:
            events = original_additional(self, session, tracker)
        else:
            events = itertools.islice(tracker.events, stored, len(tracker.events))
        # Whatever is yielded now is stored once the save commits.
        setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))
        return events

    SQLTrackerStore._retrieve = _retrieve
    SQLTrackerStore._additional_events = _additional_events


# ------------------------------------------------------------ the turn's tracker


@dataclass
class TurnRecord:
    """Filled while the bridge channel runs a turn."""

    sender_id: Text
    tracker: Any = None


_current_turn: contextvars.ContextVar[Optional[TurnRecord]] = contextvars.ContextVar("ddh_turn", default=None)


@contextmanager
def recording_turn(sender_id: Text) -> Iterator[TurnRecord]:
    """Within this block, the tracker the processor saves for `sender_id` is kept."""
    record = TurnRecord(sender_id)
    token = _current_turn.set(record)
    try:
        yield record
    finally:
        _current_turn.reset(token)


def _install_turn_record() -> None:
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.save_tracker

    async def save_tracker(self, tracker) -> None:
        await original(self, tracker)
        record = _current_turn.get()
        if record is not None and record.sender_id == tracker.sender_id:
            record.tracker = tracker

    MessageProcessor.save_tracker = save_tracker


# ------------------------------------------------------------ understanding off the event loop

NLU_THREAD_NAME = "ddh-nlu"
_nlu_thread = threading.local()


def _run_to_completion(coroutine_function: Any, *args: Any) -> Any:
    """In the NLU thread: run Rasa's coroutine on that thread's own event loop."""
    loop = getattr(_nlu_thread, "loop", None)
    if loop is None:
        loop = _nlu_thread.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coroutine_function(*args))


def _install_parse_thread() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from rasa.core.processor import MessageProcessor

    original = MessageProcessor.parse_message
    # One thread: the NLU components are used by one message at a time, as in Rasa.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=NLU_THREAD_NAME)

    async def parse_message(self, message, tracker=None, only_output_properties: bool = True):
        if self.http_interpreter:  # a remote NLU server: already a network call
            return await original(self, message, tracker, only_output_properties)
        call = functools.partial(_run_to_completion, original, self, message, tracker, only_output_properties)
        return await asyncio.get_running_loop().run_in_executor(executor, call)

    MessageProcessor.parse_message = parse_message


# ------------------------------------------------------------ install

# Every Rasa function patched here or relied upon by a patch (or by
# rasa_addons.turns), with the hash of its 3.6.21 source (see the tests).
PINNED = {
    "rasa.shared.core.events:Event.resolve_by_type": "b5cf570fa7f286c7",
    "rasa.core.actions.action:RemoteAction._validate_action_result": "f8cdb4be68123961",
    "rasa.core.actions.action:RemoteAction.run": "ccabf6f1160d527a",
    "rasa.utils.endpoints:EndpointConfig.request": "ccdb778aed8208e2",
    "rasa.utils.endpoints:EndpointConfig.session": "e55aa13d9d4fb4bc",
    "rasa.core.utils:AvailableEndpoints.read_endpoints": "9fa059bcb05cc08a",
    "rasa.core.tracker_store:SQLTrackerStore._retrieve": "c8adbf6f4b61ddd1",
    "rasa.core.tracker_store:SQLTrackerStore._additional_events": "d22f99eb863acb07",
    "rasa.core.tracker_store:SQLTrackerStore.save": "57165e46eab3de08",
    "rasa.core.processor:MessageProcessor.save_tracker": "e4532dd4d2970f5d",
    "rasa.core.processor:MessageProcessor.handle_message": "0c41d4780d2d4676",
    "rasa.core.processor:MessageProcessor.parse_message": "b98d8e49b9f2c433",
    "rasa.core.lock_store:LockStore.lock": "8b9b716c031a3444",
}

_installed = False


def install() -> bool:
    """Apply every patch once; returns whether they are on."""
    global _installed
    if _installed:
        return True
    if not enabled():
        logger.info("Rasa serving patches are off (%s)", SWITCH_ENV)
        return False
    changed = changed_functions()
    if changed:
        # Patching code that changed could break turns: run Rasa as it is.
        logger.error("Rasa serving patches not applied: Rasa's %s changed (see rasa_addons/rasa_patches.py)",
                     ", ".join(changed))
        return False
    _install_event_lookup()
    _install_compiled_validation()
    _install_action_endpoint()
    _install_counted_save()
    _install_turn_record()
    _install_parse_thread()
    _installed = True
    return True
