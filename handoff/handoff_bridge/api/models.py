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
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..db.models import INT32_MAX
from ..errors import Invalid
from ..services.review_inbox import DISMISS_REASONS, MAX_ACTION_ITEMS, MAX_NOTE_CHARS
from .common import json_body

Model = TypeVar("Model", bound=BaseModel)

Language = Literal["da", "sv"]
AnswerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]{1,79}$")]
Text = Annotated[str, StringConstraints(max_length=2500)]
ShortText = Annotated[str, StringConstraints(max_length=300)]
Question = Annotated[str, StringConstraints(min_length=1, max_length=400)]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3,4}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Input(BaseModel):
    """A body whose fields the service checks further; unknown fields are ignored."""


class Params(BaseModel):
    """Query or path parameters of a route."""


def parse_body(request, model: type[Model]) -> Model:
    data = json_body(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [{"field": ".".join(str(step) for step in e["loc"]), "message": e["msg"]}
                    for e in exc.errors(include_url=False, include_input=False)][:50]
        raise Invalid("invalid_body", "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5]),
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


class CreateConversationBody(Input):
    municipality: Annotated[str, Field(max_length=64)]
    language: Language


class ConversationIdPath(Params):
    conversation_id: Annotated[str, Field(max_length=64)]


class SendMessageBody(Input):
    text: Annotated[str, Field(max_length=2000)] = Field(description="Refused with 413 message_too_long (max_chars) above the bridge's max_message_chars; never cut")
    payload: Annotated[str, Field(max_length=500)] = Field(None, description='Button payload when the citizen clicked a button')
    client_msg_id: Annotated[str, Field(max_length=64)] = Field(None, description='Makes resends idempotent')
    login_token: str = Field(None, description='Optional login JWT forwarded to Rasa as metadata; never stored')


class GetMessagesQuery(Params):
    after: Annotated[int, Field(ge=0, le=2147483647)] = Field(0)
    wait: Annotated[float, Field(ge=0, le=25)] = Field(0)


class SendIdentityBody(Input):
    kind: Literal['cpr', 'personnummer']
    number: Annotated[str, Field(max_length=20)] = Field(description='DDMMYY-XXXX (cpr) or YYYYMMDD-XXXX / YYMMDD-XXXX (personnummer)')
    client_msg_id: Annotated[str, Field(max_length=64)] = Field(None, description='Makes resends idempotent')
    login_token: str = Field(None, description='Optional login JWT forwarded to Rasa as metadata; never stored')


class DemoLoginBody(Input):
    national_id: Annotated[str, Field(pattern='^([0-9]{10}|[0-9]{12})$')]


class CallbackBody(Input):
    phone: str = Field(description='Stored encrypted')
    description: Annotated[str, Field(max_length=1000)] = None


class RatingBody(Input):
    score: Annotated[int, Field(ge=1, le=9)]
    comment: Annotated[str, Field(max_length=1000)] = None


class AgentLoginBody(Input):
    login: str
    password: str


class SetStatusBody(Input):
    status: Literal['available', 'busy', 'away', 'offline']


class ClaimNextBody(Input):
    queue: str = None


class EscalationIdPath(Params):
    escalation_id: int


class TranscriptQuery(Params):
    after: Annotated[int, Field(ge=0, le=2147483647)] = Field(0)


class ReplyBody(Input):
    text: Annotated[str, Field(max_length=2000)]
    client_msg_id: Annotated[str, Field(max_length=64)] = None


class TransferBody(Input):
    queue: str = None
    agent_id: int = None


class CloseBody(Input):
    tags: list[str] = Field(min_length=1)
    note: Annotated[str, Field(max_length=2000)] = None


class CannedQuery(Params):
    language: Language = None


class CannedIdPath(Params):
    canned_id: int


class CallbacksQuery(Params):
    status: Literal['open', 'in_progress', 'done'] = None


class CallbackIdPath(Params):
    callback_id: int


class CompleteCallbackBody(Input):
    outcome: Annotated[str, Field(max_length=2000)] = None


class AgentIdPath(Params):
    agent_id: int


class StatsSummaryQuery(Params):
    period: Literal['today', '7d'] = Field('today')
    tz: str = Field('Europe/Copenhagen', description='IANA time zone that defines the days')


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


class AuditExportQuery(Params):
    format: Literal['json', 'csv'] = Field('json')


class ListAnswersQuery(Params):
    language: Literal['da', 'sv'] = None
    q: Annotated[str, Field(max_length=200)] = Field(None, description='Search text (id, category or title)')


class AnswerIdPath(Params):
    answer_id: Annotated[str, Field(max_length=80)]


class PublicationsQuery(Params):
    limit: Annotated[int, Field(ge=1, le=500)] = None


class JobIdPath(Params):
    job_id: Annotated[str, Field(max_length=64)]


class AgentInput(Input):
    login: str = None
    password: Annotated[str, Field(min_length=12)] = None
    display_name: str = None
    role: Literal['agent', 'supervisor', 'editor'] = None
    capacity: Annotated[int, Field(ge=0, le=20)] = None
    languages: list[Language] = None
    municipalities: list[str] = None
    active: bool = None


class CannedBody(Input):
    language: Language = None
    title: Annotated[str, Field(max_length=200)] = None
    body: Annotated[str, Field(max_length=4000)] = None
