"""What every layer of the mock shares: the request context a hook acts in, its reply,
the error in the API's format, and the hook type.

This module sits below the engine, the resource table, the rules and the hooks, and
imports none of them: they all depend on it, never the other way round. The engine
builds a `Ctx` per request and lends it the services it needs (`Services`: the
shaper, faker, the resource table, derived-view caching, the configuration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn, Protocol

from faker import Faker

from ..toolkit.spec import Operation
from .auth import Principal
from .shape import Shaper
from .store import Transaction

JSON = "application/json"


class ApiError(Exception):
    """An error answer in the service's format."""

    def __init__(self, status: int, code: int, message: str, extended: Any = None):
        self.status, self.code, self.message, self.extended = status, code, message, extended
        super().__init__(message)

    def body(self, transaction_id: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"errorCode": self.code, "errorMessage": self.message, "statusCode": self.status}
        if transaction_id:
            out["transactionId"] = transaction_id
        if self.extended is not None:
            out["errorMessageExtended"] = self.extended
        return out


@dataclass
class Reply:
    status: int
    body: Any = None  # already shaped, or raw when `raw` is set
    headers: dict[str, str] = field(default_factory=dict)


class Services(Protocol):
    """What the engine lends a request (the engine itself is one)."""

    faker: Faker
    shaper: Shaper
    config: Any  # the mock's MockConfig
    resources: Any  # the resource table (resources.ResourceTable)

    def cached(
        self,
        key: Any,
        build: Callable[[], Any],
        depends: tuple[str, ...] | None = None,
        tx: Transaction | None = None,
        fresh: Callable[[Any], bool] | None = None,
    ) -> Any: ...


@dataclass
class Ctx:
    """What a hook or generic action gets: the request, the principal, the transaction."""

    engine: Services
    op: Operation
    principal: Principal
    project_id: int
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]
    tx: Transaction
    now: datetime
    raw: bytes | None = None  # the request body as sent (for non-JSON bodies such as file uploads)

    @property
    def faker(self) -> Faker:
        return self.engine.faker

    @property
    def locale(self) -> str:
        return str(self.query.get("locale") or "en")

    @property
    def user_id(self) -> str:
        if not self.principal.user_id:
            self.fail(401, 1501, "[0401-1501]: Authorization failed: Provide authorization")
        return self.principal.user_id

    def fail(self, status: int, code: int, message: str, extended: Any = None) -> NoReturn:
        raise ApiError(status, code, message, extended)

    def reply(self, data: Any = None, status: int | None = None) -> Reply:
        """Answer with the operation's (first) success status, shaped by its schema."""
        status = status or (int(self.op.success_statuses[0]) if self.op.success_statuses else 200)
        schema = self.op.response_schema(status)
        if schema is None:
            return Reply(status)
        content = self.op.responses.get(str(status), {}).get("content") or {}
        ctype = JSON if JSON in content else next(iter(content), JSON)
        return Reply(status, self.engine.shaper.render(schema, data, self.locale), {"content-type": ctype})

    def cached(
        self,
        key: Any,
        build: Callable[[], Any],
        depends: tuple[str, ...] | None = None,
        fresh: Callable[[Any], bool] | None = None,
    ) -> Any:
        """A derived view cached until the next committed write. It is built fresh while this
        transaction has uncommitted writes to the kinds it `depends` on (to any kind when not
        given), so nothing uncommitted is ever shared; and rebuilt when `fresh(view)` says it
        is out of date (views that also change with time)."""
        if self.tx.dirty and (depends is None or self.tx.dirty_kinds & set(depends)):
            return build()
        return self.engine.cached(key, build, depends, self.tx, fresh)

    def resource(self, name: str) -> Any:
        """The row of the resource table named `name` (a `resources.Resource`)."""
        return self.engine.resources.by_name[name]

    # store shortcuts, always scoped to the request's project
    def get(self, kind: str, key: Any) -> Any:
        return self.tx.get(self.project_id, kind, str(key))

    def put(self, kind: str, key: Any, value: Any) -> None:
        self.tx.put(self.project_id, kind, str(key), value)

    def delete(self, kind: str, key: Any) -> bool:
        return self.tx.delete(self.project_id, kind, str(key))

    def values(self, kind: str) -> list[Any]:
        return self.tx.values(self.project_id, kind)

    def next_id(self, sequence: str) -> int:
        return self.tx.next_id(self.project_id, sequence)

    def user_state(self, kind: str, user: str | None = None) -> dict[str, Any]:
        return self.get(kind, user or self.user_id) or {}

    def save_user_state(self, kind: str, state: dict[str, Any], user: str | None = None) -> None:
        self.put(kind, user or self.user_id, state)


Hook = Callable[[Ctx], Reply]

# Extra sections of GET /__mock__/users/<user>, registered by hook modules: name -> fn(ctx, user).
USER_SUMMARIES: dict[str, Callable[[Ctx, str], Any]] = {}
