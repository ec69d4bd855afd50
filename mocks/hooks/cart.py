"""Carts: the current cart of a user and carts by ID, their lines, the promo
code applied to them, and the cart as its owner sees it (prices after
discounts, bonus items, totals).

A cart is a record of kind `cart` keyed by its ID: {cart_id, user, items:
[{sku, quantity}], promo_code, selected_unit_items, country, currency}. The
current cart of a user is named in kind `user_cart` ({cart_id} keyed by the
user). A cart belongs to the user who first used its ID; another user's calls
on it are refused as an invalid cart (errorCode 1401).

A fill replaces the cart's content with the lines sent; lines that cannot be
added are reported in `warnings`. Guests (AuthForCart guest mode) and
server-side fills naming the user by `x-user-id` may only hold game keys.

A promo code applied to a cart lowers prices (its `discounted_items`, or its
cart-wide `discount` where that is the better one) and adds its bonus items;
it is counted as used only when an order made from the cart is paid (the
order's source names the code and its promotion, see orders.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ..auth import AuthError, Principal, decode_token
from ..clock import iso
from ..context import USER_SUMMARIES, ApiError, index
from ..rules import item_views, items, orders, prices, promotions
from . import codes
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx, Reply

CART, USER_CART = "cart", "user_cart"
NOT_IN_CART = ("unit", "value_point")  # games sell through their keys; value points are earned
INVALID_CART = (422, 1401, "[0401-1401]: Invalid cart")


def not_found(sku: str) -> tuple[int, int, str]:
    return 404, 4001, f"[0401-4001]: Item with sku = '{sku}' not found"


# ------------------------------------------------------------- which cart


def is_guest(user: str) -> bool:
    return user.startswith("guest:")


def _new_cart(cart_id: str, user: str) -> dict[str, Any]:
    return {"cart_id": cart_id, "user": user, "items": []}


def current_cart(ctx: Ctx, user: str) -> dict[str, Any]:
    """The user's current cart; an empty one is opened when there is none."""
    ref = ctx.get(USER_CART, user)
    cart = ctx.get(CART, ref["cart_id"]) if ref else None
    if cart is None:
        cart_id = str(ctx.next_id("cart"))
        while ctx.get(CART, cart_id) is not None:  # an ID a project chose for a cart by ID
            cart_id = str(ctx.next_id("cart"))
        cart = _new_cart(cart_id, user)
        save(ctx, cart)
        ctx.put(USER_CART, user, {"cart_id": cart_id})
    return cart


def target_cart(ctx: Ctx, user: str) -> dict[str, Any]:
    """The cart a call acts on: the path's `cart_id`, the body's `cart.id`, else the current cart.

    An ID nobody used yet opens a new cart of this user; another user's cart is an invalid cart.
    """
    ref = ctx.body.get("cart") if isinstance(ctx.body, Mapping) else None
    cart_id = ctx.path.get("cart_id") or (ref or {}).get("id")
    if cart_id in (None, "current"):
        return current_cart(ctx, user)
    cart = ctx.get(CART, cart_id)
    if cart is None:
        return _new_cart(str(cart_id), user)
    if cart["user"] != user:
        ctx.fail(*INVALID_CART)
    return cart


def save(ctx: Ctx, cart: dict[str, Any]) -> None:
    cart["updated"] = iso(ctx.now)
    ctx.put(CART, cart["cart_id"], cart)


def empty(ctx: Ctx, cart: dict[str, Any]) -> None:
    """Spend a cart on an order: its lines and promo code are gone."""
    cart["items"] = []
    cart.pop("promo_code", None)
    cart.pop("selected_unit_items", None)
    save(ctx, cart)


# ------------------------------------------------------------------ lines


def sellable(ctx: Ctx, sku: str) -> dict[str, Any] | None:
    """The enabled item with this SKU (a game key of an enabled game included), else None."""
    record = items.find(ctx, sku)
    if record is None or not record.get("is_enabled", True):
        return None
    game = record.get("_game_sku") and items.get(ctx, record["_game_sku"])
    return None if game and not game.get("is_enabled", True) else record


def line_problem(ctx: Ctx, sku: str, keys_only: bool) -> tuple[int, int, str] | None:
    """Why an SKU cannot go into the cart ((status, errorCode, message)), None when it can."""
    record = sellable(ctx, sku)
    if record is None:
        return not_found(sku)
    if record.get("type") in NOT_IN_CART:
        return 422, 1421, f"[0401-1421]: Items of type {record['type']} cannot be put into a cart"
    if keys_only and record.get("type") != "game_key":
        return 422, 1421, "[0401-1421]: Only game keys can be bought without a user account"
    return None


def set_line(cart: dict[str, Any], sku: str, quantity: int) -> None:
    """Set the quantity of an SKU (0 takes the line out), keeping the order of the lines."""
    lines = cart["items"]
    at = next((n for n, line in enumerate(lines) if line["sku"] == sku), None)
    if quantity <= 0:
        if at is not None:
            del lines[at]
    elif at is None:
        lines.append({"sku": sku, "quantity": quantity})
    else:
        lines[at]["quantity"] = quantity


def fill(ctx: Ctx, cart: dict[str, Any], lines: Iterable[Mapping[str, Any]], keys_only: bool) -> list[dict[str, Any]]:
    """Replace the cart's content with `lines`; answer warnings for the lines left out."""
    cart["items"], warnings = [], []
    for line in lines:
        sku, quantity = line["sku"], int(line["quantity"])
        problem = line_problem(ctx, sku, keys_only)
        if problem:
            warnings.append({"sku": sku, "quantity": quantity, "errorCode": problem[1], "errorMessage": problem[2]})
        else:
            set_line(cart, sku, quantity)
    return warnings


# --------------------------------------------------------------- promo code


def applied_code(ctx: Ctx, cart: Mapping[str, Any]) -> dict[str, Any] | None:
    """The promotion of the cart's promo code while the cart's owner may still use it."""
    if not cart.get("promo_code"):
        return None
    try:
        return codes.usable_code(ctx, cart["promo_code"], ("promo_code",), cart["user"])[1]
    except ApiError:
        return None


def bonus_grants(
    ctx: Ctx, entries: Iterable[Mapping[str, Any]] | None, selected: Mapping[str, str], strict: bool = False
) -> list[tuple[str, int]]:
    """(SKU, quantity) of bonus entries; a game gives the key the user selected (or its only key).

    With `strict`, a game whose key is not chosen is refused (1102), else it is left out.
    """
    out = []
    for entry in entries or []:
        sku = entry.get("sku")  # the reference leaves a bonus entry's SKU optional: one without gives nothing
        record = items.find(ctx, sku) if sku else None
        if record is None:
            continue
        if record.get("type") == "unit":
            keys = [u["sku"] for u in record.get("unit_items") or []]
            sku = selected.get(sku) or (keys[0] if len(keys) == 1 else None)
            if sku not in keys:
                if strict:
                    ctx.fail(
                        422,
                        1102,
                        f"[0401-1102]: Unprocessable Entity. Select a unit item of "
                        f"{entry['sku']!r} in `selected_unit_items`",
                        [{"property": "body.selected_unit_items", "message": f"one of {keys}"}],
                    )
                continue
        out.append((sku, int(entry.get("quantity", 1))))
    return out


# ------------------------------------------------------------- the view


def in_currency(record: Mapping[str, Any], currency: str | None) -> Mapping[str, Any]:
    """The item with only its prices in `currency` when it has any (else as it is)."""
    priced = [p for p in record.get("prices") or [] if currency and p.get("currency") == currency]
    return {**record, "prices": priced} if priced else record


def promotion_entry(
    ctx: Ctx, promo: Mapping[str, Any], percent: Decimal | None, bonus: Iterable[tuple[str, int]] = ()
) -> dict[str, Any]:
    """A promotion as carts list it (CatalogItemPromotion)."""
    return {
        "name": items.text(promo.get("name"), ctx.locale),
        "date_start": promo.get("date_start"),
        "date_end": promo.get("date_end"),
        "discount": None if percent is None else {"percent": f"{percent:.2f}", "value": None},
        "bonus": [
            {k: v for k, v in prices.bonus_view(ctx, {"sku": sku, "quantity": n}).items() if v is not None}
            for sku, n in bonus
        ],
    }


def promotion_id(promo: Mapping[str, Any]) -> int:
    return promo.get("promotion_id") or promo.get("id")


def _cart_discount(ctx: Ctx, view: dict[str, Any], percent: Decimal, code_promo: Mapping[str, Any]) -> None:
    """Price a line with the promo code's cart-wide percentage instead of its own discount."""
    price = view.get("price")
    if price:
        price["amount"] = str(prices.discounted(Decimal(price["amount_without_discount"]), percent))
    for vp in view.get("virtual_prices") or []:
        full = Decimal(vp["amount_without_discount"])
        vp["amount"] = int((full * (100 - percent) / 100).to_integral_value(ROUND_HALF_UP))
    view["promotions"] = [promotion_entry(ctx, code_promo, percent)] + [
        p for p in view.get("promotions") or [] if not p.get("discount")
    ]


def _line(
    ctx: Ctx,
    record: Mapping[str, Any],
    quantity: int,
    cart: Mapping[str, Any],
    currency: str | None,
    code_promo: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
    """A cart line as the owner sees it, and the discount promotions behind its price."""
    user, code = cart["user"], cart.get("promo_code") if code_promo else None
    view = item_views.catalog_item_view(
        ctx, in_currency(record, currency), user=user, country=cart.get("country"), promo_code=code
    )
    percent, applied = prices.discount_percent(ctx, record["sku"], user, code)
    cart_percent = Decimal(str(((code_promo or {}).get("discount") or {}).get("percent") or 0))
    if cart_percent > percent:
        _cart_discount(ctx, view, cart_percent, code_promo)
        applied = [code_promo]
    view.update(quantity=quantity, is_bonus=False)
    return view, applied


def _bonus_line(ctx: Ctx, sku: str, quantity: int, user: str) -> dict[str, Any]:
    view = item_views.catalog_item_view(ctx, items.find(ctx, sku), user=user)
    view.update(quantity=quantity, is_bonus=True, is_free=True, price=None, virtual_prices=[], promotions=[])
    return view


def _price_holds(conditions: Iterable[Mapping[str, Any]] | None, amount: Decimal) -> bool:
    """Price conditions of a promotion ({operator, value}) on the cart total."""
    checks = {
        "ge": Decimal.__ge__,
        "gt": Decimal.__gt__,
        "le": Decimal.__le__,
        "lt": Decimal.__lt__,
        "eq": Decimal.__eq__,
        "ne": Decimal.__ne__,
    }
    return all(checks[c["operator"]](amount, Decimal(str(c["value"]))) for c in conditions or [])


def _total(lines: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The cart total after and before discounts (lines with a real-currency price)."""
    priced = [line for line in lines if line.get("price")]
    if not priced:
        return None
    amount = sum(Decimal(line["price"]["amount"]) * line["quantity"] for line in priced)
    full = sum(Decimal(line["price"]["amount_without_discount"]) * line["quantity"] for line in priced)
    return {
        "amount": str(prices.money(amount)),
        "amount_without_discount": str(prices.money(full)),
        "currency": priced[0]["price"]["currency"],
    }


def priced_cart(ctx: Ctx, cart: Mapping[str, Any], currency: str | None = None) -> dict[str, Any]:
    """The cart as its owner sees it now (the Cart schema).

    Lines priced after the active discounts and the promo code; bonus lines
    from the active bonus promotions the cart triggers (their condition items
    are in it, their price conditions hold) and from the promo code; the
    cart-wide promotions and the totals. Private keys carry what an order of
    the cart needs: `_lines`, `_bonus` ([(sku, quantity)]), `_promotions`
    (ids of the promotions applied) and `_code`.
    """
    user, currency = cart["user"], currency or cart.get("currency")
    code_promo = applied_code(ctx, cart)
    lines, applied = [], {}
    for entry in cart["items"]:
        record = items.find(ctx, entry["sku"])
        if record is not None:
            view, promos = _line(ctx, record, entry["quantity"], cart, currency, code_promo)
            lines.append(view)
            applied.update((promotion_id(p), p) for p in promos)
    total = _total(lines)
    skus = {line["sku"] for line in lines}
    shown, bonus = [], []
    for promo in promotions.active_bonuses(ctx, user) if lines else []:
        condition = [c.get("sku") for c in promo.get("condition") or []]
        if (not condition or skus & set(condition)) and _price_holds(
            promo.get("price_conditions"), Decimal(total["amount"]) if total else Decimal(0)
        ):
            grants = bonus_grants(ctx, promo.get("bonus"), {})
            shown.append(promotion_entry(ctx, promo, None, grants))
            bonus += grants
            applied[promotion_id(promo)] = promo
    if code_promo:
        grants = bonus_grants(ctx, code_promo.get("bonus"), cart.get("selected_unit_items") or {})
        percent = (code_promo.get("discount") or {}).get("percent")
        percent = Decimal(str(percent)) if percent else None
        shown.append(promotion_entry(ctx, code_promo, percent, grants))
        bonus += grants
        applied[promotion_id(code_promo)] = code_promo
    is_free = bool(lines) and all(line["is_free"] for line in lines)
    view = {
        "cart_id": cart["cart_id"],
        "price": total,
        "is_free": is_free,
        "items": lines + [_bonus_line(ctx, sku, n, user) for sku, n in bonus],
        "promotions": shown,
        "_lines": lines,
        "_bonus": bonus,
        "_promotions": list(applied),
        "_code": cart.get("promo_code") if code_promo else None,
    }
    if code_promo:
        view["rewards"] = codes.rewards(ctx, "promo_code", code_promo)
    return view


# ------------------------------------------------------------ server side


def act_for_user(ctx: Ctx) -> tuple[str, bool]:
    """Server-side cart calls act for the user the headers name: (user, game keys only).

    `x-user-for` carries the user's JWT or the payment token of one of the
    user's orders; `x-user-id` names the user directly (game keys only). The
    request then runs as that user (personal promotions, limits).
    """
    token, user_id = ctx.headers.get("x-user-for"), ctx.headers.get("x-user-id")
    if token:
        try:
            claims = decode_token(token, secret=ctx.engine.config.jwt_secret)
        except AuthError:
            order = orders.by_token(ctx, token)
            if order is None:
                ctx.fail(401, 1013, "[0401-1013]: Token not found.")
            claims = {"sub": order["user"]}
        attributes = claims.get("attributes") if isinstance(claims.get("attributes"), dict) else {}
        ctx.principal = Principal("user", ctx.project_id, claims["sub"], claims.get("email"), attributes, claims)
        return claims["sub"], False
    if not user_id:
        ctx.fail(
            422,
            1102,
            "[0401-1102]: Unprocessable Entity. Send the header x-user-for or x-user-id",
            [{"property": "header.x-user-for", "message": "x-user-for or x-user-id is required"}],
        )
    ctx.principal = Principal("user", ctx.project_id, user_id)
    return user_id, True


# ------------------------------------------------------------------ calls


@hook("get-user-cart", "get-cart-by-id")
def get_cart(ctx: Ctx) -> Reply:
    """The current cart (opened when there is none) or the cart by ID, priced for the user."""
    return ctx.reply(priced_cart(ctx, target_cart(ctx, ctx.user_id), ctx.query.get("currency")))


@hook("cart-fill", "cart-fill-by-id")
def fill_cart(ctx: Ctx) -> Reply:
    """Replace the cart's content; SKUs that cannot be added come back as warnings."""
    user = ctx.user_id
    cart = target_cart(ctx, user)
    warnings = fill(ctx, cart, ctx.body["items"], is_guest(user))
    save(ctx, cart)
    return ctx.reply({**priced_cart(ctx, cart), "warnings": warnings})


@hook("admin-cart-fill", "admin-fill-cart-by-id")
def admin_fill_cart(ctx: Ctx) -> Reply:
    """Server-side fill for the user the headers name, with the body's country and currency.

    A fill none of whose lines can be added is an invalid cart (1401); nothing changes then.
    """
    user, keys_only = act_for_user(ctx)
    cart = target_cart(ctx, user)
    warnings = fill(ctx, cart, ctx.body["items"], keys_only or is_guest(user))
    if not cart["items"]:
        ctx.fail(*INVALID_CART)
    cart.update({k: ctx.body[k] for k in ("country", "currency") if ctx.body.get(k)})
    save(ctx, cart)
    return ctx.reply({**priced_cart(ctx, cart), "warnings": warnings})


@hook("put-item", "put-item-by-cart-id")
def put_item(ctx: Ctx) -> Reply:
    """Set the quantity of one SKU in the cart (0 takes it out)."""
    user, sku = ctx.user_id, ctx.path["item_sku"]
    cart = target_cart(ctx, user)
    problem = line_problem(ctx, sku, is_guest(user))
    if problem:
        ctx.fail(*problem)
    set_line(cart, sku, int((ctx.body or {}).get("quantity", 1)))
    save(ctx, cart)
    return ctx.reply(None)


@hook("delete-item", "delete-item-by-cart-id")
def delete_item(ctx: Ctx) -> Reply:
    """Take one SKU out of the cart (an SKU unknown to the project: 404)."""
    user, sku = ctx.user_id, ctx.path["item_sku"]
    cart = target_cart(ctx, user)
    if items.find(ctx, sku) is None and all(line["sku"] != sku for line in cart["items"]):
        ctx.fail(*not_found(sku))
    set_line(cart, sku, 0)
    save(ctx, cart)
    return ctx.reply(None)


@hook("cart-clear", "cart-clear-by-id")
def clear_cart(ctx: Ctx) -> Reply:
    cart = target_cart(ctx, ctx.user_id)
    cart["items"] = []
    save(ctx, cart)
    return ctx.reply(None)


@hook("redeem-promo-code")
def redeem_promo_code(ctx: Ctx) -> Reply:
    """Apply a promo code to the cart: checked now, counted when the cart's order is paid."""
    user, code = ctx.user_id, ctx.body["coupon_code"]
    cart = target_cart(ctx, user)
    try:
        _, promo = codes.usable_code(ctx, code, ("promo_code",), user)
    except ApiError as exc:
        if str(exc.status) in ctx.op.responses:
            raise
        ctx.fail(422, exc.code, exc.message)  # this call documents its refusals as 422
    selected = ctx.body.get("selected_unit_items") or {}
    bonus_grants(ctx, promo.get("bonus"), selected, strict=True)
    cart.update(promo_code=code, selected_unit_items=selected)
    save(ctx, cart)
    return ctx.reply(priced_cart(ctx, cart))


@hook("remove-cart-promo-code")
def remove_promo_code(ctx: Ctx) -> Reply:
    """Take the promo code off the cart and answer the cart recalculated without it."""
    cart = target_cart(ctx, ctx.user_id)
    cart.pop("promo_code", None)
    cart.pop("selected_unit_items", None)
    save(ctx, cart)
    return ctx.reply(priced_cart(ctx, cart))


@index(CART, "by_user")
def CARTS(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Carts by their owner."""
    return [(str(record.get("user")), None, "")]


def carts_summary(ctx: Ctx, user: str) -> list[dict[str, Any]]:
    """The user's carts for the control API: lines, promo code, which one is current."""
    current = (ctx.get(USER_CART, user) or {}).get("cart_id")
    return [
        {
            "cart_id": c["cart_id"],
            "current": c["cart_id"] == current,
            "items": c["items"],
            "promo_code": c.get("promo_code"),
        }
        for c in ctx.records(CARTS, user)
    ]


USER_SUMMARIES["carts"] = carts_summary
