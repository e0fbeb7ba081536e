"""The knowledge base's files (knowledge/*.yml in the repository), read into the
content store's shape and written back from it.

One layout, the one the repository's files have: the comment lines of the
file's head, then `category`, `name`, `attribution` (optional) and `answers`;
every answer's fields in the schema's order (id, source, last_verified, da,
sv; per language title, answer, examples, related, municipal, variants),
empty optional fields left out, dates unquoted, one line per text. Writing
what was read gives the same bytes (tests/services/test_knowledge_files.py),
so an export of unchanged content changes nothing in git.

Files the editor does not edit (municipalities.yml, calibration/*.txt) are
kept verbatim. This module checks only the structure it needs to read a
file; the schema itself is applied by the knowledge engine
(services/knowledge.py, rasa_addons/knowledge).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# libyaml's parser where PyYAML has it: the same documents, many times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MUNICIPALITIES_FILE = "municipalities.yml"
CALIBRATION_DIR = "calibration"
MAX_FILE_BYTES = 5_000_000
MAX_FILES = 2000
CATEGORY_KEYS = ("category", "name", "attribution", "answers")
ANSWER_KEYS = ("id", "source", "last_verified", "da", "sv")
ENTRY_KEYS = ("title", "answer", "examples", "related", "municipal", "variants")
VARIANT_KEYS = ("answer", "link")
LANGUAGES = ("da", "sv")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_]{1,79}$")


class FileProblem(ValueError):
    """A file cannot be read into the store (the message names the file)."""


@dataclass
class Category:
    category: str
    name: str
    header: str
    attribution: dict | None
    # Answer documents without "category", in file order; last_verified as YYYY-MM-DD.
    answers: list[dict]


@dataclass
class Content:
    categories: list[Category] = field(default_factory=list)
    # Relative path -> text, for the files kept verbatim.
    support_files: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- reading


def _header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    head = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line)
    return "".join(head)


def _plain(value):
    """YAML values as JSON values: dates as YYYY-MM-DD."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_category_file(path: Path) -> Category:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FileProblem(f"{path.name}: larger than {MAX_FILE_BYTES} bytes")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise FileProblem(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("answers"), list):
        raise FileProblem(f"{path.name}: must be a mapping with `category`, `name` and a list of `answers`")
    category = data.get("category")
    if not isinstance(category, str) or category != path.stem or not _CATEGORY.match(category):
        raise FileProblem(f"{path.name}: `category` must be the file name ({path.stem})")
    answers = []
    for index, answer in enumerate(data["answers"]):
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise FileProblem(f"{path.name}: answers.{index} must be a mapping with an `id`")
        answers.append(_plain(answer))
    attribution = data.get("attribution")
    return Category(category=category, name=str(data.get("name") or ""), header=_header(text),
                    attribution=_plain(attribution) if isinstance(attribution, dict) else None, answers=answers)


def read_directory(directory: Path) -> Content:
    """Every category file and the verbatim files of a knowledge directory."""
    if not directory.is_dir():
        raise FileProblem(f"{directory}: no such directory")
    content = Content()
    files = sorted(p for p in directory.glob("*.yml") if p.name != MUNICIPALITIES_FILE)
    if not files:
        raise FileProblem(f"{directory}: no category files (*.yml)")
    if len(files) > MAX_FILES:
        raise FileProblem(f"{directory}: more than {MAX_FILES} category files")
    content.categories = [read_category_file(p) for p in files]
    support = [directory / MUNICIPALITIES_FILE] + sorted((directory / CALIBRATION_DIR).glob("*.txt"))
    for path in support:
        if path.is_file():
            if path.stat().st_size > MAX_FILE_BYTES:
                raise FileProblem(f"{path.name}: larger than {MAX_FILE_BYTES} bytes")
            content.support_files[path.relative_to(directory).as_posix()] = path.read_text(encoding="utf-8")
    return content


# ---------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_str)


def _ordered(mapping: dict, keys: tuple[str, ...]) -> dict:
    out = {k: mapping[k] for k in keys if k in mapping}
    out.update({k: v for k, v in mapping.items() if k not in out})  # unknown fields: the engine reports them
    return out


def _date(value):
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def file_document(answer: dict) -> dict:
    """An answer document as its category file holds it (key order, empty optional fields left out)."""
    answer = {k: v for k, v in answer.items() if k != "category"}
    out = _ordered(answer, ANSWER_KEYS)
    if "last_verified" in out:
        out["last_verified"] = _date(out["last_verified"])
    for language in LANGUAGES:
        entry = out.get(language)
        if entry is None:
            out.pop(language, None)
            continue
        entry = _ordered(entry, ENTRY_KEYS)
        for key, empty in (("related", []), ("variants", {}), ("municipal", False)):
            if key in entry and entry[key] in (empty, None):
                entry.pop(key)
        if isinstance(entry.get("variants"), dict):
            entry["variants"] = {code: _ordered({k: v for k, v in variant.items() if v is not None}, VARIANT_KEYS)
                                 if isinstance(variant, dict) else variant
                                 for code, variant in entry["variants"].items()}
        out[language] = entry
    return out


def render_category(category: Category) -> str:
    data: dict = {"category": category.category, "name": category.name}
    if category.attribution:
        data["attribution"] = category.attribution
    data["answers"] = [file_document(a) for a in category.answers]
    return category.header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000)


def _write(path: Path, text: str) -> bool:
    """Write atomically; False (and no write) when the file already holds exactly this."""
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def write_directory(content: Content, directory: Path) -> list[Path]:
    """Write every category file and verbatim file; returns the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for category in content.categories:
        path = directory / f"{category.category}.yml"
        if _write(path, render_category(category)):
            changed.append(path)
    for relative, text in content.support_files.items():
        path = directory / relative
        if ".." in Path(relative).parts or Path(relative).is_absolute():
            raise FileProblem(f"{relative}: not a path inside the knowledge directory")
        if _write(path, text):
            changed.append(path)
    return changed
