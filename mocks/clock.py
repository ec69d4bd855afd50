"""The mock's clock: wall-clock time plus an offset that tests can move.

Periods, promotion dates, daily-chain days and limit resets all read this clock.
Token expiry (`exp`) does not: that is authentication, checked against real time.
The offset lives in the store, so exported state and every worker process agree.
The clock stays between EARLIEST and LATEST: a move beyond is refused (ValueError), so
no date the mock computes from it (periods, resets, expiries) leaves Python's range.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache

CLOCK_KEY = (0, "__mock__", "clock")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
_RANGE = f"the mock's clock stays between {EARLIEST.date()} and {LATEST.date()}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 (with `Z` or an offset; a date alone means midnight UTC)."""
    if value in (None, ""):
        return None
    return _parse(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=4096)  # the same few dates (periods, promotions, schedules) are read by every request
def _parse(value: str) -> datetime | None:
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _offset_to(moment: datetime) -> float:
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"{iso(moment)} is out of range: {_RANGE}")
    return (moment - utcnow()).total_seconds()


class Clock:
    def __init__(self, offset: float = 0.0):
        try:
            self.offset = float(offset)
            self._check(self.offset)
        except (TypeError, ValueError, OverflowError):
            self.offset = 0.0  # a stored offset out of range (written before it was checked) counts as none

    @staticmethod
    def _check(offset: float) -> None:
        seconds_to_limits = ((EARLIEST - utcnow()).total_seconds(), (LATEST - utcnow()).total_seconds())
        if not (math.isfinite(offset) and seconds_to_limits[0] <= offset <= seconds_to_limits[1]):
            raise ValueError(f"an offset of {offset:g} s is out of range: {_RANGE}")

    def now(self) -> datetime:
        return utcnow() + timedelta(seconds=self.offset)

    def timestamp(self) -> int:
        return int(self.now().timestamp())

    def advance(self, seconds: float) -> None:
        offset = self.offset + float(seconds)
        self._check(offset)
        self.offset = offset

    def set(self, moment: datetime) -> None:
        self.offset = _offset_to(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
