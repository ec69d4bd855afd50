"""The Flask adapter of the mock: routes, exposure, latency and the `/__mock__` control API.

API requests go from the WSGI layer straight to the engine, which routes them by the
spec's paths (no Flask rule per path: its router would only repeat the engine's); the
control API and the pages are Flask routes. Requests may carry the production base
path (`/api/v2/...`, like `https://store.xsolla.com/api`) or not (`/v2/...`); the
control API answers only at
`/__mock__`. In front of everything, `toolkit.exposure` checks the Host, CORS, what may
call the control API and the request size (see that module).

The control endpoints (`/__mock__/...`, outside the API's paths, for tests and frontend
work) are registered by `control.py`; docs/control-api.md lists them, generated from
their views.

Pages (mocks/pages/): the dashboard at `GET /__mock__/` and the payment page at
`GET /paystation4/?token=TOKEN`, the payment UI's own path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from ..toolkit._json import dumps
from ..toolkit.errors import api_error
from ..toolkit.exposure import Exposure, ExposurePolicy
from ..toolkit.spec import Spec
from ..toolkit.validation import as_request
from . import control, faults, pages
from .context import JSON, ApiError
from .control import json_response
from .engine import Engine, MockConfig
from .store import Store, open_store

CONTROL_PREFIX = "/__mock__"

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
        elif isinstance(current, tuple):
            value = tuple(part.strip() for part in raw.split(",") if part.strip())
        elif isinstance(current, int) and not isinstance(current, bool):
            value = int(raw)
        elif isinstance(current, float):
            value = float(raw)
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
    policy = exposure_policy(config)
    engine = Engine(spec, store, config)
    start_state = control.initialise(engine)

    app = Flask("xsolla_contract.mocks")
    app.config["ENGINE"] = engine
    app.config["START_STATE"] = start_state  # what the mock started with, in words (the CLI's banner)
    app.url_map.strict_slashes = False

    api = _Api(engine)

    def serve(**_params: str) -> Response:  # Flask's 404/405 below the pages' paths: the engine's answer
        return Response(*api.answer(request))

    control.register(app, engine)
    pages.register(app, engine)

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return serve()  # the engine answers in the API's error format, naming the nearest operations

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return serve()

    @app.errorhandler(ApiError)
    def api_error_answer(exc: ApiError) -> Response:
        return json_response(exc.body(), exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:  # raised by Flask or werkzeug around the control API
        status = exc.code or 500
        return json_response(api_error(status, 0, f"[0401-0000]: {exc.name}. {exc.description}"), status)

    # API paths go from the WSGI layer straight to the engine (it routes them by the spec); the
    # control API and the pages are Flask's
    pages_and_control = _flask_prefixes(app)
    app.wsgi_app = _Dispatch(api, app.wsgi_app, pages_and_control)  # type: ignore[method-assign]
    app.wsgi_app = _BasePathMiddleware(app.wsgi_app, ("/api",))  # type: ignore[method-assign]
    app.wsgi_app = faults.ConnectionDropper(app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = Exposure(app.wsgi_app, policy)  # type: ignore[method-assign]  # first: refuse before anything
    return app


def exposure_policy(config: MockConfig) -> ExposurePolicy:
    """The mock's exposure rules from its settings; bound to a non-loopback address, the control
    API gets a token (a new one unless `config.control_token` names it; the banner prints it)."""
    policy = ExposurePolicy(
        bind_host=config.host,
        allow_hosts=tuple(config.allow_hosts),
        cors=config.cors,
        cors_origins=tuple(config.cors_origins),
        control_prefixes=(CONTROL_PREFIX,),
        control_token=config.control_token,
        max_body_bytes=config.max_body_bytes,
        public_paths=pages.PUBLIC_PATHS,  # the dashboard's HTML and static files hold no data
        expose_headers=(faults.FAULT_HEADER,),  # a frontend sees that a fault rule made the answer
    ).with_control_token()
    config.control_token = policy.control_token
    return policy


class _Api:
    """Serves API requests: a WSGI request read with werkzeug, answered by the engine."""

    def __init__(self, engine: Engine):
        self.engine, self.config = engine, engine.config

    def answer(self, req: Request) -> tuple[bytes, int, list[tuple[str, str]]]:
        """(body, status, headers) of the engine's answer."""
        config = self.config
        if config.latency_ms or config.latency_max_ms:
            time.sleep(faults.delay_seconds(config.latency_ms, config.latency_max_ms))
        try:
            http = as_request(req)
        except (HTTPException, ValueError) as exc:  # a request werkzeug cannot read (a body cut short, ...)
            message = f"[0401-0000]: Bad Request. The request cannot be read: {exc}"
            return dumps(api_error(400, 0, message)), 400, [("content-type", JSON)]
        try:
            resp = self.engine.handle(http, client=True)
        except faults.Disconnect as drop:  # a fault rule: ConnectionDropper drops the connection
            req.environ[faults.DROP_KEY] = drop.rule_id
            return b"", 204, []
        return resp.body, resp.status, list(resp.headers.items())

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        body, status, headers = self.answer(req)
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN')}", headers)
        return [] if req.method == "HEAD" else [body]


class _Dispatch:
    """API requests to `api`, the control API's and the pages' paths (`prefixes`) to Flask."""

    def __init__(self, api: _Api, flask_app: Any, prefixes: tuple[str, ...]):
        self.api, self.flask_app, self.prefixes = api, flask_app, prefixes

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(self.prefixes):
            return self.flask_app(environ, start_response)
        return self.api(environ, start_response)


def _flask_prefixes(app: Flask) -> tuple[str, ...]:
    """The fixed beginnings of the app's Flask routes (`/__mock__`, `/paystation4`, static files)."""
    prefixes = {CONTROL_PREFIX}
    for rule in app.url_map.iter_rules():
        fixed = rule.rule.split("<", 1)[0].rstrip("/")
        if fixed:
            prefixes.add(fixed)
    return tuple(p for p in sorted(prefixes) if not any(p.startswith(q + "/") for q in prefixes))


class _BasePathMiddleware:
    """Serve `/api/...` like `/...`, so clients can keep the production base path."""

    def __init__(self, app: Any, prefixes: tuple[str, ...]):
        self.app, self.prefixes = app, prefixes

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        for prefix in self.prefixes:
            if path.startswith(prefix + "/") and not path[len(prefix) :].startswith(CONTROL_PREFIX):
                environ["PATH_INFO"] = path[len(prefix) :]
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                break
        return self.app(environ, start_response)


def engine_of(app: Flask) -> Engine:
    return app.config["ENGINE"]
