"""Citizen-facing system texts in Danish and Swedish."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TEXTS: dict[str, dict[str, str]] = {
    "queued": {
        "da": "Du er nu i kø til en medarbejder. Du er nummer {position} i køen. Forventet ventetid: ca. {minutes} min.",
        "sv": "Du står nu i kö för att prata med en person. Du är nummer {position} i kön. Beräknad väntetid: cirka {minutes} min.",
    },
    "queue_position": {
        "da": "Du er nummer {position} i køen. Forventet ventetid: ca. {minutes} min.",
        "sv": "Du är nummer {position} i kön. Beräknad väntetid: cirka {minutes} min.",
    },
    "agent_joined": {
        "da": "{name} fra kontaktcentret er nu med i samtalen.",
        "sv": "{name} från kontaktcentret är nu med i samtalet.",
    },
    "transferred": {
        "da": "Du bliver stillet videre til en anden medarbejder. Vent venligst.",
        "sv": "Du kopplas vidare till en annan person. Vänta, tack.",
    },
    "handed_back": {
        "da": "Du skriver nu med den digitale assistent igen.",
        "sv": "Du skriver nu med den digitala assistenten igen.",
    },
    "closed_by_agent": {
        "da": "Medarbejderen har afsluttet samtalen. Hvor tilfreds er du med hjælpen? Giv en karakter fra 1 (meget utilfreds) til 9 (meget tilfreds).",
        "sv": "Personen du pratade med har avslutat samtalet. Hur nöjd är du med hjälpen? Ge ett betyg från 1 (mycket missnöjd) till 9 (mycket nöjd).",
    },
    "rasa_unavailable": {
        "da": "Den digitale assistent kan desværre ikke svare lige nu. Prøv igen om lidt, eller tal med en medarbejder.",
        "sv": "Den digitala assistenten kan tyvärr inte svara just nu. Försök igen om en stund, eller prata med en person.",
    },
    "handoff_unavailable": {
        "da": "Vi kan desværre ikke forbinde dig til en medarbejder i chatten lige nu. Kontakt kommunens borgerservice – telefonnummeret står på kommunens hjemmeside.",
        "sv": "Vi kan tyvärr inte koppla dig till en person i chatten just nu. Kontakta kommunens kontaktcenter – telefonnumret finns på kommunens webbplats.",
    },
    "closed_hours": {
        "da": "Kontaktcentret har lukket nu og åbner igen {next_open}. Du kan bestille et opkald, så ringer vi dig op, eller fortsætte med den digitale assistent.",
        "sv": "Kontaktcentret har stängt nu och öppnar igen {next_open}. Du kan beställa att vi ringer upp dig, eller fortsätta med den digitala assistenten.",
    },
    "callback_offer_wait": {
        "da": "Der er længere ventetid end normalt. Du kan bestille et opkald, så ringer vi dig op, eller blive i køen.",
        "sv": "Väntetiden är längre än vanligt. Du kan beställa att vi ringer upp dig, eller stå kvar i kön.",
    },
    "callback_registered": {
        "da": "Tak. Vi har modtaget din anmodning og ringer dig op hurtigst muligt.",
        "sv": "Tack. Vi har tagit emot din förfrågan och ringer upp dig så snart som möjligt.",
    },
    "timeout_inactive": {
        "da": "Samtalen er afsluttet, fordi vi ikke har hørt fra dig i et stykke tid.",
        "sv": "Samtalet har avslutats eftersom vi inte har hört av dig på en stund.",
    },
    "rating_thanks": {
        "da": "Tak for din vurdering.",
        "sv": "Tack för ditt betyg.",
    },
    # The transcript's line for a number given in the widget's field (the number itself is never stored).
    "identity_sent_cpr": {"da": "[CPR-nummer sendt]", "sv": "[CPR-nummer skickat]"},
    "identity_sent_personnummer": {"da": "[Personnummer sendt]", "sv": "[Personnummer skickat]"},
    "button_person": {"da": "Tal med en medarbejder", "sv": "Prata med en person"},
    "button_callback": {"da": "Bestil opkald", "sv": "Beställ uppringning"},
    "button_keep_waiting": {"da": "Bliv i køen", "sv": "Stå kvar i kön"},
}

_WEEKDAYS = {
    "da": ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"],
    "sv": ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"],
}
_AT = {"da": "kl.", "sv": "kl."}


def text(key: str, language: str, **kwargs) -> str:
    variants = TEXTS[key]
    template = variants.get(language) or variants["da"]
    return template.format(**kwargs)


def format_opening(when: dt.datetime, tz: str, language: str) -> str:
    """'mandag 23.11. kl. 08:00' in the queue's own time zone."""
    local = when.astimezone(ZoneInfo(tz))
    day = _WEEKDAYS.get(language, _WEEKDAYS["da"])[local.weekday()]
    return f"{day} {local.day}.{local.month}. {_AT.get(language, 'kl.')} {local:%H:%M}"
