"""Neither the adapters' logs nor the sandbox's log contain identity or phone numbers."""

from __future__ import annotations

import logging

import pytest

from actions.integrations import CaseClient, PayoutClient, SmsGatewayClient, SystemUnavailableError

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("clean_sandbox")]

IDENTITIES = ["1503851112", "150385-1112", "198503155684", "19850315-5684", "0304763332", "3102851112"]
PHONES = ["+4509990001", "+46701740605"]


async def exercise(sandbox, adapter_env) -> None:
    async with PayoutClient.from_env(adapter_env) as payout, CaseClient.from_env(adapter_env) as cases:
        await payout.next_payout("DK", "150385-1112")
        await payout.send_next_payout_by_sms("SE", "19850315-5684")
        await cases.cases("DK", "0304763332")
        await cases.send_case_status_by_sms("DK", "1503851112")
        try:
            await payout.next_payout("DK", "3102851112")
        except Exception:
            pass
        sandbox.set_mode("payout-system", mode="flaky", failures=1)
        await payout.next_payout("SE", "198503155684")
        sandbox.set_mode("case-system", mode="error")
        with pytest.raises(SystemUnavailableError):
            await cases.cases("SE", "198503155684")
    async with SmsGatewayClient.from_env(adapter_env) as sms:
        await sms.send("+4509990001", "Hej", sender_reference="test/log", idempotency_key="log-test-0001")


async def test_adapters_log_no_personal_data(sandbox, adapter_env, caplog):
    caplog.set_level(logging.DEBUG, logger="actions.integrations")
    await exercise(sandbox, adapter_env)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "attempt 1/3 failed" in logged  # the failures were logged...
    for secret in IDENTITIES + PHONES:
        assert secret not in logged  # ...without personal data


async def test_sandbox_log_masks_personal_data(sandbox, adapter_env):
    await exercise(sandbox, adapter_env)
    log = sandbox.log_path.read_text()
    assert "next-payout:lookup" in log  # the access log is on
    for secret in IDENTITIES + PHONES:
        assert secret not in log
