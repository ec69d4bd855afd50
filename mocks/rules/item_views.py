"""An item as client catalog calls show it: CatalogItemCore (identity, texts, groups,
prices after discounts, promotions, limits, whether it can be bought, value points)
plus the fields of its type.

Texts stay localized maps: the response schema's CatalogText renders the request's
locale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..context import Ctx
from . import items, limits, prices, value_points, visibility


def group_refs(ctx: Ctx, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The item's enabled groups ({external_id, name}; a group unknown to the project keeps its id)."""
    known = ctx.cached(("groups", ctx.project_id), dict, ("group",))  # filled as groups are read
    out = []
    for ext in ids or []:
        if ext not in known:
            known[ext] = ctx.get("group", ext)
        group = known[ext]
        if group is None or group.get("is_enabled", True):
            out.append({"external_id": ext, "name": (group or {}).get("name") or {"en": ext}})
    return out


# What the item view shows of the record alone (with its groups and value points): the same for
# every request while the item, groups and value points stay as they are.
STATIC_DEPENDS = (items.ITEM, "group", "vp_rewards")
TYPE_FIELDS = ("virtual_item_type", "inventory_options", "bundle_type", "is_pre_order", "drm_name", "drm_sku")
EXTRA_FIELDS = ("long_description", "media_list", "order", "custom_attributes")


def static_view(ctx: Ctx, record: Mapping[str, Any], additional_fields: Iterable[str] = ()) -> dict[str, Any]:
    """The part of CatalogItemCore that depends on the record alone (not on the user, time or offers)."""
    view: dict[str, Any] = {
        "item_id": record.get("item_id"),
        "sku": record["sku"],
        "type": items.catalog_type(record),
        "name": record.get("name"),
        "description": record.get("description"),
        "image_url": record.get("image_url"),
        "groups": group_refs(ctx, record.get("groups") or []),
        "attributes": record.get("attributes") or [],
        "is_free": bool(record.get("is_free")),
        "periods": record.get("periods") or [],
        "vp_rewards": value_points.rewards(ctx, record["sku"]),
    }
    for key in TYPE_FIELDS:
        if key in record:
            view[key] = record[key]
    for key in EXTRA_FIELDS:
        if key in (additional_fields or ()) and key in record:
            view[key] = record[key]
    return view


def offer_view(
    ctx: Ctx,
    record: Mapping[str, Any],
    *,
    user: str | None,
    country: str | None = None,
    promo_code: str | None = None,
    with_content: bool = True,
) -> dict[str, Any]:
    """The part that depends on the user, the time and the active offers: prices, promotions,
    limits, whether it can be bought, and a bundle's content."""
    state = limits.user_limit_state(ctx, record, user)
    priced = prices.price_view(ctx, record, user=user, country=country, promo_code=promo_code)
    view: dict[str, Any] = {
        "price": priced["price"],
        "virtual_prices": priced["virtual_prices"],
        "promotions": priced["promotions"],
        "can_be_bought": visibility.can_buy(ctx, record, user, state),
        "limits": state,
    }
    if with_content and "content" in record:  # one level: a bundle's parts are shown without their own content
        view["content"] = [
            {
                **catalog_item_view(
                    ctx, items.find(ctx, c["sku"]) or {"sku": c["sku"]}, user=user, country=country, with_content=False
                ),
                "quantity": c.get("quantity", 1),
            }
            for c in record.get("content") or []
            if c.get("sku")
        ]
    return view


def catalog_item_view(
    ctx: Ctx,
    record: Mapping[str, Any],
    *,
    user: str | None,
    country: str | None = None,
    promo_code: str | None = None,
    additional_fields: Iterable[str] = (),
    with_content: bool = True,
) -> dict[str, Any]:
    """An item as client catalog calls show it (CatalogItemCore plus the type's own fields)."""
    return {
        **static_view(ctx, record, additional_fields),
        **offer_view(ctx, record, user=user, country=country, promo_code=promo_code, with_content=with_content),
    }
