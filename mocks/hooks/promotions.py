"""Promotions of every type: how they are shown, activation, and the project-wide list."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from ..resources import page_window, paged_reply
from ..rules import limits, promotions
from .registry import hook, set_field, transform

if TYPE_CHECKING:
    from ..context import Ctx, Reply


@transform("promotion_view")
def promotion_view(ctx: Ctx, record: dict[str, Any], resource: Any = None) -> dict[str, Any]:
    """Admin view of a promotion: redemption counters and live-observed extra keys."""
    view = dict(record)
    if "external_id" in record:  # code-based promotions
        total = record.get("redeem_total_limit")
        view["total_codes_count"] = promotions.code_count(ctx, resource.kind, record["external_id"])
        used = promotions.code_uses(ctx, resource.kind, record["external_id"]) if total is not None else 0
        view["total_limit_state"] = (
            None if total is None else {"available": max(0, int(total) - used), "reserved": 0, "used": used}
        )
    configured = record.get("limits")
    if isinstance(configured, dict):
        total = limits.per_user_total(configured)
        schedule = limits.user_schedule(configured)
        view["limits"] = {
            "per_user": None if total is None else {"total": total},
            "per_item": None,
            "recurrent_schedule": None if not schedule else {"per_user": schedule},
        }
    return view


for _name, _resource in (("coupon", "coupon"), ("promo-code", "promo_code"), ("unique-catalog-offer", "unique_offer")):
    hook(f"activate-{_name}")(set_field(_resource, "is_enabled", True))
    hook(f"deactivate-{_name}")(set_field(_resource, "is_enabled", False))


@hook("activate-promotion", "deactivate-promotion")
def switch_promotion(ctx: Ctx) -> Reply:
    """Activate or deactivate a promotion of any type by its numeric id."""
    promo = promotions.find(ctx, ctx.path["promotion_id"])
    if promo is None:
        ctx.fail(
            404,
            9502,
            f"[0401-9502]: Can not find promotion with ID = {ctx.path['promotion_id']} in project {ctx.project_id}",
        )
    kind = promo.pop("_kind")
    promo["is_enabled"] = ctx.op.operation_id == "activate-promotion"
    ctx.put(kind, promotions.key({**promo, "_kind": kind}), promo)
    return ctx.reply(None)


@hook("get-promotion-list")
def promotion_list(ctx: Ctx) -> Reply:
    """Every promotion of the project, whatever its type, by id; `enabled=1|0` keeps enabled or disabled ones."""
    enabled = ctx.query.get("enabled")
    value = "all" if enabled is None else f"enabled|{int(bool(int(enabled)))}"
    offset, limit = page_window(ctx)
    end = None if limit is None else offset + limit
    # each type's promotions are in id order in the store: merge the first `end` of each
    firsts = [
        [(promotions.number(r), n, kind, r) for r in ctx.records(promotions.BY_KIND[kind], value, limit=end)]
        for n, kind in enumerate(promotions.KINDS)
    ]
    merged = list(heapq.merge(*firsts, key=lambda t: (t[0] or 0, t[1])))[offset:end]
    records = []
    for number, _, kind, promo in merged:
        view = ctx.resource(kind).to_view(ctx, promo)
        view["id"] = number
        view["type"] = kind
        records.append(view)
    total = sum(ctx.count(promotions.BY_KIND[kind], value) for kind in promotions.KINDS)
    return paged_reply(ctx, records, total=total, offset=offset)
