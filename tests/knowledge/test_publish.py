"""Publishing: versioned, switched atomically, incremental; and the live
index of a running process picks a change up by itself."""

from __future__ import annotations

import threading
import time

import pytest

from rasa_addons.knowledge.publish import CURRENT_FILE, LiveIndex, ensure_published, read_current
from rasa_addons.nlu import sentence_embeddings
from tests.support.knowledge import EXTRA_ANSWER_ID, knowledge_copy, publish_into

QUESTION = "hvornår har genbrugspladsen åbent"


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "index"
    publish_into(root)
    return root


def test_a_change_is_published_as_a_new_version_embedding_only_what_changed(tmp_path, root):
    before = read_current(root)
    content = knowledge_copy(tmp_path / "content", extra_answer=True)
    after = publish_into(root, content)
    assert after != before and read_current(root) == after
    manifest = (root / "versions" / after / "manifest.json").read_text(encoding="utf-8")
    import json

    stats = json.loads(manifest)
    assert 0 < stats["embedded_texts"] <= 6  # the new answer's title, 3 examples, passage
    assert stats["build_seconds"] < 60
    assert (root / "versions" / before).exists(), "the previous version stays for processes still using it"
    assert not list(root.glob(f".{CURRENT_FILE}.*")), "the switch leaves no temporary file"


def test_unchanged_content_is_not_published_again(root):
    version = read_current(root)
    assert ensure_published(root=root) == version


def test_a_running_process_picks_up_a_publication_without_missing_a_message(tmp_path, root):
    live = LiveIndex(root, check_interval=0.5)
    first = live.load_now()
    vector = sentence_embeddings.embed([QUESTION])[0]
    assert first.search("da", QUESTION, vector).answer_id != EXTRA_ANSWER_ID

    answers, errors, stop = [], [], threading.Event()

    def citizen():  # keeps asking while the change is published
        while not stop.is_set():
            try:
                publication = live.get()
                answers.append((publication.version, publication.search("da", QUESTION, vector).answer_id))
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                errors.append(error)
            time.sleep(0.05)

    asking = threading.Thread(target=citizen)
    asking.start()
    try:
        published_at = time.monotonic()
        version = publish_into(root, knowledge_copy(tmp_path / "content", extra_answer=True))
        while time.monotonic() - published_at < 30 and (not answers or answers[-1][0] != version):
            time.sleep(0.1)
        live_after = time.monotonic() - published_at
    finally:
        stop.set()
        asking.join()
    assert not errors
    assert answers[-1] == (version, EXTRA_ANSWER_ID)
    assert live_after < 30
    assert {v for v, _ in answers} == {first.version, version}, "every message was answered by one of the two"


def test_a_broken_publication_keeps_the_previous_one(root):
    live = LiveIndex(root, check_interval=0.0)
    first = live.load_now()
    (root / CURRENT_FILE).write_text("no-such-version\n", encoding="utf-8")
    for _ in range(20):
        assert live.get().version == first.version
        time.sleep(0.05)


def test_the_environment_sets_how_often_a_process_looks_for_a_new_publication(monkeypatch):
    from rasa_addons.knowledge.publish import CHECK_INTERVAL_ENV, check_interval

    monkeypatch.delenv(CHECK_INTERVAL_ENV, raising=False)
    assert check_interval(10.0) == 10.0
    monkeypatch.setenv(CHECK_INTERVAL_ENV, "1")
    assert check_interval(10.0) == 1.0
    for wrong in ("0", "-3", "soon", "nan", "86400"):
        monkeypatch.setenv(CHECK_INTERVAL_ENV, wrong)
        with pytest.raises(ValueError, match=CHECK_INTERVAL_ENV):
            check_interval(10.0)
