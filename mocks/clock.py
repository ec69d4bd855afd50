"""The mock's clock: wall-clock time plus an offset that tests can move.

Periods, promotion dates, daily-chain days and limit resets all read this clock.
Token expiry (`exp`) does not: that is authentication, checked against real time.
The offset lives in the store, so exported state and every worker process agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CLOCK_KEY = (0, "__mock__", "clock")


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 (with `Z` or an offset; a date alone means midnight UTC)."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Clock:
    def __init__(self, offset: float = 0.0):
        self.offset = float(offset)

    def now(self) -> datetime:
        return utcnow() + timedelta(seconds=self.offset)

    def timestamp(self) -> int:
        return int(self.now().timestamp())

    def advance(self, seconds: float) -> None:
        self.offset += float(seconds)

    def set(self, moment: datetime) -> None:
        self.offset = (moment - utcnow()).total_seconds()
