"""What the payment side does to an order: the one entry point for anything that plays it.

    from xsolla_contract.mocks.payments import settle
    result = settle(engine, project_id, order_id, "pay")       # the user paid: the order is paid
    settle(engine, project_id, order_id, "pay", deliver=True)  # paid, then done (as the payment UI does)
    settle(engine, project_id, order_id, "decline")            # the payment failed; the order stays new
    settle(engine, project_id, order_id, "cancel")             # a new order is dropped; a paid one refunded
    settle(engine, project_id, order_id, "refund", code=9)     # a paid order refunded in full (canceled)
    settle(engine, project_id, order_id, "partial_refund", amount="4.99")

The control API (`POST /__mock__/orders/<id>/payment`, and `POST /__mock__/orders/<id>`
with a status), the pytest plugin and the payment page (`/paystation4/`) call this; nothing
else moves an order through a payment. Paying runs the
project's `user_validation` first when it asks for one (the game's server answers within
its timeout; a refusal declines the payment); the status change then queues the webhooks
(`mocks.webhooks`), which a background sender delivers. The result says what happened;
an order that cannot take the action is an `ApiError` in the API's error format.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import notifications
from .context import ApiError
from .rules import orders, prices

if TYPE_CHECKING:
    from .engine import Engine

ACTIONS = ("pay", "decline", "cancel", "refund", "partial_refund")
SETTLED = ("paid", "done")


@dataclass
class Settlement:
    """The outcome of an action on an order."""

    order_id: int
    action: str
    accepted: bool  # False: declined (by the payment system or by the game's user validation)
    status: str  # the order's status afterwards
    message: str
    invoice_id: str | None = None  # the payment's invoice (a declined payment gets one too)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _refuse(message: str) -> ApiError:
    return ApiError(422, 1102, f"[0401-1102]: Unprocessable Entity. {message}")


def _order(engine: Engine, project_id: int, order_id: int) -> dict[str, Any]:
    order = engine.run(project_id, lambda ctx: ctx.get("order", order_id))
    if order is None:
        raise ApiError(404, 9001, "[0401-9001]: Order not found")
    return order


def _move(
    engine: Engine,
    project_id: int,
    order_id: int,
    *statuses: str,
    expect: tuple[str, ...] | None = None,
    **annotate: Any,
) -> dict[str, Any]:
    """Move an order through `statuses` in one transaction; refused when, inside it, the order's
    status is no longer one of `expect` (another request got there first)."""

    def act(ctx: Any) -> dict[str, Any]:
        order = ctx.get("order", order_id)
        if expect is not None and order["status"] not in expect:
            raise _refuse(f"order {order_id} is {order['status']}; only a {' or '.join(expect)} order can take this")
        order.update(annotate)
        for status in statuses:
            order = orders.set_status(ctx, order, status)
        return order

    return engine.run(project_id, act)


def settle(
    engine: Engine,
    project_id: int,
    order_id: int,
    action: str,
    *,
    amount: Any = None,
    code: int | None = None,
    reason: str | None = None,
    author: str | None = None,
    deliver: bool = False,
) -> Settlement:
    """Pay, decline, cancel or refund an order (see the module docstring). `deliver`: a payment
    moves the order on to done in the same step (the service delivers a paid order at once)."""
    if action not in ACTIONS:
        raise _refuse(f"action must be one of {', '.join(ACTIONS)}")
    order = _order(engine, project_id, order_id)
    status = order["status"]
    if action in ("pay", "decline"):
        if status != "new":
            raise _refuse(f"order {order_id} is {status}; only a new order can be paid")
        if action == "decline":
            return _declined(engine, project_id, order_id, action, "the payment was declined; the order stays new")
        webhooks = engine.webhooks
        if webhooks is not None and notifications.paid_with_money(order):
            accepted, why = webhooks.validate_user(project_id, order)
            if not accepted:
                return _declined(
                    engine,
                    project_id,
                    order_id,
                    action,
                    f"the game's server refused the user in user_validation: {why}",
                )
        moved = _move(engine, project_id, order_id, "paid", *(["done"] if deliver else []), expect=("new",))
        return Settlement(order_id, action, True, moved["status"], "paid", moved.get("invoice_id"))
    if action == "cancel" and status == "new":
        moved = _move(engine, project_id, order_id, "canceled", expect=("new",))
        return Settlement(order_id, action, True, moved["status"], "canceled before payment; nothing to refund")
    if status not in SETTLED:
        raise _refuse(f"order {order_id} is {status}; only a paid order can be refunded")
    code = int(code or (10 if action == "partial_refund" else 1))
    allowed = notifications.PARTIAL_REFUND_CODES if action == "partial_refund" else notifications.REFUND_REASONS
    if code not in allowed:
        raise _refuse(f"code must be one of {', '.join(map(str, allowed))}")
    details = notifications.refund_details(code, reason, author)
    if action in ("cancel", "refund"):
        moved = _move(engine, project_id, order_id, "canceled", expect=SETTLED, refund_details=details)
        return Settlement(order_id, action, True, moved["status"], "refunded in full", moved.get("invoice_id"))
    if order.get("mode") != "real":
        raise _refuse(f"order {order_id} was not paid with money; nothing to refund in part")
    total = notifications.totals(order)[0]
    try:
        part = Decimal(str(amount)) if amount is not None else prices.money(total / 2)
    except InvalidOperation:
        raise _refuse(f"amount must be a decimal number, got {amount!r}") from None
    if not Decimal(0) < part < total:
        raise _refuse(f"amount must be more than 0 and less than the order's total {total}")

    def refund_part(ctx: Any) -> None:
        current = ctx.get("order", order_id)
        current["refund_details"] = details
        current.setdefault("partial_refunds", []).append(str(part))
        ctx.put("order", order_id, current)
        if ctx.engine.webhooks is not None:
            ctx.engine.webhooks.partial_refund(ctx, current, part)

    engine.run(project_id, refund_part)
    return Settlement(order_id, action, True, status, f"{part} refunded; the order stays {status}")


def _declined(engine: Engine, project_id: int, order_id: int, action: str, message: str) -> Settlement:
    """A failed payment: the order stays new; the attempt gets an invoice of its own."""
    invoice = engine.run(project_id, lambda ctx: str(ctx.next_id("invoice")))
    return Settlement(order_id, action, False, "new", message, invoice)


def set_status(engine: Engine, project_id: int, order_id: int, status: str) -> dict[str, Any]:
    """Move an order to any status (the control API's order call); a new order's move to
    paid/done is a payment (`settle(..., "pay")`), so user validation and webhooks follow."""
    if status not in orders.STATUSES:
        raise _refuse(f"status must be one of {', '.join(orders.STATUSES)}")
    order = _order(engine, project_id, order_id)
    if status in SETTLED and order["status"] == "new":
        result = settle(engine, project_id, order_id, "pay", deliver=status == "done")
        if not result.accepted:
            raise _refuse(result.message)
        return _order(engine, project_id, order_id)
    return _move(engine, project_id, order_id, status)
