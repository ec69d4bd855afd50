"""Promotions of every type and the codes that belong to them.

Discounts and bonuses are numbered by `id`; coupons, promo codes and unique catalog
offers are named by `external_id`; every promotion also has a numeric `promotion_id`.
Records read through `records` carry their type in `_kind`. Codes live in kind
`code`, keyed by the code itself: {code, kind, external_id, promotion_id, used, reserved};
what all codes of a promotion used is counted beside them (`code_uses`), so that a total
limit costs the same however many codes the promotion has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..context import Ctx, index
from ..store import Index
from . import conditions, limits, periods

KINDS = ("coupon", "promo_code", "unique_offer", "discount", "bonus")
CODE_KINDS = ("coupon", "promo_code", "unique_offer")


def number(record: Mapping[str, Any]) -> Any:
    """The promotion's numeric id (`promotion_id`; discounts and bonuses are numbered by `id`)."""
    return record.get("promotion_id") or record.get("id")


def _entries(key: str, record: Any) -> list[tuple[str, Any, str]]:
    n = number(record)
    sort = n if isinstance(n, int) else None
    return [("all", sort, ""), (f"enabled|{int(bool(record.get('is_enabled')))}", sort, ""), (f"id|{n}", None, "")]


# kind -> its promotions in id order: "all", "enabled|1" / "enabled|0", and "id|<number>"
BY_KIND: dict[str, Index] = {kind: index(kind, "promotions")(_entries) for kind in KINDS}


def records(ctx: Ctx, kinds: Iterable[str] = KINDS, value: str = "all") -> list[dict[str, Any]]:
    """The promotions of these kinds (`value`: "all", "enabled|1", "enabled|0"), each with its kind in `_kind`."""
    return [{**record, "_kind": kind} for kind in kinds for record in ctx.records(BY_KIND[kind], value)]


def find(ctx: Ctx, promotion_id: int) -> dict[str, Any] | None:
    """A promotion of any type by its numeric id (`_kind` set)."""
    for kind in KINDS:
        for record in ctx.records(BY_KIND[kind], f"id|{promotion_id}"):
            if record.get("promotion_id") == promotion_id or (
                kind in ("discount", "bonus") and record.get("id") == promotion_id
            ):
                return {**record, "_kind": kind}
    return None


def key(record: Mapping[str, Any]) -> Any:
    """The store key of a promotion (`_kind` set)."""
    return record.get("external_id") if record.get("_kind") in CODE_KINDS else record.get("id")


def in_time(now: datetime, promo: Mapping[str, Any]) -> bool:
    """Inside the promotion's periods (or its date range)."""
    if promo.get("promotion_periods"):
        return periods.in_periods(now, promo["promotion_periods"])
    if promo.get("periods"):
        return periods.in_periods(now, promo["periods"])
    return periods.within(now, promo.get("date_start"), promo.get("date_end"))


def usable(ctx: Ctx, promo: Mapping[str, Any], user: str | None) -> bool:
    """Enabled, in its time window, its attribute conditions met, user limit not reached."""
    if not promo.get("is_enabled") or not in_time(ctx.now, promo):
        return False
    if not conditions.hold(promo.get("attribute_conditions"), ctx.principal.attributes):
        return False
    if user is not None:
        cap = limits.per_user_total(promo.get("limits"))
        if (
            cap is not None
            and limits.uses(
                ctx,
                "promotion_use",
                str(promo.get("promotion_id") or promo.get("id")),
                user,
                limits.user_schedule(promo.get("limits")),
            )
            >= cap
        ):
            return False
    return True


class Active:
    """The discount and bonus promotions usable now with the request's attributes (by any user), and
    what is derived from them alone (`derived`: built once, shared by the requests, read only)."""

    __slots__ = ("discount", "bonus", "derived")

    def __init__(self, ctx: Ctx):
        self.discount = [p for p in records(ctx, ("discount",), "enabled|1") if usable(ctx, p, None)]
        self.bonus = [p for p in records(ctx, ("bonus",), "enabled|1") if usable(ctx, p, None)]
        self.derived: dict[str, Any] = {}


def active(ctx: Ctx) -> Active:
    """The promotions usable now by the request's attributes (worked out once a second)."""
    key = (
        "active",
        ctx.project_id,
        ctx.now.replace(microsecond=0),
        tuple(sorted(ctx.principal.attributes.items())) if ctx.principal.attributes else (),
    )
    return ctx.memo(key, lambda: ctx.cached(key, lambda: Active(ctx), ("discount", "bonus")))


def _active(ctx: Ctx, kind: str, user: str | None) -> list[dict[str, Any]]:
    candidates = getattr(active(ctx), kind)
    if user is None:
        return candidates
    kept = [p for p in candidates if usable(ctx, p, user)]
    return candidates if len(kept) == len(candidates) else kept  # the same: the shared list


def active_discounts(ctx: Ctx, user: str | None) -> list[dict[str, Any]]:
    """Discount promotions usable now by the request's user (by `user` within their limits)."""
    return _active(ctx, "discount", user)


def active_bonuses(ctx: Ctx, user: str | None) -> list[dict[str, Any]]:
    """Bonus promotions usable now by the request's user (by `user` within their limits)."""
    return _active(ctx, "bonus", user)


@index("code", "by_promotion")
def CODES(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """A promotion's codes (`<kind>/<external_id>`), in the order they were added."""
    return [(f"{record.get('kind')}/{record.get('external_id')}", None, "")]


def codes_of(ctx: Ctx, kind: str, external_id: str, **options: Any) -> list[dict[str, Any]]:
    """The codes of a promotion (`offset`, `limit`: a page of them)."""
    return ctx.records(CODES, f"{kind}/{external_id}", **options)


def code_count(ctx: Ctx, kind: str, external_id: str) -> int:
    return ctx.count(CODES, f"{kind}/{external_id}")


CODE_USES = "code_uses"  # `<kind>/<external_id>` -> {"n": uses made and held by all its codes}


def code_uses(ctx: Ctx, kind: str, external_id: str) -> int:
    """How many uses a promotion's codes made and hold in all (its total limit counts them).

    Kept beside the codes as they are used; a state without the count (an older export) adds
    it up from the codes once."""
    found = ctx.get(CODE_USES, f"{kind}/{external_id}")
    if found is not None:
        return int(found["n"])
    return sum(int(c.get("used", 0)) + int(c.get("reserved", 0)) for c in codes_of(ctx, kind, external_id))


def use_code(ctx: Ctx, record: dict[str, Any]) -> None:
    """Count one use of a code: its own `used`, and its promotion's uses."""
    kind, external_id = record.get("kind"), record.get("external_id")
    total = code_uses(ctx, kind, external_id)  # before the code changes: a first count adds up the stored ones
    record["used"] = int(record.get("used", 0)) + 1
    ctx.put("code", record["code"], record)
    ctx.put(CODE_USES, f"{kind}/{external_id}", {"n": total + 1})


def code_record(ctx: Ctx, code: str) -> dict[str, Any] | None:
    """A coupon / promo code / unique offer code (codes are case-sensitive)."""
    return ctx.get("code", code)


def promo_code_promotion(ctx: Ctx, code: str | None) -> dict[str, Any] | None:
    """The enabled promo-code promotion a code belongs to (None when unusable)."""
    if not code:
        return None
    found = code_record(ctx, code)
    if not found or found.get("kind") != "promo_code":
        return None
    promo = ctx.get("promo_code", found["external_id"])
    if promo is None or not usable(ctx, {**promo, "_kind": "promo_code"}, ctx.principal.user_id):
        return None
    return promo
