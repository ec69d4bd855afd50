"""A small game server's Xsolla webhook handler (Flask).

    POST /xsolla/webhook              Xsolla's notifications (user_validation, payment, order_paid,
                                      order_canceled, refund, partial_refund)
    GET  /players/<id>/inventory      what a player owns (to see the webhooks' effect)
    GET  /health                      200 when the server is up

What a handler must get right, and how this one does it:

- the signature: SHA-1 of the raw body bytes followed by the secret, compared in constant
  time; a wrong or missing one is refused with 400 INVALID_SIGNATURE before anything else;
- duplicates: every notification is processed once per order (or transaction); a repeat
  gets the answer the first one got, and grants nothing again;
- users: user_validation accepts the game's players only (Xsolla's test users, whose IDs
  start with `test_xsolla`, are never players) and refuses others with 400 INVALID_USER;
- a body that is not JSON, or misses what the handler needs, is refused with 400
  INVALID_PARAMETER; a success is 204 without a body.

Run it:  python examples/game_server/game_server.py --port 9100   (the secret comes from
GAME_WEBHOOK_SECRET, or --secret).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, jsonify, request


class Game:
    """The game's own state: players, their inventories, and the notifications already processed."""

    def __init__(self, players: Iterable[str]):
        self.players = set(players)
        self.inventories: dict[str, Counter[str]] = {p: Counter() for p in self.players}
        self.answers: dict[tuple[str, Any], tuple[int, Any]] = {}  # (kind, order or transaction) -> answer
        self.lock = threading.Lock()

    def grant(self, player: str, items: list[dict[str, Any]], sign: int) -> None:
        for item in items:
            self.inventories[player][item["sku"]] += sign * int(item["quantity"])


def error(code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), 400


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    expected = "Signature " + hashlib.sha1(body + secret.encode()).hexdigest()  # noqa: S324 - Xsolla's scheme
    return header is not None and hmac.compare_digest(header.strip(), expected)


def create_app(secret: str, players: Iterable[str] = ("player-1", "player-2")) -> Flask:
    app = Flask("game_server")
    game = Game(players)
    app.extensions["game"] = game

    def order_paid(data: dict[str, Any]) -> tuple[Any, int]:
        player = data["user"]["external_id"]
        if player not in game.players:
            return error("INVALID_USER", "Invalid user")
        game.grant(player, data["items"], +1)
        return "", 204

    def order_canceled(data: dict[str, Any]) -> tuple[Any, int]:
        player, order_id = data["user"]["external_id"], data["order"]["id"]
        granted = game.answers.get(("order_paid", order_id), (None, None))[0] == 204
        if player in game.players and granted:
            game.grant(player, data["items"], -1)  # take back what the order granted
        return "", 204

    def user_validation(data: dict[str, Any]) -> tuple[Any, int]:
        user = data["user"]["id"]
        if user.startswith("test_xsolla") or user not in game.players:
            return error("INVALID_USER", "Invalid user")
        return "", 204

    def payment_record(data: dict[str, Any]) -> tuple[Any, int]:
        data["transaction"]["id"]  # the transaction is required; a real game stores it for its books
        return "", 204

    handlers = {
        "order_paid": (order_paid, lambda d: d["order"]["id"]),
        "order_canceled": (order_canceled, lambda d: d["order"]["id"]),
        "payment": (payment_record, lambda d: d["transaction"]["id"]),
        "refund": (payment_record, lambda d: d["transaction"]["id"]),
        "partial_refund": (payment_record, lambda d: (d["transaction"]["id"], json.dumps(d["payment_details"]))),
        "user_validation": (user_validation, None),
    }

    @app.post("/xsolla/webhook")
    def webhook() -> Any:
        body = request.get_data()
        if not signature_ok(body, request.headers.get("Authorization"), secret):
            return error("INVALID_SIGNATURE", "Invalid signature")
        try:
            data = json.loads(body)
            handler, key_of = handlers[data["notification_type"]]
            key = (data["notification_type"], key_of(data)) if key_of else None
        except (ValueError, KeyError, TypeError):
            return error("INVALID_PARAMETER", "Invalid parameter")
        with game.lock:  # one notification at a time: a duplicate waits for the first, then repeats its answer
            if key in game.answers:
                status, payload = game.answers[key]
                return (jsonify(payload), status) if payload else ("", status)
            try:
                answer, status = handler(data)
            except (KeyError, TypeError, ValueError):
                return error("INVALID_PARAMETER", "Invalid parameter")
            if key is not None:
                game.answers[key] = (status, answer.get_json() if isinstance(answer, Response) else None)
            return answer, status

    @app.get("/players/<player>/inventory")
    def inventory(player: str) -> Any:
        if player not in game.players:
            return jsonify({"error": "unknown player"}), 404
        return jsonify(dict(game.inventories[player]))

    @app.get("/health")
    def health() -> Any:
        return jsonify({"status": "ok"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="A game server's Xsolla webhook handler.")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--secret", default=os.environ.get("GAME_WEBHOOK_SECRET"), help="or GAME_WEBHOOK_SECRET")
    parser.add_argument("--players", default="player-1,player-2", help="comma-separated player IDs")
    args = parser.parse_args()
    if not args.secret:
        parser.error("set GAME_WEBHOOK_SECRET or pass --secret")
    create_app(args.secret, args.players.split(",")).run(host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
