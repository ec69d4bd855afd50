"""The `/__mock__` control API and the mock's start state.

Control calls take their input the way the API's operations do: a JSON body read strictly
(`toolkit.strict_json`) and checked against a JSON Schema, query parameters checked too;
what is refused is answered in the API's error format (400 for a body that is not JSON,
422 naming each failing property in `errorMessageExtended`), never with a traceback. No
call can leave the mock unusable: the clock stays in its range, quantities are positive
integers, an imported state is checked before it replaces the current one, and
`POST /__mock__/reset` always brings back the start state.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import json
import re
from datetime import timedelta
from typing import Any

from flask import Flask, Response, request
from jsonschema import Draft202012Validator

from ..toolkit import strict_json
from . import control_testing, payments, webhook_control
from .auth import mint_token, parse_project_id
from .clock import CLOCK_KEY, Clock, iso, parse_datetime, utcnow
from .context import ApiError
from .engine import Engine, Journal
from .rules import inventory, orders

_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")
_INT64 = 2**63 - 1
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_PROJECT = {"type": "integer", "minimum": 1, "maximum": _INT64}


def parse_duration(value: Any) -> float:
    """Seconds from a number or an ISO 8601 duration such as `P1D`, `PT6H`, `P1DT30M`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value or ""))
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. 'P1D', 'PT6H')")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    try:
        return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]).total_seconds()
    except OverflowError:
        raise ValueError(f"{value!r} is longer than the clock's range") from None


def initialise(engine: Engine, *, force: bool = False) -> str:
    """Fill an empty store with the start state: fixtures, else a seeded project, else nothing.

    A store that already holds records (a SQLite file from an earlier run) is kept as it is
    unless `force` is set. Several processes sharing one SQLite file may start at once: the
    first one fills it, the others find it filled (`Store.starting`); a start state whose
    loading was interrupted is loaded again. With `force` (reset), what the mock keeps in
    memory besides the store (caches, the journal, fault rules) goes too. Answers what the
    mock starts with, in words (for the banner).
    """
    from .fixtures import load_fixtures, read_fixtures, seed_project

    with engine.store.starting():
        kept = engine.store.count()
        if not force and kept and not engine.store.start_interrupted():
            return f"kept {kept} records of an earlier run (POST /__mock__/reset starts over)"
        engine.faults.clear()
        engine.store.clear()
        engine.forget()
        if force:  # before the start state is made, so that it is made in memory given back in one piece
            release_memory(collect=kept >= _COLLECT_FROM)
        config = engine.config
        start = "empty"
        with engine.store.loading_start_state():
            if config.fixtures:
                load_fixtures(engine, read_fixtures(config.fixtures))
                start = f"fixtures {config.fixtures}"
            elif not config.empty and config.seed is not None:
                seed_project(engine, config.seed)
                start = f"seed {config.seed}"
        engine.journal.clear()
    if force:
        release_memory()
    return f"{start} ({engine.store.count()} records)"


_COLLECT_FROM = 10_000  # records: a reset of a store this large also collects reference cycles


def release_memory(*, collect: bool = False) -> None:
    """Give memory freed by a reset back to the system (glibc keeps freed pages otherwise).

    What a reset frees is freed by reference counting; a full garbage collection (hundreds of
    ms over the spec's objects) runs only after a long run, whose cycles may hold much. Called
    once before the start state is made: trimming consolidates the freed chunks, so the start
    state's records are carved from one free region instead of pinning pages all over the heap
    a long run left behind; and once after."""
    if collect:
        gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc; elsewhere there is nothing to trim
    except (OSError, AttributeError):
        return None


# ------------------------------------------------------------------ input


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({"type": "object", "additionalProperties": False, **schema})


_CLOCK = _validator(
    {
        "properties": {
            "advance": {
                "description": "not a duration: seconds (86400) or ISO 8601 (P1D, PT2H30M)",
                "anyOf": [
                    {"type": "number"},
                    {"type": "string", "pattern": _DURATION.pattern},
                ],
            },
            "set": {"type": "string", "minLength": 1},
            "reset": {"const": True},
        },
        "minProperties": 1,
        "maxProperties": 1,
    }
)
_ORDER = _validator(
    {
        "properties": {"status": {"enum": list(orders.STATUSES)}, "project_id": _PROJECT},
        "required": ["status"],
    }
)
_GRANT = _validator(
    {
        "properties": {
            "sku": _NAME,
            "quantity": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "project_id": _PROJECT,
        },
        "required": ["sku"],
    }
)
_TOKEN = _validator(
    {
        "properties": {
            "user": _NAME,
            "attributes": {"type": "object", "maxProperties": 100},
            "ttl": {"type": "integer", "minimum": 1, "maximum": 10 * 365 * 24 * 3600},
            "project_id": _PROJECT,
            "email": {"type": "string", "minLength": 3, "maxLength": 255},
        }
    }
)
_RESET = _validator({})


def _rows(*columns: dict[str, Any]) -> dict[str, Any]:
    """An array of fixed-length rows (as GET /__mock__/state writes records and counters)."""
    n = len(columns)
    return {"type": "array", "items": {"type": "array", "prefixItems": list(columns), "minItems": n, "maxItems": n}}


_ID = {"type": "integer", "minimum": 0, "maximum": _INT64}
_STATE = _validator(
    {
        "properties": {
            "records": _rows(_ID, _NAME, {"type": "string", "maxLength": 1024}, {}),
            "counters": _rows(_ID, _NAME, _ID),
        },
        "required": ["records"],
    }
)


def _unprocessable(message: str, extended: list[dict[str, str]] | None = None) -> ApiError:
    return ApiError(422, 1102, f"[0401-1102]: Unprocessable Entity. {message}", extended)


def _body(validator: Draft202012Validator, not_json: str | None = None) -> dict[str, Any]:
    """The request's JSON body, read strictly and checked against `validator`'s schema. No body
    reads as `{}`, unless `not_json` says what to answer (400) to a body that is not JSON or none."""
    raw = request.get_data()
    if not raw.strip() and not_json is None:
        data: Any = {}
    else:
        try:
            data = strict_json.loads(raw)
        except strict_json.JsonRefused as exc:
            if exc.malformed:
                message = not_json or f"The request body is not valid JSON: {exc}"
                raise ApiError(400, 1102, f"[0401-1102]: Bad Request. {message}") from None
            raise _unprocessable(str(exc), [{"property": "body" + exc.pointer, "message": str(exc)}]) from None
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        extended = [{"property": _where(e), "message": _say(e)} for e in errors]
        raise _unprocessable(f"{_where(errors[0])}: {_say(errors[0])}", extended)
    return data


def _where(error: Any) -> str:
    return "body" + "".join(f"/{p}" for p in error.absolute_path)


def _say(error: Any) -> str:
    """The schema's own words for what the value must be, where it has them; jsonschema's otherwise."""
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f"{error.instance!r} is {described}" if described else error.message


def _project(engine: Engine, value: Any, where: str) -> int:
    """A project id given as a body field (an int, checked by the schema) or a query parameter."""
    if value is None:
        return engine.config.project_id
    if isinstance(value, int):
        return value
    project = parse_project_id(str(value))
    if project is None:
        message = f"project_id: {str(value)[:40]!r} is not a project id (digits, no leading zero)"
        raise _unprocessable(message, [{"property": where, "message": message}])
    return project


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status=status, mimetype="application/json")


# ------------------------------------------------------------------ endpoints


def register(app: Flask, engine: Engine) -> None:
    control_testing.register(app, engine)

    @app.post("/__mock__/reset")
    def reset() -> Response:
        """Back to the start state (seeded, fixtures or empty): records, clock, journal, fault rules and caches."""
        _body(_RESET)
        initialise(engine, force=True)
        return json_response({"status": "reset", "records": engine.store.count()})

    @app.get("/__mock__/state")
    def export_state() -> Response:
        """Export the whole state (every record and counter of every project) as JSON."""
        return json_response(engine.store.export())

    @app.post("/__mock__/state")
    def import_state() -> Response:
        """Replace the whole state with one exported by `GET /__mock__/state`.

        A state the mock cannot serve (a record no read can show, a clock out of range) is refused
        with 422 and nothing changes."""
        state = _body(_STATE, "State not imported: the body is not JSON (send what GET /__mock__/state answered)")
        clock = next((r[3] for r in state["records"] if tuple(r[:3]) == CLOCK_KEY), None)
        if clock is not None:
            offset = clock.get("offset", 0) if isinstance(clock, dict) else None
            try:
                Clock._check(offset)  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise _unprocessable(f"State not imported: the clock record is not usable: {exc}") from None
        previous = engine.store.export()
        journal, engine.journal = engine.journal, Journal(1)  # the check's reads are not the user's
        try:
            engine.store.load(state)
            engine.forget()
            broken = _first_failing_read(engine, {int(r[0]) for r in state["records"]} - {0})
        except Exception as exc:  # noqa: BLE001 - whatever a state breaks, it is the state's fault
            broken = f"{type(exc).__name__}: {exc}"
        finally:
            engine.journal = journal
        if broken:
            engine.store.load(previous)
            engine.forget()
            raise _unprocessable(f"State not imported: the mock cannot serve it ({broken[:300]}); nothing changed")
        return json_response({"status": "imported", "records": engine.store.count()})

    @app.get("/__mock__/requests")
    def journal() -> Response:
        """The journal of recent requests: operation matched, status, request and response violations.

        `?violations=1` lists only the requests with violations."""
        entries = engine.journal.entries()
        since = request.args.get("since")
        if since is not None:  # only entries after this time (a `time` of an earlier answer), for polling
            try:
                after = float(since)
            except ValueError:
                raise _unprocessable("since must be a time in seconds, as `time` shows") from None
            entries = [e for e in entries if e["time"] > after]
        if request.args.get("violations"):
            entries = [e for e in entries if e["request_violations"] or e["response_violations"]]
        return json_response({"requests": entries})

    @app.delete("/__mock__/requests")
    def clear_journal() -> Response:
        """Empty the journal."""
        engine.journal.clear()
        return Response(status=204)

    @app.get("/__mock__/clock")
    def get_clock() -> Response:
        """The mock's time (`now`) and its offset from the real time in seconds."""
        clock = engine.clock()
        return json_response({"now": iso(clock.now()), "offset_seconds": clock.offset})

    @app.post("/__mock__/clock")
    def move_clock() -> Response:
        """Move the mock's time: `{"advance": 86400 | "P1D"}`, `{"set": "2026-12-24T10:00:00Z"}` or `{"reset": true}`.

        Periods, daily resets and expirations follow the moved clock; it stays between 1970 and 2999."""
        data = _body(_CLOCK)
        try:
            if "set" in data:
                moment = parse_datetime(data["set"])
                if moment is None:
                    raise ValueError(f"not an ISO 8601 date-time: {data['set']!r}")
                now = engine.move_clock(to=moment)
            elif "advance" in data:
                now = engine.move_clock(seconds=parse_duration(data["advance"]))
            else:
                now = engine.move_clock(to=utcnow())
        except (ValueError, OverflowError) as exc:
            key = next(iter(data))
            raise _unprocessable(str(exc), [{"property": f"body/{key}", "message": str(exc)}]) from None
        return json_response({"now": iso(now), "offset_seconds": engine.clock().offset})

    @app.post("/__mock__/orders/<int:order_id>")
    def order_status(order_id: int) -> Response:
        """Set an order's status as the payment system would: `{"status": "paid"}` (or done, canceled, expired)."""
        data = _body(_ORDER)
        project = _project(engine, data.get("project_id"), "body/project_id")
        order = payments.set_status(engine, project, order_id, data["status"])
        return json_response({"order_id": order_id, "status": order["status"]})

    @app.post("/__mock__/users/<user>/grant")
    def grant(user: str) -> Response:
        """Put items or virtual currency in a user's inventory: `{"sku": "gold", "quantity": 500}`.

        The quantity is a positive integer (default 1)."""
        data = _body(_GRANT)
        project = _project(engine, data.get("project_id"), "body/project_id")
        quantity = data.get("quantity", 1)
        engine.run(project, lambda ctx: inventory.grant(ctx, data["sku"], quantity, user))
        return json_response(engine.run(project, lambda ctx: inventory.state(ctx, user)))

    @app.get("/__mock__/users/<user>")
    def user_state(user: str) -> Response:
        """A user's inventory, balances and progress (`?project_id=` for another project)."""
        project = _project(engine, request.args.get("project_id"), "query.project_id")
        return json_response(engine.run(project, lambda ctx: engine.user_summary(ctx, user)))

    @app.post("/__mock__/token")
    def token() -> Response:
        """Mint a user JWT this mock accepts: `{"user": "player-1", "attributes": {"tier": "gold"}, "ttl": 3600}`."""
        data = _body(_TOKEN)
        user = data.get("user", "user-1")
        jwt = mint_token(
            user,
            project=data.get("project_id"),
            attributes=data.get("attributes"),
            ttl=data.get("ttl", 30 * 24 * 3600),
            secret=engine.config.jwt_secret,
            email=data.get("email"),
        )
        return json_response({"token": jwt, "user": user})

    webhook_control.register(app, engine, json_response)


def _first_failing_read(engine: Engine, projects: set[int]) -> str | None:
    """The first list read of these projects that the mock answers with a 5xx (an imported state it
    cannot serve), or None. Reads every kind the lists show, as an admin and as a user."""
    from .auth import mint_token as token_for

    for project in sorted(projects)[:20]:
        admin = {"Authorization": "Basic " + _b64(f"{project}:state-check")}
        user = {"Authorization": f"Bearer {token_for('state-check', project=project, secret=engine.config.jwt_secret)}"}
        for op in engine.spec.operations.values():
            params = {p.get("name") for p in op.parameters if p.get("in") == "path"}
            if op.method != "GET" or params - {"project_id"} or "project_id" not in params:
                continue
            headers = admin if "basicAuth" in op.security_schemes else user
            answer = engine.call(op.operation_id, path={"project_id": project}, headers=headers)
            if answer.status >= 500:
                return f"{op.operation_id} answers {answer.status}"
    return None


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()
