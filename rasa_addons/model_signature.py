"""Only models this project trained are ever loaded.

A Rasa model archive holds code-bearing state; loading a model from elsewhere
is how CVE-2024-49375 attacks a Rasa server. Training signs the archive with
an HMAC-SHA256 key kept outside the models directory; every model load in
processes started through `rasa_addons.server` verifies the signature first
and refuses an unsigned or altered archive.

The key file comes from MODEL_SIGNING_KEY_FILE (default var/model-signing.key,
created with a random key on first use, readable by its owner only).

    python -m rasa_addons.model_signature sign models/ddh.tar.gz
    python -m rasa_addons.model_signature verify models/ddh.tar.gz
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from pathlib import Path
from typing import Union

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEY_FILE = ROOT / "var" / "model-signing.key"
SIGNATURE_SUFFIX = ".sig"


class UntrustedModelError(Exception):
    """The model archive is not signed with this deployment's key."""


def key_file() -> Path:
    return Path(os.environ.get("MODEL_SIGNING_KEY_FILE") or DEFAULT_KEY_FILE)


def _key(create: bool) -> bytes:
    path = key_file()
    if not path.exists():
        if not create:
            raise UntrustedModelError(f"no model signing key at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    key = path.read_text().strip().encode()
    if len(key) < 32:
        raise UntrustedModelError(f"the model signing key in {path} is too short")
    return key


def _digest(archive: Path, key: bytes) -> str:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    with archive.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            mac.update(chunk)
    return mac.hexdigest()


def signature_path(archive: Union[str, Path]) -> Path:
    archive = Path(archive)
    return archive.with_name(archive.name + SIGNATURE_SUFFIX)


def sign(archive: Union[str, Path]) -> Path:
    archive = Path(archive)
    target = signature_path(archive)
    target.write_text(_digest(archive, _key(create=True)) + "\n")
    return target


def verify(archive: Union[str, Path]) -> None:
    archive = Path(archive)
    signature = signature_path(archive)
    if not signature.exists():
        raise UntrustedModelError(f"{archive} has no signature ({signature.name}); train it with `make train`")
    expected = signature.read_text().strip()
    if not hmac.compare_digest(expected, _digest(archive, _key(create=False))):
        raise UntrustedModelError(f"{archive} does not match its signature: refusing to load it")


def main(argv: list) -> int:
    if len(argv) != 2 or argv[0] not in ("sign", "verify"):
        print(__doc__)
        return 2
    try:
        if argv[0] == "sign":
            print(f"signed: {sign(argv[1])}")
        else:
            verify(argv[1])
            print(f"verified: {argv[1]}")
    except (UntrustedModelError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
