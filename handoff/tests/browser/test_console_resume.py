"""The agent console after its websocket is cut: it reconnects with its cursor
and shows every message sent meanwhile, once and in order."""

import httpx
from browser.conftest import collect_console_errors, wait_until
from browser.test_flow import console_login
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect


def test_console_resumes_from_its_cursor_after_the_bridge_lost_its_fanout(live_bridge, new_context):
    deps = live_bridge.deps
    run = live_bridge.loop.run
    run(make_agent(deps, "anna", languages=("da",)))
    agent = new_context().new_page()
    errors = collect_console_errors(agent)
    console_login(agent, live_bridge.url + "/console/", "anna")
    agent.get_by_label("Status").select_option("available")
    expect(agent.locator("#queue-hint")).to_be_hidden()

    with httpx.Client(base_url=live_bridge.url, timeout=10) as http:
        created = http.post("/api/v1/citizen/conversations", json={"municipality": "101", "language": "da"}).json()
        cid, citizen = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
        http.post(f"/api/v1/citizen/conversations/{cid}/handoff", headers=citizen).raise_for_status()
        token = http.post("/api/v1/agent/login", json={"login": "anna", "password": DEFAULT_PASSWORD}).json()["token"]
        http.post("/api/v1/agent/queue/claim-next", headers={"Authorization": f"Bearer {token}"}).raise_for_status()

        # The claimed chat opens by itself (chat_assigned); a message arrives live.
        transcript = agent.locator("#transcript")
        http.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=citizen,
                  json={"text": "Før afbrydelsen", "client_msg_id": "c0"}).raise_for_status()
        expect(transcript).to_contain_text("Før afbrydelsen")

        # The bridge loses its fan-out: the socket closes with 4408 and the banner shows.
        async def lose_fanout():
            return deps.bus.hub.interrupt_all()

        assert run(lose_fanout()) >= 1
        expect(agent.locator("#conn")).to_be_visible()
        for i in range(3):  # while the console is disconnected
            http.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=citizen,
                      json={"text": f"Mens forbindelsen var væk {i}", "client_msg_id": f"c{i + 1}"}).raise_for_status()
        expect(agent.locator("#conn")).to_be_hidden()
        for i in range(3):
            expect(transcript).to_contain_text(f"Mens forbindelsen var væk {i}")
        http.post(f"/api/v1/citizen/conversations/{cid}/messages", headers=citizen,
                  json={"text": "Efter genforbindelsen", "client_msg_id": "c4"}).raise_for_status()
        expect(transcript).to_contain_text("Efter genforbindelsen")
        last_seq = http.get(f"/api/v1/citizen/conversations/{cid}", headers=citizen).json()["last_seq"]

    # Each message once, in order; the cursor is at the chat's last message.
    seqs = agent.eval_on_selector_all("#transcript li", "els => els.map(e => +e.dataset.seq)")
    assert seqs == list(range(1, last_seq + 1))
    wait_until(agent, f"window.ddhConsole.cursors[{cid!r}] === {last_seq}")
    not_logged_in = "status of 401 (Unauthorized)"
    assert [e for e in errors if not_logged_in not in e and "4408" not in e] == []
