"""Queue and tag configuration files, and opening-hours arithmetic."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

# libyaml's parser where PyYAML has it: the same documents, many times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class QueueConfig:
    name: str
    language: str
    municipalities: tuple[str, ...]
    timezone: str
    hours: dict[str, tuple[tuple[dt.time, dt.time], ...]]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    callback_offer_after_seconds: int = 600
    default_handle_seconds: int = 240

    def serves(self, language: str, municipality: str) -> bool:
        return self.language == language and ("*" in self.municipalities or municipality in self.municipalities)

    def is_open(self, at: dt.datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(start <= now < end for start, end in self.hours.get(DAYS[local.weekday()], ()))

    def next_open(self, at: dt.datetime, horizon_days: int = 30) -> dt.datetime | None:
        """Start of the next opening interval after `at` (None if none within the horizon)."""
        tz = ZoneInfo(self.timezone)
        local = at.astimezone(tz)
        for offset in range(horizon_days + 1):
            day = local.date() + dt.timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, _end in sorted(self.hours.get(DAYS[day.weekday()], ())):
                candidate = dt.datetime.combine(day, start, tzinfo=tz)
                if candidate > local:
                    return candidate.astimezone(dt.timezone.utc)
        return None

    def weekly_hours(self) -> float:
        total = 0.0
        for intervals in self.hours.values():
            for start, end in intervals:
                total += (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).seconds / 3600
        return total

    def to_db(self) -> dict:
        return {
            "hours": {d: [f"{s:%H:%M}-{e:%H:%M}" for s, e in iv] for d, iv in self.hours.items()},
            "holidays": sorted(h.isoformat() for h in self.holidays),
            "callback_offer_after_seconds": self.callback_offer_after_seconds,
            "default_handle_seconds": self.default_handle_seconds,
        }


def _parse_hours(name: str, raw: dict) -> dict[str, tuple[tuple[dt.time, dt.time], ...]]:
    hours: dict[str, tuple[tuple[dt.time, dt.time], ...]] = {}
    for day, intervals in (raw or {}).items():
        if day not in DAYS:
            raise ConfigError(f"queue {name}: unknown day {day!r}")
        parsed = []
        for interval in intervals or []:
            m = _INTERVAL.match(str(interval).strip())
            if not m:
                raise ConfigError(f"queue {name}: bad interval {interval!r} (want HH:MM-HH:MM)")
            h1, m1, h2, m2 = map(int, m.groups())
            start = dt.time(h1, m1)
            end = dt.time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else dt.time(h2, m2)
            if end <= start:
                raise ConfigError(f"queue {name}: interval {interval!r} ends before it starts")
            parsed.append((start, end))
        hours[day] = tuple(parsed)
    return hours


def _parse_date(name: str, value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"queue {name}: bad holiday {value!r}") from exc


def parse_queue(raw: dict) -> QueueConfig:
    try:
        name = str(raw["name"])
        language = str(raw["language"])
        tz = str(raw.get("timezone", "Europe/Copenhagen"))
    except KeyError as exc:
        raise ConfigError(f"queue is missing {exc}") from exc
    if language not in ("da", "sv"):
        raise ConfigError(f"queue {name}: language must be da or sv")
    try:
        ZoneInfo(tz)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"queue {name}: unknown time zone {tz!r}") from exc
    municipalities = tuple(str(m) for m in raw.get("municipalities") or ["*"])
    return QueueConfig(
        name=name,
        language=language,
        municipalities=municipalities,
        timezone=tz,
        hours=_parse_hours(name, raw.get("hours") or {}),
        holidays=frozenset(_parse_date(name, h) for h in raw.get("holidays") or []),
        callback_offer_after_seconds=int(raw.get("callback_offer_after_seconds", 600)),
        default_handle_seconds=int(raw.get("default_handle_seconds", 240)),
    )


def queue_from_db(name: str, language: str, municipalities, timezone: str, config: dict) -> QueueConfig:
    return parse_queue(
        {
            "name": name,
            "language": language,
            "municipalities": municipalities,
            "timezone": timezone,
            **config,
        }
    )


def load_queues(path: Path) -> list[QueueConfig]:
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    queues = [parse_queue(q) for q in data.get("queues") or []]
    if not queues:
        raise ConfigError(f"{path}: no queues defined")
    names = [q.name for q in queues]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: duplicate queue names")
    return queues


@dataclass(frozen=True)
class TagConfig:
    code: str
    labels: dict[str, str]
    active: bool = True


def load_tags(path: Path) -> list[TagConfig]:
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    tags = []
    for raw in data.get("tags") or []:
        code = str(raw.get("code", "")).strip()
        if not code or len(code) > 64:
            raise ConfigError(f"{path}: tag without a valid code")
        labels = raw.get("label") or {}
        tags.append(TagConfig(code=code, labels={str(k): str(v) for k, v in labels.items()}, active=bool(raw.get("active", True))))
    if not tags:
        raise ConfigError(f"{path}: no tags defined")
    return tags


def route(queues: list[QueueConfig], language: str, municipality: str) -> QueueConfig | None:
    for queue in queues:
        if queue.serves(language, municipality):
            return queue
    return None
