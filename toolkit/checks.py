"""Checks of our own, for what schemathesis cannot know about these APIs.

Registered with schemathesis (`@schemathesis.check`), so every phase applies them to
every answer, the workflows included:

- `api_error_format`: an error answer (4xx/5xx) is in the API's error format, a JSON
  object with an integer `errorCode`, a string `errorMessage`, the HTTP status as
  `statusCode` and, optionally, `errorMessageExtended`, whatever the status and
  whether the operation documents it or not;
- `list_limit`: a list answer never holds more entries than the `limit` asked for.

The stateful promises that need several calls (pages do not overlap, a redemption
past its limit is refused) are steps of the workflows (`workflows.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure


class NotApiErrorFormat(Failure):
    """An error answer that is not in the API's error format."""

    code = "XC101"
    checks = ("api_error_format",)
    kind_title = "Error answer not in the API's error format"


class ListOverLimit(Failure):
    """A list answer with more entries than the `limit` of the request."""

    code = "XC102"
    checks = ("list_limit",)
    kind_title = "List answer longer than its limit"


ERROR_FIELDS = {"errorCode": int, "errorMessage": str, "statusCode": int}


def error_format_problems(status: int, content: bytes) -> list[str]:
    """What makes an error answer's body differ from the API's error format (empty: none)."""
    try:
        body = json.loads(content or b"")
    except ValueError:
        return [f"the body is not JSON: {content[:80]!r}"]
    if not isinstance(body, Mapping):
        return [f"the body is a JSON {type(body).__name__}, not an object"]
    problems = []
    for name, kind in ERROR_FIELDS.items():
        value = body.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"`{name}` is {'missing' if name not in body else repr(value)}, not {kind.__name__}")
    if isinstance(body.get("statusCode"), int) and body["statusCode"] != status:
        problems.append(f"`statusCode` {body['statusCode']} differs from the HTTP status {status}")
    return problems


@schemathesis.check
def api_error_format(ctx: Any, response: Any, case: Any) -> bool | None:
    """Error answers (4xx/5xx) carry errorCode, errorMessage and statusCode."""
    if response.status_code < 400:
        return None
    problems = error_format_problems(response.status_code, response.content or b"")
    if problems:
        raise NotApiErrorFormat(
            operation=case.operation.label,
            message=f"{response.status_code} answer: " + "; ".join(problems),
        )
    return True


def _merged(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    if "allOf" not in schema:
        return schema
    out: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _merged(part)
        out.setdefault("type", part.get("type"))
        out["properties"] = {**(part.get("properties") or {}), **(out.get("properties") or {})}
    return out


def list_field(operation: Any, status: int) -> str | None:
    """Where a list operation's answer keeps its entries: "" for a top-level array, else the
    first array property of the answer's schema; None when the answer is no list."""
    responses = operation.definition.raw.get("responses") or {}
    content = (responses.get(str(status)) or {}).get("content") or {}
    schema = _merged((content.get("application/json") or {}).get("schema") or {})
    if schema.get("type") == "array":
        return ""
    for name, sub in (schema.get("properties") or {}).items():
        if _merged(sub).get("type") == "array":
            return name
    return None


def list_entries(operation: Any, body: Any, status: int | None = None) -> list[Any] | None:
    """The entries of a list answer (None when the operation answers no list)."""
    if status is None:
        status = next((int(s) for s in operation.definition.raw.get("responses", {}) if s.startswith("2")), 200)
    name = list_field(operation, status)
    if name is None:
        return None
    entries = body if name == "" else (body or {}).get(name) if isinstance(body, Mapping) else None
    return entries if isinstance(entries, list) else None


def _limit_of(case: Any) -> int | None:
    value = (case.query or {}).get("limit")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


@schemathesis.check
def list_limit(ctx: Any, response: Any, case: Any) -> bool | None:
    """A list answer holds at most `limit` entries."""
    limit = _limit_of(case)
    if limit is None or not 200 <= response.status_code < 300:
        return None
    if not any(p.name == "limit" and p.location.value == "query" for p in case.operation.iter_parameters()):
        return None
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    entries = list_entries(case.operation, body, response.status_code)
    if entries is not None and len(entries) > limit:
        raise ListOverLimit(
            operation=case.operation.label,
            message=f"Asked for at most {limit} entries, got {len(entries)}",
        )
    return True


OUR_CHECKS = (api_error_format, list_limit)


class DeletedAliases:
    """Tells schemathesis' `ensure_resource_availability` when a resource was deleted under
    another of its names.

    The check trusts a 404 only after a DELETE whose path is a prefix of the one that answered
    404. A resource with two addresses (a game by `item_id` and by `sku`) deleted by one of
    them is gone by the other too, which the check cannot know. This remembers the
    identifiers each create answered (`{"item_id": 41, "sku": "countries"}`); a successful
    DELETE naming one of them marks all of them deleted, and a 404 for a resource whose path
    names only deleted identifiers is then not a lost create.
    """

    def __init__(self) -> None:
        import threading

        self._created: list[set[str]] = []
        self._deleted: set[str] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _names(case: Any) -> set[str]:
        return {str(v) for k, v in (case.path_parameters or {}).items() if k != "project_id"}

    def after_call(self, context: Any, case: Any, response: Any) -> None:
        if not 200 <= response.status_code < 300:
            return
        method = case.operation.method.upper()
        if method == "POST":
            try:
                body = json.loads(response.content or b"null")
            except ValueError:
                return
            if isinstance(body, Mapping):
                names = {str(v) for v in body.values() if isinstance(v, (str, int)) and not isinstance(v, bool)}
                if names:
                    with self._lock:
                        self._created.append(names)
        elif method == "DELETE":
            gone = self._names(case)
            with self._lock:
                for names in self._created:
                    if names & gone:
                        self._deleted |= names

    def filter_failure(self, context: Any, failure: Any, case: Any, response: Any) -> bool:
        if "ensure_resource_availability" not in getattr(failure, "checks", ()):
            return True
        names = self._names(case)
        with self._lock:
            return not (names and names <= self._deleted)

    def register(self, schema: Any) -> None:
        """Hook into a schemathesis schema (its hooks must be plain functions)."""

        def after_call(context: Any, case: Any, response: Any) -> None:
            self.after_call(context, case, response)

        def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
            return self.filter_failure(context, failure, case, response)

        schema.hook("after_call")(after_call)
        schema.hook("filter_failure")(filter_failure)
