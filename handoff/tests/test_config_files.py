import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handoff_bridge.config_files import (
    ConfigError,
    load_queues,
    load_tags,
    parse_queue,
    route,
)

CONFIG = Path(__file__).resolve().parent.parent / "config"
CPH = ZoneInfo("Europe/Copenhagen")


def test_example_queues_are_open_60_hours_with_holidays():
    queues = {q.name: q for q in load_queues(CONFIG / "queues.yml")}
    assert set(queues) == {"da-general", "sv-general"}
    for q in queues.values():
        assert q.weekly_hours() == 60
    assert dt.date(2026, 12, 24) in queues["da-general"].holidays
    assert dt.date(2027, 6, 25) in queues["sv-general"].holidays  # midsommarafton
    assert queues["sv-general"].timezone == "Europe/Stockholm"


def test_example_tags_load():
    codes = [t.code for t in load_tags(CONFIG / "tags.yml")]
    assert "borgerservice.pas" in codes and len(codes) == len(set(codes))


def test_opening_hours_holidays_and_next_open():
    q = parse_queue({"name": "q", "language": "da", "timezone": "Europe/Copenhagen",
                     "hours": {"mon": ["08:00-20:00"], "fri": ["08:00-12:00", "13:00-15:00"]},
                     "holidays": ["2026-12-28"]})
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=CPH)
    assert q.is_open(monday_noon)
    assert not q.is_open(dt.datetime(2026, 11, 23, 20, 0, tzinfo=CPH))
    assert not q.is_open(dt.datetime(2026, 11, 27, 12, 30, tzinfo=CPH))  # lunch gap
    assert q.next_open(dt.datetime(2026, 11, 27, 12, 30, tzinfo=CPH)) == dt.datetime(2026, 11, 27, 13, 0, tzinfo=CPH)
    # Monday 28 December is a holiday: next opening is Friday 1 January.
    assert q.next_open(dt.datetime(2026, 12, 26, 10, 0, tzinfo=CPH)) == dt.datetime(2027, 1, 1, 8, 0, tzinfo=CPH)
    # Daylight saving: 08:00 local is 07:00 UTC in winter, 06:00 UTC in summer.
    assert q.next_open(dt.datetime(2026, 6, 28, 10, 0, tzinfo=CPH)).hour == 6


def test_routing_prefers_first_matching_queue():
    qs = [parse_queue({"name": "aarhus", "language": "da", "municipalities": ["751"]}),
          parse_queue({"name": "da", "language": "da", "municipalities": ["*"]}),
          parse_queue({"name": "sv", "language": "sv"})]
    assert route(qs, "da", "751").name == "aarhus"
    assert route(qs, "da", "101").name == "da"
    assert route(qs, "sv", "0180").name == "sv"


@pytest.mark.parametrize("raw", [
    {"name": "x", "language": "en"},
    {"name": "x", "language": "da", "timezone": "Mars/Olympus"},
    {"name": "x", "language": "da", "hours": {"mon": ["8-20"]}},
    {"name": "x", "language": "da", "hours": {"mon": ["20:00-08:00"]}},
    {"name": "x", "language": "da", "hours": {"funday": ["08:00-09:00"]}},
    {"name": "x", "language": "da", "holidays": ["not a date"]},
])
def test_bad_queue_config_is_refused(raw):
    with pytest.raises(ConfigError):
        parse_queue(raw)
