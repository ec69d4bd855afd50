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
from .store import Index, Row, Transaction

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
    memos: dict[Any, Any] = field(default_factory=dict)  # values derived once per request (see `memo`)

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

    def reply(self, data: Any = None, status: int | None = None, *, rendered: bool = False) -> Reply:
        """Answer with the operation's (first) success status, shaped by its schema (`rendered`: it
        already is, such as a view kept rendered)."""
        status = status or (int(self.op.success_statuses[0]) if self.op.success_statuses else 200)
        schema = self.op.response_schema(status)
        if schema is None:
            return Reply(status)
        content = self.op.responses.get(str(status), {}).get("content") or {}
        ctype = JSON if JSON in content else next(iter(content), JSON)
        body = data if rendered else self.engine.shaper.render(schema, data, self.locale)
        return Reply(status, body, {"content-type": ctype})

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

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value derived once per request (the user's offers, his uses) and reused while the
        request has written nothing since: work that depends on the request, not on the item."""
        found = self.memos.get(key)
        if found is not None and found[0] == self.tx.writes:
            return found[1]
        value = build()
        self.memos[key] = (self.tx.writes, value)
        return value

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
        """Every record of a kind: for what is small by nature (a user's, a chain's); lists use `find`."""
        return self.tx.values(self.project_id, kind)

    def find(
        self,
        index: Index,
        value: Any,
        *,
        offset: int = 0,
        limit: int | None = None,
        exclude: Any = (),
        between: tuple[float | None, float | None] | None = None,
    ) -> list[Row]:
        """(key, part, record) rows with `value` in a store index, in its order (see `Store`)."""
        return self.tx.find(
            self.project_id, index, str(value), offset=offset, limit=limit, exclude=exclude, between=between
        )

    def records(self, index: Index, value: Any, **options: Any) -> list[Any]:
        """The records of `find` alone."""
        return [record for _, _, record in self.find(index, value, **options)]

    def count(self, index: Index, value: Any, between: tuple[float | None, float | None] | None = None) -> int:
        return self.tx.count(self.project_id, index, str(value), between)

    def next_id(self, sequence: str) -> int:
        return self.tx.next_id(self.project_id, sequence)

    def user_state(self, kind: str, user: str | None = None) -> dict[str, Any]:
        return self.get(kind, user or self.user_id) or {}

    def save_user_state(self, kind: str, state: dict[str, Any], user: str | None = None) -> None:
        self.put(kind, user or self.user_id, state)


Hook = Callable[[Ctx], Reply]

# The store indexes rules and hooks query, defined on the store when an engine starts.
INDEXES: list[Index] = []


def index(kind: str, name: str, version: str = "1") -> Any:
    """Register a store index of `kind` whose entries the decorated function gives: (key, record) ->
    [(value, sort, part)]."""

    def register(entries: Any) -> Index:
        found = Index(kind, name, entries, version)
        INDEXES.append(found)
        return found

    return register


# Extra sections of GET /__mock__/users/<user>, registered by hook modules: name -> fn(ctx, user).
USER_SUMMARIES: dict[str, Callable[[Ctx, str], Any]] = {}
