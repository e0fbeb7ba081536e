"""Periods of whole local days in one time zone, with their bounds in UTC.

The insight reports and the review inbox both ask for `from`..`to` (local
dates, at most MAX_DAYS) in `tz` and compare them with the period of the
same length just before. The bounds are computed from the local dates, so a
period across a change to or from summer time still starts at local midnight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Invalid

DEFAULT_TIMEZONE = "Europe/Copenhagen"
MAX_DAYS = 366


def parse_timezone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("invalid_timezone", "tz must be an IANA time zone such as Europe/Copenhagen") from exc


def parse_date(name: str, raw: str | None) -> dt.date | None:
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid("invalid_date", f"{name} must be a date (YYYY-MM-DD)") from exc


@dataclass(frozen=True)
class LocalDays:
    """The local dates first..last (both included) in `tz`."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    @staticmethod
    def bounds(first: dt.date | None, last: dt.date | None, tz: ZoneInfo, *, default_days: int,
               today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        """The checked first and last date: `last` defaults to today, `first` to
        `default_days` days ending at `last`."""
        last = last or today or dt.datetime.now(tz).date()
        first = first or last - dt.timedelta(days=default_days - 1)
        if first > last:
            raise Invalid("invalid_period", "from must not be after to")
        if (last - first).days + 1 > MAX_DAYS:
            raise Invalid("invalid_period", f"a period is at most {MAX_DAYS} days")
        return first, last

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(0), tzinfo=self.tz).astimezone(dt.timezone.utc)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz).astimezone(dt.timezone.utc)

    def previous(self):
        """The period of the same length that ends the day before this one starts."""
        length = dt.timedelta(days=self.days)
        return replace(self, first=self.first - length, last=self.last - length)

    def describe(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "days": self.days,
                "timezone": self.tz.key}
