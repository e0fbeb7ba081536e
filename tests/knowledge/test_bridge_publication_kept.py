"""`make knowledge` (ensure) and a publication an editor made in the bridge: the
bridge's publication stays live while it is newer than the files; files changed
after it are published."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from rasa_addons.knowledge import publish as pub
from rasa_addons.knowledge.schema import KNOWLEDGE_DIR
from rasa_addons.nlu import sentence_embeddings


def _vectors(texts):
    """Deterministic unit vectors (the index's logic, not the model's, is under test)."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
        v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
        rows.append(v / np.linalg.norm(v))
    return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    monkeypatch.setattr(sentence_embeddings, "embed", _vectors)
    monkeypatch.setattr(sentence_embeddings, "embed_passages", _vectors)


def content(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    shutil.copy(KNOWLEDGE_DIR / "municipalities.yml", directory / "municipalities.yml")
    shutil.copy(KNOWLEDGE_DIR / "mitid.yml", directory / "mitid.yml")
    return directory


def manifest(root: Path) -> dict:
    version = pub.read_current(root)
    return json.loads((root / "versions" / version / "manifest.json").read_text(encoding="utf-8"))


def test_a_bridge_publication_newer_than_the_files_stays_live(tmp_path):
    root = tmp_path / "index"
    files = content(tmp_path, "knowledge")
    pub.ensure_published(files, root)
    assert manifest(root)["origin"] == "files"

    # An editor publishes in the bridge: other content (one answer's text changed).
    edited = content(tmp_path, "bridge")
    path = edited / "mitid.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("Læs mere på", "Se mere på", 1), encoding="utf-8")
    old = time.time() - 3600  # the files are an hour older than the editor's publication
    for p in files.rglob("*.yml"):
        os.utime(p, (old, old))
    bridge = pub.publish(edited, root, origin="bridge").version

    said = []
    assert pub.ensure_published(files, root, log=said.append) == bridge
    assert pub.read_current(root) == bridge and manifest(root)["origin"] == "bridge"
    assert "knowledge-export" in said[0] and "knowledge-import" in said[0]


def test_files_changed_after_the_bridge_publication_are_published(tmp_path):
    root = tmp_path / "index"
    files = content(tmp_path, "knowledge")
    edited = content(tmp_path, "bridge")
    path = edited / "mitid.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("Læs mere på", "Se mere på", 1), encoding="utf-8")
    bridge = pub.publish(edited, root, origin="bridge").version
    later = time.time() + 5
    os.utime(files / "mitid.yml", (later, later))

    said = []
    version = pub.ensure_published(files, root, log=said.append)
    assert version != bridge and pub.read_current(root) == version
    assert manifest(root)["origin"] == "files"
    assert "knowledge-import" in said[0]


def test_unchanged_files_are_not_published_again(tmp_path):
    root = tmp_path / "index"
    files = content(tmp_path, "knowledge")
    first = pub.ensure_published(files, root)
    assert pub.ensure_published(files, root) == first


def test_an_unknown_origin_is_refused(tmp_path):
    with pytest.raises(ValueError):
        pub.publish(content(tmp_path, "knowledge"), tmp_path / "index", origin="elsewhere")
