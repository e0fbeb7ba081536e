"""The supervisor's insight page in Chromium: the hand-counted week, filters by
keyboard, charts under the pages' CSP, CSV download, axe, and no access for agents."""

import csv
import io
import re

import insight_fixture as fx
from browser.conftest import collect_console_errors, run_axe, screenshot, wait_until
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect


def login(page, url, name):
    page.goto(url)
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(DEFAULT_PASSWORD)
    page.get_by_label("Adgangskode").press("Enter")


def test_insight_page_shows_the_hand_counted_week(live_bridge, new_context):
    run = live_bridge.loop.run
    run(fx.load(live_bridge.deps))
    run(make_agent(live_bridge.deps, "sara", role="supervisor", languages=()))
    run(make_agent(live_bridge.deps, "bo", languages=("da",)))

    page = new_context(accept_downloads=True).new_page()
    errors = collect_console_errors(page)
    login(page, live_bridge.url + "/supervisor/insight.html?from=2026-03-02&to=2026-03-08", "sara")
    headline = page.locator("#sec-headline")
    expect(headline).to_contain_text("Samtaler11")
    expect(headline).to_contain_text("Afklaret af assistenten alene27,3 %")
    expect(headline).to_contain_text("3 af 11")
    expect(headline.locator("#resolved-definition li")).to_have_count(6)
    expect(headline).to_contain_text("“Hjalp svaret?” – nej1")
    expect(headline).to_contain_text("Tilfredshed (1–9), gns.5,5")
    outcomes = page.get_by_role("table", name="Udfald: afklaret, eller hvorfor ikke")
    expect(outcomes.get_by_role("row", name="Eskaleret til en medarbejder")).to_contain_text("3")
    expect(outcomes.get_by_role("row", name="Identitetskontrol mislykkedes")).to_contain_text("1")
    expect(page.get_by_role("table", name="Hyppigste ubesvarede spørgsmål (maskeret tekst)")
           .get_by_role("row", name="xyz blah")).to_contain_text("2")
    expect(page.get_by_role("table", name="Tags ved lukning")).to_contain_text("MitID")
    expect(page.get_by_role("table", name="Eskaleringer efter årsag")).to_contain_text("Assistenten forstod ikke")
    # Monday 10:00 (c01); the test queues are open around the clock, so no cell is marked closed.
    hours = page.get_by_role("table", name="Samtaler efter tidspunkt og åbningstid")
    expect(hours.locator("tbody tr").nth(10).locator("td").first).to_have_text("1")
    expect(hours.locator(".closed-mark")).to_have_count(0)
    # The charts are drawn (Chart.js served by the bridge itself, allowed by the CSP).
    wait_until(page, "document.querySelectorAll('.chart canvas').length >= 6")
    assert page.evaluate("typeof window.Chart") == "function"
    screenshot(page, "insight-week")
    page.locator("#sec-outcomes").scroll_into_view_if_needed()
    screenshot(page, "insight-outcomes")
    page.locator("#sec-hours").scroll_into_view_if_needed()
    screenshot(page, "insight-hours")
    assert run_axe(page) == []

    # Keyboard only: choose a municipality and show.
    page.get_by_label("Kommune").focus()
    page.keyboard.press("ArrowDown")  # the first municipality after "Alle": 101
    page.keyboard.press("ArrowDown")  # 751
    page.get_by_role("button", name="Vis", exact=True).focus()
    page.keyboard.press("Enter")
    expect(headline).to_contain_text("Samtaler3")
    expect(page).to_have_url(re.compile(r"municipality=751"))

    # CSV of the topic table, with the same filters.
    with page.expect_download() as info:
        page.locator("#sec-topics").get_by_role("link", name="Hent CSV: Emner").click()
    download = info.value
    assert download.suggested_filename == "insight-topics-2026-03-02-2026-03-08.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert {r["topic"]: r["conversations"] for r in rows} == {"bankid_get": "1", "moving": "1", "payout_inquiry": "1"}

    # A period longer than a year is refused in the page.
    page.get_by_label("Fra").fill("2024-01-01")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#filter-error")).to_have_text(
        "Vælg en periode på højst et år, hvor fra-datoen ikke ligger efter til-datoen.")
    not_logged_in = "status of 401 (Unauthorized)"
    assert [e for e in errors if not_logged_in not in e] == []

    # Swedish.
    page.get_by_label("Sprog").select_option("sv")
    expect(page.locator("#sec-headline")).to_contain_text("Lösta av assistenten ensam")

    # An agent sees no figures: the page says so and the API answers 403.
    agent = new_context().new_page()
    login(agent, live_bridge.url + "/supervisor/insight.html", "bo")
    expect(agent.get_by_role("alert")).to_have_text("Denne side er kun for supervisorer.")
    expect(agent.locator("#report")).to_be_hidden()
    status = agent.evaluate("fetch('/api/v1/agent/insight', {headers: {'X-Handoff-CSRF': '1'}}).then(r => r.status)")
    assert status == 403
