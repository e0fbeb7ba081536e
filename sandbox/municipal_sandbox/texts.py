"""SMS texts the sandbox systems send, in Danish and Swedish.

Amounts use plain spaces, not the non-breaking ones of CLDR: a single
non-breaking space takes an SMS out of the GSM 7-bit alphabet and cuts a
segment from 160 to 70 characters.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from .models import Case, Payout

MUNICIPALITY = {"da": "Sandbox Kommune", "sv": "Sandlåda kommun"}

BENEFITS = {
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

CASE_KINDS = {
    "da": {
        "byggesag": "Byggesag",
        "socialt_botilbud": "Socialt botilbud",
        "plejebolig": "Plejebolig",
        "fritidstilbud": "Fritidstilbud",
        "institutionsplads": "Institutionsplads",
        "bygglov": "Byggetilladelse",
        "forskoleplats": "Børnehaveplads",
        "ekonomiskt_bistand": "Økonomisk bistand",
    },
    "sv": {
        "byggesag": "Byggärende",
        "socialt_botilbud": "Socialt boende",
        "plejebolig": "Vård- och omsorgsboende",
        "fritidstilbud": "Fritidsverksamhet",
        "institutionsplads": "Barnomsorgsplats",
        "bygglov": "Bygglov",
        "forskoleplats": "Förskoleplats",
        "ekonomiskt_bistand": "Ekonomiskt bistånd",
    },
}

CASE_STATUSES = {
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

_MONTHS = {
    "da": (
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
}


def format_amount(amount_minor: int, language: str) -> str:
    """1234550 -> "12.345,50 kr." (da) or "12 345,50 kr" (sv)."""
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    grouped = f"{units:,}".replace(",", "." if language == "da" else " ")
    suffix = "kr." if language == "da" else "kr"
    return f"{sign}{grouped},{cents:02d} {suffix}"


def format_date(value: dt.date, language: str) -> str:
    """ "30. november 2026" (da) or "30 november 2026" (sv)."""
    month = _MONTHS[language][value.month - 1]
    separator = ". " if language == "da" else " "
    return f"{value.day}{separator}{month} {value.year}"


def payout_text(payout: Payout | None, language: str) -> str:
    sender = MUNICIPALITY[language]
    if payout is None:
        if language == "da":
            return (
                f"{sender}: Der er ingen planlagt udbetaling til dig lige nu. Kontakt kommunen, hvis du har spørgsmål."
            )
        return f"{sender}: Det finns ingen planerad utbetalning till dig just nu. Kontakta kommunen om du har frågor."
    benefit = BENEFITS[language].get(payout.benefit_type, payout.benefit_type)
    amount = format_amount(payout.amount_minor, language)
    date = format_date(payout.payout_date, language)
    if language == "da":
        return f"{sender}: Din næste udbetaling af {benefit} er {amount} den {date}."
    return f"{sender}: Din nästa utbetalning av {benefit} är {amount} den {date}."


def case_status_text(cases: Iterable[Case], language: str) -> str:
    sender = MUNICIPALITY[language]
    lines = []
    for case in cases:
        kind = CASE_KINDS[language].get(case.kind, case.kind)
        status = CASE_STATUSES[language].get(case.status, case.status)
        line = f"{kind} {case.case_id}: {status}"
        if case.status in ("received", "in_progress", "awaiting_documentation") and case.expected_decision_date:
            date = format_date(case.expected_decision_date, language)
            line += f", forventet afgørelse {date}" if language == "da" else f", beslut väntas {date}"
        lines.append(line + ".")
    if not lines:
        if language == "da":
            return f"{sender}: Vi har ingen sager registreret på dig."
        return f"{sender}: Vi har inga ärenden registrerade på dig."
    heading = "Status på dine sager:" if language == "da" else "Status för dina ärenden:"
    return f"{sender}: {heading} " + " ".join(lines)


# GSM 03.38 basic character set and extension table (the latter costs two septets).
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = set("^{}\\[~]|€\f")


def sms_encoding_and_segments(text: str) -> tuple[str, int]:
    """Encoding and number of SMS segments the text needs."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text):
        septets = sum(2 if char in _GSM7_EXTENSION else 1 for char in text)
        return "GSM-7", 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else -(-units // 67)
