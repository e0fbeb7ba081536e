"""The bridge channel names, on each message, the response it came from."""

from rasa_sdk.executor import CollectingDispatcher

from actions.content import utter
from rasa_addons.channels.bridge import BridgeOutputChannel
from tests.actions.trackers import make_tracker


async def test_collector_names_domain_responses_and_content_keys():
    collector = BridgeOutputChannel()
    buttons = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nej", "payload": "/deny"}]
    await collector.send_response("c1", {"text": "Hjalp svaret dig?", "buttons": list(buttons),
                                         "utter_action": "utter_ask_helpful"})
    await collector.send_response("c1", {"text": "Skriv dit CPR-nummer.", "content_key": "ask_national_id"})
    await collector.send_response("c1", {"text": "Uden navn."})
    assert [m.get("response") for m in collector.messages] == ["utter_ask_helpful", "ask_national_id", None]
    assert collector.messages[0]["buttons"] == buttons and collector.messages[0]["text"] == "Hjalp svaret dig?"


def test_utter_sends_its_content_key():
    dispatcher = CollectingDispatcher()
    utter(dispatcher, make_tracker(), "ask_national_id")
    assert dispatcher.messages[0]["content_key"] == "ask_national_id"
