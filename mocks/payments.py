"""What the payment side does to an order: the one entry point for anything that plays it.

    from xsolla_contract.mocks.payments import settle
    result = settle(engine, project_id, order_id, "pay")       # the user paid
    settle(engine, project_id, order_id, "decline")            # the payment failed; the order stays new
    settle(engine, project_id, order_id, "cancel")             # a new order is dropped; a paid one refunded
    settle(engine, project_id, order_id, "refund", code=9)     # a paid order refunded in full (canceled)
    settle(engine, project_id, order_id, "partial_refund", amount="4.99")

The control API (`POST /__mock__/orders/<id>/payment`, and `POST /__mock__/orders/<id>`
with a status), the pytest plugin and the payment page call this. Paying runs the
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _refuse(message: str) -> ApiError:
    return ApiError(422, 1102, f"[0401-1102]: Unprocessable Entity. {message}")


def _order(engine: Engine, project_id: int, order_id: int) -> dict[str, Any]:
    order = engine.run(project_id, lambda ctx: ctx.get("order", order_id))
    if order is None:
        raise ApiError(404, 9001, "[0401-9001]: Order not found")
    return order


def _move(engine: Engine, project_id: int, order_id: int, status: str, **annotate: Any) -> dict[str, Any]:
    def act(ctx: Any) -> dict[str, Any]:
        order = ctx.get("order", order_id)
        order.update(annotate)
        return orders.set_status(ctx, order, status)

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
) -> Settlement:
    """Pay, decline, cancel or refund an order (see the module docstring)."""
    if action not in ACTIONS:
        raise _refuse(f"action must be one of {', '.join(ACTIONS)}")
    order = _order(engine, project_id, order_id)
    status = order["status"]
    if action in ("pay", "decline"):
        if status != "new":
            raise _refuse(f"order {order_id} is {status}; only a new order can be paid")
        if action == "decline":
            return Settlement(order_id, action, False, status, "the payment was declined; the order stays new")
        webhooks = engine.webhooks
        if webhooks is not None and notifications.paid_with_money(order):
            accepted, why = webhooks.validate_user(project_id, order)
            if not accepted:
                return Settlement(
                    order_id, action, False, status, f"the game's server refused the user in user_validation: {why}"
                )
        moved = _move(engine, project_id, order_id, "paid")
        return Settlement(order_id, action, True, moved["status"], "paid")
    if action == "cancel" and status == "new":
        moved = _move(engine, project_id, order_id, "canceled")
        return Settlement(order_id, action, True, moved["status"], "canceled before payment; nothing to refund")
    if status not in SETTLED:
        raise _refuse(f"order {order_id} is {status}; only a paid order can be refunded")
    code = int(code or (10 if action == "partial_refund" else 1))
    allowed = notifications.PARTIAL_REFUND_CODES if action == "partial_refund" else notifications.REFUND_REASONS
    if code not in allowed:
        raise _refuse(f"code must be one of {', '.join(map(str, allowed))}")
    details = notifications.refund_details(code, reason, author)
    if action in ("cancel", "refund"):
        moved = _move(engine, project_id, order_id, "canceled", refund_details=details)
        return Settlement(order_id, action, True, moved["status"], "refunded in full")
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


def set_status(engine: Engine, project_id: int, order_id: int, status: str) -> dict[str, Any]:
    """Move an order to any status (the control API's order call); a new order's move to
    paid/done is a payment (`settle(..., "pay")`), so user validation and webhooks follow."""
    if status not in orders.STATUSES:
        raise _refuse(f"status must be one of {', '.join(orders.STATUSES)}")
    order = _order(engine, project_id, order_id)
    if status in SETTLED and order["status"] == "new":
        result = settle(engine, project_id, order_id, "pay")
        if not result.accepted:
            raise _refuse(result.message)
        if status == "paid":
            return _order(engine, project_id, order_id)
    return _move(engine, project_id, order_id, status)
