"""Request shapes as pydantic models: bodies, query and path parameters.

Each route names its shapes in its `@operation` (api/contract.py); the
OpenAPI document is generated from them (handoff_bridge/openapi.py).

`parse_body(request, Model)` reads the JSON object with the same checks as
every other body (api/common.json_body: size, depth, storable text) and
validates it against the model; a failure is a 400 `invalid_body` whose
`problems` list names each field and what is wrong.
"""

from __future__ import annotations

from datetime import date as Date
import math
import re
from typing import Annotated, ClassVar, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from ..db.models import INT32_MAX
from ..errors import Invalid
from ..services import citizen as citizen_rules
from ..services.review_inbox import DISMISS_REASONS, MAX_ACTION_ITEMS, MAX_NOTE_CHARS
from ..services.periods import parse_timezone
from ..services.stats import PERIODS
from .common import json_body, optional_json_body

Model = TypeVar("Model", bound=BaseModel)

Language = Literal["da", "sv"]
AnswerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{1,79}$")]
Text = Annotated[str, StringConstraints(max_length=2500)]
ShortText = Annotated[str, StringConstraints(max_length=300)]
Question = Annotated[str, StringConstraints(min_length=1, max_length=400)]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Params(BaseModel):
    """Query or path parameters of a route."""


class Checked(BaseModel):
    """A body or frame whose fields are checked by `check` first, in order, with
    the error codes clients know (errors.py; e.g. `invalid_text`, 413
    `message_too_long`). `check` returns the values the fields then hold;
    unknown fields are ignored."""

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data, info: ValidationInfo):
        if not isinstance(data, dict):
            raise Invalid("invalid_json", "the body must be a JSON object")
        return cls.check(data, (info.context or {}).get("settings"))

    @classmethod
    def check(cls, data: dict, settings) -> dict:
        raise NotImplementedError


# --- shared rules of the staff bodies ---------------------------------------------------------

AgentStatus = Literal["available", "busy", "away", "offline"]
Role = Literal["agent", "supervisor", "editor"]
CallbackStatus = Literal["open", "in_progress", "done"]
CREDENTIAL_MAX = 256
PASSWORD_MIN = 12
NAME_MAX = 128
NOTE_MAX = 2000
MAX_TAGS = 50
MAX_CAPACITY = 20
MAX_MUNICIPALITIES = 200
CANNED_TITLE_MAX = 200
CANNED_BODY_MAX = 4000


def _is_whole(value, low: int, high: int = INT32_MAX) -> bool:
    """An integer from `low` to `high` (JSON's true and false are not numbers here)."""
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _is_id(value) -> bool:
    return _is_whole(value, 1)


def _queue_name(value) -> str | None:
    """A queue's name as a client may give it (None when not given)."""
    if value is not None and (not isinstance(value, str) or len(value) > NAME_MAX):
        raise Invalid("invalid_queue", "queue must be a queue name")
    return value


def _optional_text(data: dict, key: str, limit: int) -> str | None:
    """Stripped text of at most `limit` characters, or None when absent or empty."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"invalid_{key}", f"{key} must be text of at most {limit} characters")
    return value.strip() or None


def _language(value, *, optional: bool):
    if value is None and optional:
        return None
    if value not in ("da", "sv"):
        raise Invalid("invalid_language", "language must be 'da' or 'sv'")
    return value


def _timezone(name) -> str:
    return parse_timezone(name).key


def _display_name(value) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= NAME_MAX:
        raise Invalid("invalid_display_name", f"display_name must be 1-{NAME_MAX} characters")
    return value.strip()


def _password(value) -> str:
    if not isinstance(value, str) or not PASSWORD_MIN <= len(value) <= CREDENTIAL_MAX:
        raise Invalid("weak_password", f"password must be {PASSWORD_MIN}-{CREDENTIAL_MAX} characters")
    return value


def _login_token(data: dict) -> str | None:
    login_token = data.get("login_token")
    if login_token is not None and (not isinstance(login_token, str) or len(login_token) > LOGIN_TOKEN_MAX):
        raise Invalid("invalid_login_token", f"login_token must be a string of at most {LOGIN_TOKEN_MAX} characters")
    return login_token


def _max_chars(settings) -> int:
    return settings.max_message_chars if settings is not None else DEFAULT_MAX_MESSAGE_CHARS


# --- citizen API and citizen websocket -------------------------------------------------------

LOGIN_TOKEN_MAX = 4096
DEFAULT_MAX_MESSAGE_CHARS = 2000
ClientMsgId = Annotated[str, Field(min_length=1, max_length=64, description="Makes resends idempotent")]
LoginToken = Annotated[str, Field(max_length=LOGIN_TOKEN_MAX,
                                  description="Optional login JWT forwarded to Rasa as metadata; never stored")]
MessageText = Annotated[str, Field(min_length=1, json_schema_extra={"maxLength": DEFAULT_MAX_MESSAGE_CHARS},
                                   description="Stripped. Refused with 413 message_too_long (max_chars) above the "
                                               "bridge's max_message_chars (2000 unless configured); never cut")]
Payload = Annotated[str, Field(max_length=citizen_rules.PAYLOAD_MAX,
                               description="Button payload when the citizen clicked a button")]


class CreateConversationBody(Checked):
    municipality: Annotated[str, Field(min_length=1, max_length=citizen_rules.MUNICIPALITY_MAX)]
    language: Language

    @classmethod
    def check(cls, data, settings):
        return {"municipality": citizen_rules.check_municipality(data.get("municipality")),
                "language": citizen_rules.check_language(data.get("language"))}


class MessageFrame(Checked):
    """A citizen's message on the websocket: {"type": "message", "text", "payload"?, "client_msg_id"?}."""

    type: Literal["message"] = "message"
    text: MessageText
    payload: Payload | None = None
    client_msg_id: ClientMsgId | None = None

    @classmethod
    def check(cls, data, settings):
        return {"text": citizen_rules.check_text(data.get("text"), _max_chars(settings)),
                "payload": citizen_rules.check_payload(data.get("payload")),
                "client_msg_id": citizen_rules.check_client_msg_id(data.get("client_msg_id"))}


class SendMessageBody(Checked):
    text: MessageText
    payload: Payload | None = None
    client_msg_id: ClientMsgId | None = None
    login_token: LoginToken | None = None

    @classmethod
    def check(cls, data, settings):
        login_token = _login_token(data)
        return {**MessageFrame.check(data, settings), "login_token": login_token}


class IdentityFrame(Checked):
    """A CPR number / personnummer from the widget's field on the websocket:
    {"type": "identity", "kind", "number", "client_msg_id"?}."""

    type: Literal["identity"] = "identity"
    kind: Literal[citizen_rules.IDENTITY_KINDS]  # type: ignore[valid-type]
    # Without spaces; never echoed in an error, never shown in a repr.
    number: Annotated[str, Field(max_length=citizen_rules.IDENTITY_MAX_CHARS, repr=False,
                                 description="DDMMYY-XXXX (cpr) or YYYYMMDD-XXXX / YYMMDD-XXXX (personnummer)")]
    client_msg_id: ClientMsgId | None = None

    @classmethod
    def check(cls, data, settings):
        kind, number = citizen_rules.check_identity(data.get("kind"), data.get("number"))
        return {"kind": kind, "number": number,
                "client_msg_id": citizen_rules.check_client_msg_id(data.get("client_msg_id"))}


class SendIdentityBody(Checked):
    kind: Literal[citizen_rules.IDENTITY_KINDS]  # type: ignore[valid-type]
    number: Annotated[str, Field(max_length=citizen_rules.IDENTITY_MAX_CHARS, repr=False,
                                 description="DDMMYY-XXXX (cpr) or YYYYMMDD-XXXX / YYMMDD-XXXX (personnummer)")]
    client_msg_id: ClientMsgId | None = None
    login_token: LoginToken | None = None

    @classmethod
    def check(cls, data, settings):
        login_token = _login_token(data)
        return {**IdentityFrame.check(data, settings), "login_token": login_token}


class CallbackBody(Checked):
    # Normalised; stored encrypted, never echoed.
    phone: Annotated[str, Field(repr=False, description="Stored encrypted")]
    description: Annotated[str, Field(max_length=1000)] | None = None

    @classmethod
    def check(cls, data, settings):
        return {"phone": citizen_rules.check_phone(data.get("phone")),
                "description": citizen_rules.check_description(data.get("description"))}


class RatingBody(Checked):
    score: Annotated[int, Field(ge=1, le=9)]
    comment: Annotated[str, Field(max_length=1000)] | None = None

    @classmethod
    def check(cls, data, settings):
        return {"score": citizen_rules.check_score(data.get("score")),
                "comment": citizen_rules.check_comment(data.get("comment"))}


class CitizenHello(Checked):
    """The citizen websocket's first frame: {"type": "hello", "token", "last_seq"?, "login_token"?}.
    Its problems are InvalidHello (an error frame, then close 4400)."""

    type: Literal["hello"]
    token: str | None = None
    last_seq: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0
    # Anything but a string is ignored, as before.
    login_token: str | None = None

    @classmethod
    def check(cls, data, settings):
        from .common import InvalidHello

        if data.get("type") != "hello":
            raise InvalidHello('the first frame must be {"type":"hello",...}')
        last_seq = data.get("last_seq", 0)
        if not _is_whole(last_seq, 0):
            raise InvalidHello(f"last_seq must be an integer from 0 to {INT32_MAX}")
        token = data.get("token")
        login_token = data.get("login_token")
        return {"type": "hello", "token": token if isinstance(token, str) else None, "last_seq": last_seq,
                "login_token": login_token if isinstance(login_token, str) else None}


def parse_body(request, model: type[Model], *, optional: bool = False) -> Model:
    """The request's JSON body as `model`; with `optional`, no body reads as `{}`."""
    data = optional_json_body(request) if optional else json_body(request)
    return validate(model, data, request.app.ctx.settings)


def parse_query(request, model: type[Model]) -> Model:
    """The query string as `model` (each argument's first value)."""
    return validate(model, {name: values[0] for name, values in request.args.items()}, request.app.ctx.settings,
                    code="invalid_query")


def validate(model: type[Model], data: dict, settings=None, *, code: str = "invalid_body") -> Model:
    """`data` (a JSON object already read: json_body, parse_frame) as `model`.

    A `Checked` model's own rules answer with their error codes; any other
    failure is a 400 `code` listing the problems (never the input)."""
    try:
        return model.model_validate(data, context={"settings": settings})
    except ValidationError as exc:
        problems = [{"field": ".".join(str(step) for step in e["loc"]), "message": e["msg"]}
                    for e in exc.errors(include_url=False, include_input=False)][:50]
        raise Invalid(code, "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5]),
                      problems=problems) from None


class LoginBody(Body):
    login: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)]


class Variant(Body):
    answer: Text | None = None
    link: ShortText | None = None


class LanguageEntry(Body):
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    answer: Text = ""
    examples: list[Question] = Field(default_factory=list, max_length=20)
    related: list[AnswerId] = Field(default_factory=list, max_length=10)
    municipal: bool = False
    variants: dict[MunicipalityCode, Variant] = Field(default_factory=dict, max_length=200)


class AnswerDocument(Body):
    """An answer as the editor edits it; the knowledge engine applies the schema's
    own rules (1-5 examples, the official link, ...) when it is checked or published."""

    # The answer's id is the path's (given here it is ignored: ids never change once published).
    id: AnswerId | None = None
    category: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{1,79}$")] | None = None
    source: ShortText = ""
    last_verified: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    da: LanguageEntry | None = None
    sv: LanguageEntry | None = None


class SaveDraftBody(Body):
    document: AnswerDocument
    # The draft_version the editor started from: a save over someone else's newer save is refused.
    draft_version: int = Field(ge=0, le=2**31 - 1)


class NewAnswerBody(Body):
    id: AnswerId
    document: AnswerDocument


class ExamplesBody(Body):
    language: Language
    questions: list[Question] = Field(min_length=1, max_length=200)


class NewFromQuestionsBody(Body):
    language: Language
    questions: list[Question] = Field(min_length=1, max_length=200)
    category: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{1,79}$")] | None = None


class GateBody(Body):
    answer_ids: list[AnswerId] = Field(min_length=1, max_length=500)


class PublishBody(Body):
    answer_ids: list[AnswerId] = Field(min_length=1, max_length=500)
    # The regressions the editor accepts, as the gate listed them ("<language>:<question>" keys);
    # the publish goes ahead only when they are exactly the ones the gate finds.
    accept: list[Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=list, max_length=5000)


class RollbackBody(Body):
    revision_id: int = Field(ge=1, le=2**31 - 1)
    accept: list[Annotated[str, StringConstraints(max_length=500)]] = Field(default_factory=list, max_length=5000)


ItemId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{1,79}$")]


class _Group(Body):
    """The group as the editor saw it: its item ids (and its id from the listing)."""

    item_ids: list[ItemId] = Field(min_length=1, max_length=MAX_ACTION_ITEMS)
    language: Language
    group: Annotated[str, StringConstraints(pattern=r"^g[0-9a-f]{31}$")] | None = None


class AttachBody(_Group):
    answer_id: AnswerId


class InboxNewAnswerBody(_Group):
    # An existing category, or none yet (the editor chooses it before publishing).
    category: Category | None = None


class DismissBody(_Group):
    reason: Literal[DISMISS_REASONS]  # type: ignore[valid-type]
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE_CHARS)] | None = None



class ConversationIdPath(Params):
    conversation_id: Annotated[str, Field(max_length=64)]



class GetMessagesQuery(Checked):
    after: Annotated[int, Field(ge=0, le=INT32_MAX)] = Field(0)
    wait: Annotated[float, Field(ge=0, description="Seconds to wait for a message; longer waits are cut to the "
                                                   "bridge's long_poll_max_seconds (25 unless configured)")] = Field(0)

    @classmethod
    def check(cls, data, settings):
        raw_after, raw_wait = data.get("after"), data.get("wait")
        try:
            after = int(raw_after) if raw_after is not None else 0
        except ValueError:
            raise Invalid("invalid_query", "after must be an integer") from None
        if not 0 <= after <= INT32_MAX:
            raise Invalid("invalid_query", f"after must be between 0 and {INT32_MAX}")
        try:
            wait = float(raw_wait) if raw_wait is not None else 0.0
        except ValueError:
            raise Invalid("invalid_query", "wait must be a number") from None
        if not math.isfinite(wait):
            raise Invalid("invalid_query", "wait must be a finite number")
        longest = settings.long_poll_max_seconds if settings is not None else 25
        return {"after": after, "wait": max(0.0, min(longest, wait))}



class DemoLoginBody(Checked):
    national_id: Annotated[str, Field(pattern='^([0-9]{10}|[0-9]{12})$')]

    @classmethod
    def check(cls, data, settings):
        national_id = data.get("national_id")
        if not isinstance(national_id, str) or not re.fullmatch(r"[0-9]{10}|[0-9]{12}", national_id):
            raise Invalid("invalid_national_id", "national_id must be 10 digits (CPR) or 12 digits (personnummer)")
        return {"national_id": national_id}




class AgentLoginBody(Checked):
    login: Annotated[str, Field(max_length=CREDENTIAL_MAX)]
    password: Annotated[str, Field(max_length=CREDENTIAL_MAX)]

    @classmethod
    def check(cls, data, settings):
        login, password = data.get("login"), data.get("password")
        if not all(isinstance(v, str) and len(v) <= CREDENTIAL_MAX for v in (login, password)):
            raise Invalid("invalid_credentials_format", "login and password are required")
        return {"login": login, "password": password}


class SetStatusBody(Checked):
    status: AgentStatus

    @classmethod
    def check(cls, data, settings):
        status = data.get("status")
        if status not in get_args(AgentStatus):
            raise Invalid("invalid_status", f"status must be one of {', '.join(get_args(AgentStatus))}")
        return {"status": status}



class EscalationIdPath(Params):
    escalation_id: int


class TranscriptQuery(Params):
    after: Annotated[int, Field(ge=0, le=2147483647)] = Field(0)



class TransferBody(Checked):
    """Exactly one of `queue` and `agent_id`."""

    queue: Annotated[str, Field(max_length=NAME_MAX)] | None = None
    agent_id: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None

    @classmethod
    def check(cls, data, settings):
        queue, agent_id = data.get("queue"), data.get("agent_id")
        if (queue is None) == (agent_id is None):
            raise Invalid("invalid_transfer", "give exactly one of queue or agent_id")
        if agent_id is not None and not _is_id(agent_id):
            raise Invalid("invalid_agent_id", "agent_id must be an agent's id (a positive integer)")
        return {"queue": _queue_name(queue), "agent_id": agent_id}


class CloseBody(Checked):
    tags: list[Annotated[str, Field(max_length=NAME_MAX)]] = Field(min_length=1, max_length=MAX_TAGS)
    note: Annotated[str, Field(max_length=NOTE_MAX)] | None = None

    @classmethod
    def check(cls, data, settings):
        tags = data.get("tags")
        if not isinstance(tags, list) or not tags or any(not isinstance(t, str) for t in tags):
            raise Invalid("tags_required", "close needs at least one tag from the taxonomy")
        if len(tags) > MAX_TAGS:
            raise Invalid("too_many_tags", f"close takes at most {MAX_TAGS} tags")
        if any(len(t) > NAME_MAX for t in tags):
            raise Invalid("unknown_tags", "tags are not in the taxonomy", tags=[t[:NAME_MAX] for t in tags])
        return {"tags": sorted(set(tags)), "note": _optional_text(data, "note", NOTE_MAX)}


class CannedQuery(Checked):
    language: Language | None = None

    @classmethod
    def check(cls, data, settings):
        return {"language": _language(data.get("language"), optional=True)}


class CannedIdPath(Params):
    canned_id: int


class CallbacksQuery(Checked):
    status: CallbackStatus | None = None

    @classmethod
    def check(cls, data, settings):
        status = data.get("status")
        if status is not None and status not in get_args(CallbackStatus):
            raise Invalid("invalid_status", "status must be open, in_progress or done")
        return {"status": status}


class CallbackIdPath(Params):
    callback_id: int


class CompleteCallbackBody(Checked):
    outcome: Annotated[str, Field(max_length=NOTE_MAX)] | None = None

    @classmethod
    def check(cls, data, settings):
        return {"outcome": _optional_text(data, "outcome", NOTE_MAX)}


class AgentIdPath(Params):
    agent_id: int


class StatsSummaryQuery(Checked):
    period: Literal['today', '7d'] = Field('today')
    tz: str = Field('Europe/Copenhagen', description='IANA time zone that defines the days')

    @classmethod
    def check(cls, data, settings):
        period = data.get("period") or "today"
        if period not in PERIODS:
            raise Invalid("invalid_period", "period must be 'today' or '7d'")
        return {"period": period, "tz": _timezone(data.get("tz"))}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class ReportQuery(Params):
    from_: Date = Field(None, description='First local Date (default 29 days before to)', alias='from')
    to: Date = Field(None, description='Last local Date (default today)')
    tz: str = Field('Europe/Copenhagen', description='IANA time zone that defines the dates')
    municipality: Annotated[str, Field(max_length=128)] = None
    topic: Annotated[str, Field(max_length=128)] = Field(None, description="The conversation's topic (the first topic the assistant answered)")


class TablePath(Params):
    table: Literal['summary', 'outcomes', 'topics', 'escalations', 'hours', 'ratings', 'tags', 'unanswered', 'changes']


class GroupsQuery(Params):
    from_: Date = Field(None, description='First local Date (default 6 days before to)', alias='from')
    to: Date = Field(None, description='Last local Date (default today)')
    tz: str = Field('Europe/Copenhagen', description='IANA time zone that defines the dates')
    language: Literal['da', 'sv'] = Field(None, description='One language (default both)')
    status: Literal['open', 'attached', 'drafted', 'dismissed', 'all'] = Field('open')
    limit: Annotated[int, Field(ge=1, le=500)] = Field(100, description='Groups returned (the largest)')


class AnswersQuery(Params):
    language: Literal['da', 'sv'] = Field(None, description='One language (default both)')


class ActionsQuery(Params):
    limit: Annotated[int, Field(ge=1, le=500)] = Field(50)


class AuditExportQuery(Checked):
    format: Literal['json', 'csv'] = Field('json')

    @classmethod
    def check(cls, data, settings):
        fmt = data.get("format") or "json"
        if fmt not in ("json", "csv"):
            raise Invalid("invalid_format", "format must be json or csv")
        return {"format": fmt}


class ListAnswersQuery(Checked):
    language: Language | None = None
    q: Annotated[str, Field(max_length=200)] = Field("", description='Search text (id, category or title)')

    @classmethod
    def check(cls, data, settings):
        q = (data.get("q") or "").strip().casefold()
        if len(q) > 200:
            raise Invalid("invalid_query", "q must be at most 200 characters")
        return {"language": _language(data.get("language"), optional=True), "q": q}


class AnswerIdPath(Params):
    answer_id: Annotated[str, Field(max_length=80)]


class PublicationsQuery(Params):
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class JobIdPath(Params):
    job_id: Annotated[str, Field(max_length=64)]


class AgentChangeBody(Checked):
    """A supervisor's change to an account: only the fields given change."""

    display_name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)] = None
    password: Annotated[str, Field(min_length=PASSWORD_MIN, max_length=CREDENTIAL_MAX)] = None
    role: Role = None
    capacity: Annotated[int, Field(ge=0, le=MAX_CAPACITY)] = None
    languages: list[Language] = Field(None, max_length=2)
    municipalities: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        None, max_length=MAX_MUNICIPALITIES, description="Municipality codes served, or ['*'] for all")
    active: bool = None

    @classmethod
    def check(cls, data, settings):
        out = {}
        if "display_name" in data:
            out["display_name"] = _display_name(data["display_name"])
        if "role" in data:
            if data["role"] not in get_args(Role):
                raise Invalid("invalid_role", "role must be agent, supervisor or editor")
            out["role"] = data["role"]
        if "capacity" in data:
            cap = data["capacity"]
            if not _is_whole(cap, 0, MAX_CAPACITY):
                raise Invalid("invalid_capacity", f"capacity must be an integer from 0 to {MAX_CAPACITY}")
            out["capacity"] = cap
        if "languages" in data:
            langs = data["languages"]
            if not isinstance(langs, list) or any(lang not in ("da", "sv") for lang in langs):
                raise Invalid("invalid_languages", "languages must be a list of 'da'/'sv'")
            out["languages"] = sorted(set(langs))
        if "municipalities" in data:
            munis = data["municipalities"]
            if (not isinstance(munis, list) or len(munis) > MAX_MUNICIPALITIES
                    or any(not isinstance(m, str) or not 1 <= len(m) <= 64 for m in munis)):
                raise Invalid("invalid_municipalities", "municipalities must be a list of codes or '*'")
            out["municipalities"] = sorted(set(munis))
        if "active" in data:
            if not isinstance(data["active"], bool):
                raise Invalid("invalid_active", "active must be true or false")
            out["active"] = data["active"]
        if "password" in data:
            out["password"] = _password(data["password"])
        return out


class NewAgentBody(AgentChangeBody):
    """A new account. Defaults: display name = login, role agent, capacity 3,
    languages ['da'], all municipalities."""

    login: Annotated[str, Field(min_length=1, max_length=NAME_MAX, description="Stored in lower case")]
    password: Annotated[str, Field(min_length=PASSWORD_MIN, max_length=CREDENTIAL_MAX)]
    display_name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
    role: Role = "agent"
    capacity: Annotated[int, Field(ge=0, le=MAX_CAPACITY)] = 3
    languages: list[Language] = Field(default_factory=lambda: ["da"], max_length=2)
    municipalities: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: ["*"], max_length=MAX_MUNICIPALITIES)
    active: bool = True

    @classmethod
    def check(cls, data, settings):
        login = data.get("login")
        if not isinstance(login, str) or not 1 <= len(login.strip()) <= NAME_MAX:
            raise Invalid("invalid_login", f"login must be 1-{NAME_MAX} characters")
        if "password" not in data:
            raise Invalid("weak_password", "password is required")
        changes = AgentChangeBody.check(data, settings)
        if "display_name" not in changes:
            changes["display_name"] = _display_name(data.get("display_name") or login)
        return {**changes, "login": login.strip().lower()}


class CannedChangeBody(Checked):
    """A supervisor's change to a canned response: only the fields given change."""

    # Whether fields may be left out (a change) or all are needed (a new response).
    partial: ClassVar[bool] = True

    language: Language = None
    title: Annotated[str, Field(min_length=1, max_length=CANNED_TITLE_MAX)] = None
    body: Annotated[str, Field(min_length=1, max_length=CANNED_BODY_MAX)] = None

    @classmethod
    def check(cls, data, settings):
        out = {}
        for key, limit in (("title", CANNED_TITLE_MAX), ("body", CANNED_BODY_MAX)):
            if key in data or not cls.partial:
                value = data.get(key)
                if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
                    raise Invalid(f"invalid_{key}", f"{key} must be 1-{limit} characters")
                out[key] = value.strip()
        if "language" in data or not cls.partial:
            out["language"] = _language(data.get("language"), optional=False)
        return out


class NewCannedBody(CannedChangeBody):
    partial: ClassVar[bool] = False

    language: Language
    title: Annotated[str, Field(min_length=1, max_length=CANNED_TITLE_MAX)]
    body: Annotated[str, Field(min_length=1, max_length=CANNED_BODY_MAX)]


# --- agent API and agent websocket -----------------------------------------------------------

class ReplyBody(Checked):
    text: MessageText
    client_msg_id: ClientMsgId | None = None

    @classmethod
    def check(cls, data, settings):
        return {"text": citizen_rules.check_text(data.get("text"), _max_chars(settings)),
                "client_msg_id": citizen_rules.check_client_msg_id(data.get("client_msg_id"))}


class AgentMessageFrame(ReplyBody):
    """An agent's reply on the websocket: {"type": "message", "conversation_id", "text", "client_msg_id"?}."""

    type: Literal["message"] = "message"
    conversation_id: str

    @classmethod
    def check(cls, data, settings):
        # The websocket reads conversation_id before the frame gets here: it is a string.
        return {**ReplyBody.check(data, settings), "conversation_id": data.get("conversation_id")}


class ClaimNextBody(Checked):
    queue: Annotated[str, Field(max_length=NAME_MAX)] | None = None

    @classmethod
    def check(cls, data, settings):
        return {"queue": _queue_name(data.get("queue"))}


MAX_CURSORS = 100


class AgentHello(Checked):
    """The agent websocket's first frame: {"type": "hello", "token"?, "cursors"?: {<conversation id>: <last seq>}}.
    Its problems are InvalidHello (an error frame, then close 4400)."""

    type: Literal["hello"]
    token: str | None = None
    cursors: dict[Annotated[str, Field(min_length=1, max_length=64)],
                  Annotated[int, Field(ge=0, le=INT32_MAX)]] = Field(default_factory=dict, max_length=MAX_CURSORS)

    @classmethod
    def check(cls, data, settings):
        from .common import InvalidHello

        if data.get("type") != "hello":
            raise InvalidHello('the first frame must be {"type":"hello",...}')
        token = data.get("token")
        if token is not None and not isinstance(token, str):
            raise InvalidHello("token must be a string")
        cursors = data.get("cursors", {})
        if cursors is None:
            cursors = {}
        if not isinstance(cursors, dict) or len(cursors) > MAX_CURSORS:
            raise InvalidHello(f"cursors must be an object of at most {MAX_CURSORS} conversation ids")
        for cid, seq in cursors.items():
            if not 1 <= len(cid) <= 64:
                raise InvalidHello("cursor keys must be conversation ids")
            if not _is_whole(seq, 0):
                raise InvalidHello(f"cursors must be integers from 0 to {INT32_MAX}")
        return {"type": "hello", "token": token, "cursors": cursors}

