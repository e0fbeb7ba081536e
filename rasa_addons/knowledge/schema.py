"""The knowledge base as editors write it: one YAML file per category under
knowledge/, validated against the models below.

Every validation error names the file, the line and what is wrong, so an
editor can fix a file without reading Python. Line numbers come from the YAML
parser's node tree; the rules themselves are pydantic models.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml
from pydantic import BaseModel, Extra, Field, ValidationError, constr, root_validator

from rasa_addons.languages import SUPPORTED

# libyaml's parser where PyYAML has it: the same documents and line numbers,
# about twenty times faster (every validate, gate and publish reads every file).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Where the content lives, relative to the repository root.
KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"
MUNICIPALITIES_FILE = "municipalities.yml"

MAX_EXAMPLES = 5
# Answers should be short (docs/content-guide.md); imported FAQs can be longer.
MAX_ANSWER_CHARS = 2500
MAX_TITLE_CHARS = 80
MAX_QUESTION_CHARS = 400
MAX_FILE_BYTES = 5_000_000

# Buttons under an answer may lead to other answers or to these intents.
RELATED_INTENTS = ("request_human", "payout_inquiry", "case_status_inquiry")

_ID = r"^[a-z0-9][a-z0-9_]{1,79}$"
_URL = re.compile(r"https://[^\s]+")
_ENDS_WITH_URL = re.compile(r"https://[^\s]+?[.)]?$")
_MUNICIPALITY_CODE = r"^[0-9]{3,4}$"


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class Variant(_Strict):
    """A municipality's own version of an answer: its own text, or its own link."""

    answer: Optional[constr(min_length=10, max_length=MAX_ANSWER_CHARS)] = None
    link: Optional[constr(regex=r"^https://\S+$", max_length=300)] = None

    @root_validator(skip_on_failure=True)
    def _text_or_link(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not values.get("answer") and not values.get("link"):
            raise ValueError("a variant needs its own `answer` text or its own `link`")
        if values.get("answer") and not _URL.search(values["answer"]):
            raise ValueError("a variant's answer must link to the official page (https://...)")
        return values


class LanguageEntry(_Strict):
    title: constr(min_length=2, max_length=MAX_TITLE_CHARS)
    answer: constr(min_length=10, max_length=MAX_ANSWER_CHARS)
    examples: List[constr(min_length=2, max_length=MAX_QUESTION_CHARS)] = Field(
        ..., min_items=1, max_items=MAX_EXAMPLES
    )
    related: List[constr(regex=_ID)] = Field(default_factory=list, max_items=3)
    # The answer points to the municipality's website instead of one official
    # page; the assistant adds the citizen's municipality's link when it knows it.
    municipal: bool = False
    variants: Dict[constr(regex=_MUNICIPALITY_CODE), Variant] = Field(default_factory=dict)

    @root_validator(skip_on_failure=True)
    def _links(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not values["municipal"] and not _ENDS_WITH_URL.search(values["answer"]):
            raise ValueError(
                "the answer must end with the official link (https://...); an answer that points "
                "to the municipality's own website says `municipal: true` instead"
            )
        examples = [e.casefold() for e in values["examples"]]
        if len(set(examples)) != len(examples):
            raise ValueError("the same example question is listed twice")
        return values


class Answer(_Strict):
    id: constr(regex=_ID)
    source: constr(min_length=3, max_length=300)
    last_verified: dt.date
    da: Optional[LanguageEntry] = None
    sv: Optional[LanguageEntry] = None

    @root_validator(skip_on_failure=True)
    def _some_language(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not any(values.get(language) for language in SUPPORTED):
            raise ValueError(f"an answer needs at least one language ({', '.join(SUPPORTED)})")
        return values

    def languages(self) -> List[str]:
        return [language for language in SUPPORTED if getattr(self, language)]

    def entry(self, language: str) -> Optional[LanguageEntry]:
        return getattr(self, language, None)


class Attribution(_Strict):
    """Where imported content comes from and under which licence."""

    source: constr(min_length=3)
    licence: constr(min_length=3)
    notice: constr(min_length=10)


class CategoryFile(_Strict):
    category: constr(regex=_ID)
    name: constr(min_length=2, max_length=120)
    attribution: Optional[Attribution] = None
    answers: List[Answer] = Field(..., min_items=1, max_items=20_000)


class Municipality(_Strict):
    name: constr(min_length=2, max_length=120)
    language: constr(regex=r"^(da|sv)$")
    website: constr(regex=r"^https://\S+$", max_length=300)


class MunicipalitiesFile(_Strict):
    municipalities: Dict[constr(regex=_MUNICIPALITY_CODE), Municipality]


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    path: Path
    line: Optional[int]
    message: str
    # Where in the file, as keys and list indices (("answers", 0, "da", "answer")),
    # and the answer it is about when known: for tools that show the problem
    # beside the field (the bridge's answer editor).
    location: Tuple[Any, ...] = ()
    answer_id: Optional[str] = None

    def as_dict(self) -> Dict[str, Any]:
        return {"file": self.path.name, "line": self.line, "message": self.message,
                "location": list(self.location), "answer_id": self.answer_id}

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class ContentError(Exception):
    """The knowledge base has problems; `problems` lists every one of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _line_of(node: Optional[yaml.Node], location: Iterable[Any]) -> Optional[int]:
    """The 1-based line of the YAML node at `location` (keys and list indices);
    the deepest node found when the location does not exist (a missing field)."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in location:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == str(step)), None)
            if match is None:
                key_match = next((key for key, _ in node.value if key.value == str(step)), None)
                return key_match.start_mark.line + 1 if key_match is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _describe(error: Dict[str, Any]) -> str:
    location = ".".join(str(step) for step in error["loc"] if step != "__root__")
    message = error["msg"]
    if error["type"] == "value_error.missing":
        message = "this field is required"
    elif error["type"] == "value_error.extra":
        message = "unknown field (check the spelling; docs/content-guide.md lists the fields)"
    return f"{location}: {message}" if location else message


def _location(loc: Iterable[Any]) -> Tuple[Any, ...]:
    return tuple(step for step in loc if step != "__root__")


def _answer_id(data: Any, loc: Sequence[Any]) -> Optional[str]:
    """The id of the answer an error location points into (answers.<i>...), if it has one."""
    if len(loc) >= 2 and loc[0] == "answers" and isinstance(loc[1], int) and isinstance(data, dict):
        answers = data.get("answers")
        if isinstance(answers, list) and loc[1] < len(answers) and isinstance(answers[loc[1]], dict):
            value = answers[loc[1]].get("id")
            return value if isinstance(value, str) else None
    return None


def load_yaml_file(path: Path, model: type) -> Tuple[Optional[BaseModel], yaml.Node, List[Problem]]:
    """Parse and validate one file; never raises for bad content."""
    if path.stat().st_size > MAX_FILE_BYTES:
        return None, None, [Problem(path, None, f"file is larger than {MAX_FILE_BYTES} bytes")]
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return None, None, [Problem(path, mark.line + 1 if mark else None, f"not valid YAML: {error}")]
    if not isinstance(data, dict):
        return None, node, [Problem(path, 1, "the file must be a mapping (see docs/content-guide.md)")]
    try:
        return model.parse_obj(data), node, []
    except ValidationError as error:
        problems = [Problem(path, _line_of(node, e["loc"]), _describe(e), _location(e["loc"]), _answer_id(data, e["loc"]))
                    for e in error.errors()]
        return None, node, problems


# ---------------------------------------------------------------- the whole base


@dataclass
class KnowledgeBase:
    categories: Dict[str, CategoryFile]
    answers: Dict[str, Answer]
    answer_category: Dict[str, str]
    municipalities: Dict[str, Municipality]

    def for_language(self, language: str) -> List[Answer]:
        return [answer for answer in self.answers.values() if answer.entry(language)]


def load_knowledge_base(directory: Path = KNOWLEDGE_DIR) -> KnowledgeBase:
    """Load and validate every category file; raise ContentError listing all problems."""
    problems: List[Problem] = []
    categories: Dict[str, CategoryFile] = {}
    answers: Dict[str, Answer] = {}
    answer_category: Dict[str, str] = {}
    answer_lines: Dict[str, Problem] = {}
    municipalities: Dict[str, Municipality] = {}

    files = sorted(p for p in directory.glob("*.yml") if p.name != MUNICIPALITIES_FILE)
    if not files:
        raise ContentError([Problem(directory, None, "no category files (*.yml) found")])
    municipalities_path = directory / MUNICIPALITIES_FILE
    if municipalities_path.exists():
        parsed, _, found = load_yaml_file(municipalities_path, MunicipalitiesFile)
        problems.extend(found)
        if parsed is not None:
            municipalities = dict(parsed.municipalities)

    for path in files:
        parsed, node, found = load_yaml_file(path, CategoryFile)
        problems.extend(found)
        if parsed is None:
            continue
        if parsed.category != path.stem:
            problems.append(Problem(path, _line_of(node, ["category"]), f"category `{parsed.category}` must match the file name `{path.stem}`", ("category",)))
        categories[parsed.category] = parsed
        for index, answer in enumerate(parsed.answers):
            here = Problem(path, _line_of(node, ["answers", index, "id"]), "")
            if answer.id in answers:
                first = answer_lines[answer.id]
                problems.append(Problem(path, here.line, f"answer id `{answer.id}` is already used at {first.path}:{first.line}",
                                        ("answers", index, "id"), answer.id))
                continue
            answers[answer.id] = answer
            answer_category[answer.id] = parsed.category
            answer_lines[answer.id] = here

    for answer_id, answer in answers.items():
        where = answer_lines[answer_id]
        for language in answer.languages():
            entry = answer.entry(language)
            for related in entry.related:
                target = answers.get(related)
                if related in RELATED_INTENTS:
                    continue
                if target is None:
                    problems.append(Problem(where.path, where.line, f"{answer_id}.{language}.related: no answer or intent `{related}`", (language, "related"), answer_id))
                elif not target.entry(language):
                    problems.append(Problem(where.path, where.line, f"{answer_id}.{language}.related: `{related}` has no {language} text", (language, "related"), answer_id))
            for code in entry.variants:
                if municipalities and code not in municipalities:
                    problems.append(Problem(where.path, where.line, f"{answer_id}.{language}.variants: unknown municipality code {code} (see {MUNICIPALITIES_FILE})", (language, "variants", code), answer_id))

    if problems:
        raise ContentError(problems)
    return KnowledgeBase(categories, answers, answer_category, municipalities)
