"""One masking policy for personal data in free text: national identity
numbers (CPR, personnummer, samordningsnummer), phone numbers, e-mail
addresses, payment card numbers and signed tokens.

How a text is read:

1. Normalised character by character (every finding is then replaced in the
   original text): Unicode digits of any script (full-width `０４０１`,
   Arabic-Indic `٠٤٠١`, ...) become ASCII digits, Unicode dashes and spaces
   become `-` and ` `; escapes as repr() and JSON write them in log lines
   (`\xa0`, `\uff10`) are read as the characters they stand for.
2. E-mail addresses and signed tokens (JWT) are found first.
3. Every *run* of digit groups is read: digits joined by the separators people
   put inside numbers (spaces, dots, hyphens, slashes, `+`, `(0)`), whatever the
   grouping: `04.01.90.1239`, `050190.1240`, `0401 90-1239`, `+45 1234 5678`.
   Within a run, windows of whole groups are checked, longest first, for a
   card number (13-19 digits passing Luhn; card layouts never use dots) and a
   national id (10 or 12 digits shaped as DDMMYY / (YY)YYMMDD). What is left of
   the run is checked as a whole for a phone number: `+`/`00` + 8-15 digits, 8
   digits (Danish) or a leading 0 and 8-10 digits (Swedish), or two of them.

What stays readable, because agents and operators need it and it is not
personal data: dates (`2026-03-12`, `12.03.2026`), times and time ranges
(`10.00-14.00`), year ranges (`2020-2024`), amounts with thousands separators
(`12.500.000`), numbers right after a reference word (`sagsnummer 12345678`,
`ordre 87654321`; a national id is masked even there), and identifiers in
which digits and hex letters are glued together (conversation and message
ids such as `1234567abc...`, UUIDs), so log lines can be matched to
conversations. A number glued to other letters (`cpr0401901239`) is masked.

Choices that protect citizens first: identity numbers are masked by shape
(a real month and a day up to 31, or 61-91 for samordningsnummer), not by
full validity, so a mistyped number is masked too; an international prefix
makes any run a phone number; signed tokens are masked in every service,
because their payload holds the identity number. Only ordinary numbers that
cannot be told from a phone number by their digits alone (dates, amounts,
references) are let through, by their shape or the word before them.

The replacement is the caller's (`marker`): a fixed string, or a function of
the kind of finding and the original text (see `shape_marker`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable, Union

from stdnum import luhn

from .national_id import looks_like_national_id

NATIONAL_ID = "national_id"
PHONE = "phone"
CARD = "card"
EMAIL = "email"
TOKEN = "token"

Marker = Union[str, Callable[[str, str], str]]


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str


# --- normalisation --------------------------------------------------------------------

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d")


def _normal_char(ch: str) -> str:
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    if ch in _DASHES:
        return "-"
    if ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and folded.isascii() else ch


def normalise(text: str) -> str:
    """`text` with Unicode digits, dashes, spaces and full-width forms in ASCII;
    always the same length as `text`."""
    if text.isascii():
        return text
    return "".join(ch if ch.isascii() else _normal_char(ch) for ch in text)


# Log lines often hold text as repr() or JSON writes it: `\xa0`, `\u2013`,
# `\uff10` stand for a separator or a digit there.
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")


def _decode_escape(sequence: str) -> str:
    try:
        return chr(int(sequence[2:], 16))
    except (ValueError, OverflowError):
        return sequence


def _read(text: str) -> tuple[str, list[int] | None]:
    """The normalised text, and where each of its characters starts in `text`
    (None when they are the same positions)."""
    if "\\" not in text or not _ESCAPE.search(text):
        return normalise(text), None
    chars: list[str] = []
    starts: list[int] = []
    position = 0
    for match in _ESCAPE.finditer(text):
        for index in range(position, match.start()):
            chars.append(text[index])
            starts.append(index)
        decoded = _decode_escape(match.group())
        chars.append(decoded if len(decoded) == 1 else "\\")
        starts.append(match.start())
        position = match.end()
    for index in range(position, len(text)):
        chars.append(text[index])
        starts.append(index)
    starts.append(len(text))
    return normalise("".join(chars)), starts


# --- patterns on the normalised text --------------------------------------------------

_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_TOKEN = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_SEPARATOR = r"(?:[ \t]?[-.+/][ \t]?|[ \t]{1,2}|[ \t]?\(0\)[ \t]?)"
_RUN = re.compile(rf"\+?[0-9]+(?:{_SEPARATOR}[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
# Identifiers that are not personal data: long hex strings and UUIDs.
_IDENTIFIER_CHARS = re.compile(r"[0-9A-Za-z_\-]+")
_HEX_IDENTIFIER = re.compile(
    r"(?:[0-9a-fA-F]{16,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
# Words after which an 8-digit number is a reference, not a phone number.
_REFERENCE_WORD = re.compile(
    r"\b(?:sags?(?:nummer|nr)?|j(?:ournal)?\.?\s?nr|ordre(?:nummer|nr)?|order(?:nummer|nr)?|"
    r"faktura(?:nummer|nr)?|kunde(?:nummer|nr)?|kund(?:nummer|nr)?|ärende(?:nummer|nr)?|"
    r"diarie(?:nummer|nr)?|dnr|referens(?:nummer)?|reference(?:nummer)?|ref|case|invoice"
    r")\.?(?:\s*(?:nr|no|nummer)\.?)?\s*[:#]?\s*$",
    re.IGNORECASE,
)
_DATE_SEPARATORS = frozenset("-./")


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str
    separator_before: str  # "" for the first group of a run


def _groups(normal: str, start: int, end: int) -> list[_Group]:
    groups, previous_end = [], None
    for match in _GROUP.finditer(normal, start, end):
        separator = "" if previous_end is None else normal[previous_end:match.start()]
        groups.append(_Group(match.start(), match.end(), match.group(), separator))
        previous_end = match.end()
    return groups


def _valid_date(day: int, month: int, year: int | None = None) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31 and (year is None or 1800 <= year <= 2199)


def _is_date_or_range(groups: list[_Group]) -> bool:
    """2026-03-12, 12.03.2026, 12/3/2026, 10.00-14.00, 2020-2024."""
    sizes = [len(g.digits) for g in groups]
    separators = [g.separator_before.strip() for g in groups[1:]]
    values = [int(g.digits) for g in groups]
    if len(groups) == 3 and len(set(separators)) == 1 and separators[0] in _DATE_SEPARATORS:
        if sizes[0] == 4 and sizes[1] <= 2 and sizes[2] <= 2:
            return _valid_date(values[2], values[1], values[0])
        if sizes[0] <= 2 and sizes[1] <= 2 and sizes[2] == 4:
            return _valid_date(values[0], values[1], values[2])
    if len(groups) == 4 and separators == [".", "-", "."] and all(s <= 2 for s in sizes):
        return values[0] <= 24 and values[1] <= 59 and values[2] <= 24 and values[3] <= 59
    if len(groups) == 2 and sizes == [4, 4] and separators[0] in ("-", "/"):
        return 1900 <= values[0] <= values[1] <= 2099
    return False


def _is_grouped_amount(groups: list[_Group]) -> bool:
    """12.500.000 or 12,500,000: thousands separators."""
    separators = {g.separator_before for g in groups[1:]}
    return (len(groups) >= 3 and len(separators) == 1 and separators <= {".", ","}
            and len(groups[0].digits) <= 3 and all(len(g.digits) == 3 for g in groups[1:]))


def _is_phone(groups: list[_Group], plus: bool, after_reference_word: bool) -> bool:
    """Danish numbers have 8 digits, Swedish ones 7-9 after the trunk 0 or the
    country code. With `+` or `00` any country's number (8-15 digits) counts:
    the prefix says it is a phone number, so no exemption applies."""
    digits = "".join(g.digits for g in groups)
    if plus:
        return 8 <= len(digits) <= 15
    if digits.startswith("00"):
        return 10 <= len(digits) <= 17
    if digits.startswith("0") and 8 <= len(digits) <= 10 and not _is_date_or_range(groups):
        # The Swedish trunk 0 marks a phone number even after a reference word
        # ("ärende 070-123 45 67"): references are not written with a leading 0.
        return not _is_grouped_amount(groups)
    if after_reference_word or _is_date_or_range(groups) or _is_grouped_amount(groups):
        return False
    if digits.startswith("0"):
        return 8 <= len(digits) <= 10
    if digits.startswith("45") and len(digits) == 10:
        return True  # +45 written without the plus
    if digits.startswith("46") and 10 <= len(digits) <= 12:
        return True  # +46 written without the plus
    return len(digits) == 8


def _is_card(groups: list[_Group], digits: str) -> bool:
    """13-19 digits passing Luhn; card layouts never use dots. (A long number
    failing Luhn is no usable card number; case and order references of that
    length must stay readable.)"""
    return (13 <= len(digits) <= 19 and all("." not in g.separator_before for g in groups[1:])
            and luhn.is_valid(digits))


def _in_identifier(normal: str, start: int, end: int) -> bool:
    """Whether the run is glued to letters as part of a hex id or UUID."""
    glued_before = start > 0 and (normal[start - 1].isalpha() or normal[start - 1] == "_")
    glued_after = end < len(normal) and (normal[end].isalpha() or normal[end] == "_")
    if not (glued_before or glued_after):
        return False
    left = start
    while left > 0 and _IDENTIFIER_CHARS.match(normal[left - 1]):
        left -= 1
    token = _IDENTIFIER_CHARS.match(normal, left)
    return token is not None and _hex_token_covers(token.group(), left, start, end)


def _hex_token_covers(token: str, token_start: int, start: int, end: int) -> bool:
    for match in _HEX_IDENTIFIER.finditer(token):
        if token_start + match.start() <= start and end <= token_start + match.end():
            return any(ch.isalpha() for ch in match.group())
    return False


def _read_run(normal: str, start: int, end: int) -> list[Finding]:
    plus = normal[start] == "+"
    groups = _groups(normal, start, end)
    if not groups:
        return []
    international = plus or "".join(g.digits for g in groups[:3]).startswith("00")
    if international and _is_phone(groups, plus, False):
        # An international prefix says what the whole run is.
        return [Finding(start, groups[-1].end, PHONE)]
    found: list[Finding] = []
    taken = [False] * len(groups)
    # Cards and national ids: windows of whole groups, longest first, left to right.
    all_digits = "".join(g.digits for g in groups)
    offsets = [0]
    for g in groups:
        offsets.append(offsets[-1] + len(g.digits))
    i = 0
    while i < len(groups):
        hit = None
        for j in range(len(groups) - 1, i - 1, -1):
            length = offsets[j + 1] - offsets[i]
            if length > 19:
                continue
            if length < 10:
                break  # shorter windows hold neither
            digits = all_digits[offsets[i]:offsets[j + 1]]
            if length >= 13:
                if _is_card(groups[i:j + 1], digits):
                    hit = (j, CARD)
                    break
            elif not (plus and i == 0) and looks_like_national_id(digits):
                hit = (j, NATIONAL_ID)
                break
        if hit is None:
            i += 1
            continue
        j, kind = hit
        found.append(Finding(groups[i].start, groups[j].end, kind))
        for k in range(i, j + 1):
            taken[k] = True
        i = j + 1
    before = normal[max(0, start - 30):start]
    after_reference = bool(_REFERENCE_WORD.search(before))
    if found and not all(taken) and _is_phone(groups, plus, after_reference):
        # A national id read inside a longer phone number ("46" + 9 digits,
        # written as `4/66 1 - 187 1-72 - 1`) would leave its first or last
        # digits readable: the whole run is masked, as the stricter kind (an
        # identity number is masked whole by every marker).
        kinds = {f.kind for f in found}
        return [Finding(start, groups[-1].end, NATIONAL_ID if NATIONAL_ID in kinds else found[0].kind)]
    # Phone numbers: each stretch of groups left over, as a whole or as two numbers.
    k = 0
    while k < len(groups):
        if taken[k]:
            k += 1
            continue
        m = k
        while m + 1 < len(groups) and not taken[m + 1]:
            m += 1
        stretch = groups[k:m + 1]
        stretch_plus = plus and k == 0
        first_start = start if stretch_plus else stretch[0].start
        if _is_phone(stretch, stretch_plus, after_reference and k == 0):
            found.append(Finding(first_start, stretch[-1].end, PHONE))
        else:
            for split in range(1, len(stretch)):
                head, tail = stretch[:split], stretch[split:]
                if (_is_phone(head, stretch_plus, after_reference and k == 0)
                        and _is_phone(tail, False, False)):
                    found.append(Finding(first_start, head[-1].end, PHONE))
                    found.append(Finding(tail[0].start, tail[-1].end, PHONE))
                    break
        k = m + 1
    return found


def find_personal_data(text: str) -> list[Finding]:
    """Every piece of personal data in `text`, in order, not overlapping."""
    if not text:
        return []
    normal, starts = _read(text)
    found: list[Finding] = []
    if "@" in normal:
        found += [Finding(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(normal)]
    if "eyJ" in normal:
        found += [Finding(m.start(), m.end(), TOKEN) for m in _TOKEN.finditer(normal)]
    covered = sorted((f.start, f.end) for f in found)
    for match in _RUN.finditer(normal):
        start, end = match.span()
        if end - start < 8 or (covered and any(a < end and start < b for a, b in covered)):
            continue  # fewer than 8 characters hold no number worth masking
        if _in_identifier(normal, start, end):
            continue
        found += _read_run(normal, start, end)
    if starts is not None:  # back to positions in `text`
        found = [Finding(starts[f.start], starts[f.end], f.kind) for f in found]
    return sorted(found, key=lambda f: f.start)


# --- replacement ----------------------------------------------------------------------


def _mark_digits(text: str, char: str) -> str:
    return "".join(char if ch.isdigit() else ch for ch in text)


def shape_marker(char: str = "#") -> Callable[[str, str], str]:
    """Replace every digit (every character of an e-mail address or token but
    `@` and `.`) with `char`, keeping separators: a reader still sees that a
    number was written, and of what shape; the text keeps its length."""

    def replace(kind: str, original: str) -> str:
        if kind in (EMAIL, TOKEN):
            return "".join(ch if ch in "@." else char for ch in original)
        pieces, position = [], 0
        for match in _ESCAPE.finditer(original) if "\\" in original else ():
            # An escaped digit (`\uff10`) becomes one mark, an escaped separator stays.
            pieces.append(_mark_digits(original[position:match.start()], char))
            pieces.append(char if _decode_escape(match.group()).isdigit() else match.group())
            position = match.end()
        pieces.append(_mark_digits(original[position:], char))
        return "".join(pieces)

    return replace


def apply_marker(text: str, findings: Iterable[Finding], marker: Marker) -> str:
    pieces, last = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < last:
            continue  # overlapping (merged from two readings): already replaced
        pieces.append(text[last:finding.start])
        original = text[finding.start:finding.end]
        pieces.append(marker if isinstance(marker, str) else marker(finding.kind, original))
        last = finding.end
    pieces.append(text[last:])
    return "".join(pieces)


def mask_personal_data(text: str | None, marker: Marker) -> str | None:
    """`text` with every piece of personal data replaced by `marker`."""
    if not text:
        return text
    findings = find_personal_data(text)
    return apply_marker(text, findings, marker) if findings else text


def mask_structure(value, marker: Marker, *, secret_keys: frozenset[str] = frozenset(),
                   secret_marker: str = "[removed]"):
    """A copy of a JSON-like value with every string masked; values under
    `secret_keys` (credentials) replaced by `secret_marker`."""
    if isinstance(value, str):
        return mask_personal_data(value, marker)
    if isinstance(value, dict):
        return {key: (secret_marker if str(key).lower() in secret_keys
                      else mask_structure(item, marker, secret_keys=secret_keys, secret_marker=secret_marker))
                for key, item in value.items()}
    if isinstance(value, list):
        return [mask_structure(item, marker, secret_keys=secret_keys, secret_marker=secret_marker)
                for item in value]
    return value


# --- numbers split over consecutive messages ------------------------------------------

# How much of the previous messages is read together with a new one: enough for
# any number with its separators, written in up to four messages.
CONTINUATION_CHARS = 40
_ENDS_WITH_NUMBER = re.compile(r"(?:\+|[0-9])[ \t.\-/+]*$")
_STARTS_WITH_NUMBER = re.compile(r"^[ \t]*(?:[-.+/][ \t]*)?[0-9]")
_ONLY_NUMBER = re.compile(r"^[ \t]*[+]?[0-9 \t.\-/+()]*$")


def find_across_messages(previous: list[str], text: str) -> tuple[list[list[Finding]], list[Finding]]:
    """Personal data that only shows when `text` is read after the `previous`
    messages of the same sender (oldest first): `040190` then `-1239`, or
    `0401` / `90 1239`.

    Returns, for each previous message, the findings that reach into it (in its
    own positions), and the findings in `text` (its own ones included).
    """
    own = find_personal_data(text)
    nothing: list[list[Finding]] = [[] for _ in previous]
    normal = normalise(text or "")
    if not previous or not _STARTS_WITH_NUMBER.match(normal):
        return nothing, own
    # The earlier messages that continue into this one: the last one, and
    # before it as long as each later one holds nothing but a number fragment.
    joined_parts: list[tuple[int, int]] = []  # (index in previous, offset of the suffix used)
    for index in range(len(previous) - 1, -1, -1):
        earlier = normalise(previous[index] or "")
        if not _ENDS_WITH_NUMBER.search(earlier):
            break
        offset = max(0, len(earlier) - CONTINUATION_CHARS)
        joined_parts.insert(0, (index, offset))
        if not _ONLY_NUMBER.match(earlier):
            break
    if not joined_parts:
        return nothing, own
    # Joined with a space unless one side already ends or starts with one (a
    # separator of at most two spaces keeps the groups in one run).
    pieces = [previous[index][offset:] for index, offset in joined_parts] + [text]
    combined, starts = "", []
    for piece in pieces:
        if combined and not (combined[-1].isspace() or piece[:1].isspace()):
            combined += " "
        starts.append(len(combined))
        combined += piece
    text_start = starts.pop()
    pieces.pop()
    earlier_findings = nothing
    extra: list[Finding] = []
    for finding in find_personal_data(combined):
        if finding.end <= starts[-1] + len(pieces[-1]):
            continue  # within the earlier messages alone: masked when they were stored
        if finding.start >= text_start:
            continue  # within the new message alone: among its own findings
        # A number across the boundary: mask its part in every message it touches.
        for (index, offset), piece_start, piece in zip(joined_parts, starts, pieces):
            a, b = max(finding.start, piece_start), min(finding.end, piece_start + len(piece))
            if a < b:
                earlier_findings[index].append(Finding(offset + a - piece_start, offset + b - piece_start,
                                                       finding.kind))
        extra.append(Finding(0, finding.end - text_start, finding.kind))
    return earlier_findings, sorted(_merge(own + extra), key=lambda f: f.start)


def _merge(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings as one (the earlier kind wins)."""
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Finding(last.start, max(last.end, finding.end), last.kind)
        else:
            merged.append(finding)
    return merged
