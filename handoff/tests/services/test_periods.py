"""Periods of whole local days (services/periods.py), shared by insight and the review inbox."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from handoff_bridge.errors import ApiError
from handoff_bridge.services import insight, review_inbox
from handoff_bridge.services.periods import LocalDays, parse_date

CPH = ZoneInfo("Europe/Copenhagen")


def test_bounds_default_to_days_ending_today_and_refuse_odd_periods():
    today = dt.date(2026, 3, 31)
    assert LocalDays.bounds(None, None, CPH, default_days=7, today=today) == (dt.date(2026, 3, 25), today)
    assert LocalDays.bounds(dt.date(2026, 3, 1), None, CPH, default_days=7, today=today) == (dt.date(2026, 3, 1), today)
    for first, last in ((dt.date(2026, 3, 2), dt.date(2026, 3, 1)), (dt.date(2025, 1, 1), dt.date(2026, 1, 2))):
        with pytest.raises(ApiError) as raised:
            LocalDays.bounds(first, last, CPH, default_days=7)
        assert raised.value.code == "invalid_period"
    with pytest.raises(ApiError) as raised:
        parse_date("from", "31-03-2026")
    assert raised.value.code == "invalid_date"


def test_a_period_across_summer_time_starts_and_ends_at_local_midnight():
    # Summer time began on 29 March 2026: that week has 167 hours.
    week = LocalDays(dt.date(2026, 3, 30), dt.date(2026, 4, 5), CPH)
    before = week.previous()
    assert (before.first, before.last) == (dt.date(2026, 3, 23), dt.date(2026, 3, 29))
    assert before.start == dt.datetime(2026, 3, 22, 23, 0, tzinfo=dt.timezone.utc)
    assert before.end == week.start == dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.timezone.utc)
    assert before.end - before.start == dt.timedelta(hours=167)


def test_insight_and_the_inbox_describe_the_same_days():
    today = dt.date(2026, 12, 4)
    report = insight.Query.from_args({"from": "2026-11-28", "topic": "mitid"}, today=today)
    inbox = review_inbox.period_of(dt.date(2026, 11, 28), None, None, today=today)
    assert inbox.describe() == {"from": "2026-11-28", "to": "2026-12-04", "days": 7, "timezone": "Europe/Copenhagen"}
    assert {k: report.describe()[k] for k in inbox.describe()} == inbox.describe()
    assert report.previous().topic == "mitid" and report.previous().last == dt.date(2026, 11, 27)
