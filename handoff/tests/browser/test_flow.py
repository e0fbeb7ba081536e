"""A whole chat in two browsers: a citizen in the widget and an agent in the
console, then the supervisor view; and the callback path outside opening hours."""

import re
from types import SimpleNamespace

from browser.conftest import collect_console_errors, screenshot, wait_until
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect

from handoff_bridge.api.models import NewCannedBody, validate
from handoff_bridge.services import canned as canned_svc


def console_login(page, url, login):
    page.goto(url)
    page.get_by_label("Brugernavn").fill(login)
    page.get_by_label("Adgangskode").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def test_citizen_and_agent_chat_end_to_end(live_bridge, new_context):
    deps = live_bridge.deps
    run = live_bridge.loop.run
    anna = run(make_agent(deps, "anna", languages=("da",)))
    run(make_agent(deps, "sara", role="supervisor", languages=()))
    run(canned_svc.create_canned(deps, SimpleNamespace(id=anna["id"]), validate(NewCannedBody, {
        "language": "da", "title": "Hilsen", "body": "Hej, hvad kan jeg hjælpe med?"})))

    # The agent logs in and becomes available.
    agent = new_context().new_page()
    agent_errors = collect_console_errors(agent)
    console_login(agent, live_bridge.url + "/console/", "anna")
    expect(agent.get_by_text("Anna", exact=True)).to_be_visible()
    agent.get_by_label("Status").select_option("available")
    expect(agent.locator("#queue-hint")).to_be_hidden()
    screenshot(agent, "console-empty")

    # The citizen talks to the bot, then asks for a person.
    citizen = new_context().new_page()
    citizen_errors = collect_console_errors(citizen)
    citizen.goto(live_bridge.url + "/demo/da")
    citizen.get_by_role("button", name="Chat med os").click()
    widget = citizen.get_by_role("dialog", name="Chat med kommunen")
    expect(widget.get_by_text("Skriv ikke dit CPR-nummer")).to_be_visible()
    widget.get_by_label("Skriv din besked").fill("Hvordan får jeg et pas?")
    widget.get_by_role("button", name="Send").click()
    expect(widget.locator(".ddh-messages").get_by_text("Svar på: Hvordan får jeg et pas?")).to_be_visible()
    widget.get_by_role("button", name="Tal med en medarbejder").click()
    expect(widget.locator(".ddh-queue")).to_have_text(
        re.compile(r"Du er nummer 1 i køen\. Forventet ventetid: ca\. \d+ min\."))
    screenshot(citizen, "widget-queued")

    # The agent is told (chime and tab title) and sees the waiting chat with its details.
    expect(agent.locator(".waiting-item")).to_have_count(1)
    item = agent.locator(".waiting-item")
    expect(item).to_contain_text("Borgeren bad om en medarbejder")
    expect(item).to_contain_text("Kommune 999")
    expect(item).to_contain_text(re.compile(r"Ventet \d+ s"))
    wait_until(agent, "window.ddhConsole.chimes >= 1")
    assert "Ny chat" in agent.title()
    screenshot(agent, "console-queue")
    item.get_by_role("button", name=re.compile("^Tag")).click()

    # Transcript with the bot's turns, topic and confidence.
    transcript = agent.locator("#transcript")
    expect(transcript).to_contain_text("Hvordan får jeg et pas?")
    expect(transcript).to_contain_text("ask_passport · sikkerhed 93 %")
    expect(widget.locator(".ddh-queue")).to_have_text("Du skriver med Anna.")
    expect(widget.locator(".ddh-messages")).to_contain_text("Anna fra kontaktcentret er nu med i samtalen.")

    # Typing indicator, canned response, reply.
    agent.get_by_label("Svar til borgeren").press_sequentially("Et øjeblik")
    expect(widget.locator(".ddh-typing")).to_have_text("••• Anna skriver …")
    agent.get_by_label("Svar til borgeren").fill("")
    agent.get_by_label("Standardsvar").select_option(label="Hilsen")
    agent.get_by_role("button", name="Indsæt").click()
    expect(agent.get_by_label("Svar til borgeren")).to_have_value("Hej, hvad kan jeg hjælpe med?")
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(widget.locator(".ddh-msg--agent")).to_contain_text("Hej, hvad kan jeg hjælpe med?")

    # The citizen answers; the agent sees it live (and the citizen typing first).
    box = widget.get_by_label("Skriv din besked")
    box.press_sequentially("Jeg har mistet mit pas")
    expect(agent.get_by_text("Borgeren skriver …")).to_be_visible()
    box.press("Enter")
    expect(transcript).to_contain_text("Jeg har mistet mit pas")
    screenshot(agent, "console-chat")
    screenshot(citizen, "widget-agent-chat")

    # Close with a tag; the citizen rates the chat 1-9.
    agent.get_by_role("button", name="Tag og luk").click()
    expect(agent.get_by_text("Vælg mindst ét tag.")).to_be_visible()
    agent.get_by_label("Pas og kørekort").check()
    agent.get_by_role("button", name="Tag og luk").click()
    expect(agent.locator("#chat-state")).to_have_text("Chatten er lukket.")
    rating = widget.get_by_role("group", name=re.compile("Hvor tilfreds er du med hjælpen"))
    expect(rating).to_be_visible()
    screenshot(citizen, "widget-rating")
    rating.get_by_text("8", exact=True).click()
    widget.get_by_role("button", name="Send vurdering").click()
    expect(widget.locator(".ddh-done")).to_have_text("Tak for din vurdering.")
    expect(widget.get_by_role("button", name="Start en ny samtale")).to_be_visible()

    # Each message shown exactly once on both sides.
    seqs = citizen.eval_on_selector_all(".ddh-msg[data-seq]", "els => els.map(e => +e.dataset.seq)")
    assert seqs == sorted(set(seqs))
    agent_seqs = agent.eval_on_selector_all("#transcript li", "els => els.map(e => +e.dataset.seq)")
    assert agent_seqs == list(range(1, len(agent_seqs) + 1))

    # The supervisor view shows the day's figures.
    sup = new_context().new_page()
    sup_errors = collect_console_errors(sup)
    console_login(sup, live_bridge.url + "/supervisor/", "sara")
    today = sup.locator("#period-today")
    expect(today.locator(".card").first).to_contain_text("Samtaler1")
    expect(today).to_contain_text("Straksafklaret af assistenten0 %")
    expect(today).to_contain_text("Gns. vurdering (1–9)8")
    expect(today.get_by_role("table", name="Tags ved lukning")).to_contain_text("Pas og kørekort")
    expect(sup.locator("#live-cards")).to_contain_text("Medarbejdere online1")
    expect(sup.locator("#period-7d").get_by_role("table", name="Samtaler pr. dag").locator("tbody tr")).to_have_count(7)
    screenshot(sup, "supervisor")
    # The only failed request on the agent pages is the session check before logging in.
    not_logged_in = "status of 401 (Unauthorized)"
    assert [e for e in agent_errors + sup_errors if not_logged_in not in e] == []
    assert citizen_errors == []


def test_callback_outside_opening_hours_reaches_the_console(live_bridge, new_context):
    # In these tests the Swedish queue is closed today.
    live_bridge.loop.run(make_agent(live_bridge.deps, "anna", languages=("da", "sv")))
    citizen = new_context(locale="sv-SE").new_page()
    citizen.goto(live_bridge.url + "/demo/sv")
    citizen.get_by_role("button", name="Chatta med oss").click()
    widget = citizen.get_by_role("dialog", name="Chatta med kommunen")
    expect(widget.get_by_text("Skriv inte ditt personnummer")).to_be_visible()
    widget.get_by_role("button", name="Prata med en person").click()
    messages = widget.locator(".ddh-messages")
    expect(messages).to_contain_text("Kontaktcentret har stängt nu")
    messages.get_by_role("button", name="Beställ uppringning").click()
    form = widget.get_by_role("form", name="Beställ uppringning")
    expect(form.get_by_label("Ditt telefonnummer")).to_be_focused()
    form.get_by_role("button", name="Beställ uppringning").click()
    expect(form.get_by_text("Skriv ett giltigt telefonnummer")).to_be_visible()
    form.get_by_label("Ditt telefonnummer").fill("070-123 45 67")
    form.get_by_label("Vad gäller det?").fill("Bostadsbidrag")
    screenshot(citizen, "widget-callback-form-sv")
    form.get_by_role("button", name="Beställ uppringning").click()
    expect(messages).to_contain_text("Vi har tagit emot din förfrågan")
    expect(form).to_be_hidden()

    agent = new_context().new_page()
    console_login(agent, live_bridge.url + "/console/", "anna")
    callbacks = agent.locator("#callbacks")
    # The number is shown in full only once the agent takes the callback.
    expect(callbacks).to_contain_text("•••• 4567")
    expect(callbacks).not_to_contain_text("0701234567")
    expect(callbacks).to_contain_text("Bostadsbidrag")
    callbacks.get_by_role("button", name=re.compile("Tag opkald")).click()
    expect(callbacks).to_contain_text("0701234567")
    callbacks.get_by_label("Resultat").fill("Ringet op, svar givet")
    screenshot(agent, "console-callbacks")
    callbacks.get_by_role("button", name="Afslut opkald").click()
    expect(callbacks).to_contain_text("Ingen opkald.")

    # The supervisor view is for supervisors only (the statistics API says no to agents too).
    agent.goto(live_bridge.url + "/supervisor/")
    expect(agent.get_by_role("alert")).to_have_text("Denne side er kun for supervisorer.")
    expect(agent.locator("#live-cards")).to_be_hidden()


def test_agent_transfers_then_hands_the_chat_back_to_the_bot(live_bridge, new_context, rasa_server):
    live_bridge.loop.run(make_agent(live_bridge.deps, "anna", languages=("da",)))
    agent = new_context().new_page()
    console_login(agent, live_bridge.url + "/console/", "anna")
    agent.get_by_label("Status").select_option("available")
    expect(agent.locator("#queue-hint")).to_be_hidden()

    citizen = new_context().new_page()
    citizen.goto(live_bridge.url + "/demo/da")
    citizen.get_by_role("button", name="Chat med os").click()
    widget = citizen.get_by_role("dialog", name="Chat med kommunen")
    widget.get_by_role("button", name="Tal med en medarbejder").click()
    expect(widget.locator(".ddh-queue")).to_contain_text("Du er nummer 1 i køen")
    agent.get_by_role("button", name="Tag næste").click()
    expect(widget.locator(".ddh-queue")).to_have_text("Du skriver med Anna.")
    # Transfer to the queue: the citizen waits again and keeps the place in the queue.
    agent.get_by_label("Overdrag til").select_option(label="Kø: da-general")
    agent.get_by_role("button", name="Overdrag", exact=True).click()
    expect(agent.locator("#chat-state")).to_have_text("Chatten er overdraget.")
    expect(widget.locator(".ddh-messages")).to_contain_text("Du bliver stillet videre til en anden medarbejder.")
    expect(widget.locator(".ddh-queue")).to_contain_text("Du er nummer 1 i køen")
    expect(agent.locator(".waiting-item")).to_have_count(1)
    agent.get_by_role("button", name="Tag næste").click()
    expect(widget.locator(".ddh-queue")).to_have_text("Du skriver med Anna.")
    expect(agent.get_by_role("button", name="Giv tilbage til assistenten")).to_be_visible()
    agent.get_by_role("button", name="Giv tilbage til assistenten").click()
    expect(agent.locator("#chat-state")).to_have_text("Chatten er givet tilbage til assistenten.")
    expect(widget.locator(".ddh-messages")).to_contain_text("Du skriver nu med den digitale assistent igen.")
    # The bot answers again.
    widget.get_by_label("Skriv din besked").fill("pas igen")
    widget.get_by_label("Skriv din besked").press("Enter")
    expect(widget.locator(".ddh-messages").get_by_text("Svar på: pas igen")).to_be_visible()
    expect(widget.get_by_role("button", name="Tal med en medarbejder")).to_be_enabled()
