"""The session-end secret check (log_audit.py) and the bridge's redaction of
query strings in log lines (handoff_bridge/log_redaction.py)."""

import logging

import httpx
from tests.support import log_audit

from handoff_bridge.log_redaction import install_url_redaction, redact_query_strings


async def test_httpx_request_lines_carry_no_query_string(fake_rasa, caplog):
    install_url_redaction()
    caplog.set_level(logging.INFO, logger="httpx")
    async with httpx.AsyncClient() as client:
        await client.get(f"{fake_rasa.url}/status", params={"token": "query-secret-0123456789"})
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all("query-secret-0123456789" not in line for line in lines), lines
    assert any("/status?[query removed]" in line for line in lines), lines


def test_redaction_keeps_urls_without_query_and_plain_text():
    assert redact_query_strings("GET /api/v1/agent/ws 101") == "GET /api/v1/agent/ws 101"
    assert redact_query_strings("is it? yes") == "is it? yes"
    assert redact_query_strings("POST /conversations/c1/tracker/events?token=abc HTTP/1.1") == \
        "POST /conversations/c1/tracker/events?[query removed] HTTP/1.1"
    assert redact_query_strings("see https://www.borger.dk/pas?x=1 now") == "see https://www.borger.dk/pas?[query removed] now"


def test_the_check_finds_a_configured_secret_in_a_process_log_and_in_process(tmp_path, monkeypatch):
    monkeypatch.setattr(log_audit, "_secrets", set())
    monkeypatch.setattr(log_audit, "_log_files", set())
    monkeypatch.setattr(log_audit, "_in_process_leaks", [])
    log = tmp_path / "service.log"
    log.write_text("started\nPOST /events?token=s3cr%2Ft-value-123 200\nsame-but-short\n", encoding="utf-8")
    env = {"MY_SERVICE_TOKEN": "s3cr/t-value-123", "TOKEN_TTL_SECONDS": "86400", "PLAIN": "s3cr/t-value-999",
           "DATABASE_URL": "postgresql://u:db-password-1@h/db"}
    log_audit.watch(log, env)
    assert log_audit._secrets == {"s3cr/t-value-123", "db-password-1"}
    found = log_audit.leaks()
    assert len(found) == 1 and "service.log:2" in found[0] and "s3cr" not in found[0]

    log_audit.install_in_process()
    logging.getLogger("handoff.example").warning("connecting with db-password-1")
    found = log_audit.leaks()
    assert len(found) == 2 and "handoff.example" in found[0] and "db-password-1" not in found[0]


def test_redaction_after_masking_of_personal_data():
    # Masking writes "#" over digits in a path; the query string still goes.
    from handoff_bridge.privacy import install_log_masking

    install_log_masking()
    install_url_redaction()
    record = logging.getLogger("httpx").makeRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", ("POST", httpx.URL(
            "http://127.0.0.1:5005/conversations/1234567890abcdef/tracker/events?token=tok-0123456789")), None)
    assert "tok-0123456789" not in record.getMessage()
    assert "tracker/events?[query removed]" in record.getMessage()
