"""Catalog-side LiveOps: the project's upsell (one configuration per project)
and the short list of catalog filter rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..context import index
from ..resources import paged_reply
from ..rules import item_views, items, promotions, visibility
from .chains import invalid
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx, Reply

CATALOG_TYPES = ("virtual_good", "virtual_currency", "bundle", "unit")


def _config(ctx: Ctx) -> dict[str, Any] | None:
    return ctx.resource("upsell").get(ctx, "upsell")


def upsell_records(ctx: Ctx, config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items an upsell offers: `fixed_list` its SKUs in order; `most_sellable` the items sold so
    far, best sellers first; `only_promotions` the items of active discounts and bonus conditions."""
    if config["type"] == "fixed_list":
        return [r for r in (items.find(ctx, sku) for sku in config.get("items") or []) if r]
    if config["type"] == "most_sellable":
        skus = [sku for sku, _, _ in ctx.find(BEST_SELLERS, "sold")]
    else:
        promoted = [i.get("sku") for p in promotions.active_discounts(ctx, None) for i in p.get("items") or []]
        promoted += [c.get("sku") for p in promotions.active_bonuses(ctx, None) for c in p.get("condition") or []]
        skus = list(dict.fromkeys(promoted))
    found = [r for r in (items.get(ctx, sku) for sku in skus if sku) if r and r.get("type") in CATALOG_TYPES]
    if config["type"] != "most_sellable":  # in the catalog's creation order
        found.sort(key=lambda r: r.get("item_id") or 0)
    return found


@index("item_sold", "best_sellers")
def BEST_SELLERS(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Items sold at least once, best sellers first."""
    sold = int(record.get("sold") or 0)
    return [("sold", -sold, "")] if sold > 0 else []


def _admin_item(ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("item_id", "sku", "type", "name", "bundle_type", "drm_name", "drm_sku")
    view = {k: record.get(k) for k in fields}
    if record.get("type") == "unit":
        units = [_admin_item(ctx, u) for u in record.get("unit_items") or []]
        view.update(unit_type="game", unit_items=units)
    return {k: v for k, v in view.items() if v is not None}


def _check_items(ctx: Ctx) -> None:
    missing = [sku for sku in ctx.body.get("items") or [] if items.find(ctx, sku) is None]
    if missing:
        ctx.fail(404, 9901, f"[0401-4001]: Items weren't found: {', '.join(missing)}")


@hook("get-upsell-configurations-for-project-admin")
def upsell_configuration(ctx: Ctx) -> Reply:
    """The upsell configuration with its items (an empty list before one is set up)."""
    config = _config(ctx)
    if config is None:
        return ctx.reply([])
    offered = [_admin_item(ctx, r) for r in upsell_records(ctx, config)]
    return ctx.reply([{"is_enabled": bool(config.get("is_enabled")), "type": config["type"], "items": offered}])


@hook("post-upsell", "put-upsell")
def set_upsell(ctx: Ctx) -> Reply:
    """Set up the upsell, replacing the project's configuration when it has one (a project has
    one upsell; the reference documents no refusal for an existing one); every SKU sent must
    exist (404 9901 names the unknown ones)."""
    _check_items(ctx)
    res = ctx.resource("upsell")
    return res.update(ctx) if _config(ctx) else res.create(ctx)


@hook("put-upsell-toggle-active-inactive")
def toggle_upsell(ctx: Ctx) -> Reply:
    """Switch the upsell on (`active`) or off (`inactive`), keeping its configuration."""
    config = _config(ctx)
    if config is None:
        invalid(ctx, "The project has no upsell yet: create it first")
    config["is_enabled"] = ctx.path["toggle"] == "active"
    ctx.resource("upsell").save(ctx, config)
    return ctx.reply(None)


@hook("get-upsell-for-project-client")
def upsell_items(ctx: Ctx) -> Reply:
    """The upsell's items the user can see in the catalog, as catalog items; none while inactive."""
    config = _config(ctx)
    user = ctx.principal.user_id
    records = upsell_records(ctx, config) if config and config.get("is_enabled") else []
    visible = [r for r in records if visibility.catalog_visible(ctx, r, user=user)]
    return paged_reply(ctx, [item_views.catalog_item_view(ctx, r, user=user) for r in visible])


@hook("get-all-filter-rules")
def all_filter_rules(ctx: Ctx) -> Reply:
    """Every filter rule, unpaginated, in short form (the schema keeps id, name and state)."""
    res = ctx.resource("filter_rule")
    return ctx.reply({"items": [res.to_view(ctx, r) for r in res.all(ctx)]})
