"""The mock's engine: one dispatcher for every operation of the spec. No Flask here.

A request goes through the same steps whatever the operation:

1. route: the spec's path templates (404 naming the nearest operations, 405 with Allow);
2. authenticate with the operation's security alternatives (401/403);
3. validate parameters and body against the spec (400/415/422, errorCode 1102);
4. act, inside one store transaction: a named hook when the operation has one
   (`hooks.HOOKS`), otherwise the generic action the resource table gives it
   (list/create/read/update/patch/delete);
5. render the result through the operation's response schema, check it, journal it.

Resource-specific behaviour lives in the resource table (`resources.py`) and in
named hooks (`hooks/`); nothing here knows about coupons or carts.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from faker import Faker

from ..toolkit._json import dumps
from ..toolkit._lru import Lru
from ..toolkit.coverage import Tally
from ..toolkit.exposure import DEFAULT_MAX_BODY_BYTES
from ..toolkit.spec import Operation, Spec
from ..toolkit.validation import UNREADABLE_BODY, HttpRequest, HttpResponse, Validator
from .auth import AuthConfig, AuthError, Principal, authenticate
from .clock import CLOCK_KEY, Clock
from .context import INDEXES, JSON, USER_SUMMARIES, ApiError, Ctx, Hook, Reply
from .faults import FAULT_HEADER, Disconnect, FaultBook, Firing, path_project
from .resources import ResourceTable
from .rules.orders import of_user
from .shape import Shaper
from .store import ANY_KIND, MemoryStore, Store, StoreConflict, Transaction

RESPONSE_CACHE_BYTES = 64 * 1024 * 1024  # reused answers kept at most (besides their count)


@dataclass
class MockConfig:
    """Settings of one mock instance (the CLI flags and XSOLLA_MOCK_* variables)."""

    project_id: int = 44056
    merchant_id: int = 1000  # Merchant ID accepted in place of the project ID in Basic credentials.
    api_key: str | None = None
    jwt_secret: str | None = None
    seed: int | None = 1
    empty: bool = False
    fixtures: str | None = None
    webhook_url: str | None = None  # where every project's webhooks go, unless a project sets its own
    webhook_secret: str | None = None  # the key that signs them (kept in memory only)
    webhook_mode: str = "combined"  # combined | separate (payment/refund before order_paid/order_canceled)
    webhook_user_validation: bool = False  # ask the game's server to validate the user before a payment
    webhook_timeout: float = 3.0  # seconds the game's server has to answer
    latency_ms: int = 0  # every API answer delayed by this many ms ...
    latency_max_ms: int = 0  # ... or by a random delay up to this many, when above latency_ms
    cors: bool = True
    validate_responses: bool = True  # Check every answer against the spec (violations go to the journal).
    journal_size: int = 500  # Requests kept in the journal (GET /__mock__/requests).
    catalog_cache_size: int = 256  # Catalog views kept between writes.
    response_cache: bool = True  # Reuse a GET's answer within the same second while nothing was written.
    response_cache_size: int = 2048  # Answers kept by the response cache.
    payment_token_ttl: int = 24 * 3600  # Seconds of the mock's clock a payment token opens the payment page.
    # exposure (toolkit/exposure.py): who may reach the mock, and how much they may send
    host: str = "127.0.0.1"  # The address the server is bound to: the Host check, and a control token off loopback.
    allow_hosts: tuple[str, ...] = ()  # More names the Host header may give (comma-separated in the environment).
    cors_origins: tuple[str, ...] = ()  # Origins besides loopback ones whose pages may call the API; "*": any.
    control_token: str | None = None  # Required by /__mock__ when set (always set off loopback).
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # Largest request body; larger ones get 413.

    @property
    def auth(self) -> AuthConfig:
        return AuthConfig(api_key=self.api_key, jwt_secret=self.jwt_secret, merchant_id=self.merchant_id)


class Journal:
    """The last requests the mock served, for tests and for frontend debugging."""

    def __init__(self, size: int):
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Engine:
    def __init__(self, spec: Spec, store: Store | None = None, config: MockConfig | None = None):
        from . import hooks  # registers the hooks

        self.spec = spec
        self.store = store or MemoryStore()
        self.config = config or MockConfig()
        self.validator = Validator(spec)
        self.shaper = Shaper()
        self.faker = Faker()
        self.faker.seed_instance(self.config.seed if self.config.seed is not None else 0)
        self.resources = ResourceTable(spec)
        self.hooks: dict[str, Hook] = dict(hooks.HOOKS)
        self.store.define([*INDEXES, *self.resources.indexes()])
        self.journal = Journal(self.config.journal_size)
        self.faults = FaultBook(spec)  # fault rules (mocks/faults.py); a reset removes them
        self.coverage = Tally()  # what clients' calls exercised, every call since it was last cleared
        self._responses = Lru(
            self.config.response_cache_size, RESPONSE_CACHE_BYTES, weigh=lambda _, hit: len(hit[0].body) + 512
        )
        self._response_epoch: tuple[Any, ...] = ()  # (store generation, second) of the answers kept
        self.cache: OrderedDict[Any, Any] = OrderedDict()
        self._versions: dict[Any, Any] = {}  # key -> the version of it the cache holds
        self._cache_lock = threading.Lock()
        self.clock_listeners: list[Callable[[datetime], None]] = []  # told when the clock moves (webhook retries)
        self.webhooks: Any = None  # the webhook sender, once attached (mocks.webhooks.attach)
        self.unserved = [
            op.operation_id
            for op in spec.operations.values()
            if op.operation_id not in self.hooks and self.resources.action_for(op) is None
        ]

    def forget(self) -> None:
        """Drop what is kept in memory besides the store: derived views and reused answers."""
        with self._cache_lock:
            self.cache.clear()
            self._versions.clear()
        self._responses.clear()
        self.validator.forget()
        self.spec.forget()

    # ------------------------------------------------------------------ clock

    def clock(self, tx: Transaction | None = None) -> Clock:
        if tx is not None:
            state = tx.get(*CLOCK_KEY) or {}
        else:
            with self.store.transaction(write=False) as t:
                state = t.get(*CLOCK_KEY) or {}
        return Clock(state.get("offset", 0.0))

    def move_clock(self, *, seconds: float | None = None, to: datetime | None = None) -> datetime:
        with self.store.transaction() as tx:
            clock = self.clock(tx)
            if to is not None:
                clock.set(to)
            if seconds:
                clock.advance(seconds)
            tx.put(*CLOCK_KEY, {"offset": clock.offset})
        now = clock.now()
        for listener in self.clock_listeners:
            listener(now)
        return now

    def cached(
        self,
        key: Any,
        build: Callable[[], Any],
        depends: tuple[str, ...] | None = None,
        tx: Transaction | None = None,
        fresh: Callable[[Any], bool] | None = None,
    ) -> Any:
        """A derived view cached against the writes to the kinds it `depends` on (any write when
        not given); least recently used entries go first. `tx` reads the counters once per
        transaction; `fresh(view)` false rebuilds a view that has gone out of date.

        Only for views of committed state: hooks use `Ctx.cached`, which bypasses the
        cache while their transaction holds uncommitted writes.
        """
        counters = tx if tx is not None else self.store
        version = counters.kind_generations(depends or (ANY_KIND,))
        full_key = (version, key)
        with self._cache_lock:
            if full_key in self.cache and (fresh is None or fresh(self.cache[full_key])):
                self.cache.move_to_end(full_key)
                return self.cache[full_key]
        value = build()
        with self._cache_lock:
            older = self._versions.get(key)
            if older is not None and older != version:  # counters only grow: an older version is never asked again
                self.cache.pop((older, key), None)
            self._versions[key] = version
            self.cache[full_key] = value
            while len(self.cache) > self.config.catalog_cache_size:
                (dropped, dropped_key), _ = self.cache.popitem(last=False)
                if self._versions.get(dropped_key) == dropped:
                    del self._versions[dropped_key]
        return value

    # ---------------------------------------------------------------- serving

    def handle(self, req: HttpRequest, template: str | None = None, *, client: bool = False) -> HttpResponse:
        """Serve one request. `client`: it came from a client (the adapter): fault rules apply to
        it and it counts for coverage; calls made in process (fixtures, seeding) do neither."""
        started = time.perf_counter()
        txid = uuid.uuid4().hex[:20]
        path = self.validator.strip_base(req.path)
        op: Operation | None = None
        request_violations: list[str] = []
        principal: Principal | None = None
        cached: HttpResponse | None = None
        fault: Firing | None = None
        try:
            match = self.spec.find(req.method, path)
            if match is None:
                allowed = self.spec.methods_for(path)
                if allowed:
                    raise _MethodNotAllowed(allowed)
                near = self.spec.nearest(req.method, path)
                raise ApiError(
                    404,
                    0,
                    f"[0401-0000]: No operation matches {req.method} {_clip(path, 200)}"
                    + (f"; nearest: {'; '.join(str(o) for o in near)}" if near else ""),
                    {"nearest": [{"operationId": o.operation_id, "method": o.method, "path": o.path} for o in near]},
                )
            op = match.operation
            if client and self.faults:
                fault = self.faults.fire(op, match.path_params, lambda: self._user_of(op, req, match.path_params))
                if fault is not None:
                    fault.wait()
                    if fault.answers:  # an error status, or a connection dropped before processing
                        raise self.faults.error(op, fault.rule) if fault.rule.status else Disconnect(fault.rule.id)
            cache_key = self._cache_key(op, path, req)
            hit = self._responses.get(cache_key) if cache_key else None
            if hit is not None:  # the same request, credentials, state and second: the same answer
                cached, principal = hit
                response = HttpResponse(cached.status, {**cached.headers, "x-transaction-id": txid}, cached.body)
            else:
                raw_project = match.path_params.get("project_id")
                project_id = path_project(match.path_params)
                if raw_project and project_id is None:  # int() also reads other scripts' digits: not a project
                    raise ApiError(
                        422,
                        1102,
                        f"[0401-1102]: Unprocessable Entity. project_id: {_clip(raw_project, 40)!r} is not an integer",
                        [{"property": "path.project_id", "message": "not an integer"}],
                    )
                try:
                    principal = authenticate(op.security, req.headers, project_id, self.config.auth)
                except AuthError as exc:
                    raise ApiError(exc.status, exc.code, exc.message) from None
                result = self.validator.validate_request(req, security=False)  # authenticated above
                problems = result.violations
                if problems:
                    request_violations = [str(v) for v in problems]
                    raise self._request_error(problems)
                reply = self._act(op, principal, project_id or 0, result, req)
                response = self._encode(reply, txid)
                if cache_key and response.status < 300 and self.store.kind_generations((ANY_KIND,)) == cache_key[0]:
                    if cache_key[:2] != self._response_epoch:  # earlier states' and seconds' answers: never asked again
                        self._responses.clear()
                        self._response_epoch = cache_key[:2]
                    self._responses.put(cache_key, (response, principal))
        except _MethodNotAllowed as exc:
            body = ApiError(405, 0, f"Method is not allowed. Method must be one of: {', '.join(exc.allowed)}").body(
                txid
            )
            response = HttpResponse(
                405, {"content-type": JSON, "allow": ", ".join(exc.allowed)}, json.dumps(body).encode()
            )
        except ApiError as exc:
            response = HttpResponse(exc.status, {"content-type": JSON}, json.dumps(exc.body(txid)).encode())
        except Disconnect:
            response = HttpResponse(0)  # never sent
        except Exception as exc:  # noqa: BLE001 - the mock never answers a bare 500
            error = ApiError(500, 0, f"[0401-0500]: Internal mock error: {type(exc).__name__}: {exc}")
            response = HttpResponse(500, {"content-type": JSON}, json.dumps(error.body(txid)).encode())
            request_violations.append(f"internal error: {exc!r}")
        response_violations: list[str] = []
        if op is not None and self.config.validate_responses and cached is None and not (fault and fault.answers):
            response_violations = [str(v) for v in self.validator.response_violations(op, response)]
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": req.method,
            "path": _clip(req.path, 2000),
            "query": [(_clip(k, 200), _clip(v, 200)) for k, v in req.query[:50]],
            "operation": op.operation_id if op else None,
            "status": response.status,
            "user": principal.user_id if principal else None,
            "request_violations": [_clip(v, 1000) for v in request_violations[:20]],
            "response_violations": [_clip(v, 1000) for v in response_violations[:20]],
            "cached": cached is not None,
            "transaction_id": txid,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "fault": None,
        }
        if fault is not None:
            entry["fault"] = fault.journal(response.status)
            if principal is None and op is not None:  # answered before authentication
                entry["user"] = self._user_of(op, req, match.path_params)
            if fault.rule.disconnect:
                entry["status"] = None  # the client got no answer
            elif fault.answers:
                response.headers[FAULT_HEADER] = str(fault.rule.id)
        self.journal.add(entry)
        if client:
            self.coverage.record(entry)
        if fault is not None and fault.rule.disconnect:
            raise Disconnect(fault.rule.id)
        return response

    def _user_of(self, op: Operation, req: HttpRequest, path_params: Mapping[str, str]) -> str | None:
        """The user a request is made for (fault rules may match on it); None for admin or bad credentials."""
        try:
            return authenticate(op.security, req.headers, path_project(path_params), self.config.auth).user_id
        except AuthError:
            return None

    def _cache_key(self, op: Operation, path: str, req: HttpRequest) -> tuple[Any, ...] | None:
        """GET answers are reused until the next write (store generation) or the next second.

        The key names everything an answer can depend on: the state, the time (the clock's
        offset only changes with a write), the request, and who asks (their credentials).
        Only successful answers are kept, so a hit also stands for the authentication and
        validation the same request passed a moment ago.
        """
        if op.method != "GET" or not self.config.response_cache:
            return None
        h = req.headers
        return (
            self.store.kind_generations((ANY_KIND,)),
            int(time.time()),
            path,
            tuple(req.query),
            h.get("authorization"),
            h.get("x-unauthorized-id"),
            h.get("x-user"),
            *(h.get(str(p.get("name", "")).lower()) for p in op.parameters_in("header")),
        )

    def _request_error(self, problems) -> ApiError:
        first = problems[0]
        if first.kind == "request-content-type":
            return ApiError(415, 1102, f"[0401-1102]: Unsupported Media Type. {first.message}")
        if first.kind == "body" and first.expected == UNREADABLE_BODY:
            return ApiError(400, 1102, f"[0401-1102]: Bad Request. {first.message}")
        extended = [{"property": _property(v.where), "message": v.message} for v in problems]
        return ApiError(422, 1102, f"[0401-1102]: Unprocessable Entity. {first.message}", extended)

    def _act(self, op: Operation, principal: Principal, project_id: int, result, req: HttpRequest) -> Reply:
        body = self.shaper.normalize(op.request_schema, result.body) if result.body is not None else None
        hook = self.hooks.get(op.operation_id)
        if hook is None:
            action = self.resources.action_for(op)
            if action is None:  # every operation is served; this is a defect of the table
                raise ApiError(500, 0, f"[0401-0500]: {op.operation_id} has no hook and no resource action")
            hook = getattr(action[0], action[1])

        def act(tx: Transaction) -> Reply:
            args = (result.path_params, result.query_params, body, req.headers, tx, self.clock(tx).now(), req.body)
            return hook(Ctx(self, op, principal, project_id, *args))

        return self._transact(act, write=op.method != "GET")

    def _transact(self, fn: Callable[[Transaction], Any], write: bool) -> Any:
        """`fn` in one store transaction; a reader that wrote on a state another process changed
        meanwhile runs again, as a writer (what it read is then read again)."""
        try:
            with self.store.transaction(write=write) as tx:
                return fn(tx)
        except StoreConflict:
            if write:
                raise
        with self.store.transaction(write=True) as tx:
            return fn(tx)

    def _encode(self, reply: Reply, txid: str) -> HttpResponse:
        headers = {"x-transaction-id": txid, **reply.headers}
        if reply.body is None and reply.headers.get("content-type") is None:
            return HttpResponse(reply.status, headers, b"")
        headers.setdefault("content-type", JSON)
        if headers["content-type"] != JSON and isinstance(reply.body, str):
            return HttpResponse(reply.status, headers, reply.body.encode())
        return HttpResponse(reply.status, headers, dumps(reply.body))

    # ------------------------------------------------------------- in process

    def run(
        self, project_id: int, fn: Callable[[Ctx], Any], principal: Principal | None = None, *, write: bool = True
    ) -> Any:
        """Run domain code in one transaction outside any request (control API, fixtures, pages);
        `write=False` announces a reader."""
        who = principal or Principal("admin", project_id=project_id)  # type: ignore[arg-type]
        return self._transact(
            lambda tx: fn(Ctx(self, None, who, project_id, {}, {}, None, {}, tx, self.clock(tx).now())), write
        )

    def user_summary(self, ctx: Ctx, user: str) -> dict[str, Any]:
        """What the control API shows of a user: inventory, orders, and each hook module's progress."""
        orders = of_user(ctx, user)
        summary = {
            "user": user,
            "inventory": (ctx.get("inventory", user) or {"items": {}})["items"],
            "orders": [{k: o[k] for k in ("order_id", "status", "mode", "items")} for o in orders],
        }
        for name, describe in USER_SUMMARIES.items():
            summary[name] = describe(ctx, user)
        return summary

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Serve one operation in process (fixtures and seeding go through here too)."""
        op = self.spec.operation(operation_id)
        url = op.path
        for name, value in (path or {}).items():
            url = url.replace("{" + name + "}", str(value))
        query_list: list[tuple[str, str]] = []
        for k, v in (query or {}).items():
            for item in v if isinstance(v, list) else [v]:
                query_list.append((k, str(item)))
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("content-type", JSON)
        return self.handle(HttpRequest(op.method, url, query_list, hdrs, data))


def _clip(text: str, limit: int) -> str:
    """The journal keeps what hostile requests send within bounds (it holds hundreds of entries)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _property(where: str) -> str:
    """`request body /a/0/b` -> `body/a/0/b`; `query limit` -> `query.limit`."""
    if where.startswith("request body"):
        pointer = where[len("request body") :].strip()
        return "body" + (pointer if pointer not in ("", "/") else "")
    return where.replace(" ", ".")


class _MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]):
        self.allowed = allowed
