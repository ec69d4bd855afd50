"""Time windows and recurrent resets.

Records carry `periods` ([{date_from, date_until}]), promotions `promotion_periods`
or a `date_start` / `date_end` range; an open bound is no bound. Limits and chains
reset on recurrent schedules ({interval_type: hourly | daily | weekly | monthly, ...}).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from ..clock import parse_datetime


def within(now: datetime, start: Any, end: Any) -> bool:
    """Is `now` inside [start, end) (None bounds are open)?"""
    s, e = parse_datetime(start), parse_datetime(end)
    return (s is None or s <= now) and (e is None or now < e)


def in_periods(now: datetime, periods: Iterable[Mapping[str, Any]] | None) -> bool:
    """Inside one of the periods (no periods: always)."""
    periods = list(periods or [])
    return not periods or any(within(now, p.get("date_from"), p.get("date_until")) for p in periods)


def is_time_limited(record: Mapping[str, Any]) -> bool:
    return any(p.get("date_from") or p.get("date_until") for p in record.get("periods") or [])


def last_reset(now: datetime, schedule: Mapping[str, Any] | None, origin: datetime | None = None) -> datetime | None:
    """The most recent reset boundary of a recurrent schedule at `now` (None: never resets)."""
    if not schedule:
        return None
    try:  # the items of a request share their schedules: worked out once per moment and schedule
        return _last_reset_of(now, tuple(schedule.items()), origin)
    except TypeError:  # a schedule holding lists or maps
        return _last_reset(now, schedule, origin)


@lru_cache(maxsize=256)
def _last_reset_of(now: datetime, schedule: tuple[tuple[str, Any], ...], origin: datetime | None) -> datetime | None:
    return _last_reset(now, dict(schedule), origin)


def _last_reset(now: datetime, schedule: Mapping[str, Any], origin: datetime | None) -> datetime | None:
    kind = schedule.get("interval_type")
    if kind == "hourly":
        hours = int(schedule.get("interval_value") or 1)
        base = origin or datetime(2000, 1, 1, tzinfo=UTC)
        steps = int((now - base).total_seconds() // (hours * 3600))
        return base + timedelta(hours=hours * steps)
    time_text = str(schedule.get("time") or "00:00:00+00:00")
    parsed = parse_datetime(f"2000-01-01T{time_text}")
    tz = parsed.tzinfo if parsed else UTC
    hour = parsed.hour if parsed else 0
    local = now.astimezone(tz)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if kind == "daily":
        if candidate > local:
            candidate -= timedelta(days=1)
        return candidate
    if kind == "weekly":
        wanted = int(schedule.get("day_of_week") or 1) - 1  # 1 = Monday
        candidate -= timedelta(days=(candidate.weekday() - wanted) % 7)
        if candidate > local:
            candidate -= timedelta(days=7)
        return candidate
    if kind == "monthly":
        day = int(schedule.get("day_of_month") or 1)

        def at(year: int, month: int) -> datetime:
            return candidate.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))

        this = at(local.year, local.month)
        if this <= local:
            return this
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        return at(year, month)
    return None


def next_reset(now: datetime, schedule: Mapping[str, Any] | None, origin: datetime | None = None) -> datetime | None:
    last = last_reset(now, schedule, origin)
    if last is None:
        return None
    kind = schedule.get("interval_type") if schedule else None
    if kind == "hourly":
        return last + timedelta(hours=int(schedule.get("interval_value") or 1))
    if kind == "daily":
        return last + timedelta(days=1)
    if kind == "weekly":
        return last + timedelta(days=7)
    later = last_reset(last + timedelta(days=32), schedule, origin)
    return later
