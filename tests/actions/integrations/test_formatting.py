"""Amounts, dates and labels for Danish and Swedish citizens."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.formatting import (
    NBSP,
    benefit_label,
    case_kind_label,
    case_status_label,
    format_amount,
    format_long_date,
)


@pytest.mark.parametrize(
    "amount_minor, currency, language, expected",
    [
        (123450, "DKK", "da", "1.234,50 kr."),
        (123450, "SEK", "sv", "1 234,50 kr"),
        (1234550, "DKK", "da", "12.345,50 kr."),
        (923450, "SEK", "sv", "9 234,50 kr"),
        (100000000, "DKK", "da", "1.000.000,00 kr."),
        (100000000, "SEK", "sv", "1 000 000,00 kr"),
        (99, "DKK", "da", "0,99 kr."),
        (5, "SEK", "sv", "0,05 kr"),
        (0, "DKK", "da", "0,00 kr."),
        (10, "SEK", "sv", "0,10 kr"),
    ],
)
def test_amounts_with_plain_spaces(amount_minor, currency, language, expected):
    assert format_amount(amount_minor, currency, language, non_breaking=False) == expected


def test_amounts_use_no_break_spaces_by_default():
    assert format_amount(123450, "DKK", "da") == f"1.234,50{NBSP}kr."
    assert format_amount(123450, "SEK", "sv") == f"1{NBSP}234,50{NBSP}kr"
    assert " " not in format_amount(100000000, "SEK", "sv")


def test_amounts_are_exact():
    # 0.1 + 0.2 would be 0,30000000000000004 in floating point.
    assert format_amount(10 + 20, "DKK", "da", non_breaking=False) == "0,30 kr."
    assert format_amount(999999999999, "DKK", "da", non_breaking=False) == "9.999.999.999,99 kr."


@pytest.mark.parametrize("bad", [12.5, "1234", True])
def test_amount_must_be_minor_units(bad):
    with pytest.raises(TypeError):
        format_amount(bad, "DKK", "da")


@pytest.mark.parametrize(
    "value, language, expected",
    [
        (dt.date(2026, 11, 30), "da", "30. november 2026"),
        (dt.date(2026, 11, 30), "sv", "30 november 2026"),
        (dt.date(2027, 1, 2), "da", "2. januar 2027"),
        (dt.date(2027, 3, 5), "sv", "5 mars 2027"),
        (dt.date(2026, 5, 1), "da", "1. maj 2026"),
        (dt.datetime(2026, 10, 31, 23, 59), "sv", "31 oktober 2026"),
    ],
)
def test_long_dates(value, language, expected):
    assert format_long_date(value, language) == expected


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError):
        format_amount(100, "DKK", "en")
    with pytest.raises(ValueError):
        format_long_date(dt.date(2026, 1, 1), "no")
    with pytest.raises(ValueError):
        benefit_label("kontanthjaelp", "en")


def test_labels():
    assert benefit_label("kontanthjaelp", "da") == "kontanthjælp"
    assert benefit_label("ekonomiskt_bistand", "sv") == "ekonomiskt bistånd"
    assert benefit_label("forsorjningsstod", "sv") == "försörjningsstöd"
    assert case_kind_label("socialt_botilbud", "da") == "ansøgning om socialt botilbud"
    assert case_kind_label("forskoleplats", "sv") == "ansökan om förskoleplats"
    assert case_status_label("awaiting_documentation", "sv") == "väntar på komplettering från dig"
    assert case_status_label("in_progress", "da") == "under behandling"
    # A code added by a newer system version is shown readably, not a crash.
    assert case_status_label("on_hold", "da") == "on hold"


def test_every_contract_code_has_a_label_in_both_languages():
    codes = {
        benefit_label: [
            "kontanthjaelp",
            "uddannelseshjaelp",
            "integrationsydelse",
            "ekonomiskt_bistand",
            "forsorjningsstod",
        ],
        case_kind_label: [
            "byggesag",
            "socialt_botilbud",
            "plejebolig",
            "fritidstilbud",
            "institutionsplads",
            "bygglov",
            "forskoleplats",
            "ekonomiskt_bistand",
        ],
        case_status_label: ["received", "in_progress", "awaiting_documentation", "decided", "closed"],
    }
    for label, values in codes.items():
        for value in values:
            for language in ("da", "sv"):
                assert "_" not in label(value, language)
