"""The `/__mock__` control API and the mock's start state."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from flask import Flask, Response, request

from . import control_testing
from .auth import mint_token
from .clock import iso, parse_datetime, utcnow
from .context import ApiError
from .engine import Engine
from .rules import inventory, orders

_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")


def parse_duration(value: Any) -> float:
    """Seconds from a number or an ISO 8601 duration such as `P1D`, `PT6H`, `P1DT30M`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value or ""))
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. 'P1D', 'PT6H')")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]).total_seconds()


def initialise(engine: Engine, *, force: bool = False) -> str:
    """Fill an empty store with the start state: fixtures, else a seeded project, else nothing.

    A store that already holds records (a SQLite file from an earlier run) is kept as it
    is unless `force` is set. Answers what the mock starts with, in words (for the banner).
    """
    from .fixtures import load_fixtures, read_fixtures, seed_project

    kept = len(engine.store.export()["records"])
    if not force and kept:
        return f"kept {kept} records of an earlier run (POST /__mock__/reset starts over)"
    engine.faults.clear()
    engine.store.clear()
    engine.journal.clear()
    config = engine.config
    if config.fixtures:
        load_fixtures(engine, read_fixtures(config.fixtures))
        start = f"fixtures {config.fixtures}"
    elif not config.empty and config.seed is not None:
        seed_project(engine, config.seed)
        start = f"seed {config.seed}"
    else:
        start = "empty"
    engine.journal.clear()
    return f"{start} ({len(engine.store.export()['records'])} records)"


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return json_response(ApiError(status, 1102, message).body(), status)


def register(app: Flask, engine: Engine) -> None:
    control_testing.register(app, engine)

    @app.post("/__mock__/reset")
    def reset() -> Response:
        """Back to the start state (seeded, fixtures or empty): records, clock, journal and fault rules."""
        initialise(engine, force=True)
        return json_response({"status": "reset", "records": len(engine.store.export()["records"])})

    @app.get("/__mock__/state")
    def export_state() -> Response:
        """Export the whole state (every record of every project) as JSON."""
        return json_response(engine.store.export())

    @app.post("/__mock__/state")
    def import_state() -> Response:
        """Replace the whole state with one exported by `GET /__mock__/state`."""
        state = request.get_json(force=True, silent=True)
        if state is None:
            return _error(
                400,
                "[0401-1102]: Bad Request. State not imported: the body is not JSON "
                "(send what GET /__mock__/state answered)",
            )
        try:
            engine.store.load(state)
        except Exception as exc:  # noqa: BLE001 - any malformed import is the caller's error
            return _error(422, f"[0401-1102]: Unprocessable Entity. State not imported: {exc}")
        return json_response({"status": "imported", "records": len(engine.store.export()["records"])})

    @app.get("/__mock__/requests")
    def journal() -> Response:
        """The journal of recent requests: operation matched, status, request and response violations.

        `?violations=1` lists only the requests with violations."""
        entries = engine.journal.entries()
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

        Periods, daily resets and expirations follow the moved clock."""
        data = request.get_json(force=True, silent=True) or {}
        try:
            if "set" in data:
                moment = parse_datetime(data["set"])
                if moment is None:
                    raise ValueError(f"not an ISO 8601 date-time: {data['set']!r}")
                now = engine.move_clock(to=moment)
            elif "advance" in data:
                now = engine.move_clock(seconds=parse_duration(data["advance"]))
            elif data.get("reset"):
                now = engine.move_clock(to=utcnow())
            else:
                raise ValueError(
                    'send {"advance": seconds or "P1D"}, {"set": "2026-12-24T10:00:00+00:00"} or {"reset": true}'
                )
        except ValueError as exc:
            return _error(422, f"[0401-1102]: Unprocessable Entity. {exc}")
        return json_response({"now": iso(now), "offset_seconds": engine.clock().offset})

    @app.post("/__mock__/orders/<int:order_id>")
    def order_status(order_id: int) -> Response:
        """Set an order's status as the payment system would: `{"status": "paid"}` (or done, canceled, expired)."""
        data = request.get_json(force=True, silent=True) or {}
        status = data.get("status")
        if status not in orders.STATUSES:
            return _error(422, f"[0401-1102]: Unprocessable Entity. status must be one of {', '.join(orders.STATUSES)}")
        project = int(data.get("project_id") or engine.config.project_id)
        try:
            order = engine.run(project, lambda ctx: _set_status(ctx, order_id, status))
        except ApiError as exc:
            return json_response(exc.body(), exc.status)
        return json_response({"order_id": order_id, "status": order["status"]})

    @app.post("/__mock__/users/<user>/grant")
    def grant(user: str) -> Response:
        """Put items or virtual currency in a user's inventory: `{"sku": "gold", "quantity": 500}`."""
        data = request.get_json(force=True, silent=True) or {}
        sku, quantity = data.get("sku"), data.get("quantity", 1)
        if not isinstance(sku, str) or not isinstance(quantity, (int, float)) or quantity <= 0:
            return _error(422, '[0401-1102]: Unprocessable Entity. send {"sku": "...", "quantity": n > 0}')
        project = int(data.get("project_id") or engine.config.project_id)
        engine.run(project, lambda ctx: inventory.grant(ctx, sku, quantity, user))
        return json_response(engine.run(project, lambda ctx: inventory.state(ctx, user)))

    @app.get("/__mock__/users/<user>")
    def user_state(user: str) -> Response:
        """A user's inventory, balances and progress (`?project_id=` for another project)."""
        project = int(request.args.get("project_id") or engine.config.project_id)
        return json_response(engine.run(project, lambda ctx: engine.user_summary(ctx, user)))

    @app.post("/__mock__/token")
    def token() -> Response:
        """Mint a user JWT this mock accepts: `{"user": "player-1", "attributes": {"tier": "gold"}, "ttl": 3600}`."""
        data = request.get_json(force=True, silent=True) or {}
        user = data.get("user") or "user-1"
        jwt = mint_token(
            str(user),
            project=data.get("project_id"),
            attributes=data.get("attributes"),
            ttl=int(data.get("ttl", 30 * 24 * 3600)),
            secret=engine.config.jwt_secret,
            email=data.get("email"),
        )
        return json_response({"token": jwt, "user": user})


def _set_status(ctx: Any, order_id: int, status: str) -> dict[str, Any]:
    order = ctx.get("order", order_id)
    if order is None:
        ctx.fail(404, 9001, "[0401-9001]: Order not found")
    return orders.set_status(ctx, order, status)
