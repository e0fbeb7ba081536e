"""Importing FAQ content: the generic CSV and Markdown formats and SweFAQ,
through the documented command."""

from __future__ import annotations

import json
import shutil

import pytest

from rasa_addons.knowledge.__main__ import main
from rasa_addons.knowledge.schema import load_knowledge_base

CSV = """id,category,language,title,answer,examples,source,last_verified,municipal
waste_collection,Affald og genbrug,da,Tømning af affald,"Hvornår dit affald hentes, ser du på din kommunes hjemmeside.",hvornår tømmes skraldespanden|hvornår kommer skraldebilen,egedalkommune.dk,2026-11-30,yes
waste_collection,Affald og genbrug,sv,Sophämtning,Hämtningsdagar finns på https://www.example-kommun.se/sophamtning,när töms soptunnan,egedalkommune.dk,2026-11-30,no
bulky_waste,Affald og genbrug,da,Storskrald,Storskrald bestiller du på https://www.kk.dk,hvordan bestiller jeg storskrald,kk.dk,2026-11-30,no
"""

MARKDOWN = """# Bibliotek

## Lånerkort
id: library_card
category: bibliotek
language: da
source: kk.dk
last_verified: 2026-11-30
Examples:
- hvordan får jeg et lånerkort
- kan jeg låne bøger uden kort

Du får et lånerkort på biblioteket med dit sundhedskort.
Læs mere på https://bibliotek.kk.dk

## Lånekort
id: library_card
category: bibliotek
language: sv
source: kk.dk
last_verified: 2026-11-30
Examples:
- hur får jag ett lånekort

Lånekort får du på biblioteket. Läs mer på https://bibliotek.kk.dk
"""


@pytest.fixture
def content(tmp_path):
    target = tmp_path / "knowledge"
    target.mkdir()
    shutil.copy(load_knowledge_base.__globals__["KNOWLEDGE_DIR"] / "municipalities.yml", target)
    return target


def test_csv_import_writes_one_valid_file_per_category(tmp_path, content, capsys):
    source = tmp_path / "faq.csv"
    source.write_text(CSV, encoding="utf-8")
    assert main(["--knowledge", str(content), "import", str(source), "--format", "csv"]) == 0
    kb = load_knowledge_base(content)
    assert set(kb.answers) == {"waste_collection", "bulky_waste"}
    assert kb.answer_category["waste_collection"] == "affald_og_genbrug"
    waste = kb.answers["waste_collection"]
    assert waste.da.municipal and not waste.sv.municipal
    assert waste.da.examples == ["hvornår tømmes skraldespanden", "hvornår kommer skraldebilen"]
    assert "wrote" in capsys.readouterr().out


def test_csv_problems_name_the_row(tmp_path, content, capsys):
    source = tmp_path / "faq.csv"
    source.write_text(CSV.replace("Storskrald bestiller du på https://www.kk.dk", "Storskrald bestiller du hos kommunen"), encoding="utf-8")
    assert main(["--knowledge", str(content), "import", str(source), "--format", "csv"]) == 1
    err = capsys.readouterr().err
    assert "faq.csv:4" in err and "official link" in err
    assert not list(content.glob("affald*.yml")), "nothing is written when a row is wrong"


def test_markdown_import_and_no_silent_overwrite(tmp_path, content, capsys):
    source = tmp_path / "bibliotek.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    assert main(["--knowledge", str(content), "import", str(source), "--format", "markdown"]) == 0
    card = load_knowledge_base(content).answers["library_card"]
    assert card.da.answer.endswith("https://bibliotek.kk.dk") and card.sv.examples == ["hur får jag ett lånekort"]
    assert main(["--knowledge", str(content), "import", str(source), "--format", "markdown"]) == 1
    assert "--replace" in capsys.readouterr().err
    assert main(["--knowledge", str(content), "import", str(source), "--format", "markdown", "--replace"]) == 0


def test_swefaq_import_keeps_the_attribution(tmp_path, content):
    from tests.conftest import ROOT

    source = ROOT.parent / "shared" / "data" / "swefaq" / "swefaq_dev.jsonl"
    assert main(["--knowledge", str(content), "import", str(source), "--format", "swefaq"]) == 0
    kb = load_knowledge_base(content)
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(kb.answers) == len(records)
    assert len({c for c in kb.categories}) == len({r["meta"]["category"] for r in records})
    for path in content.glob("swefaq_*.yml"):
        header = path.read_text(encoding="utf-8").split("category:")[0]
        assert "Språkbanken" in header and "CC BY 4.0" in header
    answer = next(iter(kb.answers.values()))
    assert answer.sv.answer.split(" Läs mer på ")[-1].startswith("https://")
