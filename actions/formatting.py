"""Amounts, dates and labels for citizens, in Danish and Swedish (Babel/CLDR).

Forms:
- amounts: da "1.234,50 kr."   sv "1 234,50 kr"
- dates:   da "30. november 2026"   sv "30 november 2026"

Spaces: Babel's da_DK and sv_SE data put a NO-BREAK SPACE (U+00A0) between
the number and "kr." / "kr", and sv_SE also uses it to group thousands. We
keep it by default (`non_breaking=True`): in a narrow chat bubble a normal
space lets "1 234,50 kr" break into "1" and "234,50 kr" on two lines, which
misreads the amount. It looks exactly like a space, but a test that compares
strings must expect "\u00a0" (or compare with `non_breaking=False` output).
Pass `non_breaking=False` for plain spaces where U+00A0 does harm: SMS, where
it is outside the GSM 7-bit alphabet and cuts a segment from 160 to 70
characters, or plain-text channels. Any other space Babel may emit in a later
CLDR version (e.g. U+202F) is normalised to the chosen one, so the output does
not change under a Babel upgrade.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

NBSP = "\u00a0"

_LOCALES = {"da": "da_DK", "sv": "sv_SE"}
_LONG_DATE_PATTERNS = {"da": "d. MMMM y", "sv": "d MMMM y"}
_SPACES = re.compile(r"[\u0020\u00a0\u2009\u202f]")


def _locale(language: str) -> str:
    try:
        return _LOCALES[language]
    except KeyError:
        raise ValueError("language must be 'da' or 'sv'") from None


def format_amount(amount_minor: int, currency: str, language: str, *, non_breaking: bool = True) -> str:
    """Format an amount given in minor units (øre / öre).

    >>> format_amount(123450, "DKK", "da", non_breaking=False)
    '1.234,50 kr.'
    >>> format_amount(123450, "SEK", "sv", non_breaking=False)
    '1 234,50 kr'
    """
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise TypeError("amount_minor must be an int (minor units)")
    # Decimal, not float: 0.1 + 0.2 must not become 0,30000000000000004.
    amount = Decimal(amount_minor).scaleb(-2)
    text = format_currency(amount, currency, locale=_locale(language))
    return _SPACES.sub(NBSP if non_breaking else " ", text)


def format_long_date(value: dt.date, language: str) -> str:
    """ "30. november 2026" (da) or "30 november 2026" (sv)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    locale = _locale(language)
    return format_date(value, _LONG_DATE_PATTERNS[language], locale=locale)


_BENEFITS = {
    "da": {
        "kontanthjaelp": "kontanthjælp",
        "uddannelseshjaelp": "uddannelseshjælp",
        "integrationsydelse": "integrationsydelse",
        "ekonomiskt_bistand": "økonomisk bistand",
        "forsorjningsstod": "forsørgelsesstøtte",
    },
    "sv": {
        "kontanthjaelp": "kontanthjälp",
        "uddannelseshjaelp": "utbildningshjälp",
        "integrationsydelse": "integrationsersättning",
        "ekonomiskt_bistand": "ekonomiskt bistånd",
        "forsorjningsstod": "försörjningsstöd",
    },
}

_CASE_KINDS = {
    "da": {
        "byggesag": "byggesag",
        "socialt_botilbud": "ansøgning om socialt botilbud",
        "plejebolig": "ansøgning om plejebolig",
        "fritidstilbud": "ansøgning om fritidstilbud",
        "institutionsplads": "ansøgning om institutionsplads",
        "bygglov": "byggetilladelse",
        "forskoleplats": "børnehaveplads",
        "ekonomiskt_bistand": "økonomisk bistand",
    },
    "sv": {
        "byggesag": "byggärende",
        "socialt_botilbud": "ansökan om socialt boende",
        "plejebolig": "ansökan om vård- och omsorgsboende",
        "fritidstilbud": "ansökan om fritidsverksamhet",
        "institutionsplads": "ansökan om barnomsorgsplats",
        "bygglov": "bygglov",
        "forskoleplats": "ansökan om förskoleplats",
        "ekonomiskt_bistand": "ansökan om ekonomiskt bistånd",
    },
}

_CASE_STATUSES = {
    "da": {
        "received": "modtaget",
        "in_progress": "under behandling",
        "awaiting_documentation": "afventer dokumentation fra dig",
        "decided": "afgjort",
        "closed": "afsluttet",
    },
    "sv": {
        "received": "mottaget",
        "in_progress": "under handläggning",
        "awaiting_documentation": "väntar på komplettering från dig",
        "decided": "beslut fattat",
        "closed": "avslutat",
    },
}


def _label(table: dict[str, dict[str, str]], key: str, language: str) -> str:
    _locale(language)
    # An unknown code from a newer system version is shown as is rather than failing the turn.
    return table[language].get(key, key.replace("_", " "))


def benefit_label(benefit_type: str, language: str) -> str:
    """ "kontanthjaelp" -> "kontanthjælp"; "ekonomiskt_bistand" -> "ekonomiskt bistånd"."""
    return _label(_BENEFITS, benefit_type, language)


def case_kind_label(kind: str, language: str) -> str:
    """Lower-case name of a case kind, to use inside a sentence."""
    return _label(_CASE_KINDS, kind, language)


def case_status_label(status: str, language: str) -> str:
    """Lower-case description of a case status, to use inside a sentence."""
    return _label(_CASE_STATUSES, status, language)
