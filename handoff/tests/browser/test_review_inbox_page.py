"""The editors' review inbox in Chromium: groups with counts and trend, the
questions by keyboard, attach / new answer / dismiss, axe, Swedish, and no
access for an agent."""

import re

import inbox_fixture as fx
from browser.conftest import collect_console_errors, run_axe, screenshot
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect

from handoff_bridge.services import answers as answers_svc
from handoff_bridge.services import knowledge_files as kf
from handoff_bridge.services import outcomes as outcome_svc
from handoff_bridge.services import review_inbox as inbox_svc
from handoff_bridge.settings import REPO_DIR


def login(page, url, name):
    page.goto(url)
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(DEFAULT_PASSWORD)
    page.get_by_label("Adgangskode").press("Enter")


async def prepare(deps):
    await fx.load(deps)
    await outcome_svc.refresh(deps, full=True)
    await inbox_svc.embed_pending(deps)
    async with deps.sessionmaker() as session:
        async with session.begin():
            await answers_svc.import_content(session, kf.read_directory(REPO_DIR / "knowledge"))


def group(page, label):
    return page.locator("li.inbox-group").filter(has=page.get_by_role("heading", name=label, exact=True))


def test_review_inbox_page(live_bridge, new_context):
    run = live_bridge.loop.run
    run(prepare(live_bridge.deps), timeout=120)
    run(make_agent(live_bridge.deps, "edith", role="editor", languages=("da", "sv")))
    run(make_agent(live_bridge.deps, "bo", languages=("da",)))

    page = new_context().new_page()
    errors = collect_console_errors(page)
    login(page, live_bridge.url + "/editor/", "edith")
    expect(page.get_by_role("status")).to_contain_text("6 spørgsmål i 5 grupper")
    nav = page.get_by_role("navigation", name="Sider")
    expect(nav.get_by_role("link", name="Indbakke")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Svar")).to_have_attribute("href", "/editor/answers.html")
    bins = page.locator("li.inbox-group").first
    expect(bins.get_by_role("heading")).to_have_text(re.compile("skraldespand", re.I))
    expect(bins).to_contain_text("2 spørgsmål")
    expect(bins).to_contain_text("nyt: ingen lignende i forrige periode")
    expect(bins).to_contain_text("101 (1), 751 (1)")
    expect(bins).to_contain_text("intet svar passede (2)")

    # Keyboard: open the first group's questions.
    bins.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(bins.get_by_role("listitem").filter(has_text="hvornår bliver skraldespanden tømt")).to_be_visible()
    screenshot(page, "review-inbox")
    assert run_axe(page) == []

    # Dismiss it with a reason, by keyboard.
    bins.get_by_label("Årsag").select_option("out_of_scope")
    bins.get_by_label("Note (valgfri, højst 500 tegn)").fill("Affald står på kommunens side")
    bins.get_by_role("button", name="Afvis").focus()
    page.keyboard.press("Enter")
    expect(bins).to_contain_text("2 spørgsmål er afvist.")

    # Attach the passport question to the passport answer.
    passport = group(page, "Hvordan fornyer jeg mit pas?")
    passport.locator("summary").click()
    answer = passport.get_by_label("Svar", exact=True)
    expect(answer.locator("option[value=passport]")).to_have_count(1)
    answer.select_option("passport")
    passport.get_by_role("button", name="Tilknyt").click()
    expect(passport).to_contain_text("1 spørgsmål er tilknyttet svaret passport.")

    # Start a new answer from "xyz blah": the page links to the draft in the answers editor.
    other = group(page, "xyz blah")
    other.locator("summary").click()
    other.get_by_role("button", name="Start nyt svar").click()
    link = other.get_by_role("link", name="Åbn kladden i svar-redigeringen")
    expect(link).to_have_attribute("href", re.compile(r"^/editor/answers\.html#draft=xyz_blah"))
    assert run_axe(page) == []

    # What is left open, after reloading the page.
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("2 spørgsmål i 2 grupper")
    page.get_by_label("Status").select_option("dismissed")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("2 spørgsmål i 1 grupper")
    expect(page).to_have_url(re.compile(r"status=dismissed"))
    not_logged_in = "status of 401 (Unauthorized)"
    assert [e for e in errors if not_logged_in not in e] == []

    # Swedish.
    page.get_by_label("Sprog").first.select_option("sv")
    expect(page.get_by_role("heading", name="Frågor som assistenten inte svarade bra på")).to_be_visible()
    assert run_axe(page) == []

    # An agent cannot sign in here, and the inbox API refuses the agent's session.
    agent = new_context().new_page()
    login(agent, live_bridge.url + "/editor/", "bo")
    expect(agent.locator("#login-error")).to_be_visible()
    expect(agent.locator("#app-view")).to_be_hidden()
    login(agent, live_bridge.url + "/console/", "bo")
    status = agent.evaluate("fetch('/api/v1/editor/inbox', {headers: {'X-Handoff-CSRF': '1'}}).then(r => r.status)")
    assert status == 401  # the agent's cookie is not sent to the editor API, and it would not be taken there
