"""Pages the mock serves to a browser: the payment page and the dashboard.

    GET  /paystation4/?token=TOKEN   the payment page of an order (paystation.py)
    POST /paystation4/               pay, decline or cancel it (a form on that page)
    GET  /__mock__/                  the dashboard (dashboard.py); JSON index of control endpoints for tools

Templates and static files are package data of `xsolla_contract.mocks.pages`; the
pages need no build step.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from ..engine import Engine
from . import dashboard, paystation_views

PUBLIC_PATHS = dashboard.PUBLIC_PATHS


def register(app: Flask, engine: Engine) -> None:
    """Serve the payment page and the dashboard from `app`."""
    blueprint = Blueprint("pages", __name__, template_folder="templates")
    paystation_views.register(blueprint, engine)
    dashboard.register(blueprint, app, engine)
    app.register_blueprint(blueprint)
