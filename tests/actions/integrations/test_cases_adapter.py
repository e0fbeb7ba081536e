"""CaseClient against the running sandbox."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.integrations import Case, CaseClient, SystemUnavailableError

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_sandbox")]


async def test_cases_of_a_danish_citizen(adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        cases = await client.cases("DK", "1503851112")
    assert cases == [
        Case(
            case_id="BYG-10042",
            kind="byggesag",
            title="Tilbygning til enfamiliehus",
            status="in_progress",
            received_date=dt.date(2026, 10, 14),
            expected_decision_date=dt.date(2026, 12, 23),
            decision_date=None,
            last_updated_at=dt.datetime(2026, 11, 17, 9, 30, tzinfo=dt.timezone.utc),
        ),
        Case(
            case_id="FRI-10043",
            kind="fritidstilbud",
            title="Plads i fritidsklub",
            status="decided",
            received_date=dt.date(2026, 9, 24),
            expected_decision_date=None,
            decision_date=dt.date(2026, 11, 13),
            last_updated_at=dt.datetime(2026, 11, 13, 9, 30, tzinfo=dt.timezone.utc),
        ),
    ]
    assert [case.is_open for case in cases] == [True, False]


@pytest.mark.parametrize(
    "country, national_id, kind, status",
    [
        ("DK", "1503851112", "byggesag", "in_progress"),
        ("DK", "1109544441", "plejebolig", "in_progress"),
        ("DK", "0304763332", "socialt_botilbud", "received"),
        ("DK", "1503851112", "fritidstilbud", "decided"),
        ("DK", "1205045551", "institutionsplads", "awaiting_documentation"),
        ("SE", "199001012393", "bygglov", "awaiting_documentation"),
        ("SE", "198503155684", "forskoleplats", "received"),
        ("SE", "198503155684", "ekonomiskt_bistand", "in_progress"),
    ],
)
async def test_every_case_kind_can_be_looked_up(adapter_env, country, national_id, kind, status):
    async with CaseClient.from_env(adapter_env) as client:
        cases = await client.cases(country, national_id, kinds=[kind])
    assert [(case.kind, case.status) for case in cases] == [(kind, status)]


async def test_awaiting_documentation_has_no_promised_date(adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        [case] = await client.cases("SE", "19900101-2393")
    assert case.status == "awaiting_documentation"
    assert case.expected_decision_date is None


async def test_no_cases_is_an_empty_list(adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        assert await client.cases("DK", "2802992221") == []
        assert await client.cases("SE", "200107042640") == []


async def test_unknown_kinds_are_refused_before_any_request(adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        with pytest.raises(ValueError):
            await client.cases("DK", "1503851112", kinds=["parking"])


async def test_status_by_sms_in_swedish(sandbox, adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        await client.send_case_status_by_sms("SE", "199001012393", kinds=["bygglov"])
    [message] = sandbox.outbox()
    assert message["recipient"] == "+46701740606"
    assert message["text"] == (
        "Sandlåda kommun: Status för dina ärenden: Bygglov BL-20033: väntar på komplettering från dig."
    )


async def test_status_by_sms_in_danish(sandbox, adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        await client.send_case_status_by_sms("DK", "1205045551")
    [message] = sandbox.outbox()
    assert message["recipient"] == "+4509990002"
    assert message["text"] == (
        "Sandbox Kommune: Status på dine sager: Institutionsplads INS-10044: "
        "afventer dokumentation fra dig, forventet afgørelse 2. januar 2027."
    )


async def test_no_sms_without_a_registered_number(sandbox, adapter_env):
    async with CaseClient.from_env(adapter_env) as client:
        receipt = await client.send_case_status_by_sms("SE", "197811244628")
    assert receipt.notification_id
    assert sandbox.outbox() == []


async def test_case_system_down(sandbox, adapter_env):
    sandbox.set_mode("case-system", mode="down")
    async with CaseClient.from_env(adapter_env) as client:
        with pytest.raises(SystemUnavailableError) as error:
            await client.cases("DK", "1503851112")
        with pytest.raises(SystemUnavailableError):
            await client.send_case_status_by_sms("DK", "1503851112")
    assert error.value.system == "case-system"
    assert error.value.reason == "unavailable"
