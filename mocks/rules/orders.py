"""Orders and their fulfilment.

An order is a record of kind `order`, keyed by its number: {order_id, user, status,
mode: real | virtual | free, items: lines, currency, source, token, sandbox, created,
fulfilled}. The first move to paid or done delivers it (`fulfil`); hook modules add
what else a delivery does through `ON_FULFIL`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from ..clock import iso, parse_datetime
from ..context import Ctx, index
from . import inventory, limits, value_points

STATUSES = ("new", "paid", "done", "canceled", "expired")

# Called with (ctx, order) after an order is delivered; chain and game hooks register here.
ON_FULFIL: list[Callable[[Ctx, Mapping[str, Any]], None]] = []

# Called with (ctx, order, previous status) on every status change, before the order is saved
# (observers may annotate it); the webhooks register here.
ON_STATUS: list[Callable[[Ctx, dict[str, Any], str], None]] = []


@index("order", "orders")
def ORDERS(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Orders by buyer (`user|<id>`, by number), by payment token (`token|<token>`) and by
    creation time (`created`, sorted by its timestamp)."""
    created = parse_datetime(record.get("created"))
    return [
        (f"user|{record.get('user')}", record.get("order_id"), ""),
        (f"token|{record.get('token')}", None, ""),
        ("created", created.timestamp() if created else None, ""),
    ]


def of_user(ctx: Ctx, user: str) -> list[dict[str, Any]]:
    """The user's orders, oldest first."""
    return ctx.records(ORDERS, f"user|{user}")


def by_token(ctx: Ctx, token: str) -> dict[str, Any] | None:
    found = ctx.records(ORDERS, f"token|{token}", limit=1)
    return found[0] if found else None


def create(
    ctx: Ctx,
    lines: list[dict[str, Any]],
    *,
    mode: str,
    user: str | None = None,
    source: Mapping[str, Any] | None = None,
    status: str = "new",
    currency: str | None = None,
    sandbox: bool = False,
) -> dict[str, Any]:
    """An order for `lines` ([{sku, quantity, amount, amount_without_discount}]).

    mode: real (payment token, status new), virtual (charged, done), free (done).
    Orders that start `done` are fulfilled at once.
    """
    order_id = ctx.next_id("order")
    order = {
        "order_id": order_id,
        "user": user or ctx.user_id,
        "status": "new",
        "mode": mode,
        "items": lines,
        "currency": currency,
        "source": dict(source or {}),
        "token": secrets.token_hex(16),  # a secret, unique across restarts of a persistent store
        "sandbox": sandbox,
        "created": iso(ctx.now),
        "fulfilled": False,
    }
    ctx.put("order", order_id, order)
    if status != "new":
        set_status(ctx, order, status)
    return order


def set_status(ctx: Ctx, order: dict[str, Any], status: str) -> dict[str, Any]:
    """Move an order; the first move to paid/done delivers it (items, limits, value points, chains)."""
    previous, order["status"] = order["status"], status
    if status in ("paid", "done") and not order.get("fulfilled"):
        order["fulfilled"] = True
        fulfil(ctx, order)
    for observer in ON_STATUS:
        observer(ctx, order, previous)
    ctx.put("order", order["order_id"], order)
    return order


def fulfil(ctx: Ctx, order: Mapping[str, Any]) -> None:
    """Deliver an order. A purchase also counts against limits, adds to sales and earns value
    points; a reward delivery (chain steps, `source.reward`) only grants the items."""
    user = order["user"]
    purchase = not order.get("source", {}).get("reward")
    for line in order.get("items") or []:
        sku, quantity = line["sku"], int(line.get("quantity", 1))
        inventory.grant(ctx, sku, quantity, user)
        for bonus in line.get("bonus") or []:
            inventory.grant(ctx, bonus["sku"], int(bonus.get("quantity", 1)), user)
        if not purchase:
            continue
        limits.record_use(ctx, "item_use", sku, user, quantity)
        sold = ctx.get("item_sold", sku) or {"sold": 0}
        sold["sold"] += quantity
        ctx.put("item_sold", sku, sold)
        for reward in value_points.rewards(ctx, sku):
            inventory.grant(ctx, reward["sku"], reward["amount"] * quantity, user)
    for promo_id in order.get("source", {}).get("promotions", []):
        limits.record_use(ctx, "promotion_use", str(promo_id), user)
    for callback in ON_FULFIL:
        callback(ctx, order)
