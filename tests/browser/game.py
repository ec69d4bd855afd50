"""A tiny game website for the browser tests, served on 127.0.0.1 beside the mock.

GET /return           the return URL: records the parameters the payment page added, tells
                      the window that opened it (popup) or holds it (iframe) by postMessage
GET /shop?pay=URL&mode=iframe|popup
                      a game page that opens the payment page in an iframe or a popup and
                      lists the messages its return page sends back
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from markupsafe import escape


def game_app() -> Flask:
    app = Flask("game")
    app.config["RETURNS"] = []

    @app.get("/favicon.ico")
    def icon() -> tuple[str, int]:
        return "", 204

    @app.get("/return")
    def back() -> str:
        params = list(request.args.items(multi=True))
        app.config["RETURNS"].append(params)
        rows = "".join(f"<dt>{escape(k)}</dt><dd data-param='{escape(k)}'>{escape(v)}</dd>" for k, v in params)
        message = json.dumps({"returned": dict(params)})
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back in the game</title></head>
<body><main><h1>Back in the game</h1><dl>{rows}</dl></main>
<script>
  const message = {message};
  if (window.opener) window.opener.postMessage(message, "*");
  if (window.parent !== window) window.parent.postMessage(message, "*");
</script></body></html>"""

    @app.get("/shop")
    def shop() -> str:
        pay, mode = request.args["pay"], request.args.get("mode", "iframe")
        if mode == "iframe":
            opener = f'<iframe id="paystation" title="Payment" src="{escape(pay)}" width="640" height="720"></iframe>'
        else:
            opener = (
                '<button id="buy" type="button">Buy</button>'
                f"<script>document.getElementById('buy').onclick = () => "
                f"window.open({json.dumps(pay)}, 'paystation', 'popup,width=640,height=800');</script>"
            )
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Game shop</title></head>
<body><h1>Game shop</h1>{opener}<ol id="messages"></ol>
<script>
  window.addEventListener("message", (event) => {{
    const li = document.createElement("li");
    li.textContent = JSON.stringify(event.data);
    document.getElementById("messages").append(li);
  }});
</script></body></html>"""

    return app


def returns_of(app: Flask) -> list[list[tuple[str, Any]]]:
    return app.config["RETURNS"]
