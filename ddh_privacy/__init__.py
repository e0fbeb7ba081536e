"""Personal-data rules of Den Digitale Hotline, shared by the assistant (Rasa
and the action server), the handoff bridge and the municipal sandbox.

- `ddh_privacy.masking`: the masking policy (identity numbers, phone numbers,
  e-mail addresses, card numbers, tokens), in any separators and Unicode
  digit forms, and across consecutive messages;
- `ddh_privacy.logs`: the log-record masker and its installer;
- `ddh_privacy.national_id`: CPR and personnummer rules.

Each service chooses its own marker (the bridge keeps the shape of a number,
the assistant writes "[skjult]", the sandbox "[id masked]"), so stored data
keeps the form it has always had.
"""

from .logs import MaskingFilter, install_log_masking, mask_record, uninstall_log_masking
from .masking import (
    CARD,
    EMAIL,
    NATIONAL_ID,
    PHONE,
    TOKEN,
    Finding,
    apply_marker,
    find_across_messages,
    find_personal_data,
    mask_personal_data,
    mask_structure,
    normalise,
    shape_marker,
)

__all__ = [
    "CARD", "EMAIL", "NATIONAL_ID", "PHONE", "TOKEN", "Finding", "MaskingFilter", "apply_marker",
    "find_across_messages", "find_personal_data", "install_log_masking", "mask_personal_data", "mask_record",
    "mask_structure", "normalise", "shape_marker", "uninstall_log_masking",
]
