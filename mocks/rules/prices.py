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


class Offers:
    """What the active promotions give one user, by item: the best discount (promotions and a
    promo code) and the bonus promotions an item triggers. Built once per request (once for every
    user the same promotions are usable by, without a promo code); an item's discount is worked
    out when asked for."""

    def __init__(
        self,
        discounts: list[dict[str, Any]],
        bonuses: list[dict[str, Any]],
        code_promo: dict[str, Any] | None = None,
    ):
        # sku -> [(percent as stored, the promotions it comes with)], in the order they apply
        self._offered: dict[str, list[tuple[Any, list[dict[str, Any]]]]] = {}
        for promo in discounts:
            percent = (promo.get("discount") or {}).get("percent") or 0
            for sku in dict.fromkeys(i.get("sku") for i in promo.get("items") or []):
                self._offered.setdefault(sku, []).append((percent, [promo]))
        if code_promo:
            applied = [{**code_promo, "_kind": "promo_code"}]
            for entry in code_promo.get("discounted_items") or []:
                percent = (entry.get("discount") or {}).get("percent") or 0
                self._offered.setdefault(entry.get("sku"), []).append((percent, applied))
        self._best: dict[str, tuple[Decimal, list[dict[str, Any]]]] = {}
        self.bonuses: dict[str, list[dict[str, Any]]] = {}
        for promo in bonuses:
            for sku in dict.fromkeys(c.get("sku") for c in promo.get("condition") or []):
                self.bonuses.setdefault(sku, []).append(promo)
        self.skus = {*self._offered, *self.bonuses}  # the items some offer is about

    def discount(self, sku: str) -> tuple[Decimal, list[dict[str, Any]]]:
        """The best discount on an item, and the promotions behind it (the first of equal ones)."""
        found = self._best.get(sku)
        if found is None:
            best, applied = _NONE
            for percent, promos in self._offered.get(sku, ()):
                value = Decimal(str(percent))
                if value > best:
                    best, applied = value, promos
            found = self._best[sku] = (best, applied)
        return found


_NONE: tuple[Decimal, list[dict[str, Any]]] = (Decimal(0), [])


def offers(ctx: Ctx, user: str | None, promo_code: str | None = None) -> Offers:
    """The user's offers for this request (built once per request)."""
    return ctx.memo(("offers", user, promo_code), lambda: _offers(ctx, user, promo_code))


def _offers(ctx: Ctx, user: str | None, promo_code: str | None) -> Offers:
    discounts = promotions.active_discounts(ctx, user)
    code_promo = promotions.promo_code_promotion(ctx, promo_code)
    bonuses = promotions.active_bonuses(ctx, user)
    everyone = promotions.active(ctx)
    if code_promo is not None or discounts is not everyone.discount or bonuses is not everyone.bonus:
        return Offers(discounts, bonuses, code_promo)  # the user's own
    found = everyone.derived.get("offers")
    if found is None:
        found = everyone.derived["offers"] = Offers(discounts, bonuses)
    return found


def discount_percent(ctx: Ctx, sku: str, user: str | None, promo_code: str | None = None) -> tuple[Decimal, list[dict]]:
    """The best discount on an item for this user (promotions and a promo code), and the promotions behind it."""
    percent, applied = offers(ctx, user, promo_code).discount(sku)
    return percent, list(applied)


def price_view(
    ctx: Ctx, record: Mapping[str, Any], *, user: str | None, country: str | None = None, promo_code: str | None = None
) -> dict[str, Any]:
    """`price`, `virtual_prices` and `promotions` of an item as a client sees them."""
    found = offers(ctx, user, promo_code)
    percent, applied = found.discount(record["sku"])
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
        currency = ctx.memo(("item", vp["sku"]), lambda sku=vp["sku"]: items.get(ctx, sku)) or {}
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
    for promo in found.bonuses.get(record["sku"], ()):
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
