"""Control endpoints of the mock's webhooks and of the payment side (registered by `control.register`).

GET    /__mock__/webhooks                    every delivery attempt (event, body, answer, time, attempt)
                                             and the deliveries still waiting; ?event= ?order_id=
                                             ?project_id= filter, ?settle=true first waits for those due
DELETE /__mock__/webhooks                    forget every delivery
GET    /__mock__/webhooks/settings           a project's webhook settings (?project_id=)
PUT    /__mock__/webhooks/settings           {"url", "secret", "mode", "user_validation", "project_id"}
POST   /__mock__/orders/<id>/payment         {"action": "pay" | "decline" | "cancel" | "refund" |
                                             "partial_refund", "amount", "code", "reason"}
GET    /__mock__/orders/<id>/webhooks/<event>  the body the mock would send about the order (?mode=)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

from . import notifications
from .context import ApiError
from .engine import Engine
from .payments import settle
from .webhooks import MODES, attach


def register(app: Flask, engine: Engine, json_response: Callable[..., Response]) -> None:
    """Add the endpoints; `json_response` is the control API's (which registers this module)."""
    service = attach(engine)

    def fail(status: int, message: str) -> Response:
        return json_response(ApiError(status, 1102, f"[0401-1102]: Unprocessable Entity. {message}").body(), status)

    def project_of(data: Any = None) -> int:
        raw = (data or {}).get("project_id") if isinstance(data, dict) else None
        raw = raw or request.args.get("project_id") or engine.config.project_id
        if isinstance(raw, bool) or not str(raw).isdigit():
            raise ValueError(f"project_id must be a positive integer, got {raw!r}")
        return int(raw)

    @app.get("/__mock__/webhooks")
    def webhook_journal() -> Response:
        """List the webhook deliveries: every attempt with its answer, and those still waiting.

        `webhooks`: one entry per attempt, oldest first: `id` (the delivery), `event`,
        `order_id`, `project_id`, `state`, `body`, `attempt`, `time` (the mock's clock),
        `url`, `signature`, `answer` (`status`, `body`) or `error`, `duration_ms`, `outcome`
        (delivered, refused, retry, given up, dropped), `next_attempt_at`, `violations`
        (of the spec, in the request or the answer). `pending`: the deliveries waiting for
        their time (`due`). Query: `event`, `order_id`, `project_id`; `settle=true` first
        waits (up to 10 s) until every delivery due now was attempted.
        """
        try:
            order_id = request.args.get("order_id")
            order = int(order_id) if order_id else None
            project = int(request.args["project_id"]) if request.args.get("project_id") else None
        except ValueError:
            return fail(422, "order_id and project_id must be integers")
        if request.args.get("settle", "").lower() in ("1", "true", "yes"):
            service.settle()
        return json_response(service.journal(event=request.args.get("event"), order_id=order, project_id=project))

    @app.delete("/__mock__/webhooks")
    def clear_webhooks() -> Response:
        """Forget every webhook delivery, pending ones included."""
        service.clear()
        return Response(status=204)

    @app.get("/__mock__/webhooks/settings")
    def webhook_settings() -> Response:
        """Show a project's webhook settings (the secret only as set or not).

        `source` says whether they are the project's own or the mock's defaults
        (`--webhook-url`, `--webhook-secret`, ...). Query: `project_id`.
        """
        try:
            project = project_of()
        except ValueError as exc:
            return fail(422, str(exc))
        return json_response(service.settings_of(project).view(project))

    @app.put("/__mock__/webhooks/settings")
    def configure_webhooks() -> Response:
        """Set a project's webhook URL, secret, mode (combined/separate) and user validation.

        Body: `url` (http or https; null turns the project's webhooks off), `secret` (kept in
        the mock's memory only), `mode` (`combined`: `order_paid`/`order_canceled` carry the
        payment; `separate`: `payment`/`refund` come first), `user_validation` (true: a
        payment asks the game's server first), `project_id` (default: the mock's). What is
        not sent stays as it was; the answer is the settings as `GET` shows them.
        """
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            return fail(
                422, 'send {"url": ..., "secret": ..., "mode": "combined" | "separate", "user_validation": bool}'
            )
        unknown = set(data) - {"url", "secret", "mode", "user_validation", "project_id"}
        if unknown:
            return fail(422, f"unknown setting(s): {', '.join(sorted(unknown))}")
        try:
            project = project_of(data)
            changes = {k: data[k] for k in ("url", "secret", "mode", "user_validation") if k in data}
            settings = service.configure(project, **changes)
        except ValueError as exc:
            return fail(422, f"{exc} (modes: {', '.join(MODES)})" if "mode" in str(exc) else str(exc))
        return json_response(settings.view(project))

    @app.post("/__mock__/orders/<int:order_id>/payment")
    def order_payment(order_id: int) -> Response:
        """Play the payment side: pay, decline, cancel, refund or partially refund an order.

        Body: `action`: `pay` (a new order; with user validation on, the game's server is
        asked first and may decline it), `decline` (the payment failed; the order stays new),
        `cancel` (a new order is dropped; a paid one refunded), `refund` (a paid order,
        in full), `partial_refund` (part of a paid order's payment: `amount`, default half);
        `code` (refund reason code), `reason`, `project_id`. The answer: `order_id`,
        `action`, `accepted`, `status` (the order's, afterwards), `message`, `invoice_id` (the
        payment's invoice; a declined payment gets one too). The webhooks
        that follow are in `GET /__mock__/webhooks`.
        """
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("action"), str):
            return fail(422, 'send {"action": "pay" | "decline" | "cancel" | "refund" | "partial_refund"}')
        code = data.get("code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            return fail(422, "code must be an integer refund code")
        try:
            result = settle(
                engine,
                project_of(data),
                order_id,
                data["action"],
                amount=data.get("amount"),
                code=code,
                reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
            )
        except ApiError as exc:
            return json_response(exc.body(), exc.status)
        except ValueError as exc:
            return fail(422, str(exc))
        return json_response(result.as_dict())

    @app.get("/__mock__/orders/<int:order_id>/webhooks/<event>")
    def order_webhook(order_id: int, event: str) -> Response:
        """Show the body of a webhook about an order, as the mock would send it now.

        `event`: user_validation, payment, order_paid, order_canceled, refund or
        partial_refund. Query: `mode` (`combined`, default, or `separate`), `project_id`.
        """
        mode = request.args.get("mode", "combined")
        if mode not in MODES:
            return fail(422, f"mode must be one of {', '.join(MODES)}")
        try:
            project = project_of()
        except ValueError as exc:
            return fail(422, str(exc))

        def build(ctx: Any) -> Any:
            order = ctx.get("order", order_id)
            if order is None:
                ctx.fail(404, 9001, "[0401-9001]: Order not found")
            return notifications.build(ctx, event, order, mode == "combined")

        try:
            body = engine.run(project, build)
        except ApiError as exc:
            return json_response(exc.body(), exc.status)
        except ValueError as exc:
            return fail(422, str(exc))
        return json_response(body)
