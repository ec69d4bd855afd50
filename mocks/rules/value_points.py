"""The value points a purchase earns: kind `vp_rewards`, keyed by the value point's SKU,
{"items": {item sku: points per unit bought}}."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from . import items


def reward_index(ctx: Ctx) -> dict[str, list[dict[str, Any]]]:
    """Item SKU -> the value points buying it earns (one scan per store generation)."""

    def build() -> dict[str, list[dict[str, Any]]]:
        index: dict[str, list[dict[str, Any]]] = {}
        for vp in ctx.records(items.VALUE_POINTS, "all"):
            for sku, amount in ((ctx.get("vp_rewards", vp["sku"]) or {}).get("items") or {}).items():
                index.setdefault(sku, []).append(
                    {
                        "sku": vp["sku"],
                        "amount": int(amount),
                        "item_id": vp.get("item_id"),
                        "name": vp.get("name"),
                        "image_url": vp.get("image_url"),
                        "is_clan": bool(vp.get("is_clan")),
                    }
                )
        return index

    return ctx.cached(("vp_rewards", ctx.project_id), build, (items.ITEM, "vp_rewards"))


def rewards(ctx: Ctx, sku: str) -> list[dict[str, Any]]:
    """Value points a purchase of `sku` earns: [{sku (value point), amount, name, ...}]."""
    return [{**r, "name": items.text(r["name"], ctx.locale)} for r in reward_index(ctx).get(sku, [])]
