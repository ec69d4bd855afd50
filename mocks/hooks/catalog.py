"""The client catalog: what a storefront lists, derived from the admin state.

Every catalog read (virtual items, currencies, packages, bundles, sellable
items, games and game keys, the group tree) shows the items an admin created,
filtered by `visibility.catalog_visible` and rendered by `item_views.catalog_item_view`
for the request's user, country, locale and promo code. Lists are in `order`,
then creation order. A token is optional: without one the catalog is not
personalized (no user limits, no personal offers).

Scale: a list request costs about the same whatever the size of the store.
The ordered, filtered list is computed once per store generation, project,
kind, group, user attributes, country, promo code and `show_inactive_time_limited_items`
(`Ctx.cached`), and again when the clock reaches the next moment a period of an item,
rule or offer opens or closes; item views are built for the requested
page only. The few items whose visibility depends on the user himself (per-user
limits that may hide them, unique catalog offers) stay in the cached list as
candidates and are checked per request. Scans of the store (`ctx.values`) made
while rendering a read-only request are served from a per-generation cache too.
"""

from __future__ import annotations

import dataclasses
import json
from bisect import bisect_right
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..context import Ctx
from ..rules import item_views, items, limits, periods, prices, visibility
from .games import game_key_fields
from .registry import hook

if TYPE_CHECKING:
    from ..context import Reply

CATALOG_TYPES = ("virtual_good", "virtual_currency", "bundle", "unit")
INHERITED = ("name", "description", "long_description", "image_url", "media_list", "attributes", "groups")
ALL_GROUP = "all"  # the group every item belongs to


def _is_package(record: Mapping[str, Any]) -> bool:
    return record.get("type") == "bundle" and record.get("bundle_type") == "virtual_currency_package"


# Which records each catalog call lists.
KINDS: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "virtual_items": lambda r: r.get("type") == "virtual_good",
    "virtual_currency": lambda r: r.get("type") == "virtual_currency",
    "currency_packages": _is_package,
    "bundles": lambda r: r.get("type") == "bundle" and not _is_package(r),
    "sellable": lambda r: r.get("type") in ("virtual_good", "virtual_currency", "bundle", "game_key"),
    "games": lambda r: r.get("type") == "unit",
    "game_keys": lambda r: r.get("type") == "game_key",
}


class ReadCtx(Ctx):
    """The ctx of a read-only catalog request: each kind is scanned once per store generation,
    so a page costs the same whatever the size of the store.

    What it returns is cached and shared between requests: never change it.
    """

    def values(self, kind: str) -> list[Any]:
        return self.cached(("values", self.project_id, kind), lambda: Ctx.values(self, kind), (kind,))

    def all_items(self) -> list[dict[str, Any]]:
        return self.values(items.ITEM)


def read_ctx(ctx: Ctx) -> ReadCtx:
    return ReadCtx(**{f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)})


# ----------------------------------------------------------------- records


def _display_order(record: Mapping[str, Any]) -> tuple[bool, int]:
    return record.get("order") is None, record.get("order") or 0


def game_key_record(game: Mapping[str, Any], unit: Mapping[str, Any]) -> dict[str, Any]:
    """A game key as the catalog sees it: its own sale conditions, the game's texts where it has none."""
    record = {k: game.get(k) for k in INHERITED if game.get(k)}
    record.update({k: v for k, v in unit.items() if v not in (None, [], {}) or k not in record})
    record.update({"type": "game_key", "_game_sku": game["sku"], "_game_enabled": bool(game.get("is_enabled", True))})
    return record


def catalog_index(ctx: ReadCtx) -> dict[str, Any]:
    """Every catalog record of the project in display order, with lookups by SKU and item ID."""

    def build() -> dict[str, Any]:
        records: list[dict[str, Any]] = []
        for record in ctx.all_items():
            if record.get("type") not in CATALOG_TYPES:
                continue
            records.append(record)
            if record["type"] == "unit":
                records.extend(game_key_record(record, unit) for unit in record.get("unit_items") or [])
        records.sort(key=_display_order)
        return {
            "list": records,
            "sku": {r["sku"]: r for r in records},
            "id": {r["item_id"]: r for r in records if r.get("item_id")},
        }

    return ctx.cached(("catalog_index", ctx.project_id), build, (items.ITEM,))


def game_keys(ctx: ReadCtx, game: Mapping[str, Any]) -> list[dict[str, Any]]:
    index = catalog_index(ctx)["sku"]
    keys = [index[u["sku"]] for u in game.get("unit_items") or [] if u.get("sku") in index]
    return sorted(keys, key=_display_order)


# -------------------------------------------------------------- visibility


def _options(ctx: Ctx) -> dict[str, Any]:
    return {
        "country": ctx.query.get("country"),
        "promo_code": ctx.query.get("promo_code"),
        "show_inactive": bool(ctx.query.get("show_inactive_time_limited_items")),
    }


def _offered_skus(ctx: ReadCtx) -> set[str]:
    """SKUs of the enabled unique catalog offers' items (each user sees them once he entered a code)."""
    offers = [o for o in ctx.values("unique_offer") if o.get("is_enabled")]
    return {i if isinstance(i, str) else i.get("sku") for o in offers for i in o.get("items") or []}


def _game_on_sale(record: Mapping[str, Any]) -> bool:
    """A game key is sold only while its game is enabled."""
    return record.get("type") != "game_key" or record.get("_game_enabled", True)


def visible(ctx: ReadCtx, record: Mapping[str, Any]) -> bool:
    """Whether this request's user sees the item."""
    user = ctx.principal.user_id
    return _game_on_sale(record) and visibility.catalog_visible(ctx, record, user=user, **_options(ctx))


def _groups_of(record: Mapping[str, Any]) -> list[str]:
    return record.get("groups") or []


def _candidates(ctx: ReadCtx, kind: str, group: str | None) -> tuple[list[dict[str, Any]], list[int]]:
    """The ordered list a catalog call pages through, and the positions to check per user (cached)."""
    principal = ctx.principal
    attributes = json.dumps(principal.attributes, sort_keys=True, default=str)
    key = (
        "catalog",
        ctx.project_id,
        kind,
        group,
        principal.user_id is None,
        attributes,
        tuple(sorted(_options(ctx).items())),
    )

    def build() -> tuple[list[dict[str, Any]], list[int], datetime | None]:
        entries: list[dict[str, Any]] = []
        per_user: list[int] = []  # positions whose visibility depends on the user himself
        offered = _offered_skus(ctx)
        for record in catalog_index(ctx)["list"]:
            if (
                not KINDS[kind](record)
                or not _game_on_sale(record)
                or (group is not None and group not in _groups_of(record))
            ):
                continue
            if record["sku"] in offered or limits.per_user_total(record.get("limits")) is not None:
                per_user.append(len(entries))
                entries.append(record)
            elif visibility.catalog_visible(ctx, record, user=None, **_options(ctx)):
                entries.append(record)
        # what time alone changes: item periods, and the rules and offers that filter items
        timed = [*catalog_index(ctx)["list"], *ctx.values("filter_rule"), *ctx.values("unique_offer")]
        return entries, per_user, periods.next_boundary(ctx.now, timed)

    entries, per_user, _until = ctx.cached(key, build, fresh=lambda view: view[2] is None or ctx.now < view[2])
    return entries, per_user


def visible_list(ctx: ReadCtx, kind: str, group: str | None = None) -> tuple[list[dict[str, Any]], list[int]]:
    """The candidates of a list and the (sorted) positions hidden from this request's user."""
    entries, per_user = _candidates(ctx, kind, group)
    hidden = [i for i in per_user if not visible(ctx, entries[i])]
    return entries, hidden


def page(entries: list[Any], hidden: list[int], offset: int, limit: int) -> list[Any]:
    """Entries at visible positions offset..offset+limit-1, skipping the hidden positions."""
    start = offset
    while (moved := offset + bisect_right(hidden, start)) != start:
        start = moved
    skip = set(hidden)
    out: list[Any] = []
    position = start
    while position < len(entries) and len(out) < limit:
        if position not in skip:
            out.append(entries[position])
        position += 1
    return out


def require_group(ctx: Ctx) -> str | None:
    """The group of a per-group list (None for `all`); 404 4403 when no enabled group has this ID."""
    external_id = ctx.path["external_id"]
    group = ctx.get("group", external_id)
    if group is None and external_id == ALL_GROUP:
        return None
    if group is None or not group.get("is_enabled", True):
        ctx.fail(404, 4403, "[0401-4403]: Item group not found")
    return external_id


# ------------------------------------------------------------------- views


def item_view(ctx: ReadCtx, record: Mapping[str, Any]) -> dict[str, Any]:
    """An item as this request's user sees it, with the fields of its type."""
    options = _options(ctx)
    view = item_views.catalog_item_view(
        ctx,
        record,
        user=ctx.principal.user_id,
        country=options["country"],
        promo_code=options["promo_code"],
        additional_fields=ctx.query.get("additional_fields[]") or (),
    )
    if record.get("type") == "bundle":
        view["total_content_price"] = _total_content_price(view.get("content") or [])
    elif record.get("type") == "game_key":
        view.update(game_key_fields(ctx, record))
    elif record.get("type") == "unit":
        keys = [item_view(ctx, k) for k in game_keys(ctx, record) if visible(ctx, k)]
        view.update(
            {
                "type": "unit",
                "unit_type": "game_key",
                "unit_items": keys,
                "price": None,
                "can_be_bought": any(k["can_be_bought"] for k in keys),
            }
        )
    return view


def _total_content_price(content: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """What the bundle's content would cost bought item by item (null without real-currency prices)."""
    priced = [c for c in content if c.get("price")]
    if not priced:
        return None
    currency = priced[0]["price"]["currency"]
    same = [c for c in priced if c["price"]["currency"] == currency]

    def total(field: str) -> str:
        return str(
            prices.money(sum((Decimal(c["price"][field]) * int(c.get("quantity", 1)) for c in same), Decimal(0)))
        )

    return {
        "amount": total("amount"),
        "amount_without_discount": total("amount_without_discount"),
        "currency": currency,
    }


# ------------------------------------------------------------ catalog calls

LISTS = {
    "get-virtual-items": "virtual_items",
    "get-virtual-items-group": "virtual_items",
    "get-virtual-currency": "virtual_currency",
    "get-virtual-currency-package": "currency_packages",
    "get-bundle-list": "bundles",
    "get-bundle-list-in-group": "bundles",
    "get-sellable-items": "sellable",
    "get-sellable-items-group": "sellable",
    "get-games-list": "games",
    "get-games-group": "games",
    "get-game-keys-group": "game_keys",
}


@hook(*LISTS)
def catalog_list(ctx: Ctx) -> Reply:
    """A page of the catalog: the items of the call's kind (and group) the user sees, in display order."""
    group = require_group(ctx) if "external_id" in ctx.path else None
    rctx = read_ctx(ctx)
    entries, hidden = visible_list(rctx, LISTS[ctx.op.operation_id], group)
    offset, limit = int(ctx.query.get("offset") or 0), int(ctx.query.get("limit") or 50)
    views = [item_view(rctx, r) for r in page(entries, hidden, offset, limit)]
    total = len(entries) - len(hidden)
    return ctx.reply({"items": views, "has_more": offset + len(views) < total, "total_items_count": total})


@hook("get-all-virtual-items")
def all_virtual_items(ctx: Ctx) -> Reply:
    """Every virtual item the user sees, in short view (SKU, texts, groups), without paging."""
    rctx = read_ctx(ctx)
    entries, hidden = visible_list(rctx, "virtual_items")
    records = page(entries, hidden, 0, len(entries))
    return ctx.reply(
        {
            "items": [
                {
                    "sku": r["sku"],
                    "name": r.get("name"),
                    "description": r.get("description"),
                    "groups": item_views.group_refs(rctx, _groups_of(r)),
                }
                for r in records
            ]
        }
    )


SINGLE = {
    "get-virtual-items-sku": ("item_sku", "virtual_items"),
    "get-virtual-currency-sku": ("virtual_currency_sku", "virtual_currency"),
    "get-virtual-currency-package-sku": ("virtual_currency_package_sku", "currency_packages"),
    "get-bundle": ("sku", "bundles"),
    "get-sellable-item-by-sku": ("sku", "sellable"),
    "get-sellable-item-by-id": ("item_id", "sellable"),
    "get-game-by-sku": ("item_sku", "games"),
    "get-game-key-by-sku": ("item_sku", "game_keys"),
}


@hook(*SINGLE)
def catalog_item(ctx: Ctx) -> Reply:
    """One item of the call's kind, as the user sees it; 404 when it is unknown or not shown to him."""
    param, kind = SINGLE[ctx.op.operation_id]
    rctx = read_ctx(ctx)
    ident = ctx.path[param]
    record = catalog_index(rctx)["id" if param == "item_id" else "sku"].get(ident)
    if record is None or not KINDS[kind](record) or not visible(rctx, record):
        what = "id = " + str(ident) if param == "item_id" else f"sku = '{ident}'"
        ctx.fail(404, 4001, f"[0401-4001]: Item with {what} not found")
    return ctx.reply(item_view(rctx, record))


@hook("get-item-groups")
def item_groups(ctx: Ctx) -> Reply:
    """The enabled groups as a tree: top-level groups in order, each with its enabled children."""
    groups = sorted((g for g in ctx.values("group") if g.get("is_enabled", True)), key=_display_order)
    known = {g["external_id"] for g in ctx.values("group")}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for group in groups:
        parent = group.get("parent_external_id")
        children.setdefault(parent if parent in known else None, []).append(group)

    def node(group: Mapping[str, Any], level: int) -> dict[str, Any]:
        return {
            **{k: group.get(k) for k in ("external_id", "name", "description", "image_url", "order")},
            "level": level,
            "parent_external_id": group.get("parent_external_id") if level else None,
            "children": [node(c, level + 1) for c in children.get(group["external_id"], [])],
        }

    return ctx.reply({"groups": [node(g, 0) for g in children.get(None, [])]})
