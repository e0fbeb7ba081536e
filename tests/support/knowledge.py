"""Knowledge base publications for tests: a copy of the shipped content
(optionally with one more answer) published into a directory of the test's
own, so a test can change what a running assistant knows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from rasa_addons.knowledge.publish import CURRENT_FILE, ensure_published, index_root, publish, read_current

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"

# An answer the shipped knowledge base does not have (Danish).
EXTRA_ANSWER_ID = "recycling_centre_hours"
EXTRA_ANSWER = f"""category: test_recycling
name: Recycling (test content)
answers:
- id: {EXTRA_ANSWER_ID}
  source: test content
  last_verified: 2026-12-01
  da:
    title: Genbrugspladsens åbningstider
    answer: Genbrugspladsens åbningstider finder du på din kommunes hjemmeside.
    municipal: true
    examples:
    - hvornår har genbrugspladsen åbent
    - åbningstider på genbrugspladsen
    - kan jeg komme på genbrugspladsen om søndagen
"""


def knowledge_copy(target: Path, extra_answer: bool = False) -> Path:
    """The shipped content in `target`, with the extra answer if asked."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(KNOWLEDGE, target)
    if extra_answer:
        (target / "test_recycling.yml").write_text(EXTRA_ANSWER, encoding="utf-8")
    return target


def publish_into(root: Path, content: Optional[Path] = None) -> str:
    """Publish `content` (default: the shipped knowledge base) into `root`.

    The first publication into an empty root copies the shipped one from
    var/knowledge (built by `make knowledge`), so tests do not embed the
    whole knowledge base again; later ones reuse its vectors.
    """
    if content is None and read_current(root) is None:
        version = ensure_published()
        source = index_root() / "versions" / version
        (root / "versions").mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, root / "versions" / version)
        (root / CURRENT_FILE).write_text(version + "\n", encoding="utf-8")
        return version
    if read_current(root) is None:
        publish_into(root)
    return publish(content or KNOWLEDGE, root).version
