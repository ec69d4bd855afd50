"""Catalog visibility: whether a client catalog lists an item for this request, and
whether the user can buy it now.

An item is listed when it is enabled and shown in the store, inside its periods,
allowed in the user's region, not held back by a catalog filter rule or a unique
catalog offer the user has not entered, and not hidden by a used-up per-user limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Ctx
from . import conditions, limits, periods, promotions


def region_allows(ctx: Ctx, record: Mapping[str, Any], country: str | None) -> bool:
    """Regional restriction: no regions means everywhere; unknown country means allowed."""
    regions = [r.get("id") for r in record.get("regions") or [] if r.get("id")]
    if not regions or not country:
        return True
    for region_id in regions:
        region = ctx.get("region", region_id)
        if region and country in (region.get("countries") or []):
            return True
    return False


def personalization_allows(ctx: Ctx, record: Mapping[str, Any]) -> bool:
    """Catalog filter rules: an item named by enabled rules is shown only when one of them matches the user."""
    rules = ctx.cached(
        ("filter_rules", ctx.project_id),
        lambda: ctx.records(ctx.resource("filter_rule").enabled_index, "|1"),
        ("filter_rule",),
    )
    applicable = [
        r
        for r in rules
        if any(
            (i.get("sku") == record.get("sku")) or (i.get("item_id") and i.get("item_id") == record.get("item_id"))
            for i in r.get("items") or []
        )
    ]
    if not applicable:
        return True
    if ctx.principal.user_id is None:
        return any(r.get("is_satisfied_for_unauth") for r in applicable)
    return any(conditions.hold(r.get("attribute_conditions"), ctx.principal.attributes) for r in applicable)


def unique_offer_allows(ctx: Ctx, record: Mapping[str, Any], promo_code: str | None) -> bool:
    """Items of an enabled unique catalog offer are hidden until the user has entered its code."""
    offers = ctx.cached(
        ("unique_offers", ctx.project_id),
        lambda: ctx.records(ctx.resource("unique_offer").enabled_index, "|1"),
        ("unique_offer",),
    )
    holding = [
        o
        for o in offers
        if record.get("sku") in [i if isinstance(i, str) else i.get("sku") for i in o.get("items") or []]
    ]
    if not holding:
        return True
    entered = set((ctx.get("entered_offer", ctx.principal.user_id or "") or {}).get("offers", []))
    if promo_code:
        code = promotions.code_record(ctx, promo_code)
        if code and code.get("kind") == "unique_offer":
            entered.add(code["external_id"])
    return any(o["external_id"] in entered and promotions.in_time(ctx.now, o) for o in holding)


_UNKNOWN: Any = object()


def can_buy(ctx: Ctx, record: Mapping[str, Any], user: str | None, state: Any = _UNKNOWN) -> bool:
    """Enabled, inside its periods, and no limit used up (`state`: the user's limit state, when known)."""
    if not record.get("is_enabled", True) or not periods.in_periods(ctx.now, record.get("periods")):
        return False
    state = limits.user_limit_state(ctx, record, user) if state is _UNKNOWN else state
    for part in ("per_user", "per_item"):
        if state and state.get(part) and state[part].get("available", 1) <= 0:
            return False
    return True


def catalog_visible(
    ctx: Ctx,
    record: Mapping[str, Any],
    *,
    user: str | None,
    country: str | None = None,
    promo_code: str | None = None,
    show_inactive: bool = False,
) -> bool:
    """Whether a client catalog lists the item for this request."""
    if not record.get("is_enabled", True) or not record.get("is_show_in_store", True):
        return False
    if not periods.in_periods(ctx.now, record.get("periods")) and not (
        show_inactive and periods.is_time_limited(record)
    ):
        return False
    if not region_allows(ctx, record, country) or not personalization_allows(ctx, record):
        return False
    if not unique_offer_allows(ctx, record, promo_code):
        return False
    item_limits = record.get("limits") or {}
    if user and limits.per_user_total(item_limits) is not None:
        state = limits.user_limit_state(ctx, record, user)
        if state and state["per_user"]["available"] <= 0:
            visibility = (
                (item_limits.get("per_user") or {}).get("limit_exceeded_visibility")
                if isinstance(item_limits.get("per_user"), Mapping)
                else None
            )
            if not limits.user_schedule(item_limits) or visibility != "show":
                return False
    return True
