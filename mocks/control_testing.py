"""Control endpoints for client test suites: fault rules and consumer coverage.

    POST   /__mock__/faults           add a fault rule (mocks/faults.py says what a rule can do)
    GET    /__mock__/faults           the rules, with how often each fired
    GET    /__mock__/faults/<id>      one rule
    DELETE /__mock__/faults           remove every rule
    DELETE /__mock__/faults/<id>      remove one rule
    GET    /__mock__/coverage         operations and documented statuses clients' calls exercised
    DELETE /__mock__/coverage         start counting again

`POST /__mock__/reset` removes the fault rules too, but keeps the coverage count: a test
suite resets the mock between tests and wants the coverage of all of them.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request

from ..toolkit import coverage, strict_json
from .context import ApiError
from .engine import Engine
from .faults import FaultRuleError


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def _error(exc: ApiError) -> Response:
    return _json(exc.body(), exc.status)


def register(app: Flask, engine: Engine) -> None:
    book = engine.faults

    @app.post("/__mock__/faults")
    def add_fault() -> Response:
        """Add a fault rule: an error status, a delay or a dropped connection for matching calls.

        Body: `{"operation": operationId (absent: every operation), "status": 400-599,
        "errorCode": n, "errorMessage": "...", "latency_ms": ms | [min, max],
        "disconnect": true | "before" | "after", "times": n (absent: until removed),
        "user": user id (a JWT's `sub`), "project_id": n}`, with at least one of status,
        latency_ms and disconnect; the newest matching rule fires. Answers 201 with the
        rule (its `id`, and for a status the errorCode and errorMessage it will answer
        with and where they come from); 422 naming each problem (an unknown operation
        with the nearest operationIds), 400 for a body that is not JSON.
        """
        try:
            data = strict_json.loads(request.get_data() or b"{}")
        except strict_json.JsonRefused as exc:
            if exc.malformed:
                return _error(ApiError(400, 1102, f"[0401-1102]: Bad Request. The body is not valid JSON: {exc}"))
            problem = [{"property": "body" + exc.pointer, "message": str(exc)}]
            return _error(ApiError(422, 1102, f"[0401-1102]: Unprocessable Entity. {exc}", problem))
        try:
            rule = book.add(data)
        except FaultRuleError as exc:
            return _error(exc.api_error())
        return _json(book.describe(rule), 201)

    @app.get("/__mock__/faults")
    def list_faults() -> Response:
        """List the fault rules, oldest first, with how often each fired and how often it still will."""
        return _json({"faults": [book.describe(rule) for rule in book.rules()]})

    @app.get("/__mock__/faults/<int:rule_id>")
    def get_fault(rule_id: int) -> Response:
        """One fault rule, with how often it fired."""
        rule = book.get(rule_id)
        if rule is None:
            return _error(_no_rule(rule_id))
        return _json(book.describe(rule))

    @app.delete("/__mock__/faults")
    def clear_faults() -> Response:
        """Remove every fault rule."""
        book.clear()
        return Response(status=204)

    @app.delete("/__mock__/faults/<int:rule_id>")
    def remove_fault(rule_id: int) -> Response:
        """Remove one fault rule (404 when there is no rule with that id)."""
        if not book.remove(rule_id):
            return _error(_no_rule(rule_id))
        return Response(status=204)

    @app.get("/__mock__/coverage")
    def get_coverage() -> Response:
        """What clients' calls exercised: per operation, the documented statuses answered and missing.

        Counts every call from a client since the mock started or the count was cleared
        (resets keep it). Query: `scope` (operationIds, `fnmatch` patterns, tags or
        `Catalog` / `LiveOps`, comma-separated; default every operation), `format`
        (`json`, default; `markdown`; `text`).
        """
        fmt = request.args.get("format", "json")
        if fmt not in ("json", "markdown", "text"):
            return _error(ApiError(422, 1102, "[0401-1102]: Unprocessable Entity. format is json, markdown or text"))
        try:
            data = coverage.report(engine.spec, engine.coverage, ",".join(request.args.getlist("scope")) or None)
        except ValueError as exc:
            error = ApiError(
                422,
                1102,
                f"[0401-1102]: Unprocessable Entity. {exc}",
                [{"property": "query.scope", "message": str(exc)}],
            )
            return _error(error)
        if fmt == "markdown":
            return Response(coverage.markdown(data), mimetype="text/markdown")
        if fmt == "text":
            return Response(coverage.table(data) + "\n", mimetype="text/plain")
        return _json(data)

    @app.delete("/__mock__/coverage")
    def clear_coverage() -> Response:
        """Start counting coverage again from zero."""
        engine.coverage.clear()
        return Response(status=204)


def _no_rule(rule_id: int) -> ApiError:
    return ApiError(404, 0, f"[0401-0000]: No fault rule {rule_id}; GET /__mock__/faults lists them")
