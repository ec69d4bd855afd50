"""The dashboard at `/__mock__/`: per project, the store at a glance, the request journal
live, webhook deliveries, the clock and reset, in one page of plain HTML and a script.

The page calls the control API from its own origin, so it follows the control API's
exposure rules like any other client: same-origin only, JSON bodies, and the control
token when the mock has one (the page reads it from its address, `/__mock__/#token=...`,
and keeps it for the browser tab). The page may not be framed by other sites.

Tools get the index of control endpoints (path, methods, what each does) from
`GET /__mock__/` with `Accept: application/json`, or from `GET /__mock__/index.json`.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, send_from_directory

from ..context import ApiError
from ..control import json_response
from ..engine import Engine
from . import overview

PREFIX = "/__mock__"
STATIC_PATH = f"{PREFIX}/static"
STATIC_FILES = Path(__file__).with_name("static")
PAGE_PREFIXES = (PREFIX, "/paystation4")
# The page and its static files hold no data: with a control token they load without it
# (the page reads the token from its address's fragment and sends it on its control calls).
PUBLIC_PATHS = (f"{PREFIX}/", f"{STATIC_PATH}/*")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def register(blueprint: Blueprint, app: Flask, engine: Engine) -> None:
    @blueprint.get(f"{PREFIX}/")
    def dashboard() -> Response:
        """The dashboard (HTML); with `Accept: application/json`, the index of control endpoints.

        Per project: items, promotions, codes and their limits, chains, orders with their
        statuses; the request journal, live, with violations highlighted; webhook
        deliveries; the clock (advance, set) and reset.
        """
        accepted = request.accept_mimetypes
        if accepted.best_match(["text/html", "application/json"]) == "application/json":
            return json_response(endpoint_index(app))
        page = render_template(
            "dashboard.html",
            project_id=engine.config.project_id,
            static=STATIC_PATH,
        )
        response = Response(page, mimetype="text/html")
        response.headers.update(HEADERS)
        return response

    @blueprint.get(f"{STATIC_PATH}/<path:filename>")
    def static_file(filename: str) -> Response:
        """The dashboard's script and style sheet (`dashboard.js`, `dashboard.css`)."""
        response = send_from_directory(STATIC_FILES, filename, max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @blueprint.get(f"{PREFIX}/index.json")
    def index() -> Response:
        """The index of control endpoints and pages: path, methods and what each does (for tools)."""
        return json_response(endpoint_index(app))

    @blueprint.get(f"{PREFIX}/projects")
    def projects() -> Response:
        """The projects that hold state (the mock's default project always among them)."""
        found = {p for p in engine.store.projects() if p > 0} | {engine.config.project_id}
        return json_response({"default": engine.config.project_id, "projects": sorted(found)})

    @blueprint.get(f"{PREFIX}/projects/<int:project_id>")
    def project_overview(project_id: int) -> Response:
        """A project's store at a glance: items, promotions, codes and their limits, chains, orders.

        `?generation=N` (the `generation` of an earlier answer) answers `{"changed": false}`
        while nothing was written since, so that a page can poll it cheaply. Lists stop at
        200 rows; `<list>_total` counts them all.
        """
        generation = engine.store.generation
        known = request.args.get("generation")
        if known is not None and not known.isdigit():
            error = ApiError(422, 1102, "[0401-1102]: Unprocessable Entity. generation must be a whole number")
            return json_response(error.body(), 422)
        if known is not None and int(known) == generation:
            return json_response({"project_id": project_id, "generation": generation, "changed": False})
        data = engine.run(project_id, overview.overview, write=False)
        return json_response({**data, "generation": generation, "changed": True})


def endpoint_index(app: Flask) -> dict[str, Any]:
    """Every control endpoint and page of the app: path, methods, summary (the docstring's first line), doc."""
    rows = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PAGE_PREFIXES) or rule.rule.startswith(STATIC_PATH):
            continue
        view = app.view_functions[rule.endpoint]
        doc = inspect.getdoc(view) or ""
        rows.append(
            {
                "path": rule.rule,
                "methods": sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}),
                "summary": doc.split("\n", 1)[0],
                "doc": doc,
                "kind": "control" if rule.rule.startswith(PREFIX) else "page",
            }
        )
    rows.sort(key=lambda r: (r["kind"], r["path"], r["methods"]))
    return {"endpoints": rows}
