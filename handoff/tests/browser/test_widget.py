"""The citizen widget in a real browser: bot answers, reload, reconnect, keyboard only."""

from browser.conftest import collect_console_errors, screenshot, wait_until
from playwright.sync_api import expect


def open_widget(page, url):
    page.goto(url)
    page.get_by_role("button", name="Chat med os").click()
    return page.get_by_role("dialog", name="Chat med kommunen")


def test_bot_answers_with_quick_replies_and_links(live_bridge, new_context):
    page = new_context().new_page()
    errors = collect_console_errors(page)
    panel = open_widget(page, live_bridge.url + "/demo/da")
    panel.get_by_label("Skriv din besked").fill("Hvordan får jeg et pas?")
    panel.get_by_label("Skriv din besked").press("Enter")
    panel.locator(".ddh-messages").get_by_text("Svar på: Hvordan får jeg et pas?").wait_for()
    screenshot(page, "widget-bot")
    assert panel.get_by_role("button", name="Pas").is_visible()
    assert errors == []


def shown_seqs(page):
    return page.eval_on_selector_all(".ddh-msg[data-seq]", "els => els.map(e => +e.dataset.seq)")


def widget_state(page, prop):
    return page.evaluate(f"document.querySelector('[data-ddh-widget]').ddh.{prop}")


def test_reload_and_reconnect_lose_nothing_and_show_nothing_twice(live_bridge, new_context):
    import httpx

    context = new_context(reduced_motion="reduce")
    page = context.new_page()
    errors = collect_console_errors(page)
    panel = open_widget(page, live_bridge.url + "/demo/da")
    box = panel.get_by_label("Skriv din besked")
    box.fill("første spørgsmål")
    box.press("Enter")
    messages = panel.locator(".ddh-messages")
    expect(messages.get_by_text("Svar på: første spørgsmål")).to_be_visible()
    wait_until(page, "document.querySelector('[data-ddh-widget]').ddh.lastSeq >= 4")
    before = shown_seqs(page)
    assert before == [1, 2, 3, 4]

    # A reload keeps the conversation, the open panel and every message, once.
    page.reload()
    panel = page.get_by_role("dialog", name="Chat med kommunen")
    expect(panel).to_be_visible()
    wait_until(page, "document.querySelector('[data-ddh-widget]').ddh.connected")
    assert shown_seqs(page) == before
    cid = widget_state(page, "conversationId")
    token = page.evaluate("Object.entries(sessionStorage).find(([k]) => k.startsWith('ddh-chat:'))[1]")
    token = __import__("json").loads(token)["token"]

    # The connection drops; while it is down the conversation goes on elsewhere
    # (the citizen's second tab writes over HTTP, the bot answers) and the citizen writes too.
    context.set_offline(True)
    page.evaluate("document.querySelector('[data-ddh-widget]').ddh.dropConnection()")
    expect(panel.locator(".ddh-conn")).to_have_text("Forbindelsen er afbrudt. Forbinder igen …")
    # The spinner does not spin for people who asked for reduced motion.
    assert panel.locator(".ddh-spinner").evaluate("e => getComputedStyle(e).animationName") == "none"
    screenshot(page, "widget-reconnecting")
    resp = httpx.post(f"{live_bridge.url}/api/v1/citizen/conversations/{cid}/messages",
                      headers={"Authorization": f"Bearer {token}"}, json={"text": "fra en anden fane"})
    assert resp.status_code == 201
    panel.get_by_label("Skriv din besked").fill("skrevet uden forbindelse")
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.locator(".ddh-msg--pending")).to_contain_text("Sendes …")

    # Back online: the missed messages arrive once, the waiting one is sent once.
    context.set_offline(False)
    expect(panel.locator(".ddh-conn")).to_be_hidden(timeout=15_000)
    expect(messages.get_by_text("Svar på: skrevet uden forbindelse")).to_be_visible()
    expect(messages.get_by_text("Svar på: fra en anden fane")).to_be_visible()
    wait_until(page, "document.querySelector('[data-ddh-widget]').ddh.lastSeq >= 12")
    seqs = shown_seqs(page)
    assert seqs == list(range(1, 13))
    assert messages.get_by_text("skrevet uden forbindelse", exact=True).count() == 1
    stored = httpx.get(f"{live_bridge.url}/api/v1/citizen/conversations/{cid}/messages",
                       headers={"Authorization": f"Bearer {token}"}).json()["messages"]
    assert [m["seq"] for m in stored] == seqs
    assert sum(m["text"] == "skrevet uden forbindelse" for m in stored) == 1

    # And once more after a reload.
    page.reload()
    wait_until(page, "document.querySelector('[data-ddh-widget]').ddh.connected")
    assert shown_seqs(page) == seqs
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def focused(page) -> str:
    """The accessible text of the focused element, looking into the widget's shadow root."""
    return page.evaluate("""() => {
        let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        const copy = el.cloneNode(true);
        copy.querySelectorAll('[aria-hidden], [hidden], .ddh-visually-hidden').forEach(n => n.remove());
        return (el.getAttribute('aria-label') || copy.textContent || el.id || el.tagName).trim();
    }""")


def focus_ring(page) -> str:
    return page.evaluate("""() => {
        let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        const s = getComputedStyle(el);
        return s.outlineStyle + ' ' + s.outlineWidth;
    }""")


def tab_to(page, text, key="Tab", limit=30):
    for _ in range(limit):
        page.keyboard.press(key)
        if focused(page).startswith(text):
            return
    raise AssertionError(f"could not reach {text!r} with {key}; focus is on {focused(page)!r}")


def test_widget_works_with_the_keyboard_alone(live_bridge, new_context):
    page = new_context().new_page()
    page.goto(live_bridge.url + "/demo/da")
    tab_to(page, "Chat med os")
    assert focus_ring(page).startswith("solid")
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Chat med kommunen")
    expect(panel).to_be_visible()
    assert focused(page) == "" or page.evaluate(
        "document.querySelector('[data-ddh-widget]').shadowRoot.activeElement.id") == "ddh-input"
    page.keyboard.type("Hvad koster et pas?")
    page.keyboard.press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: Hvad koster et pas?")).to_be_visible()
    # New messages are read out through the live region.
    live = panel.locator("[aria-live=polite]")
    expect(live).to_contain_text("Digital assistent: Svar på: Hvad koster et pas?")
    # Back from the text box to the bot's quick reply, and choose it.
    tab_to(page, "Pas", key="Shift+Tab")
    assert focus_ring(page).startswith("solid")
    screenshot(page, "widget-keyboard-focus")
    page.keyboard.press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: /ask_passport")).to_be_visible()
    # The person button is in reach from the text box.
    tab_to(page, "Tal med en medarbejder", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(panel.locator(".ddh-queue")).to_contain_text("Du er nummer 1 i køen")
    # Escape closes the panel and gives the focus back to the launcher.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert focused(page).startswith("Chat med os")


def test_widget_in_swedish_on_a_phone(live_bridge, new_context):
    context = new_context(locale="sv-SE", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_bridge.url + "/demo/sv")
    page.get_by_role("button", name="Chatta med oss").tap()
    panel = page.get_by_role("dialog", name="Chatta med kommunen")
    box = panel.bounding_box()
    assert box["width"] >= 370 and box["height"] >= 700  # full screen on a phone
    expect(panel.get_by_text("Skriv inte ditt personnummer eller andra personuppgifter i meddelandena. Om assistenten ber "
                             "om ditt personnummer får du ett särskilt fält för det.")).to_be_visible()
    panel.get_by_label("Skriv ditt meddelande").fill("Hur söker jag bygglov?")
    panel.get_by_role("button", name="Skicka").tap()
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: Hur söker jag bygglov?")).to_be_visible()
    screenshot(page, "widget-phone-sv")


def test_a_danish_answer_in_a_swedish_chat_is_danish_throughout(live_bridge, new_context):
    page = new_context(locale="sv-SE").new_page()
    page.goto(live_bridge.url + "/demo/sv")
    page.get_by_role("button", name="Chatta med oss").click()
    panel = page.get_by_role("dialog", name="Chatta med kommunen")
    panel.get_by_label("Skriv ditt meddelande").fill("på dansk, tak")
    panel.get_by_label("Skriv ditt meddelande").press("Enter")
    answer = panel.locator(".ddh-msg--bot", has_text="Læs mere på")
    expect(answer).to_have_attribute("lang", "da")
    expect(answer.get_by_role("link")).to_contain_text("(åbner i et nyt vindue)")
    assert "öppnas" not in answer.inner_text()


def test_when_the_assistant_fails_the_offered_person_is_one_click_away(live_bridge, new_context):
    page = new_context().new_page()
    errors = collect_console_errors(page)
    panel = open_widget(page, live_bridge.url + "/demo/da")
    panel.get_by_label("Skriv din besked").fill("boom")
    panel.get_by_label("Skriv din besked").press("Enter")
    messages = panel.locator(".ddh-messages")
    expect(messages.get_by_text("Den digitale assistent kan desværre ikke svare lige nu.")).to_be_visible()
    # Offered, not queued: no queue banner until the citizen chooses.
    expect(panel.locator(".ddh-queue")).not_to_contain_text("køen")
    messages.get_by_role("button", name="Tal med en medarbejder").click()
    expect(panel.locator(".ddh-queue")).to_contain_text("Du er nummer 1 i køen")
    expect(messages.get_by_text("Du er nu i kø til en medarbejder")).to_have_count(1)
    assert errors == []


def test_message_text_is_never_rendered_as_html(live_bridge, new_context):
    page = new_context().new_page()
    panel = open_widget(page, live_bridge.url + "/demo/da")
    hostile = '<img src=x onerror="window.__owned=1"><b>fed</b>'
    panel.get_by_label("Skriv din besked").fill(hostile)
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: " + hostile)).to_be_visible()
    assert page.evaluate("window.__owned") is None
    assert page.evaluate("document.querySelector('[data-ddh-widget]').shadowRoot.querySelectorAll('.ddh-bubble b, .ddh-bubble img').length") == 0


def test_widget_carries_on_over_http_when_websockets_are_blocked(live_bridge, new_context):
    page = new_context().new_page()
    # Every websocket is answered and closed at once, as by a proxy that does not let them through.
    page.route_web_socket("**/ws", lambda ws: ws.close())
    panel = open_widget(page, live_bridge.url + "/demo/da")
    panel.get_by_label("Skriv din besked").fill("hej uden websocket")
    panel.get_by_label("Skriv din besked").press("Enter")
    messages = panel.locator(".ddh-messages")
    expect(messages.get_by_text("Svar på: hej uden websocket")).to_be_visible(timeout=15_000)
    assert widget_state(page, "transport") == "poll"
    expect(panel.locator(".ddh-conn")).to_be_hidden()
    panel.get_by_label("Skriv din besked").fill("og igen")
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(messages.get_by_text("Svar på: og igen")).to_be_visible()
    panel.get_by_role("button", name="Tal med en medarbejder").click()
    expect(panel.locator(".ddh-queue")).to_contain_text("Du er nummer 1 i køen")
    seqs = shown_seqs(page)
    assert seqs == list(range(1, len(seqs) + 1))
    assert messages.get_by_text("og igen", exact=True).count() == 1
