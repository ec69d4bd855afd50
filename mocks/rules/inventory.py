"""Users' inventories: one record per user in kind `inventory`, {"items": {sku: quantity}},
holding items, virtual currencies and value points alike."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from . import items


def state(ctx: Ctx, user: str | None = None) -> dict[str, Any]:
    """The user's inventory record ({"items": {sku: quantity}}; empty for a new user)."""
    return ctx.user_state("inventory", user) or {"items": {}}


def balance(ctx: Ctx, sku: str, user: str | None = None) -> int:
    return int(state(ctx, user)["items"].get(sku, 0))


def grant(ctx: Ctx, sku: str, quantity: float, user: str | None = None, *, expand: bool = True) -> None:
    """Put units of an item, a currency or value points into a user's inventory.

    A currency package grants its currency; a bundle grants its content (one level:
    bundles do not contain bundles).
    """
    user = user or ctx.user_id
    record = items.find(ctx, sku)
    if expand and record and record.get("type") == "bundle":
        for part in record.get("content") or []:
            grant(ctx, part["sku"], float(part.get("quantity", 1)) * quantity, user, expand=False)
        return
    inv = state(ctx, user)
    inv["items"][sku] = inv["items"].get(sku, 0) + quantity
    if float(inv["items"][sku]).is_integer():
        inv["items"][sku] = int(inv["items"][sku])
    ctx.save_user_state("inventory", inv, user)


def charge(ctx: Ctx, sku: str, amount: int, user: str | None = None) -> bool:
    """Take virtual currency from a user's balance; False when it is too low."""
    user = user or ctx.user_id
    inv = state(ctx, user)
    if inv["items"].get(sku, 0) < amount:
        return False
    inv["items"][sku] -= amount
    ctx.save_user_state("inventory", inv, user)
    return True
