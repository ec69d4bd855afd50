"""Items by SKU: every item type lives in store kind `item`; game keys are unit items
inside their game's record (`game_key_owner` names the game of a key SKU)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Ctx, index
from ..shape import localize

ITEM = "item"  # the store kind of every item type


def key_part(position: int, sku: str) -> str:
    """The index part naming a game's key (unit item) by its position in the game, then SKU."""
    return f"{position:04d}/{sku}"


@index(ITEM, "item_id")
def BY_ID(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Items by item ID; a game's keys are parts of the game's record (`key_part`)."""
    out = [(str(record["item_id"]), None, "")] if record.get("item_id") is not None else []
    units = (record.get("unit_items") or []) if record.get("type") == "unit" else []
    for n, unit in enumerate(units):
        if unit.get("item_id") is not None:
            out.append((str(unit["item_id"]), None, key_part(n, unit.get("sku"))))
    return out


@index(ITEM, "value_points")
def VALUE_POINTS(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802
    """The value points (items of type value_point)."""
    return [("all", None, "")] if record.get("type") == "value_point" else []


def get(ctx: Ctx, sku: str) -> dict[str, Any] | None:
    """An item record by SKU (not game keys)."""
    return ctx.get(ITEM, sku)


def find(ctx: Ctx, sku: str) -> dict[str, Any] | None:
    """An item by SKU, including game keys (unit items inside games)."""
    found = get(ctx, sku)
    if found is not None:
        return found
    owner = ctx.get("game_key_owner", sku)
    if owner:
        game = get(ctx, owner["game_sku"])
        for unit in (game or {}).get("unit_items") or []:
            if unit.get("sku") == sku:
                return {**unit, "type": "game_key", "_game_sku": owner["game_sku"], "item_id": unit.get("item_id")}
    return None


def require(ctx: Ctx, sku: str) -> dict[str, Any]:
    """An item by SKU (game keys included); 404 4001 when there is none."""
    found = find(ctx, sku)
    if found is None:
        ctx.fail(404, 4001, f"[0401-4001]: Item with sku = '{sku}' not found")
    return found


def catalog_type(record: Mapping[str, Any]) -> str | None:
    """The item type answers show; a game (a `unit` of keys) is granted and ordered as a key."""
    kind = record.get("type")
    return "game_key" if kind == "unit" else kind


def text(value: Any, locale: str = "en") -> str | None:
    """A stored text (a map of two-letter locales, or a plain string) in `locale`."""
    return localize(value, locale) if isinstance(value, Mapping) else value
