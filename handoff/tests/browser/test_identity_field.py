"""The widget's field for the CPR number / personnummer, the message limit and
empty messages, in Chromium against a live bridge (with the scripted fake Rasa)."""

from playwright.sync_api import expect

from browser.conftest import collect_console_errors, run_axe, screenshot


def open_widget(page, url):
    page.goto(url)
    page.get_by_role("button", name="Chat med os").click()
    return page.get_by_role("dialog", name="Chat med kommunen")


def test_the_number_goes_in_its_own_masked_field_and_the_chat_shows_a_neutral_line(live_bridge, new_context, rasa_server):
    page = new_context().new_page()
    errors = collect_console_errors(page)
    panel = open_widget(page, live_bridge.url + "/demo/da")
    panel.get_by_label("Skriv din besked").fill("payout hvornår kommer mine penge?")
    panel.get_by_label("Skriv din besked").press("Enter")

    field = panel.get_by_label("CPR-nummer", exact=True)
    expect(field).to_be_visible()
    expect(field).to_be_focused()
    assert field.get_attribute("type") == "password"
    expect(panel.get_by_text("Skriv det sådan: DDMMÅÅ-XXXX")).to_be_visible()
    expect(panel.get_by_text("Vi sender svaret som SMS.")).to_be_visible()
    assert errors == []
    assert run_axe(page) == []  # axe itself applies inline styles, which the CSP reports
    errors.clear()

    # A wrong shape is explained in the field, nothing is sent.
    field.fill("1503")
    field.press("Enter")
    expect(panel.get_by_text("Et CPR-nummer har 10 cifre: DDMMÅÅ-XXXX.")).to_be_visible()
    assert field.get_attribute("aria-invalid") == "true"

    field.fill("150385-1112")
    panel.get_by_role("button", name="Vis nummeret").click()
    assert field.get_attribute("type") == "text"
    panel.get_by_role("button", name="Vis nummeret").click()
    assert field.get_attribute("type") == "password"
    screenshot(page, "identity-field-da")
    panel.get_by_role("button", name="Send nummeret").click()

    log = panel.locator(".ddh-messages")
    expect(log.get_by_text("[CPR-nummer sendt]")).to_be_visible()
    expect(log.get_by_text("Tak. Du får en SMS.")).to_be_visible()
    expect(field).to_be_hidden()
    assert "150385" not in log.inner_text()
    assert rasa_server.requests[-1]["message"] == "150385-1112"
    assert rasa_server.requests[-1]["metadata"]["identity_input"] == "cpr"
    # Nothing of the number in the tab's storage.
    assert "150385" not in page.evaluate("JSON.stringify(window.sessionStorage)")
    assert [e for e in errors if "inline style" not in e] == []


def test_cancel_answers_the_question_with_the_assistants_cancel_word(live_bridge, new_context, rasa_server):
    page = new_context().new_page()
    panel = open_widget(page, live_bridge.url + "/demo/da")
    panel.get_by_label("Skriv din besked").fill("payout hvornår kommer mine penge?")
    panel.get_by_label("Skriv din besked").press("Enter")
    expect(panel.get_by_label("CPR-nummer", exact=True)).to_be_visible()
    panel.get_by_role("button", name="Annuller").click()
    expect(panel.get_by_label("CPR-nummer", exact=True)).to_be_hidden()
    expect(panel.locator(".ddh-messages").get_by_text("Annuller", exact=True)).to_be_visible()
    expect(panel.get_by_label("Skriv din besked")).to_be_focused()


def test_a_message_over_the_limit_is_refused_whole_and_an_empty_one_gets_feedback(live_bridge, new_context, rasa_server):
    page = new_context().new_page()
    panel = open_widget(page, live_bridge.url + "/demo/da")
    box = panel.get_by_label("Skriv din besked")
    box.press("Enter")
    expect(panel.get_by_text("Skriv en besked, før du sender.")).to_be_visible()

    long_text = "ord " * 1250  # 5000 characters
    box.fill(long_text)
    expect(panel.get_by_text("4999 af 2000 tegn")).to_be_visible()
    box.press("Enter")
    expect(panel.get_by_text("Beskeden er for lang: 4999 tegn. Du kan højst skrive 2000 tegn.", exact=False)).to_be_visible()
    assert box.input_value() == long_text  # nothing cut, nothing lost
    assert rasa_server.requests == [] or all(len(r["message"]) <= 2000 for r in rasa_server.requests)

    box.fill("kort besked")
    expect(panel.get_by_text("4999 af 2000 tegn")).to_be_hidden()
    box.press("Enter")
    expect(panel.locator(".ddh-messages").get_by_text("Svar på: kort besked")).to_be_visible()


def test_the_demo_sign_in_stays_hidden_without_a_demo_key(live_bridge, new_context):
    page = new_context().new_page()
    errors = collect_console_errors(page)
    page.goto(live_bridge.url + "/demo/da")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#demo-login")).to_be_hidden()
    assert errors == []
