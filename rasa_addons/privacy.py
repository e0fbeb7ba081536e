"""The assistant's use of the shared masking policy (ddh_privacy): in text
that leaves a turn (summaries, logs) and in every event the tracker store
saves (rasa_addons.tracker_store), personal data becomes "[skjult]"."""

from __future__ import annotations

from typing import Any

import ddh_privacy

MASK = "[skjult]"
# Metadata keys that carry credentials (the website's login token holds the
# national identity number); never stored, only used within the turn.
SECRET_METADATA_KEYS = frozenset({"login_token", "authorization", "token", "id_token", "access_token"})
REMOVED = "[fjernet]"


def mask_personal_data(text: str) -> str:
    """Replace identity, phone, e-mail and card numbers with the marker."""
    return ddh_privacy.mask_personal_data(text, MASK)


def mask_structure(value: Any) -> Any:
    """A copy of a JSON-like value with every string masked and credential
    keys removed (used on whole events before they are stored)."""
    return ddh_privacy.mask_structure(value, MASK, secret_keys=SECRET_METADATA_KEYS, secret_marker=REMOVED)
