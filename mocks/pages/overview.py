"""A project's store at a glance, as the dashboard shows it: items, promotions, codes and
their limits, chains, and orders with their statuses.

Everything here reads state through the domain rules (names in English, prices as the
catalog would show them before discounts); nothing writes. Long lists are cut at
`LIMIT` rows, with the full count beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..context import Ctx
from ..hooks.orders import order_view
from ..rules import items, prices, promotions

LIMIT = 200
CHAIN_KINDS = ("reward_chain", "daily_chain", "offer_chain")


def overview(ctx: Ctx) -> dict[str, Any]:
    """The project's store at a glance (`ctx` is a transaction on that project)."""
    return {
        "project_id": ctx.project_id,
        **_section("items", (_item(r) for r in ctx.values(items.ITEM))),
        **_section("promotions", (_promotion(ctx, r) for r in promotions.records(ctx))),
        **_section("codes", _codes(ctx)),
        **_section("chains", (_chain(kind, r) for kind in CHAIN_KINDS for r in ctx.values(kind))),
        **_section("orders", (_order(r) for r in reversed(ctx.values("order")))),
    }


def _section(name: str, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    return {name: rows[:LIMIT], f"{name}_total": len(rows)}


def _name(record: Mapping[str, Any]) -> str | None:
    return items.text(record.get("name"), "en")


def _item(record: Mapping[str, Any]) -> dict[str, Any]:
    price = prices.base_price(record)
    return {
        "sku": record["sku"],
        "name": _name(record),
        "type": record.get("type"),
        "price": f"{price['amount']} {price['currency']}" if price else None,
        "virtual_prices": [f"{p.get('amount')} {p.get('sku')}" for p in record.get("virtual_prices") or []],
        "is_enabled": record.get("is_enabled", True),
        "is_free": bool(record.get("is_free")),
        "groups": list(record.get("groups") or []),
        "limits": record.get("limits"),
    }


def _promotion(ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any]:
    kind = record["_kind"]
    discount = (record.get("discount") or {}).get("percent")
    what = []
    if discount:
        what.append(f"{discount}% off")
    what += [f"+{b.get('quantity', 1)} {b.get('sku')}" for b in record.get("bonus") or []]
    skus = [i if isinstance(i, str) else i.get("sku") for i in record.get("items") or []]
    return {
        "kind": kind,
        "id": record.get("promotion_id") or record.get("id"),
        "external_id": record.get("external_id"),
        "name": _name(record),
        "is_enabled": bool(record.get("is_enabled")),
        "active_now": bool(record.get("is_enabled")) and promotions.in_time(ctx.now, record),
        "benefit": ", ".join(what) or None,
        "items": [s for s in skus if s],
        "limits": {
            k: record.get(k) for k in ("redeem_user_limit", "redeem_code_limit", "redeem_total_limit") if record.get(k)
        }
        or record.get("limits"),
    }


def _codes(ctx: Ctx) -> list[dict[str, Any]]:
    owners = {(r["_kind"], r.get("external_id")): r for r in promotions.records(ctx, promotions.CODE_KINDS)}
    rows = []
    for code in ctx.values("code"):
        owner = owners.get((code.get("kind"), code.get("external_id")), {})
        rows.append(
            {
                "code": code["code"],
                "kind": code.get("kind"),
                "promotion": code.get("external_id"),
                "used": int(code.get("used", 0)),
                "code_limit": owner.get("redeem_code_limit"),
                "user_limit": owner.get("redeem_user_limit"),
                "total_limit": owner.get("redeem_total_limit"),
                "is_enabled": bool(owner.get("is_enabled")),
            }
        )
    return rows


def _chain(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": record.get("reward_chain_id") or record.get("id"),
        "name": _name(record),
        "is_enabled": bool(record.get("is_enabled")),
        "steps": len(record.get("steps") or []),
    }


def _order(order: Mapping[str, Any]) -> dict[str, Any]:
    content = order_view(order)["content"]
    total = content.get("price") or content.get("virtual_price")
    return {
        "order_id": order["order_id"],
        "user": order.get("user"),
        "status": order["status"],
        "mode": order.get("mode"),
        "sandbox": bool(order.get("sandbox")),
        "total": f"{total['amount']} {total['currency']}" if total else None,
        "items": [f"{line['quantity']} × {line['sku']}" for line in content["items"]],
        "created": order.get("created"),
        "invoice_id": order.get("invoice_id"),
        "token": order.get("token") if order["status"] == "new" else None,
    }
