"""Orders: from a cart, from one item, server side, free, or paid in virtual
currency; read by their buyer and searched server side.

An order is a record of kind `order` made with `orders.create`. Its lines
are [{order_item_id, sku, quantity, amount, amount_without_discount, is_free,
bonus: [{order_item_id, sku, quantity}]}] with unit prices as the cart showed
them (bonus items ride on the first line); its source names the promotions
applied, the promo code, the cart and the buyer's email and country. Orders
paid with money start `new` and are delivered on their first move to paid or
done (the control API plays the payment); free orders and virtual-currency
purchases are done at once. Delivery consumes the item limits and counts the
promotions' uses (`orders.fulfil`); here it also counts the use of the promo
code and gives the payment an invoice.

Every purchase checks what the user may buy now (enabled, in its periods,
the per-user and per-item limits leaving the quantity asked).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..auth import Principal
from ..clock import parse_datetime
from ..rules import inventory, items, limits, orders, prices, promotions, visibility
from . import codes
from .cart import (
    INVALID_CART,
    NOT_IN_CART,
    bonus_grants,
    empty,
    in_currency,
    line_problem,
    not_found,
    priced_cart,
    promotion_id,
    sellable,
    target_cart,
)
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx, Reply

INVALID_ITEM = (422, 1411, "[0401-1411]: Invalid item")


# ------------------------------------------------------------------ rules


def purchasable(ctx: Ctx, record: Mapping[str, Any] | None, user: str, quantity: int) -> bool:
    """Enabled, in its periods, and the user's and the item's limits leave `quantity` units."""
    if record is None:
        return False
    state = limits.user_limit_state(ctx, record, user)
    if not visibility.can_buy(ctx, record, user, state):
        return False
    return all(quantity <= part["available"] for part in (state or {}).values() if part)


def orderable_item(ctx: Ctx, sku: str, user: str, quantity: int) -> dict[str, Any]:
    """The item a one-item purchase asks for: unknown 404 (4001), not buyable now 422 (1411)."""
    record = sellable(ctx, sku)
    if record is None:
        ctx.fail(*not_found(sku))
    if record.get("type") in NOT_IN_CART or not purchasable(ctx, record, user, quantity):
        ctx.fail(*INVALID_ITEM)
    return record


def order_line(ctx: Ctx, sku: str, quantity: int, price: Mapping[str, Any] | None, is_free: bool) -> dict[str, Any]:
    return {
        "order_item_id": ctx.next_id("order_item"),
        "sku": sku,
        "quantity": int(quantity),
        "amount": str(price["amount"]) if price else "0",
        "amount_without_discount": str(price["amount_without_discount"]) if price else "0",
        "is_free": is_free,
        "bonus": [],
    }


def attach_bonus(ctx: Ctx, lines: list[dict[str, Any]], grants: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """Bonus items travel with the first line (delivered with it, shown as bonus lines)."""
    lines[0]["bonus"] = [{"order_item_id": ctx.next_id("order_item"), "sku": sku, "quantity": n} for sku, n in grants]
    return lines


def cart_lines(ctx: Ctx, view: Mapping[str, Any], user: str, free: bool) -> list[dict[str, Any]]:
    """Order lines of a priced cart; an invalid cart (1401) unless every line can be bought this way.

    A paid order needs a real-currency price on every line that is not free;
    a free order needs the whole cart to be free.
    """
    lines = view["_lines"]
    payable = (
        view["is_free"]
        if free
        else view["price"] is not None and all(line["price"] or line["is_free"] for line in lines)
    )
    if (
        not lines
        or not payable
        or not all(purchasable(ctx, sellable(ctx, line["sku"]), user, line["quantity"]) for line in lines)
    ):
        ctx.fail(*INVALID_CART)
    out = [order_line(ctx, line["sku"], line["quantity"], line["price"], line["is_free"]) for line in lines]
    return attach_bonus(ctx, out, view["_bonus"])


def place(
    ctx: Ctx,
    lines: list[dict[str, Any]],
    *,
    mode: str,
    user: str,
    source: Mapping[str, Any],
    currency: str | None,
    status: str = "new",
) -> dict[str, Any]:
    """Create the order with the request's options (sandbox, custom parameters, the payment UI's
    settings: return URL, redirect policy, theme, external ID) and the buyer's email."""
    body = ctx.body if isinstance(ctx.body, Mapping) else {}
    source = {
        **source,
        "custom_parameters": body.get("custom_parameters"),
        "email": ctx.principal.email,
        "settings": body.get("settings"),
    }
    return orders.create(
        ctx,
        lines,
        mode=mode,
        user=user,
        source=source,
        status=status,
        currency=currency,
        sandbox=bool(body.get("sandbox")),
    )


def _applied_ids(ctx: Ctx, sku: str, user: str) -> list[int]:
    return [promotion_id(p) for p in prices.discount_percent(ctx, sku, user)[1]]


# ------------------------------------------------------------ cart orders


@hook("create-order", "create-order-by-cart-id", "create-free-order", "create-free-order-by-cart-id")
def order_cart(ctx: Ctx) -> Reply:
    """Order every line of the cart at the prices it shows; the cart is emptied.

    A paid order starts `new` with a payment token; a free cart is done at once.
    """
    free = ctx.op.operation_id.startswith("create-free")
    user = ctx.user_id
    cart = target_cart(ctx, user)
    view = priced_cart(ctx, cart, (ctx.body or {}).get("currency"))
    lines = cart_lines(ctx, view, user, free)
    source = {
        "promotions": view["_promotions"],
        "code": view["_code"],
        "cart_id": cart["cart_id"],
        "country": cart.get("country"),
    }
    order = place(
        ctx,
        lines,
        mode="free" if free else "real",
        user=user,
        source=source,
        currency=(view["price"] or {}).get("currency"),
        status="done" if free else "new",
    )
    empty(ctx, cart)
    return ctx.reply({"order_id": order["order_id"], "token": order["token"]})


@hook("admin-create-payment-token")
def admin_payment_token(ctx: Ctx) -> Reply:
    """Server side: an order of `purchase.items` for the user the body describes, priced as a cart.

    The user's country (or the X-User-Ip header) is required; unknown or
    unbuyable items make an invalid cart (1401), free items are refused (1421).
    """
    person = ctx.body["user"]
    user = (person.get("id") or {}).get("value")
    country = (person.get("country") or {}).get("value")
    if not user:
        ctx.fail(
            422,
            1102,
            "[0401-1102]: Unprocessable Entity. The property `user.id.value` is required",
            [{"property": "body.user.id.value", "message": "'value' is a required property"}],
        )
    if not country and not ctx.headers.get("x-user-ip"):
        ctx.fail(422, 1102, "[0401-1102]: The parameter user.country.value or the header X-User-Ip must be specified")
    ctx.principal = Principal("user", ctx.project_id, user, (person.get("email") or {}).get("value"))
    wanted = [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in ctx.body["purchase"]["items"]]
    for entry in wanted:
        if line_problem(ctx, entry["sku"], False):
            ctx.fail(*INVALID_CART)
        if sellable(ctx, entry["sku"]).get("is_free"):
            ctx.fail(422, 1421, "[0401-1421]: Item is free")
    cart = {
        "cart_id": "",
        "user": user,
        "items": wanted,
        "country": country,
        "currency": (ctx.body.get("settings") or {}).get("currency"),
    }
    view = priced_cart(ctx, cart)
    order = place(
        ctx,
        cart_lines(ctx, view, user, False),
        mode="real",
        user=user,
        source={"promotions": view["_promotions"], "country": country},
        currency=view["price"]["currency"],
    )
    return ctx.reply({"order_id": order["order_id"], "token": order["token"]})


# -------------------------------------------------------- one-item orders


@hook("create-order-with-item")
def order_item(ctx: Ctx) -> Reply:
    """Fast purchase of one paid item (status `new`, payment token), at its price after discounts.

    A promo code sent along is checked (its refusals answer) but never applied.
    """
    user, sku, body = ctx.user_id, ctx.path["item_sku"], ctx.body or {}
    quantity = int(body.get("quantity") or 1)
    record = orderable_item(ctx, sku, user, quantity)
    if body.get("promo_code"):
        codes.usable_code(ctx, body["promo_code"], ("promo_code",), user)
    price = prices.price_view(ctx, in_currency(record, body.get("currency")), user=user)["price"]
    if record.get("is_free") or price is None:
        ctx.fail(*INVALID_ITEM)
    order = place(
        ctx,
        [order_line(ctx, sku, quantity, price, False)],
        mode="real",
        user=user,
        source={"promotions": _applied_ids(ctx, sku, user)},
        currency=price["currency"],
    )
    return ctx.reply({"order_id": order["order_id"], "token": order["token"]})


@hook("create-free-order-with-item")
def order_free_item(ctx: Ctx) -> Reply:
    """Order a free item, done at once; a promo code sent along adds its bonus items."""
    user, sku, body = ctx.user_id, ctx.path["item_sku"], ctx.body or {}
    quantity = int(body.get("quantity") or 1)
    record = orderable_item(ctx, sku, user, quantity)
    if not record.get("is_free"):
        ctx.fail(*INVALID_ITEM)
    lines = [order_line(ctx, sku, quantity, None, True)]
    source: dict[str, Any] = {"promotions": []}
    if body.get("promo_code"):
        _, promo = codes.usable_code(ctx, body["promo_code"], ("promo_code",), user)
        attach_bonus(ctx, lines, bonus_grants(ctx, promo.get("bonus"), {}))
        source = {"promotions": [promotion_id(promo)], "code": body["promo_code"]}
    order = place(ctx, lines, mode="free", user=user, source=source, currency=None, status="done")
    return ctx.reply({"order_id": order["order_id"]})


@hook("create-order-with-item-for-virtual-currency")
def buy_for_virtual_currency(ctx: Ctx) -> Reply:
    """Buy one unit at the item's price in the virtual currency (after discounts), charged now.

    A balance below the price is refused (5006); the order is done at once.
    """
    user, sku, currency_sku = ctx.user_id, ctx.path["item_sku"], ctx.path["virtual_currency_sku"]
    record = orderable_item(ctx, sku, user, 1)
    currency = items.get(ctx, currency_sku)
    if currency is None or currency.get("type") != "virtual_currency":
        ctx.fail(*not_found(currency_sku))
    price = next(
        (p for p in prices.price_view(ctx, record, user=user)["virtual_prices"] if p["sku"] == currency_sku), None
    )
    if price is None:
        ctx.fail(*INVALID_ITEM)
    if not inventory.charge(ctx, currency_sku, price["amount"], user):
        ctx.fail(422, 5006, "[0401-5006]: Not enough virtual currency")
    source = {"promotions": _applied_ids(ctx, sku, user), "platform": ctx.query.get("platform") or "xsolla"}
    order = place(
        ctx,
        [order_line(ctx, sku, 1, price, False)],
        mode="virtual",
        user=user,
        source=source,
        currency=currency_sku,
        status="done",
    )
    return ctx.reply({"order_id": order["order_id"]})


# ---------------------------------------------------------------- reading


def _totals(order: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    """The order total after and before discounts (None when its lines carry no prices)."""
    lines = [line for line in order.get("items") or [] if "amount" in line]
    if not lines:
        return None, None
    return tuple(
        sum((Decimal(line[key]) * int(line.get("quantity", 1)) for line in lines), Decimal(0))
        for key in ("amount", "amount_without_discount")
    )


def _amounts(order: Mapping[str, Any], amount: Any, full: Any) -> dict[str, Any] | None:
    """An amount pair in the order's currency (whole units for virtual currency); None without a currency."""
    if not order.get("currency") or amount is None:
        return None

    def shown(value: Any) -> str:
        return str(int(Decimal(value))) if order["mode"] == "virtual" else str(prices.money(value))

    return {"amount": shown(amount), "amount_without_discount": shown(full), "currency": order["currency"]}


def _bonus(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [b for line in order.get("items") or [] for b in line.get("bonus") or []]


def order_view(order: Mapping[str, Any]) -> dict[str, Any]:
    """An order as its buyer reads it: status, lines with unit prices, the total."""
    lines = []
    every = [(line, False) for line in order.get("items") or []] + [(b, True) for b in _bonus(order)]
    for line, is_bonus in every:
        entry = {
            "sku": line["sku"],
            "quantity": int(line.get("quantity", 1)),
            "is_free": is_bonus or bool(line.get("is_free", order["mode"] == "free")),
        }
        price = _amounts(
            order, "0" if is_bonus else line.get("amount"), "0" if is_bonus else line.get("amount_without_discount")
        )
        lines.append({**entry, "price": price} if price else entry)
    content: dict[str, Any] = {"is_free": order["mode"] == "free", "items": lines}
    total = _amounts(order, *_totals(order))
    if total:
        content["virtual_price" if order["mode"] == "virtual" else "price"] = total
    return {"order_id": order["order_id"], "status": order["status"], "content": content}


@hook("get-order")
def get_order(ctx: Ctx) -> Reply:
    """One of the user's orders (another user's order is not found)."""
    order = ctx.get("order", ctx.path["order_id"])
    if order is None or order.get("user") != ctx.user_id:
        ctx.fail(404, 9001, "[0401-9001]: Order not found")
    return ctx.reply(order_view(order))


def _admin_price(order: Mapping[str, Any], amount: Any, full: Any) -> dict[str, Any] | None:
    price = _amounts(order, amount, full)
    return price and {**price, "is_virtual_currency": order["mode"] == "virtual"}


def _admin_line(ctx: Ctx, order: Mapping[str, Any], line: Mapping[str, Any], is_bonus: bool) -> dict[str, Any]:
    record = items.find(ctx, line["sku"]) or {}
    described = {
        "name": items.text(record.get("name"), "en"),
        "image_url": record.get("image_url"),
        "description": items.text(record.get("description"), "en"),
    }
    out = {
        "order_item_id": line.get("order_item_id"),
        "item_id": record.get("item_id"),
        "sku": line["sku"],
        "type": items.catalog_type(record),
        "quantity": int(line.get("quantity", 1)),
        "is_free": is_bonus or bool(line.get("is_free")),
        "is_bonus": is_bonus,
    }
    out = {k: v for k, v in out.items() if v is not None}
    paid = not is_bonus and not line.get("is_free")
    price = _admin_price(order, line.get("amount"), line.get("amount_without_discount")) if paid else None
    return {**out, "region_id": None, "description": {k: v for k, v in described.items() if v} or None, "price": price}


def admin_order_view(ctx: Ctx, order: Mapping[str, Any]) -> dict[str, Any]:
    """An order as the server-side search shows it: buyer, lines with invoice data, promotions and codes."""
    source = order.get("source") or {}
    code = source.get("code")
    code_promo = (promotions.code_record(ctx, code) or {}).get("promotion_id") if code else None
    buyer = {"id": order["user"], "country": source.get("country"), "email": source.get("email")}
    view = {
        "order_id": order["order_id"],
        "project_id": ctx.project_id,
        "status": order["status"],
        "date_created": order.get("created"),
        "mode": "sandbox" if order.get("sandbox") else "default",
        "is_free": order["mode"] == "free",
        "invoice_id": order.get("invoice_id"),
        "price": None if order["mode"] == "free" else _admin_price(order, *_totals(order)),
        "user": {**{k: v for k, v in buyer.items() if v}, "region_id": None},
        "items": [_admin_line(ctx, order, line, False) for line in order.get("items") or []]
        + [_admin_line(ctx, order, b, True) for b in _bonus(order)],
        "promotions": [{"promotion_id": p} for p in source.get("promotions") or []] or None,
        "coupons": [
            {k: v for k, v in {"coupon_id": code_promo, "code": code, "type": "promocode"}.items() if v is not None}
        ]
        if code
        else None,
    }
    return {k: v for k, v in view.items() if v is not None or k in ("price", "promotions", "coupons")}


@hook("admin-order-search")
def search_orders(ctx: Ctx) -> Reply:
    """The project's orders created in the body's period, oldest first (by creation time, then number),
    `limit` (≤ 10) from `offset`."""
    body = ctx.body or {}
    since = parse_datetime(body.get("created_date_from"))
    until = parse_datetime(body.get("created_date_until"))
    between = None
    if since is not None or until is not None:
        between = (since.timestamp() if since else None, until.timestamp() if until else None)
    offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 10)
    page = ctx.records(orders.ORDERS, "created", offset=offset, limit=limit, between=between)
    total = ctx.count(orders.ORDERS, "created", between)
    return ctx.reply(
        {
            "orders": [admin_order_view(ctx, o) for o in page],
            "has_more": offset + len(page) < total,
            "total_items_count": total,
        }
    )


# --------------------------------------------------------------- delivery


def count_code_use(ctx: Ctx, order: Mapping[str, Any]) -> None:
    """A delivered order uses its promo code once more (the promotion's use is counted by fulfil)."""
    code = (order.get("source") or {}).get("code")
    record = promotions.code_record(ctx, code) if code else None
    if record is not None:
        promotions.use_code(ctx, record)


def issue_invoice(ctx: Ctx, order: dict[str, Any]) -> None:
    """A paid (not free) order gets the ID of its payment transaction."""
    if order.get("mode") != "free":
        order["invoice_id"] = str(ctx.next_id("invoice"))


orders.ON_FULFIL.extend([count_code_use, issue_invoice])
