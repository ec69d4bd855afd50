"""A local stand-in for the payment UI: `GET /paystation4/?token=TOKEN`.

The service opens its payment UI at `https://secure.xsolla.com/paystation4/?token=TOKEN`
(sandbox: `https://sandbox-secure.xsolla.com/paystation4/?token=TOKEN`); the mock serves
the same path, so a frontend switches only the host. The page shows the order the token
belongs to (lines, quantities, prices with their discounts, total, currency) and plays
the payment:

- pay: the order is paid, then done (delivered), as the service moves it; the webhooks
  follow (`order_paid`, or `payment` first with separate notifications), and with user
  validation on the game's server is asked first: a refusal declines the payment;
- decline: the payment fails (invoice status `troubled`); the order stays `new` and can
  be paid later with the same token; no webhook;
- cancel: the order is canceled (a new order: no webhook, nothing was paid).

Every action goes through `mocks.payments.settle`, the one place that plays a payment (the
control API's payment calls use it too).

Afterwards the page follows the redirect settings of the call that created the order
(`settings.return_url`, `settings.redirect_policy`): to the return URL with the
parameters the service adds (`user_id`, `foreigninvoice` when `settings.external_id` was
given, `invoice_id`, `status`), automatically or with a button, or it shows the result.
A canceled payment returns as the service's closed payment UI does: `user_id` and an
empty `invoice_id`. Without a redirect policy, a successful payment returns at once and
every other outcome offers a button back.

A token is valid for `MockConfig.payment_token_ttl` seconds of the mock's clock (24 hours,
as the service's default); an unknown, spent or expired token gets an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import payments
from ..clock import parse_datetime
from ..context import ApiError
from ..engine import Engine
from ..hooks.orders import order_view
from ..rules import items, orders

ACTIONS = ("pay", "decline", "cancel")
DARK_THEME = "63295aab2e47fab76f7708e3"  # the payment UI's dark theme (PaymentUiSettings.theme)
DEFAULT_CAPTION = "Back to the game"
# Schemes a return URL may not use: they would run code or read files in the page's context.
UNSAFE_SCHEMES = ("javascript", "data", "vbscript", "file", "blob")
# What each outcome of the page is, in the redirect policy's terms.
_CONDITIONS = {
    "none": (),
    "vc": (),  # purchases paid in virtual currency never reach the payment UI
    "successful": ("done",),
    "successful_or_canceled": ("done", "canceled"),
    "any": ("done", "canceled", "troubled"),
}


class PageError(Exception):
    """What the page shows instead of an order: an HTTP status, a title and an explanation."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass
class Found:
    """The order a payment token opens, and where it lives."""

    project_id: int
    order: dict[str, Any]

    @property
    def settings(self) -> dict[str, Any]:
        return dict((self.order.get("source") or {}).get("settings") or {})


@dataclass
class Outcome:
    """What happened on the page: the order's status afterwards and the invoice's status."""

    action: str
    status: str  # the transaction status the return URL gets: done, troubled, canceled
    order_status: str
    invoice_id: str | None
    message: str
    params: list[tuple[str, str]] = field(default_factory=list)


# ------------------------------------------------------------------ tokens


def find(engine: Engine, token: str | None) -> Found:
    """The order of a payment token, in any project; a PageError when there is none or it is spent."""
    if not token:
        raise PageError(
            400,
            "No payment token",
            "Open this page as /paystation4/?token=TOKEN, with the token "
            "that a payment call (create-order, admin-create-payment-token, ...) answered.",
        )
    for project in _projects(engine):
        order = engine.run(project, lambda ctx: orders.by_token(ctx, token), write=False)
        if order is not None:
            return Found(project, order)
    raise PageError(
        404,
        "Unknown payment token",
        "No order of this mock has this payment token. Tokens "
        "live as long as the mock's state: a reset or another state forgets them.",
    )


def _projects(engine: Engine) -> list[int]:
    """The projects to look in: the mock's own first, then every other that holds state."""
    default = engine.config.project_id
    return [default, *(p for p in engine.store.projects() if p > 0 and p != default)]


def expired(engine: Engine, found: Found) -> bool:
    """Expired: the order says so, or a new order's token is older than the token lifetime."""
    order = found.order
    if order["status"] == "expired":
        return True
    created = parse_datetime(order.get("created"))
    ttl = timedelta(seconds=engine.config.payment_token_ttl)
    return order["status"] == "new" and created is not None and engine.clock().now() > created + ttl


def payable(engine: Engine, found: Found) -> None:
    """A PageError unless the order can still be paid with its token."""
    status = found.order["status"]
    if expired(engine, found):
        raise PageError(
            410,
            "This payment link has expired",
            f"The payment token of order {found.order['order_id']} is no longer valid. Create a new order to pay.",
        )
    if status == "canceled":
        raise PageError(
            410, "This order was canceled", f"Order {found.order['order_id']} was canceled; it can no longer be paid."
        )


# ------------------------------------------------------------------- views


def order_summary(engine: Engine, found: Found) -> dict[str, Any]:
    """What the page shows of an order: its lines with names and prices, totals, currency."""
    order = found.order
    view = order_view(order)
    content = view["content"]
    total = content.get("price") or content.get("virtual_price")

    def build(ctx: Any) -> dict[str, Any]:
        lines = []
        for line in content["items"]:
            record = items.find(ctx, line["sku"]) or {}
            price = line.get("price")
            quantity = line["quantity"]
            lines.append(
                {
                    "sku": line["sku"],
                    "name": items.text(record.get("name"), "en") or line["sku"],
                    "quantity": quantity,
                    "is_free": line["is_free"],
                    "unit": price["amount"] if price else None,
                    "unit_before": price["amount_without_discount"] if price else None,
                    "discounted": bool(price) and price["amount"] != price["amount_without_discount"],
                    "amount": _times(price["amount"], quantity) if price else None,
                }
            )
        return {
            "order_id": order["order_id"],
            "project_id": found.project_id,
            "user": order.get("user"),
            "status": order["status"],
            "sandbox": bool(order.get("sandbox")),
            "lines": lines,
            "currency": total["currency"] if total else order.get("currency"),
            "total": total["amount"] if total else None,
            "total_before": total["amount_without_discount"] if total else None,
            "discount": _minus(total["amount_without_discount"], total["amount"]) if total else None,
            "invoice_id": order.get("invoice_id"),
        }

    return engine.run(found.project_id, build, write=False)


def _times(amount: str, quantity: int) -> str:
    return str(Decimal(amount) * quantity)


def _minus(a: str, b: str) -> str | None:
    difference = Decimal(a) - Decimal(b)
    return str(difference) if difference > 0 else None


def theme(found: Found) -> str:
    return "dark" if (found.settings.get("ui") or {}).get("theme") == DARK_THEME else "light"


# ----------------------------------------------------------------- actions


def act(engine: Engine, found: Found, action: str) -> Outcome:
    """Play `action` (pay, decline, cancel) on the order of a payment token, through the
    payment side (`payments.settle`) like every other payment: user validation first when
    the project asks for it, then the webhooks."""
    if action not in ACTIONS:
        raise PageError(400, "Unknown action", f"The page knows the actions {', '.join(ACTIONS)}, not {action!r}.")
    order = found.order
    if order["status"] in payments.SETTLED:
        return _already_paid(action, order)
    payable(engine, found)
    try:
        result = payments.settle(engine, found.project_id, order["order_id"], action, deliver=True)
    except ApiError as exc:
        now = find(engine, order["token"]).order  # another submission of the form may have paid it meanwhile
        if now["status"] in payments.SETTLED:
            return _already_paid(action, now)
        raise PageError(exc.status, "The payment could not be completed", exc.message) from None
    if action == "cancel":
        return Outcome(action, "canceled", result.status, None, "The order was canceled.")
    if result.accepted:
        return Outcome(action, "done", result.status, result.invoice_id, "Payment successful.")
    if action == "pay":  # the game's server refused the user (user_validation)
        message = "The payment was declined: the game does not know this player. The order is still open."
    else:
        message = "The payment was declined. The order is still open: you can try again."
    return Outcome(action, "troubled", result.status, result.invoice_id, message)


def _already_paid(action: str, order: dict[str, Any]) -> Outcome:
    return Outcome(action, "done", order["status"], order.get("invoice_id"), "This order is already paid.")


# ----------------------------------------------------------------- returns


@dataclass
class Return:
    """Where the page sends the user after an outcome, and how."""

    url: str | None  # the return URL with the service's parameters; None: no return URL
    automatic: bool
    delay: int
    button: str | None  # the caption of the manual redirect button, when one is shown
    refused: str | None = None  # why a return URL given is not followed


def return_for(found: Found, outcome: Outcome) -> Return:
    """The redirect the order's settings ask for after `outcome`."""
    settings = found.settings
    target = settings.get("return_url")
    if not target:
        return Return(None, False, 0, None)
    scheme = urlsplit(str(target)).scheme.lower()
    if scheme in UNSAFE_SCHEMES:
        return Return(
            None, False, 0, None, f"The return URL uses the {scheme}: scheme, which this page does not follow."
        )
    policy = settings.get("redirect_policy")
    if policy is None:  # without a policy: back at once after a payment, a button otherwise
        automatic, delay, manual, caption = ("done",), 0, _CONDITIONS["any"], DEFAULT_CAPTION
    else:
        automatic = _CONDITIONS.get(policy.get("redirect_conditions") or "none", ())
        delay = max(0, int(policy.get("delay") or 0))
        manual = _CONDITIONS.get(policy.get("status_for_manual_redirection") or "none", ())
        caption = policy.get("redirect_button_caption") or DEFAULT_CAPTION
    url = with_params(str(target), return_params(found, outcome))
    return Return(url, outcome.status in automatic, delay, caption if outcome.status in manual else None)


def return_params(found: Found, outcome: Outcome) -> list[tuple[str, str]]:
    """The parameters the service adds to the return URL."""
    user = str(found.order.get("user") or "")
    if outcome.status == "canceled":  # as a payment UI closed before paying
        return [("user_id", user), ("invoice_id", "")]
    params = [("user_id", user)]
    external = found.settings.get("external_id")
    if external:
        params.append(("foreigninvoice", str(external)))
    return [*params, ("invoice_id", outcome.invoice_id or ""), ("status", outcome.status)]


def with_params(url: str, params: list[tuple[str, str]]) -> str:
    """`url` with `params` added to its query (its own parameters kept, ours replacing same names)."""
    parts = urlsplit(url)
    ours = {name for name, _ in params}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ours] + params
    return urlunsplit(parts._replace(query=urlencode(query)))
