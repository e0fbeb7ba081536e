"""Response shapes of the bridge's API, as pydantic models.

They define what each route answers (the OpenAPI document is generated from
them, handoff_bridge/openapi.py) and are what the schema tests check the
live responses against. Routes build their answers as plain dicts; fields a
model leaves out of `required` may be missing from an answer, and responses
may carry more fields than listed (new fields are added, never removed).
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime as DateTime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Language


class Shape(BaseModel):
    """Base of the response shapes: open to fields a newer bridge adds."""


class AuditEntry(Shape):
    id: int = None
    created_at: DateTime = None
    conversation_id: str = None
    actor_type: Literal['agent', 'supervisor', 'citizen', 'system'] = None
    actor_id: int | None = None
    actor_login: str | None = None
    action: str = None
    detail: dict[str, Any] | None = None


class ErrorDetail(Shape):
    model_config = ConfigDict(extra="allow")
    code: str = Field(examples=['invalid_json', 'message_too_long', 'unauthorized', 'not_found', 'already_claimed'])
    message: str


class Error(Shape):
    error: ErrorDetail


class Button(Shape):
    title: str = None
    payload: str = Field(None, description='A Rasa intent (`/intent`) or a widget action: bridge:handoff, bridge:handoff:system_unavailable (the person offered when the assistant could not answer), bridge:callback, bridge:keep_waiting')


class MessagePayloadRatingRequest(Shape):
    min: int = None
    max: int = None


class MessagePayload(Shape):
    "Buttons, custom payloads, images and attachments from the bot, and `language` when a bot answer is in the other language than the conversation's; queue, callback-offer and rating-request markers from the bridge."
    buttons: list[Button] = None
    custom: dict[str, Any] = None
    image: str = None
    attachment: Any = None
    payload: str = Field(None, description='The button payload the citizen clicked')
    response: str = Field(None, description="The assistant's name for the response a bot message came from (utter_ask_helpful, ask_national_id); used by the insight figures")
    callback_offer: bool = None
    rating_request: MessagePayloadRatingRequest = None
    queue: QueueState = None
    language: Literal['da', 'sv'] = Field(None, description="The language of a bot answer written in the other language than the conversation's")


class Message(Shape):
    type: Literal['message']
    conversation_id: str
    seq: Annotated[int, Field(ge=1)]
    sender: Literal['citizen', 'bot', 'agent', 'system']
    text: str | None = Field(None, description="Personal numbers are masked with '#'.")
    payload: MessagePayload | None = Field(None, description="Buttons, custom payloads, images and attachments from the bot, and `language` when a bot answer is in the other language than the conversation's; queue, callback-offer and rating-request markers from the bridge.")
    client_msg_id: str = None
    created_at: DateTime


class AgentMessage(Message):
    topic: str | None = Field(None, description='NLU topic of the citizen message a bot turn answered')
    confidence: float | None = None
    agent_id: int | None = None


class InboxGroupRef(Shape):
    "The group as the editor saw it; the action changes those of its items that are still open."
    item_ids: list[Annotated[int, Field(ge=1, le=2147483647)]] = Field(max_length=5000, min_length=1)
    language: Language
    group: Annotated[str, Field(pattern='^g[0-9a-f]{31}$')] | None = Field(None, description="The group's id from the listing")


class InboxActionResult(Shape):
    action: Literal['attach', 'new_answer', 'dismiss'] = None
    action_id: int = None
    group: str = None
    changed: int = Field(None, description='Items that were open and now carry the action')
    skipped: int = Field(None, description='Items another editor had acted on already')
    answer_id: str | None = None
    draft_id: str | None = Field(None, description="The new answer's draft (answers editor")
    questions: list[str] = Field(None, description="The group's distinct questions given to the answer: all join its regression set")
    examples: list[str] = Field(None, description='Those that became example questions (at most 5 per language)')


class InboxActionRecord(Shape):
    id: int = None
    action: Literal['attach', 'new_answer', 'dismiss'] = None
    group: str = None
    language: Language = None
    answer_id: str | None = None
    draft_id: str | None = None
    reason: str | None = None
    note: str | None = None
    items: int = None
    editor: str | None = None
    created_at: DateTime = None


class InboxPeriod(Shape):
    from_: Date = Field(None, alias='from')
    to: Date = None
    days: int = None
    timezone: str = None


class InboxGroupsGroupsItemMunicipalitiesItem(Shape):
    municipality: str = None
    count: int = None


class InboxGroupsGroupsItemTrend(Shape):
    previous: int = Field(None, description='Similar items in the previous period (any status)')
    change: int = None
    change_share: float | None = None


class InboxGroupsGroupsItemQuestionsItem(Shape):
    question: str = None
    count: int = None


class InboxGroupsGroupsItem(Shape):
    id: str = Field(None, description='Identity of the group (its items)')
    label: str = Field(None, description='Its most asked question (masked)')
    count: int = None
    distinct_questions: int = None
    languages: list[Language] = None
    municipalities: list[InboxGroupsGroupsItemMunicipalitiesItem] = None
    kinds: dict[str, int] = Field(None, description='Items by why they are here: no_answer, clarification, not_helpful, escalation')
    statuses: dict[str, int] = None
    first_seen: DateTime = None
    last_seen: DateTime = None
    trend: InboxGroupsGroupsItemTrend = None
    questions: list[InboxGroupsGroupsItemQuestionsItem] = None
    item_ids: list[int] = None
    embedded: bool = None


class InboxGroups(Shape):
    period: InboxPeriod
    previous_period: InboxPeriod
    status: str
    threshold: float
    items: int = Field(description='Items of the period with the status')
    items_by_language: dict[str, int] = None
    not_yet_embedded: int = Field(None, description='Items captured in the last minutes')
    groups_total: int
    groups: list[InboxGroupsGroupsItem]


class QueueState(Shape):
    queue: str = None
    position: int = None
    estimated_wait_seconds: int | None = None


class ConversationState(Shape):
    conversation_id: str = None
    mode: Literal['bot', 'queued', 'agent', 'closed'] = None
    language: Language = None
    municipality: str = None
    last_seq: int = None
    close_reason: str | None = None
    queue: QueueState | None = None
    rating_requested: bool = None


class EscalationResult(Shape):
    "Queued, already with an agent, or closed with a callback offer."
    status: Literal['queued', 'assigned', 'closed'] = None
    queue: str = None
    position: int = None
    estimated_wait_seconds: int = None
    next_open: DateTime | None = None
    callback_offered: bool = None


class Draft(Shape):
    answer_id: str = None
    status: Literal['published', 'changed', 'draft'] = None
    draft_version: int = None
    draft_updated_at: DateTime | None = None
    published_revision_id: int | None = None
    document: dict[str, Any] = None
    added_examples: list[str] = None
    regression_only: list[str] = None


class ContentProblem(Shape):
    "A problem the knowledge engine found (its message names the rule), with the answer and field it is about."
    file: str = None
    line: int | None = None
    message: str = None
    location: list[Any] = None
    answer_id: str | None = None
    field: str = None


class GateResult(Shape):
    "The publish gate: the candidate against the live publication on the held-out sets\n(tests/nlu, knowledge-base answers) and the regression set. `regressions` lists every\nquestion right (or offered first in a \"Did you mean\") before and wrong after; publish\nonly goes ahead when each of their `key`s is in `accept`."
    live_version: str | None = None
    counts: dict[str, Any] = None
    seconds: float | None = None
    embedded_texts: int | None = None
    regressions: list[dict[str, Any]] = None
    weaker: list[dict[str, Any]] = None
    fixed: list[dict[str, Any]] = None
    accepted: list[dict[str, Any]] = None


class JobRunning(Shape):
    job_id: str = None
    status: Literal['running'] = None


class Publication(Shape):
    id: int = None
    kind: Literal['import', 'publish', 'rollback'] = None
    version: str | None = None
    changed: list[str] = None
    created_at: DateTime = None
    created_by: str | None = None
    counts: dict[str, Any] | None = None
    accepted: int = None


class PublishResult(Shape):
    published: bool = None
    publication: Publication = None
    gate: GateResult = None


class AnswerSummary(Shape):
    id: str
    category: str | None
    titles: dict[str, str] = Field(description='Title per language (da, sv)')
    status: Literal['published', 'changed', 'draft'] = Field(description='changed: published, with a draft waiting; draft: never published')


class Agent(Shape):
    id: int = None
    login: str = None
    display_name: str = None
    role: Literal['agent', 'supervisor', 'editor'] = None
    status: Literal['available', 'busy', 'away', 'offline'] = None
    capacity: Annotated[int, Field(ge=0, le=20)] = None
    languages: list[Language] = None
    municipalities: list[str] = Field(None, description="Municipality codes, or '*' for all")
    active: bool = None


class Claim(Shape):
    escalation_id: int = None
    conversation_id: str = None
    queue: str = None
    language: Language = None
    municipality: str = None
    reason: str = None
    summary: str | None = None


class Canned(Shape):
    id: int = None
    language: Language = None
    title: Annotated[str, Field(max_length=200)] = None
    body: Annotated[str, Field(max_length=4000)] = None


class Callback(Shape):
    id: int = None
    conversation_id: str = None
    queue: str = None
    language: Language = None
    municipality: str = None
    phone: str | None = Field(None, description='The full number, only for the agent who took the callback (taking is audited) and for supervisors once it is taken; null otherwise. Stored encrypted.')
    phone_hint: str = Field(None, description='The last four digits, e.g. "•••• 5678".')
    description: str | None = None
    status: Literal['open', 'in_progress', 'done'] = None
    agent_id: int | None = None
    outcome: str | None = None
    created_at: DateTime = None


class LiveStatsQueuesItem(Shape):
    queue: str = None
    language: Language = None
    open: bool = None
    waiting: int = None
    longest_wait_seconds: int = None


class LiveStatsAgents(Shape):
    "Agents whose heartbeat is fresh and whose status is not offline."
    online: int = None
    available: int = None
    busy: int = Field(None, description='With at least one chat')
    away: int = None
    active_chats: int = None
    free_slots: int = None


class LiveStats(Shape):
    generated_at: DateTime = None
    waiting: int = None
    longest_wait_seconds: int = None
    queues: list[LiveStatsQueuesItem] = None
    agents: LiveStatsAgents = Field(None, description='Agents whose heartbeat is fresh and whose status is not offline.')


class SummaryStatsEscalations(Shape):
    total: int = None
    by_reason: dict[str, int] = None
    by_status: dict[str, int] = None


class SummaryStatsWaitSeconds(Shape):
    "Queue entry to an agent's claim, for escalations an agent took."
    answered: int = None
    median: float | None = None
    p90: float | None = None


class SummaryStatsRating(Shape):
    count: int = None
    average: float | None = None
    distribution: dict[str, int] = None


class SummaryStatsDaysItem(Shape):
    date: Date = None
    conversations: int = None
    bot_only: int = None
    escalations: int = None


class SummaryStats(Shape):
    period: Literal['today', '7d'] = None
    timezone: str = None
    from_: DateTime = Field(None, alias='from')
    to: DateTime = None
    conversations: int = Field(None, description='Conversations created in the period with at least one message')
    bot_only: int = Field(None, description='Of those')
    bot_only_share: float | None = None
    escalations: SummaryStatsEscalations = None
    wait_seconds: SummaryStatsWaitSeconds = Field(None, description="Queue entry to an agent's claim, for escalations an agent took.")
    rating: SummaryStatsRating = None
    tags: dict[str, int] = None
    days: list[SummaryStatsDaysItem] = None


class InsightReportFilters(Shape):
    "Municipalities and topics seen in the period, for the pickers."
    municipalities: list[str] = None
    topics: list[str] = None


class InsightReportHelpful(Shape):
    "Answers to \"did it help?\""
    yes: int = None
    no: int = None


class InsightReportEscalations(Shape):
    total: int = None
    by_reason: dict[str, int] = None
    by_status: dict[str, int] = None


class InsightReportWaits(Shape):
    "Queue entry to an agent's claim (nearest-rank percentiles); abandoned = left the queue before an agent took it."
    answered: int = None
    median_seconds: float | None = None
    p90_seconds: float | None = None
    abandoned: int = None


class InsightReportRating(Shape):
    count: int = None
    mean: float | None = None
    distribution: dict[str, int] = Field(None, description='Ratings by score 1-9')


class InsightReportTopicsItem(Shape):
    topic: str | None = None
    conversations: int = None
    resolved: int = None
    resolved_share: float | None = None
    escalated: int = None
    helpful_yes: int = None
    helpful_no: int = None
    fallback_turns: int = None


class InsightReportHoursCellsItem(Shape):
    weekday: Annotated[int, Field(ge=0, le=6)] = None
    hour: Annotated[int, Field(ge=0, le=23)] = None
    conversations: int = None


class InsightReportHoursOpeningHoursItem(Shape):
    queue: str = None
    language: str = None
    timezone: str = None
    weekly_hours: float = None
    open: list[list[int]] = Field(None, description='[weekday, hour] pairs the queue is open in')


class InsightReportHours(Shape):
    cells: list[InsightReportHoursCellsItem] = Field(None, description="Conversations by weekday (0 = Monday) and hour of their start, in the serving queue's time zone")
    opening_hours: list[InsightReportHoursOpeningHoursItem] = None


class InsightReportTagsItem(Shape):
    tag: str = None
    count: int = None


class InsightReportUnansweredByFallbackItem(Shape):
    fallback: str = None
    count: int = None


class InsightReportUnansweredQuestionsItem(Shape):
    question: str = None
    count: int = None
    conversations: int = None
    languages: list[str] = None
    last_asked: DateTime | None = None


class InsightReportUnanswered(Shape):
    "Masked citizen messages the assistant fell back on"
    total: int = None
    by_fallback: list[InsightReportUnansweredByFallbackItem] = None
    questions: list[InsightReportUnansweredQuestionsItem] = None


class InsightReportChangesItem(Shape):
    metric: str = None
    key: str | None = None
    current: float = None
    previous: float = None
    change: float = None
    relative: float | None = None


class InsightReport(Shape):
    "What the contact centre achieved in a period (local dates, at most 366\ndays), optionally for one municipality and one topic, with the previous\nperiod of the same length. Definitions in docs/insight.md."
    period: InsightPeriod
    previous_period: InsightPeriod
    filters: InsightReportFilters = Field(None, description='Municipalities and topics seen in the period, for the pickers.')
    conversations: int = Field(description='Conversations started in the period with at least one message')
    resolved: int = Field(description='Resolved by the assistant alone: an answer given and not rejected, no repeated question, no abandoned clarification, no failed identity check, no escalation')
    resolved_share: float | None = None
    outcomes: dict[str, int] = Field(description='Conversations by the first reason they are not resolved (escalated, identity_failed, not_helpful, abandoned_clarification, repeated_question, unanswered) or resolved.')
    helpful: InsightReportHelpful = Field(description='Answers to "did it help?"')
    in_opening_hours: int = Field(None, description='Conversations that started while the serving queue was open')
    escalations: InsightReportEscalations
    waits: InsightReportWaits = Field(description="Queue entry to an agent's claim (nearest-rank percentiles); abandoned = left the queue before an agent took it.")
    rating: InsightReportRating
    topics: list[InsightReportTopicsItem]
    hours: InsightReportHours
    tags: list[InsightReportTagsItem]
    closed_by_agents: int = None
    unanswered: InsightReportUnanswered = Field(description='Masked citizen messages the assistant fell back on')
    previous: dict[str, Any] = Field(None, description='The headline figures of the previous period')
    changes: list[InsightReportChangesItem] = Field(description='The figures that moved most against the previous period')
    definitions: dict[str, Any] = None


class InsightPeriod(Shape):
    from_: Date = Field(None, alias='from')
    to: Date = None
    days: int = None
    timezone: str = None
    municipality: str | None = None
    topic: str | None = None
    start: DateTime = None
    end: DateTime = None


class CreateConversationResponse(Shape):
    conversation_id: str = None
    token: str = None
    mode: str = None
    last_seq: int = None


class MessageStored(Shape):
    seq: int = None
    duplicate: bool = None
    message: Message = None


class GetMessagesResponse(Shape):
    messages: list[Message] = None
    last_seq: int = None


class DemoLoginStatusResponse(Shape):
    enabled: bool = None
    lifetime_seconds: int = None
    issuer: str = None


class DemoLoginResponse(Shape):
    token: str = None
    expires_in: int = None


class AgentLoginResponse(Shape):
    agent: Agent = None
    token: str = None


class TranscriptResponse(Shape):
    conversation_id: str = None
    mode: str = None
    escalation: dict[str, Any] | None = None
    messages: list[AgentMessage] = None


class CallbacksResponse(Shape):
    callbacks: list[Callback] = None


class AnswersResponseAnswersItem(Shape):
    id: str = None
    language: Language = None
    title: str = None
    category: str | None = None
    status: Literal['published', 'changed', 'draft'] = None


class AnswersResponse(Shape):
    answers: list[AnswersResponseAnswersItem] = None


class ActionsResponse(Shape):
    actions: list[InboxActionRecord] = None


class AuditExportResponse(Shape):
    conversation_id: str = None
    entries: list[AuditEntry] = None


class EditorLoginResponse(Shape):
    editor: Agent = None
    token: str = None


class ListAnswersResponse(Shape):
    answers: list[AnswerSummary] = None


class CategoriesResponse(Shape):
    categories: list[dict[str, Any]] = None
    municipalities: dict[str, Any] = None


class CheckResult(Shape):
    ok: bool = None
    problems: list[ContentProblem] = None


class HistoryResponse(Shape):
    answer_id: str = None
    revisions: list[dict[str, Any]] = None
    draft_changes: list[dict[str, Any]] | None = None


class PublicationsResponse(Shape):
    publications: list[Publication] = None
