"""The answer editor in Chromium: an editor signs in, writes a new answer with
a live preview, checks it, publishes it through the gate, sees a change that
breaks right answers blocked until accepted, and the page passes axe-core in
each of these states."""

import shutil

import pytest
from browser.conftest import collect_console_errors, run_axe, screenshot
from helpers import DEFAULT_PASSWORD, make_agent
from playwright.sync_api import expect

from handoff_bridge.services import answers as answers_svc
from handoff_bridge.services import jobs
from handoff_bridge.services import knowledge_files as kf
from handoff_bridge.settings import REPO_DIR

ENGINE_WAIT = 180_000  # ms: the gate and publish run the knowledge engine (seconds; more on a busy machine)


def real_errors(errors, expected_status=("401",)):
    """Console errors but the sign-in check before login (401), the statuses a test
    expects, and the inline styles axe-core's own checks apply (the pages' CSP
    refuses them, as it should)."""
    return [e for e in errors if not any(f"status of {s}" in e for s in expected_status)
            and "Applying inline style" not in e]


def assert_accessible(page, what):
    violations = run_axe(page)
    assert violations == [], f"{what}: {violations}"


@pytest.fixture
def editor_bridge(live_bridge):
    """The live bridge with the shipped content imported and a copy of the checkout's publication."""
    index = live_bridge.deps.settings.knowledge_index_path
    shutil.rmtree(index, ignore_errors=True)
    live = REPO_DIR / "var" / "knowledge"
    current = (live / "CURRENT").read_text().strip()
    shutil.copytree(live / "versions" / current, index / "versions" / current)
    (index / "CURRENT").write_text(current + "\n")
    if (live / "gate-vectors.npz").exists():
        shutil.copy(live / "gate-vectors.npz", index / "gate-vectors.npz")

    async def setup():
        async with live_bridge.deps.sessionmaker() as session:
            async with session.begin():
                await answers_svc.import_content(session, kf.read_directory(REPO_DIR / "knowledge"))
        await make_agent(live_bridge.deps, "edda", role="editor")

    live_bridge.loop.run(setup())
    return live_bridge


def sign_in(page, url):
    page.goto(url)
    assert_accessible(page, "editor login")
    page.get_by_label("Brugernavn").fill("edda")
    page.get_by_label("Adgangskode").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def test_an_editor_writes_previews_and_publishes_an_answer(editor_bridge, new_context):
    page = new_context().new_page()
    errors = collect_console_errors(page)
    sign_in(page, editor_bridge.url + "/editor/answers.html")
    nav = page.get_by_role("navigation", name="Sider")
    expect(nav.get_by_role("link", name="Indbakke")).to_have_attribute("href", "/editor/")
    expect(nav.get_by_role("link", name="Svar")).to_have_attribute("aria-current", "page")
    expect(page.locator("#list-count")).to_have_text("137 svar")
    page.get_by_label("Søg i svar").fill("bruger-id")
    expect(page.locator(".answer-button")).to_have_count(1)
    assert_accessible(page, "answer list")

    # A new answer, from the keyboard: id, category, then its texts.
    page.get_by_role("button", name="Nyt svar").click()
    page.get_by_label("Id (små bogstaver").fill("library_card")
    page.locator("#new-category").select_option("contact_and_selfservice")
    page.get_by_role("button", name="Opret").click()
    expect(page.locator("#edit-h")).to_have_text("library_card")
    page.locator("#f-source").fill("kk.dk")
    page.locator("#f-da-title").fill("Lånerkort til biblioteket")
    page.locator("#f-da-answer").fill("Du får et lånerkort på biblioteket. Læs mere på https://bibliotek.kk.dk")
    page.locator("#f-da-examples").fill("hvordan får jeg et lånerkort\nlånerkort bibliotek")
    page.locator("#f-da-related").fill("health_card, request_human")
    # The preview renders it as the widget does: the link is a link, related answers are buttons.
    preview = page.locator("#preview")
    expect(preview.get_by_role("link", name="https://bibliotek.kk.dk")).to_be_visible()
    expect(preview.get_by_role("button", name="Sundhedskort")).to_be_visible()
    expect(preview.get_by_role("button", name="Tal med en medarbejder")).to_be_visible()
    expect(preview.get_by_text("Hjalp svaret dig?")).to_be_visible()
    page.locator("#preview-municipality").select_option("101")
    assert_accessible(page, "editor with a new answer and its preview")
    screenshot(page, "editor-new-answer")

    # The engine's checks, shown beside the field.
    page.locator("#f-da-answer").fill("Kom forbi biblioteket.")
    page.get_by_role("button", name="Kontrollér").click()
    expect(page.locator("#messages")).to_contain_text("Kontrollen fandt 1 fejl", timeout=ENGINE_WAIT)
    expect(page.locator("#f-da-answer")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "editor showing a validation problem")
    page.locator("#messages").get_by_role("link").first.click()
    expect(page.locator("#f-da-answer")).to_be_focused()
    page.locator("#f-da-answer").fill("Du får et lånerkort på biblioteket. Læs mere på https://bibliotek.kk.dk")
    page.get_by_role("button", name="Gem kladde").click()
    expect(page.locator("#messages")).to_contain_text("Kladden er gemt")

    page.get_by_role("button", name="Udgiv", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Udgivet.", timeout=ENGINE_WAIT)
    expect(page.locator("#edit-status")).to_have_text("Udgivet")
    expect(page.locator("#gate-body")).to_contain_text("Held-out-spørgsmål")
    expect(page.locator("#history")).to_contain_text("Version 1 – udgivet")
    assert_accessible(page, "editor after publishing")
    current = (editor_bridge.deps.settings.knowledge_index_path / "CURRENT").read_text().strip()
    assert current.endswith(current[-10:]) and current > "2026"
    assert real_errors(errors) == [], errors


def test_the_gate_blocks_a_breaking_change_until_accepted(editor_bridge, new_context, monkeypatch):
    # Every check and publish here outlasts its request (202): the page follows the job
    # to its end, and a blocked gate still shows its regressions.
    monkeypatch.setattr(jobs, "WAIT_SECONDS", 0.0)
    page = new_context().new_page()
    errors = collect_console_errors(page)
    sign_in(page, editor_bridge.url + "/editor/answers.html?answer=mitid_forgot_user_id")
    expect(page.locator("#edit-h")).to_have_text("mitid_forgot_user_id")
    page.locator("#f-da-title").fill("Hundeskat")
    page.locator("#f-da-answer").fill("Hundeskat betaler du til kommunen. Læs mere på https://www.kk.dk")
    page.locator("#f-da-examples").fill("hvad koster hundeskat\nskal jeg betale for min hund")
    page.get_by_role("button", name="Udgiv", exact=True).click()
    gate = page.locator("#gate")
    expect(gate.get_by_role("table")).to_be_visible(timeout=ENGINE_WAIT)
    expect(page.locator("#messages")).to_contain_text("ville blive besvaret forkert")
    assert gate.locator("input[data-key]").count() >= 1
    assert_accessible(page, "the gate's regressions")
    screenshot(page, "editor-gate-blocked")
    gate.get_by_role("button", name="Udgiv med de valgte accepteret").click()
    expect(gate.get_by_role("alert")).to_have_text("Acceptér alle viste spørgsmål, eller ret svaret.")
    gate.get_by_role("button", name="Vælg alle").click()
    gate.get_by_role("button", name="Udgiv med de valgte accepteret").click()
    expect(page.locator("#messages")).to_contain_text("Udgivet.", timeout=ENGINE_WAIT)
    expect(page.locator("#history")).to_contain_text("Version 2 – udgivet")
    assert real_errors(errors, ("401", "409")) == [], errors  # 409: the gate blocked the first publish
