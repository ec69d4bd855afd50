"""The payment page's routes: `GET /paystation4/?token=TOKEN` and the form it posts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from ..engine import Engine
from . import paystation
from .paystation import Found, Outcome, PageError

PATH = "/paystation4/"
# The page runs no script and loads nothing; it may be framed by any game page (an iframe
# integration), and it never sends the token in a Referer to the return URL.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
TITLES = {"done": "Payment successful", "troubled": "Payment declined", "canceled": "Order canceled"}


def register(blueprint: Blueprint, engine: Engine) -> None:
    @blueprint.get(PATH)
    def payment_page() -> Response:
        """The payment page of the order a payment token opens (`?token=TOKEN`), on the payment UI's own path.

        Shows the order's lines, quantities, prices with discounts, total and currency, with
        buttons to pay, decline (the payment fails, the order stays open) and cancel. A paid
        order shows its result; an unknown, canceled or expired token an error page.
        """
        try:
            found = paystation.find(engine, request.args.get("token"))
            if found.order["status"] in ("paid", "done"):
                outcome = Outcome(
                    "pay", "done", found.order["status"], found.order.get("invoice_id"), "This order is paid."
                )
                return _result(engine, found, outcome, follow=False)
            paystation.payable(engine, found)
        except PageError as exc:
            return _error(exc)
        summary = paystation.order_summary(engine, found)
        return _page("paystation/pay.html", 200, found=found, order=summary, theme=paystation.theme(found))

    @blueprint.post(PATH)
    def payment_action() -> Response:
        """Pay, decline or cancel the order of a payment token (the payment page's form: `token`, `action`).

        Pay moves the order to paid, then done; decline leaves it new; cancel cancels it.
        The answer follows the order's redirect settings: a 303 to the return URL with
        `user_id`, `foreigninvoice`, `invoice_id` and `status`, or a result page.
        """
        try:
            found = paystation.find(engine, request.form.get("token") or request.args.get("token"))
            outcome = paystation.act(engine, found, request.form.get("action") or "")
        except PageError as exc:
            return _error(exc)
        return _result(engine, found, outcome)


def _result(engine: Engine, found: Found, outcome: Outcome, follow: bool = True) -> Response:
    """The page after an outcome: a 303 to the return URL when the redirect is automatic and
    immediate (and `follow`), else the result with its redirect (delayed, or a button)."""
    back = paystation.return_for(found, outcome)
    if not follow:  # a paid order opened again: its result, with the way back as a button
        back.automatic, back.button = False, back.button or (paystation.DEFAULT_CAPTION if back.url else None)
    if back.url and back.automatic and back.delay == 0:
        response = redirect(back.url, 303)
        response.headers.update(HEADERS)
        return response
    found = paystation.find(engine, found.order["token"])  # the order as it is now
    return _page(
        "paystation/result.html",
        200,
        found=found,
        outcome=outcome,
        title=TITLES[outcome.status],
        back=back,
        order=paystation.order_summary(engine, found),
        theme=paystation.theme(found),
    )


def _error(exc: PageError) -> Response:
    return _page("paystation/error.html", exc.status, error=exc, theme="light")


def _page(template: str, status: int, **context: Any) -> Response:
    response = Response(render_template(template, page_path=PATH, **context), status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    return response
