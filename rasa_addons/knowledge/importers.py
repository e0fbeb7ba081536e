"""Importing existing FAQ content into knowledge/<category>.yml.

Formats (docs/content-guide.md has examples):

- CSV, one answer per row and language, with the header
  `id,category,language,title,answer,examples,source,last_verified` and the
  optional columns `municipal` (yes/no) and `related`. `examples` holds 1-5
  questions separated by `|`. Rows with the same id are one answer in two
  languages.
- Markdown, one answer per `## Title` section: `key: value` lines (id,
  category, language, source, last_verified, optional municipal), an
  `Examples:` list of `- question` lines, then the answer text.
- SweFAQ (Språkbanken Text, CC BY 4.0): every answer of the JSONL file with
  its question, one category file per SweFAQ category, attribution kept.

Every imported file is validated with the same schema as hand-written ones;
problems name the source file and row or line. Existing files are never
overwritten unless asked to.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from rasa_addons.knowledge.schema import (
    MAX_EXAMPLES,
    MAX_TITLE_CHARS,
    CategoryFile,
    ContentError,
    Problem,
    _describe,
)
from rasa_addons.languages import SUPPORTED

SWEFAQ_ATTRIBUTION = {
    "source": "SweFAQ v2.0, SuperLim 2, Språkbanken Text (https://spraakbanken.gu.se/en/resources/superlim), by Aleksandrs Berdicevskis",
    "licence": "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
    "notice": "Questions and answers collected from the FAQ pages of Swedish authorities; imported unchanged as Swedish demo content, with a link to the original page added.",
}
_TRUE = {"yes", "ja", "true", "1", "y"}
_MAX_ROWS = 50_000


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")[:60] or "imported"


def short_title(question: str, limit: int = MAX_TITLE_CHARS) -> str:
    question = " ".join(question.split())
    if len(question) <= limit:
        return question
    cut = question[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _validated(category: str, document: Dict, origin: Dict[str, Tuple[Path, Optional[int]]]) -> CategoryFile:
    """Validate an imported category; errors point at the source rows."""
    from pydantic import ValidationError

    try:
        return CategoryFile.parse_obj(document)
    except ValidationError as error:
        problems = []
        for e in error.errors():
            location = e["loc"]
            path, line = origin.get("*", (Path(category), None))
            if len(location) >= 2 and location[0] == "answers" and isinstance(location[1], int):
                answer_id = document["answers"][location[1]].get("id")
                path, line = origin.get(answer_id, (path, line))
            problems.append(Problem(path, line, _describe(e)))
        raise ContentError(problems)


def write_category(directory: Path, category: CategoryFile, header: str, replace: bool) -> Path:
    path = directory / f"{category.category}.yml"
    if path.exists() and not replace:
        raise ContentError([Problem(path, None, "already exists; use --replace to overwrite it")])
    data = json.loads(category.json(exclude_none=True, exclude_defaults=False))
    for answer in data["answers"]:
        # Dates unquoted, as in hand-written files and the bridge's export (one layout).
        answer["last_verified"] = dt.date.fromisoformat(answer["last_verified"])
        for language in SUPPORTED:
            entry = answer.get(language)
            if entry is None:
                answer.pop(language, None)
                continue
            for key, empty in (("related", []), ("variants", {}), ("municipal", False)):
                if entry.get(key) == empty:
                    entry.pop(key)
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000)
    path.write_text(header + text, encoding="utf-8")
    return path


def _add(answers: "OrderedDict[str, Dict]", categories: Dict[str, str], row: Dict[str, str], origin, where) -> None:
    answer_id = row["id"]
    language = row["language"]
    entry = {
        "title": row["title"],
        "answer": row["answer"],
        "examples": [q.strip() for q in row["examples"] if q.strip()],
    }
    if row.get("municipal", "").strip().lower() in _TRUE:
        entry["municipal"] = True
    if row.get("related"):
        entry["related"] = [r.strip() for r in re.split(r"[|,]", row["related"]) if r.strip()]
    answer = answers.setdefault(answer_id, {"id": answer_id, "source": row["source"], "last_verified": row["last_verified"]})
    if language in answer:
        raise ContentError([Problem(where[0], where[1], f"answer `{answer_id}` has two {language} rows")])
    if language not in SUPPORTED:
        raise ContentError([Problem(where[0], where[1], f"language must be one of {', '.join(SUPPORTED)}, not `{language}`")])
    answer[language] = entry
    categories.setdefault(answer_id, row["category"])
    origin.setdefault(answer_id, where)


def _categories(answers, categories, origin, name_of=lambda c: c.replace("_", " ").capitalize()) -> List[CategoryFile]:
    grouped: "OrderedDict[str, List[Dict]]" = OrderedDict()
    for answer_id, answer in answers.items():
        grouped.setdefault(slug(categories[answer_id]), []).append(answer)
    return [
        _validated(category, {"category": category, "name": name_of(category), "answers": items}, origin)
        for category, items in grouped.items()
    ]


REQUIRED_CSV = ("id", "category", "language", "title", "answer", "examples", "source", "last_verified")


def read_csv(path: Path) -> List[CategoryFile]:
    answers: "OrderedDict[str, Dict]" = OrderedDict()
    categories: Dict[str, str] = {}
    origin: Dict[str, Tuple[Path, Optional[int]]] = {"*": (path, None)}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_CSV if c not in (reader.fieldnames or [])]
        if missing:
            raise ContentError([Problem(path, 1, f"missing columns: {', '.join(missing)}")])
        for number, row in enumerate(reader, start=2):
            if number > _MAX_ROWS:
                raise ContentError([Problem(path, number, f"more than {_MAX_ROWS} rows")])
            row = {k: (v or "").strip() for k, v in row.items() if k}
            row["examples"] = row["examples"].split("|")
            _add(answers, categories, row, origin, (path, number))
    if not answers:
        raise ContentError([Problem(path, None, "no rows")])
    return _categories(answers, categories, origin)


_SECTION = re.compile(r"^##\s+(.+?)\s*$")
_FIELD = re.compile(r"^(id|category|language|source|last_verified|municipal|related)\s*:\s*(.*)$", re.IGNORECASE)


def read_markdown(path: Path) -> List[CategoryFile]:
    answers: "OrderedDict[str, Dict]" = OrderedDict()
    categories: Dict[str, str] = {}
    origin: Dict[str, Tuple[Path, Optional[int]]] = {"*": (path, None)}
    sections: List[Tuple[int, str, List[str]]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _SECTION.match(line)
        if match:
            sections.append((number, match.group(1), []))
        elif sections:
            sections[-1][2].append(line)
    if not sections:
        raise ContentError([Problem(path, None, "no `## Title` sections")])
    for number, title, lines in sections:
        row = {"title": title, "examples": []}
        body: List[str] = []
        in_examples = False
        for line in lines:
            field = _FIELD.match(line.strip())
            if field and not body:
                row[field.group(1).lower()] = field.group(2).strip()
                in_examples = False
            elif line.strip().lower().rstrip(":") in ("examples", "eksempler", "exempel") and not body:
                in_examples = True
            elif in_examples and line.strip().startswith("- "):
                row["examples"].append(line.strip()[2:])
            elif line.strip() or body:
                in_examples = False
                body.append(line)
        row["answer"] = "\n".join(body).strip()
        absent = [key for key in ("id", "category", "language", "source", "last_verified") if not row.get(key)]
        if absent:
            raise ContentError([Problem(path, number, f"section `{title}` lacks: {', '.join(absent)}")])
        _add(answers, categories, row, origin, (path, number))
    return _categories(answers, categories, origin)


def read_swefaq(path: Path, imported_on: Optional[dt.date] = None) -> List[CategoryFile]:
    """SweFAQ JSONL: each question with its labelled answer becomes one
    Swedish answer; one category file per SweFAQ category."""
    imported_on = imported_on or dt.date.today()
    grouped: "OrderedDict[str, Dict]" = OrderedDict()
    origin: Dict[str, Tuple[Path, Optional[int]]] = {"*": (path, None)}
    seen = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answer_text = row["candidate_answers"][row["label"]]
            meta = row["meta"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise ContentError([Problem(path, number, f"not a SweFAQ record: {error}")])
        if answer_text in seen:
            continue
        seen.add(answer_text)
        category = "swefaq_" + slug(meta["category"].split("::")[-1])
        group = grouped.setdefault(
            category,
            {"category": category, "name": short_title(f"SweFAQ: {meta['category'].split('::')[-1].strip()} ({meta['source']})", 120), "attribution": SWEFAQ_ATTRIBUTION, "answers": []},
        )
        answer_id = f"{category}_{len(group['answers']) + 1}"
        link = meta["link"]
        group["answers"].append(
            {
                "id": answer_id,
                "source": f"{meta['source']}, {link} (via SweFAQ v2.0, CC BY 4.0)",
                "last_verified": imported_on.isoformat(),
                "sv": {
                    "title": short_title(row["question"]),
                    "answer": f"{' '.join(answer_text.split())} Läs mer på {link}",
                    "examples": [" ".join(row["question"].split())][:MAX_EXAMPLES],
                },
            }
        )
        origin[answer_id] = (path, number)
    return [_validated(category, document, origin) for category, document in grouped.items()]


def header_for(category: CategoryFile, source: Path) -> str:
    lines = [f"# Knowledge base: {category.name}.", f"# Imported from {source.name}; edit freely (docs/content-guide.md)."]
    if category.attribution:
        lines += [
            f"# Source: {category.attribution.source}.",
            f"# Licence: {category.attribution.licence}. Keep this attribution with the content.",
        ]
    return "\n".join(lines) + "\n"
