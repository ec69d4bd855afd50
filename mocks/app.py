"""The Flask adapter of the mock: routes, CORS, latency and the `/__mock__` control API.

One Flask rule per spec path, all served by one view that hands the request to the
engine. Requests may carry the production base path (`/api/v2/...`, like
`https://store.xsolla.com/api`) or not (`/v2/...`).

The control endpoints (`/__mock__/...`, outside the API's paths, for tests and frontend
work) are registered by `control.py`; docs/control-api.md lists them, generated from
their views.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from ..toolkit.spec import Spec
from ..toolkit.validation import HttpRequest
from . import control, faults
from .engine import Engine, MockConfig
from .store import Store, open_store

_ENV_PREFIX = "XSOLLA_MOCK_"


def config_from_env(base: MockConfig | None = None) -> MockConfig:
    """MockConfig overridden by XSOLLA_MOCK_* variables (e.g. XSOLLA_MOCK_API_KEY)."""
    config = base or MockConfig()
    for name, current in vars(MockConfig()).items():
        raw = os.environ.get(_ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if isinstance(current, bool):
            value: Any = raw.lower() in ("1", "true", "yes", "on")
        elif isinstance(current, int) and not isinstance(current, bool):
            value = int(raw)
        else:
            value = raw
        setattr(config, name, value)
    return config


def create_app(
    spec: Spec | str | None = None,
    *,
    store: Store | str | None = None,
    seed: int | None = None,
    config: MockConfig | Mapping[str, Any] | None = None,
) -> Flask:
    """The mock as a WSGI app.

    spec:   a loaded Spec, a path, or None for the bundled spec.
    store:  a Store, `memory` / `sqlite:PATH`, or None (XSOLLA_MOCK_STATE, else memory).
    seed:   seed of the generated project (overrides config.seed).
    config: MockConfig or a mapping of its fields; XSOLLA_MOCK_* variables fill the rest.
    """
    if isinstance(config, Mapping):
        config = MockConfig(**config)
    config = config_from_env(config)
    if seed is not None:
        config.seed = seed
    if not isinstance(spec, Spec):
        spec = Spec.from_path(spec)
    if not isinstance(store, Store):
        store = open_store(store or os.environ.get(_ENV_PREFIX + "STATE"))
    engine = Engine(spec, store, config)
    start_state = control.initialise(engine)

    app = Flask("xsolla_contract.mocks")
    app.config["ENGINE"] = engine
    app.config["START_STATE"] = start_state  # what the mock started with, in words (the CLI's banner)
    app.url_map.strict_slashes = False
    app.wsgi_app = _BasePathMiddleware(app.wsgi_app, ("/api",))  # type: ignore[method-assign]
    app.wsgi_app = faults.ConnectionDropper(app.wsgi_app)  # type: ignore[method-assign]

    def serve(**_params: str) -> Response:
        if config.latency_ms or config.latency_max_ms:
            time.sleep(faults.delay_seconds(config.latency_ms, config.latency_max_ms))
        req = HttpRequest(
            request.method,
            request.path,
            list(request.args.items(multi=True)),
            {k.lower(): v for k, v in request.headers.items()},
            request.get_data() or None,
            request.host,
        )
        try:
            resp = engine.handle(req, client=True)
        except faults.Disconnect as drop:  # a fault rule: ConnectionDropper drops the connection
            request.environ[faults.DROP_KEY] = drop.rule_id
            return Response(status=204)
        return Response(resp.body, status=resp.status, headers=resp.headers)

    methods = sorted({op.method for op in spec.operations.values()})
    for template in sorted({op.path for op in spec.operations.values()}):
        rule = re.sub(r"\{(\w+)\}", r"<\1>", template)
        app.add_url_rule(rule, endpoint=template, view_func=serve, methods=methods)

    control.register(app, engine)

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return serve()  # the engine answers in the API's error format, naming the nearest operations

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return serve()

    @app.after_request
    def cors(response: Response) -> Response:
        if config.cors:
            origin = request.headers.get("Origin")
            response.headers["Access-Control-Allow-Origin"] = origin or "*"
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = "x-transaction-id, allow"
        return response

    @app.before_request
    def preflight() -> Response | None:
        if config.cors and request.method == "OPTIONS":
            resp = Response(status=204)
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Authorization, Content-Type, x-unauthorized-id, x-user"
            )
            resp.headers["Access-Control-Max-Age"] = "600"
            return resp
        return None

    return app


class _BasePathMiddleware:
    """Serve `/api/...` like `/...`, so clients can keep the production base path."""

    def __init__(self, app: Any, prefixes: tuple[str, ...]):
        self.app, self.prefixes = app, prefixes

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        for prefix in self.prefixes:
            if path.startswith(prefix + "/"):
                environ["PATH_INFO"] = path[len(prefix) :]
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                break
        return self.app(environ, start_response)


def engine_of(app: Flask) -> Engine:
    return app.config["ENGINE"]
