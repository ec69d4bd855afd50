"""Items by SKU: every item type lives in store kind `item`; game keys are unit items
inside their game's record (`game_key_owner` names the game of a key SKU)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Ctx
from ..shape import localize

ITEM = "item"  # the store kind of every item type


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
