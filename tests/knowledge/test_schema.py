"""The knowledge base files: the shipped content is valid and covers the
catalogue; broken files get errors that name the file, the line and the fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rasa_addons.knowledge.schema import KNOWLEDGE_DIR, ContentError, load_knowledge_base

GOOD = """category: testing
name: Test answers
answers:
- id: first_answer
  source: test
  last_verified: 2026-12-01
  da:
    title: Et svar
    answer: Sådan gør du. Læs mere på https://www.borger.dk
    examples:
    - hvordan gør jeg
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(directory: Path) -> list:
    with pytest.raises(ContentError) as raised:
        load_knowledge_base(directory)
    return raised.value.problems


def test_the_shipped_knowledge_base_is_valid_and_holds_every_faq_topic(topics):
    kb = load_knowledge_base(KNOWLEDGE_DIR)
    for topic in (t for t in topics if t["kind"] == "faq"):
        answer = kb.answers.get(topic["id"])
        assert answer is not None, f"catalogue topic {topic['id']} is not an answer"
        assert set(topic["languages"]) <= set(answer.languages())
        for language in answer.languages():
            entry = answer.entry(language)
            assert 1 <= len(entry.examples) <= 5
            assert "https://" in entry.answer or entry.municipal


def test_swefaq_content_keeps_its_attribution():
    kb = load_knowledge_base(KNOWLEDGE_DIR)
    imported = [c for name, c in kb.categories.items() if name.startswith("swefaq_")]
    assert imported
    for category in imported:
        assert "CC BY 4.0" in category.attribution.licence
        assert "Språkbanken" in category.attribution.source
        text = (KNOWLEDGE_DIR / f"{category.category}.yml").read_text(encoding="utf-8")
        assert "CC BY 4.0" in text.split("category:")[0], "the file header names the licence"


def test_a_missing_field_names_file_and_line(tmp_path):
    path = write(tmp_path, "testing.yml", GOOD.replace("  source: test\n", ""))
    [problem] = problems_of(tmp_path)
    assert problem.path == path and problem.line == 4
    assert "answers.0.source" in problem.message and "required" in problem.message


def test_an_unknown_field_and_too_many_examples(tmp_path):
    text = GOOD.replace("    title: Et svar\n", "    titel: Et svar\n    title: Et svar\n")
    text = text.replace("    - hvordan gør jeg\n", "".join(f"    - spørgsmål {i}\n" for i in range(6)))
    write(tmp_path, "testing.yml", text)
    messages = {p.line: p.message for p in problems_of(tmp_path)}
    assert "unknown field" in messages[8]
    assert any("examples" in m and "at most 5" in m for m in messages.values())


def test_an_answer_must_end_with_the_official_link_unless_municipal(tmp_path):
    write(tmp_path, "testing.yml", GOOD.replace(" Læs mere på https://www.borger.dk", " Se kommunens hjemmeside."))
    [problem] = problems_of(tmp_path)
    assert problem.line == 8 and "official link" in problem.message
    write(tmp_path, "testing.yml", GOOD.replace(" Læs mere på https://www.borger.dk", " Se kommunens hjemmeside.").replace("  da:\n", "  da:\n    municipal: true\n"))
    assert load_knowledge_base(tmp_path).answers["first_answer"]


def test_a_duplicate_id_names_both_places(tmp_path):
    write(tmp_path, "testing.yml", GOOD)
    write(tmp_path, "other.yml", GOOD.replace("category: testing", "category: other"))
    [problem] = problems_of(tmp_path)
    assert "already used" in problem.message and "first_answer" in problem.message


def test_the_category_must_match_the_file_name_and_related_answers_must_exist(tmp_path):
    write(tmp_path, "wrong.yml", GOOD.replace("    examples:", "    related: [no_such_answer]\n    examples:"))
    messages = " | ".join(str(p) for p in problems_of(tmp_path))
    assert "must match the file name" in messages
    assert "no answer or intent `no_such_answer`" in messages


def test_a_variant_for_an_unknown_municipality(tmp_path):
    shutil.copy(KNOWLEDGE_DIR / "municipalities.yml", tmp_path / "municipalities.yml")
    write(tmp_path, "testing.yml", GOOD + "    variants:\n      '9998':\n        link: https://example.org\n")
    [problem] = problems_of(tmp_path)
    assert "unknown municipality code 9998" in problem.message


def test_broken_yaml_names_the_line(tmp_path):
    write(tmp_path, "testing.yml", GOOD.replace("    title: Et svar", "    title: [Et svar"))
    [problem] = problems_of(tmp_path)
    assert problem.line is not None and "not valid YAML" in problem.message


def test_the_command_prints_every_problem(tmp_path, capsys):
    from rasa_addons.knowledge.__main__ import main

    write(tmp_path, "testing.yml", GOOD.replace("  source: test\n", "").replace("2026-12-01", "yesterday"))
    assert main(["--knowledge", str(tmp_path), "validate"]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "testing.yml:4" in err and "last_verified" in err
