"""The content editors' loop through every layer, in Danish and Swedish.

A citizen asks the widget a question no answer covers and gets the honest
no-answer; the question reaches the editor's review inbox (the bridge's
outcome refresher); the editor signs in on the editor pages, starts a new
answer from the question's group, writes it, checks it and publishes it
through the publish gate (the knowledge engine, into the session's own
publication directory); the running assistant picks the publication up, and
a new chat asking the question in other words gets the new answer.

And what an editor and an agent may not do: an editor reaches no chat and
sees personal numbers only masked; an agent cannot publish.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from acceptance.conftest import AGENT_LOGIN, AGENT_PASSWORD, ANNA, EDITOR_LOGIN, EDITOR_PASSWORD, SVEA, spellings

ENGINE_WAIT = 240_000  # ms: the gate and the publish run the knowledge engine (seconds; more on a busy machine)
INBOX_WAIT = 60.0  # s: the outcome refresher runs every second; the page is reloaded until the question is there
PICKUP_WAIT = 90.0  # s: the assistant looks for a new publication every few seconds, then loads it

NO_ANSWER = {"da": "Det har jeg desværre ikke et svar på", "sv": "Det har jag tyvärr inget svar på"}

LOOP = {
    "da": {
        "question": "Hvordan får jeg et gravsted på kirkegården?",
        "reworded": "Hvordan køber jeg et gravsted?",
        "example": "gravsted kirkegaard pris",
        "title": "Gravsted på kirkegården",
        # Nothing but what holds everywhere: no prices, deadlines or numbers.
        "answer": "Et gravsted får du hos den kirkegård, hvor du ønsker gravstedet. Spørg kirkegårdens kontor om "
                  "regler og priser, eller læs om dødsfald og begravelse på https://www.borger.dk",
        "municipal": False,
        "source": "borger.dk (the answer states no facts of its own)",
    },
    "sv": {
        "question": "Hur ansöker jag om färdtjänst?",
        "reworded": "Hur får jag tillstånd för färdtjänst?",
        "example": "ansoka fardtjanst",
        "title": "Färdtjänst",
        "answer": "Färdtjänst söker du hos kommunen eller regionen där du bor, och villkoren skiljer sig mellan "
                  "kommunerna. På din kommuns webbplats står hur du ansöker.",
        "municipal": True,
        "source": "the municipality's own website (the answer states no facts of its own)",
    },
}

PAGE = {
    "da": {"show": "Vis", "start": "Start nyt svar", "drafted": "Et nyt svar er startet", "open_draft": "Åbn kladden i svar-redigeringen",
           "check": "Kontrollér", "check_ok": "Kontrollen fandt ingen fejl.", "publish": "Udgiv",
           "published": "Udgivet.", "gate": "Held-out-spørgsmål"},
    "sv": {"show": "Visa", "start": "Påbörja nytt svar", "drafted": "Ett nytt svar är påbörjat", "open_draft": "Öppna utkastet i svarsredigeringen",
           "check": "Kontrollera", "check_ok": "Kontrollen hittade inga fel.", "publish": "Publicera",
           "published": "Publicerat.", "gate": "Held-out-frågor"},
}

# The inbox's status line once a load has ended.
LOADED = {"da": re.compile(r"^\d+ spørgsmål i \d+ grupper"), "sv": re.compile(r"^\d+ frågor i \d+ grupper")}

# The category the editor files the new answer under.
CATEGORY = "contact_and_selfservice"


# ---------------------------------------------------------------- helpers


def sign_in(page, url: str, login: str, password: str, language: str) -> None:
    """The editor pages' own sign-in form, in the page's language."""
    page.goto(url)
    expect(page.locator("#login-form")).to_be_visible()
    if page.locator("#language").input_value() != language:
        with page.expect_navigation():  # the page reloads in the chosen language
            page.locator("#language").select_option(language)
        expect(page.locator("#login-form")).to_be_visible()
    page.locator("#login-name").fill(login)
    page.locator("#login-password").fill(password)
    page.locator("#login-password").press("Enter")
    expect(page.locator("#app-view")).to_be_visible()


def inbox_group(page, language: str, text: str, *, status: str = "open"):
    """The inbox group that holds a question with this text, reloading the inbox (the
    Show button) until the refresher has captured it."""
    line = page.locator("#status")
    expect(line).to_have_text(LOADED[language])  # the page's own first load has ended
    page.locator("#inbox-language").select_option(language)
    page.locator("#status-filter").select_option(status)
    groups = page.locator("li.inbox-group").filter(has_text=text)
    deadline = time.monotonic() + INBOX_WAIT
    while True:
        # One load at a time: the page shows "loading" until the groups are rendered.
        page.get_by_role("button", name=PAGE[language]["show"], exact=True).click()
        expect(line).to_have_text(LOADED[language])
        if groups.count():
            return groups.first
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} did not reach the review inbox within {INBOX_WAIT:.0f} s")


def knowledge_answer(stack, language: str, question: str) -> dict:
    """What the running assistant makes of a question (POST /model/parse)."""
    resp = httpx.post(f"{stack.rasa_url}/model/parse", params={"token": stack.rasa_token},
                      json={"text": question, "metadata": {"language": language}}, timeout=30)
    resp.raise_for_status()
    return resp.json()


def wait_until_answered_by(stack, language: str, question: str, answer_id: str) -> None:
    """The assistant answers from the new publication (it checks for one every few seconds)."""
    deadline = time.monotonic() + PICKUP_WAIT
    while True:
        parsed = knowledge_answer(stack, language, question)
        knowledge = parsed.get("knowledge") or {}
        if knowledge.get("answer_id") == answer_id and knowledge.get("decision") == "answer":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the assistant did not answer {question!r} with {answer_id} within "
                                 f"{PICKUP_WAIT:.0f} s: {parsed.get('intent')} {knowledge}")


# ---------------------------------------------------------------- the loop


@pytest.mark.parametrize("language", ["da", "sv"])
def test_an_unanswered_question_becomes_a_published_answer(stack, citizen, new_page, language):
    case, texts = LOOP[language], PAGE[language]

    # A citizen asks what no answer covers, and gets the honest no-answer.
    chat = citizen(language)
    chat.say(case["question"])
    expect(chat.log.locator(".ddh-msg--bot").last).to_contain_text(NO_ANSWER[language])
    assert chat.errors == []

    # The editor finds the question in the review inbox and starts a new answer from its group.
    page = new_page(language)
    sign_in(page, f"{stack.bridge_url}/editor/", EDITOR_LOGIN, EDITOR_PASSWORD, language)
    group = inbox_group(page, language, case["question"])
    group.locator("summary").click()
    group.locator("select[id^=category-]").select_option(CATEGORY)
    group.get_by_role("button", name=texts["start"], exact=True).click()
    expect(group.locator(".inbox-actions")).to_contain_text(texts["drafted"])
    page.get_by_role("link", name=texts["open_draft"]).click()

    # The answer editor opens the draft: the citizen's question is its first example question.
    expect(page.locator("#edit-view")).to_be_visible()
    examples = page.locator(f"#f-{language}-examples")
    expect(examples).to_have_value(case["question"])
    answer_id = page.locator("#edit-h").inner_text().strip()
    assert answer_id
    expect(page.locator("#f-category")).to_have_value(CATEGORY)
    page.locator(f"#f-{language}-title").fill(case["title"])
    page.locator(f"#f-{language}-answer").fill(case["answer"])
    examples.fill(case["question"] + "\n" + case["example"])
    if case["municipal"]:
        page.locator(f"#f-{language}-municipal").check()
    page.locator("#f-source").fill(case["source"])

    messages = page.locator("#messages")
    page.get_by_role("button", name=texts["check"], exact=True).click()
    expect(messages).to_contain_text(texts["check_ok"], timeout=ENGINE_WAIT)

    # Publishing runs the gate on the candidate and shows its result.
    page.get_by_role("button", name=texts["publish"], exact=True).click()
    expect(messages).to_contain_text(texts["published"], timeout=ENGINE_WAIT)
    expect(page.locator("#gate-body")).to_contain_text(texts["gate"])

    # The running assistant picks the publication up; a new chat asks in other words.
    wait_until_answered_by(stack, language, case["reworded"], answer_id)
    later = citizen(language)
    later.say(case["reworded"])
    expect(later.log.locator(".ddh-msg--bot").first).to_contain_text(case["answer"].split(".")[0])
    assert NO_ANSWER[language] not in later.bot_text()
    assert later.errors == []

    # The group is no longer open: it is marked as a new answer started.
    expect(page.locator("li.inbox-group").filter(has_text=case["question"])).to_have_count(0)


# ---------------------------------------------------------------- who may do what

PERSONAL = {
    "da": ("Hvordan lejer jeg en kolonihave? Mit CPR-nummer er " + ANNA, ANNA),
    "sv": ("Hur hyr jag en kolonilott? Mitt personnummer är " + SVEA, SVEA),
}


def editor_api(stack) -> httpx.Client:
    client = httpx.Client(base_url=stack.bridge_url, timeout=30)
    resp = client.post("/api/v1/editor/login", json={"login": EDITOR_LOGIN, "password": EDITOR_PASSWORD})
    assert resp.status_code == 200, resp.text
    client.headers["Authorization"] = f"Bearer {resp.json()['token']}"
    return client


@pytest.mark.parametrize("language", ["da", "sv"])
def test_an_editor_sees_personal_numbers_masked_and_no_chat(stack, citizen, new_page, language):
    question, number = PERSONAL[language]
    chat = citizen(language)
    chat.say(question)
    expect(chat.log.locator(".ddh-msg--bot").last).to_contain_text(NO_ANSWER[language])
    cid = chat.conversation_id

    # In the inbox page the question is there, with the number masked.
    page = new_page(language)
    sign_in(page, f"{stack.bridge_url}/editor/", EDITOR_LOGIN, EDITOR_PASSWORD, language)
    masked = question.replace(number, "#" * len(number.split("-")[0]) + "-####")
    group = inbox_group(page, language, masked, status="all")
    group.locator("summary").click()
    expect(group).to_contain_text(masked)
    html = page.content()
    for spelling in spellings(number):
        assert spelling not in html

    # Through the API too, and the editor reaches none of the chat's routes.
    editor = editor_api(stack)
    try:
        inbox = editor.get("/api/v1/editor/inbox", params={"status": "all", "language": language})
        assert inbox.status_code == 200, inbox.text
        for spelling in spellings(number):
            assert spelling not in inbox.text
        for path in (f"/api/v1/agent/conversations/{cid}/transcript", "/api/v1/agent/queues",
                     "/api/v1/agent/chats", "/api/v1/agent/callbacks"):
            assert editor.get(path).status_code in (401, 403), path
        assert editor.post("/api/v1/agent/queue/claim-next").status_code in (401, 403)
    finally:
        editor.close()

    # The chat console refuses the editor's account.
    console = new_page(language)
    console.goto(f"{stack.bridge_url}/console/")
    console.locator("#login-name").fill(EDITOR_LOGIN)
    console.locator("#login-password").fill(EDITOR_PASSWORD)
    console.locator("#login-password").press("Enter")
    expect(console.locator("#login-error")).to_be_visible()
    expect(console.locator("#app-view")).to_be_hidden()
    for spelling in spellings(number):
        assert spelling not in console.content()


def test_an_agent_cannot_publish_or_use_the_editor_pages(stack, new_page):
    agent = httpx.Client(base_url=stack.bridge_url, timeout=30)
    try:
        resp = agent.post("/api/v1/agent/login", json={"login": AGENT_LOGIN, "password": AGENT_PASSWORD})
        assert resp.status_code == 200, resp.text
        agent.headers["Authorization"] = f"Bearer {resp.json()['token']}"
        assert agent.post("/api/v1/editor/publish", json={"answer_ids": ["mitid_blocked"]}).status_code == 403
        assert agent.post("/api/v1/editor/gate", json={"answer_ids": ["mitid_blocked"]}).status_code == 403
        assert agent.get("/api/v1/editor/inbox").status_code == 403
        # The agent's password does not sign in on the editor API.
        refused = httpx.post(f"{stack.bridge_url}/api/v1/editor/login",
                             json={"login": AGENT_LOGIN, "password": AGENT_PASSWORD}, timeout=30)
        assert refused.status_code in (401, 403), refused.text
    finally:
        agent.close()

    page = new_page("da")
    page.goto(f"{stack.bridge_url}/editor/")
    page.locator("#login-name").fill(AGENT_LOGIN)
    page.locator("#login-password").fill(AGENT_PASSWORD)
    page.locator("#login-password").press("Enter")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()
