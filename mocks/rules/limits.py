"""Uses and per-user limits.

A use is remembered per user in a kind of its own (`item_use`, `promotion_use`), one
record per user: {key: [{"at": ISO time, "n": count}, ...]}; admin corrections are
uses too (negative ones give uses back). A per-user limit counts the uses since the
last reset of its recurrent schedule. Item and promotion limits accept `per_user`
as a number or as {"total": n, ...}.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..clock import iso, parse_datetime
from ..context import Ctx
from . import periods


def usage_since(events: Iterable[Mapping[str, Any]], since: datetime | None) -> int:
    return sum(int(e.get("n", 1)) for e in events if since is None or (parse_datetime(e.get("at")) or since) >= since)


def record_use(ctx: Ctx, kind: str, key: str, user: str, n: int = 1) -> None:
    """Remember that `user` used `key` (an item, a promotion, a code) `n` times now."""
    state = ctx.get(kind, user) or {}
    _add_use(state.setdefault(str(key), []), iso(ctx.now), n)
    ctx.put(kind, user, state)


def _add_use(events: list[dict[str, Any]], at: str, n: int) -> None:
    """Uses of one second are one entry (counts are summed by time anyway)."""
    if events and events[-1].get("at") == at:
        events[-1]["n"] = int(events[-1].get("n", 1)) + n
    else:
        events.append({"at": at, "n": n})


def uses(
    ctx: Ctx, kind: str, key: str, user: str, schedule: Mapping[str, Any] | None = None, origin: datetime | None = None
) -> int:
    """How many times `user` used `key` since the last reset of `schedule`, minus admin adjustments."""
    state = ctx.memo((kind, user), lambda: ctx.get(kind, user) or {})  # read once per request
    since = periods.last_reset(ctx.now, schedule, origin)
    return usage_since(state.get(str(key), []), since)


def adjust_uses(ctx: Ctx, kind: str, key: str, user: str, delta: int) -> None:
    """Admin correction of a user's use count (negative: give uses back)."""
    state = ctx.get(kind, user) or {}
    _add_use(state.setdefault(str(key), []), iso(ctx.now), delta)
    ctx.put(kind, user, state)


def clear_uses(ctx: Ctx, kind: str, key: str | None, user: str | None) -> None:
    """Forget uses of `key` (None: of everything) by `user` (None: by every user)."""
    for user_key, state in ctx.tx.items(ctx.project_id, kind):
        if user is not None and user_key != user:
            continue
        if key is None:
            state = {}
        else:
            state.pop(str(key), None)
        ctx.put(kind, user_key, state)


def per_user_total(limits: Mapping[str, Any] | None) -> int | None:
    """The per-user cap of an item or promotion limit, in any of its accepted forms."""
    per_user = (limits or {}).get("per_user")
    if isinstance(per_user, Mapping):
        return per_user.get("total")
    return per_user if isinstance(per_user, int) else None


def user_schedule(limits: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The recurrent schedule that resets a per-user limit (None: it never resets)."""
    return ((limits or {}).get("recurrent_schedule") or {}).get("per_user")


def user_limit_state(ctx: Ctx, record: Mapping[str, Any], user: str | None) -> dict[str, Any] | None:
    """CatalogItemLimits of an item for a user (None when the item has no limits)."""
    limits = record.get("limits") or {}
    total = per_user_total(limits)
    per_item = limits.get("per_item")
    if total is None and not per_item:
        return None
    out: dict[str, Any] = {"per_user": None, "per_item": None}
    if total is not None:
        schedule = user_schedule(limits)
        used = uses(ctx, "item_use", record["sku"], user, schedule) if user else 0
        out["per_user"] = {"total": total, "available": max(0, total - used)}
        if schedule:
            nxt = periods.next_reset(ctx.now, schedule)
            out["per_user"]["recurrent_schedule"] = {
                "interval_type": schedule.get("interval_type"),
                "reset_next_date": int(nxt.timestamp()) if nxt else None,
            }
    if per_item:
        sold = (ctx.get("item_sold", record["sku"]) or {}).get("sold", 0)
        out["per_item"] = {"total": per_item, "available": max(0, per_item - sold)}
    return out
