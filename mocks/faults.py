"""Fault rules: chosen calls answered with an error, late, or not at all.

A rule names an operation (or none: every operation), optionally a user and a project,
and what happens to a matching call:

- `status`: the call is not processed and is answered with that status, in the API's
  error format. The errorCode and errorMessage are the ones the spec documents for that
  operation and status (the first example of the response, the one of the operation's
  own security scheme when there are several); when the operation documents none, the
  code most operations document for that status; when no operation does (a 503, say),
  errorCode 0 and the status' reason phrase. `errorCode` / `errorMessage` override them.
- `latency_ms`: the answer is delayed by that many milliseconds, or by a random delay
  in `[min, max]`; alone, the call is otherwise served as usual.
- `disconnect`: the connection is dropped without an answer; `true` or `"before"` drops
  it before the call is processed, `"after"` once it was (the change is made, the
  client never hears of it).

`user` matches the user a call is made for (the `sub` of its JWT, `guest:<email>` for a
guest cart call; admin calls have none), `project_id` the project in its path. `times`
limits how often a rule fires (absent: until removed). When several rules match a call,
the newest one fires. Rules live in the mock's process, not in the store: a reset
removes them, an export of the state leaves them out.

The engine asks `FaultBook.fire()` for each call that comes from a client, records in
the journal which rule fired and what it did, and marks an answer a rule produced with
the `x-mock-fault` header (the rule's id). A dropped connection leaves the engine as
`Disconnect`; `ConnectionDropper` (WSGI) closes the client's socket under the server,
or raises `ConnectionResetError` to an in-process caller.
"""

from __future__ import annotations

import difflib
import math
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from jsonschema import Draft202012Validator

from ..toolkit.spec import Operation, Spec
from .context import ApiError

FAULT_HEADER = "x-mock-fault"
MAX_LATENCY_MS = 120_000
MAX_RULES = 1000
DROP_KEY = "xsolla_contract.drop_connection"

_MS = {"type": "number", "minimum": 0, "maximum": MAX_LATENCY_MS}
_RULE = Draft202012Validator(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "operation": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "errorCode": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            "errorMessage": {"type": "string", "minLength": 1, "maxLength": 2000},
            "latency_ms": {"oneOf": [_MS, {"type": "array", "items": _MS, "minItems": 2, "maxItems": 2}]},
            "disconnect": {"enum": [True, False, "before", "after"]},
            "times": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "user": {"type": "string", "minLength": 1, "maxLength": 255},
            "project_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        },
    }
)
_HINTS = {
    "latency_ms": f"latency_ms is milliseconds (0 to {MAX_LATENCY_MS}) or a range [min, max]",
    "disconnect": 'disconnect is true (same as "before"), "before" or "after"',
    "status": "status is an error status, 400 to 599",
}
FIELDS = tuple(_RULE.schema["properties"])


class FaultRuleError(ValueError):
    """A fault rule that cannot be used; `problems` are `{"property", "message"}` details."""

    def __init__(self, problems: list[dict[str, Any]]):
        self.problems = problems
        super().__init__("; ".join(f"{p['property']}: {p['message']}" for p in problems))

    def api_error(self) -> ApiError:
        return ApiError(422, 1102, f"[0401-1102]: Unprocessable Entity. Fault rule refused: {self}", self.problems)


class Disconnect(Exception):
    """The client's connection is to be dropped (raised by the engine once the call is journaled)."""

    def __init__(self, rule_id: int):
        self.rule_id = rule_id
        super().__init__(f"the mock dropped the connection (fault rule {rule_id})")


@dataclass
class Rule:
    """One fault rule and how often it fired."""

    id: int
    operation: str | None = None
    status: int | None = None
    error_code: int | None = None
    error_message: str | None = None
    latency_ms: tuple[float, float] | None = None
    disconnect: str | None = None  # "before" | "after"
    times: int | None = None
    user: str | None = None
    project_id: int | None = None
    created: float = field(default_factory=time.time)
    fired: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(self.times - self.fired, 0)

    @property
    def active(self) -> bool:
        return self.times is None or self.fired < self.times

    def matches(self, operation_id: str, project_id: int | None, user: Callable[[], str | None]) -> bool:
        return (
            self.active
            and (self.operation is None or self.operation == operation_id)
            and (self.project_id is None or self.project_id == project_id)
            and (self.user is None or self.user == user())
        )

    def delay_ms(self) -> float:
        if self.latency_ms is None:
            return 0.0
        low, high = self.latency_ms
        return low if low == high else random.uniform(low, high)


@dataclass
class Firing:
    """A rule firing on one call: what the engine does with it."""

    rule: Rule
    delay_ms: float

    @property
    def answers(self) -> bool:
        """The rule, not the operation, makes the answer (an error status, or nothing before processing)."""
        return self.rule.status is not None or self.rule.disconnect == "before"

    def wait(self) -> None:
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)

    def journal(self, processed_status: int | None = None) -> dict[str, Any]:
        """What the journal says of it: the rule, the delay, the status it gave or the connection it dropped."""
        record: dict[str, Any] = {
            "rule": self.rule.id,
            "latency_ms": round(self.delay_ms, 1) if self.rule.latency_ms else None,
            "status": self.rule.status,
            "disconnect": self.rule.disconnect,
        }
        if self.rule.disconnect == "after":
            record["dropped_status"] = processed_status  # processed, but the client never got it
        return record


class FaultBook:
    """The fault rules of one mock (thread-safe)."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self._rules: list[Rule] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._spec_errors: dict[int, tuple[int, str] | None] = {}

    def __bool__(self) -> bool:
        """True while a rule can still fire (the engine's fast path skips the book otherwise)."""
        return any(rule.active for rule in self._rules)

    # ---------------------------------------------------------------- rules

    def add(self, data: Any) -> Rule:
        """A new rule from its JSON form (raises FaultRuleError naming every problem)."""
        rule = self.parse(data)
        with self._lock:
            if len(self._rules) >= MAX_RULES:
                raise FaultRuleError(
                    [
                        {
                            "property": "body",
                            "message": f"at most {MAX_RULES} rules; DELETE /__mock__/faults removes them",
                        }
                    ]
                )
            rule.id, self._next_id = self._next_id, self._next_id + 1
            self._rules.append(rule)
        return rule

    def parse(self, data: Any) -> Rule:
        """The rule `data` (its JSON form) describes, checked; FaultRuleError names every problem."""
        problems = [
            {
                "property": ".".join(["body", *map(str, error.absolute_path)]),
                "message": error.message
                + (f" ({_HINTS[error.path[0]]})" if error.path and error.path[0] in _HINTS else ""),
            }
            for error in _RULE.iter_errors(data)
        ]
        if problems:
            raise FaultRuleError(problems)
        operation = data.get("operation")
        if operation is not None and operation not in self.spec.operations:
            near = difflib.get_close_matches(operation, list(self.spec.operations), n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(near)}?" if near else ""
            problems.append(
                {"property": "body.operation", "message": f"unknown operation {operation!r}.{hint}", "nearest": near}
            )
        disconnect = data.get("disconnect")
        disconnect = "before" if disconnect is True else disconnect or None
        latency = data.get("latency_ms")
        if not all(math.isfinite(v) for v in (latency if isinstance(latency, list) else [latency or 0])):
            raise FaultRuleError(
                [{"property": "body.latency_ms", "message": f"{latency}: not a number of milliseconds"}]
            )
        if isinstance(latency, list):
            if latency[0] > latency[1]:
                problems.append({"property": "body.latency_ms", "message": f"{latency}: min is above max"})
            latency = (latency[0], latency[1])
        elif latency is not None:
            latency = (latency, latency)
        status = data.get("status")
        if status is None and not (latency and latency[1] > 0) and disconnect is None:
            problems.append(
                {"property": "body", "message": "say what happens: status, latency_ms (above 0) or disconnect"}
            )
        if status is not None and disconnect:
            problems.append({"property": "body.disconnect", "message": "a dropped connection has no status"})
        for name in ("errorCode", "errorMessage"):
            if name in data and status is None:
                problems.append({"property": f"body.{name}", "message": f"{name} needs a status"})
        if problems:
            raise FaultRuleError(problems)
        number = {k: None if data.get(k) is None else int(data[k]) for k in ("errorCode", "times", "project_id")}
        return Rule(
            id=0,
            operation=operation,
            status=None if status is None else int(status),  # JSON Schema's integers include 503.0
            error_code=number["errorCode"],
            error_message=data.get("errorMessage"),
            latency_ms=latency,
            disconnect=disconnect,
            times=number["times"],
            user=data.get("user"),
            project_id=number["project_id"],
        )

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def get(self, rule_id: int) -> Rule | None:
        with self._lock:
            return next((r for r in self._rules if r.id == rule_id), None)

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            removed, self._rules = len(kept) != len(self._rules), kept
            return removed

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    # --------------------------------------------------------------- firing

    def fire(self, op: Operation, path_params: Mapping[str, str], user: Callable[[], str | None]) -> Firing | None:
        """The newest rule that matches this call, counted as fired; None when none does."""
        project_id = path_project(path_params)
        known: list[str | None] = []

        def user_once() -> str | None:  # authenticates only when a rule names a user, and once
            if not known:
                known.append(user())
            return known[0]

        with self._lock:
            for rule in reversed(self._rules):
                if rule.matches(op.operation_id, project_id, user_once):
                    rule.fired += 1
                    return Firing(rule, rule.delay_ms())
        return None

    def error(self, op: Operation, rule: Rule) -> ApiError:
        """The answer of a status rule for this operation, in the API's error format."""
        assert rule.status is not None
        code, message, _source = self.documented_error(op, rule.status)
        return ApiError(
            rule.status,
            code if rule.error_code is None else rule.error_code,
            message if rule.error_message is None else rule.error_message,
        )

    # ------------------------------------------------------ documented errors

    def documented_error(self, op: Operation, status: int) -> tuple[int, str, str]:
        """(errorCode, errorMessage, where they come from) for `status` answered by `op`."""
        own = _examples(op, status)
        if own:
            # several examples (401: basic, jwt, ...): the one named after the operation's own scheme
            words = self._scheme_words(op)
            name, body = max(own, key=lambda ex: ex[0].lower() in words)
            return body["errorCode"], body["errorMessage"], f"documented by {op.operation_id} for {status}"
        spec_wide = self._spec_error(status)
        if spec_wide is not None:
            code, message = spec_wide
            return (
                code,
                message,
                f"{op.operation_id} documents no {status}; errorCode {code} is what the spec documents for {status}",
            )
        phrase = _phrase(status)
        return 0, f"[0401-0000]: {phrase}", f"the spec documents no {status} answer; errorCode 0 and the reason phrase"

    def _scheme_words(self, op: Operation) -> set[str]:
        """Names of the first security alternative's schemes, their HTTP schemes and bearer formats."""
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        words: set[str] = set()
        for name in op.security[0] if op.security else ():
            scheme = schemes.get(name) or {}
            words |= {name.lower(), str(scheme.get("scheme", "")).lower(), str(scheme.get("bearerFormat", "")).lower()}
        return words

    def _spec_error(self, status: int) -> tuple[int, str] | None:
        if status not in self._spec_errors:
            counts: Counter[tuple[int, str]] = Counter()
            for op in self.spec.operations.values():
                for _name, body in _examples(op, status)[:1]:
                    counts[(body["errorCode"], body["errorMessage"])] += 1
            self._spec_errors[status] = counts.most_common(1)[0][0] if counts else None
        return self._spec_errors[status]

    def describe(self, rule: Rule) -> dict[str, Any]:
        """A rule's JSON form: what it matches, what it does, how often it fired."""
        out: dict[str, Any] = {
            "id": rule.id,
            "operation": rule.operation,
            "user": rule.user,
            "project_id": rule.project_id,
            "status": rule.status,
            "latency_ms": None
            if rule.latency_ms is None
            else rule.latency_ms[0]
            if rule.latency_ms[0] == rule.latency_ms[1]
            else list(rule.latency_ms),
            "disconnect": rule.disconnect,
            "times": rule.times,
            "fired": rule.fired,
            "remaining": rule.remaining,
            "active": rule.active,
        }
        if rule.status is not None:
            if rule.operation is not None:
                code, message, source = self.documented_error(self.spec.operations[rule.operation], rule.status)
            else:
                code, message = None, None
                source = f"each operation's documented errorCode for {rule.status} (0 where the spec has none)"
            if rule.error_code is not None or rule.error_message is not None:
                source = "given by the rule" + (
                    "" if rule.error_code is not None and rule.error_message else f"; {source}"
                )
            out["errorCode"] = code if rule.error_code is None else rule.error_code
            out["errorMessage"] = message if rule.error_message is None else rule.error_message
            out["error_source"] = source
        return out


def path_project(path_params: Mapping[str, str]) -> int | None:
    """The project id in a request's path, when it is one."""
    raw = path_params.get("project_id") or ""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _examples(op: Operation, status: int) -> list[tuple[str, dict[str, Any]]]:
    """The error bodies the spec gives as examples of `op` answering `status`, by example name."""
    response = op.responses.get(str(status)) or {}
    media = (response.get("content") or {}).get("application/json") or {}
    found: list[tuple[str, Any]] = []
    if "example" in media:
        found.append(("example", media["example"]))
    for name, example in (media.get("examples") or {}).items():
        found.append((name, (example or {}).get("value")))
    return [
        (name, body)
        for name, body in found
        if isinstance(body, dict)
        and isinstance(body.get("errorCode"), int)
        and isinstance(body.get("errorMessage"), str)
    ]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def parse_latency(text: str) -> tuple[int, int]:
    """`"300"` -> (300, 300); `"50-200"` -> (50, 200). Raises ValueError for anything else."""
    low, sep, high = str(text).strip().partition("-")
    try:
        bounds = (int(low), int(high) if sep else int(low))
    except ValueError:
        raise ValueError(f"{text!r}: give milliseconds (300) or a range (50-200)") from None
    if bounds[0] < 0 or bounds[0] > bounds[1] or bounds[1] > MAX_LATENCY_MS:
        raise ValueError(f"{text!r}: 0 <= min <= max <= {MAX_LATENCY_MS}")
    return bounds


def delay_seconds(low_ms: float, high_ms: float = 0) -> float:
    """A delay of `low_ms`, or a random one in [low_ms, high_ms] when high_ms is above it."""
    if high_ms > low_ms:
        return random.uniform(low_ms, high_ms) / 1000
    return low_ms / 1000


# ------------------------------------------------------------ dropping the connection


def drop_connection(environ: Mapping[str, Any]) -> bool:
    """Shut the client's socket under the WSGI server; False when there is none (in process).

    werkzeug and gunicorn put the socket in the environ; waitress does not, but the
    `waitress.client_disconnected` callable it puts there is a method of the connection's
    channel, which holds the socket. A shut socket makes the server's write of the answer
    fail, and the server closes the connection: the client reads no answer at all.
    """
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if sock is None:
        channel = getattr(environ.get("waitress.client_disconnected"), "__self__", None)
        sock = getattr(channel, "socket", None)
    if not isinstance(sock, socket.socket):
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # the client is already gone
        pass
    return True


class ConnectionDropper:
    """WSGI middleware: when the app marked the environ (`DROP_KEY`), drop the connection."""

    def __init__(self, app: Any):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        result = self.app(environ, start_response)
        rule_id = environ.get(DROP_KEY)
        if rule_id is None:
            return result
        if hasattr(result, "close"):
            result.close()
        if drop_connection(environ):
            return []
        raise ConnectionResetError(f"the mock dropped the connection (fault rule {rule_id})")
