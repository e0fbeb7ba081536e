"""Request bodies as pydantic models, validated at the route.

`parse_body(request, Model)` reads the JSON object with the same checks as
every other body (api/common.json_body: size, depth, storable text) and
validates it against the model; a failure is a 400 `invalid_body` whose
`problems` list names each field and what is wrong.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..errors import Invalid
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
