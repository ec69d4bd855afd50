"""The ceiling: a bare Flask app on the same server, answering the same bodies with no work.

BARE_LIST_BODY names a file holding the catalog list body the mock answered; the
create route answers the `{sku}` the mock would.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request

app = Flask("bare")
LIST_BODY = open(os.environ["BARE_LIST_BODY"], "rb").read() if os.environ.get("BARE_LIST_BODY") else b"{}"


@app.get("/api/v2/project/<int:project_id>/items/virtual_items")
def catalog(project_id: int) -> Response:
    return Response(LIST_BODY, mimetype="application/json")


@app.post("/api/v2/project/<int:project_id>/admin/items/virtual_items")
def create(project_id: int) -> Response:
    sku = (request.get_json(silent=True) or {}).get("sku", "")
    return Response(b'{"sku": "%s"}' % sku.encode(), status=201, mimetype="application/json")
