"""Catalog visibility: whether a client catalog lists an item for this request, and
whether the user can buy it now.

An item is listed when it is enabled and shown in the store, inside its periods,
allowed in the user's region, not held back by a catalog filter rule or a unique
catalog offer the user has not entered, and not hidden by a used-up per-user limit.
"""

from __future__ import annotations

import json
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


def _by_item(ctx: Ctx, name: str, kind: str, refs: Any) -> dict[str, dict[Any, list[dict[str, Any]]]]:
    """The enabled records of `kind` by the items they name (`refs(record)`: [(field, value)]), built
    once per write to the kind and looked up once per request."""

    def build() -> dict[str, dict[Any, list[dict[str, Any]]]]:
        found: dict[str, dict[Any, list[dict[str, Any]]]] = {"sku": {}, "item_id": {}}
        for record in ctx.records(ctx.resource(kind).enabled_index, "|1"):
            for field, value in refs(record):
                holders = found[field].setdefault(value, [])
                if not holders or holders[-1] is not record:
                    holders.append(record)
        return found

    return ctx.memo((name, ctx.project_id), lambda: ctx.cached((name, ctx.project_id), build, (kind,)))


def _rule_refs(rule: Mapping[str, Any]) -> list[tuple[str, Any]]:
    refs: list[tuple[str, Any]] = []
    for i in rule.get("items") or []:
        refs.append(("sku", _key(i.get("sku"))))
        if i.get("item_id"):
            refs.append(("item_id", _key(i.get("item_id"))))
    return refs


def _offer_refs(offer: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [("sku", _key(i if isinstance(i, str) else i.get("sku"))) for i in offer.get("items") or []]


def _key(value: Any) -> Any:
    """A value as a dictionary key (what JSON holds: lists and maps by their text)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def _holding(index: dict[Any, list[dict[str, Any]]], value: Any) -> list[dict[str, Any]]:
    return index.get(_key(value), [])


def personalization_allows(ctx: Ctx, record: Mapping[str, Any]) -> bool:
    """Catalog filter rules: an item named by enabled rules is shown only when one of them matches the user."""
    rules = _by_item(ctx, "filter_rules_by_item", "filter_rule", _rule_refs)
    applicable = _holding(rules["sku"], record.get("sku"))
    if rules["item_id"] and record.get("item_id") is not None:
        applicable = [*applicable, *_holding(rules["item_id"], record.get("item_id"))]
    if not applicable:
        return True
    if ctx.principal.user_id is None:
        return any(r.get("is_satisfied_for_unauth") for r in applicable)
    return any(conditions.hold(r.get("attribute_conditions"), ctx.principal.attributes) for r in applicable)


def unique_offer_allows(ctx: Ctx, record: Mapping[str, Any], promo_code: str | None) -> bool:
    """Items of an enabled unique catalog offer are hidden until the user has entered its code."""
    holding = _holding(_by_item(ctx, "unique_offers_by_item", "unique_offer", _offer_refs)["sku"], record.get("sku"))
    if not holding:
        return True
    entered = ctx.memo(("entered_offers", ctx.principal.user_id, promo_code), lambda: _entered(ctx, promo_code))
    return any(o["external_id"] in entered and promotions.in_time(ctx.now, o) for o in holding)


def _entered(ctx: Ctx, promo_code: str | None) -> set[str]:
    """The unique offers the request's user entered a code of, and the one of the request's promo code."""
    entered = set((ctx.get("entered_offer", ctx.principal.user_id or "") or {}).get("offers", []))
    if promo_code:
        code = promotions.code_record(ctx, promo_code)
        if code and code.get("kind") == "unique_offer":
            entered.add(code["external_id"])
    return entered


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
        visibility = (
            (item_limits.get("per_user") or {}).get("limit_exceeded_visibility")
            if isinstance(item_limits.get("per_user"), Mapping)
            else None
        )
        if limits.user_schedule(item_limits) and visibility == "show":
            return True  # shown used up or not: no need to count the uses
        state = limits.user_limit_state(ctx, record, user)
        if state and state["per_user"]["available"] <= 0:
            return False
    return True
