"""axe-core (WCAG 2.1 A and AA rules) finds no serious or critical problem in
the widget, the agent console or the supervisor view, in the states people
see them in."""

from browser.conftest import run_axe, screenshot
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect


def assert_accessible(page, what):
    violations = run_axe(page)
    assert violations == [], f"{what}: {violations}"


def login(page, url, name):
    page.goto(url)
    assert_accessible(page, f"login form at {url}")
    screenshot(page, "login-" + url.rstrip("/").rsplit("/", 1)[-1])
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def test_widget_console_and_supervisor_view_pass_axe(live_bridge, new_context):
    run = live_bridge.loop.run
    run(make_agent(live_bridge.deps, "anna", languages=("da",)))
    run(make_agent(live_bridge.deps, "sara", role="supervisor", languages=()))

    citizen = new_context().new_page()
    citizen.goto(live_bridge.url + "/demo/da")
    assert_accessible(citizen, "demo page with the closed widget")
    citizen.get_by_role("button", name="Chat med os").click()
    widget = citizen.get_by_role("dialog", name="Chat med kommunen")
    widget.get_by_label("Skriv din besked").fill("Hvordan får jeg et pas?")
    widget.get_by_label("Skriv din besked").press("Enter")
    expect(widget.locator(".ddh-messages").get_by_text("Svar på: Hvordan får jeg et pas?")).to_be_visible()
    assert_accessible(citizen, "widget with bot answers")
    widget.get_by_role("button", name="Tal med en medarbejder").click()
    expect(widget.locator(".ddh-queue")).to_contain_text("Du er nummer 1 i køen")
    assert_accessible(citizen, "widget in the queue")

    agent = new_context().new_page()
    login(agent, live_bridge.url + "/console/", "anna")
    agent.get_by_label("Status").select_option("available")
    expect(agent.locator(".waiting-item")).to_have_count(1)
    assert_accessible(agent, "console with a waiting chat")
    agent.get_by_role("button", name="Tag næste").click()
    expect(agent.locator("#transcript")).to_contain_text("Hvordan får jeg et pas?")
    assert_accessible(agent, "console with a chat")
    expect(widget.locator(".ddh-queue")).to_have_text("Du skriver med Anna.")
    assert_accessible(citizen, "widget in an agent chat")

    agent.get_by_label("Andet").check()
    agent.get_by_role("button", name="Tag og luk").click()
    expect(widget.locator(".ddh-rating")).to_be_visible()
    assert_accessible(citizen, "widget asking for a rating")
    screenshot(citizen, "widget-rating-axe")

    supervisor = new_context().new_page()
    login(supervisor, live_bridge.url + "/supervisor/", "sara")
    expect(supervisor.locator("#period-7d").get_by_role("table", name="Samtaler pr. dag")).to_be_visible()
    expect(supervisor.locator("#live-queues tbody tr")).to_have_count(2)
    assert_accessible(supervisor, "supervisor view")
