"""The bodies of the webhooks a real project gets about an order, built from the mock's state.

Each builder takes the order record (`rules.orders.create`) in a `Ctx` and returns the
body `spec/webhooks.yaml` describes for that notification:

    order_paid / order_canceled   items (version 2 of the item format: bonus and bundle
                                  content listed too), order, user, custom parameters,
                                  and in combined mode `billing` (payment or refund data)
                                  for orders paid with money
    payment / refund / partial_refund   settings, purchase, user, transaction, amounts
    user_validation               settings and the paying user

Amounts are those the buyer saw: unit prices times quantities, after discounts. The
transaction ID is the order's invoice ID; `dry_run` marks sandbox orders. Fees are
modelled as 5% for the payment service and none for the payment method.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .clock import iso
from .rules import items as catalog
from .rules import prices
from .rules import promotions as offers

if TYPE_CHECKING:
    from .context import Ctx

ITEM_TYPES = ("virtual_good", "virtual_currency", "game_key", "bundle", "physical_good")
PAYMENT_METHOD = (1380, "Bank card")
SERVICE_FEE = Decimal("0.05")

# Refund codes and the reasons they stand for (`RefundDetails` in the spec).
REFUND_REASONS = {
    1: "Cancellation by the user request / the game request",
    2: "Chargeback",
    3: "Integration error",
    4: "Potential fraud",
    5: "Test payment",
    6: "User invoice expired",
    7: "Fraud notification from the payment system",
    8: "Cancellation by the payment system request",
    9: "Cancellation by the user request",
    10: "Cancellation by the game request",
    11: "Account holder called to report fraud",
    12: "Friendly fraud",
    13: "Duplicate",
}
PARTIAL_REFUND_CODES = (1, 3, 5, 7, 9, 10)


def paid_with_money(order: Mapping[str, Any]) -> bool:
    """Orders paid through the payment UI (not free, not virtual currency): those have a payment."""
    return order.get("mode") == "real"


# ------------------------------------------------------------------ amounts


def _amount(order: Mapping[str, Any], value: Decimal) -> str:
    return str(int(value)) if order.get("mode") == "virtual" else str(prices.money(value))


def _line_totals(line: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    quantity = int(line.get("quantity", 1))
    paid = Decimal(str(line.get("amount") or 0)) * quantity
    full = Decimal(str(line.get("amount_without_discount") or line.get("amount") or 0)) * quantity
    return paid, full


def totals(order: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """The order's total after and before discounts."""
    paid, full = Decimal(0), Decimal(0)
    for line in order.get("items") or []:
        p, f = _line_totals(line)
        paid, full = paid + p, full + f
    return paid, full


def _money(order: Mapping[str, Any], value: Decimal) -> dict[str, Any]:
    return {"currency": order.get("currency"), "amount": float(prices.money(value))}


# ------------------------------------------------------------------ order notifications


def _item_type(record: Mapping[str, Any]) -> str:
    kind = catalog.catalog_type(record) or "virtual_good"
    return kind if kind in ITEM_TYPES else "virtual_good"


def _line_promotions(ctx: Ctx, order: Mapping[str, Any], sku: str, paid: Decimal, full: Decimal) -> list[dict]:
    """The promotions behind a discounted line: the order's promotions that discount this SKU."""
    if paid >= full:
        return []
    ids = [
        pid
        for pid in (order.get("source") or {}).get("promotions") or []
        if any(i.get("sku") == sku for i in (offers.find(ctx, pid) or {}).get("items") or [])
    ]
    return [
        {"amount_without_discount": _amount(order, full), "amount_with_discount": _amount(order, paid), "sequence": pid}
        for pid in ids
    ]


def _extra(sku: str, record: Mapping[str, Any], quantity: int, **flags: bool) -> dict[str, Any]:
    """An item that came with a line at no charge: a bonus, or the content of a bundle."""
    return {
        "sku": sku,
        "type": _item_type(record),
        "quantity": quantity,
        "amount": "0",
        "is_pre_order": bool(record.get("is_pre_order")),
        "promotions": [],
        "custom_attributes": record.get("custom_attributes"),
        "is_free": True,
        "is_bonus": flags.get("is_bonus", False),
        "is_bundle_content": flags.get("is_bundle_content", False),
    }


def items(ctx: Ctx, order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The order's items in the notification format (version 2)."""
    out = []
    for line in order.get("items") or []:
        record = catalog.find(ctx, line["sku"]) or {}
        quantity = int(line.get("quantity", 1))
        paid, full = _line_totals(line)
        out.append(
            {
                "sku": line["sku"],
                "type": _item_type(record),
                "quantity": quantity,
                "amount": _amount(order, paid),
                "is_pre_order": bool(record.get("is_pre_order")),
                "promotions": _line_promotions(ctx, order, line["sku"], paid, full),
                "custom_attributes": record.get("custom_attributes"),
                "is_free": bool(line.get("is_free")) or order.get("mode") == "free",
                "is_bonus": False,
                "is_bundle_content": False,
            }
        )
        for part in record.get("content") or [] if record.get("type") == "bundle" else []:
            part_record = catalog.find(ctx, part["sku"]) or {}
            out.append(
                _extra(part["sku"], part_record, int(part.get("quantity", 1)) * quantity, is_bundle_content=True)
            )
        for bonus in line.get("bonus") or []:
            bonus_record = catalog.find(ctx, bonus["sku"]) or {}
            out.append(_extra(bonus["sku"], bonus_record, int(bonus.get("quantity", 1)), is_bonus=True))
    return out


def _codes(ctx: Ctx, order: Mapping[str, Any]) -> tuple[list[dict], list[dict], list[dict]]:
    """Order-level promotions, coupons and promo codes (a promo code's cart discount counts here)."""
    code = (order.get("source") or {}).get("code")
    record = offers.code_record(ctx, code) if code else None
    if not record or record.get("kind") != "promo_code":
        return [], [], []
    promocodes = [{"code": code, "external_id": str(record.get("external_id"))}]
    paid, full = totals(order)
    promo = ctx.get("promo_code", record.get("external_id")) or {}
    pid = promo.get("promotion_id")
    promotions = (
        [
            {
                "amount_without_discount": _amount(order, full),
                "amount_with_discount": _amount(order, paid),
                "sequence": pid,
            }
        ]
        if pid and paid < full
        else []
    )
    return promotions, [], promocodes


def order_part(ctx: Ctx, order: Mapping[str, Any]) -> dict[str, Any]:
    source = order.get("source") or {}
    promotions, coupons, promocodes = _codes(ctx, order)
    currency_type = {"real": "real", "virtual": "virtual"}.get(order.get("mode"), "unknown")
    return {
        "id": order["order_id"],
        "mode": "sandbox" if order.get("sandbox") else "default",
        "currency_type": currency_type,
        "currency": order.get("currency"),
        "amount": _amount(order, totals(order)[0]),
        "status": order["status"],
        "platform": source.get("platform") or "xsolla",
        "comment": None,
        "invoice_id": order.get("invoice_id"),
        "promotions": promotions,
        "coupons": coupons,
        "promocodes": promocodes,
    }


def _order_notification(ctx: Ctx, event: str, order: Mapping[str, Any]) -> dict[str, Any]:
    source = order.get("source") or {}
    body: dict[str, Any] = {
        "notification_type": event,
        "items": items(ctx, order),
        "order": order_part(ctx, order),
        "user": {"external_id": order["user"], "email": source.get("email")},
    }
    if source.get("custom_parameters") is not None:
        body["custom_parameters"] = source["custom_parameters"]
    return body


def order_paid(ctx: Ctx, order: Mapping[str, Any], combined: bool) -> dict[str, Any]:
    body = _order_notification(ctx, "order_paid", order)
    if combined and paid_with_money(order):
        body["billing"] = payment(ctx, order)
    return body


def order_canceled(ctx: Ctx, order: Mapping[str, Any], combined: bool) -> dict[str, Any]:
    body = _order_notification(ctx, "order_canceled", order)
    if combined and paid_with_money(order):
        body["billing"] = refund(ctx, order)
    return body


# ------------------------------------------------------------------ payment notifications


def _settings(ctx: Ctx) -> dict[str, int]:
    return {"project_id": ctx.project_id, "merchant_id": ctx.engine.config.merchant_id}


def _payer(order: Mapping[str, Any]) -> dict[str, Any]:
    source = order.get("source") or {}
    user = {"id": order["user"], "email": source.get("email"), "country": source.get("country")}
    return {k: v for k, v in user.items() if v}


def _transaction(order: Mapping[str, Any], paid_at: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": int(order.get("invoice_id") or order["order_id"]),
        "external_id": str(order["order_id"]),
    }
    if paid_at:
        out.update(payment_date=paid_at, payment_method=PAYMENT_METHOD[0], payment_method_name=PAYMENT_METHOD[1])
    if order.get("sandbox"):
        out["dry_run"] = 1
    out["agreement"] = 1
    return out


def _purchase(order: Mapping[str, Any]) -> dict[str, Any]:
    lines = [{"sku": line["sku"], "amount": int(line.get("quantity", 1))} for line in order.get("items") or []]
    return {"total": _money(order, totals(order)[0]), "virtual_items": {"items": lines}}


def _with_parameters(body: dict[str, Any], order: Mapping[str, Any]) -> dict[str, Any]:
    parameters = (order.get("source") or {}).get("custom_parameters")
    if parameters is not None:
        body["custom_parameters"] = parameters
    return body


def payment(ctx: Ctx, order: Mapping[str, Any]) -> dict[str, Any]:
    total = totals(order)[0]
    fee = prices.money(total * SERVICE_FEE)
    details = {
        "payment": _money(order, total),
        "payout": _money(order, total - fee),
        "payout_currency_rate": 1,
        "vat": {**_money(order, Decimal(0)), "percent": 0},
        "xsolla_fee": _money(order, fee),
        "payment_method_fee": _money(order, Decimal(0)),
    }
    body = {
        "notification_type": "payment",
        "settings": _settings(ctx),
        "purchase": _purchase(order),
        "user": _payer(order),
        "transaction": _transaction(order, order.get("paid_at") or iso(ctx.now)),
        "payment_details": details,
    }
    return _with_parameters(body, order)


def refund_details(code: int = 1, reason: str | None = None, author: str | None = None) -> dict[str, Any]:
    return {"code": code, "reason": reason or REFUND_REASONS[code], "author": author or "Publisher Account"}


def refund(ctx: Ctx, order: Mapping[str, Any], event: str = "refund", amount: Decimal | None = None) -> dict[str, Any]:
    """The `refund` body (or `partial_refund`, for `amount` of the payment)."""
    details = order.get("refund_details") or refund_details()
    body = {
        "notification_type": event,
        "settings": _settings(ctx),
        "purchase": _purchase(order),
        "user": _payer(order),
        "transaction": _transaction(order, order.get("paid_at")),
        "refund_details": dict(details),
        "payment_details": {"payment": _money(order, totals(order)[0] if amount is None else amount)},
    }
    return _with_parameters(body, order)


def partial_refund(ctx: Ctx, order: Mapping[str, Any], amount: Decimal) -> dict[str, Any]:
    return refund(ctx, order, "partial_refund", amount)


def user_validation(ctx: Ctx, order: Mapping[str, Any]) -> dict[str, Any]:
    return {"notification_type": "user_validation", "settings": _settings(ctx), "user": _payer(order)}


def build(ctx: Ctx, event: str, order: Mapping[str, Any], combined: bool = True) -> dict[str, Any]:
    """Any notification about `order` (for previews and one-off sends)."""
    builders = {
        "order_paid": lambda: order_paid(ctx, order, combined),
        "order_canceled": lambda: order_canceled(ctx, order, combined),
        "payment": lambda: payment(ctx, order),
        "refund": lambda: refund(ctx, order),
        "partial_refund": lambda: partial_refund(ctx, order, totals(order)[0] / 2),
        "user_validation": lambda: user_validation(ctx, order),
    }
    if event not in builders:
        raise ValueError(f"unknown notification {event!r}; one of {', '.join(builders)}")
    return builders[event]()
