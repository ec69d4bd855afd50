"""Webhooks: the notifications Xsolla sends to a game's server, checked against the spec.

    from xsolla_contract.toolkit import webhooks

    body, headers = webhooks.signed_request(payload, secret)   # for a test client (Flask, Django, FastAPI)
    webhooks.verify(body, headers["Authorization"], secret)    # the check a handler makes
    result = webhooks.WebhookValidator.bundled().validate(request, response, secret=secret)
    report = webhooks.check_handler("http://127.0.0.1:9100/xsolla/webhook", secret)

The notifications, their bodies, the answers a game's server may give and the retry
policy are described in the companion document `spec/webhooks.yaml` (OpenAPI 3.1
`webhooks`); everything here reads it. `WebhookValidator` checks a notification and
the answer to it with openapi-core's webhook validators (the body's `notification_type`
names the webhook) and, given the secret, the signature. `DeliveryPolicy` says what an
answer means: success, final refusal, or retry (and when). `check_handler` runs a
battery of deliveries against a game's handler and names every case it fails.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import io
import json
import re
import secrets as _random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .spec import BUNDLED_WEBHOOKS, Operation, Spec
from .validation import (
    _UNREADABLE,
    ContractViolation,
    HttpRequest,
    HttpResponse,
    ValidationResult,
    Validator,
    Violation,
    _CoreResponse,
    _unreadable_body,
    as_request,
    as_response,
)

__all__ = [
    "EVENTS",
    "Answer",
    "CaseResult",
    "CheckReport",
    "DeliveryPolicy",
    "WebhookReceiver",
    "WebhookValidator",
    "check_handler",
    "deliver",
    "encode",
    "example_body",
    "send_to",
    "sign",
    "signature",
    "signed_request",
    "verify",
]

EVENTS = ("user_validation", "payment", "order_paid", "order_canceled", "refund", "partial_refund")
SCHEME = "Signature"
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


# ------------------------------------------------------------------ signing


def encode(payload: Any) -> bytes:
    """A notification's body as it is sent: compact JSON in UTF-8 (non-ASCII kept as is)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(body: bytes | str | Mapping[str, Any], secret: str) -> str:
    """The 40 lowercase hex digits of SHA-1(raw body + secret key)."""
    return hashlib.sha1(encode(body) + secret.encode()).hexdigest()  # noqa: S324 - the protocol's choice


def sign(body: bytes | str | Mapping[str, Any], secret: str) -> str:
    """The `Authorization` header value of a notification: `Signature <sha1>`."""
    return f"{SCHEME} {signature(body, secret)}"


def verify(body: bytes | str, authorization: str | None, secret: str) -> bool:
    """Whether an `Authorization` header signs these raw body bytes with this secret."""
    if not authorization:
        return False
    scheme, _, digest = authorization.strip().partition(" ")
    if scheme != SCHEME or not _HEX40.match(digest.strip()):
        return False
    return hmac.compare_digest(digest.strip(), signature(body, secret))


def signed_request(payload: Any, secret: str | None) -> tuple[bytes, dict[str, str]]:
    """The body bytes and headers of a notification, for a test client:

    `client.post("/xsolla/webhook", data=body, headers=headers)` (Flask, Django's `data=`
    with `content_type`, FastAPI/httpx's `content=`). Without a secret, no signature.
    """
    body = encode(payload)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if secret is not None:
        headers["Authorization"] = sign(body, secret)
    return body, headers


def send_to(
    client: Any,
    path: str,
    payload: Any,
    secret: str | None,
    *,
    authorization: str | None = None,
    check: bool = True,
    event: str | None = None,
) -> Any:
    """Deliver a notification to a handler in process, through its framework's test client:
    Flask/werkzeug (`app.test_client()`), FastAPI/Starlette (`TestClient`, httpx) or Django
    (`django.test.Client`). Returns the client's response. With `check`, the answer is
    validated against the spec (a `ContractViolation` names what is wrong).

    `authorization` replaces the signature header (a wrong one, or "" for none).
    """
    body, headers = signed_request(payload, secret)
    if authorization is not None:
        headers.pop("Authorization", None)
        if authorization:
            headers["Authorization"] = authorization
    module = type(client).__module__.split(".")[0]
    if module == "django":
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
        response = client.post(path, data=body, content_type="application/json", **extra)
        status, rheaders, data = response.status_code, dict(response.headers), response.content
    elif hasattr(client, "application") or module in ("werkzeug", "flask"):
        response = client.post(path, data=body, headers=headers)
        status, rheaders, data = response.status_code, dict(response.headers), response.get_data()
    else:  # httpx-based clients (FastAPI/Starlette TestClient, httpx.Client)
        response = client.post(path, content=body, headers=headers)
        status, rheaders, data = response.status_code, dict(response.headers), response.content
    if check:
        validator = WebhookValidator.bundled()
        name = event or WebhookValidator.event_of(HttpRequest("POST", path, [], {}, body))
        op = validator.spec.webhooks.get(name or "")
        if op is not None:
            answer = HttpResponse(status, {k.lower(): v for k, v in rheaders.items()}, data)
            violations = validator.response_violations(op, answer)
            if violations:
                raise ContractViolation(f"{name} -> {status}: the answer breaks the webhooks spec", violations)
    return response


# ------------------------------------------------------------------ the spec


@functools.lru_cache(maxsize=4)
def _bundled_spec(path: str) -> Spec:
    return Spec.from_path(path)


def webhooks_spec(path: str | None = None) -> Spec:
    """The webhooks description (default: the bundled `spec/webhooks.yaml`), loaded once per process."""
    return _bundled_spec(str(path or BUNDLED_WEBHOOKS))


def example_body(event: str, spec: Spec | None = None, example: str | None = None) -> dict[str, Any]:
    """A copy of the spec's example body of a notification (the first, or the one named)."""
    spec = spec or webhooks_spec()
    op = _webhook(spec, event)
    media = (op.request_body or {}).get("content", {}).get("application/json", {})
    if "example" in media:
        return copy.deepcopy(media["example"])
    examples = media.get("examples") or {}
    chosen = examples.get(example) if example else next(iter(examples.values()), None)
    if not chosen:
        raise ValueError(f"the spec has no example body for {event}")
    return copy.deepcopy(chosen["value"])


def _webhook(spec: Spec, event: str) -> Operation:
    try:
        return spec.webhooks[event]
    except KeyError:
        raise ValueError(f"unknown webhook {event!r}; the spec describes {', '.join(spec.webhooks)}") from None


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"PT?(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?", duration)
    if not match or not any(match.groups()):
        raise ValueError(f"not an ISO 8601 duration: {duration!r}")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return float(((d * 24 + h) * 60 + m) * 60 + s)


def _status_matches(status: int, patterns: Iterable[Any]) -> bool:
    for pattern in patterns:
        text = str(pattern).upper()
        if text == str(status) or (text.endswith("XX") and text[0] == str(status)[0]):
            return True
    return False


@dataclass(frozen=True)
class DeliveryPolicy:
    """What an answer to a notification means, from the spec's `x-delivery`."""

    event: str
    success: tuple[int, ...]
    final: tuple[Any, ...]  # statuses (or `4XX`-style ranges) that end the delivery without success
    retried: tuple[Any, ...]  # when given, only these (and no answer) are retried
    intervals: tuple[float, ...]  # seconds before each retry, in order
    timeout: float

    @classmethod
    def from_operation(cls, event: str, op: Operation) -> DeliveryPolicy:
        spec = op.definition.get("x-delivery") or {}
        intervals: list[float] = []
        for step in spec.get("retries") or []:
            intervals += [_seconds(step["every"])] * int(step["times"])
        return cls(
            event,
            tuple(int(s) for s in spec.get("success") or (200, 201, 204)),
            tuple(spec.get("final") or ()),
            tuple(spec.get("retried") or ()),
            tuple(intervals),
            float(spec.get("answer_within_seconds") or 3),
        )

    @classmethod
    def for_event(cls, event: str, spec: Spec | None = None) -> DeliveryPolicy:
        return _policies(spec or webhooks_spec())[event]

    def outcome(self, status: int | None) -> str:
        """`success`, `final` (refused for good) or `retry` for an answer's status (None: no answer)."""
        if status is not None and status in self.success:
            return "success"
        if not self.intervals:
            return "final"  # never retried (user_validation): anything else ends it
        if status is None:
            return "retry"
        if self.retried:
            return "retry" if _status_matches(status, self.retried) else "final"
        return "final" if _status_matches(status, self.final) else "retry"

    def next_delay(self, attempts_made: int) -> float | None:
        """Seconds until the next attempt after `attempts_made` failed ones; None when retries are spent."""
        index = attempts_made - 1
        return self.intervals[index] if 0 <= index < len(self.intervals) else None


@functools.lru_cache(maxsize=4)
def _policies(spec: Spec) -> dict[str, DeliveryPolicy]:
    return {name: DeliveryPolicy.from_operation(name, op) for name, op in spec.webhooks.items()}


# ------------------------------------------------------------------ validation


class _CoreWebhookRequest:
    """An `HttpRequest` as openapi-core reads webhook requests (its `WebhookRequest` protocol)."""

    def __init__(self, name: str, req: HttpRequest | None):
        self.name = name
        self.method = "post"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(req.query if req else []),
            header=Headers(list(req.headers.items()) if req else []),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = req.headers.get("content-type", "") if req else ""
        self.body = req.body if req else None


class WebhookValidator(Validator):
    """Validates notifications and the game's answers against the webhooks description.

    The webhook is the one the body's `notification_type` names (or `event=`). Violations
    are the validation module's `Violation`s; a wrong or missing signature is one too
    when the secret is given.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.base_paths = []
        self.schemes = (spec.document.get("components") or {}).get("securitySchemes") or {}
        self.openapi = OpenAPI.from_dict(dict(spec.document), config=Config(spec_validator_cls=None))

    @classmethod
    def bundled(cls, path: str | None = None) -> WebhookValidator:
        """One validator per description and process (building openapi-core's object costs)."""
        return _validator(str(path or BUNDLED_WEBHOOKS))

    @staticmethod
    def event_of(req: HttpRequest) -> str | None:
        """The webhook a notification's body names (its `notification_type`), if readable."""
        try:
            data = json.loads(req.body or b"")
        except ValueError:
            return None
        kind = data.get("notification_type") if isinstance(data, dict) else None
        return kind if isinstance(kind, str) else None

    def validate_request(self, request: Any, event: str | None = None) -> ValidationResult:  # type: ignore[override]
        req = as_request(request)
        result = ValidationResult(req, None, None)
        name = event or self.event_of(req)
        op = self.spec.webhooks.get(name or "")
        if op is None:
            known = ", ".join(self.spec.webhooks)
            what = f"notification_type {name!r}" if name else "a body without a readable notification_type"
            result.violations.append(
                Violation(
                    "no-operation",
                    "request body /notification_type",
                    f"one of {known}",
                    str(name),
                    f"{what} names no webhook of the spec (known: {known})",
                )
            )
            return result
        result.operation = op
        try:
            for error in self.openapi.iter_webhook_request_errors(_CoreWebhookRequest(op.path, req)):
                result.violations.extend(self._request_violations(op, req, {}, error))
        except _UNREADABLE as exc:
            result.violations.append(_unreadable_body(op, req.content_type, req.body, exc))
        if not any(v.kind == "body" for v in result.violations):
            try:
                result.body = req.json()
            except ValueError:
                result.body = None
        return result

    def response_violations(self, op: Operation, resp: HttpResponse) -> list[Violation]:
        out: list[Violation] = []
        core_request = _CoreWebhookRequest(op.path, None)
        for error in self.openapi.iter_webhook_response_errors(core_request, _CoreResponse(resp)):
            out.extend(self._response_violations(op, resp, error))
        status = str(resp.status)
        documented = op.responses.get(status)
        if not out and status.startswith("2") and documented is not None and not documented.get("content"):
            if resp.body.strip():
                out.append(
                    Violation(
                        "response-body",
                        f"response {status} body",
                        "no content",
                        f"{len(resp.body)} bytes",
                        f"a success is answered without a body (status {status} carried {len(resp.body)} bytes)",
                        op.operation_id,
                    )
                )
        return out

    def validate(  # type: ignore[override]
        self, request: Any, response: Any | None = None, *, secret: str | None = None, event: str | None = None
    ) -> ValidationResult:
        """A notification (and the answer to it, when given); with `secret`, its signature too."""
        result = self.validate_request(request, event)
        req = result.request
        if secret is not None and result.operation is not None:
            given = req.headers.get("authorization")
            if given and not verify(req.body or b"", given, secret):  # a missing one is openapi-core's finding
                result.violations.append(
                    Violation(
                        "security",
                        "request header Authorization",
                        "Signature <SHA-1 of the raw body followed by the secret>",
                        given,
                        "the signature does not match the body and the secret",
                        result.operation.operation_id,
                    )
                )
        if response is not None:
            resp = result.response = as_response(response)
            if result.operation is not None:
                result.violations.extend(self.response_violations(result.operation, resp))
        return result

    validate_response = validate  # type: ignore[assignment]

    def assert_valid(  # type: ignore[override]
        self, request: Any, response: Any | None = None, *, secret: str | None = None, event: str | None = None
    ) -> ValidationResult:
        return self.validate(request, response, secret=secret, event=event).raise_for_violations()


@functools.lru_cache(maxsize=4)
def _validator(path: str) -> WebhookValidator:
    return WebhookValidator(webhooks_spec(path))


# ------------------------------------------------------------------ delivering


@dataclass
class Answer:
    """What the game's server answered to one delivery (status None: no answer)."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    duration_ms: float = 0.0
    error: str | None = None

    def as_response(self) -> HttpResponse | None:
        return None if self.status is None else HttpResponse(self.status, self.headers, self.body)

    def describe(self) -> str:
        if self.status is None:
            return f"no answer ({self.error})"
        text = self.body[:200].decode(errors="replace").strip()
        return f"{self.status}" + (f" {text}" if text else "")


def deliver(
    url: str,
    body: bytes,
    *,
    secret: str | None = None,
    authorization: str | None = None,
    timeout: float = 3.0,
    session: Any = None,
) -> Answer:
    """POST one notification; `authorization` overrides the header the secret would give."""
    import requests

    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "xsolla-contract"}
    value = authorization if authorization is not None else (sign(body, secret) if secret is not None else None)
    if value:
        headers["Authorization"] = value
    started = time.perf_counter()
    try:
        resp = (session or requests).post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        return Answer(None, duration_ms=_ms(started), error=f"no answer within {timeout:g} s")
    except requests.RequestException as exc:
        return Answer(None, duration_ms=_ms(started), error=f"{type(exc).__name__}: {_short_error(exc)}")
    return Answer(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content, _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _short_error(exc: Exception) -> str:
    text = str(exc)
    reason = re.search(r"(Connection refused|Name or service not known|timed out|Failed to establish[^'\")]*)", text)
    return reason.group(1) if reason else text[:200]


# ------------------------------------------------------------------ the check battery


@dataclass
class CaseResult:
    """One case of the battery: what was sent, what came back, what is wrong."""

    name: str
    description: str
    failures: list[str] = field(default_factory=list)
    exchanges: list[tuple[str, Answer]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class CheckReport:
    url: str
    cases: list[CaseResult]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    @property
    def failed(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.ok]

    def text(self) -> str:
        lines = [f"webhooks check {self.url}"]
        for case in self.cases:
            lines.append(f"  {'ok  ' if case.ok else 'FAIL'} {case.name}: {case.description}")
            for event, answer in case.exchanges:
                lines.append(f"         {event} -> {answer.describe()} ({answer.duration_ms:g} ms)")
            lines += [f"         - {f}" for f in case.failures]
        n = len(self.failed)
        lines.append(
            f"{len(self.cases) - n} passed, {n} failed" + (": " + ", ".join(c.name for c in self.failed) if n else "")
        )
        return "\n".join(lines)


class _Battery:
    """Runs the cases against one handler, validating every exchange against the spec."""

    def __init__(self, url: str, secret: str, user: str, timeout: float, validator: WebhookValidator):
        import requests

        self.url, self.secret, self.user, self.timeout = url, secret, user, timeout
        self.validator = validator
        self.session = requests.Session()
        self.run_id = _random.randbelow(10**6)
        self._next = 0

    def fresh_ids(self) -> tuple[int, int]:
        """An order ID and a transaction ID no earlier case (or run) used."""
        self._next += 1
        order_id = 900_000_000 + self.run_id * 100 + self._next
        return order_id, 5_000_000_000 + order_id

    def order_body(self, event: str, order_id: int, invoice: int) -> dict[str, Any]:
        body = example_body(event, self.validator.spec)
        body["order"].update(id=order_id, invoice_id=str(invoice))
        body["user"]["external_id"] = self.user
        billing = body.get("billing")
        if billing:
            billing["transaction"].update(id=invoice, external_id=str(order_id))
            billing["user"]["id"] = self.user
        return body

    def send(
        self,
        case: CaseResult,
        event: str,
        body: bytes,
        *,
        authorization: str | None = None,
        unsigned: bool = False,
    ) -> Answer:
        answer = deliver(
            self.url,
            body,
            secret=None if unsigned else self.secret,
            authorization=authorization,
            timeout=self.timeout,
            session=self.session,
        )
        case.exchanges.append((event, answer))
        if answer.status is None:
            case.failures.append(f"{event}: {answer.error}; answer within {self.timeout:g} s")
            return answer
        if answer.duration_ms > self.timeout * 1000:
            case.failures.append(f"{event}: answered in {answer.duration_ms:g} ms; answer within {self.timeout:g} s")
        op = self.validator.spec.webhooks[event]
        for v in self.validator.response_violations(op, answer.as_response()):
            case.failures.append(f"{event}: the answer breaks the spec: {v.where}: {v.message}")
        return answer

    def expect_success(self, case: CaseResult, event: str, answer: Answer) -> None:
        if (
            answer.status is not None
            and answer.status not in DeliveryPolicy.for_event(event, self.validator.spec).success
        ):
            case.failures.append(f"{event}: expected a success (204, 200 or 201), got {answer.describe()}")

    def expect_refusal(self, case: CaseResult, event: str, answer: Answer, why: str) -> None:
        policy = DeliveryPolicy.for_event(event, self.validator.spec)
        if answer.status is None:
            return
        outcome = policy.outcome(answer.status)
        if outcome == "success":
            case.failures.append(f"{event}: {why} was accepted ({answer.describe()}); it must be refused (400)")
        elif outcome == "retry":
            case.failures.append(
                f"{event}: {why} got {answer.describe()}, which Xsolla retries; refuse it for good (400)"
            )

    def error_code(self, answer: Answer) -> str | None:
        try:
            return json.loads(answer.body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None


def _case(name: str, description: str) -> Callable[[Callable[[_Battery, CaseResult], None]], tuple]:
    def register(fn: Callable[[_Battery, CaseResult], None]) -> tuple:
        return (name, description, fn)

    return register


@_case("order_paid accepted", "a signed order_paid is processed (success)")
def _valid(b: _Battery, case: CaseResult) -> None:
    order_id, invoice = b.fresh_ids()
    answer = b.send(case, "order_paid", encode(b.order_body("order_paid", order_id, invoice)))
    b.expect_success(case, "order_paid", answer)


@_case("wrong signature refused", "an order_paid signed with another secret is refused")
def _wrong_signature(b: _Battery, case: CaseResult) -> None:
    order_id, invoice = b.fresh_ids()
    body = encode(b.order_body("order_paid", order_id, invoice))
    answer = b.send(case, "order_paid", body, authorization=sign(body, b.secret + "-not-it"))
    b.expect_refusal(case, "order_paid", answer, "a wrong signature")


@_case("missing signature refused", "an order_paid without an Authorization header is refused")
def _missing_signature(b: _Battery, case: CaseResult) -> None:
    order_id, invoice = b.fresh_ids()
    answer = b.send(case, "order_paid", encode(b.order_body("order_paid", order_id, invoice)), unsigned=True)
    b.expect_refusal(case, "order_paid", answer, "a missing signature")


@_case("duplicate gets the same answer", "the same order_paid twice: the first answer again (not processed anew)")
def _duplicate(b: _Battery, case: CaseResult) -> None:
    order_id, invoice = b.fresh_ids()
    body = encode(b.order_body("order_paid", order_id, invoice))
    first = b.send(case, "order_paid", body)
    b.expect_success(case, "order_paid", first)
    second = b.send(case, "order_paid", body)
    if (
        first.status is not None
        and second.status is not None
        and (first.status, first.body) != (second.status, second.body)
    ):
        case.failures.append(
            f"order_paid: the repeated delivery got {second.describe()} after {first.describe()}; "
            "a duplicate must get the first answer again and not be processed twice"
        )


@_case("order_canceled after order_paid", "an order paid, then canceled: both processed")
def _cancel_after_paid(b: _Battery, case: CaseResult) -> None:
    order_id, invoice = b.fresh_ids()
    paid = b.send(case, "order_paid", encode(b.order_body("order_paid", order_id, invoice)))
    b.expect_success(case, "order_paid", paid)
    canceled = b.order_body("order_canceled", order_id, invoice)
    canceled["items"] = b.order_body("order_paid", order_id, invoice)["items"]
    answer = b.send(case, "order_canceled", encode(canceled))
    b.expect_success(case, "order_canceled", answer)


@_case("user_validation of a real user", "user_validation for a user the game knows: success")
def _real_user(b: _Battery, case: CaseResult) -> None:
    body = example_body("user_validation", b.validator.spec)
    body["user"]["id"] = b.user
    answer = b.send(case, "user_validation", encode(body))
    b.expect_success(case, "user_validation", answer)


@_case("user_validation of a test user", "user_validation for a test_xsolla user: 400 INVALID_USER")
def _test_user(b: _Battery, case: CaseResult) -> None:
    body = example_body("user_validation", b.validator.spec)
    body["user"]["id"] = f"test_xsolla_{b.run_id}"
    answer = b.send(case, "user_validation", encode(body))
    if answer.status is not None and (answer.status != 400 or b.error_code(answer) != "INVALID_USER"):
        case.failures.append(
            f"user_validation: expected 400 with error.code INVALID_USER for {body['user']['id']}, "
            f"got {answer.describe()}"
        )


@_case("malformed body refused", "a signed body that is not JSON: 400")
def _malformed(b: _Battery, case: CaseResult) -> None:
    order_id, invoice = b.fresh_ids()
    body = encode(b.order_body("order_paid", order_id, invoice))[:-7]  # cut short: not JSON any more
    answer = b.send(case, "order_paid", body)
    if answer.status is not None and answer.status != 400:
        case.failures.append(f"order_paid: expected 400 for a body that is not JSON, got {answer.describe()}")


CASES = [
    _valid,
    _wrong_signature,
    _missing_signature,
    _duplicate,
    _cancel_after_paid,
    _real_user,
    _test_user,
    _malformed,
]


def check_handler(
    url: str,
    secret: str,
    *,
    user: str = "player-1",
    timeout: float | None = None,
    validator: WebhookValidator | None = None,
) -> CheckReport:
    """Run the battery against the game's webhook handler at `url` (which knows `user`)."""
    validator = validator or WebhookValidator.bundled()
    limit = timeout if timeout is not None else DeliveryPolicy.for_event("order_paid", validator.spec).timeout
    battery = _Battery(url, secret, user, limit, validator)
    results = []
    for name, description, run in CASES:
        case = CaseResult(name, description)
        run(battery, case)
        results.append(case)
    return CheckReport(url, results)


# ------------------------------------------------------------------ a receiver for tests


@dataclass
class Received:
    """One notification a `WebhookReceiver` got, and what it answered."""

    event: str | None
    body: bytes
    headers: dict[str, str]
    signature_ok: bool | None
    status: int
    answer: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A game's webhook endpoint on 127.0.0.1:<free port>, for tests.

    Without an app it plays a well-behaved handler: a wrong signature gets 400
    `INVALID_SIGNATURE`, anything else `204` (or the statuses queued with `answer_with`).
    With a WSGI `app` (your Flask/Django handler) it forwards every request there.
    Either way it records what arrived and what was answered (`received`).
    """

    def __init__(self, secret: str | None = None, app: Any = None, path: str = "/xsolla/webhook"):
        import threading

        from .testing import MockServer

        self.secret, self.app, self.path = secret, app, path
        self.received: list[Received] = []
        self._answers: list[tuple[int, Any]] = []
        self._cond = threading.Condition()
        self._server = MockServer(self._wsgi)

    @property
    def url(self) -> str:
        return f"{self._server.url}{self.path}"

    def answer_with(self, *statuses: int | tuple[int, Any]) -> None:
        """Queue the next answers (a status, or a status and a JSON body); afterwards 204 again."""
        self._answers += [s if isinstance(s, tuple) else (s, None) for s in statuses]

    def events(self) -> list[str | None]:
        return [r.event for r in self.received]

    def wait_for(self, count: int = 1, timeout: float = 10.0, event: str | None = None) -> list[Received]:
        """Wait until `count` notifications (of `event`, when given) arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self.received if event is None or r.event == event]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} {event or 'notification'}(s) within {timeout:g} s, got {self.events()}"
                    )
                self._cond.wait(left)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        body = request.get_data(cache=True)
        headers = {k.lower(): v for k, v in request.headers.items()}
        event = WebhookValidator.event_of(HttpRequest("POST", request.path, [], headers, body))
        ok = verify(body, headers.get("authorization"), self.secret) if self.secret is not None else None
        if self.app is not None:
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))  # read again
            captured: dict[str, Any] = {}

            def capture(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured["status"] = int(status.split()[0])
                return start_response(status, response_headers, exc_info)

            chunks = b"".join(self.app(environ, capture))
            self._record(Received(event, body, headers, ok, captured.get("status", 0), chunks))
            return [chunks]
        if self._answers:
            status, data = self._answers.pop(0)
        elif ok is False:
            status, data = 400, {"error": {"code": "INVALID_SIGNATURE", "message": "Invalid signature"}}
        else:
            status, data = 204, None
        payload = b"" if data is None else json.dumps(data).encode()
        response = Response(payload, status=status, content_type="application/json" if payload else None)
        self._record(Received(event, body, headers, ok, status, payload))
        return response(environ, start_response)

    def _record(self, received: Received) -> None:
        with self._cond:
            self.received.append(received)
            self._cond.notify_all()

    def start(self) -> WebhookReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def raise_errors(self) -> None:
        self._server.raise_errors()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
