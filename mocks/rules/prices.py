"""Prices: the real-currency price that applies, the best discount for the user (active
discount promotions and a promo code), virtual-currency prices after it, and the
promotions a client sees on an item. Money is exact decimal arithmetic, rounded half up."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from ..context import Ctx
from . import items, promotions

# Exact decimal arithmetic for any amount a float can carry (up to ~1.8e308), rounded half up.
MONEY = Context(prec=400, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    return MONEY.create_decimal(str(value)).quantize(Decimal("0.01"), context=MONEY)


def discounted(amount: Decimal, percent: Decimal) -> Decimal:
    return money(MONEY.divide(MONEY.multiply(amount, Decimal(100) - percent), Decimal(100)))


def base_price(record: Mapping[str, Any], country: str | None = None) -> dict[str, Any] | None:
    """The real-currency price that applies: the country's, else the default, else the first enabled."""
    prices = [p for p in record.get("prices") or [] if p.get("is_enabled", True)]
    if not prices:
        return None
    chosen = next((p for p in prices if country and p.get("country_iso") == country), None)
    chosen = chosen or next((p for p in prices if p.get("is_default") and not p.get("country_iso")), None)
    chosen = chosen or next((p for p in prices if p.get("is_default")), None) or prices[0]
    return {"amount": money(chosen["amount"]), "currency": chosen["currency"]}


def discount_percent(ctx: Ctx, sku: str, user: str | None, promo_code: str | None = None) -> tuple[Decimal, list[dict]]:
    """The best discount on an item for this user (promotions and a promo code), and the promotions behind it."""
    best, applied = Decimal(0), []
    for promo in promotions.active_discounts(ctx, user):
        if any(i.get("sku") == sku for i in promo.get("items") or []):
            percent = Decimal(str((promo.get("discount") or {}).get("percent") or 0))
            if percent > best:
                best, applied = percent, [promo]
    code_promo = promotions.promo_code_promotion(ctx, promo_code)
    if code_promo:
        for entry in code_promo.get("discounted_items") or []:
            if entry.get("sku") == sku:
                percent = Decimal(str((entry.get("discount") or {}).get("percent") or 0))
                if percent > best:
                    best, applied = percent, [{**code_promo, "_kind": "promo_code"}]
    return best, applied


def price_view(
    ctx: Ctx, record: Mapping[str, Any], *, user: str | None, country: str | None = None, promo_code: str | None = None
) -> dict[str, Any]:
    """`price`, `virtual_prices` and `promotions` of an item as a client sees them."""
    percent, applied = discount_percent(ctx, record["sku"], user, promo_code)
    base = base_price(record, country)
    price = None
    if base is not None and not record.get("is_free"):
        price = {
            "amount": str(discounted(base["amount"], percent)),
            "amount_without_discount": str(base["amount"]),
            "currency": base["currency"],
        }
    virtual = []
    for vp in record.get("vc_prices") or []:
        if not vp.get("is_enabled", True):
            continue
        currency = items.get(ctx, vp["sku"]) or {}
        full = int(vp["amount"])
        virtual.append(
            {
                "sku": vp["sku"],
                "item_id": currency.get("item_id"),
                "is_default": bool(vp.get("is_default")),
                "amount": int(
                    MONEY.divide(MONEY.multiply(Decimal(full), Decimal(100) - percent), Decimal(100)).to_integral_value(
                        ROUND_HALF_UP, context=MONEY
                    )
                ),
                "amount_without_discount": full,
                "name": items.text(currency.get("name"), ctx.locale),
                "description": items.text(currency.get("description"), ctx.locale),
                "image_url": currency.get("image_url"),
                "type": "virtual_currency",
            }
        )
    shown = []
    for promo in applied:
        shown.append(
            {
                "name": items.text(promo.get("name"), ctx.locale),
                "date_start": promo.get("date_start"),
                "date_end": promo.get("date_end"),
                "discount": {"percent": f"{percent:.2f}", "value": None},
                "bonus": [],
            }
        )
    for promo in promotions.active_bonuses(ctx, user):
        if any(c.get("sku") == record["sku"] for c in promo.get("condition") or []):
            shown.append(
                {
                    "name": items.text(promo.get("name"), ctx.locale),
                    "date_start": promo.get("date_start"),
                    "date_end": promo.get("date_end"),
                    "discount": None,
                    "bonus": [bonus_view(ctx, b) for b in promo.get("bonus") or []],
                }
            )
    return {"price": price, "virtual_prices": virtual, "promotions": shown, "_percent": percent}


def bonus_view(ctx: Ctx, entry: Mapping[str, Any]) -> dict[str, Any]:
    """A bonus item of a promotion as clients see it."""
    record = items.find(ctx, entry.get("sku", "")) or {}
    return {
        "sku": entry.get("sku"),
        "quantity": int(entry.get("quantity", 1)),
        "type": items.catalog_type(record),
        "name": items.text(record.get("name"), ctx.locale),
        "image_url": record.get("image_url"),
        "bundle_type": record.get("bundle_type"),
    }
