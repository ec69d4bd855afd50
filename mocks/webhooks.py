"""Webhooks from the mock: the game's server hears about its orders as a real project would.

    order status change  --(rules.orders.ON_STATUS, same store transaction)-->  outbox record
    background sender    --POST, signed-->  the project's webhook URL  -->  journal the attempt
                         success: done (a separate `payment`/`refund` then queues its
                         `order_paid`/`order_canceled`); final refusal: done; anything else or
                         no answer: the next attempt at a moment of the mock's clock

What is sent when (`spec/webhooks.yaml` describes the bodies, answers and retries):

- an order moves to paid/done (the payment arrives, a free order, a virtual-currency
  purchase, a paid offer-chain step): `order_paid`; with separate notifications an order
  paid with money gets `payment` first and `order_paid` once `payment` succeeded;
- a paid order is canceled (refunded): `order_canceled`; separate: `refund` first;
- a partial refund (`payments.settle(..., "partial_refund")`): `partial_refund`;
- with `user_validation` on, a payment asks the game's server first (`payments.settle`).

The outbox lives in the store (project 0, kind `webhook`), so a delivery exists exactly
when the change that caused it committed, survives restarts with `--state sqlite:`, and
is cleared by a reset. The sender is one thread per mock, started on demand; it sleeps
until the earliest due attempt or until told that something changed (a new delivery, the
clock moved) and never holds the store's lock while it waits for the game's server.
Retries are due on the mock's clock: advancing the clock delivers those that fell due.

Settings come from the mock's config (`--webhook-url`, `--webhook-secret`, `--webhook-mode`,
`XSOLLA_MOCK_WEBHOOK_*`) and may be set per project (control API, fixtures file). Secrets
stay in this process's memory: the store (and so the state export and the SQLite file)
only records whether a project has one.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..toolkit.validation import HttpRequest
from ..toolkit.webhooks import DeliveryPolicy, WebhookValidator, deliver, encode, sign
from . import notifications
from .clock import iso
from .rules import orders

if TYPE_CHECKING:
    from .context import Ctx
    from .engine import Engine

MODES = ("combined", "separate")
OUTBOX = (0, "__mock__", "webhook_outbox")  # {"pending": [[due, id], ...], "ids": [id, ...]}
KIND = "webhook"  # project 0, one record per delivery
SETTINGS = "webhook_settings"  # per project, key "settings"
JOURNAL_LIMIT = 1000  # deliveries kept; the oldest finished ones go first
IDLE_EXIT = 5.0  # seconds the sender thread waits with nothing pending before it ends
POLL = 30.0  # longest sleep while retries are pending (another process may have moved the clock)
_KEEP = object()


@dataclass(frozen=True)
class Settings:
    """Where a project's webhooks go and how."""

    url: str | None
    secret: str | None
    mode: str
    user_validation: bool
    source: str  # "defaults" (the mock's config) or "project"

    def view(self, project_id: int) -> dict[str, Any]:
        return {
            "project_id": project_id,
            "url": self.url,
            "mode": self.mode,
            "user_validation": self.user_validation,
            "secret_set": bool(self.secret),
            "source": self.source,
        }


def check_settings(url: Any = _KEEP, secret: Any = _KEEP, mode: Any = _KEEP, user_validation: Any = _KEEP) -> None:
    """Raise ValueError naming the first bad setting."""
    if url is not _KEEP and url is not None:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http(s) URL, got {url!r}")
    if secret is not _KEEP and (not isinstance(secret, str) or not secret):
        raise ValueError("secret must be a non-empty string")
    if mode is not _KEEP and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if user_validation is not _KEEP and not isinstance(user_validation, bool):
        raise ValueError("user_validation must be true or false")


class WebhookService:
    """The mock's webhooks: settings, outbox, background sender and journal (`engine.webhooks`)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.validator = WebhookValidator.bundled()
        self.spec = self.validator.spec
        self._secrets: dict[int, str] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._signals = 0
        self._busy = False
        self._stopped = False
        self._session: Any = None
        engine.clock_listeners.append(lambda _now: self.notify())

    # ------------------------------------------------------------ settings

    def settings(self, tx: Any, project_id: int) -> Settings:
        config = self.engine.config
        record = tx.get(project_id, SETTINGS, "settings")
        if record is None:
            return Settings(
                config.webhook_url,
                config.webhook_secret,
                config.webhook_mode,
                config.webhook_user_validation,
                "defaults",
            )
        secret = self._secrets.get(project_id, config.webhook_secret)
        return Settings(record.get("url"), secret, record["mode"], record["user_validation"], "project")

    def settings_of(self, project_id: int) -> Settings:
        with self.engine.store.transaction(write=False) as tx:
            return self.settings(tx, project_id)

    def configure(
        self, project_id: int, *, url: Any = _KEEP, secret: Any = _KEEP, mode: Any = _KEEP, user_validation: Any = _KEEP
    ) -> Settings:
        """Set a project's webhook settings (what is not given stays as it was)."""
        check_settings(url, secret, mode, user_validation)
        with self.engine.store.transaction() as tx:
            current = self.settings(tx, project_id)
            record = {
                "url": current.url if url is _KEEP else url,
                "mode": current.mode if mode is _KEEP else mode,
                "user_validation": current.user_validation if user_validation is _KEEP else user_validation,
            }
            if secret is not _KEEP:
                self._secrets[project_id] = secret
            record["secret_set"] = bool(secret if secret is not _KEEP else current.secret)
            tx.put(project_id, SETTINGS, "settings", record)
        self.notify()
        return self.settings_of(project_id)

    # ------------------------------------------------------------ outbox

    def on_status(self, ctx: Ctx, order: dict[str, Any], previous: str) -> None:
        """Queue what an order's status change tells the game's server (inside the change's transaction)."""
        if (order.get("source") or {}).get("reward"):
            return  # chain rewards are grants, not purchases
        settled = ("paid", "done")
        status = order["status"]
        if status in settled and previous not in settled:
            order["paid_at"] = iso(ctx.now)
            event, payment_event = "order_paid", "payment"
        elif status == "canceled" and previous in settled:
            order.setdefault("refund_details", notifications.refund_details())
            event, payment_event = "order_canceled", "refund"
        else:
            return
        settings = self.settings(ctx.tx, ctx.project_id)
        if not settings.url:
            return
        combined = settings.mode == "combined"
        body = notifications.build(ctx, event, order, combined)
        if combined or not notifications.paid_with_money(order):
            self.queue(ctx, event, order, body)
        else:
            first = notifications.build(ctx, payment_event, order)
            self.queue(ctx, payment_event, order, first, then={"event": event, "body": _text(body)})

    def partial_refund(self, ctx: Ctx, order: Mapping[str, Any], amount: Decimal) -> None:
        if self.settings(ctx.tx, ctx.project_id).url:
            self.queue(ctx, "partial_refund", order, notifications.partial_refund(ctx, order, amount))

    def queue(
        self,
        ctx: Ctx,
        event: str,
        order: Mapping[str, Any],
        body: Mapping[str, Any] | str,
        then: Mapping[str, Any] | None = None,
    ) -> int:
        """Add a delivery due now to the outbox (in the caller's transaction)."""
        return self._add(ctx.tx, ctx.project_id, event, order["order_id"], _text(body), ctx.now.timestamp(), then)

    def _add(
        self,
        tx: Any,
        project_id: int,
        event: str,
        order_id: int | None,
        body: str,
        due: float,
        then: Mapping[str, Any] | None = None,
        state: str = "pending",
    ) -> int:
        delivery_id = tx.next_id(0, KIND)
        record = {
            "id": delivery_id,
            "uid": uuid.uuid4().hex,
            "project_id": project_id,
            "event": event,
            "order_id": order_id,
            "body": body,
            "state": state,
            "attempts": [],
            "due": due if state == "pending" else None,
            "then": dict(then) if then else None,
        }
        tx.put(0, KIND, str(delivery_id), record)
        outbox = tx.get(*OUTBOX) or {"pending": [], "ids": []}
        if state == "pending":
            outbox["pending"] = sorted([*outbox["pending"], [due, delivery_id]])
        outbox["ids"].append(delivery_id)
        waiting = {i for _, i in outbox["pending"]}
        while len(outbox["ids"]) > JOURNAL_LIMIT and outbox["ids"][0] not in waiting:
            tx.delete(0, KIND, str(outbox["ids"].pop(0)))
        tx.put(*OUTBOX, outbox)
        self.notify()  # the sender reads the outbox once this transaction commits
        return delivery_id

    # ------------------------------------------------------------ the sender

    def notify(self) -> None:
        """Wake the sender (starting it if needed): something was queued, or the clock moved."""
        with self._cond:
            self._signals += 1
            self._cond.notify_all()
            if not self._stopped and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="xsolla-mock-webhooks", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self._busy, seen = True, self._signals
            try:
                record, wait = self._take_due()
            except Exception:  # noqa: BLE001 - the sender must outlive a store that failed once
                record, wait = None, 1.0
            if record is not None:
                self._attempt_safely(record)
                continue
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                if self._signals != seen or self._stopped:
                    continue
                self._cond.wait(IDLE_EXIT if wait is None else min(max(wait, 0.01), POLL))
                if wait is None and self._signals == seen:
                    self._thread = None  # idle: the next notify starts a new sender
                    return

    def _take_due(self) -> tuple[dict[str, Any] | None, float | None]:
        """The earliest delivery due now, taken off the outbox; else seconds until the next one."""
        with self.engine.store.transaction(write=False) as tx:  # most wake-ups find nothing due: read first
            outbox = tx.get(*OUTBOX)
            if not outbox or not outbox["pending"]:
                return None, None
            wait = outbox["pending"][0][0] - self.engine.clock(tx).now().timestamp()
            if wait > 0:
                return None, wait
        with self.engine.store.transaction() as tx:
            outbox = tx.get(*OUTBOX)
            if not outbox or not outbox["pending"]:
                return None, None
            now = self.engine.clock(tx).now().timestamp()
            while outbox["pending"]:
                due, delivery_id = outbox["pending"][0]
                if due > now:
                    break
                outbox["pending"].pop(0)
                tx.put(*OUTBOX, outbox)
                record = tx.get(0, KIND, str(delivery_id))
                if record is not None:
                    return record, None
            return None, (outbox["pending"][0][0] - now) if outbox["pending"] else None

    def _attempt_safely(self, record: dict[str, Any]) -> None:
        """An attempt; a failure of the mock itself is journaled as the attempt's error (and retried)."""
        try:
            self._attempt(record)
        except Exception as exc:  # noqa: BLE001 - the sender must outlive any one bad delivery
            policy = DeliveryPolicy.for_event(record["event"], self.spec)
            try:
                self._record(record, len(record["attempts"]) + 1, {"error": f"mock error: {exc!r}"}, policy)
            except Exception:  # noqa: BLE001 - nothing more to do than drop it
                pass

    def _attempt(self, record: dict[str, Any]) -> None:
        project_id, event = record["project_id"], record["event"]
        settings = self.settings_of(project_id)
        policy = DeliveryPolicy.for_event(event, self.spec)
        body = record["body"].encode()
        number = len(record["attempts"]) + 1
        if not settings.url:
            attempt = {"error": f"webhooks are off for project {project_id}", "outcome": "dropped"}
        elif not settings.secret:
            attempt = {
                "url": settings.url,
                "error": f"no secret for project {project_id} in this process (secrets are never written to the "
                "state): set it again (--webhook-secret, XSOLLA_MOCK_WEBHOOK_SECRET or the control API)",
            }
        else:
            attempt = self._send(settings, event, body)
        self._record(record, number, attempt, policy)

    def _send(self, settings: Settings, event: str, body: bytes) -> dict[str, Any]:
        import requests

        if self._session is None:
            self._session = requests.Session()
        timeout = self.engine.config.webhook_timeout
        answer = deliver(settings.url, body, secret=settings.secret, timeout=timeout, session=self._session)
        return self._exchange(settings, event, body, answer)

    def _exchange(self, settings: Settings, event: str, body: bytes, answer: Any) -> dict[str, Any]:
        signature = sign(body, settings.secret or "")
        request = HttpRequest(
            "POST",
            urlsplit(settings.url or "").path or "/",
            [],
            {"content-type": "application/json", "authorization": signature},
            body,
        )
        result = self.validator.validate(request, answer.as_response(), secret=settings.secret, event=event)
        return {
            "url": settings.url,
            "signature": signature,
            "answer": None
            if answer.status is None
            else {"status": answer.status, "body": answer.body[:2000].decode(errors="replace")},
            "error": answer.error,
            "duration_ms": answer.duration_ms,
            "violations": [str(v) for v in result.violations],
        }

    def _record(self, record: dict[str, Any], number: int, attempt: dict[str, Any], policy: DeliveryPolicy) -> None:
        with self.engine.store.transaction() as tx:
            current = tx.get(0, KIND, str(record["id"]))
            if current is None or current.get("uid") != record["uid"]:
                return  # the state was reset or replaced while the game's server answered
            now = self.engine.clock(tx).now()
            outcome = (
                attempt.pop("outcome", None)
                or {"success": "delivered", "final": "refused", "retry": "retry"}[policy.outcome(_status(attempt))]
            )
            next_at = None
            if outcome == "retry":
                delay = policy.next_delay(number)
                if delay is None:
                    outcome = "given up"
                else:
                    next_at = now.timestamp() + delay
                    outbox = tx.get(*OUTBOX) or {"pending": [], "ids": []}
                    outbox["pending"] = sorted([*outbox["pending"], [next_at, current["id"]]])
                    tx.put(*OUTBOX, outbox)
            current["attempts"].append(
                {
                    "attempt": number,
                    "time": iso(now),
                    **attempt,
                    "outcome": outcome,
                    "next_attempt_at": None if next_at is None else _iso_ts(next_at),
                }
            )
            current["state"] = "pending" if outcome == "retry" else outcome
            current["due"] = next_at
            tx.put(0, KIND, str(current["id"]), current)
            follow = current.get("then")
            if outcome == "delivered" and follow:
                self._add(
                    tx, current["project_id"], follow["event"], current["order_id"], follow["body"], now.timestamp()
                )

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every delivery due now was attempted (False if `timeout` passed first)."""
        deadline = time.monotonic() + timeout
        self.notify()
        while True:
            with self._cond:
                busy = self._busy
            if not busy and not self._due_now():
                return True
            if time.monotonic() > deadline:
                return False
            with self._cond:
                self._cond.wait(0.05)

    def _due_now(self) -> int:
        with self.engine.store.transaction(write=False) as tx:
            outbox = tx.get(*OUTBOX)
            if not outbox or not outbox["pending"]:
                return 0
            now = self.engine.clock(tx).now().timestamp()
            return sum(1 for due, _ in outbox["pending"] if due <= now)

    # ------------------------------------------------------------ user validation (synchronous)

    def validate_user(self, project_id: int, order: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Ask the game's server whether the order's user exists (during a payment, not retried).

        Returns (accepted, why not). Journaled like every delivery.
        """
        settings = self.settings_of(project_id)
        if not settings.url or not settings.user_validation:
            return True, None
        body = encode(self.engine.run(project_id, lambda ctx: notifications.user_validation(ctx, order)))
        policy = DeliveryPolicy.for_event("user_validation", self.spec)
        if not settings.secret:
            attempt: dict[str, Any] = {"url": settings.url, "error": f"no secret for project {project_id}"}
        else:
            answer = deliver(settings.url, body, secret=settings.secret, timeout=self.engine.config.webhook_timeout)
            attempt = self._exchange(settings, "user_validation", body, answer)
        with self.engine.store.transaction() as tx:
            delivery_id = self._add(
                tx, project_id, "user_validation", order["order_id"], body.decode(), 0, None, "sent"
            )
            record = tx.get(0, KIND, str(delivery_id))
        self._record(record, 1, attempt, policy)
        accepted = policy.outcome(_status(attempt)) == "success"
        if accepted:
            return True, None
        answer = attempt.get("answer")
        if answer is None:
            return False, f"no answer ({attempt.get('error')})"
        return False, f"{answer['status']} {answer['body']}".strip()

    # ------------------------------------------------------------ reading

    def journal(
        self, *, event: str | None = None, order_id: int | None = None, project_id: int | None = None
    ) -> dict[str, Any]:
        """Every attempt (oldest first) and the deliveries still waiting, optionally filtered."""
        with self.engine.store.transaction(write=False) as tx:
            outbox = tx.get(*OUTBOX) or {"pending": [], "ids": []}
            records = [tx.get(0, KIND, str(i)) for i in outbox["ids"]]
        records = [
            r
            for r in records
            if r is not None
            and (event is None or r["event"] == event)
            and (order_id is None or r["order_id"] == order_id)
            and (project_id is None or r["project_id"] == project_id)
        ]
        attempts = []
        for r in records:
            for attempt in r["attempts"]:
                attempts.append({**_summary(r), "body": _parsed(r["body"]), **attempt})
        attempts.sort(key=lambda a: (a["time"], a["id"], a["attempt"]))
        pending = [
            {**_summary(r), "attempt": len(r["attempts"]) + 1, "due": _iso_ts(r["due"]), "body": _parsed(r["body"])}
            for r in records
            if r["state"] == "pending"
        ]
        return {"webhooks": attempts, "pending": pending}

    def clear(self) -> None:
        """Forget every delivery, pending ones included."""
        with self.engine.store.transaction() as tx:
            outbox = tx.get(*OUTBOX) or {"ids": []}
            for delivery_id in outbox["ids"]:
                tx.delete(0, KIND, str(delivery_id))
            tx.delete(*OUTBOX)


def _summary(record: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "event", "order_id", "project_id", "state")
    return {k: record[k] for k in keys}


def _status(attempt: Mapping[str, Any]) -> int | None:
    return (attempt.get("answer") or {}).get("status")


def _text(body: Mapping[str, Any] | str) -> str:
    return body if isinstance(body, str) else encode(body).decode()


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def _iso_ts(timestamp: float | None) -> str | None:
    from datetime import UTC, datetime

    return None if timestamp is None else iso(datetime.fromtimestamp(timestamp, UTC))


def configure_from_fixtures(engine: Engine, project_id: int, section: Any) -> Settings:
    """A fixtures file's `webhooks:` section: url, secret (or secret_env: a variable's name), mode,
    user_validation."""
    import os

    if not isinstance(section, Mapping):
        raise ValueError("a mapping of url, secret or secret_env, mode, user_validation")
    unknown = set(section) - {"url", "secret", "secret_env", "mode", "user_validation"}
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    changes = {k: section[k] for k in ("url", "secret", "mode", "user_validation") if k in section}
    if "secret_env" in section:
        name = str(section["secret_env"])
        if not os.environ.get(name):
            raise ValueError(f"secret_env names {name}, which is not set")
        changes["secret"] = os.environ[name]
    return attach(engine).configure(project_id, **changes)


def attach(engine: Engine) -> WebhookService:
    """The engine's webhook service (created once)."""
    if engine.webhooks is None:
        engine.webhooks = WebhookService(engine)
    return engine.webhooks


def _observe(ctx: Ctx, order: dict[str, Any], previous: str) -> None:
    service = ctx.engine.webhooks
    if service is not None:
        service.on_status(ctx, order, previous)


orders.ON_STATUS.append(_observe)
