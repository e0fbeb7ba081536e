"""What a citizen and an agent do with the product, in Danish and Swedish,
through the real browser, bridge, assistant, action server and sandbox."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from acceptance.conftest import AGENT_LOGIN, AGENT_PASSWORD, ANNA, SVEA, Citizen

TIMEOUT = 30_000

# ---------------------------------------------------------------- helpers


def sign_in_demo(citizen: Citizen, national_id: str) -> None:
    """The demo page's demo sign-in (a stand-in for MitID / BankID), with the chat minimised
    (its panel covers that part of the page)."""
    page = citizen.page
    citizen.minimise()
    section = page.locator("#demo-login")
    expect(section).to_be_visible()
    page.locator("#demo-person").select_option(national_id)
    page.locator("#demo-login-button").click()
    expect(page.locator("#demo-logout-button")).to_be_visible()
    expect(page.locator("#demo-login-status")).to_contain_text(re.compile(r"\(demo"))
    assert page.evaluate("document.querySelector('[data-ddh-widget]').ddh.loggedIn")
    citizen.open()


def identity_field(citizen: Citizen, language: str):
    return citizen.widget.get_by_label("CPR-nummer" if language == "da" else "Personnummer", exact=True)


def agent_api(stack) -> httpx.Client:
    """The agent, through the agent API, available for chats."""
    client = httpx.Client(base_url=stack.bridge_url, timeout=30)
    resp = client.post("/api/v1/agent/login", json={"login": AGENT_LOGIN, "password": AGENT_PASSWORD})
    assert resp.status_code == 200, resp.text
    client.headers["Authorization"] = f"Bearer {resp.json()['token']}"
    assert client.put("/api/v1/agent/me/status", json={"status": "available"}).status_code == 200
    return client


def bridge_escalations(stack, conversation_id: str) -> list:
    import sqlite3

    with sqlite3.connect(f"file:{stack.bridge_db}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT reason, status FROM escalations WHERE conversation_id = ?",
                          (conversation_id,)).fetchall()


# ---------------------------------------------------------------- FAQ

FAQ = {
    # MitID Support's number, from the catalogue (mitid_blocked).
    "da": ("Min MitID er spærret, hvad gør jeg?", "33 98 00 10"),
    # No Swedish answer carries a phone number in the catalogue; the official link must arrive intact.
    "sv": ("Hur ansöker jag om bostadsbidrag?", "https://www.forsakringskassan.se"),
}


@pytest.mark.parametrize("language", ["da", "sv"])
def test_faq_answer_reaches_the_citizen_and_the_agent_intact(stack, citizen, language):
    question, published = FAQ[language]
    chat = citizen(language)
    chat.say(question)
    expect(chat.log).to_contain_text(published)
    assert "##" not in chat.bot_text()

    # The agent's transcript shows the assistant's answer as it was published.
    cid = chat.conversation_id
    chat.widget.get_by_role("button", name="Tal med en medarbejder" if language == "da" else "Prata med en person").click()
    expect(chat.widget.locator(".ddh-queue")).to_be_visible()
    agent = agent_api(stack)
    try:
        claimed = agent.post("/api/v1/agent/queue/claim-next")
        assert claimed.status_code == 200 and claimed.json()["conversation_id"] == cid, claimed.text
        transcript = agent.get(f"/api/v1/agent/conversations/{cid}/transcript")
        assert transcript.status_code == 200, transcript.text
        bot_texts = " ".join(m["text"] or "" for m in transcript.json()["messages"] if m["sender"] == "bot")
        closed = agent.post(f"/api/v1/agent/conversations/{cid}/close", json={"tags": ["digital.mitid"]})
        assert closed.status_code == 200, closed.text
    finally:
        agent.close()
    assert published in bot_texts
    assert chat.errors == []


# ---------------------------------------------------------------- payout by SMS

PAYOUT = {
    "da": {"question": "Hvornår får jeg mine penge?", "number": ANNA, "sent": "[CPR-nummer sendt]",
           "recipient": "+4509990001", "sms": "12.345,50 kr. den 30. november 2026"},
    "sv": {"question": "När får jag mina pengar?", "number": SVEA, "sent": "[Personnummer skickat]",
           "recipient": "+46701740605", "sms": "9 234,50 kr den 25 november 2026"},
}


def _normalised(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("language", ["da", "sv"])
def test_payout_by_sms_with_the_number_in_its_own_field(stack, citizen, language):
    case = PAYOUT[language]
    chat = citizen(language)
    chat.say(case["question"])
    field = identity_field(chat, language)
    expect(field).to_be_visible()
    expect(field).to_be_focused()
    assert field.get_attribute("type") == "password"
    before = chat.bot_count()
    field.fill(case["number"])
    field.press("Enter")
    expect(chat.log.get_by_text(case["sent"], exact=True)).to_be_visible()
    chat.wait_for_bot(before)
    expect(field).to_be_hidden()

    [sms] = stack.sandbox.wait_for_outbox(1, timeout=20)
    assert sms["recipient"] == case["recipient"]
    assert case["sms"] in _normalised(sms["text"])
    for spelling in (case["number"], case["number"].replace("-", "")):
        assert spelling not in chat.log.inner_text()
    stack.assert_nowhere(case["number"])
    assert chat.errors == []


@pytest.mark.parametrize("language", ["da", "sv"])
def test_payout_by_sms_with_the_number_typed_into_the_chat(stack, citizen, language):
    case = PAYOUT[language]
    chat = citizen(language)
    chat.say(case["question"])
    expect(identity_field(chat, language)).to_be_visible()
    typed = f"mit CPR-nummer er {case['number']}" if language == "da" else f"mitt personnummer är {case['number']}"
    chat.say(typed)
    [sms] = stack.sandbox.wait_for_outbox(1, timeout=20)
    assert sms["recipient"] == case["recipient"]
    assert case["sms"] in _normalised(sms["text"])
    # Shown to the citizen masked, as it is stored.
    assert case["number"] not in chat.log.inner_text()
    stack.assert_nowhere(case["number"])


# ---------------------------------------------------------------- logged in

@pytest.mark.parametrize(
    "language, national_id, question, expected",
    [
        ("da", "1503851112", "Hvornår får jeg mine penge?",
         "Din næste udbetaling af kontanthjælp er på 12.345,50 kr. den 30. november 2026."),
        ("sv", "198503155684", "När kommer mina pengar?",
         "Din nästa utbetalning av ekonomiskt bistånd är 9 234,50 kr den 25 november 2026."),
    ],
)
def test_a_logged_in_citizen_sees_their_own_payout_in_the_chat(stack, citizen, language, national_id, question, expected):
    chat = citizen(language)
    sign_in_demo(chat, national_id)
    chat.say(question)
    expect(chat.log.locator(".ddh-msg--bot").last).to_contain_text(re.compile(r"\d"))
    assert expected in _normalised(chat.bot_text())
    expect(identity_field(chat, language)).to_be_hidden()
    assert stack.sandbox.outbox() == []


# Every case kind of the sandbox, each shown to its (demo) logged-in owner.
CASES = [
    ("da", "1503851112", "Hvad er status på min sag?",
     ["Byggesag (BYG-10042): under behandling.", "Ansøgning om fritidstilbud (FRI-10043): afgjort den 13. november 2026."]),
    ("da", "1205045551", "Hvor langt er I med min sag?",
     ["Ansøgning om institutionsplads (INS-10044): afventer dokumentation fra dig."]),
    ("da", "0304763332", "Hvor langt er I med min sag?", ["Ansøgning om socialt botilbud (BOT-10045): modtaget."]),
    ("da", "1109544441", "Hvad er status på min sag?",
     ["Ansøgning om plejebolig (PLB-10046): under behandling.", "Byggesag (BYG-10047): afsluttet."]),
    ("sv", "198503155684", "Hur går det med mitt ärende?",
     ["Ansökan om ekonomiskt bistånd (EB-20031): under handläggning.", "Ansökan om förskoleplats (FSK-20032): mottaget."]),
    ("sv", "199001012393", "Hur går det med mitt ärende?", ["Bygglov (BL-20033): väntar på komplettering från dig."]),
]


@pytest.mark.parametrize("language, national_id, question, expected", CASES,
                         ids=["byggesag+fritidstilbud", "institutionsplads", "socialt_botilbud",
                              "plejebolig+byggesag", "ekonomiskt_bistand+forskoleplats", "bygglov"])
def test_case_status_of_every_case_kind(stack, citizen, language, national_id, question, expected):
    chat = citizen(language)
    sign_in_demo(chat, national_id)
    chat.say(question)
    for line in expected:
        expect(chat.log).to_contain_text(line)


# ---------------------------------------------------------------- a municipal system down

@pytest.mark.parametrize("language", ["da", "sv"])
def test_a_municipal_system_down_gets_an_apology_and_the_offer_of_a_person(stack, citizen, language):
    stack.sandbox.set_mode("payout-system", mode="down")
    case = PAYOUT[language]
    chat = citizen(language)
    chat.say(case["question"])
    field = identity_field(chat, language)
    expect(field).to_be_visible()
    before = chat.bot_count()
    field.fill(case["number"])
    field.press("Enter")
    chat.wait_for_bot(before)
    apology = "Beklager, udbetalingssystemet svarer ikke lige nu" if language == "da" else "utbetalningssystemet"
    expect(chat.log.locator(".ddh-msg--bot").last).to_contain_text(apology)
    offer = chat.log.locator(".ddh-msg--bot").last.locator(".ddh-quick-button").first
    expect(offer).to_contain_text("medarbejder" if language == "da" else "person")
    assert stack.sandbox.outbox() == []
    assert bridge_escalations(stack, chat.conversation_id) == []


# ---------------------------------------------------------------- misunderstood

MISUNDERSTOOD = {
    "da": ["Hvordan bliver vejret i morgen?", "Hvem vinder fodboldkampen i aften?"],
    "sv": ["Vad blir det för väder i morgon?", "Vem vinner fotbollsmatchen i kväll?"],
}


@pytest.mark.parametrize("language", ["da", "sv"])
def test_repeated_misunderstanding_offers_a_person_without_queueing(stack, citizen, language):
    chat = citizen(language)
    for text in MISUNDERSTOOD[language]:
        chat.say(text)
    offer = chat.log.locator(".ddh-quick-button", has_text=re.compile("medarbejder|person"))
    expect(offer.last).to_be_visible()
    assert chat.page.evaluate("document.querySelector('[data-ddh-widget]').ddh.mode") == "bot"
    expect(chat.widget.locator(".ddh-queue")).to_be_hidden()
    assert bridge_escalations(stack, chat.conversation_id) == []


# ---------------------------------------------------------------- a person

ESCALATION = {
    "da": {"ask": "Jeg vil gerne tale med en medarbejder", "queued": "Du er nummer 1 i køen",
           "rating": "Hvor tilfreds er du med hjælpen", "rate": "Send vurdering", "thanks": "Tak for din vurdering."},
    "sv": {"ask": "Jag vill prata med en person", "queued": "Du är nummer 1 i kön",
           "rating": "Hur nöjd är du med hjälpen", "rate": "Skicka betyg", "thanks": "Tack för ditt betyg."},
}


@pytest.mark.parametrize("language", ["da", "sv"])
def test_escalation_to_an_agent_who_claims_replies_and_closes_then_the_citizen_rates(stack, citizen, new_page, language):
    texts = ESCALATION[language]
    agent = new_page("da")
    agent.goto(stack.bridge_url + "/console/")
    agent.get_by_label("Brugernavn").fill(AGENT_LOGIN)
    agent.get_by_label("Adgangskode").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name="Log ind").click()
    agent.get_by_label("Status").select_option("available")

    chat = citizen(language)
    chat.say(texts["ask"], answered_by_bot=False)
    expect(chat.widget.locator(".ddh-queue")).to_contain_text(texts["queued"])

    item = agent.locator(".waiting-item").filter(has_text=re.compile("."))
    expect(item.first).to_be_visible()
    item.first.get_by_role("button", name=re.compile("^Tag")).click()
    transcript = agent.locator("#transcript")
    expect(transcript).to_contain_text(texts["ask"])

    agent.get_by_label("Svar til borgeren").fill("Hej, jeg hjælper dig gerne.")
    agent.get_by_role("button", name="Send", exact=True).click()
    expect(chat.widget.locator(".ddh-msg--agent")).to_contain_text("Hej, jeg hjælper dig gerne.")
    box = chat.widget.get_by_label(chat.texts["input"])
    box.fill("Tak, det var det.")
    box.press("Enter")
    expect(transcript).to_contain_text("Tak, det var det.")

    agent.get_by_label("Pas og kørekort").check()
    agent.get_by_role("button", name="Tag og luk").click()
    expect(agent.locator("#chat-state")).to_have_text("Chatten er lukket.")
    rating = chat.widget.get_by_role("group", name=re.compile(texts["rating"]))
    expect(rating).to_be_visible()
    rating.get_by_text("8", exact=True).click()
    chat.widget.get_by_role("button", name=texts["rate"]).click()
    expect(chat.widget.locator(".ddh-done")).to_have_text(texts["thanks"])
