"""Privacy in the browser: the citizen deletes the conversation from the widget; hostile
text from citizens, the bot's escalation summary and agents renders as text in the
agent console too (never as HTML, nothing runs)."""

import re

from browser.conftest import collect_console_errors, screenshot
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect
from sqlalchemy import func, select

from handoff_bridge.db.models import Conversation, Message

HOSTILE = '<img src=x onerror="window.__owned=1"><script>window.__owned=2</script><b>fed</b>'


def open_widget(page, url, name="Chat med os", title="Chat med kommunen"):
    page.goto(url)
    page.get_by_role("button", name=name).click()
    return page.get_by_role("dialog", name=title)


def count_rows(live_bridge, model, *where):
    async def go():
        async with live_bridge.deps.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where))
    return live_bridge.loop.run(go())


def test_citizen_deletes_the_conversation_after_confirming(live_bridge, new_context, rasa_server):
    page = new_context().new_page()
    errors = collect_console_errors(page)
    panel = open_widget(page, live_bridge.url + "/demo/da")
    # No conversation yet: nothing to delete.
    expect(panel.get_by_role("button", name="Slet samtalen")).to_be_hidden()
    panel.get_by_label("Skriv din besked").fill("Jeg har brug for hjælp til min husleje")
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: Jeg har brug for hjælp til min husleje")).to_be_visible()
    cid = page.evaluate("JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)[0])).cid")
    assert count_rows(live_bridge, Message, Message.conversation_id == cid) >= 2

    # Declining the confirmation keeps everything.
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    panel.get_by_role("button", name="Slet samtalen").click()
    assert dialogs and "slette samtalen" in dialogs[0]
    assert count_rows(live_bridge, Conversation, Conversation.id == cid) == 1
    screenshot(page, "widget-delete")

    # Confirming deletes it on the server and the widget starts fresh.
    page.once("dialog", lambda d: d.accept())
    panel.get_by_role("button", name="Slet samtalen").click()
    expect(panel.locator(".ddh-messages li")).to_have_count(0)
    expect(panel.get_by_text("Hej! Skriv dit spørgsmål")).to_be_visible()
    expect(panel.get_by_role("button", name="Slet samtalen")).to_be_hidden()
    assert count_rows(live_bridge, Conversation, Conversation.id == cid) == 0
    assert count_rows(live_bridge, Message, Message.conversation_id == cid) == 0
    assert page.evaluate("Object.keys(sessionStorage).map(k => sessionStorage.getItem(k)).join('')").find(cid) == -1
    # A new message starts a new conversation.
    panel.get_by_label("Skriv din besked").fill("Ny samtale")
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: Ny samtale")).to_be_visible()
    new_cid = page.evaluate("JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)[0])).cid")
    assert new_cid != cid
    # Rasa's tracker is deleted in the background, not before the citizen's answer.
    for _ in range(50):
        if cid in rasa_server.deleted:
            break
        page.wait_for_timeout(100)
    assert cid in rasa_server.deleted
    assert errors == []


def test_citizen_deletes_in_swedish(live_bridge, new_context):
    page = new_context(locale="sv-SE").new_page()
    panel = open_widget(page, live_bridge.url + "/demo/sv", name="Chatta med oss", title="Chatta med kommunen")
    panel.get_by_label("Skriv ditt meddelande").fill("Hej")
    panel.get_by_label("Skriv ditt meddelande").press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: Hej")).to_be_visible()
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    panel.get_by_role("button", name="Radera samtalet").click()
    expect(panel.locator(".ddh-messages li")).to_have_count(0)
    assert "radera samtalet" in messages[0]


def test_hostile_text_renders_as_text_in_the_console(live_bridge, rasa_server, new_context):
    deps = live_bridge.deps
    live_bridge.loop.run(make_agent(deps, "anna", languages=("da",)))
    citizen = new_context().new_page()
    panel = open_widget(citizen, live_bridge.url + "/demo/da")
    panel.get_by_label("Skriv din besked").fill(HOSTILE)
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: " + HOSTILE)).to_be_visible()
    # The bot asks for a person with a hostile summary in its handoff signal.
    rasa_server.handoff_overrides = {"summary": "Resumé " + HOSTILE}
    panel.get_by_label("Skriv din besked").fill("human, please")
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Du er nu i kø til en medarbejder")).to_be_visible()

    agent = new_context().new_page()
    errors = collect_console_errors(agent)
    agent.goto(live_bridge.url + "/console/")
    agent.get_by_label("Brugernavn").fill("anna")
    agent.get_by_label("Adgangskode").fill(DEFAULT_PASSWORD)
    agent.get_by_role("button", name="Log ind").click()
    agent.get_by_label("Status").select_option("available")
    item = agent.locator(".waiting-item")
    expect(item).to_contain_text("Resumé " + HOSTILE)
    item.get_by_role("button", name=re.compile("^Tag")).click()
    transcript = agent.locator("#transcript")
    expect(transcript).to_contain_text(HOSTILE, timeout=15_000)
    # The agent's own reply with markup is shown as text on both sides.
    reply = "Svar <i>kursiv</i> " + HOSTILE
    agent.get_by_label("Svar til borgeren").fill(reply)
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(transcript).to_contain_text(reply)
    expect(panel.locator(".ddh-msg--agent")).to_contain_text(reply)
    for page in (agent, citizen):
        assert page.evaluate("window.__owned") is None
    assert agent.evaluate("document.querySelectorAll('#transcript img, #transcript script, #transcript b, "
                          "#transcript i, #chat-summary b').length") == 0
    assert citizen.evaluate("document.querySelector('[data-ddh-widget]').shadowRoot"
                            ".querySelectorAll('.ddh-bubble i, .ddh-bubble b, .ddh-bubble img').length") == 0
    screenshot(agent, "console-hostile-text")
    assert [e for e in errors if "Content Security Policy" in e] == []
