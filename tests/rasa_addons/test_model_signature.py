"""Only signed models load (the class of attack behind CVE-2024-49375)."""

from __future__ import annotations

import pytest

from rasa.engine import loader

from rasa_addons import model_signature, server
from rasa_addons.model_signature import UntrustedModelError, sign, signature_path, verify


@pytest.fixture(autouse=True)
def signing_key(tmp_path, monkeypatch):
    key = tmp_path / "keys" / "model-signing.key"
    monkeypatch.setenv("MODEL_SIGNING_KEY_FILE", str(key))
    return key


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"model bytes" * 1000)
    return path


def test_a_signed_model_verifies_and_the_key_is_private(archive, signing_key):
    sign(archive)
    verify(archive)
    assert signing_key.stat().st_mode & 0o077 == 0


def test_an_unsigned_model_is_refused(archive):
    with pytest.raises(UntrustedModelError, match="no signature"):
        verify(archive)


def test_an_altered_model_is_refused(archive):
    sign(archive)
    archive.write_bytes(archive.read_bytes() + b"payload")
    with pytest.raises(UntrustedModelError, match="does not match"):
        verify(archive)


def test_a_model_signed_with_another_key_is_refused(archive, tmp_path, monkeypatch):
    sign(archive)
    monkeypatch.setenv("MODEL_SIGNING_KEY_FILE", str(tmp_path / "other.key"))
    model_signature._key(create=True)
    with pytest.raises(UntrustedModelError, match="does not match"):
        verify(archive)


def test_verifying_never_creates_a_key(archive, signing_key):
    signature_path(archive).write_text("0" * 64)
    with pytest.raises(UntrustedModelError, match="no model signing key"):
        verify(archive)
    assert not signing_key.exists()


def test_the_server_entry_point_checks_every_model_load(archive, tmp_path, monkeypatch):
    original = loader.load_predict_graph_runner
    try:
        server.install()
        with pytest.raises(UntrustedModelError):
            loader.load_predict_graph_runner(tmp_path, archive, None, None)
    finally:
        loader.load_predict_graph_runner = original
