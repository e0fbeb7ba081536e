"""The citizen widget in a real browser: bot answers, reload, reconnect, keyboard only."""

from browser.conftest import collect_console_errors, screenshot


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
