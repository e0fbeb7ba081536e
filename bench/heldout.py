"""Shared helpers for benchmarks and quality gates: the held-out test sets."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_DIR = ROOT / "tests" / "nlu"
LANGUAGES = ("da", "sv")


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs from a Rasa NLU YAML file without entities."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in document.get("nlu", []):
        intent = block.get("intent")
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if intent and line.startswith("- "):
                pairs.append((line[2:].strip(), intent))
    return pairs


def heldout() -> Dict[str, List[Tuple[str, str]]]:
    """Held-out messages per language: {language: [(text, topic), ...]}."""
    return {lang: load_examples(HELDOUT_DIR / f"{lang}.yml") for lang in LANGUAGES}


def training_examples() -> List[Tuple[str, str, str]]:
    """(text, intent, language) for every training example under data/nlu."""
    rows = []
    for lang in LANGUAGES:
        for path in sorted((ROOT / "data" / "nlu" / lang).glob("*.yml")):
            rows.extend((text, intent, lang) for text, intent in load_examples(path))
    return rows
